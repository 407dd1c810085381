import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from tests.oracle import Const, Transposed, check, check_raises, rand, same_message


def F(lib):
    return lib.nn.functional


@pytest.mark.parametrize("kw", [
    {}, {"stride": 2}, {"padding": 1}, {"padding": (2, 1), "dilation": (2, 1)},
    {"padding": "same"}, {"padding": "same", "dilation": 2}, {"padding": "valid"},
    {"stride": (2, 3), "padding": 1, "dilation": 2},
])
def test_conv2d(kw):
    check(lambda lib, x, w, b: F(lib).conv2d(x, w, b, **kw), rand(2, 4, 9, 8), rand(6, 4, 3, 2),
          rand(6), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kw", [{"groups": 2}, {"groups": 4, "stride": 2, "padding": 1}])
def test_conv2d_groups(kw):
    g = kw["groups"]
    check(lambda lib, x, w: F(lib).conv2d(x, w, **kw), rand(2, 4, 7, 7), rand(8, 4 // g, 3, 3),
          atol=1e-4, rtol=1e-4)


def test_conv2d_unbatched_noncontiguous_and_no_bias():
    check(lambda lib, x, w: F(lib).conv2d(x, w, padding=1), Transposed(rand(3, 6, 5)),
          rand(2, 3, 3, 3), atol=1e-4, rtol=1e-4)


def test_conv1d_and_conv3d():
    check(lambda lib, x, w, b: F(lib).conv1d(x, w, b, stride=2, padding=1), rand(2, 4, 11),
          rand(6, 4, 3), rand(6), atol=1e-4, rtol=1e-4)
    check(lambda lib, x, w: F(lib).conv1d(x, w, padding="same", dilation=2), rand(2, 4, 11),
          rand(6, 4, 4), atol=1e-4, rtol=1e-4)
    check(lambda lib, x, w: F(lib).conv3d(x, w, padding=1, stride=(1, 2, 1)),
          rand(2, 2, 5, 6, 4), rand(3, 2, 2, 3, 2), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kw", [
    {}, {"stride": 2}, {"stride": 2, "output_padding": 1, "padding": 1},
    {"groups": 2, "stride": 2, "dilation": 2}, {"stride": 3, "output_padding": 2},
])
def test_conv_transpose2d(kw):
    g = kw.get("groups", 1)
    check(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, **kw), rand(2, 4, 5, 6),
          rand(4, 3, 3, 3), rand(3 * g), atol=1e-4, rtol=1e-4)


def test_conv_transpose1d_3d():
    check(lambda lib, x, w: F(lib).conv_transpose1d(x, w, stride=2, padding=1), rand(2, 3, 7),
          rand(3, 5, 4), atol=1e-4, rtol=1e-4)
    check(lambda lib, x, w: F(lib).conv_transpose3d(x, w, stride=2), rand(1, 2, 3, 4, 2),
          rand(2, 3, 2, 2, 3), atol=1e-4, rtol=1e-4)


def test_conv_float64_and_int():
    check(lambda lib, x, w: F(lib).conv2d(x, w, padding=1), rand(2, 3, 5, 5, dtype=np.float64),
          rand(4, 3, 3, 3, dtype=np.float64))
    check(lambda lib, x, w: F(lib).conv2d(x, w), Const(rand(1, 2, 4, 4, dtype=np.int64)),
          Const(rand(3, 2, 2, 2, dtype=np.int64)), grad=False)


def test_unfold_fold():
    check(lambda lib, x: F(lib).unfold(x, (2, 3), padding=1, stride=2), rand(2, 4, 9, 8))
    check(lambda lib, u: F(lib).fold(u, (9, 8), (2, 3), padding=1, stride=2), rand(2, 24, 20))
    check(lambda lib, x: F(lib).unfold(x, 2, dilation=2), rand(3, 6, 6))


def test_conv_gradcheck_and_double_backward():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((1, 2, 5, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 1, 2, 2)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(2), requires_grad=True)
    f = lambda x, w, b: ember.ops.conv.conv2d(x, w, b, stride=2, padding=1, groups=2)  # noqa: E731
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    wt = ember.tensor(rng.standard_normal((2, 3, 3, 2)), requires_grad=True)
    g = lambda x, w: ember.ops.conv.conv_transpose2d(x, w, stride=2, padding=1,  # noqa: E731
                                                      output_padding=1)
    assert gradgradcheck(g, (x, wt))


