"""Embeddings: ``embedding``, ``embedding_bag`` and ``one_hot`` (``torch.nn.functional``).

``embedding`` is its own op (``EmbeddingBackward0``) for PyTorch's backward semantics rather
than speed: rows at ``padding_idx`` get no gradient and ``scale_grad_by_freq`` divides each row's
gradient by the index's count in the batch, inside a dense scatter-add
(``EmbeddingDenseBackward0``) whose own backward is the gather again, so double backward works.
``benchmarks/normalization.py`` times it at the speed of the ``index_select`` composite (1.0x).
``sparse=True`` is accepted, but gradients are always dense tensors (ember has no sparse layout).

``embedding_bag`` reduces bags (contiguous runs of ``input`` delimited by ``offsets``) with
``sum``/``mean``/``max`` in one vectorized scatter per call; fused, it takes about 0.8x the time
of the gather + ``index_add`` composite (same benchmark, sum mode, 512 bags of 32 rows of 128).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor, legacy_type_name
from ..autograd.function import Op
from ..autograd.grad_mode import no_grad
from . import _util
from . import indexing as _indexing
from . import shape as _shape
from .indexing import index_add_at, reduce_at

__all__ = ["embedding", "embedding_bag", "one_hot"]

_I64 = np.dtype(np.int64)
_I32 = np.dtype(np.int32)
_F32 = np.dtype(np.float32)
_REDUCED = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _REDUCED.add(_dtype._BF16_NP)


def _work(npd: np.dtype) -> np.dtype:
    return _F32 if npd in _REDUCED else npd


def _const(arr) -> Tensor:
    return Tensor._make(arr)


def _check_index_dtype(t: Tensor, arg: str, fname: str) -> None:
    if t._data.dtype not in (_I64, _I32):
        raise RuntimeError(f"Expected tensor for argument #{1 if arg == 'indices' else 2} "
                           f"'{arg}' to have one of the following scalar types: Long, Int; but "
                           f"got {legacy_type_name(t)} instead (while checking arguments for "
                           f"{fname})")


def _position_factor(xp, flat, num: int, padding_idx: int, scale: bool, npd):
    """Per-index multiplier of the gradient (padding rows 0, 1/frequency when scaling), or
    None when every factor is 1."""
    f = None
    if scale and flat.size:
        counts = xp.bincount(flat, minlength=num)
        f = (1.0 / counts[flat]).astype(npd)
    if padding_idx >= 0:
        keep = flat != padding_idx
        f = keep.astype(npd) if f is None else f * keep
    return f


# ---------------------------------------------------------------------------------------------
# embedding
# ---------------------------------------------------------------------------------------------

class EmbeddingOp(Op, name="EmbeddingBackward0"):
    """Rows ``weight[indices]``; the gradient is scattered back by ``EmbeddingDenseBackward``."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.meta = (indices, weight.shape[0], padding_idx, scale_grad_by_freq)
        return array_module(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, g):
        indices, num, padding_idx, scale = ctx.meta
        return EmbeddingDenseBackward.apply(g, indices, num, padding_idx, scale)


