"""Distances and normalisation: ``normalize``, ``cosine_similarity``, ``pairwise_distance``,
``pdist`` (``torch.nn.functional``) and ``cdist`` (``torch.cdist``).

``pdist``/``cdist`` are ops with PyTorch's gradient conventions (zero at zero distance, the
inf-norm gradient going to every maximal component); their backward is written with ember ops.
For ``p = 2`` ``cdist`` switches to PyTorch's matrix-product formula under the same conditions
PyTorch does (more than 25 rows, or ``compute_mode``), so results carry the same rounding.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor, _legacy_scalar_name
from ..autograd.function import Op
from . import _util

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pdist"]

_HALF = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _HALF.add(_dtype._BF16_NP)


def _need_tensor(x, fname: str, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _const(arr) -> Tensor:
    return Tensor._make(arr)


def _number(v, fname: str, arg: str, pos: int) -> float:
    if isinstance(v, Tensor) and v.numel() == 1:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be float, not "
                        f"{type(v).__name__}")
    return float(v)


# ---------------------------------------------------------------------------------------------
# normalize / cosine_similarity / pairwise_distance: compositions of ember ops
# ---------------------------------------------------------------------------------------------

def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``torch.nn.functional.normalize``: ``input / max(||input||_p, eps)`` along ``dim``."""
    from .linalg import linalg_vector_norm
    from .pointwise import clamp_min, div
    from .shape import expand

    _need_tensor(input, "normalize", "input", 1)
    denom = expand(clamp_min(linalg_vector_norm(input, p, dim, True), eps), tuple(input.shape))
    return div(input, denom) if out is None else div(input, denom, out=out)


class _ClampValue(Op, name="CloneBackward0"):
    """``max(x, eps)`` in value only: the gradient passes through unchanged, as PyTorch's
    cosine_similarity clamps its (cloned) norms in place under no_grad."""

    @staticmethod
    def forward(ctx, x, eps):
        xp = array_module(x)
        return xp.maximum(x, xp.asarray(eps, dtype=np.float32).astype(x.dtype))

    @staticmethod
    def backward(ctx, g):
        return g, None


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``torch.nn.functional.cosine_similarity`` (PyTorch 2.x): ``sum(x1/||x1|| * x2/||x2||)``
    over ``dim`` after broadcasting, each norm clamped to at least ``eps`` in value (the
    gradient flows through the unclamped norm). Integer inputs take the common dtype."""
    from .linalg import linalg_vector_norm
    from .pointwise import div, mul
    from .reduction import sum as _sum
    from .shape import broadcast_tensors

    _need_tensor(x1, "cosine_similarity", "x1", 1)
    _need_tensor(x2, "cosine_similarity", "x2", 2)
    eps = _number(eps, "cosine_similarity", "eps", 4)
    common = _util.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_legacy_scalar_name(common)}")
    if eps < 0:
        raise RuntimeError(f"eps must be non-negative, got: {eps:g}")
    if not (x1.dtype.is_floating_point or x1.dtype.is_complex):
        x1 = _util.cast(x1, common)
    if not (x2.dtype.is_floating_point or x2.dtype.is_complex):
        x2 = _util.cast(x2, common)
    x1, x2 = broadcast_tensors(x1, x2)
    n1 = _ClampValue.apply(linalg_vector_norm(x1, 2, dim, True), eps)
    n2 = _ClampValue.apply(linalg_vector_norm(x2, 2, dim, True), eps)
    return _sum(mul(div(x1, n1), div(x2, n2)), dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``torch.nn.functional.pairwise_distance``: ``||x1 - x2 + eps||_p`` over the last dim of
    the broadcast inputs."""
    from .linalg import linalg_vector_norm
    from .pointwise import add, sub

    _need_tensor(x1, "pairwise_distance", "x1", 1)
    _need_tensor(x2, "pairwise_distance", "x2", 2)
    p = _number(p, "pairwise_distance", "p", 3)
    eps = _number(eps, "pairwise_distance", "eps", 4)
    inner = max(x1.ndim, x2.ndim) - 1
    return linalg_vector_norm(add(sub(x1, x2), eps), p, inner, bool(keepdim))


# ---------------------------------------------------------------------------------------------
# pdist / cdist
# ---------------------------------------------------------------------------------------------

