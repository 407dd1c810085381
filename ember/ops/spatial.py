"""Spatial ops of ``torch.nn.functional``: ``pad``, ``interpolate`` (and the deprecated
``upsample*``), ``grid_sample``, ``affine_grid``, ``pixel_shuffle``/``pixel_unshuffle`` and
``channel_shuffle``.

Padding (reflect/replicate/circular) and every ``interpolate`` mode except ``area`` are
separable linear maps: along each spatial axis, output position ``o`` is a weighted sum of a
few input positions ``idx[o, k]`` with weights ``w[o, k]``. The index and weight tables are
computed once per call on the host with PyTorch's formulas (in PyTorch's arithmetic precision,
so the same source pixels are chosen), and applied with vectorised gathers along one axis at a
time. The backward is the transposed map, a scatter-add; the two ops are each other's backward,
so double backward works.

``grid_sample`` is composed from ember ops around two small ops: one computes PyTorch's source
coordinates (unnormalisation and padding, with PyTorch's gradient conventions at the borders),
the other gathers input values at integer corners (its backward scatters). Gradients with
respect to the input and the grid then follow from autograd.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor, _legacy_scalar_name
from ..autograd.function import Op
from .indexing import checked_scalar, index_add_at

__all__ = ["pad"]

_HALF = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _HALF.add(_dtype._BF16_NP)
_F64 = np.dtype(np.float64)
_U8 = np.dtype(np.uint8)


def _need_tensor(x, fname: str, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _is_int(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, Tensor) and v.ndim == 0 and not (
        v.dtype.is_floating_point or v.dtype.is_complex or v.dtype is _dtype.bool)


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


# ---------------------------------------------------------------------------------------------
# separable resampling: per axis, out[o] = sum_k w[o, k] * in[idx[o, k]]
# ---------------------------------------------------------------------------------------------

class AxisMap:
    """One axis of a separable linear map: ``idx`` (out, K) int64 input positions and ``w``
    (out, K) weights in PyTorch's precision (None when K == 1 and every weight is one: a pure
    gather, exact for every dtype)."""

    __slots__ = ("axis", "n_in", "idx", "w")

    def __init__(self, axis: int, n_in: int, idx, w=None):
        self.axis = axis
        self.n_in = n_in
        self.idx = np.ascontiguousarray(idx, dtype=np.int64)
        self.w = None if w is None else np.ascontiguousarray(w)


def _compute_dtype(dt):
    """Arithmetic dtype of a weighted map: half types and uint8 work in float32, as PyTorch's
    CPU kernels do (opmath)."""
    if dt in _HALF or dt.kind in "iub":
        return np.dtype(np.float32)
    return dt


def _bshape(nd: int, axis: int, n: int) -> tuple:
    s = [1] * nd
    s[axis] = n
    return tuple(s)


def _gather_axis(xp, x, m: AxisMap, cdt):
    idx = xp.asarray(m.idx)
    if m.w is None:
        return xp.take(x, idx[:, 0], axis=m.axis)
    w = xp.asarray(m.w, dtype=cdt)
    shape = _bshape(x.ndim, m.axis, idx.shape[0])
    acc = None
    for k in range(idx.shape[1]):
        term = xp.take(x, idx[:, k], axis=m.axis)
        if term.dtype != cdt:
            term = term.astype(cdt)
        term *= w[:, k].reshape(shape)
        if acc is None:
            acc = term
        else:
            acc += term
    return acc


def _scatter_axis(xp, g, m: AxisMap, cdt):
    """The transpose of ``_gather_axis``: scatter-add ``g`` back to ``m.n_in`` positions, one
    ``ufunc.at``-style scatter per tap on flat offsets with the axis moved last."""
    axis, n_in = m.axis, m.n_in
    n_out, taps = m.idx.shape
    moved = xp.ascontiguousarray(xp.moveaxis(g, axis, -1), dtype=cdt)
    lead = moved.shape[:-1]
    rows = _prod(lead)
    tgt = xp.zeros(lead + (n_in,), dtype=cdt)
    if rows and n_out:
        vals2 = moved.reshape(rows, n_out)
        base = xp.arange(rows, dtype=np.int64).reshape(rows, 1) * n_in
        idx = xp.asarray(m.idx)
        w = None if m.w is None else xp.asarray(m.w, dtype=cdt)
        for k in range(taps):
            vals = vals2 if w is None else vals2 * w[:, k]
            flat = (base + idx[:, k].reshape(1, n_out)).reshape(-1)
            index_add_at(xp, tgt.reshape(-1), flat, vals.reshape(-1))
    return xp.moveaxis(tgt, -1, axis)


def _finish(xp, r, dt):
    if r.dtype == dt:
        return r
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return xp.clip(xp.rint(r), info.min, info.max).astype(dt)
    return r.astype(dt)


def apply_maps(xp, x, maps):
    """Forward of a separable map on an array (NumPy or CuPy)."""
    dt = x.dtype
    cdt = _compute_dtype(dt)
    if dt.kind in "iu":
        # integer images: one rounded, saturated pass per axis, the last axis first (PyTorch's
        # uint8 kernels resample horizontally, then vertically, as PIL does)
        y = x
        for m in reversed(maps):
            y = _finish(xp, _gather_axis(xp, y, m, cdt if m.w is not None else dt), dt)
        return y
    y = x
    for m in maps:
        y = _gather_axis(xp, y, m, cdt if m.w is not None else y.dtype)
    return _finish(xp, y, dt)


def apply_maps_t(xp, g, maps):
    """The transposed map (the gradient of ``apply_maps``)."""
    dt = g.dtype
    cdt = _compute_dtype(dt)
    y = g
    for m in reversed(maps):
        y = _scatter_axis(xp, y, m, cdt)
    return _finish(xp, y, dt)


class Resample(Op, name="ResampleBackward0"):
    """``y = A x`` for a separable map ``A`` (a tuple of ``AxisMap``). The gradient is
    ``B^T g`` with ``B = bmaps`` when given: PyTorch's nearest-neighbour backward kernels pick
    source pixels with slightly different arithmetic than its forward kernels."""

    @staticmethod
    def forward(ctx, x, maps, bmaps=None):
        ctx.bmaps = maps if bmaps is None else bmaps
        return apply_maps(array_module(x), x, maps)

    @staticmethod
    def backward(ctx, g):
        return ResampleT.apply(g, ctx.bmaps), None, None


class ResampleT(Op, name="ResampleBackwardBackward0"):
    """``x = A^T y``: the scatter-add that is ``Resample``'s backward (and vice versa)."""

    @staticmethod
    def forward(ctx, g, maps):
        ctx.maps = maps
        return apply_maps_t(array_module(g), g, maps)

    @staticmethod
    def backward(ctx, gg):
        return Resample.apply(gg, ctx.maps), None


