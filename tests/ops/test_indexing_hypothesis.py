"""Random index tuples: ember's ``t[idx]`` and ``t[idx] = v`` against PyTorch (and NumPy).

Each example draws a small shape and an index mixing ints, slices, None, ``...``, Python
bools, 0-d tensors, lists, integer tensors and boolean masks. Where PyTorch raises, ember must
raise the same exception with the same message; otherwise values (and gradients) must match.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import check, same_message, torch

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given, settings, HealthCheck = hypothesis.given, hypothesis.settings, hypothesis.HealthCheck

pytestmark = [pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

FAST = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

ADVANCED = {"list", "array", "mask", "bool"}


@st.composite
def shapes(draw):
    return tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))


@st.composite
def index_specs(draw, shape, advanced: bool = True):
    """A list of (kind, payload) items; ``build`` turns it into an index for a library."""
    nd = len(shape)
    bshape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    use_ellipsis = draw(st.booleans())
    n_pre = draw(st.integers(0, nd))
    n_post = draw(st.integers(0, nd - n_pre)) if use_ellipsis else 0
    kinds = ["int", "slice", "slice", "t0"] + (["list", "array", "mask"] if advanced else [])

    def consume(dim):
        size = shape[dim]
        choices = [k for k in kinds if size > 0 or k not in ("int", "t0")]
        kind = draw(st.sampled_from(choices))
        if kind in ("int", "t0"):
            return kind, draw(st.integers(-size, size - 1)), 1
        if kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            return kind, slice(start, stop, step), 1
        if kind == "mask" and dim + 1 < nd and draw(st.booleans()):
            mshape = (size, shape[dim + 1])
            bits = draw(st.lists(st.booleans(), min_size=int(np.prod(mshape)),
                                 max_size=int(np.prod(mshape))))
            return kind, np.array(bits, dtype=bool).reshape(mshape), 2
        if kind == "mask":
            bits = draw(st.lists(st.booleans(), min_size=size, max_size=size))
            return kind, np.array(bits, dtype=bool), 1
        if size == 0:
            return kind, np.zeros(bshape, dtype=np.int64), 1
        vals = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(bshape)),
                             max_size=int(np.prod(bshape))))
        arr = np.array(vals, dtype=np.int64).reshape(bshape)
        return kind, (arr.tolist() if kind == "list" else arr), 1

    def items_for(start, count):
        out, dim = [], start
        while dim < start + count:
            kind, payload, used = consume(dim)
            if dim + used > start + count:
                continue
            out.append((kind, payload))
            dim += used
            if draw(st.integers(0, 4)) == 0:
                extra = draw(st.sampled_from(["none", "bool"] if advanced else ["none"]))
                out.append((extra, draw(st.booleans())))
        return out

    pre = items_for(0, n_pre)
    if not use_ellipsis:
        return pre
    return pre + [("ellipsis", None)] + items_for(nd - n_post, n_post)


def build(lib, spec):
    out = []
    for kind, p in spec:
        if kind in ("int", "slice", "list"):
            out.append(p)
        elif kind == "t0":
            out.append(lib.tensor(p))
        elif kind == "array":
            out.append(lib.tensor(p))
        elif kind == "mask":
            out.append(lib.tensor(p))
        elif kind == "none":
            out.append(None)
        elif kind == "bool":
            out.append(bool(p))
        else:
            out.append(Ellipsis)
    return tuple(out)


def torch_raises(fn) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception:
        return True
    return False


def numpy_agrees(spec) -> bool:
    """NumPy gives PyTorch's result unless ints or bools sit among advanced indices (PyTorch
    applies those before the advanced step, NumPy treats them as advanced)."""
    kinds = {k for k, _ in spec}
    has_adv = bool(kinds & {"list", "array", "mask", "bool"})
    return not has_adv or not (kinds & {"int", "t0"})


def numpy_index(spec):
    out = []
    for kind, p in spec:
        if kind in ("int", "t0"):
            out.append(int(p))
        elif kind in ("slice", "mask", "array"):
            out.append(p)
        elif kind == "list":
            out.append(np.array(p, dtype=np.int64))
        elif kind == "none":
            out.append(None)
        elif kind == "bool":
            out.append(bool(p))
        else:
            out.append(Ellipsis)
    return tuple(out)


@FAST
@given(st.data())
def test_random_getitem_matches_torch_and_numpy(data):
    shape = data.draw(shapes())
    spec = data.draw(index_specs(shape))
    arr = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) - 3.5
    if torch_raises(lambda: torch.tensor(arr)[build(torch, spec)]):
        same_message(lambda lib, x: x[build(lib, spec)], arr)
        return
    out = check(lambda lib, x: x[build(lib, spec)], arr)
    if numpy_agrees(spec):
        np.testing.assert_array_equal(out.detach().numpy(), arr[numpy_index(spec)])


@FAST
@given(st.data())
def test_random_basic_getitem_is_a_view(data):
    shape = data.draw(shapes())
    spec = data.draw(index_specs(shape, advanced=False))
    base = ember.tensor(np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape))
    if torch_raises(lambda: torch.zeros(shape)[build(torch, spec)]):
        return
    view = base[build(ember, spec)]
    assert view._base is base
    np.testing.assert_array_equal(view.numpy(), base.numpy()[numpy_index(spec)])
    if view.numel():
        assert np.shares_memory(view.numpy(), base.numpy())
        view.mul_(0)
        expected = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        expected[numpy_index(spec)] = 0
        np.testing.assert_array_equal(base.numpy(), expected)
        assert base._version == view._version == 1


@FAST
@given(st.data())
def test_random_setitem_matches_torch(data):
    shape = data.draw(shapes())
    spec = data.draw(index_specs(shape))
    arr = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tag = torch.tensor(arr)[build(torch, spec)]
    except Exception:
        def write(lib, x):
            x[build(lib, spec)] = 1.0
        same_message(write, arr)
        return
    # a tensor value only where every element is written once (repeats: any write may win)
    unique = tag.numel() == len(set(tag.flatten().tolist()))
    use_tensor = unique and data.draw(st.booleans())
    value = (np.asarray(np.arange(tag.numel(), dtype=np.float32).reshape(tuple(tag.shape)) + 100)
             if use_tensor else None)
    if use_tensor and tag.dim() and data.draw(st.booleans()):
        value = value[:1]  # broadcast along the first dim

    def write(lib, x, *v):
        y = x * 1
        y[build(lib, spec)] = v[0] if v else -7.0
        return y

    check(write, arr, *([] if value is None else [value]))


@FAST
@given(st.data())
def test_flat_offsets_match_numpy(data):
    from ember.ops.indexing import flat_offsets

    shape = data.draw(shapes().filter(lambda s: 0 not in s))
    bshape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    items = []
    for size in shape[:data.draw(st.integers(1, len(shape)))]:
        if data.draw(st.booleans()):
            items.append(slice(None))
        else:
            vals = data.draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(bshape)),
                                      max_size=int(np.prod(bshape))))
            items.append(np.array(vals, dtype=np.int64).reshape(bshape))
    if all(isinstance(it, slice) for it in items):
        items[0] = np.zeros(bshape, dtype=np.int64)
    want = np.arange(int(np.prod(shape))).reshape(shape)[tuple(items)]
    np.testing.assert_array_equal(flat_offsets(np, shape, tuple(items)), want)