def _reduce_dist(xp, d, p: float):
    """The p-norm of |d| over the last axis (d already absolute values)."""
    if p == 0:
        return (d != 0).sum(-1).astype(d.dtype)
    if p == 1:
        return d.sum(-1)
    if p == 2:
        return xp.sqrt((d * d).sum(-1))
    if math.isinf(p):
        return d.max(-1) if d.shape[-1] else xp.zeros(d.shape[:-1], dtype=d.dtype)
    return (d ** d.dtype.type(p)).sum(-1) ** d.dtype.type(1.0 / p)


def _dist_grad(diff: Tensor, dist: Tensor, g: Tensor, p: float) -> Tensor:
    """Gradient of ``||diff||_p`` (over the last dim) times ``g``, with PyTorch's conventions:
    zero where the distance is zero (and, for p < 1, where a component is zero); the inf norm
    sends the gradient to every component equal to the maximum."""
    from . import pointwise as pw

    xp = array_module(diff._data)
    dt = diff._data.dtype
    if p == 0:
        return _const(xp.zeros(diff._data.shape, dtype=dt))
    if p == 1:
        return g * pw.sign(diff)
    if math.isinf(p):
        hit = (xp.abs(diff._data) == dist._data).astype(dt)
        return g * pw.sign(diff) * _const(hit)
    zero = (dist._data == 0).astype(dt)
    safe_dist = dist + _const(zero)
    keep = _const(1 - zero)
    if p == 2:
        return g * diff / safe_dist * keep
    absd = pw.abs(diff)
    if p < 2:
        dzero = (diff._data == 0).astype(dt) if p < 1 else None
        if dzero is not None:
            absd = absd + _const(dzero)
        r = pw.sign(diff) * pw.pow(absd, p - 1) * g / pw.pow(safe_dist, p - 1) * keep
        return r * _const(1 - dzero) if dzero is not None else r
    return diff * pw.pow(absd, p - 2) * g / pw.pow(safe_dist, p - 1) * keep


class PairDist(Op, name="PdistBackward0"):
    """``||diff||_p`` over the last dim of (K, m) row differences."""

    @staticmethod
    def forward(ctx, diff, p):
        xp = array_module(diff)
        r = _reduce_dist(xp, xp.abs(diff), p)
        if ctx._edges and p != 0:
            ctx.save_for_backward(diff, r)
        ctx.p, ctx.shape = p, diff.shape
        return r

    @staticmethod
    def backward(ctx, g):
        if ctx.p == 0:
            xp = array_module(g._data)
            return _const(xp.zeros(ctx.shape, dtype=g._data.dtype)), None
        diff, r = ctx.saved_tensors
        from .shape import unsqueeze

        return _dist_grad(diff, unsqueeze(r, -1), unsqueeze(g, -1), ctx.p), None


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """``torch.nn.functional.pdist``: p-norm distances between all row pairs ``i < j`` of a
    2-D input, in row-major upper-triangle order."""
    from .indexing import index_select
    from .pointwise import sub

    _need_tensor(input, "pdist", "input", 1)
    p = _number(p, "pdist", "p", 2)
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if input._data.dtype in _HALF:
        raise NotImplementedError(f"\"pdist\" not implemented for "
                                  f"'{_legacy_scalar_name(input.dtype)}'")
    n = input.shape[0]
    xp = array_module(input._data)
    i, j = np.triu_indices(n, 1)
    ii = _const(xp.asarray(i.astype(np.int64)))
    jj = _const(xp.asarray(j.astype(np.int64)))
    diff = sub(index_select(input, 0, ii), index_select(input, 0, jj))
    return PairDist.apply(diff, p)


_CHUNK = 1 << 22  # elements of |x1_i - x2_j| materialised at once by cdist's forward