_NAMED: dict = {}


def _resample(x: Tensor, maps, node_name: str, bmaps=None) -> Tensor:
    """Apply ``maps`` with a backward node printed as PyTorch's ``node_name``."""
    cls = _NAMED.get(node_name)
    if cls is None:
        cls = _NAMED[node_name] = type(node_name, (Resample,), {})
        cls.__name__ = node_name
    return cls.apply(x, tuple(maps), None if bmaps is None else tuple(bmaps))


# ---------------------------------------------------------------------------------------------
# pad
# ---------------------------------------------------------------------------------------------

class ConstantPadNd(Op, name="ConstantPadNdBackward0"):
    """Constant padding with per-dim ``(lo, hi)`` amounts; negative amounts crop. The backward
    is the same op with negated amounts (pads with zeros where the forward cropped)."""

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        xp = array_module(x)
        src, dst, shape = [], [], []
        for n, (lo, hi) in zip(x.shape, pads):
            s0, s1 = max(-lo, 0), n - max(-hi, 0)
            length = max(s1 - s0, 0)
            src.append(slice(s0, s0 + length))
            d0 = max(lo, 0)
            dst.append(slice(d0, d0 + length))
            shape.append(n + lo + hi)
        out = xp.full(tuple(shape), value, dtype=x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        return out

    @staticmethod
    def backward(ctx, g):
        neg = tuple((-lo, -hi) for lo, hi in ctx.pads)
        return ConstantPadNd.apply(g, neg, 0), None, None


_PAD_MODES = ("constant", "reflect", "replicate", "circular")
_PAD_SUPPORT = ("Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_list(pad) -> list:
    if isinstance(pad, Tensor) or not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    out = []
    for i, v in enumerate(pad):
        if not _is_int(v):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(v).__name__} at pos {i}")
        out.append(int(v.item()) if isinstance(v, Tensor) else int(v))
    return out


def _reflect_index(n: int, lo: int, n_out: int):
    j = np.arange(n_out, dtype=np.int64)
    ip = np.where(j < lo, 2 * lo - j, np.where(j < n + lo, j, 2 * (n + lo - 1) - j))
    return ip - max(lo, 0) + max(-lo, 0)


def _replicate_index(n: int, lo: int, n_out: int):
    j = np.arange(n_out, dtype=np.int64)
    return np.clip(j, lo, n + lo - 1) - max(lo, 0) + max(-lo, 0)


def _circular_index(n: int, lo: int, hi: int, n_out: int):
    """PyTorch's circular padding as a source index per output position: copy the (cropped)
    input into the middle, then fill the left pad from the right end of the result and the
    right pad from its left end (replayed on an index array, so any cropping matches)."""
    out = np.full(n_out, -1, dtype=np.int64)
    src = np.arange(n, dtype=np.int64)[max(-lo, 0):n - max(-hi, 0)]
    out[max(lo, 0):n_out - max(hi, 0)] = src
    if lo > 0:
        out[:lo] = out[n_out - lo - max(hi, 0):n_out - max(hi, 0)].copy()
    if hi > 0:
        out[n_out - hi:] = out[max(lo, 0):max(lo, 0) + hi].copy()
    return np.maximum(out, 0)


def _too_small(kind: str, k: int, in_sp, out_sp) -> RuntimeError:
    if k == 1:
        return RuntimeError(f"input (W: {in_sp[0]}) is too small. Calculated output W: "
                            f"{out_sp[0]}")
    if k == 2:
        return RuntimeError(f"input (H: {in_sp[0]}, W: {in_sp[1]}) is too small. Calculated "
                            f"output H: {out_sp[0]} W: {out_sp[1]}")
    return RuntimeError(f"input (D: {in_sp[0]} H: {in_sp[1]}, W: {in_sp[2]}) is too small. "
                        f"Calculated output D: {out_sp[0]} H: {out_sp[1]} W: {out_sp[2]}")


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """``torch.nn.functional.pad``: ``pad`` lists ``(left, right)`` amounts starting from the last
    dim. ``constant`` pads any number of dims and crops with negative amounts; ``reflect``,
    ``replicate`` and ``circular`` pad the last 1-3 dims of a (batched) input, with PyTorch's
    checks, messages and index rules (including their handling of negative amounts)."""
    _need_tensor(input, "pad", "input", 1)
    pads = _pad_list(pad)
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' (position 3) must be str, not "
                        f"{type(mode).__name__}")
    if value is not None:
        if isinstance(value, Tensor):
            value = value.item()
        if isinstance(value, (complex, np.complexfloating)) or not isinstance(
                value, numbers.Real):
            raise TypeError(f"pad(): argument 'value' (position 4) must be float, not "
                            f"{type(value).__name__}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    shape = tuple(input.shape)
    nd = len(shape)
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pads) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pads)} and input of "
                           f"dimension {nd}")
    # pairs[i] pads dim nd - 1 - i
    pairs = [(pads[2 * i], pads[2 * i + 1]) for i in range(k)]
    if mode == "constant":
        full = [(0, 0)] * nd
        for i, (lo, hi) in enumerate(pairs):
            if shape[nd - 1 - i] + lo + hi < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            full[nd - 1 - i] = (lo, hi)
        fill = checked_scalar(0 if value is None else value, input.dtype)
        return ConstantPadNd.apply(input, tuple(full), fill)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pads)} is not supported for {nd}D input "
                                  f"tensor.\n{_PAD_SUPPORT}")
    in_sp = shape[nd - k:]
    # pairs in spatial order (first padded dim first)
    sp_pairs = list(reversed(pairs))
    out_sp = [in_sp[i] + lo + hi for i, (lo, hi) in enumerate(sp_pairs)]
    if mode == "circular":
        for i, (lo, hi) in enumerate(sp_pairs):
            if lo > in_sp[i] or hi > in_sp[i]:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if out_sp[i] < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
        maps = [AxisMap(nd - k + i, in_sp[i],
                        _circular_index(in_sp[i], lo, hi, out_sp[i])[:, None])
                for i, (lo, hi) in enumerate(sp_pairs)]
        return _resample(input, maps, "CopySlices")
    kind = "reflection" if mode == "reflect" else "replication"
    if input.dtype is _dtype.bool:
        raise NotImplementedError(f'"{kind}_pad{k}d" not implemented for \'Bool\'')
    batched = nd == k + 2
    if any(s == 0 for s in shape[1 if batched else 0:]):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    if mode == "reflect":
        for i in range(k):  # the last dim is checked first, as Argument #4
            lo, hi = pairs[i]
            dim = nd - 1 - i
            if not (lo < shape[dim] and hi < shape[dim]):
                raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than "
                                   f"the corresponding input dimension, but got: padding ({lo}, "
                                   f"{hi}) at dimension {dim} of input {list(shape)}")
    if all(o < 1 for o in out_sp):
        raise _too_small(kind, k, in_sp, out_sp)
    if any(o < 0 for o in out_sp):
        bad = next(o for o in out_sp if o < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: "
                           f"{list(shape[:nd - k]) + out_sp}")
    fn = _reflect_index if mode == "reflect" else _replicate_index
    maps = [AxisMap(nd - k + i, in_sp[i], fn(in_sp[i], lo, out_sp[i])[:, None])
            for i, (lo, _hi) in enumerate(sp_pairs)]
    node = f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{k}DBackward0"
    return _resample(input, maps, node)


