"""Attention (``torch.nn.functional.scaled_dot_product_attention``).

``softmax(q @ k^T * scale + mask) @ v`` is one fused op, ``_Attention``, with its own
backward. A fused op is a design exception to "composites from primitives";
``benchmarks/attention.py`` measured forward+backward against the same computation as a chain
of ember ops (mul, matmul, masked_fill, softmax, matmul) for B=8, H=8, L=S=256, D=64 float32
in the same run: 0.81-0.95x the composite's time without a mask and 0.74-0.87x with a boolean
mask (five runs, one and two BLAS threads). The score-sized softmax, mask and dropout passes
run in place on one buffer instead of allocating a new one per op, and the backward is one
pass over that buffer plus the four matmuls. It also never materialises the repeated
keys/values of grouped-query attention: query heads are viewed as ``(kv_heads, group)`` and
broadcast against the key/value heads.

The backward runs on arrays unless it is itself recorded (``create_graph=True``); then the
same formula is built from ember ops on a recomputed softmax, so double backward works.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor, _c_name, _legacy_scalar_name
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _util
from . import linalg as _linalg
from . import pointwise as _pw
from . import reduction as _red
from . import shape as _shape
from .dropout import _keep_mask

__all__ = ["scaled_dot_product_attention"]

_F32 = np.dtype(np.float32)
_REDUCED = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _REDUCED.add(_dtype._BF16_NP)


def _work(npd: np.dtype) -> np.dtype:
    """The dtype the arithmetic runs in: float32 for 16-bit floats (PyTorch's math kernel
    keeps its intermediates in float32 for half and bfloat16)."""
    return _F32 if npd in _REDUCED else npd


def _mT(a):
    return a.swapaxes(-1, -2)


def _grouped(a, heads: int, group: int):
    """View ``(..., heads * group, X, Y)`` as ``(..., heads, group, X, Y)`` (a copy only when
    the layout does not allow a view)."""
    if group == 1:
        return a
    s = a.shape
    return a.reshape(s[:-3] + (heads, group) + s[-2:])


def _kv5(a, group: int):
    """Key/value heads ``(..., H, S, E)`` as ``(..., H, 1, S, E)`` against grouped queries."""
    return a if group == 1 else a[..., None, :, :]


def _flat_heads(a, group: int):
    """Undo :func:`_grouped`: ``(..., heads, group, X, Y)`` back to ``(..., heads*group, X, Y)``."""
    if group == 1:
        return a
    s = a.shape
    return a.reshape(s[:-4] + (s[-4] * s[-3],) + s[-2:])


def _softmax_(s, safe: bool, xp):
    """Softmax over the last axis, in place in ``s``. ``safe``: rows that are all ``-inf``
    give zeros (PyTorch's ``_safe_softmax`` in SDPA); otherwise they give NaN like
    ``torch.softmax`` (the MultiheadAttention path that returns weights)."""
    if s.shape[-1] == 0:
        return s
    m = s.max(axis=-1, keepdims=True)
    if safe:
        # a row max of -inf means the whole row is masked: shift by 0 so exp gives zeros
        m[m == -np.inf] = 0
    s -= m
    xp.exp(s, out=s)
    z = s.sum(axis=-1, keepdims=True)
    if safe:
        z[z == 0] = 1
    xp.reciprocal(z, out=z)
    s *= z
    return s


class _Attention(Op, name="UnsafeViewBackward0"):
    """``softmax(q @ k^T * scale + mask) * drop @ v`` and, when ``want_p``, the (dropped-out)
    attention probabilities as a second output.

    Arguments: ``q (..., Hq, L, E)``, ``k (..., Hk, S, E)``, ``v (..., Hv, S, Ev)``; ``mask``
    (an additive float mask broadcastable to ``(..., Hq, L, S)``: a tensor when it may carry a
    gradient, a constant array otherwise, or None); ``scale``; ``gk = Hq // Hk`` and
    ``gv = Hq // Hv`` (grouped-query attention, 1 without it); ``drop`` (the dropout noise,
    0 or ``1/(1-p)``, of the scores' shape, or None); ``safe`` (see :func:`_softmax_`);
    ``want_p``.
    """

    _materialize = False  # an unused probabilities output gets no gradient buffer

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, gk, gv, drop, safe, want_p):
        xp = array_module(q)
        out_dtype = q.dtype
        w = _work(q.dtype)
        qs = q.astype(w, copy=False) * w.type(scale)
        kw, vw = k.astype(w, copy=False), v.astype(w, copy=False)
        hk, hv = k.shape[-3] if gk > 1 else 0, v.shape[-3] if gv > 1 else 0
        s = xp.matmul(_grouped(qs, hk, gk), _mT(_kv5(kw, gk)))
        s = _flat_heads(s, gk)
        if mask is not None:
            s += mask.astype(w, copy=False) if mask.dtype in _REDUCED else mask
        p = _softmax_(s, safe, xp)
        pd = p * drop if drop is not None else p
        out = xp.matmul(_grouped(pd, hv, gv), _kv5(vw, gv))
        out = _flat_heads(out, gv).astype(out_dtype, copy=False)
        e = ctx._edges
        ctx.meta = (scale, gk, gv, hk, hv, safe, drop)
        if e:
            # What PyTorch's math kernel keeps: k for q's gradient, the scaled query (a
            # private array) for k's, v and the probabilities for the rest. Saved arrays are
            # matched by identity, so inputs come back as the (version-checked) input
            # tensors. q, and the constant forms of k and the mask, serve only the
            # create_graph backward, which recomputes the softmax; they are saved as views
            # so that changing them in place after forward is no error, as in PyTorch.
            need_s = bool(e[0] or e[1] or e[3])
            ctx.save_for_backward(
                q if e[0] else None, qs if need_s else None,
                k if (e[0] or e[1]) else (k[...] if need_s else None),
                v if need_s else None,
                (mask if e[3] else mask[...]) if (need_s and mask is not None) else None, p)
        if want_p:
            # (when it is p itself, the weights output is what backward saved, as in PyTorch
            # where they are the saved softmax output: changing them in place is an error)
            return out, pd.astype(out_dtype, copy=False)
        return out

    @staticmethod
    def backward(ctx, g, gp=None):
        q, qs, k, v, mask, p = ctx.saved_tensors
        e = ctx._edges
        if _state.enabled:
            return _backward_graph(ctx, q, qs, k, v, mask, p, g, gp)
        scale, gk, gv, hk, hv, safe, drop = ctx.meta
        xp = array_module(p._data)
        pa = p._data
        w = pa.dtype
        ga = None if g is None else g._data.astype(w, copy=False)
        gq = gk_ = gv_ = gm = None
        if e[2] and ga is not None:
            pd = pa * drop if drop is not None else pa
            r = xp.matmul(_mT(_grouped(pd, hv, gv)), _grouped(ga, hv, gv))
            if gv > 1:
                r = r.sum(axis=-3)
            gv_ = _const(r, v)
        if not (e[0] or e[1] or e[3]):
            return gq, gk_, gv_, gm
        vw = v._data.astype(w, copy=False)
        if ga is not None:
            gd = _flat_heads(xp.matmul(_grouped(ga, hv, gv), _mT(_kv5(vw, gv))), gv)
            if gp is not None:
                gd += gp._data
        else:
            gd = gp._data.astype(w)
        if drop is not None:
            gd *= drop
        # the softmax backward in place: ds = p * (gd - sum(gd * p))
        gd -= xp.einsum("...z,...z->...", gd, pa)[..., None]
        gd *= pa
        ds = gd
        if e[3]:
            gm = _const(ds, None, e[3][3])
        if e[0]:
            kw = k._data.astype(w, copy=False)
            r = _flat_heads(xp.matmul(_grouped(ds, hk, gk), _kv5(kw, gk)), gk)
            r *= scale
            gq = _const(r, None, e[0][3])
        if e[1]:
            r = xp.matmul(_mT(_grouped(ds, hk, gk)), _grouped(qs._data, hk, gk))
            if gk > 1:
                r = r.sum(axis=-3)
            gk_ = _const(r, k)
        return gq, gk_, gv_, gm


def _const(arr, like: Tensor | None, npd=None) -> Tensor:
    dt = like._data.dtype if like is not None else npd
    return Tensor._make(arr.astype(dt, copy=False))


def _backward_graph(ctx, q, qs, k, v, mask, saved_p, g, gp):
    """The same gradients built from ember ops on a recomputed softmax (double backward)."""
    scale, gk, gv, hk, hv, safe, drop = ctx.meta
    e = ctx._edges
    if q is not None:
        qs = q * scale  # the scaled query, now as a function of q
    if not (e[0] or e[1] or e[3]):
        p = saved_p  # nothing upstream of the probabilities needs a gradient
    else:
        p = _probs_graph(qs, k, mask, gk, hk, safe)
    dropt = None if drop is None else Tensor._make(drop)
    pd = p if dropt is None else p * dropt
    gq = gk_ = gv_ = gm = None
    g5 = None if g is None else _group_t(g, hv, gv)
    if e[2] and g is not None:
        r = _linalg.Matmul.apply(_mT_t(_group_t(pd, hv, gv)), g5)
        gv_ = _red.sum(r, -3) if gv > 1 else r
    if not (e[0] or e[1] or e[3]):
        return gq, gk_, gv_, gm
    gd = None
    if g is not None:
        gd = _ungroup_t(_linalg.Matmul.apply(g5, _mT_t(_kv5_t(v, gv))), gv)
    if gp is not None:
        gd = gp if gd is None else gd + gp
    if dropt is not None:
        gd = gd * dropt
    ds = p * (gd - _red.sum(gd * p, -1, keepdim=True))
    if e[3]:
        gm = ds
    if e[0]:
        gq = _ungroup_t(_linalg.Matmul.apply(_group_t(ds, hk, gk), _kv5_t(k, gk)), gk) * scale
    if e[1]:
        r = _linalg.Matmul.apply(_mT_t(_group_t(ds, hk, gk)), _group_t(qs, hk, gk))
        gk_ = _red.sum(r, -3) if gk > 1 else r
    return gq, gk_, gv_, gm


def _mT_t(t: Tensor) -> Tensor:
    return _shape.transpose(t, -1, -2)


def _group_t(t: Tensor, heads: int, group: int) -> Tensor:
    if group == 1:
        return t
    s = tuple(t.shape)
    return _shape.reshape(t, s[:-3] + (heads, group) + s[-2:])


def _ungroup_t(t: Tensor, group: int) -> Tensor:
    if group == 1:
        return t
    s = tuple(t.shape)
    return _shape.reshape(t, s[:-4] + (s[-4] * s[-3],) + s[-2:])


def _kv5_t(t: Tensor, group: int) -> Tensor:
    return t if group == 1 else _shape.unsqueeze(t, -3)


def _probs_graph(qs: Tensor, k: Tensor, mask, gk: int, hk: int, safe: bool) -> Tensor:
    """Softmax probabilities as a differentiable function of the scaled query ``qs``, ``k``
    and ``mask``."""
    s = _linalg.Matmul.apply(_group_t(qs, hk, gk), _mT_t(_kv5_t(k, gk)))
    s = _ungroup_t(s, gk)
    if mask is not None:
        s = s + mask
    if s.shape[-1] == 0:
        return s
    if s._data.dtype in _REDUCED:
        s = _util.cast(s, _dtype.float32)
    if not safe:
        return _red.softmax(s, -1)
    xp = array_module(s._data)
    dead = xp.all(s._data == -np.inf, axis=-1, keepdims=True)
    if not dead.any():
        return _red.softmax(s, -1)
    # fully masked rows: softmax of zeros (finite gradients), then zeroed
    s = _pw.where(Tensor._make(dead), Tensor._make(xp.zeros((), s._data.dtype)), s)
    return _red.softmax(s, -1) * Tensor._make((~dead).astype(s._data.dtype))


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------

_ALLOWED_MASK = (_dtype.bool, _dtype.float32)


def _check_arg(x, name: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"scaled_dot_product_attention(): argument '{name}' (position {pos}) "
                        f"must be Tensor, not {type(x).__name__}")


def _broadcast_into(target: tuple, shape: tuple) -> None:
    """PyTorch's errors for an in-place add of a ``shape`` tensor into a ``target`` one."""
    b = _util.broadcast_shapes_or_raise(target, shape)
    if b != tuple(target):
        raise RuntimeError(f"output with shape {list(target)} doesn't match the broadcast "
                           f"shape {list(b)}")


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _causal_bias(xp, L: int, S: int, npd) -> np.ndarray:
    """``0`` on and below the diagonal (top-left aligned), ``-inf`` above it."""
    return xp.where(xp.tri(L, S, 0, dtype=bool), npd.type(0), npd.type(-np.inf))


def _bool_bias(xp, m, npd):
    """Additive form of a boolean mask where True means "take part in attention"."""
    return xp.where(m, npd.type(0), npd.type(-np.inf))


def _validate(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa):
    """PyTorch's argument checks, in its order; returns (gk, gv, scores_shape, out_shape)."""
    for i, (t, n) in enumerate(((query, "query"), (key, "key"), (value, "value"))):
        _check_arg(t, n, i + 1)
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError(f"scaled_dot_product_attention(): argument 'attn_mask' must be Tensor, "
                        f"not {type(attn_mask).__name__}")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_c_name(query.dtype)} key.dtype: "
                           f"{_c_name(key.dtype)} and value.dtype: {_c_name(value.dtype)} "
                           f"instead.")
    if attn_mask is not None and attn_mask.dtype not in _ALLOWED_MASK \
            and attn_mask.dtype is not query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {_c_name(attn_mask.dtype)} and  "
                           f"query.dtype: {_c_name(query.dtype)} instead.")
    _util.check_same_device(query, key, value, attn_mask)
    dq, dk, dv = query.dim(), key.dim(), value.dim()
    if dq < 2 or dk < 2 or dv < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {dq} key.dim: {dk} and value.dim: {dv} instead.")
    if dropout_p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if attn_mask is not None and attn_mask.dim() < 2:
        if attn_mask.dim() == 0:
            raise IndexError("Dimension specified as -2 but tensor has no dimensions")
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got "
                         "-2)")
    sq, sk, sv = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    gk = gv = 1
    if enable_gqa:
        for n in (dq, dk, dv):
            if n < 3:
                raise IndexError(f"Dimension out of range (expected to be in range of "
                                 f"[{-n}, {n - 1}], but got -3)")
        hq, hk, hv = sq[-3], sk[-3], sv[-3]
        if hk == 0 or hv == 0 or hq % hk or hq % hv:
            # (sic: PyTorch's message ends here)
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in ")
        gk, gv = hq // hk, hq // hv
    # the shapes as the math kernel sees them: keys/values with their heads repeated
    rk = sk[:-3] + (sk[-3] * gk,) + sk[-2:] if gk > 1 else sk
    rv = sv[:-3] + (sv[-3] * gv,) + sv[-2:] if gv > 1 else sv
    batch = _util.broadcast_shapes_or_raise(sq[:-2], rk[:-2])
    if sq[-1] != rk[-1]:
        n = _prod(batch)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {sq[-1]}] but got: [{n}, {rk[-1]}].")
    scores = batch + (sq[-2], rk[-2])
    if attn_mask is not None:
        _broadcast_into(scores, tuple(attn_mask.shape))
    obatch = _util.broadcast_shapes_or_raise(batch, rv[:-2])
    if rk[-2] != rv[-2]:
        n = _prod(obatch)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {rk[-2]}] but got: [{n}, {rv[-2]}].")
    if query.is_complex():
        raise NotImplementedError(f'"softmax_lastdim_kernel_impl" not implemented for '
                                  f"'{_legacy_scalar_name(query.dtype)}'")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found "
                           f"{_legacy_scalar_name(query.dtype)}")
    return gk, gv, scores, obatch + (sq[-2], rv[-1])


