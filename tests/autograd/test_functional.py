"""``autograd.functional`` (jacobian, hessian, vjp, jvp, hvp, vhp) against PyTorch: input and
output structures, create_graph, strict mode, vectorize/strategy flags and error messages."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import ember
from tests.autograd._helpers import leaves, same
from tests.oracle import needs_torch, torch

pytestmark = needs_torch


def r(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def F(lib):
    return importlib.import_module(lib.__name__ + ".autograd.functional")


def compare(call, *arrays, requires_grad=False, atol=1e-5, rtol=1e-5):
    """``call(lib, F, *inputs)`` on both libraries; results compared (values, structure,
    requires_grad); returns ember's result."""
    t_in = leaves(torch, *arrays, requires_grad=requires_grad)
    e_in = leaves(ember, *arrays, requires_grad=requires_grad)
    t = call(torch, F(torch), *t_in)
    e = call(ember, F(ember), *e_in)
    same(e, t, atol=atol, rtol=rtol)
    return e


def same_error(call, *arrays, requires_grad=False):
    t_in = leaves(torch, *arrays, requires_grad=requires_grad)
    e_in = leaves(ember, *arrays, requires_grad=requires_grad)
    with pytest.raises(Exception) as te:
        call(torch, F(torch), *t_in)
    with pytest.raises(type(te.value)) as ee:
        call(ember, F(ember), *e_in)
    assert str(ee.value) == str(te.value)


# functions of one and two inputs, with one and two outputs
def f1(x):
    return (x.exp() * x).sum(0)


def f2(x, y):
    return x @ y + x.sin().sum()


def f12(x):
    return x * x, x.sum()


def f22(x, y):
    return (x * y.sum(), (x.sin() @ y).tanh())


def scalar1(x):
    return (x ** 3).sum() + (x[0] * x[-1]).sum()


def scalar2(x, y):
    return (x.sin() * y.cos()).sum() + (x * x * y).sum()


# ---------------------------------------------------------------------------------------------
# jacobian
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_structures(vectorize):
    kw = {"vectorize": vectorize}
    compare(lambda lib, F, x: F.jacobian(f1, x, **kw), r(3, 2))
    compare(lambda lib, F, x, y: F.jacobian(f2, (x, y), **kw), r(2, 3), r(3, 4, seed=1))
    compare(lambda lib, F, x: F.jacobian(f12, x, **kw), r(3))
    compare(lambda lib, F, x, y: F.jacobian(f22, (x, y), **kw), r(2, 3), r(3, 2, seed=1))
    compare(lambda lib, F, x: F.jacobian(f1, (x,), **kw), r(3, 2))  # a 1-tuple stays a tuple


def test_jacobian_scalar_and_0d():
    compare(lambda lib, F, x: F.jacobian(lambda a: (a * a).sum(), x), r(4))
    compare(lambda lib, F, x: F.jacobian(lambda a: a.exp(), x), np.float32(0.3))


def test_jacobian_unused_input_and_strict():
    compare(lambda lib, F, x, y: F.jacobian(lambda a, b: a * 2, (x, y)), r(3), r(2))
    same_error(lambda lib, F, x, y: F.jacobian(lambda a, b: a * 2, (x, y), strict=True),
               r(3), r(2))
    same_error(lambda lib, F, x: F.jacobian(lambda a: lib.ones(3), x, strict=True), r(3))
    compare(lambda lib, F, x: F.jacobian(lambda a: lib.ones(3), x), r(3))


def test_jacobian_create_graph():
    def call(lib, F, x):
        j = F.jacobian(lambda a: a ** 3, x, create_graph=True)
        (g,) = lib.autograd.grad(j.sum(), x)
        return j, g

    compare(call, r(3), requires_grad=True)

    def no_graph(lib, F, x):
        j = F.jacobian(lambda a: a ** 3, x)
        return j.requires_grad, x.grad

    compare(no_graph, r(3), requires_grad=True)


def test_jacobian_strict_create_graph_linear_raises():
    same_error(lambda lib, F, x: F.jacobian(lambda a: a * 2, x, create_graph=True, strict=True),
               r(3), requires_grad=True)