# ---------------------------------------------------------------------------------------------
# interpolate: index/weight tables with PyTorch's formulas (UpSample.h), in its precision
# ---------------------------------------------------------------------------------------------

def _opmath(dt):
    """PyTorch computes source indices in float for every dtype but double."""
    return _F64 if dt == _F64 else np.dtype(np.float32)


def _area_scale(n_in: int, n_out: int, align_corners: bool, scale, om):
    """``area_pixel_compute_scale``: input/output ratio (or a user scale's inverse)."""
    if align_corners:
        return om.type(n_in - 1) / om.type(n_out - 1) if n_out > 1 else om.type(0)
    if scale is not None and scale > 0:
        return om.type(1.0 / scale)
    return om.type(n_in) / om.type(n_out)


def _source_index(scale, n_out: int, align_corners: bool, cubic: bool, om):
    """``area_pixel_compute_source_index`` for every output position."""
    o = np.arange(n_out).astype(om)
    if align_corners:
        return scale * o
    src = scale * (o + om.type(0.5)) - om.type(0.5)
    return src if cubic else np.maximum(src, om.type(0))


def _floorf(a):
    # PyTorch floors source indices with floorf, i.e. in float32 even for double math
    return np.floor(a.astype(np.float32)).astype(np.int64)


def _nearest_table(n_in, n_out, scale, exact: bool, om):
    s = _area_scale(n_in, n_out, False, scale, om)
    if exact:
        src = _source_index(s, n_out, False, False, om)
        idx = _floorf(src + om.type(0.5))
    else:
        idx = _floorf(_source_index(s, n_out, True, False, om))
    return np.minimum(idx, n_in - 1)[:, None], None


