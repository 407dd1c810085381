"""Convolution: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, ``unfold``/``fold``.

One N-dimensional implementation serves every spatial rank. The forward pass gathers the input
windows with a strided view (im2col) and multiplies by the weight with a single batched GEMM
through BLAS; the input gradient scatters the GEMM result back (col2im, one vectorised strided
add per kernel offset); the weight gradient is another GEMM. Three ops — convolution, transposed
convolution and the weight gradient — are each other's backward, so double backward works.
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import _dtype, _parallel
from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state as _grad_state
from . import _util

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]

_HALF = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _HALF.add(_dtype._BF16_NP)


# ---------------------------------------------------------------------------------------------
# array-level kernels (NumPy or CuPy)
# ---------------------------------------------------------------------------------------------

def as_strided(xp, a, shape, strides):
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def _pad_spatial(xp, x, pads):
    """Zero-pad the spatial dims of (N, C, *S) by ((lo, hi), ...)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    out = xp.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in
                                           zip(x.shape[2:], pads))] = x
    return out


def _windows(xp, xpad, ksize, stride, dilation, out_size):
    """View (N, C, *k, *out) of the windows of padded input (N, C, *Sp)."""
    st = xpad.strides
    nd = len(ksize)
    shape = xpad.shape[:2] + tuple(ksize) + tuple(out_size)
    strides = st[:2] + tuple(st[2 + i] * dilation[i] for i in range(nd)) + \
        tuple(st[2 + i] * stride[i] for i in range(nd))
    return as_strided(xp, xpad, shape, strides)


def _prod(s) -> int:
    n = 1
    for k in s:
        n *= k
    return n


def _compute_dtype(a):
    return np.float32 if a.dtype in _HALF else a.dtype


# Images per block: the im2col columns of one block take about this many bytes, so a block's
# columns are still in cache when the GEMM reads them and the workspace stays small (measured on
# the seeds' CNN conv2, 100x32x26x26 -> 64: 1-2 MB blocks beat whole-batch columns by ~1.4x;
# below 2 images per block the weight-gradient GEMM, K = positions, loses ~20%).
_BLOCK_BYTES = 2 << 20