class Cdist(Op, name="CdistBackward0"):
    """p-norm distances between the rows of (B, r1, m) and (B, r2, m) batches."""

    @staticmethod
    def forward(ctx, x1, x2, p):
        xp = array_module(x1)
        b, r1, m = x1.shape
        r2 = x2.shape[1]
        out = xp.zeros((b, r1, r2), dtype=x1.dtype)
        if out.size and m:
            rows = max(1, _CHUNK // max(1, b * r2 * m))
            for s in range(0, r1, rows):
                d = xp.abs(x1[:, s:s + rows, None, :] - x2[:, None, :, :])
                out[:, s:s + rows] = _reduce_dist(xp, d, p)
        if ctx._edges and p != 0:
            ctx.save_for_backward(x1, x2, out)
        ctx.p, ctx.shapes = p, (x1.shape, x2.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        from .reduction import sum as _sum
        from .shape import unsqueeze

        s1, s2 = ctx.shapes
        xp = array_module(g._data)
        dt = g._data.dtype
        if ctx.p == 0 or g._data.size == 0 or s1[-1] == 0:
            return (_const(xp.zeros(s1, dtype=dt)), _const(xp.zeros(s2, dtype=dt)), None)
        x1, x2, r = ctx.saved_tensors
        diff = unsqueeze(x1, -2) - unsqueeze(x2, -3)
        gd = _dist_grad(diff, unsqueeze(r, -1), unsqueeze(g, -1), ctx.p)
        return _sum(gd, -2), -_sum(gd, -3), None


class EuclideanDist(Op, name="EuclideanDistBackward0"):
    """PyTorch's matrix-product Euclidean distance: ``sqrt(max(|a|^2 - 2 a.b + |b|^2, 0))``."""

    @staticmethod
    def forward(ctx, x1, x2):
        xp = array_module(x1)
        n1 = (x1 * x1).sum(-1, keepdims=True)
        n2 = (x2 * x2).sum(-1, keepdims=True)
        a = xp.concatenate([x1 * x1.dtype.type(-2), n1, xp.ones_like(n1)], -1)
        bm = xp.concatenate([x2, xp.ones_like(n2), n2], -1)
        r = xp.matmul(a, xp.swapaxes(bm, -1, -2))
        r = xp.sqrt(xp.maximum(r, 0))
        if ctx._edges:
            ctx.save_for_backward(x1, x2, r)
        return r

    @staticmethod
    def backward(ctx, g):
        from .linalg import matmul
        from .reduction import sum as _sum
        from .shape import transpose, unsqueeze

        x1, x2, r = ctx.saved_tensors
        zero = (r._data == 0).astype(r._data.dtype)
        ratio = g / (r + _const(zero)) * _const(1 - zero)
        g1 = x1 * _sum(ratio, -1, True) - matmul(ratio, x2)
        g2 = x2 * unsqueeze(_sum(ratio, -2), -1) - matmul(transpose(ratio, -1, -2), x1)
        return g1, g2


_CDIST_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                "donot_use_mm_for_euclid_dist": 2}


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """``torch.cdist``: p-norm distances between the rows of ``x1`` (*, r1, m) and ``x2``
    (*, r2, m), batch dims broadcast. For p = 2 the matrix-product formula is used when either
    side has more than 25 rows (or ``compute_mode='use_mm_for_euclid_dist'``), as in PyTorch."""
    from .shape import expand, reshape

    _need_tensor(x1, "cdist", "x1", 1)
    _need_tensor(x2, "cdist", "x2", 2)
    p = _number(p, "cdist", "p", 3)
    if compute_mode is None:
        compute_mode = "use_mm_for_euclid_dist_if_necessary"
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = _CDIST_MODES[compute_mode]
    if x1.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    c1, c2 = x1.shape[-1], x2.shape[-1]
    if c1 != c2:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {c1} X2: {c2}")
    for name, t in (("X1", x1), ("X2", x2)):
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_legacy_scalar_name(t.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    _util.check_same_device(x1, x2)
    r1, r2 = x1.shape[-2], x2.shape[-2]
    batch = _util.broadcast_shapes_or_raise(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {_legacy_scalar_name(x1.dtype)} but found "
                           f"{_legacy_scalar_name(x2.dtype)}")
    if x1._data.dtype in _HALF:
        raise NotImplementedError(f"\"cdist\" not implemented for "
                                  f"'{_legacy_scalar_name(x1.dtype)}'")
    nb = 1
    for s in batch:
        nb *= s
    a = reshape(expand(x1, batch + (r1, c1)), (nb, r1, c1))
    b = reshape(expand(x2, batch + (r2, c2)), (nb, r2, c2))
    use_mm = p == 2 and (mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25)))
    if use_mm and a.numel() and b.numel():
        r = EuclideanDist.apply(a, b)
    else:
        r = Cdist.apply(a, b, p)
    return reshape(r, batch + (r1, r2))