def _nearest_bwd_table(n_in, n_out, scale, exact: bool):
    """The source pixels of PyTorch's nearest backward kernels (``nearest_idx`` /
    ``nearest_exact_idx``): float32 scale, and shortcuts for equal and doubled sizes."""
    o = np.arange(n_out, dtype=np.int64)
    f32 = np.float32
    s = f32(1.0 / scale) if scale is not None and scale > 0 else f32(n_in) / f32(n_out)
    if exact:
        idx = np.floor(((o + 0.5) * np.float64(s)).astype(f32)).astype(np.int64)
    elif n_out == n_in:
        idx = o
    elif n_out == 2 * n_in:
        idx = o >> 1
    else:
        idx = np.floor(o.astype(f32) * s).astype(np.int64)
    return np.minimum(idx, n_in - 1)[:, None]


def _linear_table(n_in, n_out, scale, align_corners: bool, om):
    if n_in == n_out:
        o = np.arange(n_out, dtype=np.int64)
        return np.stack([o, o], 1), np.stack([np.ones(n_out), np.zeros(n_out)], 1)
    s = _area_scale(n_in, n_out, align_corners, scale, om)
    src = _source_index(s, n_out, align_corners, False, om)
    i0 = np.minimum(_floorf(src), n_in - 1)
    lam1 = np.clip(src - i0.astype(om), 0, 1).astype(om)
    i1 = i0 + (i0 < n_in - 1)
    lam0 = om.type(1) - lam1
    return np.stack([i0, i1], 1), np.stack([lam0, lam1], 1)


def _cubic1(x, a):
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic2(x, a):
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _cubic_table(n_in, n_out, scale, align_corners: bool, om):
    s = _area_scale(n_in, n_out, align_corners, scale, om)
    src = _source_index(s, n_out, align_corners, True, om)
    i0 = np.minimum(_floorf(src), n_in - 1)
    t = np.clip(src - i0.astype(om), 0, 1).astype(om)
    a = om.type(-0.75)
    one = om.type(1)
    w = np.stack([_cubic2(t + one, a), _cubic1(t, a), _cubic1(one - t, a),
                  _cubic2(one - t + one, a)], 1)
    idx = np.clip(i0[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return idx, w


def _aa_filter(kind: str):
    if kind == "bilinear":
        return 2, lambda x: np.maximum(1 - np.abs(x), 0)
    if kind == "bicubic":
        def cubic(x):
            x = np.abs(x)
            a = x.dtype.type(-0.5)
            return np.where(x < 1, _cubic1(x, a), np.where(x < 2, _cubic2(x, a), 0))
        return 4, cubic

    def lanczos(x):
        px = np.pi * x
        with np.errstate(all="ignore"):
            v = 3 * np.sin(px) * np.sin(px / 3) / (px * px)
        return np.where(x == 0, 1, np.where(np.abs(x) < 3, v, 0))
    return 6, lanczos


def _aa_table(n_in, n_out, scale, align_corners: bool, kind: str, om):
    """Anti-aliased weights (PIL's resampling, as PyTorch's ``_upsample_*_aa``): when shrinking,
    the filter is stretched by the scale so every input pixel contributes."""
    size, filt = _aa_filter(kind)
    s = _area_scale(n_in, n_out, align_corners, scale, om)
    support = (size * 0.5) * s if s >= 1.0 else size * 0.5
    support = om.type(support)
    kmax = int(math.ceil(support)) * 2 + 1
    center = (s * (np.arange(n_out) + 0.5)).astype(om)
    inv = om.type(1.0 / s) if s >= 1.0 else om.type(1.0)
    xmin = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    xsize = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n_in) - xmin
    xsize = np.clip(xsize, 0, kmax)
    j = np.arange(kmax)
    w = filt(((j[None, :] + xmin[:, None]).astype(om) - center[:, None] + om.type(0.5)) * inv)
    w = np.where(j[None, :] < xsize[:, None], w, 0).astype(om)
    total = w.sum(1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w).astype(om)
    idx = np.minimum(xmin[:, None] + j[None, :], n_in - 1)
    return idx, w


_MODE_NAMES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear",
               "trilinear": "linear", "bicubic": "cubic", "nearest-exact": "nearest-exact"}