class EmbeddingDenseBackward(Op, name="EmbeddingDenseBackward0"):
    """``(num, D)`` zeros with the rows of ``g`` (shape ``indices.shape + (D,)``) added at
    ``indices``; 16-bit gradients accumulate in float32."""

    @staticmethod
    def forward(ctx, g, indices, num, padding_idx, scale):
        xp = array_module(g)
        d = g.shape[-1]
        flat = indices.reshape(-1)
        work = _work(g.dtype)
        rows = g.reshape(-1, d).astype(work, copy=False)
        f = _position_factor(xp, flat, num, padding_idx, scale, work)
        ctx.meta = (indices, f)
        if f is not None:
            rows = rows * f[:, None]
        out = xp.zeros((num, d), dtype=work)
        index_add_at(xp, out, (flat,), rows)
        return out.astype(g.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        indices, f = ctx.meta
        r = EmbeddingOp.apply(gg, indices, -1, False)
        if f is not None:
            r = r * _const(f.reshape(indices.shape + (1,)))
        return r


def _check_padding_idx(padding_idx, num: int, msg: str) -> int:
    """PyTorch's Python-level check; returns the non-negative index, or -1 for none."""
    if padding_idx is None:
        return -1
    padding_idx = int(padding_idx)
    if padding_idx > 0 and padding_idx >= num:
        raise AssertionError(msg)
    if padding_idx < 0:
        if padding_idx < -num:
            raise AssertionError(msg)
        padding_idx = num + padding_idx
    return padding_idx


def _renorm_(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """``torch.embedding_renorm_``: rows of ``weight`` used by ``idx`` whose ``norm_type``-norm
    exceeds ``max_norm`` are scaled in place to ``max_norm / (norm + 1e-7)`` of themselves."""
    w = weight._data
    if w.dtype.kind != "f" and w.dtype != _dtype._BF16_NP:
        raise RuntimeError(f"embedding_renorm_ expects a floating point weight, got "
                           f"{legacy_type_name(weight)}")
    xp = array_module(w)
    rows_idx = xp.unique(idx.reshape(-1))
    if rows_idx.size == 0:
        return
    rows = w[rows_idx].astype(_work(w.dtype), copy=False)
    a = xp.abs(rows)
    p = float(norm_type)
    if p == math.inf:
        norms = a.max(axis=1)
    elif p == -math.inf:
        norms = a.min(axis=1)
    elif p == 0:
        norms = (a != 0).sum(axis=1).astype(rows.dtype)
    elif p == 1:
        norms = a.sum(axis=1)
    elif p == 2:
        norms = xp.sqrt((a * a).sum(axis=1))
    else:
        norms = (a ** p).sum(axis=1) ** (1.0 / p)
    over = norms > max_norm
    if not bool(over.any()):
        return
    scale = max_norm / (norms[over].astype(np.float64) + 1e-7)
    target = rows_idx[over]
    w[target] = (rows[over] * scale[:, None].astype(rows.dtype)).astype(w.dtype, copy=False)
    weight._bump_version()


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``torch.nn.functional.embedding``: the rows ``weight[input]``.

    ``padding_idx`` rows get no gradient; ``max_norm`` first renormalizes (in place, without
    autograd) the looked-up rows whose ``norm_type``-norm exceeds it; ``scale_grad_by_freq``
    divides gradients by the indices' frequencies in the batch. ``sparse=True`` is accepted but
    the weight gradient is dense.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding(): argument 'weight' (position 1) must be Tensor, not "
                        f"{type(weight).__name__}")
    num = weight.shape[0] if weight.ndim else 0
    padding_idx = _check_padding_idx(padding_idx, num, "Padding_idx must be within "
                                                       "num_embeddings")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_index_dtype(input, "indices", "embedding")
    _util.check_same_device(weight, input)
    idx = input._data
    if idx.size and bool(((idx < 0) | (idx >= num)).any()):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, float(max_norm), norm_type)
    return EmbeddingOp.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))


# ---------------------------------------------------------------------------------------------
# embedding_bag
# ---------------------------------------------------------------------------------------------

_MODES = {"sum": 0, "mean": 1, "max": 2}


class _Bags:
    """Where each index goes: its bag, whether it counts, and per-bag counts."""

    def __init__(self, xp, ids, offsets, include_last_offset: bool, padding_idx: int):
        n = ids.shape[0]
        offs = offsets.astype(np.int64, copy=False)
        if include_last_offset:
            starts = offs[:-1]
            end = int(offs[-1]) if offs.shape[0] else 0
        else:
            starts = offs
            end = n
        self.num_bags = int(starts.shape[0])
        pos = xp.arange(n, dtype=np.int64)
        if self.num_bags:
            bag = xp.searchsorted(starts, pos, side="right") - 1
            valid = (pos < end) & (bag >= 0)
        else:
            bag = xp.zeros(n, dtype=np.int64)
            valid = xp.zeros(n, dtype=bool)
        if padding_idx >= 0:
            valid &= ids != padding_idx
        self.all_valid = bool(valid.all())
        self.pos = pos if self.all_valid else xp.flatnonzero(valid)  # positions that count
        self.bag = bag if self.all_valid else bag[self.pos]
        self.ids = ids if self.all_valid else ids[self.pos]
        self.n = n
        self.all_ids = ids
        self.counts = xp.bincount(self.bag, minlength=self.num_bags)[:self.num_bags] \
            if self.num_bags else xp.zeros(0, dtype=np.int64)


