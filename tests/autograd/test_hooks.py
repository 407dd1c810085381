"""Tensor-level autograd API against PyTorch: detach/detach_, requires_grad_, retain_grad,
tensor hooks (leaf and non-leaf), post-accumulate-grad hooks, grad_fn hooks and pre-hooks,
next_functions, node names and the non-leaf ``.grad`` warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.autograd._helpers import both, raises_like, same
from tests.oracle import needs_torch, torch

pytestmark = needs_torch


def r(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# detach / detach_ / requires_grad_
# ---------------------------------------------------------------------------------------------

def test_detach_shares_storage_and_version():
    def fn(lib, x):
        y = x * 2
        d = y.detach()
        before = (d.requires_grad, d.is_leaf, d.grad_fn is None, d._version)
        d.add_(1)  # writes through to y
        return before, y.detach().clone(), y._version, d._version

    both(fn, r(3))


def test_detach_cuts_the_graph():
    def fn(lib, x):
        y = x.exp()
        z = (y.detach() * y).sum()
        z.backward()

    both(fn, r(3))


def test_modifying_detached_copy_of_saved_tensor_is_detected():
    def fn(lib, x):
        y = x.exp()  # saves its result
        y.detach().zero_()
        y.sum().backward()

    e_msg, t_msg = raises_like(fn, r(3))
    assert "modified by an inplace operation" in e_msg


def test_detach_in_place():
    def fn(lib, x):
        y = x * 2
        y.detach_()
        return y.requires_grad, y.is_leaf, y.grad_fn is None, y

    both(fn, r(3))


def test_detach_in_place_on_view_raises():
    def fn(lib, x):
        y = x * 2
        y[:1].detach_()

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg


def test_requires_grad_flags():
    def fn(lib, x):
        c = lib.ones(2)
        a = c.requires_grad_()
        b = c.requires_grad_(False)
        n = x * 2
        n.requires_grad_(True)  # allowed on a non-leaf that already requires grad
        return a is c, b is c, c.requires_grad, n.requires_grad

    both(fn, r(3))


@pytest.mark.parametrize("case", ["nonleaf_false", "int_method", "int_attr", "bool_attr"])
def test_requires_grad_errors(case):
    def fn(lib, x):
        if case == "nonleaf_false":
            (x * 2).requires_grad_(False)
        elif case == "int_method":
            lib.ones(2, dtype=lib.int64).requires_grad_()
        elif case == "int_attr":
            lib.ones(2, dtype=lib.int64).requires_grad = True
        else:
            lib.ones(2, dtype=lib.bool).requires_grad = True

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg


def test_factory_requires_grad_and_leaf_state():
    def fn(lib, x):
        a = lib.zeros(2, requires_grad=True)
        b = lib.tensor([1.0, 2.0], requires_grad=True)
        return a.is_leaf, a.requires_grad, b.is_leaf, (a * b).is_leaf, x.is_leaf

    both(fn, r(3))


# ---------------------------------------------------------------------------------------------
# retain_grad and .grad of non-leaves
# ---------------------------------------------------------------------------------------------

def test_retain_grad_populates_and_accumulates():
    def fn(lib, x):
        y = x * x
        y.retain_grad()
        z = (y.exp()).sum()
        z.backward(retain_graph=True)
        first = y.grad.clone()
        z.backward()
        return first, y.grad, y.retains_grad, x.retains_grad

    both(fn, r(3))


def test_retain_grad_on_leaf_is_noop_and_on_no_grad_tensor_raises():
    def fn(lib, x):
        x.retain_grad()
        (x * 2).sum().backward()
        return x.retains_grad, x.grad

    both(fn, r(3))
    e_msg, t_msg = raises_like(lambda lib, x: lib.ones(2).retain_grad(), r(3))
    assert e_msg == t_msg


def test_retain_grad_with_create_graph():
    def fn(lib, x):
        y = x ** 3
        y.retain_grad()
        (y * y).sum().backward(create_graph=True)
        return y.grad, y.grad.requires_grad

    both(fn, r(3))


def test_retain_grad_survives_in_place_op():
    def fn(lib, x):
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        y.sum().backward()
        return y.grad

    both(fn, r(3))


def test_retain_grad_sees_hooked_gradient():
    def fn(lib, x):
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        y.sum().backward()
        return y.grad

    both(fn, r(3))


def test_retain_grad_with_backward_inputs():
    def fn(lib, x):
        mid = x * 3
        mid.retain_grad()
        out = (mid * mid).sum()
        out.backward(inputs=[mid], retain_graph=True)
        first = mid.grad.clone()
        out.backward()
        return first, mid.grad

    both(fn, r(3))


def test_non_leaf_grad_warning():
    def fn(lib, x):
        res = []
        for make in (lambda: x * 2, lambda: x[0:1], lambda: x, lambda: (x * 2).detach()):
            t = make()
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                g = t.grad
            res.append((g is None, [str(w.message)[:60] for w in rec]))
        y = x * 2
        y.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res.append(y.grad is None)
        return res

    both(fn, r(3))


def test_grad_setter_checks():
    def bad_shape(lib, x):
        x.grad = lib.ones(4)

    def bad_dtype(lib, x):
        x.grad = lib.ones(3, dtype=lib.float64)

    def bad_type(lib, x):
        x.grad = 3

    for fn in (bad_shape, bad_dtype, bad_type):
        e_msg, t_msg = raises_like(fn, r(3))
        # (PyTorch 2.13 appends advice about its grad_dtype attribute to the dtype message)
        assert t_msg.startswith(e_msg)

    def ok(lib, x):
        x.grad = lib.ones(3)
        (x * 2).sum().backward()
        del x.grad
        return x.grad

    both(ok, r(3))


# ---------------------------------------------------------------------------------------------
# tensor hooks
# ---------------------------------------------------------------------------------------------

def test_leaf_hook_sees_and_replaces_gradient():
    def fn(lib, x):
        seen = []

        def hook(g):
            seen.append(g.clone())
            return g * 3

        x.register_hook(hook)
        (x * x).sum().backward()
        return seen

    both(fn, r(3))


def test_non_leaf_hook_replaces_gradient_flowing_on():
    def fn(lib, x):
        y = x.exp()
        y.register_hook(lambda g: g + 1)
        y.register_hook(lambda g: g * 2)  # hooks run in registration order
        (y * 3).sum().backward()

    both(fn, r(3))


def test_hook_returning_none_keeps_gradient_and_can_observe():
    def fn(lib, x):
        seen = []
        y = x * 2
        y.register_hook(lambda g: seen.append(g.clone()))
        (y ** 2).sum().backward()
        return seen

    both(fn, r(3))


def test_hook_handle_remove():
    def fn(lib, x):
        h = x.register_hook(lambda g: g * 100)
        h.remove()
        h.remove()  # removing twice is harmless
        y = x * 2
        hy = y.register_hook(lambda g: g * 100)
        hy.remove()
        y.sum().backward()

    both(fn, r(3))


def test_hooks_fire_in_autograd_grad():
    def fn(lib, x):
        x.register_hook(lambda g: g * 10)
        y = x * 2
        y.register_hook(lambda g: g + 1)
        return lib.autograd.grad((y * y).sum(), x)

    both(fn, r(3))


def test_hook_on_each_use_of_shared_tensor_sees_total():
    def fn(lib, x):
        seen = []
        y = x * 2
        y.register_hook(lambda g: seen.append(g.clone()))
        (y.sin() + y * y + y).sum().backward()
        return seen

    both(fn, r(3))


def test_hook_registered_before_in_place_sees_old_value_gradient():
    def fn(lib, x):
        seen = []
        y = x * 1
        y.register_hook(lambda g: seen.append(("before", g.clone())))
        y.mul_(3)
        y.register_hook(lambda g: seen.append(("after", g.clone())))
        (y * y).sum().backward()
        return [s[1] for s in sorted(seen, key=lambda s: s[0])]

    both(fn, r(3))


@pytest.mark.parametrize("bad", ["size", "dtype", "type"])
def test_hook_result_checks(bad):
    def fn(lib, x, leaf=True):
        def hook(g):
            if bad == "size":
                return lib.ones(4)
            if bad == "dtype":
                return g.double()
            return 5

        t = x if leaf else x * 2
        t.register_hook(hook)
        (t * 2).sum().backward()

    for leaf in (True, False):
        e_msg, t_msg = raises_like(lambda lib, x, leaf=leaf: fn(lib, x, leaf), r(3))
        assert e_msg == t_msg


def test_register_hook_requires_grad():
    e_msg, t_msg = raises_like(lambda lib, x: lib.ones(2).register_hook(print), r(3))
    assert e_msg == t_msg


def test_post_accumulate_grad_hook():
    def fn(lib, x):
        seen = []

        def hook(t):
            seen.append(t.grad.clone())
            with lib.no_grad():
                t.sub_(t.grad)  # the optimizer-in-backward pattern

        h = x.register_post_accumulate_grad_hook(hook)
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        h.remove()
        (x * 4).sum().backward()
        x.grad = None
        lib.autograd.grad((x * 5).sum(), x)  # no accumulation, no hook
        return seen, x.detach().clone()

    both(fn, r(3))


def test_post_accumulate_grad_hook_errors():
    e_msg, t_msg = raises_like(
        lambda lib, x: (x * 2).register_post_accumulate_grad_hook(print), r(3))
    assert e_msg == t_msg
    e_msg, t_msg = raises_like(
        lambda lib, x: lib.ones(2).register_post_accumulate_grad_hook(print), r(3))
    assert e_msg == t_msg


# ---------------------------------------------------------------------------------------------
# grad_fn: hooks, pre-hooks, next_functions, names
# ---------------------------------------------------------------------------------------------

def test_grad_fn_hook_sees_grad_inputs_and_outputs():
    def fn(lib, x):
        seen = []
        y = x * 2
        z = y.exp()
        z.grad_fn.register_hook(lambda gi, go: seen.append((gi, go)))
        z.sum().backward()
        return seen

    both(fn, r(3))


def test_grad_fn_hooks_see_unused_outputs_as_none():
    """Hooks and pre-hooks get None for an output no gradient reached, even though the
    backward itself is called with zeros (materialized)."""
    def fn(lib, x):
        seen = []
        a, b = x.unbind(0)
        a.grad_fn.register_prehook(lambda go: seen.append(("pre", go)))
        a.grad_fn.register_hook(lambda gi, go: seen.append(("post", go)))
        (a * 3).sum().backward()
        return seen

    both(fn, r(2, 3))


def test_grad_fn_hook_replaces_grad_inputs():
    def fn(lib, x, w):
        y = x * w
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 7, None))
        y.sum().backward()

    both(fn, r(3), r(3, seed=1))


def test_grad_fn_prehook_replaces_grad_outputs_and_remove():
    def fn(lib, x):
        seen = []
        z = x.exp()
        h = z.grad_fn.register_prehook(lambda go: (go[0] * 2,))
        z.grad_fn.register_prehook(lambda go: seen.append(go[0].clone()))
        z.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h.remove()
        x.grad = None
        z.sum().backward()
        return first, seen

    both(fn, r(3))


def test_accumulate_grad_node_hooks():
    def fn(lib, x):
        seen = []
        acc = (x * 2).grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: seen.append(go[0].clone()))
        (x * 2).sum().backward()
        return seen, acc.name(), acc.variable is x

    both(fn, r(3))


def test_next_functions_structure():
    def describe(fn_node, depth=0):
        if fn_node is None:
            return None
        return (fn_node.name(),
                tuple((describe(n, depth + 1), i) for n, i in fn_node.next_functions))

    def fn(lib, x, w):
        c = lib.ones(3)
        y = ((x * w + c).exp() @ w.t()).sum()
        a, b = x.chunk(2, 1) if x.shape[1] % 2 == 0 else (x, x)
        return describe(y.grad_fn), x.grad_fn, describe((a * b).grad_fn)

    both(fn, r(2, 3), r(2, 3, seed=1))


def test_output_nr_and_multi_output_next_functions():
    def fn(lib, x):
        a, b, c = x.unbind(0)
        s = a + c
        return a.output_nr, b.output_nr, c.output_nr, \
            [(n.name(), i) for n, i in s.grad_fn.next_functions]

    both(fn, r(3, 2))


OP_NAMES = {
    "x + x": lambda lib, x, w: x + x, "x * 2.0": lambda lib, x, w: x * 2.0,
    "x - 1": lambda lib, x, w: x - 1, "x / 2": lambda lib, x, w: x / 2,
    "-x": lambda lib, x, w: -x, "exp": lambda lib, x, w: x.exp(),
    "sum": lambda lib, x, w: x.sum(), "sum(0)": lambda lib, x, w: x.sum(0),
    "mean": lambda lib, x, w: x.mean(), "mean(1)": lambda lib, x, w: x.mean(1),
    "view": lambda lib, x, w: x.view(6), "t": lambda lib, x, w: x.t(),
    "x[0]": lambda lib, x, w: x[0], "x[:, 1:]": lambda lib, x, w: x[:, 1:],
    "mm": lambda lib, x, w: x.mm(w), "matmul": lambda lib, x, w: x @ w,
    "x ** 2": lambda lib, x, w: x ** 2, "unsqueeze": lambda lib, x, w: x.unsqueeze(0),
    "expand": lambda lib, x, w: x[:1].expand(4, 3), "clone": lambda lib, x, w: x.clone(),
    "relu": lambda lib, x, w: x.relu(), "max": lambda lib, x, w: x.max(),
    "cat": lambda lib, x, w: lib.cat([x, x]), "stack": lambda lib, x, w: lib.stack([x, x]),
    "index": lambda lib, x, w: x[[0, 1]], "double": lambda lib, x, w: x.double(),
    "softmax": lambda lib, x, w: x.softmax(1), "unbind": lambda lib, x, w: x.unbind(0)[1],
    "linear": lambda lib, x, w: lib.nn.functional.linear(x, w.t()),
}


@pytest.mark.parametrize("expr", list(OP_NAMES))
def test_grad_fn_names(expr):
    def fn(lib, x, w):
        node = OP_NAMES[expr](lib, x, w).grad_fn
        return node.name(), type(node).__name__

    both(fn, r(2, 3), r(3, 4, seed=1))


def test_grad_fn_repr_and_metadata():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
    assert y.grad_fn.metadata == {}
    y.grad_fn.metadata["k"] = 1
    assert y.grad_fn.metadata == {"k": 1}
    assert repr(y).endswith("grad_fn=<MulBackward0>)")
    t = torch.ones(2, requires_grad=True) * 2
    assert repr(t).endswith("grad_fn=<MulBackward0>)")


def test_leaf_grad_fn_is_none_and_no_grad_result_is_leaf():
    def fn(lib, x):
        with lib.no_grad():
            y = x * 2
        return x.grad_fn, y.grad_fn, y.is_leaf, y.requires_grad

    e, _ = both(fn, r(3))
    assert e[0] is None and e[1] is None


def test_hooks_with_retained_graph_fire_each_time():
    def fn(lib, x):
        count = []
        y = x.exp()
        y.register_hook(lambda g: count.append(1))
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return len(count)

    e, _ = both(fn, r(3))
    assert e == 2


def test_same_results_as_torch_for_gradient_after_hook_chain():
    # a hook on a non-leaf may return a graph-connected tensor under create_graph
    def fn(lib, x):
        y = x * 2
        y.register_hook(lambda g: g * x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        return g, g2

    e, _ = both(fn, r(3))
    same(e[0].requires_grad, True)