def _upsample(x: Tensor, out_size, scales, mode: str, align_corners, antialias: bool) -> Tensor:
    """The ATen ``upsample_*`` kernels: checks, then one separable map."""
    nd = x.ndim - 2
    in_sp = tuple(x.shape[2:])
    if out_size is None:
        out_size = [int(in_sp[i] * scales[i]) for i in range(nd)]
    out_size = [int(s) for s in out_size]
    if not (all(s > 0 for s in in_sp) and all(s > 0 for s in out_size)):
        letters = "DHW"[3 - nd:]
        if nd == 1:
            msg = (f"Input and output sizes should be greater than 0, but got input (W: "
                   f"{in_sp[0]}) and output (W: {out_size[0]})")
        else:
            ins = ", ".join(f"{c}: {s}" for c, s in zip(letters, in_sp))
            outs = ", ".join(f"{c}: {s}" for c, s in zip(letters, out_size))
            msg = (f"Input and output sizes should be greater than 0, but got input ({ins}) "
                   f"output ({outs})")
        raise RuntimeError(msg)
    if _prod(x.shape[1:]) == 0:
        raise RuntimeError(f"Non-empty {nd + 2}D data tensor expected but got a tensor with "
                           f"sizes {list(x.shape)}")
    dt = x._data.dtype
    kernel = {"nearest": f"upsample_nearest{nd}d", "nearest-exact": f"_upsample_nearest_exact"
              f"{nd}d", "linear": "compute_indices_weights_linear",
              "bilinear": "compute_indices_weights_linear",
              "trilinear": "compute_indices_weights_linear",
              "bicubic": "compute_indices_weights_cubic"}.get(mode)
    if antialias:
        kernel = "compute_index_ranges_weights"
    ok = dt.kind == "f" or dt in _HALF
    if dt == _U8:
        ok = mode in ("nearest", "nearest-exact") or (nd == 2 and mode in ("bilinear",
                                                                             "bicubic",
                                                                             "lanczos"))
    if antialias and dt in _HALF:
        ok = False
    if not ok:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_legacy_scalar_name(x.dtype)}'")
    om = _opmath(dt)
    maps = []
    bmaps = [] if mode in ("nearest", "nearest-exact") else None
    for i in range(nd):
        sc = None if scales is None else scales[i]
        n_in, n_out = in_sp[i], out_size[i]
        if bmaps is not None:
            bmaps.append(AxisMap(2 + i, n_in, _nearest_bwd_table(n_in, n_out, sc,
                                                                mode == "nearest-exact")))
        if antialias:
            idx, w = _aa_table(n_in, n_out, sc, align_corners, mode, om)
        elif mode in ("nearest", "nearest-exact"):
            idx, w = _nearest_table(n_in, n_out, sc, mode == "nearest-exact", om)
        elif mode == "bicubic":
            idx, w = _cubic_table(n_in, n_out, sc, align_corners, om)
        else:
            idx, w = _linear_table(n_in, n_out, sc, align_corners, om)
        if w is not None:
            # PyTorch stores the weights in the tensor's own dtype
            w = w.astype(dt if dt.kind == "f" and dt not in _HALF else np.float32)
        maps.append(AxisMap(2 + i, n_in, idx, w))
    if antialias:
        node = f"Upsample{mode.capitalize()}2DAaBackward0"
    elif mode == "nearest-exact":
        node = f"UpsampleNearestExact{nd}DBackward0"
    else:
        node = f"Upsample{mode.capitalize()}{nd}DBackward0"
    return _resample(x, maps, node, bmaps)


_INTERP_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None,
                antialias: bool = False) -> Tensor:
    """``torch.nn.functional.interpolate`` for 3-D, 4-D and 5-D (batched) inputs.

    Follows PyTorch 2.13: ``size`` xor ``scale_factor``; a user scale is used for the source
    index formulas unless ``recompute_scale_factor`` (or ``area`` mode) recomputes it from the
    integer output size; ``align_corners`` only for the interpolating modes; ``antialias`` for
    4-D ``bilinear``/``bicubic``/``lanczos``. Nearest modes pick source pixels with PyTorch's
    float32 arithmetic; bicubic uses A = -0.75 with clamped taps. ``area`` is adaptive average
    pooling."""
    _need_tensor(input, "interpolate", "input", 1)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    f"and output size in (o1, o2, ...,oK) format.")
            if not all(_is_int(s) for s in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            output_size = [int(s) for s in size]
        else:
            if not _is_int(size):
                raise TypeError(f"interpolate(): size must be an int or a tuple of ints, got "
                                f"{type(size).__name__}")
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in (N, "
                    f"C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [int(input.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    nd = input.ndim
    if mode in ("nearest", "nearest-exact") and nd in (3, 4, 5):
        return _upsample(input, output_size, scale_factors, mode, False, False)
    if mode == "area" and nd in (3, 4, 5):
        from . import pooling

        fn = getattr(pooling, f"adaptive_avg_pool{nd - 2}d")
        return fn(input, output_size)
    want = {"linear": 3, "bilinear": 4, "trilinear": 5}
    if mode in want and nd == want[mode]:
        return _upsample(input, output_size, scale_factors, mode, align_corners,
                         antialias and mode == "bilinear")
    if mode == "bicubic" and nd == 4:
        return _upsample(input, output_size, scale_factors, mode, align_corners, antialias)
    if mode == "lanczos" and nd == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        return _upsample(input, output_size, scale_factors, mode, align_corners, True)
    if mode in want and nd in (3, 4, 5):
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {want[mode]}D input")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              f"{nd}D) for the modes: {_INTERP_MODES} (got {mode})")


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners=None) -> Tensor:
    """``torch.nn.functional.upsample`` (deprecated; warns): ``interpolate``."""
    import warnings

    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """``torch.nn.functional.upsample_nearest`` (deprecated; warns)."""
    import warnings

    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """``torch.nn.functional.upsample_bilinear`` (deprecated; warns): bilinear with
    ``align_corners=True``."""
    import warnings

    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ += ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]


