"""Optimizer checkpoints move between PyTorch and ember: a PyTorch state dict loaded into ember
(and the reverse) continues exactly as the original would have; ember's state dicts have
PyTorch's layout (integer keys, groups listing indices, every hyper-parameter, tensor state)."""

import copy
import pickle

import numpy as np
import pytest

import ember
from tests.optim.common import (
    MLP,
    assert_params_close,
    assert_same_structure,
    make_params,
    to_ember,
    to_torch,
    values,
    weights,
)
from tests.oracle import needs_torch, to_numpy, torch

pytestmark = needs_torch

CONFIGS = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01}),
    ("Adadelta", {"lr": 0.5}),
    ("ASGD", {"lr": 0.05, "t0": 3}),
    ("Rprop", {"lr": 0.05}),
    ("LBFGS", {"lr": 0.5, "history_size": 4, "max_iter": 4}),
    ("LBFGS", {"lr": 1, "history_size": 3, "max_iter": 5, "line_search_fn": "strong_wolfe"}),
]


def _groups(ps, name):
    if name == "LBFGS":
        return ps
    return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.02}]


def _continue_both(eopt, em, topt, tm, name):
    assert_same_structure(eopt.state_dict(), topt.state_dict())
    for _ in range(10):
        topt.step(tm.closure(topt))
        eopt.step(em.closure(eopt))
        assert_params_close(em.params, tm.params, what=name)
    # L-BFGS's history (differences of nearly equal gradients) amplifies rounding
    assert_same_structure(eopt.state_dict(), topt.state_dict(),
                          rtol=1e-4 if name == "LBFGS" else 1e-6)


@pytest.mark.parametrize("case", CONFIGS, ids=[c[0] + str(i) for i, c in enumerate(CONFIGS)])
def test_torch_checkpoint_continues_in_ember(case):
    # PyTorch trains, saves; the checkpoint is loaded into PyTorch and into ember (loading
    # casts some scalar state, e.g. NAdam's mu_product, to the parameters' dtype in both)
    name, kw = case
    tp = make_params(torch, weights(0))
    topt = getattr(torch.optim, name)(_groups(tp, name), **kw)
    for _ in range(5):
        topt.step(MLP(torch, tp).closure(topt))
    sd = copy.deepcopy(topt.state_dict())

    tp2 = make_params(torch, values(tp))
    topt2 = getattr(torch.optim, name)(_groups(tp2, name), **kw)
    topt2.load_state_dict(copy.deepcopy(sd))
    ep = make_params(ember, values(tp))
    eopt = getattr(ember.optim, name)(_groups(ep, name), **kw)
    eopt.load_state_dict(to_ember(sd))
    _continue_both(eopt, MLP(ember, ep), topt2, MLP(torch, tp2), name)


@pytest.mark.parametrize("case", CONFIGS, ids=[c[0] + str(i) for i, c in enumerate(CONFIGS)])
def test_ember_checkpoint_continues_in_torch(case):
    name, kw = case
    ep = make_params(ember, weights(1))
    eopt = getattr(ember.optim, name)(_groups(ep, name), **kw)
    for _ in range(5):
        eopt.step(MLP(ember, ep).closure(eopt))
    sd = eopt.state_dict()

    tp = make_params(torch, values(ep))
    topt = getattr(torch.optim, name)(_groups(tp, name), **kw)
    topt.load_state_dict(to_torch(sd))
    ep2 = make_params(ember, values(ep))
    eopt2 = getattr(ember.optim, name)(_groups(ep2, name), **kw)
    eopt2.load_state_dict(copy.deepcopy(sd))
    _continue_both(eopt2, MLP(ember, ep2), topt, MLP(torch, tp), name)


