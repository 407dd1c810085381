"""Property tests for broadcasting and view chains, against NumPy's rules and PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember
from tests import oracle
from tests.oracle import check

torch = oracle.torch
pytestmark = oracle.needs_torch

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

small_shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)


def _np(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# broadcasting of binary ops
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       st.sampled_from(["add", "sub", "mul", "div"]))
def test_binary_broadcast_matches_numpy_and_torch(shapes, op):
    a_shape, b_shape = shapes.input_shapes
    out = check(lambda L, x, y: getattr(L, op)(x, y), _np(a_shape, 1), _np(b_shape, 2),
                atol=1e-4, rtol=1e-4)
    assert tuple(out.shape) == np.broadcast_shapes(a_shape, b_shape) == shapes.result_shape
    assert tuple(ember.broadcast_shapes(a_shape, b_shape)) == shapes.result_shape
    bt = ember.broadcast_tensors(ember.ones(a_shape), ember.ones(b_shape))
    assert all(tuple(t.shape) == shapes.result_shape for t in bt)


@SETTINGS
@given(small_shapes, small_shapes)
def test_broadcast_errors_agree(a_shape, b_shape):
    try:
        expected = np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        expected = None
    x, y = ember.ones(a_shape), ember.ones(b_shape)
    tx, ty = torch.ones(a_shape), torch.ones(b_shape)
    if expected is None:
        with pytest.raises(RuntimeError) as te:
            tx + ty
        with pytest.raises(RuntimeError) as ee:
            x + y
        assert "must match the size of tensor b" in str(ee.value)
        assert str(ee.value) == str(te.value)
        with pytest.raises(RuntimeError):
            ember.broadcast_shapes(a_shape, b_shape)
        with pytest.raises(RuntimeError):
            ember.broadcast_tensors(x, y)
    else:
        assert tuple((x + y).shape) == expected == tuple((tx + ty).shape)
        assert tuple(ember.broadcast_shapes(a_shape, b_shape)) == expected


@SETTINGS
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_expand_to_broadcast_shape_is_a_view(shapes):
    res = shapes.result_shape
    base = ember.tensor(_np(shapes.input_shapes[0]))
    e = base.expand(res)
    assert tuple(e.shape) == res
    if base.numel():
        assert np.shares_memory(e._data, base._data)
    np.testing.assert_array_equal(e.numpy(), np.broadcast_to(base.numpy(), res))
    t = torch.tensor(_np(shapes.input_shapes[0])).expand(res)
    assert e.stride() == t.stride()


# ---------------------------------------------------------------------------------------------
# chains of view ops
# ---------------------------------------------------------------------------------------------

def _draw_op(data, shape):
    """A view op valid for ``shape`` (as a function of the library and tensor) and its name."""
    nd = len(shape)
    kinds = ["unsqueeze", "expand", "view"]
    if nd >= 1:
        kinds += ["narrow", "select", "permute"]
    if nd >= 2:
        kinds += ["transpose", "diagonal"]
    kind = data.draw(st.sampled_from(kinds), label="op")
    if kind == "unsqueeze":
        d = data.draw(st.integers(-nd - 1, nd), label="dim")
        return kind, lambda L, t: t.unsqueeze(d)
    if kind == "expand":
        lead = data.draw(st.integers(0, 1), label="lead")
        sizes = [data.draw(st.integers(1, 2), label="lead size") for _ in range(lead)]
        sizes += [data.draw(st.sampled_from([s, 2, -1]), label="size") if s == 1 else -1
                  for s in shape]
        return kind, lambda L, t: t.expand(tuple(sizes))
    if kind == "view":
        numel = math.prod(shape)
        if numel == 0:
            new = (0,) + tuple(s for s in shape if s != 0)
        else:
            divs = [k for k in range(1, numel + 1) if numel % k == 0]
            k = data.draw(st.sampled_from(divs), label="split")
            new = data.draw(st.sampled_from([(k, -1), (-1,), (numel // k, k, 1)]), label="shape")
        return kind, lambda L, t: t.view(*new)
    d = data.draw(st.integers(-nd, nd - 1), label="dim")
    size = shape[d]
    if kind == "narrow":
        start = data.draw(st.integers(0, size), label="start")
        length = data.draw(st.integers(0, size - start), label="length")
        return kind, lambda L, t: t.narrow(d, start, length)
    if kind == "select":
        if size == 0:
            return "narrow", lambda L, t: t.narrow(d, 0, 0)
        i = data.draw(st.integers(-size, size - 1), label="index")
        return kind, lambda L, t: t.select(d, i)
    if kind == "permute":
        perm = data.draw(st.permutations(range(nd)), label="perm")
        return kind, lambda L, t: t.permute(*perm)
    d2 = data.draw(st.integers(-nd, nd - 1).filter(lambda v: v % nd != d % nd), label="dim2")
    if kind == "transpose":
        return kind, lambda L, t: t.transpose(d, d2)
    off = data.draw(st.integers(-3, 3), label="offset")
    return kind, lambda L, t: L.diagonal(t, off, d, d2)


@SETTINGS
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
def test_view_chains_match_torch_and_share_memory(shape, data):
    src = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    tb, eb = torch.tensor(src), ember.tensor(src)
    tv, ev = tb, eb
    steps = data.draw(st.integers(1, 5), label="steps")
    for _ in range(steps):
        kind, op = _draw_op(data, tuple(tv.shape))
        try:
            tn = op(torch, tv)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                op(ember, ev)
            continue
        en = op(ember, ev)
        tv, ev = tn, en
        assert tuple(ev.shape) == tuple(tv.shape), kind
        if tv.numel():  # (strides and offsets of empty tensors are arbitrary)
            assert ev.stride() == tv.stride(), (kind, ev.stride(), tv.stride())
            assert ev.storage_offset() == tv.storage_offset(), kind
        np.testing.assert_array_equal(ev.numpy(), tv.numpy())
        if ev.numel():
            assert np.shares_memory(ev._data, eb._data)
        assert ev._base is eb or ev is eb
    # writing through the final view reaches the base exactly as in PyTorch
    try:
        tv.mul_(-1)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="single memory location"):
            ev.mul_(-1)
        return
    ev.mul_(-1)
    np.testing.assert_array_equal(eb.numpy(), tb.numpy())
    assert eb._version == tb._version == ev._version


@SETTINGS
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), st.data())
def test_view_chain_gradients_match_torch(shape, data):
    ops = []
    # Track a real tensor through the chain: whether `view` is legal depends on the strides the
    # earlier ops produced, not just on the shape.
    probe = torch.empty(shape)
    for _ in range(data.draw(st.integers(1, 3), label="steps")):
        kind, op = _draw_op(data, tuple(probe.shape))
        try:
            probe = op(torch, probe)
        except RuntimeError:
            continue
        ops.append(op)

    def chain(L, x):
        for op in ops:
            x = op(L, x)
        return x * 1

    check(chain, _np(shape, 3))


# ---------------------------------------------------------------------------------------------
# reshape round trips
# ---------------------------------------------------------------------------------------------

@st.composite
def reshape_pairs(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    numel = math.prod(shape)
    factors = []
    rest = numel
    while rest > 1 and len(factors) < 4:
        divs = [k for k in range(2, rest + 1) if rest % k == 0]
        k = draw(st.sampled_from(divs))
        factors.append(k)
        rest //= k
    if rest > 1:  # stopped at four factors: the remainder joins the last one
        factors[-1] *= rest
    if numel == 0:
        factors = [0] + draw(st.lists(st.integers(1, 3), max_size=2))
    factors += [1] * draw(st.integers(0, 2))
    new = list(draw(st.permutations(factors)))
    if new and numel != 0 and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    return shape, tuple(new)


@SETTINGS
@given(reshape_pairs(), st.booleans())
def test_reshape_round_trips(pair, transposed):
    shape, new = pair
    src = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    if transposed and len(shape) >= 2:
        t0 = torch.tensor(np.ascontiguousarray(src.swapaxes(0, 1))).transpose(0, 1)
        e0 = ember.tensor(np.ascontiguousarray(src.swapaxes(0, 1))).transpose(0, 1)
    else:
        t0, e0 = torch.tensor(src), ember.tensor(src)
    tr, er = t0.reshape(new), e0.reshape(new)
    assert tuple(er.shape) == tuple(tr.shape)
    np.testing.assert_array_equal(er.numpy(), tr.numpy())
    # reshape makes a view exactly when PyTorch does
    t_view = tr.numel() > 0 and tr.data_ptr() >= t0.data_ptr() and tr._base is not None
    e_view = er.numel() > 0 and np.shares_memory(er._data, e0._data)
    assert e_view == t_view
    back = er.reshape(shape)
    np.testing.assert_array_equal(back.numpy(), src)
    np.testing.assert_array_equal(er.flatten().numpy(), src.reshape(-1))
    if e0.is_contiguous():
        np.testing.assert_array_equal(e0.view(new).numpy(), tr.numpy())
    check(lambda L, x: x.reshape(new).reshape(shape) * 1, _np(shape, 4))