# ---------------------------------------------------------------------------------------------
# grid_sample / affine_grid
# ---------------------------------------------------------------------------------------------

def _reflect(xp, c, twice_low: int, twice_high: int):
    """PyTorch's ``reflect_coordinates``: value and the derivative's sign (+1 / -1)."""
    if twice_low == twice_high:
        return xp.zeros_like(c), xp.zeros_like(c)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = c - c.dtype.type(lo)
    sign = xp.where(d < 0, -1, 1).astype(c.dtype)
    d = xp.abs(d)
    extra = xp.fmod(d, c.dtype.type(span))
    flips = xp.floor(d / c.dtype.type(span))
    even = (flips % 2) == 0
    val = xp.where(even, extra + c.dtype.type(lo), c.dtype.type(span) - extra + c.dtype.type(lo))
    return val.astype(c.dtype), xp.where(even, sign, -sign).astype(c.dtype)


def _clip(xp, c, size: int):
    """PyTorch's ``clip_coordinates_set_grad``: borders count as outside for the gradient."""
    hi = c.dtype.type(size - 1)
    val = xp.minimum(xp.maximum(c, c.dtype.type(0)), hi)
    return val, ((c > 0) & (c < hi)).astype(c.dtype)


def _pad_coords(xp, ic, size: int, padding: str, align_corners: bool):
    """Apply ``padding`` to unnormalised coordinates: (value, derivative)."""
    if padding == "border":
        return _clip(xp, ic, size)
    if padding == "reflection":
        if align_corners:
            r, dr = _reflect(xp, ic, 0, 2 * (size - 1))
        else:
            r, dr = _reflect(xp, ic, -1, 2 * size - 1)
        v, dc = _clip(xp, r, size)
        return v, dr * dc
    return ic, None


def _fms(xp, a, b, c):
    """``a * b - c`` rounded once, like a fused multiply-subtract: float32 is exact through
    float64; float64 goes through the platform's long double where it is wider."""
    if a.dtype == _F64:
        if xp is np and np.finfo(np.longdouble).nmant > 52:
            wide = a.astype(np.longdouble) * np.longdouble(b) - np.longdouble(c)
            return wide.astype(_F64)
        return a * b - c
    return (a.astype(_F64) * float(b) - float(c)).astype(a.dtype)


class GridCoord(Op, name="GridSamplerCoordBackward0"):
    """Source coordinate along one axis from normalised grid values in [-1, 1] (PyTorch's
    ``grid_sampler_compute_source_index_set_grad``); backward multiplies by its derivative."""

    @staticmethod
    def forward(ctx, c, size, padding, align_corners, vectorized):
        xp = array_module(c)
        t = c.dtype.type
        mult = (size - 1) / 2 if align_corners else size / 2
        if vectorized:
            # the 2-D CPU kernel computes (c + 1) * factor - 0.5 with a fused multiply-add
            ic = (c + t(1))
            if align_corners:
                ic = ic * t(mult)
            else:
                ic = _fms(xp, ic, t(mult), t(0.5))
        elif align_corners:
            ic = ((c + t(1)) / t(2)) * t(size - 1)
        else:
            ic = ((c + t(1)) * t(size) - t(1)) / t(2)
        ic, d = _pad_coords(xp, ic.astype(c.dtype), size, padding, align_corners)
        ctx.deriv = (d * t(mult)) if d is not None else mult
        return ic

    @staticmethod
    def backward(ctx, g):
        d = ctx.deriv
        if isinstance(d, float):
            return g * d, None, None, None, None
        return g * Tensor._make(d), None, None, None, None


class PlaneGather(Op, name="GridSamplerGatherBackward0"):
    """``out[n, c, p] = x[n, c, idx[n, p]] * mask[n, p]`` for x (N, C, L)."""

    @staticmethod
    def forward(ctx, x, idx, mask):
        xp = array_module(x)
        ctx.idx, ctx.mask, ctx.n_in = idx, mask, x.shape[2]
        v = xp.take_along_axis(x, idx[:, None, :], axis=2)
        if mask is not None:
            v *= mask[:, None, :].astype(v.dtype)
        return v

    @staticmethod
    def backward(ctx, g):
        return PlaneScatter.apply(g, ctx.idx, ctx.mask, ctx.n_in), None, None


class PlaneScatter(Op, name="GridSamplerScatterBackward0"):
    """The transpose of ``PlaneGather``: scatter-add (N, C, P) into (N, C, n_in)."""

    @staticmethod
    def forward(ctx, g, idx, mask, n_in):
        xp = array_module(g)
        ctx.idx, ctx.mask = idx, mask
        n, c, p = g.shape
        out = xp.zeros((n, c, n_in), dtype=g.dtype)
        if g.size:
            vals = g if mask is None else g * mask[:, None, :].astype(g.dtype)
            flat = (xp.arange(n * c, dtype=np.int64).reshape(n, c, 1) * n_in
                    + idx[:, None, :]).reshape(-1)
            index_add_at(xp, out.reshape(-1), flat, xp.ascontiguousarray(vals).reshape(-1))
        return out

    @staticmethod
    def backward(ctx, gg):
        return PlaneGather.apply(gg, ctx.idx, ctx.mask), None, None, None


