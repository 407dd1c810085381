"""The Optimizer base class against PyTorch's: argument errors (same type and message, nothing
modified), parameter groups, zero_grad, step hooks, repr."""

import copy
import importlib
import warnings

import numpy as np
import pytest

import ember
from tests.optim.common import make_params, weights
from tests.oracle import needs_torch, to_numpy, torch

pytestmark = needs_torch


def _same_error(fn):
    """``fn(lib, params)`` raises the same exception type and message in both libraries."""
    ws = weights(0)
    with pytest.raises(Exception) as te:
        fn(torch, make_params(torch, ws))
    with pytest.raises(type(te.value)) as ee:
        fn(ember, make_params(ember, ws))
    assert str(ee.value) == str(te.value)


BAD_ARGS = [
    ("SGD", {"lr": -0.1}), ("SGD", {"momentum": -0.5}), ("SGD", {"weight_decay": -1}),
    ("SGD", {"nesterov": True}), ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("SGD", {"fused": True, "foreach": True}),
    ("Adam", {"lr": -1.0}), ("Adam", {"eps": -1e-8}), ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, -0.1)}), ("Adam", {"weight_decay": -0.1}),
    ("Adam", {"betas": (0, 0.99)}), ("Adam", {"fused": True, "foreach": True}),
    ("AdamW", {"betas": (0.9, 1.5)}),
    ("Adamax", {"lr": -1.0}), ("Adamax", {"betas": (1.0, 0.9)}), ("Adamax", {"eps": -1.0}),
    ("NAdam", {"momentum_decay": -1.0}), ("NAdam", {"betas": (0.9, 1.0)}),
    ("RAdam", {"weight_decay": -1.0}), ("RAdam", {"betas": (-0.1, 0.9)}),
    ("RMSprop", {"alpha": -0.1}), ("RMSprop", {"momentum": -0.1}), ("RMSprop", {"eps": -1.0}),
    ("Adagrad", {"lr_decay": -1.0}), ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("Adagrad", {"eps": -1.0}), ("Adagrad", {"fused": True, "foreach": True}),
    ("Adadelta", {"rho": 1.5}), ("Adadelta", {"lr": -1.0}),
    ("ASGD", {"weight_decay": -1.0}), ("ASGD", {"lr": -1.0}),
    ("Rprop", {"etas": (1.5, 1.2)}), ("Rprop", {"etas": (0.5, 0.9)}), ("Rprop", {"lr": -1.0}),
    ("SparseAdam", {"lr": 0.0}), ("SparseAdam", {"eps": 0.0}),
    ("SparseAdam", {"betas": (0.9, 1.0)}),
]


@pytest.mark.parametrize("case", BAD_ARGS, ids=[f"{n}-{kw}" for n, kw in BAD_ARGS])
def test_bad_hyperparameters(case):
    name, kw = case
    _same_error(lambda lib, ps: getattr(lib.optim, name)(ps, **kw))


@pytest.mark.parametrize("fn", [
    lambda lib, ps: lib.optim.SGD([], lr=0.1),
    lambda lib, ps: lib.optim.Adam(ps[0]),
    lambda lib, ps: lib.optim.SGD([ps[0], 3.0], lr=0.1),
    lambda lib, ps: lib.optim.SGD({"params": set(ps)}, lr=0.1),
    lambda lib, ps: lib.optim.SGD([{"params": set(ps)}], lr=0.1),
    lambda lib, ps: lib.optim.SGD([{"params": ps[:2]}, {"params": ps[1:]}], lr=0.1),
    lambda lib, ps: lib.optim.SGD([ps[0] * 2], lr=0.1),
    lambda lib, ps: lib.optim.SGD([("a", ps[0]), ps[1]], lr=0.1),
    lambda lib, ps: lib.optim.SGD([{"params": [("a", ps[0])]}, {"params": [ps[1]]}]),
    lambda lib, ps: lib.optim.SGD(ps, lr=0.1).add_param_group([ps[0]]),
    lambda lib, ps: lib.optim.SGD(ps[:2], lr=0.1).add_param_group({"params": ps[1]}),
    lambda lib, ps: lib.optim.Optimizer(ps, {"lr": importlib.import_module(
        lib.__name__ + ".optim.optimizer").required}),
    lambda lib, ps: lib.optim.Optimizer(ps, {}).step(),
], ids=["empty", "tensor", "non-tensor", "set", "set-in-group", "shared-param", "non-leaf",
        "half-named", "named-and-unnamed-groups", "group-not-dict", "group-overlap",
        "required", "base-step"])
