import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from tests.oracle import check, rand, same_message, torch


def F(lib):
    return lib.nn.functional


MAX_CASES = [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (2, 1), "ceil_mode": True},
    {"kernel_size": 3, "dilation": 2, "padding": 1}, {"kernel_size": 2, "stride": 1},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True, "padding": 1},
]


@pytest.mark.parametrize("kw", MAX_CASES)
def test_max_pool2d_values_indices_grads(kw):
    check(lambda lib, x: F(lib).max_pool2d(x, return_indices=True, **kw), rand(2, 3, 9, 8))


@pytest.mark.parametrize("kw", [{k: v for k, v in c.items() if k != "dilation"}
                                for c in MAX_CASES])
@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool2d(kw, cip):
    check(lambda lib, x: F(lib).avg_pool2d(x, count_include_pad=cip, **kw), rand(2, 3, 9, 8))


def test_avg_pool_divisor_override_and_1d_3d():
    check(lambda lib, x: F(lib).avg_pool2d(x, 3, divisor_override=2), rand(2, 3, 9, 8))
    check(lambda lib, x: F(lib).max_pool1d(x, 3, 2, 1), rand(2, 3, 11))
    check(lambda lib, x: F(lib).avg_pool1d(x, 3, 2, 1, count_include_pad=False), rand(2, 3, 11))
    check(lambda lib, x: F(lib).max_pool3d(x, 2, ceil_mode=True), rand(2, 2, 5, 6, 4))
    check(lambda lib, x: F(lib).avg_pool3d(x, 2, padding=1), rand(2, 2, 5, 6, 4))
    check(lambda lib, x: F(lib).max_pool2d(x, 2), rand(3, 6, 5))  # unbatched


def test_max_pool_ties_and_nan_like_torch():
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    check(lambda lib, x: F(lib).max_pool2d(x, 2, 1, return_indices=True), x)
    x[0, 0, 1, 1] = np.nan
    check(lambda lib, x: F(lib).max_pool2d(x, 2), x, grad=False)


@pytest.mark.parametrize("osz", [1, 3, (4, 2), (5, 7), (2, None)])
def test_adaptive_pool2d(osz):
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x, osz), rand(2, 3, 9, 8))
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x, osz, True), rand(2, 3, 9, 8))


def test_adaptive_pool_1d_3d():
    check(lambda lib, x: F(lib).adaptive_avg_pool1d(x, 4), rand(2, 3, 11))
    check(lambda lib, x: F(lib).adaptive_max_pool1d(x, 4), rand(2, 3, 11))
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, (2, 3, 3)), rand(2, 2, 5, 6, 4))


def test_max_unpool2d():
    x = rand(2, 3, 9, 8)
    y_t, i_t = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    i_np = i_t.numpy()
    check(lambda lib, y, i: F(lib).max_unpool2d(y, i, 2), y_t.numpy(), i_np)
    check(lambda lib, y, i: F(lib).max_unpool2d(y, i, 2, output_size=(9, 8)), y_t.numpy(), i_np)


def test_lp_pool():
    check(lambda lib, x: F(lib).lp_pool2d(x, 2, 2), rand(2, 3, 6, 6, low=0.1, high=1.0))
    check(lambda lib, x: F(lib).lp_pool1d(x, 3, 2, 1), rand(2, 3, 7, low=0.1, high=1.0))


def test_pool_gradchecks():
    x = ember.tensor(np.random.default_rng(0).standard_normal((1, 2, 5, 5)), requires_grad=True)
    P = ember.ops.pooling
    assert gradcheck(lambda x: P.max_pool2d(x, 2, 1), (x,))
    assert gradgradcheck(lambda x: P.max_pool2d(x, 3, 2, 1), (x,))
    assert gradcheck(lambda x: P.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (x,))
    assert gradgradcheck(lambda x: P.avg_pool2d(x, 3, 2, 1, ceil_mode=True), (x,))
    assert gradgradcheck(lambda x: P.adaptive_avg_pool2d(x, 3), (x,))
    assert gradgradcheck(lambda x: P.adaptive_max_pool2d(x, 3), (x,))


def test_pool_errors():
    same_message(lambda lib, x: F(lib).max_pool2d(x, 3, padding=2), rand(2, 3, 8, 8))
    same_message(lambda lib, x: F(lib).max_pool2d(x, 9), rand(2, 3, 8, 8))
    same_message(lambda lib, x: F(lib).max_pool2d(x, 2), rand(8, 8))
    same_message(lambda lib, x: F(lib).max_pool2d(x, 2, stride=0), rand(2, 3, 8, 8))
    same_message(lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), rand(2, 8))


# Max pooling keeps, per window, the kernel offset of its first maximum, and its backward
# scatters by offset over row blocks on the thread pool. Random geometries (odd sizes, strides,
# padding, dilation, ceil_mode, 1-3 spatial dims) with many ties (values rounded to a few
# levels, relu'd) and tiny thread blocks, against PyTorch: values, indices, gradients.
@pytest.mark.parametrize("seed", range(12))
def test_max_pool_random_geometry_with_ties(seed, monkeypatch):
    monkeypatch.setattr(ember.ops.pooling, "_min_planes", lambda plane, itemsize: 1)
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 4, nd))
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    s = tuple(int(v) for v in rng.integers(1, 4, nd))
    p = tuple(int(rng.integers(0, k[i] // 2 + 1)) for i in range(nd))
    size = tuple(int(v) for v in rng.integers(5, 10, nd))
    x = np.maximum(np.round(rng.uniform(-1, 2, (3, 2) + size) * 2) / 2, 0).astype(np.float32)
    fname = f"max_pool{nd}d"
    kw = {"kernel_size": k, "stride": s, "padding": p, "dilation": d,
          "ceil_mode": bool(rng.integers(0, 2))}
    check(lambda lib, x: getattr(F(lib), fname)(x, return_indices=True, **kw), x)
    check(lambda lib, x: getattr(F(lib), fname)(x, **kw), x)


def test_max_pool_double_backward_like_torch():
    def fn(lib, x):
        y = F(lib).max_pool2d(x, 3, 2, 1)
        (gx,) = lib.autograd.grad((y * y).sum(), (x,), create_graph=True)
        return (gx * gx).sum()

    check(fn, rand(2, 3, 7, 6))


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2}])
def test_max_pool_non_finite_output_gradient_like_torch(kw):
    # non-selected inputs get exactly 0 even where the output gradient is inf or NaN
    g = np.ones((2, 3, 4, 4), dtype=np.float32) if kw["kernel_size"] == 2 else \
        np.ones((2, 3, 3, 3), dtype=np.float32)
    g[0, 0, 0, 0] = np.inf
    g[1, 2, 1, 1] = np.nan
    check(lambda lib, x: F(lib).max_pool2d(x, **kw) * lib.tensor(g), rand(2, 3, 8, 8))