def test_layout_and_hyperparameters_from_loaded_dict():
    ep = make_params(ember, weights(2))
    tp = make_params(torch, weights(2))
    eopt = ember.optim.Adam(_groups(ep, "Adam"), lr=0.01)
    topt = torch.optim.Adam(_groups(tp, "Adam"), lr=0.01)
    esd, tsd = eopt.state_dict(), topt.state_dict()
    assert_same_structure(esd, tsd)
    assert esd["param_groups"][1]["params"] == [2, 3]
    assert list(esd["param_groups"][0])[-1] == "params"

    # hyper-parameters come from the loaded groups, state keys are parameter indices
    tm = MLP(torch, tp)
    topt.step(tm.closure(topt))
    sd = to_ember(copy.deepcopy(topt.state_dict()))
    sd["param_groups"][0]["lr"] = 0.123
    fresh = ember.optim.Adam(_groups(make_params(ember, weights(2)), "Adam"), lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.123
    assert fresh.param_groups[1]["lr"] == 0.02
    assert sorted(fresh.state_dict()["state"]) == [0, 1, 2, 3]
    step = fresh.state[fresh.param_groups[0]["params"][0]]["step"]
    assert step.dtype is ember.float32 and step.dim() == 0 and float(step) == 1.0


def test_loaded_state_takes_parameter_dtype_but_step_keeps_its_own():
    p = ember.tensor([1.0, 2.0], dtype=ember.float32, requires_grad=True)
    opt = ember.optim.Adam([p])
    sd = {"state": {0: {"step": ember.tensor(3.0, dtype=ember.float64),
                        "exp_avg": ember.tensor([0.1, 0.2], dtype=ember.float64),
                        "exp_avg_sq": ember.tensor([0.1, 0.2], dtype=ember.float64)}},
          "param_groups": copy.deepcopy(opt.state_dict()["param_groups"])}
    opt.load_state_dict(sd)
    st = opt.state[p]
    assert st["exp_avg"].dtype is ember.float32
    assert st["step"].dtype is ember.float64


def test_legacy_python_number_steps_become_tensors():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = ember.optim.NAdam([p])
    sd = opt.state_dict()
    sd["state"] = {0: {"step": 4, "mu_product": 0.5, "exp_avg": ember.zeros(2),
                       "exp_avg_sq": ember.zeros(2)}}
    opt.load_state_dict(sd)
    assert isinstance(opt.state[p]["step"], ember.Tensor)
    assert isinstance(opt.state[p]["mu_product"], ember.Tensor)
    p.grad = ember.ones(2)
    opt.step()
    assert float(opt.state[p]["step"]) == 5.0


def test_missing_group_keys_get_defaults_on_load():
    p = ember.tensor([1.0], requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    sd = opt.state_dict()
    for k in ("nesterov", "maximize", "foreach", "differentiable", "fused"):
        del sd["param_groups"][0][k]
    opt.load_state_dict(sd)
    g = opt.param_groups[0]
    assert g["nesterov"] is False and g["maximize"] is False and g["foreach"] is None
    adamw = ember.optim.AdamW([p])
    sd = adamw.state_dict()
    sd["param_groups"][0]["decoupled_weight_decay"] = False
    adamw.load_state_dict(sd)
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


def test_param_names_are_saved():
    ws = weights(3)
    named = [(f"w{i}", t) for i, t in enumerate(make_params(ember, ws))]
    tnamed = [(f"w{i}", t) for i, t in enumerate(make_params(torch, ws))]
    eopt = ember.optim.SGD(named, lr=0.1)
    topt = torch.optim.SGD(tnamed, lr=0.1)
    assert_same_structure(eopt.state_dict(), topt.state_dict())
    assert eopt.state_dict()["param_groups"][0]["param_names"] == ["w0", "w1", "w2", "w3"]


def test_state_dict_hooks():
    p = ember.tensor([1.0], requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    calls = []
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_state_dict_pre_hook(lambda o: calls.append("first"), prepend=True)
    sd = opt.state_dict()
    assert calls == ["first", "pre"] and sd["extra"] == 1

    def load_pre(o, sd):
        sd = dict(sd)
        sd["param_groups"] = copy.deepcopy(sd["param_groups"])
        sd["param_groups"][0]["lr"] = 0.7
        return sd

    h = opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: calls.append("loaded"))
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.7 and calls[-1] == "loaded"
    h.remove()
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1


def test_pickle_and_deepcopy_optimizer():
    ep = make_params(ember, weights(4))
    opt = ember.optim.Adam(ep, lr=0.01)
    em = MLP(ember, ep)
    opt.step(em.closure(opt))
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    dup = copy.deepcopy(opt)
    p0 = dup.param_groups[0]["params"][0]
    np.testing.assert_array_equal(to_numpy(dup.state[p0]["exp_avg"]),
                                  to_numpy(opt.state[ep[0]]["exp_avg"]))
    # the copy steps on its own parameters
    dup_model = MLP(ember, dup.param_groups[0]["params"])
    dup.step(dup_model.closure(dup))
    assert float(dup.state[p0]["step"]) == 2.0 and float(opt.state[ep[0]]["step"]) == 1.0


# two groups with different options each; the second group's lr may be a tensor
CHAIN = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
     {"lr": 0.02, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
    ("Adam", {"lr": 0.01}, {"lr": 0.02, "amsgrad": True, "maximize": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}, {"lr": 0.03, "betas": (0.5, 0.9)}),
    ("Adamax", {"lr": 0.01}, {"lr": 0.02, "maximize": True, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01},
     {"lr": 0.02, "momentum_decay": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01}, {"lr": 0.02, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005}, {"lr": 0.002, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.05}, {"lr": 0.02, "lr_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("Adadelta", {"lr": 0.5}, {"lr": 0.1, "rho": 0.5, "maximize": True}),
    ("ASGD", {"lr": 0.05, "t0": 3}, {"lr": 0.01, "t0": 1, "lambd": 0.01}),
    ("Rprop", {"lr": 0.05}, {"lr": 0.02, "etas": (0.4, 1.1)}),
]


@pytest.mark.parametrize("tensor_lr", [False, True])
@pytest.mark.parametrize("case", CHAIN, ids=[c[0] for c in CHAIN])
def test_torch_to_ember_to_torch_mid_training(case, tensor_lr):
    # PyTorch trains 5 steps, ember continues 5 from its checkpoint, PyTorch continues 5 from
    # ember's: the result is PyTorch's own 15-step trajectory
    name, kw, second = case

    def opt(lib, ps):
        group = dict(second, params=ps[2:])
        if tensor_lr:
            group["lr"] = lib.tensor(group["lr"])
        return getattr(lib.optim, name)([{"params": ps[:2]}, group], **kw)

    tp = make_params(torch, weights(3))
    topt, tm = opt(torch, tp), MLP(torch, tp)
    reference = []
    for _ in range(15):
        topt.step(tm.closure(topt))
        reference.append([v.copy() for v in values(tp)])

    tp = make_params(torch, weights(3))
    topt, tm = opt(torch, tp), MLP(torch, tp)
    for _ in range(5):
        topt.step(tm.closure(topt))
    ep = make_params(ember, values(tp))
    eopt, em = opt(ember, ep), MLP(ember, ep)
    eopt.load_state_dict(to_ember(copy.deepcopy(topt.state_dict())))
    for _ in range(5):
        eopt.step(em.closure(eopt))
    for e, r in zip(values(ep), reference[9]):
        np.testing.assert_allclose(e, r, rtol=1e-8, atol=0, err_msg=f"{name} in ember")
    sd = eopt.state_dict()
    assert isinstance(sd["param_groups"][1]["lr"], ember.Tensor) == tensor_lr

    tp = make_params(torch, values(ep))
    topt, tm = opt(torch, tp), MLP(torch, tp)
    topt.load_state_dict(to_torch(sd))
    for _ in range(5):
        topt.step(tm.closure(topt))
    for t, r in zip(values(tp), reference[14]):
        np.testing.assert_allclose(t, r, rtol=1e-8, atol=0, err_msg=f"{name} back in torch")