def test_jacobian_flags_and_errors():
    same_error(lambda lib, F, x: F.jacobian(f1, x, strategy="sideways"), r(3, 2))
    same_error(lambda lib, F, x: F.jacobian(f1, x, strategy="forward-mode"), r(3, 2))
    same_error(lambda lib, F, x: F.jacobian(f1, x, strategy="forward-mode", vectorize=True,
                                            create_graph=True), r(3, 2))
    same_error(lambda lib, F, x: F.jacobian(f1, x, strategy="forward-mode", vectorize=True,
                                            strict=True), r(3, 2))
    same_error(lambda lib, F, x: F.jacobian(f1, x, vectorize=True, strict=True), r(3, 2))
    same_error(lambda lib, F, x: F.jacobian(f1, [x]), r(3, 2))  # a list is not accepted
    same_error(lambda lib, F, x: F.jacobian(lambda a: 3.0, x), r(3))
    same_error(lambda lib, F, x: F.jacobian(lambda a: (a, 1), x), r(3))


def test_jacobian_forward_mode_gives_same_values():
    compare(lambda lib, F, x, y: F.jacobian(f22, (x, y), strategy="forward-mode",
                                            vectorize=True), r(2, 3), r(3, 2, seed=1))


def test_jacobian_does_not_touch_grad_or_graph_of_inputs():
    def call(lib, F, x):
        j = F.jacobian(f1, x)
        return j, x.grad, x.requires_grad, lib.is_grad_enabled()

    compare(call, r(3, 2), requires_grad=True)


def test_jacobian_under_no_grad():
    def call(lib, F, x):
        with lib.no_grad():
            return F.jacobian(f1, x), lib.is_grad_enabled()

    compare(call, r(3, 2))


# ---------------------------------------------------------------------------------------------
# hessian
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("vectorize", [False, True])
def test_hessian(vectorize):
    compare(lambda lib, F, x: F.hessian(scalar1, x, vectorize=vectorize), r(4), atol=1e-4)
    compare(lambda lib, F, x, y: F.hessian(scalar2, (x, y), vectorize=vectorize),
            r(3), r(3, seed=1), atol=1e-4)
    compare(lambda lib, F, x: F.hessian(lambda a: (a.exp() @ a.t()).sum(), x), r(2, 2),
            atol=1e-4)


def test_hessian_create_graph_and_third_derivative():
    def call(lib, F, x):
        h = F.hessian(lambda a: (a ** 4).sum(), x, create_graph=True)
        (g,) = lib.autograd.grad(h.sum(), x)
        return h, g

    compare(call, r(3), requires_grad=True, atol=1e-4)


def test_hessian_errors_and_strict():
    same_error(lambda lib, F, x: F.hessian(lambda a: a * 2, x), r(3))
    same_error(lambda lib, F, x: F.hessian(lambda a: (a.sum(), a.sum()), x), r(3))
    same_error(lambda lib, F, x: F.hessian(lambda a: (a * 2).sum(), x, strict=True), r(3))
    same_error(lambda lib, F, x: F.hessian(scalar1, x, outer_jacobian_strategy="x"), r(3))
    compare(lambda lib, F, x: F.hessian(lambda a: (a * 2).sum(), x), r(3))  # zeros
    compare(lambda lib, F, x, y: F.hessian(lambda a, b: (a * a).sum(), (x, y)), r(2), r(3))


# ---------------------------------------------------------------------------------------------
# vjp / jvp
# ---------------------------------------------------------------------------------------------

def test_vjp():
    compare(lambda lib, F, x, v: F.vjp(f1, x, v), r(3, 2), r(2, seed=1))
    compare(lambda lib, F, x, y, v: F.vjp(f2, (x, y), v), r(2, 3), r(3, 4, seed=1),
            r(2, 4, seed=2))
    compare(lambda lib, F, x, v1, v2: F.vjp(f12, x, (v1, v2)), r(3), r(3, seed=1),
            np.float32(2.0))
    compare(lambda lib, F, x: F.vjp(lambda a: (a * a).sum(), x), r(3))  # v=None for a scalar


