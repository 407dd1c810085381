"""``autograd.Function`` against PyTorch (ctx API, dirty/non-differentiable outputs, materialized
grads, non-tensor arguments, setup_context, once_differentiable, errors) and gradcheck /
gradgradcheck on correct and deliberately wrong custom Functions."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import GradcheckError, gradcheck, gradgradcheck
from tests.autograd._helpers import both, raises_like
from tests.oracle import needs_torch, torch

if torch is not None:
    from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

pytestmark = needs_torch


def r(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def make_cube(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    return Cube


def make_mul_add(lib):
    """f(x, y, k, flag) = x * y + k: tensor and non-tensor arguments, records needs_input_grad."""

    class MulAdd(lib.autograd.Function):
        seen = []

        @staticmethod
        def forward(ctx, x, y, k, flag):
            ctx.save_for_backward(x, y)
            ctx.k = k
            MulAdd.seen.append(("fwd grad mode", lib.is_grad_enabled()))
            return x * y + k

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            MulAdd.seen.append(("needs", ctx.needs_input_grad))
            gx = g * y if ctx.needs_input_grad[0] else None
            gy = g * x if ctx.needs_input_grad[1] else None
            return gx, gy, None, None

    return MulAdd


# ---------------------------------------------------------------------------------------------
# basics
# ---------------------------------------------------------------------------------------------

def test_custom_function_forward_backward_and_name():
    def fn(lib, x):
        y = make_cube(lib).apply(x)
        y.sum().backward()
        return y, y.grad_fn.name(), type(y.grad_fn).__name__

    both(fn, r(4))


def test_double_backward_through_custom_function():
    def fn(lib, x):
        y = make_cube(lib).apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        return g, g2

    both(fn, r(4))


def test_needs_input_grad_and_non_tensor_arguments():
    def fn(lib, x, y):
        f = make_mul_add(lib)
        f.seen.clear()
        out = f.apply(x, y.detach(), 2.5, True)
        out.sum().backward()
        out2 = f.apply(x.detach(), y, 1, False)
        out2.sum().backward()
        return out, out2, list(f.seen)

    both(fn, r(3), r(3, seed=1))


def test_forward_runs_without_grad_and_no_graph_when_not_needed():
    def fn(lib, x):
        f = make_mul_add(lib)
        f.seen.clear()
        with lib.no_grad():
            a = f.apply(x, x, 0.0, True)
        b = f.apply(x.detach(), x.detach(), 0.0, True)
        return a.requires_grad, a.grad_fn is None, b.requires_grad, list(f.seen)

    both(fn, r(3))


def test_gradient_reduced_for_broadcast_and_cast_to_input_dtype():
    def make(lib):
        class Broad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                # a gradient broadcast to a bigger shape, in float64
                return (g * 2).expand(4, *g.shape).double()

        return Broad

    def fn(lib, x):
        make(lib).apply(x).sum().backward()
        return x.grad.dtype

    both(fn, r(3))


def test_multiple_outputs_some_unused():
    def make(lib):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.sin(), x.cos()

            @staticmethod
            def backward(ctx, ga, gb):
                (x,) = ctx.saved_tensors
                return ga * x.cos() - gb * x.sin()

        return Two

    def fn(lib, x):
        a, b = make(lib).apply(x)
        (a * 2).sum().backward()  # gb arrives as zeros (materialized)
        return a, b, a.grad_fn is b.grad_fn, b.output_nr

    both(fn, r(3))


def test_set_materialize_grads_false_gives_none():
    def make(lib, seen):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                seen.append((ga is None, gb is None))
                g = 0
                if ga is not None:
                    g = g + ga * 2
                if gb is not None:
                    g = g + gb * 3
                return g

        return Two

    def fn(lib, x):
        seen = []
        a, b = make(lib, seen).apply(x)
        a.sum().backward()
        return seen

    both(fn, r(3))


def test_non_tensor_outputs_pass_through():
    def make(lib, seen):
        class Mixed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                ctx.k = k
                return x * k, k + 1, "label"

            @staticmethod
            def backward(ctx, g, g_int, g_str):
                seen.append((g_int, g_str))
                return g * ctx.k, None

        return Mixed

    def fn(lib, x):
        seen = []
        y, n, s = make(lib, seen).apply(x, 3)
        y.sum().backward()
        return n, s, seen

    both(fn, r(3))


def test_mark_non_differentiable():
    def make(lib, seen):
        class SortLike(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                vals, idx = x.sort()
                mask = (x > 0).to(x.dtype)
                ctx.mark_non_differentiable(idx, mask)
                ctx.save_for_backward(idx)
                return vals, idx, mask

            @staticmethod
            def backward(ctx, gv, gi, gm):
                (idx,) = ctx.saved_tensors
                seen.append((gi, gm))
                return lib.zeros_like(gv).scatter(0, idx, gv)

        return SortLike

    def fn(lib, x):
        seen = []
        vals, idx, mask = make(lib, seen).apply(x)
        (vals * lib.arange(4.0)).sum().backward()
        return vals.requires_grad, idx.requires_grad, mask.requires_grad, mask.grad_fn, seen

    both(fn, r(4))


def test_mark_dirty_in_place_custom_op():
    def make(lib):
        class Double_(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        return Double_

    def fn(lib, x):
        y = x * 1
        v0 = y._version
        out = make(lib).apply(y)
        (out * out).sum().backward()
        return out is y, y._version - v0, y.grad_fn.name(), y

    both(fn, r(3))

    def saved_then_dirtied(lib, x):
        y = x.exp()  # saves its result, which the custom op then overwrites
        out = make(lib).apply(y)
        out.sum().backward()

    e_msg, t_msg = raises_like(saved_then_dirtied, r(3))
    assert e_msg == t_msg


def test_mark_dirty_on_view_rebases_base():
    def make(lib):
        class Double_(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        return Double_

    def fn(lib, x):
        base = x * 1
        view = base[1:]
        make(lib).apply(view)
        (base * base).sum().backward()
        # (PyTorch regenerates the view's grad_fn as AsStridedBackward0; its name is not compared)
        return base, base.grad_fn.name(), view.requires_grad

    both(fn, r(4))


def test_mark_dirty_errors():
    def make(lib, give_back):
        class Double_(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x if give_back else x.clone()

            @staticmethod
            def backward(ctx, g):
                return g * 2

        return Double_

    e_msg, t_msg = raises_like(lambda lib, x: make(lib, True).apply(x), r(3))
    assert e_msg == t_msg
    e_msg, t_msg = raises_like(lambda lib, x: make(lib, False).apply(x * 1), r(3))
    assert e_msg == t_msg


def test_returning_an_input_makes_a_view():
    def make(lib):
        class Ident(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 3

        return Ident

    def fn(lib, x):
        y = x * 2
        o = make(lib).apply(y)
        o.sum().backward()
        return o is y, o.grad_fn.name(), o._version == y._version

    both(fn, r(3))
    e_msg, t_msg = raises_like(lambda lib, x: make(lib).apply(x * 2).mul_(2), r(3))
    assert e_msg == t_msg


def test_setup_context_new_style_with_defaults_and_kwargs():
    def make(lib, seen):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, factor=2.0):
                seen.append(("fwd grad", lib.is_grad_enabled()))
                return x * factor

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, factor = inputs
                seen.append(("inputs", len(inputs), factor))
                ctx.factor = factor
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                seen.append(("needs", ctx.needs_input_grad))
                return g * ctx.factor, None

        return Scale

    def fn(lib, x):
        seen = []
        f = make(lib, seen)
        a = f.apply(x)
        b = f.apply(x, 3.0)
        c = f.apply(x=x, factor=4.0)
        (a + b + c).sum().backward()
        return a, b, c, seen

    both(fn, r(3))


def test_old_style_tensor_passed_by_keyword_gets_gradient():
    def make(lib):
        class Mul(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k=2.0):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g * 2

        return Mul

    def fn(lib, x):
        y = make(lib).apply(x=x)
        y.sum().backward()
        return y

    both(fn, r(3))


def test_once_differentiable():
    def make(lib):
        class Sq(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        return Sq

    def first(lib, x):
        make(lib).apply(x).sum().backward()

    both(first, r(3))

    def twice(lib, x):
        (g,) = lib.autograd.grad(make(lib).apply(x).sum(), x, create_graph=True)
        g.sum().backward()

    e_msg, t_msg = raises_like(twice, r(3))
    assert e_msg == t_msg

    def result_requires_grad(lib, x):
        (g,) = lib.autograd.grad(make(lib).apply(x).sum(), x, create_graph=True)
        return g.requires_grad

    both(result_requires_grad, r(3))


def test_ctx_saved_tensors_freed_and_version_checked():
    def freed(lib, x):
        y = make_cube(lib).apply(x * 1)
        y.sum().backward()
        y.grad_fn.saved_tensors  # noqa: B018

    e_msg, t_msg = raises_like(freed, r(3))
    assert e_msg == t_msg

    def modified(lib, x):
        h = x * 1
        y = make_cube(lib).apply(h)
        h.add_(1)
        y.sum().backward()

    e_msg, t_msg = raises_like(modified, r(3))
    assert e_msg == t_msg

    def retained(lib, x):
        y = make_cube(lib).apply(x)
        y.sum().backward(retain_graph=True)
        return y.grad_fn.saved_tensors[0] is x, y.grad_fn.needs_input_grad

    both(retained, r(3))


def test_save_for_backward_intermediate_and_none():
    def make(lib):
        class Inter(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                t = x * 2
                ctx.save_for_backward(t, None)
                return t.exp()

            @staticmethod
            def backward(ctx, g):
                t, nothing = ctx.saved_tensors
                assert nothing is None
                return g * 2 * t.exp()

        return Inter

    both(lambda lib, x: make(lib).apply(x).sum().backward(), r(3))


@pytest.mark.parametrize("case", ["n_grads_few", "n_grads_many", "shape", "non_tensor",
                                  "save_int"])
def test_custom_function_errors(case):
    def make(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                if case == "save_int":
                    ctx.save_for_backward(x, 3)
                return x * y

            @staticmethod
            def backward(ctx, g):
                if case == "n_grads_few":
                    return (g,)
                if case == "n_grads_many":
                    return g, g, g
                if case == "shape":
                    return lib.ones(5), g
                return 5, g

        return Bad

    def fn(lib, x, y):
        make(lib).apply(x, y).sum().backward()

    e_msg, t_msg = raises_like(fn, r(3), r(3, seed=1))
    assert e_msg == t_msg


def test_trailing_none_gradients_may_be_omitted_or_extra():
    def make(lib, extra):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return (g * 2, None, None) if extra else (g * 2, None)

        return F

    for extra in (False, True):
        both(lambda lib, x, extra=extra: make(lib, extra).apply(x, 2.0).sum().backward(), r(3))


def test_instantiation_warns_and_legacy_call_raises():
    def fn(lib, x):
        cube = make_cube(lib)
        with pytest.warns(DeprecationWarning, match="should not be instantiated"):
            inst = cube()
        inst(x)

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg


def test_backward_not_implemented():
    def make(lib):
        class NoBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        return NoBackward

    e_msg, t_msg = raises_like(lambda lib, x: make(lib).apply(x).sum().backward(), r(3))
    assert e_msg == t_msg


# ---------------------------------------------------------------------------------------------
# gradcheck / gradgradcheck
# ---------------------------------------------------------------------------------------------

def e64(*shape, seed=0):
    a = np.random.default_rng(seed).uniform(-1, 1, shape)
    return ember.tensor(a, dtype=ember.float64, requires_grad=True)


def test_gradcheck_passes_on_correct_functions():
    x, y = e64(3, 4), e64(4, 2, seed=1)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (x, y))
    assert gradcheck(make_cube(ember).apply, (x,))
    assert gradcheck(lambda a: (a.exp().sum(0), a.sin()), (x,))
    assert gradgradcheck(make_cube(ember).apply, (x,))
    assert gradgradcheck(lambda a, b: (a @ b).sigmoid(), (x, y))


def make_wrong(lib, second_order_only=False):
    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if second_order_only:
                # right first derivative, but detached: its own derivative is wrong
                return g * 3 * x.detach() ** 2
            return g * 2 * x ** 2  # wrong factor

    return Wrong


def test_gradcheck_fails_on_wrong_function():
    x = e64(5)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(make_wrong(ember).apply, (x,))
    assert gradcheck(make_wrong(ember).apply, (x,), raise_exception=False) is False
    # PyTorch agrees that the function is wrong
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    with pytest.raises(TorchGradcheckError):
        torch.autograd.gradcheck(make_wrong(torch).apply, (tx,))


def test_gradgradcheck_fails_on_wrong_second_derivative():
    x = e64(5)
    assert gradcheck(make_wrong(ember, second_order_only=True).apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(make_wrong(ember, second_order_only=True).apply, (x,))
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    with pytest.raises(TorchGradcheckError):
        torch.autograd.gradgradcheck(make_wrong(torch, second_order_only=True).apply, (tx,))


def test_gradcheck_requires_an_input_with_grad():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (x,))