class _ZeroGradFor(Op, name="GridSampler2DBackward0"):
    """Pass ``y`` through and give ``other`` a zero gradient (PyTorch's nearest-mode grid
    gradient is defined and zero)."""

    @staticmethod
    def forward(ctx, y, other):
        ctx.other = (other.shape, other.dtype)
        return y.copy()

    @staticmethod
    def backward(ctx, g):
        shape, dt = ctx.other
        xp = array_module(g._data)
        return g, Tensor._make(xp.zeros(shape, dtype=dt))


def _cubic_coeffs(t: Tensor) -> list:
    """PyTorch's bicubic convolution coefficients (A = -0.75) for taps -1, 0, 1, 2."""
    a = -0.75

    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]


def _grid_sampler(input: Tensor, grid: Tensor, mode: str, padding: str,
                  align_corners: bool) -> Tensor:
    from . import shape as _shape
    from .pointwise import add

    xp = array_module(input._data)
    nd = input.ndim - 2
    n, c = input.shape[:2]
    sizes = tuple(input.shape[2:])  # (H, W) or (D, H, W)
    out_sp = tuple(grid.shape[1:-1])
    npts = _prod(out_sp)
    x_flat = _shape.reshape(input, (n, c, _prod(sizes)))
    g2 = _shape.reshape(grid, (n, npts, nd))
    # grid[..., 0] indexes the last (W) axis; coords[a] is the coordinate along spatial axis a
    coords = [None] * nd
    comps = [_shape.select(g2, 2, k) for k in range(nd)]
    strides = [_prod(sizes[a + 1:]) for a in range(nd)]
    if mode == "bicubic":
        for a in range(nd):
            coords[a] = GridCoord.apply(comps[nd - 1 - a], sizes[a], "zeros", align_corners,
                                        nd == 2)
    else:
        for a in range(nd):
            coords[a] = GridCoord.apply(comps[nd - 1 - a], sizes[a], padding, align_corners,
                                        nd == 2)

    def gather(corner_idx):
        """Values at integer corners (one int array (N, P) per axis); zeros outside."""
        mask = None
        flat = 0
        for a in range(nd):
            ia = corner_idx[a]
            inb = (ia >= 0) & (ia < sizes[a])
            mask = inb if mask is None else mask & inb
            flat = flat + xp.clip(ia, 0, sizes[a] - 1) * strides[a]
        return PlaneGather.apply(x_flat, flat.astype(np.int64), mask)

    if mode == "nearest":
        # nearbyint: round half to even, like PyTorch
        idx = [xp.rint(coords[a]._data).astype(np.int64) for a in range(nd)]
        out = gather(idx)
        out = _ZeroGradFor.apply(out, grid)
    elif mode == "bilinear":
        base = [xp.floor(coords[a]._data) for a in range(nd)]
        frac = [coords[a] - Tensor._make(base[a]) for a in range(nd)]
        base_i = [b.astype(np.int64) for b in base]
        out = None
        for corner in range(2 ** nd):
            bits = [(corner >> (nd - 1 - a)) & 1 for a in range(nd)]
            w = None
            for a in range(nd):
                wa = frac[a] if bits[a] else 1 - frac[a]
                w = wa if w is None else w * wa
            v = gather([base_i[a] + bits[a] for a in range(nd)])
            term = v * _shape.unsqueeze(w, 1)
            out = term if out is None else add(out, term)
    else:  # bicubic, 2-D only
        base = [xp.floor(coords[a]._data) for a in range(nd)]
        frac = [coords[a] - Tensor._make(base[a]) for a in range(nd)]
        wy, wx = _cubic_coeffs(frac[0]), _cubic_coeffs(frac[1])
        out = None
        for i in range(4):
            row = None
            for j in range(4):
                taps = []
                for a, off in ((0, i - 1), (1, j - 1)):
                    t = base[a] + off
                    if padding != "zeros":
                        t, _ = _pad_coords(xp, t, sizes[a], padding, align_corners)
                    taps.append(t.astype(np.int64))
                term = gather(taps) * _shape.unsqueeze(wx[j], 1)
                row = term if row is None else add(row, term)
            term = row * _shape.unsqueeze(wy[i], 1)
            out = term if out is None else add(out, term)
    return _shape.reshape(out, (n, c) + out_sp)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners=None) -> Tensor:
    """``torch.nn.functional.grid_sample`` for 4-D (bilinear, nearest, bicubic) and 5-D
    (bilinear, nearest) inputs with ``zeros``/``border``/``reflection`` padding; gradients
    for input and grid follow PyTorch's (borders count as outside for the clipped grid
    gradient; nearest gives the grid a zero gradient)."""
    import warnings

    _need_tensor(input, "grid_sampler", "input", 1)
    _need_tensor(grid, "grid_sampler", "grid", 2)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if "
                      "the old behavior is desired. See the documentation of grid_sample for "
                      "details.", stacklevel=2)
        align_corners = False
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but "
                           f"input is on {input.device} and grid is on {grid.device}")
    ishape, gshape = list(input.shape), list(grid.shape)
    if input.ndim == 0 or grid.ndim == 0 or ishape[0] != gshape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {ishape} and grid with sizes {gshape}")
    if gshape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last "
                           f"dimension, but got grid with sizes {gshape}")
    for i in range(2, input.ndim):
        if ishape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {ishape} with dimension {i} "
                               f"being empty")
    want = 4 if input.ndim == 4 else 5
    if not (input.ndim == want and grid.ndim == want):
        raise RuntimeError(f"grid_sampler(): expected {want}D input and grid with same number "
                           f"of dimensions, but got input with sizes {ishape} and grid with "
                           f"sizes {gshape}")
    if want == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    dt = input._data.dtype
    if not (dt.kind == "f" or dt in _HALF):
        raise NotImplementedError(f'"grid_sampler_{want - 2}d_cpu_kernel_impl" not implemented '
                                  f"for '{_legacy_scalar_name(input.dtype)}'")
    if grid.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_legacy_scalar_name(input.dtype)} but found "
                           f"{_legacy_scalar_name(grid.dtype)}")
    return _grid_sampler(input, grid, mode, padding_mode, bool(align_corners))