def test_vjp_create_graph_and_strict():
    def call(lib, F, x, v):
        out, g = F.vjp(lambda a: a ** 3, x, v, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return out, g, gg

    compare(call, r(3), r(3, seed=1), requires_grad=True)
    compare(lambda lib, F, x, y, v: F.vjp(lambda a, b: a * 2, (x, y), v), r(3), r(2),
            r(3, seed=1))
    same_error(lambda lib, F, x, y, v: F.vjp(lambda a, b: a * 2, (x, y), v, strict=True),
               r(3), r(2), r(3, seed=1))
    same_error(lambda lib, F, x, v: F.vjp(lambda a: lib.ones(3), x, v, strict=True),
               r(3), r(3, seed=1))


def test_vjp_errors():
    same_error(lambda lib, F, x: F.vjp(f1, x), r(3, 2))
    same_error(lambda lib, F, x, v: F.vjp(f1, x, v), r(3, 2), r(3))
    same_error(lambda lib, F, x, v: F.vjp(f12, x, (v,)), r(3), r(3))
    same_error(lambda lib, F, x, v: F.vjp(f12, x, (v, v)), r(3), r(3))
    same_error(lambda lib, F, x, v: F.vjp(f1, x, (v, v)), r(3, 2), r(2))
    same_error(lambda lib, F, x: F.vjp(f1, (x, 3)), r(3, 2))
    same_error(lambda lib, F, x: F.vjp(f1, x, v=[1.0, 2.0]), r(3, 2))


def test_jvp():
    compare(lambda lib, F, x, v: F.jvp(f1, x, v), r(3, 2), r(3, 2, seed=1))
    compare(lambda lib, F, x, y, vx, vy: F.jvp(f2, (x, y), (vx, vy)), r(2, 3),
            r(3, 4, seed=1), r(2, 3, seed=2), r(3, 4, seed=3))
    compare(lambda lib, F, x, v: F.jvp(f12, x, v), r(3), r(3, seed=1))
    compare(lambda lib, F, x: F.jvp(lambda a: a.exp() * 3, x), np.float32(0.5))


def test_jvp_create_graph_strict_and_errors():
    def call(lib, F, x, v):
        out, j = F.jvp(lambda a: a.sin() * a, x, v, create_graph=True)
        (g,) = lib.autograd.grad(j.sum(), x)
        return out, j, g

    compare(call, r(3), r(3, seed=1), requires_grad=True)
    compare(lambda lib, F, x, y, v: F.jvp(lambda a, b: a * 2, (x, y), (v, y)), r(3), r(3),
            r(3, seed=1))
    same_error(lambda lib, F, x, y, v: F.jvp(lambda a, b: (a * 2, lib.ones(2)), (x, y),
                                             (v, y), strict=True), r(3), r(3), r(3, seed=1))
    same_error(lambda lib, F, x: F.jvp(f1, x), r(3, 2))
    same_error(lambda lib, F, x, v: F.jvp(f1, x, v), r(3, 2), r(2))
    same_error(lambda lib, F, x, v: F.jvp(f2, (x, x), (v,)), r(3, 3), r(3, 3))


# ---------------------------------------------------------------------------------------------
# hvp / vhp
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp(name):
    compare(lambda lib, F, x, v: getattr(F, name)(scalar1, x, v), r(4), r(4, seed=1),
            atol=1e-4)
    compare(lambda lib, F, x, y, vx, vy: getattr(F, name)(scalar2, (x, y), (vx, vy)),
            r(3), r(3, seed=1), r(3, seed=2), r(3, seed=3), atol=1e-4)
    compare(lambda lib, F, x: getattr(F, name)(lambda a: a.sin().sum(), x), np.float32(0.4))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp_create_graph_strict_and_errors(name):
    def call(lib, F, x, v):
        out, h = getattr(F, name)(lambda a: (a ** 4).sum(), x, v, create_graph=True)
        (g,) = lib.autograd.grad(h.sum(), x)
        return out, h, g

    compare(call, r(3), r(3, seed=1), requires_grad=True, atol=1e-4)
    compare(lambda lib, F, x, y, v, w: getattr(F, name)(lambda a, b: (a * a).sum(), (x, y),
                                                        (v, w)),
            r(3), r(2), r(3, seed=1), r(2, seed=2))
    same_error(lambda lib, F, x, y, v, w: getattr(F, name)(lambda a, b: (a * a).sum(), (x, y),
                                                           (v, w), strict=True),
               r(3), r(2), r(3, seed=1), r(2, seed=2))
    same_error(lambda lib, F, x, v: getattr(F, name)(lambda a: (a * 2).sum(), x, v,
                                                     strict=True), r(3), r(3, seed=1))
    same_error(lambda lib, F, x, v: getattr(F, name)(lambda a: a * 2, x, v), r(3), r(3))
    same_error(lambda lib, F, x, v: getattr(F, name)(lambda a: (a.sum(), a.sum()), x, v),
               r(3), r(3))
    same_error(lambda lib, F, x: getattr(F, name)(scalar1, x), r(3))
    same_error(lambda lib, F, x, v: getattr(F, name)(scalar1, x, v), r(3), r(4))


def test_functional_module_exports():
    assert ember.autograd.functional.__all__ == torch.autograd.functional.__all__
    for fname in torch.autograd.functional.__all__:
        import inspect

        e_sig = inspect.signature(getattr(ember.autograd.functional, fname))
        t_sig = inspect.signature(getattr(torch.autograd.functional, fname))
        assert list(e_sig.parameters) == list(t_sig.parameters), fname
        assert [p.default for p in e_sig.parameters.values()] == \
            [p.default for p in t_sig.parameters.values()], fname