class EmbeddingBagOp(Op, name="EmbeddingBagBackward0"):
    """Bag reductions of ``weight`` rows; ``psw`` (per-sample weights) only in sum mode."""

    @staticmethod
    def forward(ctx, weight, psw, bags, mode, scale):
        xp = array_module(weight)
        d = weight.shape[1]
        work = _work(weight.dtype)
        ctx.meta = (bags, mode, scale)
        e = ctx._edges
        if e is not None:
            ctx.save_for_backward(weight if e[1] else None, psw if e[0] else None)
        rows = xp.take(weight, bags.ids, axis=0).astype(work, copy=False)
        if mode == 2:
            out = xp.full((bags.num_bags, d), -np.inf, dtype=work)
            reduce_at(xp, "max", out, (bags.bag,), rows)
            empty = bags.counts == 0
            out[empty] = 0
            # the first row reaching the maximum (PyTorch's CPU rule) gives each max's index
            big = np.iinfo(np.int64).max
            first = xp.full((bags.num_bags, d), big, dtype=np.int64)
            hit = rows == out[bags.bag]
            cand = xp.where(hit, xp.arange(rows.shape[0], dtype=np.int64)[:, None], big)
            reduce_at(xp, "min", first, (bags.bag,), cand)
            found = first != big
            ctx.max_idx = xp.where(found, bags.ids[xp.where(found, first, 0)], -1)
            return out.astype(weight.dtype, copy=False)
        if psw is not None:
            w_pos = psw.reshape(-1) if bags.all_valid else psw.reshape(-1)[bags.pos]
            rows = rows * w_pos.astype(work, copy=False)[:, None]
        out = xp.zeros((bags.num_bags, d), dtype=work)
        index_add_at(xp, out, (bags.bag,), rows)
        if mode == 1:
            out /= xp.maximum(bags.counts, 1).astype(work)[:, None]
        return out.astype(weight.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        bags, mode, scale = ctx.meta
        weight, psw = ctx.saved_tensors
        e = ctx._edges
        xp = array_module(g._data)
        gw = gpsw = None
        if e[0]:
            num, d = e[0][2]
        if mode == 2:
            if e[0]:
                mi = ctx.max_idx
                found = _const((mi >= 0).astype(g._data.dtype))
                index = _const(xp.where(mi >= 0, mi, 0))
                zeros = _const(xp.zeros((num, d), dtype=g._data.dtype))
                gw = _indexing.scatter_add(zeros, 0, index, g * found)
            return gw, None
        bag_t = _const(bags.bag)
        gsel = _indexing.index_select(g, 0, bag_t)  # the bag gradient of every index
        if e[0]:
            f = gsel
            if mode == 1:
                cnt = xp.maximum(bags.counts, 1).astype(g._data.dtype)
                f = f / _const(cnt[bags.bag][:, None])
            if psw is not None:
                f = f * _shape.unsqueeze(_select_positions(psw, bags), 1)
            if scale:
                f = f * _const(_freq_factor(xp, bags.all_ids, bags.ids, num,
                                                     g._data.dtype)[:, None])
            zeros = _const(xp.zeros((num, d), dtype=g._data.dtype))
            gw = _indexing.index_add(zeros, 0, _const(bags.ids), f)
        if e[1]:
            rows = _indexing.index_select(weight, 0, _const(bags.ids))
            per = (gsel * rows).sum(1)
            if bags.all_valid:
                gpsw = _shape.reshape(per, e[1][2])
            else:
                zeros = _const(xp.zeros(bags.n, dtype=g._data.dtype))
                gpsw = _shape.reshape(_indexing.index_add(zeros, 0, _const(bags.pos), per),
                                      e[1][2])
        return gw, gpsw


def _select_positions(psw: Tensor, bags: _Bags) -> Tensor:
    flat = _shape.reshape(psw, (-1,))
    return flat if bags.all_valid else _indexing.index_select(flat, 0, _const(bags.pos))


def _freq_factor(xp, all_ids, ids, num: int, npd):
    """PyTorch's CPU ``scale_grad_by_freq`` for bags, mirrored so that gradients match: the
    k-th smallest distinct index has its gradient divided by the count of the k-th entry of the
    sorted index list (duplicates included; padding included), which is its own count only
    while no earlier index repeats."""
    if ids.size == 0:
        return xp.ones(0, dtype=npd)
    counts = xp.bincount(all_ids, minlength=num)
    uniq = xp.unique(all_ids)
    srt = xp.sort(all_ids)
    div = xp.ones(num, dtype=np.int64)
    div[uniq] = counts[srt[:uniq.shape[0]]]
    return (1.0 / div[ids]).astype(npd)


def _check_offsets(xp, offsets, n: int) -> None:
    if offsets.shape[0] == 0:
        return
    first = int(offsets[0])
    if first != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {first}")
    last = int(offsets[-1])
    if last > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {last}")
    if offsets.shape[0] > 1 and bool((offsets[1:] < offsets[:-1]).any()):
        raise RuntimeError("embedding_bag: offsets must be non-decreasing")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """``torch.nn.functional.embedding_bag``: sums, means or maxima of bags of embedding rows.

    ``input`` is 2-D (each row one bag) or 1-D with ``offsets`` (bag starts;
    ``include_last_offset`` makes the last offset the end of the last bag). Indices equal to
    ``padding_idx`` are left out of their bag (and of a mean's count); empty bags give zeros.
    ``per_sample_weights`` scale the rows (``mode='sum'`` only). ``sparse=True`` is accepted;
    gradients are dense. With ``include_last_offset`` (CSR-style offsets, last = len(input))
    indices past ``offsets[-1]`` belong to no bag; PyTorch's CPU kernels disagree among
    themselves there (some modes fold them into the last bag), so only the documented layout
    matches PyTorch.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding_bag(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding_bag(): argument 'weight' (position 1) must be Tensor, not "
                        f"{type(weight).__name__}")
    if weight.dtype is _dtype.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {_torch_type_str(offsets)}")
        if input.shape[1] == 0:
            raise RuntimeError("step must be nonzero")  # PyTorch's arange(0, 0, 0)
        xp = array_module(input._data)
        offs = xp.arange(0, input.numel(), input.shape[1], dtype=np.int64)
        include_last_offset = False
        ids = input._data.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = _shape.reshape(per_sample_weights, (-1,))
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        ids = input._data
        offs = None
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    _check_index_dtype(input, "indices", "embedding_bag")
    if offs is None:
        _check_index_dtype(offsets, "offsets", "embedding_bag")
        offs = offsets._data
    w = weight._data
    if w.dtype.kind != "f" and w.dtype != _dtype._BF16_NP:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the "
                           f"following scalar types: Half, BFloat16, Float, Double; but got "
                           f"{legacy_type_name(weight)} instead (while checking arguments for "
                           f"embedding_bag)")
    _util.check_same_device(weight, input, offsets, per_sample_weights)
    num = w.shape[0]
    xp = array_module(ids)
    if ids.size:
        bad = (ids < 0) | (ids >= num)
        if bool(bad.any()):
            pos = int(xp.flatnonzero(bad)[0])
            if mode == "max" or padding_idx is not None:  # PyTorch's generic kernel's words
                raise RuntimeError(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings "
                                   f"but found idx to be {int(ids[pos])}")
            raise RuntimeError(f"Index {pos} of input takes value {int(ids[pos])} which is not "
                               f"in the valid range [0, {num})")
    _check_offsets(xp, offs, ids.shape[0])
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, ids, float(max_norm), norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if per_sample_weights is not None and per_sample_weights.dtype is not weight.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as "
                           f"tensor for argument #1 'per_sample_weights'; but type "
                           f"{legacy_type_name(weight)} does not equal "
                           f"{legacy_type_name(per_sample_weights)} (while checking arguments "
                           f"for embedding_bag)")
    pad = -1
    if padding_idx is not None:
        pad = int(padding_idx)
        if not -num <= pad < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} "
                               f"through {num - 1}, but got {pad}")
        if pad < 0:
            pad += num
    bags = _Bags(xp, ids, offs, bool(include_last_offset), pad)
    return EmbeddingBagOp.apply(weight, per_sample_weights, bags, _MODES[mode],
                                bool(scale_grad_by_freq))


def _torch_type_str(obj) -> str:
    """``str(type(obj))`` as PyTorch prints it (ember tensors print as torch.Tensor)."""
    if isinstance(obj, Tensor):
        return "<class 'torch.Tensor'>"
    return str(type(obj))


# ---------------------------------------------------------------------------------------------
# one_hot
# ---------------------------------------------------------------------------------------------

def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``torch.nn.functional.one_hot``: int64 tensor of shape ``tensor.shape + (num_classes,)``
    with a 1 at each value; ``num_classes=-1`` infers ``max + 1``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    a = tensor._data
    if a.dtype != _I64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = array_module(a)
    n = int(num_classes)
    if a.size == 0:
        if n == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        out = xp.zeros(a.shape + (n,), dtype=np.int64)
        return _const(out)
    lo = int(a.min())
    if lo < 0:
        raise RuntimeError("Class values must be non-negative.")
    hi = int(a.max())
    if n == -1:
        n = hi + 1
    elif hi >= n:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(n, dtype=np.int64)).astype(np.int64)
    return _const(out)