def test_bad_params(fn):
    _same_error(fn)


def test_rejected_group_leaves_optimizer_unchanged():
    ps = make_params(ember, weights(0))
    opt = ember.optim.SGD(ps[:2], lr=0.1)
    group = {"params": [ps[2], ps[0]], "lr": 0.5}
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group(group)
    assert len(opt.param_groups) == 1
    assert group == {"params": [ps[2], ps[0]], "lr": 0.5}  # defaults not filled in
    opt.add_param_group({"params": ps[2:], "momentum": 0.5})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.1


def test_duplicate_parameter_in_a_group_warns():
    ps = make_params(ember, weights(0))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ember.optim.SGD([ps[0], ps[0]], lr=0.1)


def test_load_state_dict_mismatch_changes_nothing():
    ps = make_params(ember, weights(0))
    opt = ember.optim.Adam([{"params": ps[:2]}, {"params": ps[2:]}])
    for p in ps:
        p.grad = ember.ones_like(p)
    opt.step()
    before = copy.deepcopy(opt.state_dict())
    other = ember.optim.Adam(make_params(ember, weights(0)))
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    other = ember.optim.Adam([{"params": make_params(ember, weights(0))[:1]},
                              {"params": make_params(ember, weights(0))[1:]}])
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(other.state_dict())
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for k in before["state"]:
        np.testing.assert_array_equal(to_numpy(after["state"][k]["exp_avg"]),
                                      to_numpy(before["state"][k]["exp_avg"]))


def test_load_state_dict_errors_match_torch():
    def fn(lib, ps):
        opt = lib.optim.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1)
        opt.load_state_dict(lib.optim.SGD(ps, lr=0.1).state_dict())

    _same_error(fn)


def test_differentiable_is_not_supported():
    ps = make_params(ember, weights(0))
    for name in ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad",
                 "Adadelta", "ASGD", "Rprop"]:
        with pytest.raises(NotImplementedError, match="differentiable=True"):
            getattr(ember.optim, name)(ps, differentiable=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        ember.optim.Adam(ps, fused=True, differentiable=True)


CAPTURABLE = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adadelta", "ASGD",
              "Rprop"]


@pytest.mark.parametrize("name", CAPTURABLE)
def test_capturable_on_cpu_raises_at_step_like_torch(name):
    # PyTorch accepts capturable=True and refuses CPU parameters when step() runs; ember raises
    # the same AssertionError, before creating any state (PyTorch has created it by then)
    for lib in (torch, ember):
        p = lib.ones(3, requires_grad=True)
        opt = getattr(lib.optim, name)([p], capturable=True)
        p.grad = lib.full((3,), 0.5)
        with pytest.raises(AssertionError, match="If capturable=True, params") as info:
            opt.step()
        assert "must be on supported devices: ['cuda'" in str(info.value)
        np.testing.assert_array_equal(to_numpy(p), np.ones(3))
        if lib is ember:
            assert len(opt.state) == 0
            # a group without gradients has nothing to check (PyTorch skips it too)
            p.grad = None
            opt.step()


def test_sparse_adam_rejects_dense_gradients():
    def fn(lib, ps):
        opt = lib.optim.SparseAdam(ps)
        opt.step()  # no gradients yet: nothing to do
        ps[0].grad = lib.ones_like(ps[0])
        opt.step()

    _same_error(fn)

    def complex_param(lib, ps):
        lib.optim.SparseAdam([lib.zeros(2, dtype=lib.complex64, requires_grad=True)])

    _same_error(complex_param)


