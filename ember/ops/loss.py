"""Loss functions (``torch.nn.functional``): regression losses, the cross-entropy family, margin
and embedding losses, probabilistic NLL losses and CTC.

Reductions follow PyTorch: ``reduction`` is ``'none' | 'mean' | 'sum'``; the deprecated
``size_average``/``reduce`` arguments are mapped (with PyTorch's warning) exactly as
``torch.nn._reduction.legacy_get_string`` does.

Fused ops (a design exception to "composites from primitives", each with its measurement in
``benchmarks/loss.py``):

- ``cross_entropy`` with class indices is one op: a stable log-softmax (max subtracted), the
  picked log-probabilities, weights/``ignore_index``/label smoothing, and a backward that is
  ``softmax - one_hot`` scaled in one pass. For (512, 1000) float32 logits, forward+backward
  took 0.18x the time of ``log_softmax`` + ``nll_loss`` and 0.16x that of a composite of
  primitives (same run). The log-probabilities are kept as a hidden second output, so under
  ``create_graph`` the same backward built from ember ops differentiates through them (double
  backward).
- ``nll_loss``, ``mse_loss``, ``smooth_l1_loss``, ``huber_loss``, ``binary_cross_entropy``,
  ``binary_cross_entropy_with_logits`` and ``soft_margin_loss`` are elementwise ops with the
  reduction inside and PyTorch's backward formulas (1024x1024 float32, forward+backward against
  the composite: mse 0.13x, smooth_l1 0.46x, bce_with_logits 0.69x).
- ``ctc_loss``: the forward-backward algorithm in log space, vectorised over the batch and the
  extended label dimension (the loop runs over time steps only).

As everywhere in ember, a backward computes on arrays when no graph is recorded and with ember
ops under ``create_graph=True``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype, _parallel
from .._backend import array_module
from .._tensor import Tensor, _legacy_scalar_name
from ..autograd.function import Op
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _state
from . import _util
from . import pointwise as _pw
from . import reduction as _red
from . import shape as _shape
from .activation import _softplus_arr, _where
from .distance import pairwise_distance
from .pointwise import _HALF, _arr

__all__ = [
    "l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "huber_loss", "smooth_l1_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss",
]

_F32 = np.dtype(np.float32)
_INT64 = np.dtype(np.int64)


# ---------------------------------------------------------------------------------------------
# reductions and checks
# ---------------------------------------------------------------------------------------------

def _legacy_get_string(size_average, reduce, emit_warning: bool = True) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=4)
    return ret


def _check_reduction(reduction) -> str:
    if reduction in ("none", "mean", "sum"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=4)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduction(size_average, reduce, reduction) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return _check_reduction(reduction)


def _apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return _red.mean(loss)
    if reduction == "sum":
        return _red.sum(loss)
    return loss


def _check(x, fname: str, arg: str, pos: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _not_differentiable(t, fname: str, arg: str) -> None:
    """PyTorch refuses, at the call, a gradient-requiring argument its op cannot differentiate."""
    if isinstance(t, Tensor) and t._rg and _state.enabled:
        raise RuntimeError(f"The function '{fname}' is not differentiable with respect to "
                           f"argument '{arg}'. This input cannot have requires_grad True.")


def _size_warning(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _up(a):
    """float16/bfloat16 arrays are computed in float32 (PyTorch's opmath)."""
    return a.astype(_F32) if a.dtype in _HALF else a


def _reduce_arr(xp, v, red: str):
    if red == "mean":
        # 0/0 = nan for an empty input, as in PyTorch
        return v.sum() / v.size if v.size else xp.asarray(np.nan, dtype=v.dtype)
    if red == "sum":
        return v.sum()
    return v


def _common_float(input: Tensor, target: Tensor) -> tuple:
    """Both operands in their promoted dtype (PyTorch computes these losses after ``sub``)."""
    rt = _util.result_type(input, target)
    if not (rt.is_floating_point or rt.is_complex):
        rt = _dtype.get_default_dtype()
    return _util.cast(input, rt), _util.cast(target, rt)


# ---------------------------------------------------------------------------------------------
# elementwise losses with the reduction inside
# ---------------------------------------------------------------------------------------------

class _PointwiseLoss(Op):
    """``reduce(f(x, t) * w)``; subclasses give ``_f``, ``_dx``, ``_dt`` on arrays and
    ``_dx_t``/``_dt_t`` with ember ops (used when the backward is recorded)."""

    @staticmethod
    def forward(ctx, x, t, w, red, *p):
        cls = type(ctx)
        xp = array_module(x)
        v = cls._f(xp, _up(x), _up(t), *p)
        if w is not None:
            v = v * _up(w)
        ctx.red, ctx.p, ctx.n = red, p, v.size
        if ctx._edges:
            ctx.save_for_backward(x, t, w)
        return _arr(xp.asarray(_reduce_arr(xp, v, red)).astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        cls = type(ctx)
        x, t, w = ctx.saved_tensors
        e = ctx._edges
        p = ctx.p
        if ctx.red == "mean":
            g = g / ctx.n
        gx = gt = None
        if _state.enabled:
            gw = g if w is None else g * w
            if e[0]:
                gx = cls._dx_t(x, t, *p) * gw
            if e[1]:
                gt = cls._dt_t(x, t, *p) * gw
            return gx, gt
        xp = array_module(x._data)
        xa, ta = _up(x._data), _up(t._data)
        gw = _up(g._data)
        if w is not None:
            gw = gw * _up(w._data)
        if e[0]:
            gx = Tensor._make(_arr((cls._dx(xp, xa, ta, *p) * gw).astype(x._data.dtype,
                                                                         copy=False)))
        if e[1]:
            gt = Tensor._make(_arr((cls._dt(xp, xa, ta, *p) * gw).astype(t._data.dtype,
                                                                         copy=False)))
        return gx, gt


class MseLoss(_PointwiseLoss, name="MseLossBackward0"):
    @staticmethod
    def _f(xp, x, t):
        d = x - t
        return d * d

    @staticmethod
    def _dx(xp, x, t):
        return 2 * (x - t)

    @staticmethod
    def _dt(xp, x, t):
        return 2 * (t - x)

    @staticmethod
    def _dx_t(x, t):
        return 2 * (x - t)

    @staticmethod
    def _dt_t(x, t):
        return 2 * (t - x)


class SmoothL1Loss(_PointwiseLoss, name="SmoothL1LossBackward0"):
    @staticmethod
    def _f(xp, x, t, beta):
        d = xp.abs(x - t)
        return _where(xp, d < beta, 0.5 * d * d / beta, d - 0.5 * beta)

    @staticmethod
    def _dx(xp, x, t, beta):
        return xp.clip((x - t) / beta, -1, 1)

    @staticmethod
    def _dt(xp, x, t, beta):
        return -xp.clip((x - t) / beta, -1, 1)

    @staticmethod
    def _dx_t(x, t, beta):
        return _pw.clamp((x - t) / beta, -1.0, 1.0)

    @staticmethod
    def _dt_t(x, t, beta):
        return -_pw.clamp((x - t) / beta, -1.0, 1.0)


class HuberLoss(_PointwiseLoss, name="HuberLossBackward0"):
    @staticmethod
    def _f(xp, x, t, delta):
        d = xp.abs(x - t)
        return _where(xp, d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))

    @staticmethod
    def _dx(xp, x, t, delta):
        return xp.clip(x - t, -delta, delta)

    @staticmethod
    def _dt(xp, x, t, delta):
        return -xp.clip(x - t, -delta, delta)

    @staticmethod
    def _dx_t(x, t, delta):
        return _pw.clamp(x - t, -delta, delta)

    @staticmethod
    def _dt_t(x, t, delta):
        return -_pw.clamp(x - t, -delta, delta)


class BinaryCrossEntropy(_PointwiseLoss, name="BinaryCrossEntropyBackward0"):
    """PyTorch's BCE: logs clamped at -100, input gradient ``(x - t) / max(x (1 - x), 1e-12)``,
    target gradient ``log(1 - x) - log(x)``."""

    @staticmethod
    def _f(xp, x, t):
        return (t - 1) * xp.maximum(xp.log1p(-x), -100) - t * xp.maximum(xp.log(x), -100)

    @staticmethod
    def _dx(xp, x, t):
        return (x - t) / xp.maximum((1 - x) * x, 1e-12)

    @staticmethod
    def _dt(xp, x, t):
        # PyTorch's target gradient does not clamp the logs (inf at x = 0 and x = 1)
        return xp.log1p(-x) - xp.log(x)

    @staticmethod
    def _dx_t(x, t):
        return (x - t) / _pw.clamp_min((1 - x) * x, 1e-12)

    @staticmethod
    def _dt_t(x, t):
        return _pw.log1p(-x) - _pw.log(x)


def _log_sigmoid_arr(xp, x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


class BinaryCrossEntropyWithLogits(_PointwiseLoss, name="BinaryCrossEntropyWithLogitsBackward0"):
    """``(1 - t) x - (1 + (pw - 1) t) log_sigmoid(x)``: stable for logits of any size."""

    @staticmethod
    def _f(xp, x, t, pw):
        ls = _log_sigmoid_arr(xp, x)
        if pw is not None:
            ls = ls * ((_up(pw) - 1) * t + 1)
        return (1 - t) * x - ls

    @staticmethod
    def _dx(xp, x, t, pw):
        sig = 1 / (1 + xp.exp(-x))
        if pw is None:
            return sig - t
        pt = _up(pw) * t
        return (pt + 1 - t) * sig - pt

    @staticmethod
    def _dt(xp, x, t, pw):
        # log_sigmoid(-x) - pw * log_sigmoid(x)
        ls = _log_sigmoid_arr(xp, x)
        return (ls - x) - (ls if pw is None else _up(pw) * ls)

    @staticmethod
    def _dx_t(x, t, pw):
        sig = _pw.sigmoid(x)
        if pw is None:
            return sig - t
        pt = Tensor._make(pw) * t
        return (pt + 1 - t) * sig - pt

    @staticmethod
    def _dt_t(x, t, pw):
        from .activation import logsigmoid

        ls = logsigmoid(x)
        return (ls - x) - (ls if pw is None else Tensor._make(pw) * ls)


class SoftMarginLoss(_PointwiseLoss, name="SoftMarginLossBackward0"):
    """``log(1 + exp(-t x))``, computed as a stable softplus."""

    @staticmethod
    def _f(xp, x, t):
        return _softplus_arr(xp, -t * x)

    @staticmethod
    def _dx(xp, x, t):
        return -t / (1 + xp.exp(t * x))

    @staticmethod
    def _dx_t(x, t):
        return -t * _pw.sigmoid(-t * x)


def _same_size_broadcast(input: Tensor, target: Tensor):
    """PyTorch broadcasts input and target of the regression losses (after its warning)."""
    _util.check_same_device(input, target)
    if input.shape == target.shape:
        return input, target
    return _shape.broadcast_tensors(input, target)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``F.l1_loss``: ``|input - target|`` reduced (a composite, as in PyTorch); with ``weight``
    (same size as input), ``mean`` is ``sum(w |d|) / sum(w)``."""
    _check(input, "l1_loss", "input", 1)
    _check(target, "l1_loss", "target", 2)
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction) if weight is None else \
        _weighted_reduction(size_average, reduce, reduction)
    x, t = _same_size_broadcast(input, target)
    d = _pw.abs(_pw.sub(x, t))
    if weight is not None:
        return _weighted(d, input, weight, reduction)
    return _apply_reduction(d, reduction)


def _weighted_reduction(size_average, reduce, reduction) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return reduction


def _weighted(v: Tensor, input: Tensor, weight: Tensor, reduction: str,
              by_weight: bool = True) -> Tensor:
    """PyTorch's weighted regression losses: ``mean`` is ``sum(w v) / sum(w)`` (l1, mse) or the
    plain mean of ``w v`` (huber)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    wv = v * weight
    if reduction == "none":
        return wv
    if reduction == "sum":
        return _red.sum(wv)
    if reduction == "mean":
        return _red.sum(wv) / _red.sum(weight) if by_weight else _red.mean(wv)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     f"'sum'.")


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """``F.mse_loss``: ``(input - target)^2`` reduced (``MseLossBackward0``); with ``weight``
    ``mean`` is ``sum(w d^2) / sum(w)``."""
    _check(input, "mse_loss", "input", 1)
    _check(target, "mse_loss", "target", 2)
    _size_warning(input, target)
    if weight is not None:
        reduction = _weighted_reduction(size_average, reduce, reduction)
        x, t = _same_size_broadcast(input, target)
        d = _pw.sub(x, t)
        return _weighted(d * d, input, weight, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    x, t = _same_size_broadcast(input, target)
    x, t = _common_float(x, t)
    return MseLoss.apply(x, t, None, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``F.smooth_l1_loss``: quadratic below ``beta``, linear above; ``beta == 0`` is l1."""
    _check(input, "smooth_l1_loss", "input", 1)
    _check(target, "smooth_l1_loss", "target", 2)
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, t = _same_size_broadcast(input, target)
    if beta == 0.0:
        return _apply_reduction(_pw.abs(_pw.sub(x, t)), reduction)
    x, t = _common_float(x, t)
    return SmoothL1Loss.apply(x, t, None, reduction, float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``F.huber_loss``: ``0.5 d^2`` below ``delta``, ``delta (|d| - delta / 2)`` above; the
    result has the input's dtype, as in PyTorch."""
    _check(input, "huber_loss", "input", 1)
    _check(target, "huber_loss", "target", 2)
    _size_warning(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, t = _same_size_broadcast(input, target)
    t = _util.cast(t, x.dtype)
    if weight is not None:
        return _weighted(HuberLoss.apply(x, t, None, "none", float(delta)), input, weight,
                         reduction, by_weight=False)
    reduction = _check_reduction(reduction)
    return HuberLoss.apply(x, t, None, reduction, float(delta))


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``F.soft_margin_loss``: ``log(1 + exp(-target * input))`` reduced. Computed as a stable
    softplus, so it stays finite where PyTorch's ``log1p(exp(.))`` overflows to inf."""
    _check(input, "soft_margin_loss", "input", 1)
    _check(target, "soft_margin_loss", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    _not_differentiable(target, "soft_margin_loss", "target")
    x, t = _same_size_broadcast(input, target)
    return SoftMarginLoss.apply(x, _util.cast(t, x.dtype), None, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``F.binary_cross_entropy``: ``-w (t log x + (1 - t) log(1 - x))`` with the logs clamped at
    -100 like PyTorch; inputs outside [0, 1] raise PyTorch's error."""
    _check(input, "binary_cross_entropy", "input", 1)
    _check(target, "binary_cross_entropy", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         f"size.")
    if weight is not None:
        _check(weight, "binary_cross_entropy", "weight", 3)
        weight = _shape.expand(weight, _util.broadcast_shapes_or_raise(target.shape,
                                                                       weight.shape))
        _not_differentiable(weight, "binary_cross_entropy", "weight")
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {_legacy_scalar_name(target.dtype)} but expected "
                           f"{_legacy_scalar_name(input.dtype)}")
    a = input._data
    if not (_is_float(a.dtype)):
        from .pointwise import _not_impl

        raise _not_impl("binary_cross_entropy", a.dtype, a)
    xp = array_module(a)
    if a.size and not bool(xp.all((a >= 0) & (a <= 1))):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None:
        weight = _util.cast(weight, input.dtype)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``F.binary_cross_entropy_with_logits``: sigmoid + BCE in one stable expression
    (``(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)``), optionally weighted."""
    fname = "binary_cross_entropy_with_logits"
    _check(input, fname, "input", 1)
    _check(target, fname, "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _not_differentiable(weight, fname, "weight")
    _not_differentiable(pos_weight, fname, "pos_weight")
    x, t = _common_float(input, target)
    shape = x.shape
    pw = None
    if pos_weight is not None:
        _check(pos_weight, fname, "pos_weight", 7)
        shape = _util.broadcast_shapes_or_raise(shape, pos_weight.shape)
        pw = _util.cast(pos_weight, x.dtype)._data
    if weight is not None:
        _check(weight, fname, "weight", 3)
        shape = _util.broadcast_shapes_or_raise(shape, weight.shape)
        weight = _util.cast(weight, x.dtype)
    if shape != x.shape:
        # a weight that broadcasts the loss beyond the input's shape (PyTorch allows it)
        x, t = _shape.expand(x, shape), _shape.expand(t, shape)
    return BinaryCrossEntropyWithLogits.apply(x, t, weight, reduction, pw)


def _is_float(npd) -> bool:
    return npd.kind == "f" or npd == _dtype._BF16_NP


# ---------------------------------------------------------------------------------------------
# nll_loss and cross_entropy (class indices): fused ops
# ---------------------------------------------------------------------------------------------

def _targets(xp, t, ignore, C: int):
    """Flattened targets: the valid mask and the class of each (0 where ignored), after
    PyTorch's range check."""
    tf = t.reshape(-1).astype(_INT64, copy=False)
    valid = tf != ignore
    bad = valid & ((tf < 0) | (tf >= C))
    if bool(bad.any()):
        v = int(tf[bad][0])
        raise IndexError(f"Target {v} is out of bounds.")
    return xp.where(valid, tf, 0), valid


def _flat_index(xp, shape, tc):
    """Flat positions of ``(n, tc, s)`` in a C-contiguous array of ``shape`` = (N, C, *S) (or
    of ``tc`` in (C,))."""
    if len(shape) == 1:
        return tc
    C = shape[1]
    S = int(np.prod(shape[2:], dtype=np.int64))
    base = xp.arange(tc.size, dtype=_INT64)
    return (base // S) * (C * S) + tc * S + base % S


def _sample_weights(xp, w, tc, valid, work):
    if w is None:
        return valid.astype(work)
    return xp.where(valid, _up(w)[tc], 0).astype(work, copy=False)


class NllLoss(Op, name="NllLossBackward0"):
    """``-w[t] x[n, t]`` reduced, with PyTorch's ``ignore_index`` and weighted-mean rules."""

    @staticmethod
    def forward(ctx, x, t, w, ignore, red):
        xp = array_module(x)
        C = x.shape[0 if x.ndim == 1 else 1]
        tc, valid = _targets(xp, t, ignore, C)
        work = _F32 if x.dtype in _HALF else x.dtype
        xc = xp.ascontiguousarray(x)
        idx = _flat_index(xp, x.shape, tc)
        wt = _sample_weights(xp, w, tc, valid, work)
        v = -_up(xc.reshape(-1)[idx]) * wt
        total = wt.sum()
        ctx.red, ctx.idx, ctx.wt, ctx.total = red, idx, wt, total
        ctx.shape, ctx.out_shape = x.shape, t.shape
        if red == "mean":
            r = v.sum() / total
        elif red == "sum":
            r = v.sum()
        else:
            r = v.reshape(t.shape if x.ndim > 1 else ())  # unbatched: 0-d like PyTorch
        return _arr(xp.asarray(r).astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g._data)
        dt = g._data.dtype
        coef = -ctx.wt
        if ctx.red == "mean":
            coef = coef / xp.where(ctx.total == 0, 1, ctx.total)  # (0, not nan, when all ignored)
        m = xp.zeros(int(np.prod(ctx.shape, dtype=np.int64)), dtype=dt)
        m[ctx.idx] = coef.astype(dt)
        m = Tensor._make(m.reshape(ctx.shape))
        if ctx.red == "none" and len(ctx.shape) > 1:
            g = _shape.unsqueeze(g, 1)
        # linear in g and independent of x: the same expression serves double backward
        return m * g


class NllLoss2d(NllLoss, name="NllLoss2DBackward0"):
    pass


class CrossEntropy(Op, name="NllLossBackward0"):
    """Class-index cross entropy in one op (see the module docstring). Outputs the loss and,
    hidden, the log-probabilities (what backward needs)."""

    @staticmethod
    def forward(ctx, x, t, w, ignore, red, ls):
        xp = array_module(x)
        if xp is np and x.ndim == 2 and w is None and ls == 0 and red != "none" \
                and x.dtype in _FAST_CE and x.shape[0]:
            r = _ce_fast_forward(ctx, x, t, ignore, red)
            if r is not None:
                return r
        cd = 0 if x.ndim == 1 else 1
        C = x.shape[cd]
        tc, valid = _targets(xp, t, ignore, C)
        work = _F32 if x.dtype in _HALF else x.dtype
        z = _up(x)
        z = z - z.max(axis=cd, keepdims=True)
        z -= xp.log(xp.exp(z).sum(axis=cd, keepdims=True))
        logp = xp.ascontiguousarray(z)
        idx = _flat_index(xp, x.shape, tc)
        wt = _sample_weights(xp, w, tc, valid, work)
        v = -logp.reshape(-1)[idx] * wt
        total = wt.sum()
        if ls > 0:
            wb = None if w is None else _up(w).reshape((C,) + (1,) * (x.ndim - 1 - cd))
            sm = -(logp if wb is None else logp * wb).sum(axis=cd).reshape(-1)
            sm = xp.where(valid, sm, 0)
            v = (1 - ls) * v + (ls / C) * sm
        ctx.red, ctx.ls, ctx.cd, ctx.C = red, ls, cd, C
        ctx.idx, ctx.wt, ctx.valid, ctx.total = idx, wt, valid, total
        ctx.w = None if w is None else _up(w)
        ctx.set_materialize_grads(False)
        if red == "mean":
            r = v.sum() / total
        elif red == "sum":
            r = v.sum()
        else:
            r = v.reshape(t.shape if x.ndim > 1 else ())  # unbatched: 0-d like PyTorch
        out_logp = _arr(logp.astype(x.dtype, copy=False))
        if ctx._edges:
            ctx.save_for_backward(out_logp)
        return _arr(xp.asarray(r).astype(x.dtype, copy=False)), out_logp

    @staticmethod
    def backward(ctx, g, g_logp):
        logp, prob = (ctx.saved_tensors + (None,))[:2]
        # the hidden output's template (kept for materializing grads, which this op turns off)
        # would otherwise keep the log-probabilities alive after backward
        ctx._out_meta = None
        if ctx.__dict__.get("fast") and g is not None and g_logp is None \
                and not _state.enabled:
            # (softmax - one_hot) * g / n in two array passes
            la = logp._data
            scale = g._data / ctx.total
            if prob is None:
                p = np.exp(la)
                p *= scale
            else:  # the large case: the forward kept the probabilities
                pa = prob._data
                p = np.empty_like(pa)
                _parallel.parallel_for(lambda s, e: np.multiply(pa[s:e], scale, out=p[s:e]),
                                       pa.shape[0], min_items=_ce_rows_per_block(pa),
                                       blas_single=False)
            p.reshape(-1)[ctx.idx] -= scale
            return Tensor._make(p)
        cd, C, ls = ctx.cd, ctx.C, ctx.ls
        la = logp._data
        xp = array_module(la)
        dt = la.dtype
        work = _F32 if dt in _HALF else dt
        shape = la.shape
        # per-sample coefficients: a of (softmax - one_hot), b of (W * softmax - w), with
        # W = sum(w) (C without weights); broadcast along the class dim
        bshape = (shape[0], 1) + shape[2:] if cd == 1 else ()
        wshape = (C,) + (1,) * (len(shape) - 1 - cd)
        wt, valid = ctx.wt, ctx.valid
        if wt is None:  # the fast forward's case: no weights, no ignored targets
            valid = xp.ones(shape[0], dtype=bool)
            wt = valid.astype(work)
        a = (wt * (1 - ls)).reshape(bshape)
        b = (valid * (ls / C)).astype(work).reshape(bshape) if ls > 0 else None
        wb = None if ctx.w is None else ctx.w.reshape(wshape)
        W = float(C) if ctx.w is None else float(ctx.w.sum())
        if ctx.red == "mean":
            # all targets ignored: the loss is nan but, as in PyTorch, the gradient is 0
            den = xp.where(ctx.total == 0, 1, ctx.total)
            a = a / den
            b = None if b is None else b / den
        gx = None
        if g is not None and not _state.enabled:
            gs = _up(g._data)
            if ctx.red == "none":
                gs = gs.reshape(bshape)
            p = xp.exp(_up(la))
            coef = a if b is None else a + b * W
            p *= coef * gs
            p.reshape(-1)[ctx.idx] -= (xp.broadcast_to(a * gs, bshape).reshape(-1)
                                       if bshape else a * gs)
            if b is not None:
                p -= b * gs * (1 if wb is None else wb)
            gx = Tensor._make(_arr(p.astype(dt, copy=False)))
        elif g is not None:
            # the same gradient from ember ops, differentiable in g and in the (graph-connected)
            # log-probabilities
            gs = _shape.reshape(g, bshape) if ctx.red == "none" else g
            coef = a if b is None else a + b * W
            onehot = xp.zeros(la.size, dtype=work)
            onehot[ctx.idx] = xp.broadcast_to(a, bshape).reshape(-1) if bshape else a
            onehot = onehot.reshape(shape)
            if b is not None:
                onehot = onehot + b * (1 if wb is None else wb)
            inner = _pw.exp(logp) * Tensor._make(_arr(xp.asarray(coef, dtype=dt))) - \
                Tensor._make(_arr(onehot.astype(dt)))
            gx = inner * gs
        if g_logp is not None:
            # log_softmax's backward, for gradients that flowed into the log-probabilities
            gl = g_logp - _pw.exp(logp) * _red.sum(g_logp, cd, keepdim=True)
            gx = gl if gx is None else gx + gl
        return gx


_FAST_CE = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


# From this many logits on, the fast path works in blocks of rows that stay in the cache (the
# exponentials go to a reused scratch block, not a fresh array the size of the input), split
# over ember's threads: benchmarks/layers.py's (1024, 1000) cross entropy.
_CE_BLOCKED = 1 << 16
_CE_BLOCK_BYTES = 1 << 19


def _ce_rows_per_block(x) -> int:
    return max(1, _CE_BLOCK_BYTES // (x.shape[1] * x.itemsize))


def _ce_logp_rows(x, z, prob, s: int, e: int) -> None:
    """``z[s:e] = log_softmax(x[s:e], 1)``, block by block: the same per-row max, exp-sum and
    log as the unblocked path; with ``prob``, also the softmax ``exp(z) / sum`` from the same
    exponentials (NumPy's float32 exp costs ~1.4 ns an element here, the division ~0.1)."""
    ws = _parallel.workspace(np)
    step = _ce_rows_per_block(x)
    for a in range(s, e, step):
        b = min(a + step, e)
        xb, zb = x[a:b], z[a:b]
        np.subtract(xb, xb.max(axis=1, keepdims=True), out=zb)
        t = ws.get("ce_exp", zb.shape, zb.dtype)
        lse = np.exp(zb, out=t).sum(axis=1, keepdims=True)
        if prob is not None:
            np.divide(t, lse, out=prob[a:b])
        zb -= np.log(lse, out=lse)


def _ce_fast_forward(ctx, x, t, ignore, red):
    """Cross entropy of (N, C) logits with every target a valid class, no weights and no label
    smoothing (the usual training case): the same math as the general path with ~10 NumPy
    calls instead of ~30 (measured 80 -> 30 us for 64x10). None when a target is out of range
    or ignored (the general path then checks and raises as PyTorch does)."""
    n, C = x.shape
    tf = t.reshape(-1)
    if tf.dtype != _INT64:
        tf = tf.astype(_INT64)
    # one reduction checks both bounds: a negative target wraps to a huge unsigned value
    if int(tf.astype(np.uint64).max()) >= C or 0 <= ignore < C and bool((tf == ignore).any()):
        return None
    prob = None
    if x.size < _CE_BLOCKED:
        z = x - x.max(axis=1, keepdims=True)
        lse = np.exp(z).sum(axis=1, keepdims=True)
        z -= np.log(lse, out=lse)
    else:
        z = np.empty((n, C), dtype=x.dtype)
        # the backward's softmax, kept from the forward's exponentials when a backward will
        # come: one more array of the logits' size lives until then, one exp pass less
        prob = np.empty((n, C), dtype=x.dtype) if ctx._edges else None
        _parallel.parallel_for(lambda s, e: _ce_logp_rows(x, z, prob, s, e), n,
                               min_items=_ce_rows_per_block(x), blas_single=False)
    idx = np.arange(0, n * C, C, dtype=_INT64)
    idx += tf
    picked = z.reshape(-1)[idx].sum()
    total = n if red == "mean" else 1
    ctx.fast, ctx.idx, ctx.total = True, idx, total
    # what the general backward reads (create_graph)
    ctx.red, ctx.ls, ctx.cd, ctx.C, ctx.w = red, 0.0, 1, C, None
    ctx.valid = ctx.wt = None  # every sample valid with weight 1; built if backward needs them
    ctx.set_materialize_grads(False)
    if ctx._edges:
        ctx.save_for_backward(z, prob)
    return _arr(np.asarray(-picked / total, dtype=x.dtype)), z


class CrossEntropy2d(CrossEntropy, name="NllLoss2DBackward0"):
    pass


def _check_class_target(input: Tensor, target: Tensor, weight, fname: str) -> int:
    """PyTorch's checks for class-index targets (nll_loss_nd); returns the class count."""
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    ts = tuple(target.shape)
    if nd != 1 and (target.dim() == 0 or input.shape[0] != ts[0]):
        tb = ts[0] if ts else 0
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({tb}).")
    C = input.shape[0 if nd == 1 else 1]
    # PyTorch's order: target rank and (N, d1, ...) size, then the dtype, then the 1-D and
    # 4-D kernels' own shape checks; the K-dim kernels take int64 only
    if nd <= 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if nd == 3 or nd > 4:
        expected = [input.shape[0]] + list(input.shape[2:])
        if list(ts) != expected:
            raise RuntimeError(f"Expected target size {expected}, got {list(ts)}")
    if nd == 4 and target.dim() != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {target.dim()}")
    tdt = target._data.dtype
    if tdt not in (np.dtype(np.int64), np.dtype(np.uint8)):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_legacy_scalar_name(target.dtype)}")
    if nd == 1 and target.dim() == 1 and ts[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                         f"{ts[0]}")
    if nd == 4 and ts != (input.shape[0],) + tuple(input.shape[2:]):
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                           f"{list(ts)}")
    if nd > 2 and tdt != np.dtype(np.int64):
        raise RuntimeError(f"expected scalar type Long but found "
                           f"{_legacy_scalar_name(target.dtype)}")
    if weight is not None:
        _check(weight, fname, "weight", 3)
        if weight.dim() != 1 or weight.numel() != C:
            raise RuntimeError(f"weight tensor should be defined either for all {C} classes or "
                               f"no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {_legacy_scalar_name(input.dtype)} but "
                               f"found {_legacy_scalar_name(weight.dtype)}")
        _not_differentiable(weight, "nll_loss_forward", "weight")
        _util.check_same_device(input, weight)
    _util.check_same_device(input, target)
    return C


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """``F.nll_loss``: ``-weight[t] * input[n, t]`` over (C), (N, C) or (N, C, d1, ...) input;
    ``mean`` divides by the sum of the weights of the non-ignored targets (nan when all are
    ignored), as in PyTorch. Out-of-range targets raise ``IndexError``."""
    _check(input, "nll_loss", "input", 1)
    _check(target, "nll_loss", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_target(input, target, weight, "nll_loss")
    if not _is_float(input._data.dtype):
        from .pointwise import _not_impl

        kernel = "nll_loss_out_frame" if input.dim() <= 2 else "nll_loss2d_forward_out_frame"
        raise _not_impl(kernel, input._data.dtype, input._data)
    cls = NllLoss if input.dim() <= 2 else NllLoss2d
    return cls.apply(input, target, weight, int(ignore_index), reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """``F.cross_entropy``: log-softmax over dim 1 (dim 0 for unbatched input) and the negative
    log-likelihood, for class indices (fused, numerically stable for any logits) or class
    probabilities (a target of the input's shape). ``weight``, ``ignore_index``,
    ``label_smoothing`` and the weighted ``mean`` follow PyTorch exactly."""
    if weight is None and isinstance(input, Tensor) and isinstance(target, Tensor) \
            and not label_smoothing and size_average is None and reduce is None \
            and (reduction == "mean" or reduction == "sum"):
        # the usual training call (NumPy (N, C) float logits, int64 class indices) in a few
        # comparisons: the general checks below took ~8 of a 64x10 loss's ~45 us
        ia, ta = input._data, target._data
        if type(ia) is np.ndarray and type(ta) is np.ndarray and ia.ndim == 2 \
                and ta.ndim == 1 and ia.shape[0] == ta.shape[0] and ia.dtype in _FAST_CE \
                and ta.dtype == _INT64:
            loss, _ = CrossEntropy.apply(input, target, None, int(ignore_index), reduction, 0.0)
            return loss
    _check(input, "cross_entropy", "input", 1)
    _check(target, "cross_entropy", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")
    if input.shape == target.shape and input.dim() >= 1:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing)
    if input.dim() == 0:  # PyTorch's log_softmax over dim 1 fails first
        if target.dim() != 0:
            _util.wrap_dim(1, 0)
        if target.is_floating_point():  # a 0-d pair takes the probabilities path
            raise IndexError("Dimension specified as 1 but tensor has no dimensions")
        raise RuntimeError(f"Expected floating point type for target with class "
                           f"probabilities, got {_legacy_scalar_name(target.dtype)}")
    npd = input._data.dtype
    if not _is_float(npd):
        # (PyTorch's log_softmax runs, and fails, before the target checks)
        from .pointwise import _not_impl

        kernel = "log_softmax_lastdim_kernel_impl" if input.dim() <= 2 else \
            "log_softmax_kernel_impl"
        raise _not_impl(kernel, npd, input._data)
    _check_class_target(input, target, weight, "cross_entropy")
    cls = CrossEntropy if input.dim() <= 2 else CrossEntropy2d
    ls = float(label_smoothing) if label_smoothing > 0 else 0.0
    loss, _ = cls.apply(input, target, weight, int(ignore_index), reduction, ls)
    return loss


def _cross_entropy_probs(input: Tensor, target: Tensor, weight, ignore_index: int,
                         reduction: str, ls: float) -> Tensor:
    """Cross entropy against class probabilities (PyTorch's composite: ``mean`` divides by the
    number of samples, not by weights)."""
    if not (target.is_floating_point()):
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_legacy_scalar_name(target.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    cd = 0 if input.dim() == 1 else 1
    C = input.shape[cd]
    logp = _red.log_softmax(input, cd)
    if ls > 0:
        target = target * (1 - ls) + ls / C
    v = logp * target
    if weight is not None:
        _check(weight, "cross_entropy", "weight", 3)
        if weight.dim() != 1 or weight.numel() != C:
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                               f"{C} classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        v = v * _shape.reshape(weight, (C,) + (1,) * (input.dim() - 1 - cd))
    loss = -_red.sum(v, cd)
    if reduction == "mean":
        n = input.numel() // C if C else 0
        return _red.sum(loss) / n if n else _red.sum(loss) / 0.0
    if reduction == "sum":
        return _red.sum(loss)
    return loss


# ---------------------------------------------------------------------------------------------
# composite losses
# ---------------------------------------------------------------------------------------------

def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """``F.kl_div``: ``target * (log target - input)`` (``xlogy``, so 0 where target is 0) or,
    with ``log_target``, ``exp(target) * (target - input)``; ``batchmean`` divides the sum by the
    batch size. ``mean`` warns as in PyTorch."""
    _check(input, "kl_div", "input", 1)
    _check(target, "kl_div", "target", 2)
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    red = "sum" if reduction == "batchmean" else _check_reduction(reduction)
    if log_target:
        v = _pw.exp(target) * (target - input)
    else:
        v = _pw.xlogy(target, target) - target * input
    out = _apply_reduction(v, red)
    if reduction == "batchmean" and input.dim() != 0:
        out = out / input.shape[0]
    return out


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``F.poisson_nll_loss``: ``exp(x) - t x`` (``log_input``) or ``x - t log(x + eps)``, plus
    Stirling's term for ``t > 1`` when ``full``."""
    _check(input, "poisson_nll_loss", "input", 1)
    _check(target, "poisson_nll_loss", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = _pw.exp(input) - target * input
    else:
        loss = input - target * _pw.log(input + eps)
    if full:
        st = target * _pw.log(target) - target + 0.5 * _pw.log(2 * math.pi * target)
        loss = loss + _pw.where(target <= 1, 0.0, st)
    return _apply_reduction(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """``F.gaussian_nll_loss``: ``0.5 (log var + (x - t)^2 / var)`` (+ ``0.5 log 2 pi`` when
    ``full``); ``var`` may be a float, the input's shape, one dim short of it, or broadcastable
    with one mismatched dim (PyTorch's rules). ``var`` is clamped at ``eps`` without affecting
    its gradient path, as in PyTorch."""
    _check(input, "gaussian_nll_loss", "input", 1)
    _check(target, "gaussian_nll_loss", "target", 2)
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _util.ones_like_tensor(input)
    else:
        _check(var, "gaussian_nll_loss", "var", 3)
        if bool(_red.any(var < 0)):
            raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = _shape.unsqueeze(var, -1)
        elif input.dim() == var.dim() and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # clamped in place without autograd: the gradient flows as if unclamped (PyTorch's way)
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    d = input - target
    loss = 0.5 * (_pw.log(var) + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``F.margin_ranking_loss``: ``max(0, -target * (input1 - input2) + margin)``."""
    for i, (t, n) in enumerate(((input1, "input1"), (input2, "input2"), (target, "target"))):
        _check(t, "margin_ranking_loss", n, i + 1)
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return _apply_reduction(_pw.clamp_min(-target * (input1 - input2) + margin, 0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``F.hinge_embedding_loss``: ``x`` where ``target == 1``, ``max(0, margin - x)`` where
    ``target == -1`` (PyTorch's formula: both terms where target is neither)."""
    _check(input, "hinge_embedding_loss", "input", 1)
    _check(target, "hinge_embedding_loss", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    margin_clamp = _pw.clamp_min(margin - input, 0)
    out_margin = _pw.where(target != 1, margin_clamp, 0.0)
    out_self = _pw.where(target != -1, input, 0.0)
    return _apply_reduction(out_margin + out_self, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """``F.multilabel_soft_margin_loss``: per-class logistic loss averaged over classes."""
    from .activation import logsigmoid

    _check(input, "multilabel_soft_margin_loss", "input", 1)
    _check(target, "multilabel_soft_margin_loss", "target", 2)
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    cdim = input.dim() - 1
    loss = _red.sum(loss, cdim) / input.shape[cdim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return _red.mean(loss)
    if reduction == "sum":
        return _red.sum(loss)
    raise ValueError(reduction + " is not valid")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``F.cosine_embedding_loss``: ``1 - cos`` for ``target == 1``, ``max(0, cos - margin)``
    for ``target == -1`` (cosine with PyTorch's 1e-12 in each squared norm)."""
    for i, (t, n) in enumerate(((input1, "input1"), (input2, "input2"), (target, "target"))):
        _check(t, "cosine_embedding_loss", n, i + 1)
    reduction = _reduction(size_average, reduce, reduction)
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1:
        if input1.dim() != 2 or input2.dim() != 2:
            raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                               f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    elif input1.dim() != 1 or input2.dim() != 1:
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod = _red.sum(input1 * input2, td)
    m1 = _red.sum(input1 * input1, td) + 1e-12
    m2 = _red.sum(input2 * input2, td) + 1e-12
    cos = prod / _pw.sqrt(m1 * m2)
    pos = 1 - cos
    neg = _pw.clamp_min(cos - margin, 0)
    out = _pw.where(target == 1, pos, 0.0) + _pw.where(target == -1, neg, 0.0)
    return _apply_reduction(out, reduction)


def _frames(input: Tensor) -> tuple:
    nd = input.dim()
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    if nd <= 1:
        return 1, (1 if nd == 0 else input.shape[0])
    return input.shape[0], input.shape[1]


def _long_target(target: Tensor) -> None:
    if target._data.dtype != _INT64:
        raise RuntimeError(f"expected scalar type Long but found "
                           f"{_legacy_scalar_name(target.dtype)}")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """``F.multi_margin_loss``: ``sum_{i != y} max(0, margin - x[y] + x[i])^p * w[y] / C`` per
    sample (vectorised over samples and classes)."""
    _check(input, "multi_margin_loss", "input", 1)
    _check(target, "multi_margin_loss", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _frames(input)
    if target.dim() > 1 or target.numel() != nframe:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{nframe}], but got {list(target.shape)}. Input has shape "
                           f"{list(input.shape)}.")
    if weight is not None and weight.numel() != dim:
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got "
                           f"{list(weight.shape)}")
    _long_target(target)
    _not_differentiable(weight, "multi_margin_loss", "weight")
    ta = target._data.reshape(-1)
    if ta.size and bool(((ta < 0) | (ta >= dim)).any()):
        raise RuntimeError("target out of range")
    x = _shape.reshape(input, (nframe, dim))
    xp = array_module(ta)
    tcol = Tensor._make(ta.reshape(nframe, 1))
    z = _pw.clamp_min(margin - _gather(x, tcol) + x, 0)
    if p == 2:
        z = z * z
    if weight is not None:
        # the weight of each sample's target class (weight takes no gradient, as in PyTorch)
        wy = _util.cast(weight, input.dtype)._data.reshape(-1)[ta]
        z = z * Tensor._make(wy.reshape(nframe, 1))
    keep = Tensor._make(xp.arange(dim)[None, :] != ta[:, None])
    per = _red.sum(_pw.where(keep, z, 0.0), 1) / dim
    if reduction == "none":
        return _shape.reshape(per, target.shape if input.dim() <= 1 else (nframe,))
    return _apply_reduction(per, reduction)


def _gather(x: Tensor, idx: Tensor) -> Tensor:
    from .indexing import gather

    return gather(x, 1, idx)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """``F.multilabel_margin_loss``: for each sample, targets are the labels of ``target`` up to
    the first -1; ``sum_{j in targets, i not in targets} max(0, 1 - (x[j] - x[i])) / C``.
    Vectorised over samples, target slots and classes."""
    _check(input, "multilabel_margin_loss", "input", 1)
    _check(target, "multilabel_margin_loss", "target", 2)
    reduction = _reduction(size_average, reduce, reduction)
    nframe, dim = _frames(input)
    nd = input.dim()
    ts = list(target.shape)
    if nd <= 1:
        ok = target.dim() <= 1 and target.numel() == dim
    else:
        ok = target.dim() == 2 and ts == [nframe, dim]
    if not ok:
        raise RuntimeError(f"inconsistent target size: {ts} for input of size: "
                           f"{list(input.shape)}")
    _long_target(target)
    ta = target._data.reshape(nframe, dim)
    xp = array_module(ta)
    # a slot counts while no -1 has been seen in the row
    active = xp.cumprod(ta != -1, axis=1).astype(bool)
    if bool((active & ((ta < 0) | (ta >= dim))).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    tc = xp.where(active, ta, 0)
    is_target = xp.zeros((nframe, dim), dtype=bool)
    rows = xp.broadcast_to(xp.arange(nframe)[:, None], ta.shape)
    is_target[rows[active], tc[active]] = True
    x = _shape.reshape(input, (nframe, dim))
    xj = _gather(x, Tensor._make(tc))  # (N, slots)
    z = _pw.clamp_min(1 - (_shape.unsqueeze(xj, 2) - _shape.unsqueeze(x, 1)), 0)
    keep = Tensor._make(active[:, :, None] & ~is_target[:, None, :])
    per = _red.sum(_pw.where(keep, z, 0.0), (1, 2)) / dim
    if reduction == "none":
        return per if nd == 2 else _shape.reshape(per, ())
    return _apply_reduction(per, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``F.triplet_margin_loss``: ``max(0, margin + d(a, p) - d(a, n))`` with pairwise p-norm
    distances (``swap``: the smaller of ``d(a, n)`` and ``d(p, n)``)."""
    for i, (t, n) in enumerate(((anchor, "anchor"), (positive, "positive"),
                                (negative, "negative"))):
        _check(t, "triplet_margin_loss", n, i + 1)
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _pw.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply_reduction(_pw.clamp_min(margin + d_pos - d_neg, 0), reduction)


def _same_ndim(a: Tensor, p: Tensor, n: Tensor) -> None:
    if not (a.dim() == p.dim() == n.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a.dim()}D, positive "
                           f"{p.dim()}D, and negative {n.dim()}D inputs")


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """``F.triplet_margin_with_distance_loss``: the triplet loss with any distance function
    (default: pairwise Euclidean distance)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _pw.minimum(d_neg, dist(positive, negative))
    return _apply_reduction(_pw.clamp_min(margin + d_pos - d_neg, 0), reduction)


# ---------------------------------------------------------------------------------------------
# CTC
# ---------------------------------------------------------------------------------------------

def _lse3_into(xp, a, b, c, low, out):
    """``out = log(exp(a) + exp(b) + exp(c))`` elementwise; all -inf gives -inf (the max is
    floored at the dtype's lowest finite value, so no -inf - -inf)."""
    m = xp.maximum(a, b)
    xp.maximum(m, c, out=m)
    xp.maximum(m, low, out=m)
    xp.exp(xp.subtract(a, m, out=out), out=out)
    out += xp.exp(b - m)
    out += xp.exp(c - m)
    xp.log(out, out=out)
    out += m
    return out


class CtcLoss(Op, name="CtcLossBackward0"):
    """Per-sample CTC negative log-likelihood (log-space alpha/beta recursions over time, each
    step vectorised over the batch and the extended labels). The gradient is PyTorch's:
    ``exp(lp) - exp(log(alpha beta) + nll - lp)`` for ``t < input_length`` (the gradient with
    respect to the logits when ``log_probs`` comes from ``log_softmax``), 0 after."""

    @staticmethod
    def forward(ctx, lp, tg, in_len, tg_len, blank, zero_inf, in_len_host):
        xp = array_module(lp)
        T, N, C = lp.shape
        S = int(tg.shape[1]) if tg.ndim == 2 else 0
        L = 2 * S + 1
        dt = lp.dtype
        neg_inf = dt.type(-np.inf)
        low = dt.type(np.finfo(dt).min)
        # extended labels: blank, l1, blank, l2, ..., blank (padding positions are blank)
        ext = xp.full((N, L), blank, dtype=_INT64)
        ext[:, 1::2] = tg
        valid_s = xp.arange(L)[None, :] < (2 * tg_len[:, None] + 1)
        # s may also come from s-2 when its label is not blank and differs from label s-2;
        # as an additive mask (0 or -inf) it selects without a where per step
        skip = xp.zeros((N, L), dtype=bool)
        if L > 2:
            skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        skip_add = xp.where(skip, 0, neg_inf).astype(dt)
        # log-probs of the extended labels at every step: (T, N, L), -inf beyond each target
        lpe = lp[:, xp.arange(N)[:, None], ext]
        lpe = xp.where(valid_s[None], lpe, neg_inf)
        # alpha with two -inf columns in front, so s-1 and s-2 are views
        ap = xp.full((T, N, L + 2), neg_inf, dtype=dt)
        if T:
            ap[0, :, 2] = lpe[0, :, 0]
            if L > 1:
                ap[0, :, 3] = lpe[0, :, 1]
        for t in range(1, T):
            prev = ap[t - 1]
            cur = ap[t, :, 2:]
            _lse3_into(xp, prev[:, 2:], prev[:, 1:-1], prev[:, :-2] + skip_add, low, cur)
            cur += lpe[t]
        alpha = ap[:, :, 2:]
        # the loss reads alpha at each sample's last step
        if T:
            end = alpha[xp.maximum(in_len - 1, 0), xp.arange(N)]  # (N, L)
            li = 2 * tg_len  # index of the final blank
            e1 = xp.take_along_axis(end, li[:, None], 1)[:, 0]
            e2 = xp.where(tg_len > 0, xp.take_along_axis(end, xp.maximum(li - 1, 0)[:, None],
                                                           1)[:, 0], neg_inf)
            ll = xp.logaddexp(e1, e2)
        else:
            ll = xp.zeros(N, dtype=dt)
        # zero-length inputs: probability 1 of the empty target, 0 of any other
        ll = xp.where(in_len == 0, xp.where(tg_len == 0, 0, neg_inf), ll)
        nll = -ll
        if ctx._edges:
            # the (T, N, L) tables go through save_for_backward, so backward frees them
            ctx.ctc = (ext, skip, in_len, tg_len, nll, zero_inf, in_len_host)
            ctx.save_for_backward(lp, alpha, lpe)
        return _arr(nll.astype(dt, copy=False))

    @staticmethod
    def backward(ctx, g):
        lp_t, alpha_t, lpe_t = ctx.saved_tensors
        lp, alpha, lpe = lp_t._data, alpha_t._data, lpe_t._data
        ext, skip, in_len, tg_len, nll, zero_inf, il_host = ctx.ctc
        xp = array_module(lp)
        T, N, C = lp.shape
        L = ext.shape[1]
        dt = lp.dtype
        neg_inf = dt.type(-np.inf)
        low = dt.type(np.finfo(dt).min)
        # beta[t, s] includes lp at t (PyTorch's convention); each sample starts at its own
        # last step from the final blank and the last label
        li = 2 * tg_len
        rows = xp.arange(N)
        init = xp.full((N, L), neg_inf, dtype=dt)
        init[rows, li] = 0
        last = xp.maximum(li - 1, 0)
        init[rows, last] = xp.where(tg_len > 0, 0, init[rows, last])
        skip_next = xp.zeros((N, L), dtype=bool)  # s -> s+2 allowed when s+2 may skip
        if L > 2:
            skip_next[:, :-2] = skip[:, 2:]
        skip_add = xp.where(skip_next, 0, neg_inf).astype(dt)
        beta = xp.full((T, N, L), neg_inf, dtype=dt)
        nxt = xp.full((N, L + 2), neg_inf, dtype=dt)  # two -inf columns after, for s+1, s+2
        starts = {int(v) - 1 for v in il_host}
        for t in range(T - 1, -1, -1):
            cur = beta[t]
            _lse3_into(xp, nxt[:, :L], nxt[:, 1:L + 1], nxt[:, 2:] + skip_add, low, cur)
            if t in starts:
                st = (in_len - 1 == t)[:, None]
                cur[...] = xp.where(st, init, cur)
            cur += lpe[t]
            dead = il_host <= t
            if dead.any():
                cur[xp.asarray(dead)] = neg_inf
            nxt[:, :L] = cur
        ab = alpha + beta  # (T, N, L), lp counted twice (PyTorch's convention)
        m = ab.max(axis=2, keepdims=True)
        xp.maximum(m, low, out=m)
        w = xp.exp(ab - m)
        # sum over the extended positions of each class: one bincount over (t, n, class)
        tn = xp.arange(T * N, dtype=_INT64).reshape(T, N, 1)
        flat = (tn * C + ext[None]).reshape(-1)
        acc = xp.bincount(flat, weights=w.reshape(-1).astype(np.float64), minlength=T * N * C)
        lcab = xp.log(acc.reshape(T, N, C).astype(dt)) + m
        grad = xp.exp(lp) - xp.exp(lcab + nll[None, :, None] - lp)
        live = xp.arange(T)[:, None] < in_len[None, :]
        if zero_inf:
            live = live & ~xp.isinf(nll)[None, :]
        grad = xp.where(live[:, :, None], grad, 0).astype(dt, copy=False)
        # linear in g: the same product serves a recorded backward
        return Tensor._make(_arr(grad)) * _shape.reshape(g, (1, N, 1))


def _lengths(v, name: str, fname: str):
    if isinstance(v, Tensor):
        a = v._data
        if a.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        return np.asarray(v.cpu()._data).reshape(-1).astype(np.int64)
    try:
        return np.asarray([int(i) for i in v], dtype=np.int64) if hasattr(v, "__len__") else \
            np.asarray([int(v)], dtype=np.int64)
    except (TypeError, ValueError):
        raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints or Tensor, not "
                        f"{type(v).__name__}") from None


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """``F.ctc_loss``: the connectionist temporal classification loss of (T, N, C) (or unbatched
    (T, C)) log-probabilities against padded (N, S) or concatenated targets. ``mean`` divides
    each loss by its target length, then averages; ``zero_infinity`` zeroes impossible
    alignments and their gradients. Labels outside ``[0, C)`` raise (PyTorch reads out of
    bounds)."""
    fname = "ctc_loss"
    _check(log_probs, fname, "log_probs", 1)
    _check(targets, fname, "targets", 2)
    reduction = _check_reduction(reduction)
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss() received an invalid combination of arguments: "
                        "input_lengths and target_lengths must both be Tensors or both be "
                        "tuples of ints")
    batched = log_probs.dim() == 3
    lp = log_probs if batched else _shape.unsqueeze(log_probs, 1)
    tg = targets if batched else _shape.unsqueeze(targets, 0)
    il = _lengths(input_lengths, "input_lengths", fname)
    tl = _lengths(target_lengths, "target_lengths", fname)
    npd = lp._data.dtype
    if npd.kind != "f" or npd == np.float16:
        from .pointwise import _not_impl

        raise _not_impl("ctc_loss_{dev}", npd, lp._data)
    where = "(while checking arguments for ctc_loss_allocate_outputs)"
    if lp.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {lp.dim()}-dimensional "
                           f"tensor for argument #1 'log_probs' {where}")
    T, N, C = lp.shape
    if blank < 0 or blank >= C:
        raise RuntimeError("blank must be in label range")
    if il.size != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.size != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    for name, v in (("target_lengths", tl), ("input_lengths", il)):
        if v.size and v.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value "
                               f"{int(v.min())} {where}")
    ta = tg._data
    if ta.dtype.kind not in "iuf":
        raise RuntimeError(f"ctc_loss: targets must be integers, got {tg.dtype}")
    xp = array_module(lp._data)
    if tg.dim() == 1:
        total = int(tl.sum())
        if ta.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got "
                               f"size {ta.shape[0]} for argument #2 'targets' {where}")
        S = int(tl.max()) if tl.size else 0
        # concatenated targets -> padded (N, S)
        offs = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        pos = offs[:, None] + np.arange(S)[None, :]
        inside = np.arange(S)[None, :] < tl[:, None]
        host = np.asarray(tg.cpu()._data).astype(np.int64)
        padded = np.where(inside, host[np.minimum(pos, max(total - 1, 0))] if total else 0,
                          blank)
    else:
        if ta.shape[0] != N:
            raise RuntimeError(f"Expected tensor to have size {N} at dimension 0, but got size "
                               f"{ta.shape[0]} for argument #2 'targets' {where}")
        S = int(tl.max()) if tl.size else 0
        if S > ta.shape[1]:
            raise RuntimeError(f"Expected tensor to have size at least {S} at dimension 1, but "
                               f"got size {ta.shape[1]} for argument #2 'targets' {where}")
        host = np.asarray(tg.cpu()._data).astype(np.int64)[:, :S]
        padded = np.where(np.arange(S)[None, :] < tl[:, None], host, blank)
    if il.size and il.max() > T:
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(il.max())} {where}")
    if padded.size and (padded.min() < 0 or padded.max() >= C):
        bad = padded[(padded < 0) | (padded >= C)][0]
        raise RuntimeError(f"ctc_loss: target label {int(bad)} is out of range for {C} classes")
    padded = xp.asarray(padded.reshape(N, S))
    nll = CtcLoss.apply(lp, padded, xp.asarray(il), xp.asarray(tl), int(blank),
                        bool(zero_infinity), il)
    if zero_infinity:
        nll = _pw.where(Tensor._make(_arr(xp.isinf(nll._data))), 0.0, nll)
    if reduction == "mean":
        div = Tensor._make(xp.asarray(np.maximum(tl, 1)).astype(npd))
        return _red.mean(nll / div)
    if reduction == "sum":
        return _red.sum(nll)
    return nll if batched else _shape.reshape(nll, ())
