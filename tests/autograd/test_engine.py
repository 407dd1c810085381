"""The backward engine and its entry points (``Tensor.backward``, ``autograd.backward``,
``autograd.grad``) against PyTorch: graph shapes, retain_graph/create_graph, higher order
derivatives, ``inputs=``, unused inputs, errors, and very long graphs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from tests.autograd._helpers import both, leaves, raises_like, same
from tests.oracle import needs_torch, torch

pytestmark = needs_torch


def r(*shape, seed=0, dtype=np.float32):
    return np.asarray(np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype))


# ---------------------------------------------------------------------------------------------
# graph shapes
# ---------------------------------------------------------------------------------------------

def test_diamond():
    def fn(lib, x):
        a = x * 2
        b = x.sin()
        (a * b + a.exp()).sum().backward()

    both(fn, r(3, 4))


def test_shared_subexpression_used_many_times():
    def fn(lib, x, y):
        s = x * y
        z = s * s + s.exp() - s / 3 + s.sum()
        z.sum().backward()
        return z

    both(fn, r(5), r(5, seed=1))


def test_same_tensor_twice_in_one_op():
    both(lambda lib, x: (x * x).sum().backward(), r(4))
    both(lambda lib, x: lib.matmul(x, x).sum().backward(), r(3, 3))


def test_broadcast_gradients_reduced_to_leaf_shape():
    def fn(lib, x, y, z):
        ((x + y) * z).sum().backward()

    both(fn, r(3, 1), r(4), r(2, 1, 1))


def test_dtype_of_leaf_gradient_follows_leaf():
    def fn(lib, x, y):
        (x * y).sum().backward()

    both(fn, r(3, dtype=np.float64), r(3))


def test_multiple_roots_with_gradients():
    def fn(lib, x):
        y1 = x.exp()
        y2 = x * 3
        lib.autograd.backward([y1, y2], [lib.ones(4) * 2, lib.arange(4.0)])

    both(fn, r(4))


def test_root_that_is_ancestor_of_another_root():
    def fn(lib, x):
        a = x * 2
        b = a.sin()
        lib.autograd.backward([a.sum(), b.sum()])

    both(fn, r(4))


def test_multi_output_op_one_output_used():
    def fn(lib, x):
        vals, idx = x.max(dim=1)
        a, b = x.chunk(2, dim=1)
        (vals.sum() + (b * 2).sum()).backward()

    both(fn, r(3, 4))


def test_backward_on_leaf_itself():
    both(lambda lib, x: x.backward(lib.ones(3)), r(3))
    both(lambda lib, x: x.sum().backward(), r(3))


def test_gradient_argument_and_scalar_gradient_number():
    both(lambda lib, x: (x * x).backward(lib.arange(3.0)), r(3))
    # a 0-d gradient for a 0-d output
    both(lambda lib, x: (x * x).sum().backward(lib.tensor(3.0)), r(3))


def test_accumulates_into_existing_grad_in_place():
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    (e * 3).sum().backward()
    g = e.grad
    (e * e).sum().backward()
    assert e.grad is g  # PyTorch adds into the existing .grad (no graph) in place
    np.testing.assert_allclose(e.grad.numpy(), [5.0, 7.0])
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    (t * 3).sum().backward()
    tg = t.grad
    (t * t).sum().backward()
    assert t.grad is tg


def test_grad_with_create_graph_not_in_place():
    # with create_graph the new .grad is a fresh, graph-connected tensor (x.grad + g)
    def fn(lib, x):
        (x * x).sum().backward(create_graph=True)
        first = x.grad
        (x * x * x).sum().backward(create_graph=True)
        return first, x.grad.requires_grad

    e, _ = both(fn, r(3))
    assert e[0] is not None


def test_leaf_grad_is_not_aliased_to_seed_or_other_leaves():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([3.0, 4.0], requires_grad=True)
    seed = ember.ones(2)
    (x + y).backward(seed)
    x.grad.add_(1)
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(seed.numpy(), [1.0, 1.0])
    # an identity backward hands its incoming gradient straight to the leaf
    z = ember.tensor([1.0, 2.0], requires_grad=True)
    z.backward(seed)
    z.grad.mul_(5)
    np.testing.assert_allclose(seed.numpy(), [1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# autograd.grad
# ---------------------------------------------------------------------------------------------

def test_grad_does_not_touch_dot_grad():
    def fn(lib, x, y):
        out = (x * y.exp()).sum()
        return lib.autograd.grad(out, [x, y])

    both(fn, r(3), r(3, seed=1))


def test_grad_single_tensor_input_returns_tuple():
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    res = ember.autograd.grad((e * e).sum(), e)
    assert isinstance(res, tuple) and len(res) == 1


def test_grad_non_leaf_inputs():
    def fn(lib, x):
        mid = x * 3
        mid2 = mid.exp()
        out = (mid2 * mid).sum()
        return lib.autograd.grad(out, [mid, mid2, x])

    both(fn, r(4))


def test_grad_multiple_outputs_and_grad_outputs():
    def fn(lib, x, y):
        a = x * y
        b = x.exp()
        return lib.autograd.grad([a, b], [x, y], [lib.ones(3), lib.full((3,), 2.0)])

    both(fn, r(3), r(3, seed=1))


def test_grad_outputs_none_entry_for_scalar_output():
    def fn(lib, x):
        return lib.autograd.grad([(x * x).sum(), x * 2], [x], [None, lib.ones(3)])

    both(fn, r(3))


def test_grad_unused_input_error_and_allow_unused():
    def unused(lib, x, y):
        lib.autograd.grad((x * 2).sum(), [x, y])

    e_msg, t_msg = raises_like(unused, r(3), r(3, seed=1))
    assert e_msg == t_msg

    def allowed(lib, x, y):
        return lib.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)

    both(allowed, r(3), r(3, seed=1))

    def materialized(lib, x, y):
        return lib.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)

    both(materialized, r(3), r(3, seed=1))


def test_materialize_grads_with_allow_unused_false():
    def fn(lib, x):
        lib.autograd.grad((x * 2).sum(), [x], allow_unused=False, materialize_grads=True)

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg


def test_grad_of_input_that_does_not_require_grad():
    def fn(lib, x, c):
        lib.autograd.grad((x * c).sum(), [c])

    e_msg, t_msg = raises_like(fn, r(3), r(3), requires_grad=False)


def test_grad_of_input_not_requiring_grad_message():
    def fn(lib, x):
        c = lib.ones(3)
        lib.autograd.grad((x * c).sum(), [c])

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg


def test_output_does_not_require_grad():
    def fn(lib, x):
        (x * 2).sum().backward()

    e_msg, t_msg = raises_like(fn, r(3), requires_grad=False)
    assert e_msg == t_msg

    def fn2(lib, x):
        lib.autograd.grad((x * 2).sum(), [x])

    raises_like(fn2, r(3), requires_grad=False)


def test_implicit_gradient_only_for_scalars():
    e_msg, t_msg = raises_like(lambda lib, x: (x * 2).backward(), r(3))
    assert e_msg == t_msg
    e_msg, t_msg = raises_like(lambda lib, x: lib.autograd.grad(x * 2, x), r(3))
    assert e_msg == t_msg


def test_gradient_shape_mismatch():
    e_msg, t_msg = raises_like(lambda lib, x: (x * 2).backward(lib.ones(4)), r(3))
    assert e_msg == t_msg


def test_wrong_number_of_grad_outputs():
    def fn(lib, x):
        lib.autograd.grad([x * 2, x * 3], [x], [lib.ones(3)])

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg

    def backward_fn(lib, x):
        lib.autograd.backward([x * 2, x * 3], [lib.ones(3)])

    e_msg, t_msg = raises_like(backward_fn, r(3))
    assert e_msg == t_msg


def test_grad_outputs_of_other_dtypes_are_cast_to_the_output_dtype():
    def fn(lib, x):
        a = lib.autograd.grad(x * 2, x, lib.ones(3, dtype=lib.int64), retain_graph=True)
        b = lib.autograd.grad(x * 2, x, lib.ones(3, dtype=lib.float64), retain_graph=True)
        c = lib.autograd.grad(x * 2, x, lib.ones(3, dtype=lib.bool))
        return a, b, c

    both(fn, r(3))

    def complex_seed(lib, x):
        lib.autograd.grad((x * 2).sum(), x, lib.tensor(1.0, dtype=lib.complex64))

    e_msg, t_msg = raises_like(complex_seed, r(3))
    assert e_msg == t_msg


def test_implicit_gradient_errors_need_a_differentiable_output():
    for fn in (lambda lib, x: (x > 0).sum().backward(),
               lambda lib, x: (x * 1j).sum().backward(),
               lambda lib, x: lib.autograd.grad((x * 2).sum(), [])):
        e_msg, t_msg = raises_like(fn, r(3))
        assert e_msg == t_msg


def test_grad_with_respect_to_output_itself():
    def fn(lib, x):
        y = x * 2
        return lib.autograd.grad(y.sum(), [y])

    both(fn, r(3))


# ---------------------------------------------------------------------------------------------
# backward(inputs=...)
# ---------------------------------------------------------------------------------------------

def test_backward_inputs_restricts_accumulation():
    def fn(lib, x, y):
        (x * y).sum().backward(inputs=[x])

    both(fn, r(3), r(3, seed=1))


def test_backward_inputs_single_tensor_and_non_leaf():
    def fn(lib, x, y):
        mid = x * y
        mid.exp().sum().backward(inputs=mid)
        return mid.grad

    both(fn, r(3), r(3, seed=1))


def test_backward_inputs_non_leaf_accumulates_twice():
    def fn(lib, x):
        mid = x * 2
        out = mid.sin().sum()
        out.backward(inputs=[mid], retain_graph=True)
        out.backward(inputs=[mid, x])
        return mid.grad

    both(fn, r(3))


def test_backward_inputs_empty_list():
    e_msg, t_msg = raises_like(lambda lib, x: (x * 2).sum().backward(inputs=[]), r(3))
    assert e_msg == t_msg


def test_autograd_backward_grad_tensors_and_inputs():
    def fn(lib, x, y):
        a = x * y
        lib.autograd.backward(a, grad_tensors=lib.full((3,), 0.5), inputs=(y,))

    both(fn, r(3), r(3, seed=1))


# ---------------------------------------------------------------------------------------------
# retain_graph and freeing saved tensors
# ---------------------------------------------------------------------------------------------

def test_second_backward_raises_after_free():
    def fn(lib, x):
        y = (x.exp() * x).sum()
        y.backward()
        y.backward()

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg.startswith("Trying to backward through the graph a second time")
    assert "retain_graph=True" in e_msg


def test_second_grad_raises_after_free():
    def fn(lib, x):
        y = (x * x).sum()
        lib.autograd.grad(y, x)
        lib.autograd.grad(y, x)

    e_msg, _ = raises_like(fn, r(3))
    assert "second time" in e_msg


def test_saved_tensor_access_after_free():
    # PyTorch exposes saved values as attributes; ember's ctx.saved_tensors is the equivalent
    t = torch.tensor([1.0], requires_grad=True)
    ty = t.exp()
    ty.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        ty.grad_fn._saved_result  # noqa: B018
    e = ember.tensor([1.0], requires_grad=True)
    ey = e.exp()
    ey.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        ey.grad_fn.saved_tensors  # noqa: B018


def test_retain_graph_allows_second_backward_and_accumulates():
    def fn(lib, x):
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()

    both(fn, r(3))


def test_ops_without_saved_tensors_can_backward_twice():
    # PyTorch only complains when a freed saved tensor is needed: add/sum save nothing
    def fn(lib, x):
        y = (x + 1).sum()
        y.backward()
        y.backward()

    both(fn, r(3))


def test_backward_twice_through_shared_part():
    def fn(lib, x):
        h = x * x
        a = h.sum()
        b = (h * 3).sum()
        a.backward(retain_graph=True)
        b.backward()

    both(fn, r(3))


# ---------------------------------------------------------------------------------------------
# create_graph: double and higher-order derivatives
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("f", [
    lambda lib, x: x ** 3,
    lambda lib, x: x.sin(),
    lambda lib, x: x.exp(),
    lambda lib, x: x.tanh() * x,
    lambda lib, x: lib.sigmoid(x) / (1 + x * x),
    lambda lib, x: (x * x + 1).log(),
    lambda lib, x: lib.prod(x + 2, 0) * x,
], ids=["cube", "sin", "exp", "tanh_x", "sigmoid_ratio", "log", "prod"])
def test_second_and_third_derivative(f):
    def fn(lib, x):
        y = f(lib, x).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        return g1, g2, g3

    both(fn, r(5), atol=1e-4, rtol=1e-5)


def test_double_backward_matmul():
    def fn(lib, a, b):
        y = lib.matmul(a, b).pow(2).sum()
        ga, gb = lib.autograd.grad(y, [a, b], create_graph=True)
        (ga.sum() * gb.pow(2).sum()).backward()
        return ga, gb

    both(fn, r(3, 4), r(4, 2, seed=1), atol=1e-4, rtol=1e-5)


def test_double_backward_product_of_inputs():
    def fn(lib, x, y):
        z = (x * y * y).sum()
        gx, gy = lib.autograd.grad(z, [x, y], create_graph=True)
        (gx * gy).sum().backward()
        return gx, gy

    both(fn, r(4), r(4, seed=1))


def test_create_graph_backward_then_grad_of_grad():
    def fn(lib, x):
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        (g2,) = lib.autograd.grad(g.sum(), x)
        return g2

    both(fn, r(4))


def test_grad_result_without_create_graph_has_no_graph():
    def fn(lib, x):
        (g,) = lib.autograd.grad((x ** 2).sum(), x)
        return g.requires_grad, g.grad_fn is None

    both(fn, r(3))


def test_hessian_vector_product_by_double_backward():
    def fn(lib, x, v):
        y = (x.sin() * x.cos().exp()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (hv,) = lib.autograd.grad(g, x, v.detach())
        return hv

    both(fn, r(6), r(6, seed=1))


def test_grad_outputs_that_require_grad_with_create_graph():
    def fn(lib, x, v):
        (g,) = lib.autograd.grad(x.exp(), x, v, create_graph=True)
        (gv,) = lib.autograd.grad(g.sum(), v)
        return g, gv

    both(fn, r(3), r(3, seed=1))


# ---------------------------------------------------------------------------------------------
# long graphs: no recursion, reasonable time
# ---------------------------------------------------------------------------------------------

def test_chain_of_100000_ops():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0
        y = y + 0.0
    y.sum().backward()  # iterative engine: no RecursionError (about a second on a laptop core)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_deep_chain_of_views_and_grad():
    x = ember.tensor([[1.0, 2.0]], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y.transpose(0, 1)
    (g,) = ember.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g.numpy(), [[1.0, 1.0]])


def test_10000_step_recurrence_matches_torch():
    steps = 10_000
    w0, x0 = r(4, 4) * 0.3, r(4)

    def run(lib):
        w, x = leaves(lib, w0, x0)
        h = x
        for _ in range(steps):
            h = lib.tanh(lib.matmul(w, h) + x)
        h.sum().backward()
        return w.grad, x.grad

    eg, tg = run(ember), run(torch)
    same(eg, tg, atol=1e-4, rtol=1e-4)


def test_wide_fan_out_and_fan_in():
    def fn(lib, x):
        parts = [x * float(i) for i in range(500)]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        total.sum().backward()

    both(fn, r(3))


def test_long_chain_double_backward():
    x = ember.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(2_000):
        y = y * 1.0001
    (g,) = ember.autograd.grad((y * y).sum(), x, create_graph=True)
    (g2,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [2 * 1.0001 ** 4000], rtol=1e-4)


def test_backward_create_graph_warns_once_about_cycle():
    import ember.autograd as ea

    ea._cycle_warned = False  # the warning is once per process, as in PyTorch
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="create a reference cycle"):
        (x * x).sum().backward(create_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * x).sum().backward(create_graph=True)
        ember.autograd.grad((x * x).sum(), x, create_graph=True)


# ---------------------------------------------------------------------------------------------
# random programs: diamonds, shared values, in-place writes and views, compared with PyTorch
# ---------------------------------------------------------------------------------------------

def _step(lib, vals, kind, i, j):
    a, b = vals[i % len(vals)], vals[j % len(vals)]
    if kind == "add":
        return a + b
    if kind == "mul":
        return a * b
    if kind == "sub_scaled":
        return a - 0.5 * b
    if kind == "tanh":
        return a.tanh()
    if kind == "sin_mul":
        return a.sin() * b
    if kind == "sigmoid":
        return lib.sigmoid(a)
    if kind == "square":
        return a * a
    if kind == "broadcast_mean":
        return a + b.mean(0, keepdim=True)
    if kind == "scale_by_sum":
        return a * b.sum() * 0.1
    if kind == "detached":
        return a * b.detach()
    if kind == "setitem":  # CopySlices on a fresh non-leaf
        c = a * 1
        c[1] = b[2] * 2
        return c
    if kind == "inplace_mul":
        c = a.clone()
        c.mul_(b)
        return c
    if kind == "view_inplace":
        c = a * 1
        c.t()[1:].add_(b.t()[1:])
        return c
    if kind == "transpose_matmul":
        return lib.matmul(a, b.t()) @ a * 0.1
    raise AssertionError(kind)


KINDS = ["add", "mul", "sub_scaled", "tanh", "sin_mul", "sigmoid", "square", "broadcast_mean",
         "scale_by_sum", "detached", "setitem", "inplace_mul", "view_inplace", "transpose_matmul"]


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 50), st.integers(0, 50)),
                min_size=1, max_size=12),
       st.lists(st.integers(0, 50), min_size=1, max_size=3))
def test_random_programs_match_torch(program, roots):
    def fn(lib, x, y):
        vals = [x, y]
        for kind, i, j in program:
            vals.append(_step(lib, vals, kind, i, j))
        total = sum((vals[k % len(vals)] * (k + 1)).sum() for k in roots)
        if not total.requires_grad:
            return total
        total.backward()
        return total

    both(fn, r(3, 3), r(3, 3, seed=1), atol=1e-4, rtol=1e-4)


# ---------------------------------------------------------------------------------------------
# grad(is_grads_batched=True), Tensor.data assignment
# ---------------------------------------------------------------------------------------------

def test_grad_is_grads_batched():
    def fn(lib, x, y):
        eye = lib.eye(3)
        (a,) = lib.autograd.grad(x ** 2, x, eye, is_grads_batched=True, retain_graph=True)
        b = lib.autograd.grad([x.sin(), x * 3], [x, y], [eye, lib.ones(3, 3) * 2],
                              is_grads_batched=True, allow_unused=True, retain_graph=True)
        c = lib.autograd.grad([x.sin(), x * 3], [x, y], [eye, lib.ones(3, 3) * 2],
                              is_grads_batched=True, materialize_grads=True, retain_graph=True)
        d = lib.autograd.grad((x ** 2).sum(), x, lib.ones(4), is_grads_batched=True)
        (g,) = lib.autograd.grad(x ** 3, x, eye, is_grads_batched=True, create_graph=True)
        return a, b, c, d, g, lib.autograd.grad(g.sum(), x)

    both(fn, r(3), r(2))


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.autograd.grad(x ** 2, x, is_grads_batched=True),
    lambda lib, x: lib.autograd.grad((x ** 2).sum(), x, lib.tensor(3.0), is_grads_batched=True),
    lambda lib, x: lib.autograd.grad([x ** 2, x * 3], x, [lib.eye(3), lib.ones(4, 3)],
                                     is_grads_batched=True),
    # the graph is freed after the last batch entry unless retain_graph=True
    lambda lib, x: (lambda z: (lib.autograd.grad(z, x, lib.eye(3), is_grads_batched=True),
                               z.sum().backward()))(x.exp()),
])
def test_grad_is_grads_batched_errors(fn):
    raises_like(fn, r(3))


def test_data_assignment():
    def fn(lib, x):
        x.data = lib.zeros(2, 2, dtype=lib.float64)  # shape and dtype may change
        return x, x.requires_grad, x.is_leaf

    both(fn, r(3))
    raises_like(lambda lib, x: setattr(x, "data", lib.zeros(3, dtype=lib.int64)), r(3),
                match="must be floating point or complex dtype")
    raises_like(lambda lib, x: setattr(x, "data", lib.zeros(3, dtype=lib.bool)), r(3))


# .grad takes an incoming gradient without a copy when nothing else refers to it, including a
# C-contiguous view over the whole of a fresh array (the transposed-back gradient of w.t(),
# a bias gradient summed with keepdims). Where the array is shared (a retained gradient, two
# leaves fed from one buffer, a hook that keeps the gradient) it must still be copied, so a
# later in-place accumulation changes nothing else.
def test_grad_takes_fresh_views_but_never_shared_memory():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((4, 5)).astype(np.float32))
    w = ember.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    b = ember.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    (x @ w.t() + b).sum().backward()
    gw, gb = w.grad.numpy().copy(), b.grad.numpy().copy()
    np.testing.assert_allclose(gw, np.tile(x.numpy().sum(0), (3, 1)), rtol=1e-5)
    np.testing.assert_allclose(gb, np.full(3, 4.0))
    (x @ w.t() + b).sum().backward()  # accumulates in place into the taken arrays
    np.testing.assert_allclose(w.grad.numpy(), 2 * gw, rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), 2 * gb)

    # a retained gradient of w.t() shares the gradient's memory: .grad must copy it
    w.grad = None
    wt = w.t()
    wt.retain_grad()
    (x @ wt).sum().backward(retain_graph=True)
    assert not np.shares_memory(w.grad.numpy(), wt.grad.numpy())
    kept = wt.grad.numpy().copy()
    (x @ wt).sum().backward()
    np.testing.assert_allclose(wt.grad.numpy(), 2 * kept, rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), 2 * kept.T, rtol=1e-5)

    # two leaves fed views of one gradient buffer
    p = ember.zeros(3, 4, requires_grad=True)
    q = ember.zeros(3, 4, requires_grad=True)
    for _ in range(2):
        (p.t() + q.t()).sum().backward()
    assert not np.shares_memory(p.grad.numpy(), q.grad.numpy())
    np.testing.assert_array_equal(p.grad.numpy(), np.full((3, 4), 2.0))
    np.testing.assert_array_equal(q.grad.numpy(), np.full((3, 4), 2.0))

    # a hook that keeps the incoming gradient
    seen = []
    r = ember.zeros(3, 4, requires_grad=True)
    rt = r.t()
    rt.register_hook(lambda g: seen.append(g))
    (rt * 1.0).sum().backward()
    assert not np.shares_memory(r.grad.numpy(), seen[0].numpy())