def test_zero_grad():
    for set_to_none in (True, False):
        res = []
        for lib in (torch, ember):
            ps = make_params(lib, weights(0))
            opt = lib.optim.SGD(ps, lr=0.1)
            ps[0].grad = lib.ones_like(ps[0])
            g = ps[0].grad
            opt.zero_grad(set_to_none=set_to_none)
            res.append((ps[0].grad is None, ps[1].grad is None,
                        None if ps[0].grad is None else to_numpy(ps[0].grad).sum(),
                        to_numpy(g).sum()))
        assert res[0] == res[1]
    # a gradient with history is detached before it is zeroed
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the create_graph reference-cycle warning
        (p * w).sum().backward(create_graph=True)
    assert p.grad.requires_grad
    opt = ember.optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert not p.grad.requires_grad and p.grad.grad_fn is None
    np.testing.assert_array_equal(to_numpy(p.grad), [0.0, 0.0])


def test_step_hooks():
    calls = []
    p = ember.tensor([1.0], requires_grad=True)
    p.grad = ember.ones(1)
    opt = ember.optim.SGD([p], lr=0.1)

    def pre(o, args, kwargs):
        calls.append(("pre", o is opt, len(args)))

    def post(o, args, kwargs):
        calls.append(("post", o is opt))

    h1 = opt.register_step_pre_hook(pre)
    h2 = opt.register_step_post_hook(post)
    g1 = ember.optim.optimizer.register_optimizer_step_pre_hook(
        lambda o, a, k: calls.append("global-pre"))
    g2 = ember.optim.optimizer.register_optimizer_step_post_hook(
        lambda o, a, k: calls.append("global-post"))
    try:
        opt.step()
    finally:
        g1.remove()
        g2.remove()
    assert calls == ["global-pre", ("pre", True, 1), ("post", True), "global-post"]
    h1.remove()
    h2.remove()
    calls.clear()
    opt.step()
    assert calls == []

    # a pre-hook may replace the arguments
    def replace(o, args, kwargs):
        return args, {"closure": lambda: ember.tensor(42.0)}

    opt.register_step_pre_hook(replace)
    assert float(opt.step()) == 42.0
    opt2 = ember.optim.SGD([p], lr=0.1)
    opt2.register_step_pre_hook(lambda o, a, k: 5)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt2.step()


def test_repr_matches_torch():
    for name, kw in [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {}), ("LBFGS", {})]:
        t = getattr(torch.optim, name)(make_params(torch, weights(0)), **kw)
        e = getattr(ember.optim, name)(make_params(ember, weights(0)), **kw)
        assert repr(e) == repr(t)


def test_step_runs_without_grad_and_keeps_grad_mode():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    p.grad = ember.tensor([1.0, 1.0])
    seen = []
    opt = ember.optim.Adam([p])
    opt.register_step_post_hook(lambda *a: seen.append(ember.is_grad_enabled()))
    opt.step()
    assert ember.is_grad_enabled() and seen == [True]


def test_subclass_with_custom_step_gets_hooks():
    class Plain(ember.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        def step(self, closure=None):
            for g in self.param_groups:
                for p in g["params"]:
                    p.data.add_(p.grad, alpha=-g["lr"])

    p = ember.tensor([1.0], requires_grad=True)
    p.grad = ember.tensor([2.0])
    opt = Plain([p])
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    opt.step()
    assert calls == [1]
    np.testing.assert_array_equal(to_numpy(p), [0.0])


def test_scheduler_wrapped_step_keeps_working():
    # LR schedulers wrap optimizer.step on the instance; the hooks still run once
    p = ember.tensor([1.0], requires_grad=True)
    p.grad = ember.tensor([1.0])
    opt = ember.optim.SGD([p], lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda *a: calls.append(1))
    ember.optim.lr_scheduler.StepLR(opt, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert calls == [1] and opt._opt_called