def test_conv_errors():
    c2 = lambda lib: F(lib).conv2d  # noqa: E731
    same_message(lambda lib, x, w: c2(lib)(x, w), rand(8, 8), rand(4, 3, 3, 3))
    same_message(lambda lib, x, w: c2(lib)(x, w), rand(2, 1, 8, 8), rand(4, 3, 3, 3))
    same_message(lambda lib, x, w: c2(lib)(x, w, padding="same", stride=2), rand(2, 3, 8, 8),
                 rand(4, 3, 3, 3))
    same_message(lambda lib, x, w: c2(lib)(x, w), rand(2, 3, 8, 8), rand(4, 3, 9, 9))
    same_message(lambda lib, x, w: c2(lib)(x, w, groups=2), rand(2, 3, 8, 8), rand(4, 3, 3, 3))
    same_message(lambda lib, x, w, b: c2(lib)(x, w, b), rand(2, 3, 8, 8), rand(4, 3, 3, 3),
                 rand(3))
    same_message(lambda lib, x, w: c2(lib)(x, w, stride=0), rand(2, 3, 8, 8), rand(4, 3, 3, 3))
    same_message(lambda lib, x, w: c2(lib)(x, w, padding=-1), rand(2, 3, 8, 8),
                 rand(4, 3, 3, 3))
    same_message(lambda lib, x, w: c2(lib)(x, w, padding="foo"), rand(2, 3, 8, 8),
                 rand(4, 3, 3, 3))
    same_message(lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=2, output_padding=2),
                 rand(2, 3, 8, 8), rand(3, 4, 3, 3))
    same_message(lambda lib, x, w: F(lib).conv_transpose2d(x, w), rand(2, 3, 8, 8),
                 rand(2, 4, 3, 3))
    check_raises(lambda lib, x, w: c2(lib)(x, w), rand(2, 3, 8, 8, dtype=np.float64),
                 rand(4, 3, 3, 3))