def _dropout_noise(query: Tensor, shape, p: float):
    """Dropout noise of ``shape``: 0 with probability ``p``, else ``1/(1-p)`` (float32)."""
    if p >= 1:
        return array_module(query._data).zeros(shape, dtype=_F32)
    noise = _keep_mask(query, shape, p)
    noise *= np.float32(1.0 / (1.0 - p))
    return noise


def _attention(query: Tensor, key: Tensor, value: Tensor, mask, scale: float, gk: int,
               gv: int, scores_shape, dropout_p: float, safe: bool, want_p: bool):
    """Run the fused op (``mask``: float Tensor, constant array or None)."""
    drop = _dropout_noise(query, scores_shape, dropout_p) if dropout_p > 0 else None
    return _Attention.apply(query, key, value, mask, scale, gk, gv, drop, safe, want_p)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, *, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``F.scaled_dot_product_attention``, PyTorch's math kernel: ``softmax(q @ k^T * scale +
    mask) @ v`` over any number of broadcast batch dims.

    A boolean ``attn_mask`` keeps the positions that are True; a float one is added to the
    scores (and gets a gradient). ``is_causal`` masks above the top-left-aligned diagonal.
    Rows whose scores are all ``-inf`` give zeros (and zero gradients), as PyTorch's
    ``_safe_softmax`` does. ``enable_gqa`` lets ``Hq`` be a multiple of the key/value heads.
    Dropout noise comes from ember's generator (not PyTorch's bit stream).
    """
    gk, gv, scores_shape, _ = _validate(query, key, value, attn_mask, dropout_p, is_causal,
                                        enable_gqa)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else math.inf
    xp = array_module(query._data)
    w = _work(query._data.dtype)
    mask = attn_mask
    if is_causal:
        mask = _causal_bias(xp, scores_shape[-2], scores_shape[-1], w)
    elif attn_mask is not None and attn_mask.dtype is _dtype.bool:
        mask = _bool_bias(xp, attn_mask._data, w)
    return _attention(query, key, value, mask, float(scale), gk, gv, scores_shape,
                      float(dropout_p), True, False)
