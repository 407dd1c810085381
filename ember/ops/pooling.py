"""Pooling: max/avg (1-3d), adaptive avg/max, LP pooling and max-unpooling.

Windows are visited one kernel offset at a time: each step is one vectorised pass over all
output positions (a strided slice of the padded input), so work is O(K * output) with no copy of
the K-times-larger window tensor. Max pooling keeps the first maximum of a window (PyTorch's CPU
rule) and returns flat indices into each input plane, as PyTorch does.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Op
from . import _util
from .indexing import index_add_at

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "lp_pool1d",
           "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _tuple(v, nd, name):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]),) * nd
        if len(v) != nd:
            raise RuntimeError(f"{name} must either be a single int, or a tuple of {nd} ints")
        return tuple(int(s) for s in v)
    return (int(v),) * nd


def _out_size(size, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    o = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1  # the last window must start inside the input or its left padding
    return o


def _lowest(dtype):
    if dtype.kind == "f" or dtype == _dtype._BF16_NP:
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min


def _pad(xp, x, pads_lo, pads_hi, fill):
    if not any(pads_lo) and not any(pads_hi):
        return x
    shape = x.shape[:2] + tuple(s + lo + hi for s, lo, hi in zip(x.shape[2:], pads_lo, pads_hi))
    out = xp.full(shape, fill, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, lo in
                                           zip(x.shape[2:], pads_lo))] = x
    return out


def _geometry(in_size, k, s, p, d, ceil_mode):
    out = tuple(_out_size(in_size[i], k[i], s[i], p[i], d[i], ceil_mode)
                for i in range(len(k)))
    # right padding so that every window (ceil_mode may reach past the input) fits
    hi = tuple(max(0, (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - in_size[i] - p[i])
               for i in range(len(k)))
    return out, hi


def _offset_slices(kidx, d, s, out):
    return (slice(None), slice(None)) + tuple(
        slice(kidx[i] * d[i], kidx[i] * d[i] + s[i] * (out[i] - 1) + 1, s[i])
        for i in range(len(kidx)))


def max_pool_forward(x, k, s, p, d, ceil_mode):
    """Values and flat per-plane input indices of max pooling over (N, C, *S)."""
    xp = array_module(x)
    in_size = x.shape[2:]
    out, hi = _geometry(in_size, k, s, p, d, ceil_mode)
    xpad = _pad(xp, x, p, hi, _lowest(x.dtype))
    vals = None
    best = None
    for n, kidx in enumerate(itertools.product(*(range(kk) for kk in k))):
        cur = xpad[_offset_slices(kidx, d, s, out)]
        if vals is None:
            vals = cur.copy()
            best = xp.zeros(cur.shape, dtype=np.int64)
            continue
        take = (cur > vals) | (cur != cur)  # strictly greater, or NaN (PyTorch propagates NaN)
        xp.copyto(vals, cur, where=take)
        xp.copyto(best, n, where=take)
    # flat index in the unpadded plane: window origin + the chosen kernel offset
    plane_strides = [1] * len(in_size)
    for i in range(len(in_size) - 2, -1, -1):
        plane_strides[i] = plane_strides[i + 1] * in_size[i + 1]
    origin = 0
    for i in range(len(k)):
        coord = xp.arange(out[i], dtype=np.int64) * s[i] - p[i]
        shape = [1] * len(k)
        shape[i] = out[i]
        origin = origin + coord.reshape(shape) * plane_strides[i]
    offsets = xp.asarray([sum(kidx[i] * d[i] * plane_strides[i] for i in range(len(k)))
                          for kidx in itertools.product(*(range(kk) for kk in k))],
                         dtype=np.int64)
    indices = origin + offsets[best]
    return vals, indices


class ScatterPlanes(Op, name="MaxPool2DWithIndicesBackward0"):
    """Scatter ``g`` (N, C, *out) into zeros (N, C, *in) at flat per-plane ``indices``."""

    @staticmethod
    def forward(ctx, g, indices, in_size, unique):
        xp = array_module(g)
        ctx.indices = indices
        n, c = g.shape[:2]
        plane = int(np.prod(in_size)) if in_size else 1
        out = xp.zeros((n * c, plane), dtype=g.dtype)
        rows = xp.arange(n * c, dtype=np.int64).reshape(n * c, 1)
        m = math.prod(indices.shape[2:])  # not -1: n * c may be 0
        idx = indices.reshape(n * c, m)
        vals = g.reshape(n * c, m)
        if unique:
            out[rows, idx] = vals
        else:
            index_add_at(xp, out, (rows, idx), vals)
        return out.reshape((n, c) + tuple(in_size))

    @staticmethod
    def backward(ctx, gg):
        return GatherPlanes.apply(gg, ctx.indices)


class MaxUnpool2d(ScatterPlanes, name="MaxUnpool2DBackward0"):
    pass


class MaxUnpool3d(ScatterPlanes, name="MaxUnpool3DBackward0"):
    pass


class GatherPlanes(Op, name="GatherPlanesBackward0"):
    """Values of (N, C, *in) at flat per-plane ``indices`` of shape (N, C, *out)."""

    @staticmethod
    def forward(ctx, x, indices):
        xp = array_module(x)
        ctx.indices = indices
        ctx.in_size = x.shape[2:]
        n, c = x.shape[:2]
        flat = x.reshape(n * c, math.prod(ctx.in_size))  # not -1: n * c may be 0
        rows = xp.arange(n * c, dtype=np.int64).reshape(n * c, 1)
        return flat[rows, indices.reshape(n * c, math.prod(indices.shape[2:]))].reshape(
            indices.shape)

    @staticmethod
    def backward(ctx, g):
        return ScatterPlanes.apply(g, ctx.indices, ctx.in_size, False)


class MaxPool(Op, name="MaxPool2DWithIndicesBackward0"):
    @staticmethod
    def forward(ctx, x, k, s, p, d, ceil_mode):
        vals, idx = max_pool_forward(x, k, s, p, d, ceil_mode)
        ctx.indices = idx
        ctx.in_size = x.shape[2:]
        # windows that cannot overlap give unique indices: plain assignment in backward
        ctx.unique = all(s[i] >= d[i] * (k[i] - 1) + 1 for i in range(len(k)))
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, _gi=None):
        return ScatterPlanes.apply(g, ctx.indices, ctx.in_size, ctx.unique)


class MaxPool1d(MaxPool, name="MaxPool1DWithIndicesBackward0"):
    pass


class MaxPool3d(MaxPool, name="MaxPool3DWithIndicesBackward0"):
    pass


_MAXPOOL = {1: MaxPool1d, 2: MaxPool, 3: MaxPool3d}


def _rank_error(r: int, lo: int, fname: str) -> RuntimeError:
    """ATen's ``checkDimRange`` message (1-d pooling ops and adaptive 1-d pools)."""
    return RuntimeError(f"Expected {lo} to {lo + 1} dimensions, but got {r}-dimensional tensor "
                        f"for argument #1 'self' (while checking arguments for {fname})")