# The kernels work on blocks of images (im2col into a per-thread workspace, one GEMM per
# group, col2im in place) spread over the thread pool. Tiny blocks force many blocks, both
# threads and workspace reuse across calls of different sizes; shapes are random with odd
# sizes, strides, padding, dilation and groups.
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("block_bytes", [1, 1 << 20])
def test_conv2d_blocked_random_shapes(seed, block_bytes, monkeypatch):
    monkeypatch.setattr(ember.ops.conv, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(seed)
    g = int(rng.choice([1, 1, 2, 3]))
    c, o = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    kw = {"stride": tuple(int(v) for v in rng.integers(1, 3, 2)),
          "padding": tuple(int(v) for v in rng.integers(0, 3, 2)),
          "dilation": tuple(int(v) for v in rng.integers(1, 3, 2)), "groups": g}
    n = int(rng.integers(1, 6))
    hw = tuple(int(v) for v in rng.integers(7, 12, 2))
    check(lambda lib, x, w, b: F(lib).conv2d(x, w, b, **kw), rand(n, c, *hw, rng=rng),
          rand(o, c // g, *k, rng=rng), rand(o, rng=rng), atol=1e-4, rtol=1e-4)
    check(lambda lib, x, w: F(lib).conv_transpose2d(x, w, **kw), rand(n, c, *hw, rng=rng),
          rand(c, o // g, *k, rng=rng), atol=1e-4, rtol=1e-4)


def test_blocks_cover_the_share_in_equal_blocks():
    from ember.ops.conv import _blocks

    for n0 in (0, 5):
        for size in range(1, 40):
            for rows in range(1, 12):
                blocks = _blocks(n0, n0 + size, rows)
                assert blocks[0][0] == n0 and blocks[-1][1] == n0 + size
                assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
                lens = [e - s for s, e in blocks]
                if size <= 2 * rows:  # what two blocks would hold stays one block
                    assert lens == [size]
                else:
                    assert max(lens) <= rows and max(lens) - min(lens) <= 1


def test_conv_double_backward_matches_torch_with_blocks(monkeypatch):
    # create_graph takes the differentiable ops instead of the one-pass backward
    monkeypatch.setattr(ember.ops.conv, "_BLOCK_BYTES", 1)

    def fn(lib, x, w):
        y = F(lib).conv2d(x, w, padding=1, stride=2)
        gx, gw = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        return gx.sum() + (gw * gw).sum()

    check(fn, rand(3, 2, 7, 6), rand(4, 2, 3, 3), atol=1e-4, rtol=1e-4)


# Stride-1 convolutions with short output rows take the "wide" column layout (flat windows,
# dropped positions between rows). It must agree with the strided layout on random shapes with
# padding, dilation, groups, every spatial rank and tiny blocks, and with PyTorch.
@pytest.mark.parametrize("seed", range(8))
def test_conv_wide_layout_matches_strided(seed, monkeypatch):
    conv = ember.ops.conv
    monkeypatch.setattr(conv, "_BLOCK_BYTES", 1 if seed % 2 else 1 << 20)
    rng = np.random.default_rng(100 + seed)
    nd = 1 + seed % 3
    while True:  # random geometry until one the wide layout takes (not too wasteful)
        g = int(rng.choice([1, 2]))
        c, o = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 4))
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        dil = tuple(int(v) for v in rng.integers(1, 3, nd))
        pads = tuple((int(p), int(p)) for p in rng.integers(0, 3, nd))
        size = tuple(int(v) for v in rng.integers(7, 11, nd))
        padded = tuple(s + 2 * p for s, (p, _) in zip(size, pads))
        out = tuple(p - d * (kk - 1) for p, d, kk in zip(padded, dil, k))
        if conv._wide_plan(np, padded, k, (1,) * nd, dil, out) is not None:
            break
    n = int(rng.integers(1, 6))
    x, w = rand(n, c, *size, rng=rng), rand(o, c // g, *k, rng=rng)
    b = rand(o, rng=rng)
    args = ((1,) * nd, pads, dil, g)
    y = conv.conv_forward(x, w, *args, b)
    gy = rand(*y.shape, rng=rng)
    gx, gw = conv.conv_backward(x, w, gy, *args)
    sx, sw = conv.conv_backward(x, w, gy, *args, wide=False)
    monkeypatch.setattr(conv, "_WIDE_MAX_ROW", 0)  # the strided forward
    np.testing.assert_allclose(y, conv.conv_forward(x, w, *args, b), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx, sx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gw, sw, rtol=1e-5, atol=1e-5)
    monkeypatch.undo()
    fn = {1: "conv1d", 2: "conv2d", 3: "conv3d"}[nd]
    check(lambda lib, x, w, b: getattr(F(lib), fn)(x, w, b, padding=tuple(p for p, _ in pads),
                                                   dilation=dil, groups=g),
          x, w, b, atol=1e-4, rtol=1e-4)


def test_conv_wide_layout_long_rows_with_input_gradient(monkeypatch):
    # long output rows take the wide layout only when the input gradient is wanted and the
    # columns have at least as many rows as there are output channels
    conv = ember.ops.conv
    plan = conv._wide_plan
    assert plan(np, (22, 22), (3, 3), (1, 1), (1, 1), (20, 20)) is None
    assert plan(np, (22, 22), (3, 3), (1, 1), (1, 1), (20, 20), dense_grad=True) is not None
    rng = np.random.default_rng(7)
    for c, o, g, pad in ((4, 6, 1, 1), (6, 4, 2, 0), (3, 27, 1, 2)):
        monkeypatch.setattr(conv, "_BLOCK_BYTES", 1 if o % 2 else 1 << 20)
        x, w, b = rand(3, c, 19, 21, rng=rng), rand(o, c // g, 3, 3, rng=rng), rand(o, rng=rng)
        args = ((1, 1), ((pad, pad), (pad, pad)), (1, 1), g)
        y = conv.conv_forward(x, w, *args, b, input_grad=True)
        gy = rand(*y.shape, rng=rng)
        gx, gw = conv.conv_backward(x, w, gy, *args)
        sx, sw = conv.conv_backward(x, w, gy, *args, wide=False)
        np.testing.assert_allclose(y, conv.conv_forward(x, w, *args, b), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(gx, sx, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(gw, sw, rtol=1e-5, atol=1e-5)
        check(lambda lib, x, w, b, pad=pad, g=g: F(lib).conv2d(x, w, b, padding=pad, groups=g),
              x, w, b, atol=1e-4, rtol=1e-4)


def test_conv_wide_layout_nonfinite_input():
    # an inf in the input meets the dropped positions' zero gradients in the wide layout
    # (inf * 0 = NaN); the weight gradient is then redone on the strided layout, so NaNs
    # appear only where PyTorch has them
    x = rand(2, 2, 9, 9)
    x[0, 1, 4, 8] = np.inf
    x[1, 0, 0, 3] = np.nan
    w = rand(3, 2, 3, 3)
    check(lambda lib, x, w: F(lib).conv2d(x, w, padding=1), x, w, atol=1e-4, rtol=1e-4)
    wi = w.copy()
    wi[1, 0, 2, 2] = -np.inf
    check(lambda lib, x, w: F(lib).conv2d(x, w), rand(2, 2, 9, 9), wi, atol=1e-4, rtol=1e-4)


def test_conv_kept_columns_across_thread_counts_and_retain_graph(monkeypatch):
    # the forward keeps its (small) im2col columns for the weight gradient; a backward that
    # cuts the batch into other blocks (another thread count, other block size) rebuilds the
    # missing ones, and a second backward through a retained graph reuses them
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    xa, wa = rand(7, 3, 9, 9, rng=rng), rand(4, 3, 3, 3, rng=rng)
    tx, tw = torch.tensor(xa), torch.tensor(wa, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, padding=1).square().sum().backward()
    n = ember.get_num_threads()
    for fwd_threads, bwd_threads, bwd_block in ((3, 1, None), (1, 3, None), (2, 2, 1)):
        w = ember.tensor(wa, requires_grad=True)
        monkeypatch.setattr(ember.ops.conv, "_MIN_THREAD_BYTES", 1)  # thread even 7 images
        try:
            ember.set_num_threads(fwd_threads)
            y = F(ember).conv2d(ember.tensor(xa), w, padding=1)
            assert y.grad_fn.kept["blocks"]
            ember.set_num_threads(bwd_threads)
            if bwd_block:
                monkeypatch.setattr(ember.ops.conv, "_BLOCK_BYTES", bwd_block)
            loss = y.square().sum()
            loss.backward(retain_graph=True)
            np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)
            w.grad = None
            loss.backward()
            np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)
            assert y.grad_fn._saved is None  # the columns went with the saved tensors
        finally:
            ember.set_num_threads(n)
            monkeypatch.undo()
