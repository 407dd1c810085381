"""Grad modes (no_grad, enable_grad, set_grad_enabled, inference_mode) against PyTorch: context
managers, decorators with and without parentheses, generators, thread-locality and inference
tensors."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import ember
from tests.autograd._helpers import raises_like
from tests.oracle import needs_torch, torch

pytestmark = needs_torch

LIBS = pytest.mark.parametrize("lib", ["torch", "ember"])


def get(name):
    return torch if name == "torch" else ember


@pytest.fixture(autouse=True)
def _restore_modes():
    yield
    # a failing test must not leak a disabled grad mode into the next one
    ember.set_grad_enabled(True)
    torch.set_grad_enabled(True)


def observe(lib):
    """What the two libraries agree on: (grad enabled, inference, x*2 requires grad)."""
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    return lib.is_grad_enabled(), lib.is_inference_mode_enabled(), y.requires_grad


def on_both(fn):
    """Run ``fn(lib)`` on both libraries and require equal results."""
    t = fn(torch)
    e = fn(ember)
    assert e == t, f"ember {e!r} != torch {t!r}"
    return e


# ---------------------------------------------------------------------------------------------
# context managers
# ---------------------------------------------------------------------------------------------

def test_no_grad_context():
    def fn(lib):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            y = x * 2
            inside = observe(lib)
        return inside, y.requires_grad, y.grad_fn is None, y.is_leaf, observe(lib)

    on_both(fn)


def test_enable_grad_inside_no_grad():
    def fn(lib):
        with lib.no_grad():
            with lib.enable_grad():
                inner = observe(lib)
            after = observe(lib)
        return inner, after, observe(lib)

    on_both(fn)


def test_set_grad_enabled_as_function_and_context():
    def fn(lib):
        res = []
        lib.set_grad_enabled(False)
        res.append(observe(lib))
        lib.set_grad_enabled(True)
        res.append(observe(lib))
        with lib.set_grad_enabled(False):
            res.append(observe(lib))
            with lib.set_grad_enabled(True):
                res.append(observe(lib))
            res.append(observe(lib))
        res.append(observe(lib))
        return res

    on_both(fn)


def test_set_grad_enabled_requires_bool():
    e_msg, t_msg = raises_like(lambda lib, x: lib.set_grad_enabled(x), np.ones(2))
    assert e_msg.replace("ember", "torch") == t_msg
    with pytest.raises(TypeError, match="must be bool, not int"):
        ember.set_grad_enabled(1)


def test_set_grad_enabled_repr():
    e = repr(ember.set_grad_enabled(False))
    ember.set_grad_enabled(True)
    t = repr(torch.set_grad_enabled(False))
    torch.set_grad_enabled(True)
    assert e.replace("ember", "torch") == t


def test_modes_restored_after_exception():
    def fn(lib):
        for ctx in (lib.no_grad(), lib.inference_mode(), lib.set_grad_enabled(False)):
            try:
                with ctx:
                    raise ValueError
            except ValueError:
                pass
        return observe(lib)

    on_both(fn)


def test_exported_names():
    for name in ("no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
                 "is_grad_enabled", "is_inference_mode_enabled"):
        assert getattr(ember, name) is getattr(ember.autograd, name)
        assert getattr(ember.autograd.grad_mode, name) is getattr(ember, name)


# ---------------------------------------------------------------------------------------------
# decorators
# ---------------------------------------------------------------------------------------------

def test_decorators_with_and_without_parentheses():
    def fn(lib):
        @lib.no_grad
        def a():
            return observe(lib)

        @lib.no_grad()
        def b():
            return observe(lib)

        @lib.enable_grad
        def c():
            return observe(lib)

        @lib.enable_grad()
        def d():
            return observe(lib)

        @lib.inference_mode
        def e():
            return observe(lib)

        @lib.inference_mode()
        def f():
            return observe(lib)

        @lib.inference_mode(False)
        def g():
            return observe(lib)

        @lib.set_grad_enabled(False)
        def h():
            return observe(lib)

        after_definitions = observe(lib)
        res = [a(), b(), e(), f(), h(), after_definitions]
        with lib.no_grad():
            res += [c(), d(), observe(lib)]
        with lib.inference_mode():
            res += [g(), observe(lib)]
        return res

    on_both(fn)


def test_decorator_keeps_function_metadata_and_result():
    def fn(lib):
        @lib.no_grad()
        def scaled(x, factor=2):
            """Doc."""
            return x * factor

        y = scaled(lib.ones(2, requires_grad=True), factor=3)
        return scaled.__name__, scaled.__doc__, y.requires_grad, y.tolist()

    on_both(fn)


def test_decorated_function_restores_mode_on_exception():
    def fn(lib):
        @lib.no_grad()
        def boom():
            raise KeyError("x")

        with pytest.raises(KeyError):
            boom()
        return observe(lib)

    on_both(fn)


def test_decorating_a_class_warns():
    def fn(lib):
        class Thing:
            def __init__(self):
                self.mode = lib.is_grad_enabled()

        with pytest.warns(FutureWarning, match="Decorating classes is deprecated"):
            made = lib.no_grad()(Thing)
        return made().mode, observe(lib)

    on_both(fn)


def test_decorated_generator():
    def fn(lib):
        log = []

        @lib.no_grad()
        def gen(n):
            for i in range(n):
                got = yield (i, lib.is_grad_enabled())
                log.append((got, lib.is_grad_enabled()))
            return "done"

        g = gen(2)
        first = next(g)
        between = lib.is_grad_enabled()
        second = g.send("a")
        with pytest.raises(StopIteration) as stop:
            g.send("b")
        return first, between, second, log, stop.value.value

    on_both(fn)


def test_decorated_generator_throw_and_close():
    def fn(lib):
        seen = []

        @lib.no_grad
        def gen():
            try:
                yield 1
            except ValueError:
                seen.append(("caught", lib.is_grad_enabled()))
                yield 2
            finally:
                seen.append(("finally", lib.is_grad_enabled()))

        g = gen()
        next(g)
        v = g.throw(ValueError("x"))
        g.close()
        return v, seen, lib.is_grad_enabled()

    on_both(fn)


# ---------------------------------------------------------------------------------------------
# thread-locality
# ---------------------------------------------------------------------------------------------

def in_thread(fn):
    out = {}

    def run():
        out["v"] = fn()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["v"]


def test_new_thread_starts_with_grad_enabled():
    def fn(lib):
        res = []
        with lib.no_grad():
            res.append(in_thread(lambda: observe(lib)))
        with lib.inference_mode():
            res.append(in_thread(lambda: observe(lib)))
        lib.set_grad_enabled(False)
        res.append(in_thread(lambda: observe(lib)))
        lib.set_grad_enabled(True)
        return res

    on_both(fn)


def test_mode_set_in_thread_does_not_leak():
    def fn(lib):
        def worker():
            lib.set_grad_enabled(False)
            return lib.is_grad_enabled()

        return in_thread(worker), observe(lib)

    on_both(fn)


# ---------------------------------------------------------------------------------------------
# inference mode and inference tensors
# ---------------------------------------------------------------------------------------------

def test_inference_mode_basics():
    def fn(lib):
        x = lib.ones(3, requires_grad=True)
        with lib.inference_mode():
            inside = observe(lib)
            y = x * 2
            c = lib.ones(2)
        return inside, y.requires_grad, y.is_inference(), c.is_inference(), x.is_inference()

    on_both(fn)


def test_inference_mode_false_and_nesting():
    def fn(lib):
        res = []
        with lib.inference_mode():
            with lib.inference_mode(False):
                x = lib.ones(2, requires_grad=True)
                res.append((observe(lib), (x * 2).is_inference()))
            with lib.enable_grad():
                y = lib.ones(2, requires_grad=True) * 3
                res.append((lib.is_grad_enabled(), y.requires_grad, y.is_inference()))
            with lib.no_grad():
                res.append(observe(lib))
            res.append(observe(lib))
        with lib.no_grad():
            with lib.inference_mode(False):
                res.append(observe(lib))
            res.append(observe(lib))
        with lib.inference_mode(mode=True):
            res.append(observe(lib))
        return res

    on_both(fn)


def test_views_of_inference_tensors():
    def fn(lib):
        n = lib.ones(4)
        with lib.inference_mode():
            i = lib.ones(4)
            inside = [v.is_inference() for v in (i[1:], i.view(2, 2), n[1:], n.view(2, 2),
                                                    n.unbind(0)[0], i.split(2)[0])]
        outside = [v.is_inference() for v in (i[1:], i.unbind(0)[0], i.detach(), i.clone(),
                                              i * 2)]
        return inside, outside

    on_both(fn)


def test_inference_tensor_saved_for_backward_raises():
    def make(lib):
        with lib.inference_mode():
            return lib.ones(3)

    for f in (lambda lib, x, i: i * x, lambda lib, x, i: x * i,
              lambda lib, x, i: x.exp() * i, lambda lib, x, i: lib.matmul(i, x)):
        t_x = torch.ones(3, requires_grad=True)
        e_x = ember.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as te:
            f(torch, t_x, make(torch))
        with pytest.raises(RuntimeError) as ee:
            f(ember, e_x, make(ember))
        assert str(ee.value) == str(te.value)
        assert str(ee.value).startswith("Inference tensors cannot be saved for backward")


def test_inference_tensor_allowed_where_nothing_is_saved():
    def fn(lib):
        x = lib.ones(3, requires_grad=True)
        with lib.inference_mode():
            i = lib.full((3,), 2.0)
        y = x + i
        y.sum().backward()
        with lib.no_grad():
            z = x * i
        return y.requires_grad, y.is_inference(), x.grad.tolist(), z.tolist(), \
            (i * 3).requires_grad

    on_both(fn)


def test_inference_tensor_in_place_and_requires_grad_errors():
    def make(lib, x):
        with lib.inference_mode():
            return lib.ones(3)

    e_msg, t_msg = raises_like(lambda lib, x: make(lib, x).add_(1), np.ones(3))
    assert e_msg == t_msg
    e_msg, t_msg = raises_like(lambda lib, x: make(lib, x).requires_grad_(), np.ones(3))
    assert e_msg == t_msg

    def set_attr(lib, x):
        make(lib, x).requires_grad = True

    e_msg, t_msg = raises_like(set_attr, np.ones(3))
    assert e_msg == t_msg


def test_in_place_allowed_inside_inference_mode_and_no_grad_for_normal_tensors():
    def fn(lib):
        n = lib.ones(3)
        with lib.inference_mode():
            i = lib.ones(3)
            i.add_(1)  # an inference tensor inside inference mode
            n.mul_(3)  # a normal tensor inside inference mode
        w = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            w.sub_(0.5)  # the optimizer step
        return i.tolist(), n.tolist(), n.is_inference(), w.tolist(), w.requires_grad, \
            w.is_leaf

    on_both(fn)


def test_inference_mode_decorated_generator():
    def fn(lib):
        @lib.inference_mode()
        def gen():
            yield lib.is_inference_mode_enabled(), lib.ones(1).is_inference()
            yield lib.is_grad_enabled(), lib.ones(1).is_inference()

        return list(gen()), observe(lib)

    on_both(fn)


def test_no_warnings_from_modes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ember.no_grad(), ember.enable_grad(), ember.inference_mode():
            pass