def _check_pool_input(x, nd, fname):
    """PyTorch's rank and empty-size checks for max/avg/LP pooling, message for message.

    A non-batch dim (every dim of an unbatched input, all but dim 0 of a batched one) must be
    non-empty; each op words the two failures its own way, and ``avg_pool1d`` checks its
    ``(N, C, 1, L)`` view with ``avg_pool2d``'s words.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    shape = list(x.shape)
    r = len(shape)
    good_rank = r in (nd + 1, nd + 2)
    empty = good_rank and 0 in shape[r - nd - 1:]
    if good_rank and not empty:
        return
    opt0 = "tensor with optional 0 dim batch size for input, but got:"
    if fname == "max_pool1d":
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) {opt0}{shape}")
    if fname == "avg_pool1d":
        if not good_rank:
            raise _rank_error(r, 2, fname)
        raise RuntimeError(f"Expected 3D or 4D (batch mode) {opt0}{shape[:-1] + [1, shape[-1]]}")
    if fname == "avg_pool2d" and r < 3:
        # PyTorch reads size(-3) before checking the rank
        if r == 0:
            raise IndexError("Dimension specified as -3 but tensor has no dimensions")
        _util.wrap_dim(-3, r)
    if nd == 2 and (empty or fname == "avg_pool2d"):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) {opt0}{shape}")
    if not good_rank:
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for "
                           "input")
    op = "max_pool3d_with_indices_out_cpu_template" if fname == "max_pool3d" else fname
    # PyTorch names dimension 0 whichever dim is empty
    raise RuntimeError(f"{op}(): Expected input's non-batch dimensions to have positive length, "
                       f"but input has a shape of {shape} and non-batch dimension 0 has length "
                       "zero!")


def _batched(x, nd):
    from . import shape as _shape

    if x.ndim == nd + 1:
        return _shape.unsqueeze(x, 0), False
    return x, True


def _unbatch(t, batched):
    from . import shape as _shape

    return t if batched else _shape.squeeze(t, 0)


def _pool_args(nd, kernel_size, stride, padding, dilation, fname):
    k = _tuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, nd, "stride")
    p = _tuple(padding, nd, "padding")
    d = _tuple(dilation, nd, "dilation")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel_size must be greater than zero, but got "
                           f"{'x'.join(map(str, k))}")
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation "
                           f"{'x'.join(map(str, d))}")
    for i in range(nd):
        if p[i] > (d[i] * (k[i] - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p[i]}, kernel_size={k[i]} and dilation={d[i]}")
    return k, s, p, d


def _check_out(x, out, nd, fname="", k=None):
    """PyTorch's too-small-output messages (``x`` is the batched input)."""
    if fname == "avg_pool3d" and any(x.shape[2 + i] < k[i] for i in range(3)):
        t, h, w = x.shape[2:]
        raise RuntimeError(f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    if any(o <= 0 for o in out):
        if fname == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {out[0]}")
        c = x.shape[1]
        ins, outs = list(x.shape[2:]), list(out)
        if fname == "avg_pool1d":  # reported for its (N, C, 1, L) view
            ins, outs = [1] + ins, [1] + outs
        raise RuntimeError(f"Given input size: ({c}x{'x'.join(map(str, ins))}). "
                           f"Calculated output size: ({c}x{'x'.join(map(str, outs))}). Output "
                           "size is too small")


def _max_poolnd(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                fname):
    _check_pool_input(input, nd, fname)
    k, s, p, d = _pool_args(nd, kernel_size, stride, padding, dilation, fname)
    x, batched = _batched(input, nd)
    out, _ = _geometry(x.shape[2:], k, s, p, d, ceil_mode)
    _check_out(x, out, nd, fname)
    vals, idx = _MAXPOOL[nd].apply(x, k, s, p, d, bool(ceil_mode))
    vals, idx = _unbatch(vals, batched), _unbatch(idx, batched)
    return (vals, idx) if return_indices else vals


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``torch.nn.functional.max_pool1d``."""
    return _max_poolnd(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``torch.nn.functional.max_pool2d``."""
    return _max_poolnd(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``torch.nn.functional.max_pool3d``."""
    return _max_poolnd(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``torch.nn.functional.max_pool1d_with_indices``: values and indices whatever
    ``return_indices`` says (as PyTorch)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``torch.nn.functional.max_pool2d_with_indices``: values and indices whatever
    ``return_indices`` says (as PyTorch)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``torch.nn.functional.max_pool3d_with_indices``: values and indices whatever
    ``return_indices`` says (as PyTorch)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------------------------

def _avg_divisor(xp, in_size, out, k, s, p, count_include_pad, divisor_override, dtype):
    if divisor_override:
        return float(divisor_override)
    div = None
    for i in range(len(k)):
        start = np.arange(out[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], in_size[i] + p[i])
        pool = end - start
        start_c = np.maximum(start, 0)
        end_c = np.minimum(end, in_size[i])
        n = pool if count_include_pad else end_c - start_c
        shape = [1] * len(k)
        shape[i] = out[i]
        n = n.reshape(shape)
        div = n if div is None else div * n
    return xp.asarray(div.astype(dtype))


class AvgPool(Op, name="AvgPool2DBackward0"):
    @staticmethod
    def forward(ctx, x, k, s, p, ceil_mode, count_include_pad, divisor_override):
        xp = array_module(x)
        in_size = x.shape[2:]
        d = (1,) * len(k)
        out, hi = _geometry(in_size, k, s, p, d, ceil_mode)
        acc_dt = np.float32 if x.dtype in (np.float16, _dtype._BF16_NP) else x.dtype
        xpad = _pad(xp, x, p, hi, 0)
        acc = None
        for kidx in itertools.product(*(range(kk) for kk in k)):
            cur = xpad[_offset_slices(kidx, d, s, out)]
            acc = cur.astype(acc_dt, copy=True) if acc is None else acc + cur
        div = _avg_divisor(xp, in_size, out, k, s, p, count_include_pad, divisor_override,
                           acc_dt)
        ctx.args = (in_size, k, s, p, ceil_mode, div)
        return (acc / div).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return AvgPoolBackward.apply(g, *ctx.args)


class AvgPool1d(AvgPool, name="AvgPool1DBackward0"):
    pass


class AvgPool3d(AvgPool, name="AvgPool3DBackward0"):
    pass


class AvgPoolBackward(Op, name="AvgPool2DBackwardBackward0"):
    """The (linear) gradient of average pooling; its own backward is average pooling again."""

    @staticmethod
    def forward(ctx, g, in_size, k, s, p, ceil_mode, div):
        xp = array_module(g)
        d = (1,) * len(k)
        out, hi = _geometry(in_size, k, s, p, d, ceil_mode)
        gd = g / div
        padded = tuple(in_size[i] + p[i] + hi[i] for i in range(len(k)))
        gx = xp.zeros(g.shape[:2] + padded, dtype=gd.dtype)
        for kidx in itertools.product(*(range(kk) for kk in k)):
            gx[_offset_slices(kidx, d, s, out)] += gd
        ctx.args = (k, s, p, ceil_mode, div)
        crop = tuple(slice(p[i], p[i] + in_size[i]) for i in range(len(k)))
        return xp.ascontiguousarray(gx[(slice(None), slice(None)) + crop]).astype(g.dtype,
                                                                                copy=False)

    @staticmethod
    def backward(ctx, gg):
        k, s, p, ceil_mode, div = ctx.args
        from .pointwise import div as divide

        # the adjoint of "spread g/div over each window": sum each window, then divide
        summed = AvgPool.apply(gg, k, s, p, ceil_mode, True, 1)
        return divide(summed, div if isinstance(div, float) else Tensor._make(div))


_AVGPOOL = {1: AvgPool1d, 2: AvgPool, 3: AvgPool3d}


def _avg_poolnd(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override, fname):
    _check_pool_input(input, nd, fname)
    k, s, p, _ = _pool_args(nd, kernel_size, stride, padding, 1, fname)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x, batched = _batched(input, nd)
    out, _ = _geometry(x.shape[2:], k, s, p, (1,) * nd, ceil_mode)
    _check_out(x, out, nd, fname, k)
    y = _AVGPOOL[nd].apply(x, k, s, p, bool(ceil_mode), bool(count_include_pad),
                           divisor_override)
    return _unbatch(y, batched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """``torch.nn.functional.avg_pool1d``."""
    return _avg_poolnd(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """``torch.nn.functional.avg_pool2d``."""
    return _avg_poolnd(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """``torch.nn.functional.avg_pool3d``."""
    return _avg_poolnd(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, "avg_pool3d")


# ---------------------------------------------------------------------------------------------
# adaptive pooling
# ---------------------------------------------------------------------------------------------

def _bins(size, out):
    start = [(i * size) // out for i in range(out)]
    end = [-(-((i + 1) * size) // out) for i in range(out)]
    return start, end


def _adaptive_args(input, output_size, nd, fname):
    """Output size and PyTorch's input checks for adaptive pooling.

    Max pooling and 3-d average pooling need every dim but the first non-empty, 2-d average
    pooling only the spatial ones, 1-d average pooling its ``(N, C, 1, L)`` view's; 3-d average
    pooling checks sizes before the rank.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    shape = list(input.shape)
    r = len(shape)
    avg = fname.startswith("adaptive_avg")
    view, what = shape, fname
    if avg and nd == 1 and r in (2, 3):
        view, what = shape[:-1] + [1, shape[-1]], "adaptive_avg_pool2d"
    first = max(len(view) - 2, 0) if avg and nd < 3 else 1
    empty = [i for i in range(first, len(view)) if view[i] == 0]

    def empty_error():
        return RuntimeError(f"{what}(): Expected input to have non-zero size for non-batch "
                            f"dimensions, but input has sizes {view} with dimension {empty[0]} "
                            "being empty")

    if avg and nd == 3 and empty:
        raise empty_error()
    if r not in (nd + 1, nd + 2):
        if nd == 1:
            raise _rank_error(r, 2, fname)
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got"
                           f"{'' if avg else ':'} {shape}")
    if empty:
        raise empty_error()
    osz = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    if len(osz) != nd:
        raise RuntimeError(f"{fname}: output_size must be {nd}")
    in_size = input.shape[-nd:]
    return tuple(in_size[i] if osz[i] is None else int(osz[i]) for i in range(nd))


def _adaptive_avg(nd, input, output_size, fname):
    """Adaptive average pooling is separable and linear: one small averaging matrix per spatial
    dim, applied with matmul, so autograd needs no dedicated op."""
    from . import linalg, reduction
    from . import shape as _shape

    osz = _adaptive_args(input, output_size, nd, fname)
    x = input
    in_size = x.shape[-nd:]
    if all(in_size[i] % osz[i] == 0 for i in range(nd)):
        lead = x.shape[:-nd]
        split = []
        for i in range(nd):
            split += [osz[i], in_size[i] // osz[i]]
        y = _shape.reshape(x, tuple(lead) + tuple(split))
        dims = tuple(len(lead) + 2 * i + 1 for i in range(nd))
        return reduction.mean(y, dims)
    xp = array_module(x._data)
    y = x
    for i in range(nd):
        size, out = in_size[i], osz[i]
        start, end = _bins(size, out)
        mat = np.zeros((out, size), dtype=np.float64)
        for o in range(out):
            mat[o, start[o]:end[o]] = 1.0 / (end[o] - start[o])
        m = Tensor._make(xp.asarray(mat.astype(x._data.dtype)))
        axis = x.ndim - nd + i
        # bring the pooled axis last, average it with a matmul, and swap it back
        y = _shape.transpose(y, axis, -1)
        y = linalg.matmul(y, _shape.t(m))
        y = _shape.transpose(y, axis, -1)
    return y


def adaptive_avg_pool1d(input, output_size):
    """``torch.nn.functional.adaptive_avg_pool1d``."""
    return _adaptive_avg(1, input, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """``torch.nn.functional.adaptive_avg_pool2d``."""
    return _adaptive_avg(2, input, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    """``torch.nn.functional.adaptive_avg_pool3d``."""
    return _adaptive_avg(3, input, output_size, "adaptive_avg_pool3d")


class AdaptiveMaxPool(Op, name="AdaptiveMaxPool2DBackward0"):
    @staticmethod
    def forward(ctx, x, osz):
        xp = array_module(x)
        nd = len(osz)
        in_size = x.shape[2:]
        # per dim: (out, kmax) input coordinates of each bin, short bins padded with their last
        # coordinate (max is idempotent, and the first maximum is still found first)
        coords = []
        for i in range(nd):
            start, end = _bins(in_size[i], osz[i])
            kmax = max(e - s for s, e in zip(start, end))
            c = np.array([[min(s + j, e - 1) for j in range(kmax)] for s, e in zip(start, end)],
                         dtype=np.int64)
            coords.append(c)
        plane_strides = [1] * nd
        for i in range(nd - 2, -1, -1):
            plane_strides[i] = plane_strides[i + 1] * in_size[i + 1]
        # flat plane index for (out_0, k_0, out_1, k_1, ...)
        flat = 0
        for i in range(nd):
            shape = [1] * (2 * nd)
            shape[2 * i], shape[2 * i + 1] = coords[i].shape
            flat = flat + coords[i].reshape(shape) * plane_strides[i]
        perm = [2 * i for i in range(nd)] + [2 * i + 1 for i in range(nd)]
        flat = np.transpose(flat, perm).reshape(tuple(osz) + (-1,))
        flat = xp.asarray(flat)
        n, c = x.shape[:2]
        planes = x.reshape(n, c, math.prod(in_size))  # not -1: n * c may be 0
        win = planes[:, :, flat]  # (n, c, *osz, K)
        arg = win.argmax(axis=-1)
        vals = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        idx = xp.take_along_axis(xp.broadcast_to(flat, win.shape), arg[..., None], axis=-1)[..., 0]
        ctx.indices = idx
        ctx.in_size = in_size
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, _gi=None):
        return ScatterPlanes.apply(g, ctx.indices, ctx.in_size, False)


def _adaptive_max(nd, input, output_size, return_indices, fname):
    osz = _adaptive_args(input, output_size, nd, fname)
    x, batched = _batched(input, nd)
    vals, idx = AdaptiveMaxPool.apply(x, osz)
    vals, idx = _unbatch(vals, batched), _unbatch(idx, batched)
    return (vals, idx) if return_indices else vals


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool1d``."""
    return _adaptive_max(1, input, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool1d_with_indices``: values and indices."""
    return _adaptive_max(1, input, output_size, True, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool2d``."""
    return _adaptive_max(2, input, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool2d_with_indices``: values and indices."""
    return _adaptive_max(2, input, output_size, True, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool3d``."""
    return _adaptive_max(3, input, output_size, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool3d_with_indices``: values and indices."""
    return _adaptive_max(3, input, output_size, True, "adaptive_max_pool3d")


# ---------------------------------------------------------------------------------------------
# LP pooling and max-unpooling
# ---------------------------------------------------------------------------------------------

def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    from . import pointwise as pw

    # PyTorch pools through avg_pool{nd}d and so reports its errors
    fname = f"avg_pool{nd}d"
    _check_pool_input(input, nd, fname)
    k, s, _, _ = _pool_args(nd, kernel_size, stride, 0, 1, fname)
    pool = _AVGPOOL[nd]
    x, batched = _batched(input, nd)
    _check_out(x, _geometry(x.shape[2:], k, s, (0,) * nd, (1,) * nd, ceil_mode)[0], nd, fname, k)
    out = pool.apply(pw.pow(x, norm_type), k, s, (0,) * nd, bool(ceil_mode), True, None)
    kk = math.prod(k)
    # PyTorch: (sign(out) * relu(|out|) * kw * kh) ** (1/p)
    out = pw.mul(pw.mul(pw.sign(out), pw.relu(pw.abs(out))), kk)
    return _unbatch(pw.pow(out, 1.0 / norm_type), batched)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``torch.nn.functional.lp_pool1d``."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``torch.nn.functional.lp_pool2d``."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``torch.nn.functional.lp_pool3d``."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size, fname):
    k = _tuple(kernel_size, nd, "kernel_size")
    s = k if stride is None else _tuple(stride, nd, "stride")
    p = _tuple(padding, nd, "padding")
    # PyTorch unpools 1-d inputs as (..., L, 1) images, so its messages count that extra dim
    shape = list(input.shape) + ([1] if nd == 1 else [])
    r, nd2 = len(shape), max(nd, 2)
    if r < nd2:
        raise IndexError("tuple index out of range")  # PyTorch's Python-side size lookup
    if r not in (nd2 + 1, nd2 + 2):
        raise RuntimeError(f"Input to max_unpooling{nd2}d should be a {nd2 + 1}d or {nd2 + 2}d "
                           f"Tensor, but got a tensor with {r} dimensions.")
    empty = [i for i in range(1, r) if shape[i] == 0]
    if empty:
        raise RuntimeError(f"max_unpooling{nd2}d_forward_out_cpu(): Expected input to have "
                           f"non-zero size for non-batch dimensions, but got {shape} with "
                           f"dimension {empty[0]} being empty.")
    x, batched = _batched(input, nd)
    idx, _ = _batched(indices, nd)
    if indices.dtype is not _dtype.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{_util.dtype_name(indices.dtype)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    default = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        osz = default
    else:
        osz = tuple(int(v) for v in output_size)[-nd:]
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < osz[i] < hi:
                raise ValueError(f"invalid output_size \"{list(osz)}\" (dim {i} must be between "
                                 f"{lo} and {hi})")
    plane = math.prod(osz)
    ia = idx._data
    if ia.size and (int(ia.min()) < 0 or int(ia.max()) >= plane):
        raise RuntimeError(f"Found an invalid max index: {int(ia.max())} (output volumes are of "
                           f"size {'x'.join(map(str, osz))})")
    # overlapping windows repeat an index: PyTorch writes (the same maximum) once, not a sum
    y = (MaxUnpool3d if nd == 3 else MaxUnpool2d).apply(x, ia, osz, True)
    return _unbatch(y, batched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``torch.nn.functional.max_unpool1d``."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``torch.nn.functional.max_unpool2d``."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``torch.nn.functional.max_unpool3d``."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool3d")