def _base_coords(n: int, align_corners: bool, np_dt):
    """PyTorch's ``linspace_from_neg_one``."""
    if n <= 1:
        return np.zeros(max(n, 1), dtype=np_dt)
    r = np.linspace(-1.0, 1.0, n)
    if not align_corners:
        r = r * (n - 1) / n
    return r.astype(np_dt)


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """``torch.nn.functional.affine_grid``: the sampling grid (N, *size[2:], nd) of a batch of
    affine matrices, ``base_grid @ theta^T`` (differentiable in ``theta``)."""
    import warnings

    from . import linalg
    from . import shape as _shape

    _need_tensor(theta, "affine_grid", "theta", 1)
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if "
                      "the old behavior is desired. See the documentation of grid_sample for "
                      "details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given, size = size, [int(s) for s in size]  # messages show size as the caller gave it
    shape_str = repr(theta.shape)
    if len(size) == 4:
        if theta.ndim != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{given}. Got {shape_str}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{given}. Got {shape_str}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {given}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    n = size[0]
    if theta.shape[0] != n:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {len(spatial) + 1}] but got: [{theta.shape[0]}, "
                           f"{len(spatial) + 1}].")
    nd = len(spatial)
    np_dt = theta._data.dtype
    # base[..., k]: x (last axis) first, then y, (z), then the homogeneous 1
    axes = [_base_coords(spatial[a], align_corners, np_dt) for a in range(nd)]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([mesh[nd - 1 - k] for k in range(nd)] + [np.ones_like(mesh[0])], -1)
    base = base.reshape(1, -1, nd + 1)
    xp = array_module(theta._data)
    bt = Tensor._make(xp.asarray(base))
    grid = linalg.matmul(bt, _shape.transpose(theta, 1, 2))
    return _shape.reshape(grid, (n,) + tuple(spatial) + (nd,))


__all__ += ["grid_sample", "affine_grid"]


# ---------------------------------------------------------------------------------------------
# pixel_shuffle / pixel_unshuffle / channel_shuffle: reshapes and a permutation
# ---------------------------------------------------------------------------------------------

def _check_factor(v, fname: str, arg: str) -> int:
    if not _is_int(v):
        raise TypeError(f"{fname}(): argument '{arg}' (position 2) must be int, not "
                        f"{type(v).__name__}")
    return int(v)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``torch.nn.functional.pixel_shuffle``: (*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    from . import shape as _shape

    _need_tensor(input, "pixel_shuffle", "input", 1)
    r = _check_factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    b = len(lead)
    oc = c // (r * r)
    y = _shape.reshape(input, tuple(lead) + (oc, r, r, h, w))
    perm = tuple(range(b)) + (b, b + 3, b + 1, b + 4, b + 2)
    y = _shape.permute(y, perm)
    return _shape.reshape(y, tuple(lead) + (oc, h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``torch.nn.functional.pixel_unshuffle``: (*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    from . import shape as _shape

    _need_tensor(input, "pixel_unshuffle", "input", 1)
    r = _check_factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    b = len(lead)
    y = _shape.reshape(input, tuple(lead) + (c, h // r, r, w // r, r))
    perm = tuple(range(b)) + (b, b + 2, b + 4, b + 1, b + 3)
    y = _shape.permute(y, perm)
    return _shape.reshape(y, tuple(lead) + (c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """``torch.nn.functional.channel_shuffle``: (N, g*k, *) -> channels regrouped as (k, g)."""
    from . import shape as _shape

    _need_tensor(input, "channel_shuffle", "input", 1)
    g = _check_factor(groups, "channel_shuffle", "groups")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    y = _shape.reshape(input, (n, g, c // g) + tuple(rest))
    y = _shape.transpose(y, 1, 2)
    return _shape.reshape(y, tuple(input.shape))


__all__ += ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]