def _block_rows(n: int, per_image: int, itemsize: int, xp) -> int:
    if xp is not np:
        return n  # (CuPy: one launch per pass; its memory pool makes temporaries cheap)
    return max(1, min(n, _BLOCK_BYTES // max(1, per_image * itemsize)))


def _blocks(n0: int, n1: int, rows: int):
    """[n0, n1) in blocks of at most ``rows`` images, as equal as possible (25 + 7 images
    leaves the small GEMM of the second block far from BLAS's speed; 16 + 16 does not). A
    share that two blocks would hold stays one block: each block costs its own im2col, GEMM
    and output calls (LeNet's conv2 forward at 2 threads, 32 images a thread: 16 + 16 took
    772 us, 32 in one block 661)."""
    if n1 - n0 <= 2 * rows:
        return [(n0, n1)]
    return [(n0 + s, n0 + e) for s, e in _parallel.split(n1 - n0, -(-(n1 - n0) // rows))]


def _geometry(x_shape, w_shape, out_size, groups):
    n, c = x_shape[:2]
    o = w_shape[0]
    ksize = tuple(w_shape[2:])
    return n, c, o, ksize, c // groups, o // groups, _prod(ksize), _prod(out_size)


def _im2col(xp, cols, win_t, groups, s, e):
    """Copy the windows of images [s, e) into ``cols`` (groups, Cg*K, (e-s)*L): rows are
    (channel, kernel offset), columns (image, output position), so one GEMM per group covers
    the whole block."""
    nd = (win_t.ndim - 2) // 2
    blk = win_t[(slice(None),) * (1 + nd) + (slice(s, e),)]
    xp.copyto(cols.reshape(blk.shape), blk)


def _col2im(xp, gxpad, gcols, ksize, stride, dilation, out_size):
    """gxpad[n, c, *(p*s + k*d)] += gcols[c, *k, n, *p] for every kernel offset k (in place)."""
    nd = len(ksize)
    for kidx in itertools.product(*(range(k) for k in ksize)):
        dst = tuple(slice(kidx[i] * dilation[i],
                          kidx[i] * dilation[i] + stride[i] * (out_size[i] - 1) + 1, stride[i])
                    for i in range(nd))
        v = gxpad[(slice(None), slice(None)) + dst]
        src = gcols[(slice(None),) + kidx].swapaxes(0, 1)
        xp.add(v, src, out=v)


# A stride-1 convolution on NumPy uses "wide" columns instead: the padded image is read as one
# flat row per channel, and the window of kernel offset k is then the contiguous slice
# [off(k), off(k) + L) of it, where L spans every output position's flat index (the positions
# between the last output of one row and the first of the next are computed and dropped). Each
# im2col/col2im step is then a few long contiguous copies instead of many short strided ones
# (LeNet's conv2, 14x14 -> 10x10: 10-element inner loops; col2im took 2.3 ms, now 0.7 ms),
# paid for with a GEMM wider by L / positions; above this ratio the strided path is kept.
_WIDE_WASTE = 1.5
# ... and only where output rows are short: the strided copies' inner loops are one output row
# long, which from about this many elements costs no more than the wider GEMM saves (measured:
# LeNet's first conv, 28-wide rows, and the seeds' CNN's first, 26, are faster strided) ...
_WIDE_MAX_ROW = 16
# ... or where the input gradient is wanted and the columns have at least as many rows
# (channels x kernel offsets) as the output has channels: col2im's adds, contiguous in the wide
# layout, then outweigh the output and output-gradient copies, strided in it (forward+backward,
# one thread: the seeds' CNN's conv2 119.9 -> 111.9 ms, 16 -> 32 channels on 28x28 36.7 ->
# 32.3 ms; 1 -> 32 channels with an input gradient 7.7 -> 9.4 ms, hence the channel test).


def _wide_plan(xp, padded, ksize, stride, dilation, out_size, dense_grad=False):
    """(kernel strides and offsets in the flat padded grid, its row strides, L), or None where
    the wide layout does not apply (strided convolutions, CuPy, too much waste, long output
    rows unless ``dense_grad``: an input gradient over columns with more rows than outputs)."""
    positions = _prod(out_size)
    if xp is not np or any(s != 1 for s in stride) or positions == 0:
        return None
    nd = len(ksize)
    sstr = [1] * nd
    for i in range(nd - 2, -1, -1):
        sstr[i] = sstr[i + 1] * padded[i + 1]
    length = 1 + sum((o - 1) * st for o, st in zip(out_size, sstr))
    if length > _WIDE_WASTE * positions or out_size[-1] >= _WIDE_MAX_ROW and not dense_grad:
        return None
    kstr = tuple(dilation[i] * sstr[i] for i in range(nd))
    offsets = [sum(k[i] * kstr[i] for i in range(nd))
               for k in itertools.product(*(range(k) for k in ksize))]
    return kstr, offsets, tuple(sstr), length


def _wide_valid(a, sstr, out_size, writeable=False):
    """View (..., *out_size) of the entries of wide columns ``a`` (..., L) that are outputs."""
    st = a.strides[-1]
    return np.lib.stride_tricks.as_strided(
        a, a.shape[:-1] + tuple(out_size), a.strides[:-1] + tuple(s * st for s in sstr),
        writeable=writeable)


def _im2col_wide(cols, xflat, ksize, kstr, s, e, length):
    """cols (groups, Cg*K, (e-s)*L) <- the windows of images [s, e) of flat input (N, C, P),
    copied in one call from a strided view (one GIL release: the pool threads run blocks of
    these side by side, and 25 small copies per block kept handing the GIL back and forth)."""
    blk = xflat[s:e]
    sn, sc, it = blk.strides
    win = np.lib.stride_tricks.as_strided(
        blk, (blk.shape[1],) + tuple(ksize) + (e - s, length),
        (sc,) + tuple(k * it for k in kstr) + (sn, it), writeable=False)
    np.copyto(cols.reshape(win.shape), win)


def _col2im_wide(gxflat, gcols, offsets, s, e, length):
    """gxflat[s:e] (flat, padded) += the column gradient of images [s, e), offset by offset."""
    g4 = gcols.reshape(gxflat.shape[1], len(offsets), e - s, length)
    for j, off in enumerate(offsets):
        v = gxflat[s:e, :, off:off + length]
        np.add(v, g4[:, j].swapaxes(0, 1), out=v)


# The forward's im2col columns are kept for the weight gradient when they take at most this
# many bytes (LeNet's convolutions: 4-5 MB each), saving the backward's second im2col; larger
# ones (the seeds' CNN's second conv: 66 MB) are rebuilt block by block in the backward.
_KEEP_COLS_BYTES = 16 << 20


def conv_forward(x, w, stride, pads, dilation, groups, b=None, keep=None, input_grad=False):
    """y[n, o, *p] = sum_{c, *k} w[o, c, *k] * xpad[n, g(o)*Cg + c, *(p*s + k*d)] (+ b[o]).

    Blocks of images go through im2col into a reused workspace laid out (channel x offset,
    image x position), then one 2-D GEMM per group, whose (O, image, position) result is written
    transposed into the output with the bias added in the same pass. Blocks run on the thread
    pool with single-threaded BLAS. A dict ``keep`` receives the columns when they are small
    enough to hold until the backward (``conv_backward(kept=...)``); ``input_grad`` says
    whether the backward will compute the input gradient (it picks the layout, see
    ``_wide_plan``).
    """
    xp = array_module(x)
    out_dt = x.dtype
    cdt = _compute_dtype(x)
    if cdt != x.dtype:
        x, w = x.astype(cdt), w.astype(cdt)
        b = None if b is None else b.astype(cdt)
    ksize = w.shape[2:]
    xpad = _pad_spatial(xp, x, pads)
    out_size = tuple((xpad.shape[2 + i] - dilation[i] * (ksize[i] - 1) - 1) // stride[i] + 1
                     for i in range(len(ksize)))
    n, c, o, ksize, cg, og, kk, length = _geometry(x.shape, w.shape, out_size, groups)
    nd = len(ksize)
    plan = _wide_plan(xp, xpad.shape[2:], ksize, stride, dilation, out_size,
                      input_grad and c * kk >= o)
    if plan is not None:
        kstr, _, sstr, width = plan
        xflat = xp.ascontiguousarray(xpad).reshape(n, c, -1)
    else:
        width = length
        # (C, *k, N, *out): the im2col source, blocks taken along N
        win_t = _windows(xp, xpad, ksize, stride, dilation, out_size).transpose(
            (1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, 2 + 2 * nd)))
    wg = w.reshape(groups, og, cg * kk)
    y = xp.empty((n, o) + out_size, dtype=cdt)
    y3 = y.reshape(n, o, length)
    bias = None if b is None else b.astype(cdt, copy=False).reshape((o,) + (1,) * (
        nd if plan is not None else 1))
    rows = _block_rows(n, c * kk * width, x.itemsize, xp)
    per = c * kk * width
    kept = None
    if keep is not None and xp is np and n * per * np.dtype(cdt).itemsize <= _KEEP_COLS_BYTES:
        kept = np.empty(n * per, dtype=cdt)
        keep.update(cols=kept, blocks=set(), wide=plan is not None)

    def run(n0, n1):
        ws = _parallel.workspace(xp)
        for s, e in _blocks(n0, n1, rows):
            if kept is None:
                cols = ws.get("cols", (groups, cg * kk, (e - s) * width), cdt)
            else:
                cols = kept[s * per:e * per].reshape(groups, cg * kk, (e - s) * width)
                keep["blocks"].add((s, e))
            prod = ws.get("prod", (groups, og, (e - s) * width), cdt)
            if plan is not None:
                _im2col_wide(cols, xflat, ksize, kstr, s, e, width)
                xp.matmul(wg, cols, out=prod)
                src = _wide_valid(prod.reshape(o, e - s, width), sstr, out_size).swapaxes(0, 1)
                dst = y[s:e]
            else:
                _im2col(xp, cols, win_t, groups, s, e)
                xp.matmul(wg, cols, out=prod)
                src = prod.reshape(o, e - s, length).swapaxes(0, 1)
                dst = y3[s:e]
            if bias is None:
                xp.copyto(dst, src)
            else:
                xp.add(src, bias, out=dst)

    _run_blocks(xp, run, n, rows, c * kk * width * x.itemsize)
    return y.astype(out_dt, copy=False)


def conv_backward(x, w, gy, stride, pads, dilation, groups, need_x=True, need_w=True,
                  in_size=None, w_shape=None, wide=True, kept=None):
    """Input and weight gradients of conv_forward in one pass over blocks of images.

    Per block the output gradient is transposed once to (O, image x position) and serves both
    GEMMs: the weight gradient (accumulated per thread) and the column gradient, which col2im
    adds into the block's input gradient in place. ``x`` may be None when only the input
    gradient is wanted (``in_size`` then gives its spatial size), ``w`` when only the weight
    gradient is (``w_shape`` then gives its shape). ``wide=False`` forces the strided layout;
    ``kept`` is the forward's ``keep`` dict, whose columns replace the im2col of its blocks.
    """
    xp = array_module(gy)
    out_dt = gy.dtype
    cdt = _compute_dtype(gy)
    if cdt != gy.dtype:
        gy = gy.astype(cdt)
        w = None if w is None else w.astype(cdt)
        x = None if x is None else x.astype(cdt)
    w_shape = tuple(w.shape) if w is not None else tuple(w_shape)
    out_size = tuple(gy.shape[2:])
    ksize = w_shape[2:]
    nd = len(ksize)
    in_size = tuple(x.shape[2:]) if in_size is None else tuple(in_size)
    n = gy.shape[0]
    c = w_shape[1] * groups
    _, _, o, _, cg, og, kk, length = _geometry((n, c), w_shape, out_size, groups)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(in_size, pads))
    has_pad = padded != in_size
    plan = _wide_plan(xp, padded, ksize, stride, dilation, out_size,
                      need_x and c * kk >= o) if wide else None
    if plan is not None and need_x and not np.isfinite(w).all():
        # the dropped columns of the wide layout would carry inf * 0 = NaN into the input
        # gradient; the strided layout never forms them
        plan = None
    width = length if plan is None else plan[3]
    if kept and (kept["wide"] != (plan is not None) or not need_w):
        kept = None  # (the forward's columns are in the other layout)
    per = c * kk * width
    wgt = None if w is None else w.reshape(groups, og, cg * kk).transpose(0, 2, 1)
    gy3 = gy.reshape(n, o, length)
    gx = gxpad = win_t = xflat = gxflat = None
    if need_x:
        gx = xp.empty((n, c) + in_size, dtype=cdt)
        gxpad = xp.zeros((n, c) + padded, dtype=cdt) if has_pad else gx
        gxflat = gxpad.reshape(n, c, -1)
    if need_w:
        xpad = _pad_spatial(xp, x, pads)
        if plan is not None:
            xflat = xp.ascontiguousarray(xpad).reshape(n, c, -1)
        else:
            win_t = _windows(xp, xpad, ksize, stride, dilation, out_size).transpose(
                (1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, 2 + 2 * nd)))
    rows = _block_rows(n, c * kk * width, gy.itemsize, xp)
    partial = []

    def run(n0, n1):
        ws = _parallel.workspace(xp)
        gw = None
        if need_x and not has_pad:
            gx[n0:n1] = 0
        for s, e in _blocks(n0, n1, rows):
            m = (e - s) * width
            gyt = ws.get("gyt", (o, e - s, width), cdt)
            if plan is not None:
                gyt.fill(0)  # the dropped positions must add nothing to either gradient
                xp.copyto(_wide_valid(gyt, plan[2], out_size, writeable=True),
                          gy[s:e].swapaxes(0, 1))
            else:
                xp.copyto(gyt, gy3[s:e].swapaxes(0, 1))
            gyt = gyt.reshape(groups, og, m)
            if need_w:
                if kept and (s, e) in kept["blocks"]:
                    cols = kept["cols"][s * per:e * per].reshape(groups, cg * kk, m)
                else:
                    cols = ws.get("cols", (groups, cg * kk, m), cdt)
                    if plan is not None:
                        _im2col_wide(cols, xflat, ksize, plan[0], s, e, width)
                    else:
                        _im2col(xp, cols, win_t, groups, s, e)
                part = xp.matmul(gyt, cols.transpose(0, 2, 1))
                gw = part if gw is None else xp.add(gw, part, out=gw)
            if need_x:
                gcols = ws.get("gcols", (groups, cg * kk, m), cdt)
                xp.matmul(wgt, gyt, out=gcols)
                if plan is not None:
                    _col2im_wide(gxflat, gcols, plan[1], s, e, width)
                else:
                    _col2im(xp, gxpad[s:e], gcols.reshape((c,) + ksize + (e - s,) + out_size),
                            ksize, stride, dilation, out_size)
        if gw is not None:
            partial.append(gw)

    _run_blocks(xp, run, n, rows, c * kk * width * gy.itemsize)
    gw = None
    if need_w:
        gw = partial[0]
        for p in partial[1:]:
            gw = gw + p
        if plan is not None and not np.isfinite(gw).all():
            # an inf/NaN of the input met a dropped (zero) position: redo the weight gradient
            # on the strided layout, which pairs each input only with real outputs
            gw = conv_backward(x, None, gy, stride, pads, dilation, groups, need_x=False,
                               in_size=in_size, w_shape=w_shape, wide=False)[1]
        gw = gw.reshape((o, cg) + ksize).astype(out_dt, copy=False)
    if need_x:
        if has_pad:
            crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(in_size, pads))
            xp.copyto(gx, gxpad[(slice(None), slice(None)) + crop])
        gx = gx.astype(out_dt, copy=False)
    return gx, gw


def conv_input_grad(gy, w, in_size, stride, pads, dilation, groups):
    """Gradient of conv_forward w.r.t. its input (= transposed convolution of gy by w)."""
    return conv_backward(None, w, gy, stride, pads, dilation, groups, need_w=False,
                         in_size=in_size)[0]


def conv_weight_grad(x, gy, ksize, stride, pads, dilation, groups):
    """Gradient of conv_forward w.r.t. its weight."""
    w_shape = (gy.shape[1], x.shape[1] // groups) + tuple(ksize)
    return conv_backward(x, None, gy, stride, pads, dilation, groups, need_x=False,
                         w_shape=w_shape)[1]


# Each thread gets at least this many bytes of columns: a block boundary (``rows``) is about the
# cache, not about whether a second thread pays off, which it does from a few hundred KB of
# work (LeNet's 64-image batches are one cache block yet split well over two threads).
_MIN_THREAD_BYTES = 1 << 18


def _run_blocks(xp, run, n, rows, per_image_bytes):
    if xp is np:
        least = max(1, min(rows, _MIN_THREAD_BYTES // max(1, per_image_bytes)))
        _parallel.parallel_for(run, n, min_items=least)
    else:
        run(0, n)


# ---------------------------------------------------------------------------------------------
# differentiable ops
# ---------------------------------------------------------------------------------------------

def _bias_grad(g: Tensor) -> Tensor:
    """Sum of ``g`` (N, O, *S) over all dims but 1."""
    a = g._data
    if not _grad_state.enabled and type(a) is np.ndarray and a.flags.c_contiguous \
            and a.dtype in (np.float32, np.float64) and a.ndim > 2 and a.size:
        # no graph wanted: the spatial sums as one matrix-vector product with ones, then the
        # batch sum. NumPy's sum over axes (0, 2, 3) runs 2-6x slower (the seeds' CNN's
        # (100, 64, 24, 24) gradient: 0.91 ms against 0.15), at the same float32 accuracy.
        n, o = a.shape[:2]
        per = a.reshape(n * o, -1) @ np.ones(a.size // (n * o), dtype=a.dtype)
        return Tensor._make(per.reshape(n, o).sum(axis=0))
    from . import reduction

    return reduction.sum(g, (0,) + tuple(range(2, g.ndim)))


def _add_bias(y, b):
    return y + b.reshape((1, -1) + (1,) * (y.ndim - 2))


class Convolution(Op, name="ConvolutionBackward0"):
    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        e = ctx._edges
        keep = {} if e and e[1] else None
        y = conv_forward(x, w, stride, pads, dilation, groups, b, keep=keep,
                         input_grad=bool(e and e[0]))
        if e:
            saved = (x if e[1] else None, w if e[0] else None)
            if keep:  # the columns live (and are freed) with the saved tensors
                saved += (Tensor._make(keep.pop("cols")),)
                ctx.kept = keep
            ctx.save_for_backward(*saved)
            ctx.in_size = x.shape[2:]
            ctx.w_shape = w.shape
            ctx.args = (stride, pads, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w, *cols = ctx.saved_tensors
        e = ctx._edges
        stride, pads, dilation, groups = ctx.args
        gb = _bias_grad(g) if len(e) > 2 and e[2] else None
        if not _grad_state.enabled:
            # no graph of this backward is wanted (no create_graph): both gradients in one pass
            # sharing the transposed output gradient; otherwise the differentiable ops below
            gx, gw = conv_backward(None if x is None else x._data,
                                   None if w is None else w._data, g._data, stride, pads,
                                   dilation, groups, need_x=bool(e[0]), need_w=bool(e[1]),
                                   in_size=ctx.in_size, w_shape=ctx.w_shape,
                                   kept=dict(ctx.kept, cols=cols[0]._data) if cols else None)
            return (None if gx is None else Tensor._make(gx),
                    None if gw is None else Tensor._make(gw), gb)
        gx = ConvTranspose.apply(g, w, ctx.in_size, stride, pads, dilation, groups) \
            if e[0] else None
        gw = ConvWeight.apply(x, g, ctx.w_shape[2:], stride, pads, dilation, groups) \
            if e[1] else None
        return gx, gw, gb


class ConvTranspose(Op, name="ConvolutionBackward0"):
    """Transposed convolution producing spatial size ``out_size`` (also conv's input grad)."""

    @staticmethod
    def forward(ctx, x, w, out_size, stride, pads, dilation, groups, b=None):
        e = ctx._edges
        if e:
            ctx.save_for_backward(x if e[1] else None, w if e[0] else None)
            ctx.ksize = w.shape[2:]
            ctx.args = (stride, pads, dilation, groups)
        y = conv_input_grad(x, w, out_size, stride, pads, dilation, groups)
        return y if b is None else _add_bias(y, b.astype(y.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        e = ctx._edges
        stride, pads, dilation, groups = ctx.args
        gx = Convolution.apply(g, w, None, stride, pads, dilation, groups) if e[0] else None
        gw = ConvWeight.apply(g, x, ctx.ksize, stride, pads, dilation, groups) if e[1] else None
        gb = _bias_grad(g) if len(e) > 7 and e[7] else None
        return gx, gw, None, None, None, None, None, gb


class ConvWeight(Op, name="ConvolutionBackwardBackward0"):
    """Weight gradient of a convolution as a function of (input, output gradient)."""

    @staticmethod
    def forward(ctx, x, gy, ksize, stride, pads, dilation, groups):
        e = ctx._edges
        if e:
            ctx.save_for_backward(x if e[1] else None, gy if e[0] else None)
            ctx.in_size = x.shape[2:]
            ctx.args = (stride, pads, dilation, groups)
        return conv_weight_grad(x, gy, ksize, stride, pads, dilation, groups)

    @staticmethod
    def backward(ctx, gw):
        x, gy = ctx.saved_tensors
        e = ctx._edges
        stride, pads, dilation, groups = ctx.args
        g_x = ConvTranspose.apply(gy, gw, ctx.in_size, stride, pads, dilation, groups) \
            if e[0] else None
        g_gy = Convolution.apply(x, gw, None, stride, pads, dilation, groups) if e[1] else None
        return g_x, g_gy


# ---------------------------------------------------------------------------------------------
# argument handling with PyTorch's checks
# ---------------------------------------------------------------------------------------------

def _tuple(v, nd: int, name: str) -> tuple:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return tuple(int(v[0]) for _ in range(nd))
        if len(v) != nd:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return tuple(int(s) for s in v)
    return (int(v),) * nd


def _check_input(x, nd: int, fname: str):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                        f"({type(x).__name__}, ...)")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{fname}, but got input of size: {list(x.shape)}")


def _check_dtypes(x, w, b):
    if x._data.dtype != w._data.dtype:
        raise RuntimeError(f"Input type ({_tname(x)}) and weight type ({_tname(w)}) should be "
                           "the same")
    if b is not None and b._data.dtype != x._data.dtype:
        raise RuntimeError(f"Input type ({_tname(x)}) and bias type ({_tname(b)}) should be the "
                           "same")
    _util.check_same_device(x, w, b)


def _tname(t: Tensor) -> str:
    from .._tensor import legacy_type_name

    return legacy_type_name(t)


def _padding(padding, nd, ksize, dilation, stride, fname):
    """(lo, hi) per spatial dim from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for i in range(nd):
                total = dilation[i] * (ksize[i] - 1)
                lo = total // 2
                pads.append((lo, total - lo))
            return tuple(pads)
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    p = _tuple(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _convnd(nd, input, weight, bias, stride, padding, dilation, groups, fname):
    _check_input(input, nd, fname)
    batched = input.ndim == nd + 2
    from . import shape as _shape

    x = input if batched else _shape.unsqueeze(input, 0)
    if weight.ndim != nd + 2:
        # PyTorch infers the spatial rank from the weight and complains about the stride
        raise RuntimeError(f"expected stride to be a single integer value or a list of "
                           f"{weight.ndim - 2} values to match the convolution dimensions, but "
                           f"got stride={list(_tuple(stride, nd, 'stride'))}")
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    ws = weight._data.shape
    ksize = ws[2:]
    xs = x._data.shape
    if ws[0] % groups:
        raise RuntimeError("Given groups=%d, expected weight to be divisible by %d at dimension "
                           "0, but got weight of size %s instead" % (groups, groups, list(ws)))
    if xs[1] != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(ws)}, expected "
                           f"input{list(xs)} to have {ws[1] * groups} channels, but got "
                           f"{xs[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias._data.shape[0] != ws[0]):
        raise RuntimeError(f"Given weight of size {list(ws)}, expected bias to be 1-dimensional "
                           f"with {ws[0]} elements, but got bias of size {list(bias.shape)} "
                           "instead")
    pads = _padding(padding, nd, ksize, dilation, stride, fname)
    padded = tuple(xs[2 + i] + pads[i][0] + pads[i][1] for i in range(nd))
    eff = tuple(dilation[i] * (ksize[i] - 1) + 1 for i in range(nd))
    if any(p < k for p, k in zip(padded, eff)):
        raise RuntimeError(
            "Calculated padded input size per channel: (" + " x ".join(map(str, padded)) +
            "). Kernel size: (" + " x ".join(map(str, eff)) + "). Kernel size can't be greater "
            "than actual input size")
    _check_dtypes(x, weight, bias)
    y = Convolution.apply(x, weight, bias, stride, pads, dilation, groups)
    return y if batched else _shape.squeeze(y, 0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """``torch.nn.functional.conv1d``."""
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """``torch.nn.functional.conv2d`` (im2col + one batched GEMM; see the module docstring)."""
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """``torch.nn.functional.conv3d``."""
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups, "conv3d")


def _conv_transposend(nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation, fname):
    _check_input(input, nd, fname)
    from . import shape as _shape

    batched = input.ndim == nd + 2
    x = input if batched else _shape.unsqueeze(input, 0)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    pad = _tuple(padding, nd, "padding")
    out_pad = _tuple(output_padding, nd, "output_padding")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(v < 0 for v in pad):
        raise RuntimeError("negative padding is not supported")
    for i in range(nd):
        if out_pad[i] >= stride[i] and out_pad[i] >= dilation[i]:
            names = ["height", "width"] if nd == 2 else [f"{i}" for i in range(nd)]
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got " +
                " ".join(f"output_padding_{n}: {v}" for n, v in zip(names, out_pad)) + " " +
                " ".join(f"stride_{n}: {v}" for n, v in zip(names, stride)) + " " +
                " ".join(f"dilation_{n}: {v}" for n, v in zip(names, dilation)))
    ws = weight._data.shape
    xs = x._data.shape
    if weight.ndim != nd + 2:
        raise RuntimeError(f"weight should have {nd + 2} dimensions for {fname}")
    if xs[1] != ws[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected "
                           f"input{list(xs)} to have {ws[0]} channels, but got {xs[1]} channels "
                           "instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(ws)} instead")
    c_out = ws[1] * groups
    if bias is not None and (bias.ndim != 1 or bias._data.shape[0] != c_out):
        raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected bias to be "
                           f"1-dimensional with {c_out} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    ksize = ws[2:]
    out_size = tuple((xs[2 + i] - 1) * stride[i] - 2 * pad[i] + dilation[i] * (ksize[i] - 1)
                     + out_pad[i] + 1 for i in range(nd))
    if any(s <= 0 for s in out_size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, xs[2:]))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, out_size))}). Output size is too small")
    _check_dtypes(x, weight, bias)
    pads = tuple((p, p) for p in pad)
    # Transposed conv = input gradient of a conv with the same weight; the conv's weight layout
    # (O, C/g, k) matches the transposed weight (C_in, C_out/g, k) with O = C_in.
    y = ConvTranspose.apply(x, weight, out_size, stride, pads, dilation, groups, bias)
    return y if batched else _shape.squeeze(y, 0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """``torch.nn.functional.conv_transpose1d``."""
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """``torch.nn.functional.conv_transpose2d``."""
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """``torch.nn.functional.conv_transpose3d``."""
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose3d")


# ---------------------------------------------------------------------------------------------
# unfold / fold (im2col and col2im as ops)
# ---------------------------------------------------------------------------------------------

class Unfold(Op, name="Im2ColBackward0"):
    @staticmethod
    def forward(ctx, x, ksize, dilation, pads, stride):
        xp = array_module(x)
        ctx.args = (x.shape[2:], ksize, dilation, pads, stride)
        xpad = _pad_spatial(xp, x, pads)
        out_size = tuple((xpad.shape[2 + i] - dilation[i] * (ksize[i] - 1) - 1) // stride[i] + 1
                         for i in range(2))
        n, c = x.shape[:2]
        return _windows(xp, xpad, ksize, stride, dilation, out_size).reshape(
            n, c * _prod(ksize), _prod(out_size))

    @staticmethod
    def backward(ctx, g):
        in_size, ksize, dilation, pads, stride = ctx.args
        return Fold.apply(g, in_size, ksize, dilation, pads, stride)


class Fold(Op, name="Col2ImBackward0"):
    @staticmethod
    def forward(ctx, cols, out_size, ksize, dilation, pads, stride):
        xp = array_module(cols)
        ctx.args = (ksize, dilation, pads, stride)
        n = cols.shape[0]
        kk = _prod(ksize)
        c = cols.shape[1] // kk
        padded = tuple(out_size[i] + pads[i][0] + pads[i][1] for i in range(2))
        blocks = tuple((padded[i] - dilation[i] * (ksize[i] - 1) - 1) // stride[i] + 1
                       for i in range(2))
        cols = cols.reshape((n, c) + tuple(ksize) + blocks)
        out = xp.zeros((n, c) + padded, dtype=cols.dtype)
        for kidx in itertools.product(*(range(k) for k in ksize)):
            dst = tuple(slice(kidx[i] * dilation[i],
                              kidx[i] * dilation[i] + stride[i] * (blocks[i] - 1) + 1, stride[i])
                        for i in range(2))
            out[(slice(None), slice(None)) + dst] += cols[(slice(None), slice(None)) + kidx]
        crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(out_size, pads))
        return xp.ascontiguousarray(out[(slice(None), slice(None)) + crop])

    @staticmethod
    def backward(ctx, g):
        ksize, dilation, pads, stride = ctx.args
        return Unfold.apply(g, ksize, dilation, pads, stride)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """``torch.nn.functional.unfold``: sliding blocks of a 4-D (or 3-D) input as columns."""
    from . import shape as _shape

    shape = list(input.shape)
    if len(shape) == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    for d in (1, 2):  # PyTorch reads sizes 1 and 2 before checking the rank
        _util.wrap_dim(d, len(shape))
    if len(shape) not in (3, 4) or 0 in shape[len(shape) - 3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: {shape}")
    batched = input.ndim == 4
    x = input if batched else _shape.unsqueeze(input, 0)
    ks = _tuple(kernel_size, 2, "kernel_size")
    dl = _tuple(dilation, 2, "dilation")
    pd = _tuple(padding, 2, "padding")
    st = _tuple(stride, 2, "stride")
    pads = tuple((p, p) for p in pd)
    for i in range(2):
        blocks = (x.shape[2 + i] + 2 * pd[i] - dl[i] * (ks[i] - 1) - 1) // st[i] + 1
        if blocks < 1:
            raise RuntimeError(
                f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), "
                f"kernel_size=({ks[0]}, {ks[1]}), dilation=({dl[0]}, {dl[1]}), "
                f"padding=({pd[0]}, {pd[1]}), calculated shape of the array of sliding blocks as "
                "non-positive")
    y = Unfold.apply(x, ks, dl, pads, st)
    return y if batched else _shape.squeeze(y, 0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """``torch.nn.functional.fold``: sum sliding-block columns back into an image."""
    from . import shape as _shape

    shape = list(input.shape)
    if len(shape) not in (2, 3) or 0 in shape[len(shape) - 2:]:
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: {shape}")
    batched = input.ndim == 3
    x = input if batched else _shape.unsqueeze(input, 0)
    os_ = _tuple(output_size, 2, "output_size")
    ks = _tuple(kernel_size, 2, "kernel_size")
    dl = _tuple(dilation, 2, "dilation")
    pd = _tuple(padding, 2, "padding")
    st = _tuple(stride, 2, "stride")
    kk = ks[0] * ks[1]
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size=({ks[0]}, {ks[1]}).")
    blocks = [(os_[i] + 2 * pd[i] - dl[i] * (ks[i] - 1) - 1) // st[i] + 1 for i in range(2)]
    if blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(
            f"Given output_size=({os_[0]}, {os_[1]}), kernel_size=({ks[0]}, {ks[1]}), "
            f"dilation=({dl[0]}, {dl[1]}), padding=({pd[0]}, {pd[1]}), stride=({st[0]}, "
            f"{st[1]}), expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={x.shape[2]}.")
    y = Fold.apply(x, os_, ks, dl, tuple((p, p) for p in pd), st)
    return y if batched else _shape.squeeze(y, 0)


__all__ += ["unfold", "fold"]
