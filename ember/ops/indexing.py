"""Indexing: ``t[...]``, ``t[...] = v``, ``gather``, ``scatter``, ``index_select``, masks, ...

Basic indexing (ints, slices, None, ``...``) returns a view; advanced indexing (integer or
boolean tensors, lists, arrays, Python bools) returns a copy, exactly as in PyTorch. PyTorch
applies the basic part of an index first and then the advanced part to that view, which places
the advanced result dims differently from NumPy when ints are mixed with tensors
(``x[0, :, [1, 2]]`` has shape ``[4, 2]`` in PyTorch, ``[2, 4]`` in NumPy); ember does the same.

The scatter-style ops share one idea: a *position tuple* (an index tuple for the array module,
e.g. ``(arange(n)[:, None], index)`` for ``scatter`` along dim 1) addresses, for every element
of the index, the element of ``self`` it reads or writes. Forward reads with ``a[pos]`` or
writes with ``a[pos] = v`` / ``ufunc.at`` (on flat offsets, see ``Pos``); backward is built
from the same two primitives (``Index`` and ``IndexGrad`` below), so every backward is itself
differentiable.
"""

from __future__ import annotations

import math
import numbers
import operator
import warnings

import numpy as np

from .. import _backend, _dtype
from .._backend import array_module
from .._tensor import Tensor, _c_name, legacy_type_name
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _util
from ._util import wrap_dim, write_out

__all__ = [
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
    "index_copy", "index_fill", "index_put", "index_put_", "index_reduce", "masked_fill",
    "masked_select", "masked_scatter", "take", "take_along_dim", "put", "nonzero", "argwhere",
]

_ndarray = np.ndarray
_new = object.__new__
_I64 = np.dtype(np.int64)
_I32 = np.dtype(np.int32)
_BOOL = np.dtype(np.bool_)
_U8 = np.dtype(np.uint8)
_INDEX_DTYPES = (_I64, _I32)

# ---------------------------------------------------------------------------------------------
# scatter kernels: target[idx] op= values, repeated indices combining (NumPy vs CuPy)
# ---------------------------------------------------------------------------------------------


class Pos(tuple):
    """An index tuple of full slices and integer arrays into an array of ``shape``, which also
    knows its 1-d offsets (computed once, on demand). ``ufunc.at`` and gathers on flat offsets
    are several times faster than on a tuple index with a subspace, so forward and backward of
    the scatter/gather ops share one ``Pos``."""

    def __new__(cls, shape, items, nonneg: bool = False):
        p = tuple.__new__(cls, items)
        p.shape = tuple(shape)
        p.nonneg = nonneg  # the arrays were checked to hold no negative index
        p._flat = None
        return p

    def flat(self, xp):
        f = self._flat
        if f is None:
            f = self._flat = flat_offsets(xp, self.shape, self, self.nonneg)
        return f


def flat_offsets(xp, shape, items, nonneg: bool = False):
    """1-d offsets into a C-contiguous array of ``shape`` of the elements ``a[items]`` reads,
    laid out as that result (NumPy's placement of the advanced dims)."""
    nd = len(shape)
    strides = [1] * nd
    for d in range(nd - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    items = list(items) + [slice(None)] * (nd - len(items))
    adv = [d for d, it in enumerate(items) if not isinstance(it, slice)]
    rest = [d for d, it in enumerate(items) if isinstance(it, slice)]
    total = None
    for d in adv:
        a = items[d]
        if a.dtype != _I64:
            a = a.astype(np.int64)  # offsets overflow narrower integers
        if not nonneg:
            a = xp.where(a < 0, a + shape[d], a)  # negative indices count from the end
        term = a * strides[d] if strides[d] != 1 else a
        total = term if total is None else total + term
    if not rest:
        return total  # an array for every dim (scatter/gather): the sum is the answer
    bshape = tuple(total.shape)
    if adv == list(range(adv[0], adv[-1] + 1)):
        layout = [d for d in rest if d < adv[0]] + [None] + [d for d in rest if d > adv[-1]]
    else:
        layout = [None] + rest
    ndim = len(bshape) + len(rest)
    out = None
    axis = 0
    for d in layout:
        shp = [1] * ndim
        if d is None:
            shp[axis:axis + len(bshape)] = bshape
            term = total.reshape(shp)
            axis += len(bshape)
        else:
            shp[axis] = shape[d]
            term = (xp.arange(shape[d], dtype=np.int64) * strides[d]).reshape(shp)
            axis += 1
        out = term if out is None else out + term
    return out


def _flat_of(xp, target, idx):
    """Flat offsets for ``target[idx]`` when that is cheap and valid, else None."""
    if not target.flags.c_contiguous or not isinstance(idx, tuple) or len(idx) > target.ndim:
        return None
    if type(idx) is Pos:
        return idx.flat(xp) if idx.shape == target.shape else None
    has_array = False
    for it in idx:
        if isinstance(it, slice):
            if it != _FULL:
                return None
        elif getattr(it, "dtype", None) is not None and it.dtype.kind in "iu":
            has_array = True
        else:
            return None
    return flat_offsets(xp, target.shape, idx) if has_array else None


_FULL = slice(None)


def index_add_at(xp, target, idx, values) -> None:
    """``target[idx] += values`` with repeated indices accumulating (scatter-add)."""
    reduce_at(xp, "add", target, idx, values)


_NP_UFUNCS = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def reduce_at(xp, op: str, target, idx, values) -> None:
    """``target[idx] = op(target[idx], values)`` combining repeated indices; ``op`` is one of
    ``add``, ``mul``, ``max``, ``min``."""
    flat = _flat_of(xp, target, idx)
    if flat is not None:
        values = xp.broadcast_to(xp.asarray(values, dtype=target.dtype), flat.shape).reshape(-1)
        target, idx = target.reshape(-1), flat.reshape(-1)
    if xp is np:
        _NP_UFUNCS[op].at(target, idx, values)
        return
    import cupyx

    if op == "add":
        cupyx.scatter_add(target, idx, values)
    elif op == "max":
        cupyx.scatter_max(target, idx, values)
    elif op == "min":
        cupyx.scatter_min(target, idx, values)
    else:
        mul_at_sorted(xp, target, idx, values)


def _elementwise(idx) -> bool:
    """A ``Pos`` with an array for every dim: each element addressed on its own (no rows to
    copy whole), where flat offsets pay off for plain reads and writes too."""
    return type(idx) is Pos and len(idx) == len(idx.shape) and \
        not any(isinstance(it, slice) for it in idx)


def assign_at(xp, target, idx, values) -> None:
    """``target[idx] = values``."""
    if _elementwise(idx) and target.flags.c_contiguous and idx.shape == target.shape:
        target.reshape(-1)[idx.flat(xp)] = values
    else:
        target[idx] = values


def read_at(xp, a, idx):
    """``a[idx]`` (a copy)."""
    if _elementwise(idx) and a.flags.c_contiguous and idx.shape == a.shape:
        return a.reshape(-1)[idx.flat(xp)]
    return a[idx]


def mul_at_sorted(xp, target, idx, values) -> None:
    """``target[idx] *= values`` with repeated indices multiplying, without ``ufunc.at``
    (CuPy has no ``multiply.at``): sort the addressed positions, run a segmented product scan
    by doubling (log2(n) vectorized steps) and multiply each segment's total in once."""
    work = target if target.flags.c_contiguous else xp.ascontiguousarray(target)
    flat_pos = xp.arange(work.size, dtype=np.int64).reshape(work.shape)[idx]
    vals = xp.broadcast_to(xp.asarray(values, dtype=work.dtype), flat_pos.shape).ravel()
    pos = flat_pos.ravel()
    if pos.size:
        order = xp.argsort(pos, kind="stable")
        pos = pos[order]
        vals = vals[order]
        n = pos.size
        off = 1
        while off < n:
            same = pos[off:] == pos[:-off]
            vals[off:] = xp.where(same, vals[off:] * vals[:-off], vals[off:])
            off *= 2
        last = xp.ones(n, dtype=bool)
        last[:-1] = pos[1:] != pos[:-1]
        flat = work.reshape(-1)
        flat[pos[last]] *= vals[last]
    if work is not target:
        target[...] = work


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------

def _type_name(obj) -> str:
    t = type(obj)
    mod = t.__module__
    return t.__qualname__ if mod == "builtins" else f"{mod}.{t.__qualname__}"


def _need_tensor(x, fname: str, arg: str, pos: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _name(d) -> str:
    return _util.dtype_name(d)


def _first_out_of_range(xp, a, size: int, negative_ok: bool):
    """The first element of index array ``a`` (C order) outside the valid range, or None."""
    if a.size == 0:
        return None
    lo = -size if negative_ok else 0
    if int(a.min()) >= lo and int(a.max()) < size:
        return None
    bad = (a < lo) | (a >= size)
    return int(a.ravel()[int(xp.argmax(bad.ravel()))])


def _as_index(xp, a):
    """An int64 index array on the array module ``xp``."""
    if array_module(a) is not xp:
        a = xp.asarray(_backend.to_device(a, _backend.CPU)) if xp is not np else \
            _backend.to_device(a, _backend.CPU)
    return a if a.dtype == _I64 else a.astype(np.int64)


def _shape1(shape) -> tuple:
    """PyTorch treats a 0-d tensor as 1-d of size 1 in the dim-based indexing ops."""
    return tuple(shape) if len(shape) else (1,)


def _grid(xp, idx, dim: int, shape) -> Pos:
    """Positions for scatter/gather along ``dim`` in an array of ``shape``: ``idx`` there,
    each element's own coordinate in every other dim (broadcasting aranges)."""
    nd = idx.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(idx)
        else:
            shp = [1] * nd
            shp[d] = idx.shape[d]
            out.append(xp.arange(idx.shape[d], dtype=np.int64).reshape(shp))
    return Pos(shape, out, nonneg=True)


def _along(dim: int, idx, shape, nonneg: bool = True) -> Pos:
    """Positions for the ``index_*`` ops: every element of the other dims, ``idx`` in ``dim``."""
    return Pos(shape, (slice(None),) * dim + (idx,), nonneg)


def _hit_mask(xp, shape, pos):
    hit = xp.zeros(shape, dtype=bool)
    assign_at(xp, hit, pos, True)
    return hit


def _const(arr) -> Tensor:
    return Tensor._make(arr)


def _reshape(t: Tensor, shape) -> Tensor:
    from .shape import reshape

    return reshape(t, tuple(shape))


_SCALAR_TYPES = (numbers.Number, np.generic)

_CPP_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
    "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
}


def checked_scalar(value, d: _dtype.dtype):
    """A Python number converted for a tensor of dtype ``d`` the way PyTorch fills do: floats
    truncate into integers, but values out of the dtype's range (or a complex number with an
    imaginary part into a real dtype) raise PyTorch's overflow error."""
    if isinstance(value, np.generic):
        value = value.item()
    if d is _dtype.bool:
        return bool(value)
    npd = _dtype.to_numpy_dtype(d)

    def overflow():
        return RuntimeError(f"value cannot be converted to type {_CPP_NAMES[d._name]} without "
                            "overflow")

    if isinstance(value, complex):
        if npd.kind == "c":
            part = np.finfo(npd).max
            for x in (value.real, value.imag):
                if math.isfinite(x) and abs(x) > part:
                    raise overflow()
            return value
        if value.imag != 0:
            raise overflow()
        value = value.real
    if npd.kind in "iu":
        if isinstance(value, float) and not math.isfinite(value):
            raise overflow()
        info = np.iinfo(npd)
        lo = info.min if npd.kind == "i" else -int(info.max)
        if not lo <= value <= info.max:
            raise overflow()
        v = int(value)
        if v < 0 and npd.kind == "u":
            v &= int(info.max)  # PyTorch wraps small negatives into unsigned types
        return v
    if npd.kind in "fc" or d is _dtype.bfloat16:
        fmax = float(_dtype.finfo(d).max)
        fv = float(value)
        if math.isfinite(fv) and abs(fv) > fmax:
            raise overflow()
        return fv if npd.kind != "c" else complex(fv)
    return value


def _scalar_array(xp, value, npd):
    return xp.asarray(value, dtype=npd)


def _broadcast_msg_shapes(shapes) -> str:
    return ", ".join(str(list(s)) for s in shapes)


def _expand_check(src_shape, target_shape, type_str: str) -> None:
    """PyTorch's ``expand`` errors for expanding ``src_shape`` to ``target_shape``."""
    src_shape, target_shape = tuple(src_shape), tuple(target_shape)
    if len(src_shape) > len(target_shape):
        raise RuntimeError(f"expand({type_str}{{{list(src_shape)}}}, size={list(target_shape)}): "
                           f"the number of sizes provided ({len(target_shape)}) must be greater "
                           "or equal to the number of dimensions in the tensor "
                           f"({len(src_shape)})")
    off = len(target_shape) - len(src_shape)
    for i in range(len(target_shape) - 1, off - 1, -1):
        s = src_shape[i - off]
        if s != target_shape[i] and s != 1:
            raise RuntimeError(f"The expanded size of the tensor ({target_shape[i]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {i}.  Target "
                               f"sizes: {list(target_shape)}.  Tensor sizes: {list(src_shape)}")


def _strip_ones(shape) -> tuple:
    """Leading size-1 dims dropped (PyTorch's setitem/index_put accept such values)."""
    shape = tuple(shape)
    i = 0
    while i < len(shape) and shape[i] == 1:
        i += 1
    return shape[i:]


def _fits(value_shape, target_shape) -> bool:
    if len(value_shape) > len(target_shape):
        return False
    for v, t in zip(reversed(value_shape), reversed(target_shape)):
        if v != t and v != 1:
            return False
    return True


def _same_device_value(value: Tensor, like: Tensor) -> Tensor:
    if type(value._data) is type(like._data) and (type(value._data) is _ndarray
                                                  or value.device == like.device):
        return value
    _, value = _util.same_device(like, value)
    return value


# ---------------------------------------------------------------------------------------------
# the two primitives: read at positions (Index) and write/accumulate at positions (IndexGrad)
# ---------------------------------------------------------------------------------------------

class Index(Op, name="IndexBackward0"):
    """``a[idx]`` for an advanced index ``idx`` (a copy); backward scatter-adds."""

    @staticmethod
    def forward(ctx, a, idx, basic=False, unique=False):
        ctx.in_shape = a.shape
        ctx.idx = idx
        ctx.basic = basic
        ctx.unique = unique
        if type(idx) is Pos:
            return read_at(array_module(a), a, idx)
        r = a[idx]
        # a basic index yields a view: this op's output must own its memory
        return r.copy() if basic or idx is _ALL else r

    @staticmethod
    def backward(ctx, g):
        return IndexGrad.apply(g, ctx.in_shape, ctx.idx, not (ctx.basic or ctx.unique),
                               ctx.basic)


class IndexGrad(Op, name="IndexPutBackward0"):
    """Zeros of ``shape`` with ``g`` written (``accumulate``: added) at ``idx``."""

    @staticmethod
    def forward(ctx, g, shape, idx, accumulate, basic=False):
        ctx.idx = idx
        ctx.basic = basic
        ctx.unique = not accumulate
        xp = array_module(g)
        z = xp.zeros(shape, dtype=g.dtype)
        if accumulate:
            index_add_at(xp, z, idx, g)
        else:
            z[idx] = g
        return z

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, ctx.idx, ctx.basic, ctx.unique)


def _take_at(t: Tensor, pos) -> Tensor:
    return Index.apply(t, pos)


class _Embed(Op, name="ConstantPadNdBackward0"):
    """``g`` written into the ``block`` (leading corner) of zeros of ``shape``: the gradient of
    a source tensor larger than the index that read from it."""

    @staticmethod
    def forward(ctx, g, shape, block):
        ctx.block = block
        z = array_module(g).zeros(shape, dtype=g.dtype)
        z[block] = g
        return z

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, ctx.block, True)


def _embed(g: Tensor, shape, block) -> Tensor:
    return g if block is None else _Embed.apply(g, tuple(shape), block)


def _block(idx_shape, src_shape):
    """Slices selecting the part of ``src`` an index of ``idx_shape`` reads (None: all)."""
    if tuple(idx_shape) == tuple(src_shape):
        return None
    return tuple(slice(0, n) for n in idx_shape)


# ---------------------------------------------------------------------------------------------
# __getitem__: parsing an index the way PyTorch does
# ---------------------------------------------------------------------------------------------

_K_INT, _K_SLICE, _K_NONE, _K_ELL, _K_BOOL, _K_ARR, _K_MASK = range(7)
_ALL = (Ellipsis,)  # index_put with only 0-d True masks: every element

_SEQ_WARN = ("Using a non-tuple sequence for multidimensional indexing is deprecated and will be "
             "changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this "
             "will be interpreted as tensor index, x[torch.tensor(seq)], which will result "
             "either in an error or a different result")
_U8_WARN = ("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
            "instead.")
_BAD_TENSOR_INDEX = "tensors used as indices must be long, int, byte or bool tensors"


def _bad_index(obj):
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     f"Variables are valid indices (got {_type_name(obj)})")


def _seq_as_tuple(seq) -> bool:
    """PyTorch's (and old NumPy's) rule: a short list holding a tensor, sequence, slice, None or
    ``...`` is read as a tuple of indices."""
    if len(seq) >= 32:
        return False
    for x in seq:
        if x is None or x is Ellipsis or isinstance(x, (Tensor, slice, list, tuple, range,
                                                        np.ndarray, str)):
            return True
    return False


def _items(index) -> tuple:
    if isinstance(index, tuple):
        return index
    if isinstance(index, list) and _seq_as_tuple(index):
        warnings.warn(_SEQ_WARN, UserWarning, stacklevel=4)
        return tuple(index)
    return (index,)


def _seq_to_array(seq):
    """A list/tuple/ndarray index as a NumPy array (PyTorch: a Long, Bool or Byte tensor)."""
    if isinstance(seq, np.ndarray):
        a = seq
    else:
        def host(x):
            if isinstance(x, Tensor):
                return x.tolist()
            if isinstance(x, (list, tuple, range)):
                return [host(y) for y in x]
            return x

        try:
            a = np.asarray(host(seq))
        except ValueError as e:
            raise ValueError(f"expected a sequence of equal-length sequences as an index ({e})") \
                from None
    k = a.dtype.kind
    if k == "b" or a.dtype == _U8:
        return a
    if k in "iuf":
        return a.astype(np.int64)
    if k in "US":
        raise TypeError(f"new(): invalid data type '{'str' if k == 'U' else 'bytes'}'")
    raise TypeError(f"can't index with a sequence of {a.dtype}")


def _classify(it, xp):
    """(kind, payload) for one item of an index."""
    if it is None:
        return _K_NONE, None
    if it is Ellipsis:
        return _K_ELL, None
    if isinstance(it, (bool, np.bool_)):
        return _K_BOOL, bool(it)
    if isinstance(it, (int, np.integer)):
        return _K_INT, int(it)
    if isinstance(it, slice):
        return _K_SLICE, it
    if isinstance(it, Tensor):
        a = it._data
        dt = a.dtype
        if dt not in _INDEX_DTYPES and dt != _BOOL and dt != _U8:
            raise IndexError(_BAD_TENSOR_INDEX)
        return _from_array(a, xp, tensor=True)
    if isinstance(it, (list, tuple, range, np.ndarray)):
        return _from_array(_seq_to_array(it), xp, tensor=False)
    if isinstance(it, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(it).__name__}'")
    if not isinstance(it, (float, complex)) and hasattr(it, "__index__"):
        return _K_INT, operator.index(it)
    _bad_index(it)


def _from_array(a, xp, tensor: bool):
    dt = a.dtype
    is_mask = dt == _BOOL or dt == _U8
    if dt == _U8 and tensor:
        warnings.warn(_U8_WARN, UserWarning, stacklevel=5)
    if a.ndim == 0:
        v = a.item() if isinstance(a, np.ndarray) else a.get().item()
        return (_K_BOOL, bool(v)) if is_mask else (_K_INT, int(v))
    if is_mask:
        m = a if dt == _BOOL else a.astype(bool)
        return _K_MASK, (m if array_module(m) is xp else _to_xp(m, xp))
    return _K_ARR, _as_index(xp, a)


def _to_xp(a, xp):
    if xp is np:
        return _backend.to_device(a, _backend.CPU)
    return xp.asarray(_backend.to_device(a, _backend.CPU))


def _norm_slice(s: slice, size: int) -> slice:
    step = s.step
    if step is not None:
        step = operator.index(step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError("step must be greater than zero")
    start, stop, step = slice(s.start, s.stop, step).indices(size)
    return slice(start, stop, step)


class _Plan:
    """A parsed index: a basic (view) step, then an optional advanced (copy) step.

    ``view_cls``: op for the basic step (None: the step is the identity); ``basic``: its NumPy
    index; ``adv``: NumPy index of the advanced step on the view (None: no advanced step);
    ``unique``: the advanced step addresses every element at most once (a single mask);
    ``view_shape``: shape after the basic step; ``adv_shape``: shape after the advanced step.
    """

    __slots__ = ("view_cls", "basic", "adv", "unique", "view_shape", "adv_shape", "noop")


def _plan(t: Tensor, index) -> _Plan:
    a = t._data
    shape = a.shape
    nd = len(shape)
    p = _new(_Plan)
    p.adv = None
    p.unique = False
    p.adv_shape = None
    # the common one-item forms, with their own messages for 0-d tensors
    if type(index) is int:
        if nd == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        if not -shape[0] <= index < shape[0]:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size "
                             f"{shape[0]}")
        p.view_cls, p.basic = Select, (index, Ellipsis)
        return p
    if type(index) is slice:
        if nd == 0:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        p.view_cls, p.basic = Slice, (_norm_slice(index, shape[0]), Ellipsis)
        return p
    if index is None:
        p.view_cls, p.basic = Unsqueeze, (None, Ellipsis)
        return p
    if index is Ellipsis:
        p.view_cls, p.basic = Alias, (Ellipsis,)
        return p

    xp = array_module(a)
    items = [_classify(it, xp) for it in _items(index)]
    count = 0
    for k, v in items:
        if k == _K_INT or k == _K_SLICE or k == _K_ARR:
            count += 1
        elif k == _K_MASK:
            count += v.ndim
    if count > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    basic = []
    adv = []  # (dim of the view, array, is_mask)
    src = vdim = 0
    cls = None
    seen_ellipsis = False
    for pos, (k, v) in enumerate(items):
        if k == _K_INT:
            size = shape[src]
            if not -size <= v < size:
                raise IndexError(f"index {v} is out of bounds for dimension {pos} with size "
                                 f"{size}")
            basic.append(v)
            src += 1
            cls = Select
        elif k == _K_SLICE:
            size = shape[src]
            s = _norm_slice(v, size)
            basic.append(s)
            if not (s.start == 0 and s.stop == size and s.step == 1):
                cls = Slice
            src += 1
            vdim += 1
        elif k == _K_NONE:
            basic.append(None)
            vdim += 1
            cls = Unsqueeze
        elif k == _K_ELL:
            if not seen_ellipsis:
                n = nd - count
                basic.extend([slice(None)] * n)
                src += n
                vdim += n
                seen_ellipsis = True
        elif k == _K_BOOL:
            # True/False: a new dim of size 1, indexed by [0] (True) or [] (False)
            basic.append(None)
            adv.append((vdim, xp.zeros(1 if v else 0, dtype=np.int64), False))
            vdim += 1
            cls = Unsqueeze
        elif k == _K_ARR:
            basic.append(slice(None))
            adv.append((vdim, v, False))
            src += 1
            vdim += 1
        else:
            m = v.ndim
            basic.extend([slice(None)] * m)
            adv.append((vdim, v, True))
            src += m
            vdim += m
    basic.append(Ellipsis)
    p.basic = tuple(basic)
    if not adv:
        p.view_cls = cls or Alias
        return p
    p.view_cls = cls
    view_shape = a[p.basic].shape if cls is not None else shape
    p.view_shape = view_shape
    _advanced(p, adv, view_shape, xp)
    return p


def _check_mask(mask, view_shape, d: int) -> None:
    for j, s in enumerate(mask.shape):
        if view_shape[d + j] != s:
            raise IndexError(f"The shape of the mask {list(mask.shape)} at index {j} does not "
                             f"match the shape of the indexed tensor {list(view_shape)} at "
                             f"index {d + j}")


def _advanced(p: _Plan, adv, view_shape, xp) -> None:
    """Check the advanced part of an index and build its NumPy form (fills ``p``)."""
    for d, arr, is_mask in adv:
        if is_mask:
            _check_mask(arr, view_shape, d)
    if len(adv) == 1 and adv[0][2]:
        # one mask: NumPy takes it directly, and each element is addressed once
        d, m, _ = adv[0]
        p.adv = (slice(None),) * d + (m,)
        p.unique = True
        nnz = int(xp.count_nonzero(m))
        p.adv_shape = view_shape[:d] + (nnz,) + view_shape[d + m.ndim:]
        return
    per = []
    for d, arr, is_mask in adv:
        if is_mask:
            per.extend((d + j, nz) for j, nz in enumerate(xp.nonzero(arr)))
        else:
            per.append((d, arr))
    shapes = [x.shape for _, x in per]
    try:
        bshape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         f"with shapes {_broadcast_msg_shapes(shapes)}") from None
    _check_adv_bounds(xp, per, view_shape, bshape)
    dims = [d for d, _ in per]
    lst = [slice(None)] * (dims[-1] + 1)
    for d, x in per:
        lst[d] = x
    p.adv = Pos(view_shape, lst)
    rest = [view_shape[i] for i in range(len(view_shape)) if i not in dims]
    if dims == list(range(dims[0], dims[0] + len(dims))):
        first = dims[0]
        p.adv_shape = tuple(view_shape[:first]) + tuple(bshape) + \
            tuple(view_shape[dims[-1] + 1:])
    else:
        p.adv_shape = tuple(bshape) + tuple(rest)


def _check_adv_bounds(xp, per, view_shape, bshape) -> None:
    """PyTorch's out-of-bounds error for index tensors: the first offending element (in
    broadcast order), naming the position of its index tensor among the index tensors."""
    if 0 in bshape:
        return  # nothing is read, nothing is checked
    failing = False
    for d, x in per:
        if _first_out_of_range(xp, x, view_shape[d], True) is not None:
            failing = True
            break
    if not failing:
        return
    bads = []
    for d, x in per:
        size = view_shape[d]
        bads.append(xp.broadcast_to((x < -size) | (x >= size), bshape).ravel())
    anybad = bads[0]
    for b in bads[1:]:
        anybad = anybad | b
    e = int(xp.argmax(anybad))
    for k, ((d, x), b) in enumerate(zip(per, bads)):
        if bool(b[e]):
            if view_shape[d] == 0:
                raise IndexError("index is out of bounds for dimension with size 0")
            v = int(xp.broadcast_to(x, bshape).ravel()[e])
            raise IndexError(f"index {v} is out of bounds for dimension {k} with size "
                             f"{view_shape[d]}")


class _BasicView(Op):
    """``a[idx]`` for a basic index: a view. Subclasses only carry PyTorch's node names
    (the name of the last view op PyTorch would apply)."""

    is_view = True

    @staticmethod
    def forward(ctx, a, idx):
        ctx.in_shape = a.shape
        ctx.idx = idx
        return a[idx]

    @staticmethod
    def backward(ctx, g):
        return IndexGrad.apply(g, ctx.in_shape, ctx.idx, False, True)


class Select(_BasicView, name="SelectBackward0"):
    pass


class Slice(_BasicView, name="SliceBackward0"):
    pass


class Unsqueeze(_BasicView, name="UnsqueezeBackward0"):
    pass


class Alias(_BasicView, name="AliasBackward0"):
    @staticmethod
    def backward(ctx, g):
        return g


def getitem(self, index) -> Tensor:
    """``Tensor.__getitem__`` with PyTorch's indexing rules (views for basic indices)."""
    p = _plan(self, index)
    t = self if p.view_cls is None else p.view_cls.apply(self, p.basic)
    if p.adv is None:
        return t
    return Index.apply(t, p.adv, False, p.unique)


# ---------------------------------------------------------------------------------------------
# __setitem__ and index_put
# ---------------------------------------------------------------------------------------------

class IndexPut(Op, name="IndexPutBackward0"):
    """``a`` with ``v`` written (``accumulate``: added) at advanced index ``idx``."""

    _write_a = False  # set on a bare ctx to run the kernel in place (no graph)

    @staticmethod
    def forward(ctx, a, idx, v, accumulate):
        ctx.idx = idx
        ctx.accumulate = accumulate
        r = a if ctx._write_a else a.copy()
        if accumulate:
            index_add_at(array_module(a), r, idx, v)
        else:
            r[idx] = v
        return r

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        ga = gv = None
        if e[0]:
            ga = g if ctx.accumulate else IndexPut.apply(g, ctx.idx, 0, False)
        if e[2]:
            gv = Index.apply(g, ctx.idx)
        return ga, None, gv, None


def _run_inplace(cls, target: Tensor, args, name: str) -> Tensor:
    """Apply write-style op ``cls(target, *args)`` in place: straight into the storage when no
    graph is recorded, else out of place and rebased onto ``target`` (CopySlices for views)."""
    grad = _state.enabled and (target._rg or any(isinstance(x, Tensor) and x._rg for x in args))
    if not grad:
        ctx = _new(cls)
        ctx._edges = None
        ctx._write_a = True
        cls.forward(ctx, target._data, *[x._data if isinstance(x, Tensor) else x for x in args])
        target._bump_version()
        return target
    return _util.inplace(target, cls.apply(target, *args), name)


_OVERLAP_MSG = ("unsupported operation: some elements of the input tensor and the written-to "
                "tensor refer to a single memory location. Please clone() the tensor before "
                "performing the operation.")


def _check_partial_overlap(dst, src) -> None:
    """PyTorch refuses copies between dense tensors whose memory partly overlaps."""
    if not (dst.flags.c_contiguous and src.flags.c_contiguous) or dst.size == 0 or \
            src.size == 0 or type(dst) is not type(src):
        return
    xp = array_module(dst)
    if not xp.may_share_memory(dst, src):
        return
    from .._tensor import _data_ptr

    if _data_ptr(dst) == _data_ptr(src) and dst.shape == src.shape and \
            dst.dtype == src.dtype:
        return
    raise RuntimeError(_OVERLAP_MSG)


def setitem(self, index, value) -> None:
    """``Tensor.__setitem__``: PyTorch's rules, differentiable, writing through views."""
    if isinstance(value, Tensor):
        vt = value
    elif isinstance(value, (int, float, complex, np.integer)):
        # (PyTorch refuses NumPy float32/bool scalars here, unlike in the fill ops)
        vt = None
        value = checked_scalar(value, self.dtype)
    else:
        raise TypeError(f"can't assign a {_type_name(value)} to a {legacy_type_name(self)}")
    p = _plan(self, index)
    grad = _state.enabled and (self._rg or (vt is not None and vt._rg))
    if vt is not None:
        vt = _same_device_value(vt, self)
    if p.adv is None:
        _set_basic(self, p, value, vt, grad)
    else:
        _set_advanced(self, p, value, vt, grad)


def _set_basic(self: Tensor, p: _Plan, value, vt, grad: bool) -> None:
    if vt is not None:
        target_shape = self._data[p.basic].shape if p.view_cls is not Alias else \
            self._data.shape
        vshape = _strip_ones(vt._data.shape)
        if vt._data.ndim and vshape != target_shape:
            _expand_check(vshape, target_shape, legacy_type_name(vt))
    if not grad:
        _util.check_inplace(self)
        view = self._data[p.basic] if p.view_cls is not Alias else self._data
        if vt is None:
            view[...] = value
        else:
            va = vt._data
            _check_partial_overlap(view, va)
            if va.ndim != len(vshape):
                va = va.reshape(vshape)
            view[...] = va
        self._bump_version()
        return
    from .creation import copy_

    # the trivial index (x[...], x[:, :]) writes into self itself, as PyTorch does
    target = self if p.view_cls is Alias else p.view_cls.apply(self, p.basic)
    if vt is None:
        vt = _const(_scalar_array(array_module(self._data), value, self._data.dtype))
    elif vt._data.ndim != len(vshape):
        vt = _reshape(vt, vshape)
    _check_partial_overlap(target._data, vt._data)
    copy_(target, vt)


def _index_put_value(self: Tensor, p: _Plan, value, vt) -> Tensor | object:
    """Check a value for an advanced write and return it in the form the kernel takes."""
    if vt is None:
        return _scalar_array(array_module(self._data), value, self._data.dtype)
    if vt.dtype is not self.dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{_name(self.dtype)} for the destination and {_name(vt.dtype)} for "
                           "the source.")
    vshape = _strip_ones(vt._data.shape)
    if not _fits(vshape, p.adv_shape):
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be "
                           f"broadcast to indexing result of shape {list(p.adv_shape)}")
    if vt._data.ndim != len(vshape):
        vt = _reshape(vt, vshape)
    return vt


def _set_advanced(self: Tensor, p: _Plan, value, vt, grad: bool) -> None:
    v = _index_put_value(self, p, value, vt)
    if p.view_cls is None:
        target = self
    elif grad:
        target = p.view_cls.apply(self, p.basic)
    else:
        target = None
    if target is None or not grad:
        _util.check_inplace(self if target is None else target)
        view = self._data[p.basic] if target is None else target._data
        view[p.adv] = v._data if isinstance(v, Tensor) else v
        self._bump_version()
        return
    _util.check_inplace(target)
    _util.inplace(target, IndexPut.apply(target, p.adv, v, False), "index_put_")


def _accumulable(p: _Plan) -> tuple:
    """The advanced index with a mask turned into integer arrays (``ufunc.at`` needs them)."""
    if not p.unique:
        return p.adv
    d = len(p.adv) - 1
    m = p.adv[d]
    return Pos(p.view_shape, (slice(None),) * d + tuple(array_module(m).nonzero(m)))


def _index_put_plan(self: Tensor, indices, fname: str, method: bool) -> _Plan:
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{fname}(): argument 'indices' (position {1 if method else 2}) must be "
                        f"tuple of Tensors, not {type(indices).__name__}")
    for i, x in enumerate(indices):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument {0 if method else 1}, "
                            f"but got {type(x).__name__}")
    a = self._data
    nd = a.ndim
    xp = array_module(a)
    adv = []
    d = 0
    select_none = False
    for x in indices:
        dt = x._data.dtype
        if dt not in _INDEX_DTYPES and dt != _BOOL and dt != _U8:
            raise IndexError(_BAD_TENSOR_INDEX)
        if dt == _BOOL or dt == _U8:
            if dt == _U8:
                warnings.warn(_U8_WARN, UserWarning, stacklevel=4)
            m = x._data.astype(bool) if dt == _U8 else x._data
            if m.ndim == 0:
                # a 0-d mask indexes no dim: it keeps everything (True) or nothing (False)
                select_none = select_none or not bool(m)
                continue
            adv.append((d, m if array_module(m) is xp else _to_xp(m, xp), True))
            d += m.ndim
        else:
            adv.append((d, _as_index(xp, x._data), False))
            d += 1
    if d > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd} (got {d})")
    if not indices:
        raise RuntimeError(f"{fname}(): at least one index tensor is required")
    p = _new(_Plan)
    p.view_cls = None
    p.basic = None
    p.view_shape = a.shape
    p.unique = False
    p.noop = select_none
    if not adv:
        p.adv = _ALL
        p.adv_shape = a.shape
        return p
    _advanced(p, adv, a.shape, xp)
    return p


def _m_index_put_(self, indices, values, accumulate: bool = False) -> Tensor:
    return _index_put(self, indices, values, accumulate, True, method=True)


def index_put_(input, indices, values, accumulate: bool = False) -> Tensor:
    """``torch.index_put_``: ``input[indices] = values`` in place (``accumulate``: ``+=``,
    with repeated indices adding up)."""
    return _index_put(input, indices, values, accumulate, True, method=False)


def index_put(input, indices, values, accumulate: bool = False) -> Tensor:
    """``torch.index_put``: out-of-place ``index_put_``."""
    return _index_put(input, indices, values, accumulate, False, method=False)


def _m_index_put(self, indices, values, accumulate: bool = False) -> Tensor:
    return _index_put(self, indices, values, accumulate, False, method=True)


def _index_put(self, indices, values, accumulate, in_place, method) -> Tensor:
    fname = "index_put_" if in_place else "index_put"
    _need_tensor(values, fname, "values", 2 if method else 3)
    p = _index_put_plan(self, indices, fname, method)
    values = _same_device_value(values, self)
    if in_place:
        _util.check_inplace(self)
    v = _index_put_value(self, p, None, values)
    if p.noop:
        return self if in_place else _noop(self, False, _UnchangedIndexPut, v)
    idx = _accumulable(p) if accumulate else p.adv
    if in_place:
        return _run_inplace(IndexPut, self, (idx, v, bool(accumulate)), "index_put_")
    return IndexPut.apply(self, idx, v, bool(accumulate))


# ---------------------------------------------------------------------------------------------
# gather / scatter family
# ---------------------------------------------------------------------------------------------

class Gather(Op, name="GatherBackward0"):
    @staticmethod
    def forward(ctx, a, dim, index):
        xp = array_module(a)
        a1 = a.reshape(_shape1(a.shape))
        i1 = _as_index(xp, index).reshape(_shape1(index.shape))
        ctx.in_shape = a1.shape
        ctx.idx1_shape = i1.shape
        ctx.pos = pos = _grid(xp, i1, dim, a1.shape)
        return read_at(xp, a1, pos).reshape(index.shape)

    @staticmethod
    def backward(ctx, g):
        if g._data.shape != ctx.idx1_shape:
            g = _reshape(g, ctx.idx1_shape)
        return IndexGrad.apply(g, ctx.in_shape, ctx.pos, True), None, None


def _check_index_dtype(index: Tensor, msg: str) -> None:
    if index._data.dtype not in _INDEX_DTYPES:
        raise RuntimeError(msg)


def gather(input, dim, index, *, sparse_grad: bool = False, out=None) -> Tensor:
    """``torch.gather``: ``out[i][j] = input[index[i][j]][j]`` (for ``dim=0``). The gradient
    is always dense (``sparse_grad`` is accepted and ignored: ember has no sparse tensors)."""
    _need_tensor(input, "gather", "input", 1)
    _need_tensor(index, "gather", "index", 3)
    a = input._data
    d = wrap_dim(dim, a.ndim)
    _check_index_dtype(index, "gather(): Expected dtype int32/int64 for index")
    _util.check_same_device(input, index)
    ia = index._data
    if ia.size:
        ash, ish = _shape1(a.shape), _shape1(ia.shape)
        if len(ash) != len(ish):
            raise RuntimeError("Index tensor must have the same number of dimensions as input "
                               "tensor")
        for k in range(len(ish)):
            if k != d and ish[k] > ash[k]:
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{list(ia.shape)} to be no larger than self "
                                   f"{list(a.shape)} apart from dimension {d}")
        bad = _first_out_of_range(array_module(ia), ia, ash[d], False)
        if bad is not None:
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                               f"{ash[d]}")
        r = Gather.apply(input, d, ia)
    else:
        r = _EmptyGather.apply(input, ia.shape)
    return r if out is None else write_out(out, r, "gather")


class _EmptyGather(Op, name="GatherBackward0"):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return array_module(a).empty(shape, dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        return _util.zeros_like_array(g._data, ctx.in_shape, g._data.dtype), None


def _scatter_check(self: Tensor, d: int, index: Tensor, src) -> None:
    """PyTorch's checks shared by scatter, scatter_add and scatter_reduce (index non-empty)."""
    ia = index._data
    ssh, ish = _shape1(self._data.shape), _shape1(ia.shape)
    if len(ish) != len(ssh):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None:
        srh = src._data.shape
        sr1 = _shape1(srh)
        if (len(srh) == 0 and len(ish) != 1) or len(sr1) > len(ish):
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
        if len(sr1) < len(ish):
            n = len(sr1)
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {n})")
        for k in range(len(ish)):
            if ish[k] > sr1[k] or (k != d and ish[k] > ssh[k]):
                raise RuntimeError(f"Expected index {list(ia.shape)} to be no larger than self "
                                   f"{list(self._data.shape)} apart from dimension {d} and to "
                                   f"be no larger size than src {list(srh)}")
    else:
        for k in range(len(ish)):
            if k != d and ish[k] > ssh[k]:
                raise RuntimeError(f"Expected index {list(ia.shape)} to be no larger than self "
                                   f"{list(self._data.shape)} apart from dimension {d}")
    bad = _first_out_of_range(array_module(ia), ia, ssh[d], False)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {ssh[d]}")


def _scatter_prepare(fname, input, dim, index, src):
    """Validate a scatter-style call; returns (dim, index array or None when empty)."""
    _need_tensor(input, fname, "input", 1)
    _need_tensor(index, fname, "index", 3)
    d = wrap_dim(dim, input._data.ndim)
    _check_index_dtype(index, "scatter(): Expected dtype int32/int64 for index")
    if src is not None:
        _util.check_same_device(input, index, src)
        if src.dtype is not input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    else:
        _util.check_same_device(input, index)
    if index._data.size == 0:
        return d, None
    _scatter_check(input, d, index, src)
    return d, index._data


def _scatter_pos(xp, a, index, dim):
    """(self viewed as >= 1-d, positions) for a scatter along ``dim``."""
    a1 = a.reshape(_shape1(a.shape))
    i1 = _as_index(xp, index).reshape(_shape1(index.shape))
    return a1, _grid(xp, i1, dim, a1.shape)


class _ScatterBase(Op):
    _write_a = False

    @staticmethod
    def _out(ctx, a):
        """The array to write into: ``a`` itself for an in-place run without graph."""
        if ctx._write_a:
            return a.reshape(_shape1(a.shape))
        return a.copy().reshape(_shape1(a.shape))


class Scatter(_ScatterBase, name="ScatterBackward0"):
    @staticmethod
    def forward(ctx, a, dim, index, src):
        xp = array_module(a)
        r = _ScatterBase._out(ctx, a)
        _, pos = _scatter_pos(xp, a, index, dim)
        s1 = src.reshape(_shape1(src.shape))
        block = _block(pos[dim].shape, s1.shape)
        assign_at(xp, r, pos, s1 if block is None else s1[block])
        ctx.pos, ctx.block, ctx.src1_shape = pos, block, s1.shape
        ctx.out1_shape = r.shape
        return r.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        g1 = _as1(g, ctx.out1_shape)
        ga = gs = None
        if e[0]:
            ga = IndexPut.apply(g1, ctx.pos, 0, False)
        if e[3]:
            gs = _embed(_take_at(g1, ctx.pos), ctx.src1_shape, ctx.block)
        return ga, None, None, gs


def _as1(g: Tensor, shape1) -> Tensor:
    return g if g._data.shape == tuple(shape1) else _reshape(g, shape1)


class ScatterValue(_ScatterBase, name="ScatterBackward1"):
    @staticmethod
    def forward(ctx, a, dim, index, value):
        xp = array_module(a)
        r = _ScatterBase._out(ctx, a)
        _, pos = _scatter_pos(xp, a, index, dim)
        assign_at(xp, r, pos, value)
        ctx.pos = pos
        ctx.out1_shape = r.shape
        return r.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        return IndexPut.apply(_as1(g, ctx.out1_shape), ctx.pos, 0, False), None, None, None


class ScatterAdd(_ScatterBase, name="ScatterAddBackward0"):
    @staticmethod
    def forward(ctx, a, dim, index, src):
        xp = array_module(a)
        r = _ScatterBase._out(ctx, a)
        _, pos = _scatter_pos(xp, a, index, dim)
        s1 = src.reshape(_shape1(src.shape))
        block = _block(pos[dim].shape, s1.shape)
        index_add_at(xp, r, pos, s1 if block is None else s1[block])
        ctx.pos, ctx.block, ctx.src1_shape = pos, block, s1.shape
        ctx.out1_shape = r.shape
        return r.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        gs = None
        if e[3]:
            g1 = _as1(g, ctx.out1_shape)
            gs = _embed(_take_at(g1, ctx.pos), ctx.src1_shape, ctx.block)
        return (g if e[0] else None), None, None, gs


class ScatterLegacyReduce(_ScatterBase, name="torch::autograd::NotImplemented"):
    """``scatter(..., reduce='add'|'multiply')``: PyTorch has no derivative for it."""

    @staticmethod
    def forward(ctx, a, dim, index, src, op):
        xp = array_module(a)
        r = _ScatterBase._out(ctx, a)
        _, pos = _scatter_pos(xp, a, index, dim)
        if hasattr(src, "shape"):  # a source array (else a number)
            s1 = src.reshape(_shape1(src.shape))
            block = _block(pos[dim].shape, s1.shape)
            v = s1 if block is None else s1[block]
        else:
            v = src
        reduce_at(xp, op, r, pos, v)
        return r.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::scatter is not implemented")


_REDUCE_NAMES = ("sum", "prod", "mean", "amax", "amin")


def _identity(reduce: str, npd):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if npd == _BOOL:
        return reduce == "amin"
    if npd.kind in "iu":
        info = np.iinfo(npd)
        return info.min if reduce == "amax" else info.max
    return -np.inf if reduce == "amax" else np.inf


class ScatterReduce(_ScatterBase, name="ScatterReduceBackward0"):
    """``scatter_reduce``/``index_reduce`` on positions ``pos`` (built by the caller)."""

    @staticmethod
    def forward(ctx, a, pos, src, block, reduce, include_self):
        xp = array_module(a)
        shape = a.shape
        r = _ScatterBase._out(ctx, a)
        s1 = src.reshape(_shape1(src.shape))
        v = s1 if block is None else s1[block]
        hit = None
        if not include_self or reduce == "mean":
            hit = _hit_mask(xp, r.shape, pos)
        if not include_self:
            r[hit] = _identity(reduce, r.dtype)
        op = {"sum": "add", "mean": "add", "prod": "mul", "amax": "max", "amin": "min",
              "max": "max", "min": "min"}[reduce]
        reduce_at(xp, op, r, pos, v)
        cnt = None
        if reduce == "mean":
            cnt = xp.ones(r.shape, dtype=np.int64) if include_self else \
                xp.zeros(r.shape, dtype=np.int64)
            index_add_at(xp, cnt, pos, xp.ones(v.shape, dtype=np.int64))
            cnt[cnt == 0] = 1
            if r.dtype.kind in "iub":
                r[...] = xp.floor_divide(r, cnt)
            else:
                r[...] = r / cnt.astype(r.dtype)
        ctx.pos, ctx.block, ctx.src1_shape = pos, block, s1.shape
        ctx.reduce, ctx.include_self = reduce, include_self
        ctx.hit, ctx.cnt, ctx.out1_shape = hit, cnt, r.shape
        out = r.reshape(shape)
        if ctx._edges and reduce in ("prod", "amax", "amin"):
            ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        reduce = ctx.reduce
        if reduce not in _REDUCE_NAMES:
            raise RuntimeError("Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', "
                               f"'amin' but got {reduce}.")
        e = ctx._edges
        g1 = _as1(g, ctx.out1_shape)
        xp = array_module(g._data)
        pos, inc = ctx.pos, ctx.include_self
        npd = g._data.dtype
        keep = None if inc else _const((~ctx.hit).astype(npd))
        ga = gs = None
        if reduce == "sum":
            ga = g1 if keep is None else g1 * keep
            gs = _take_at(g1, pos) if e[2] else None
        elif reduce == "mean":
            gd = g1 / _const(ctx.cnt.astype(npd))
            ga = gd if keep is None else gd * keep
            gs = _take_at(gd, pos) if e[2] else None
        elif reduce in ("amax", "amin"):
            a_t, s_t, r_t = ctx.saved_tensors
            a1 = a_t._data.reshape(ctx.out1_shape)
            r1 = r_t._data.reshape(ctx.out1_shape)
            s1 = s_t._data.reshape(ctx.src1_shape)
            sv = s1 if ctx.block is None else s1[ctx.block]
            self_is = a1 == r1
            if not inc:
                self_is &= ~ctx.hit
            src_is = sv == read_at(xp, r1, pos)
            n = self_is.astype(npd)
            index_add_at(xp, n, pos, src_is.astype(npd))
            n[n == 0] = 1  # a NaN result matched nothing: no gradient instead of 0/0
            gd = g1 / _const(n)
            ga = gd * _const(self_is.astype(npd))
            gs = _take_at(gd, pos) * _const(src_is.astype(npd)) if e[2] else None
        else:
            ga, gs = _prod_grads(ctx, g1, keep, e[2])
        if ga is not None and not e[0]:
            ga = None
        if gs is not None:
            gs = _embed(gs, ctx.src1_shape, ctx.block)
        return ga, None, gs, None, None, None


def _prod_grads(ctx, g1: Tensor, keep, need_src: bool):
    """Gradients of a scatter product without dividing by zero: self's share is the product
    of the sources at its position; a source's share is ``result / src`` when it is non-zero,
    the product of the others when it is its position's only zero, and 0 otherwise."""
    a_t, s_t, r_t = ctx.saved_tensors
    pos, block, inc = ctx.pos, ctx.block, ctx.include_self
    xp = array_module(g1._data)
    npd = g1._data.dtype
    shape1 = ctx.out1_shape
    a1 = _as1(a_t, shape1)
    r1 = _as1(r_t, shape1)
    s1 = _as1(s_t, ctx.src1_shape)
    if inc:
        ones = _const(xp.ones(shape1, dtype=npd))
        ga = g1 * ScatterReduce.apply(ones, pos, s1, block, "prod", True)
    else:
        ga = g1 * keep
    if not need_src:
        return ga, None
    s_arr = s1._data
    zero_full = s_arr == 0
    zero = zero_full if block is None else zero_full[block]
    zcount = xp.zeros(shape1, dtype=np.int64)
    index_add_at(xp, zcount, pos, zero.astype(np.int64))
    single = zero & (read_at(xp, zcount, pos) == 1)
    safe = s1 if not zero_full.any() else masked_fill(s1, _const(zero_full), 1)
    safe_b = safe if block is None else Index.apply(safe, block, True)
    gs = _take_at(g1 * r1, pos) / safe_b
    if zero.any():
        gs = gs * _const((~zero).astype(npd))
    if single.any():
        single_full = xp.zeros(s_arr.shape, dtype=bool)
        if block is None:
            single_full = single
        else:
            single_full[block] = single
        others = ScatterReduce.apply(a1, pos, masked_fill(s1, _const(single_full), 1), block,
                                     "prod", inc)
        gs = gs + _take_at(g1 * others, pos) * _const(single.astype(npd))
    return ga, gs


def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None) -> Tensor:
    """``torch.scatter``: ``src`` (a tensor) or ``value`` (a number) written at ``index``
    along ``dim``; ``reduce='add'|'multiply'`` combines instead (deprecated in PyTorch, no
    gradient)."""
    r = _scatter(input, dim, index, src, value, reduce, "scatter", False)
    return r if out is None else write_out(out, r, "scatter")


def _scatter(input, dim, index, src, value, reduce, name, in_place):
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if src is not None and value is not None:
        raise TypeError("scatter() got both 'src' and 'value'")
    if src is None:
        src = value
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(src, Tensor):
        d, ia = _scatter_prepare("scatter", input, dim, index, src)
        if reduce is not None:
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                          "will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=3)
        if ia is None:
            return _noop(input, in_place, _UnchangedScatter, src)
        if reduce is None:
            return _dispatch(Scatter, input, (d, ia, src), name, in_place)
        op = "add" if reduce == "add" else "mul"
        return _dispatch(ScatterLegacyReduce, input, (d, ia, src, op), name, in_place)
    if not isinstance(src, _SCALAR_TYPES):
        raise TypeError(f"scatter(): argument 'value' must be Number, not {type(src).__name__}")
    d, ia = _scatter_prepare("scatter", input, dim, index, None)
    v = checked_scalar(src, input.dtype)
    if ia is None:
        return _noop(input, in_place, _UnchangedScatterValue)
    if reduce is None:
        return _dispatch(ScatterValue, input, (d, ia, v), name, in_place)
    op = "add" if reduce == "add" else "mul"
    return _dispatch(ScatterLegacyReduce, input, (d, ia, v, op), name, in_place)


class _Unchanged(Op):
    """An op that wrote nothing (empty index): ``input`` copied, ``src`` gets a zero gradient.
    Subclasses carry the node name of the op that was called."""

    @staticmethod
    def forward(ctx, a, src=None):
        ctx.src_meta = None if src is None else (src.shape, src.dtype)
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        gs = None
        if ctx.src_meta is not None and ctx._edges[1]:
            gs = _util.zeros_like_array(g._data, *ctx.src_meta)
        return g, gs


class _UnchangedScatter(_Unchanged, name="ScatterBackward0"):
    pass


class _UnchangedScatterValue(_Unchanged, name="ScatterBackward1"):
    pass


class _UnchangedScatterAdd(_Unchanged, name="ScatterAddBackward0"):
    pass


class _UnchangedScatterReduce(_Unchanged, name="ScatterReduceBackward0"):
    pass


class _UnchangedIndexPut(_Unchanged, name="IndexPutBackward0"):
    pass


def _noop(input: Tensor, in_place: bool, cls=_UnchangedScatter, src=None) -> Tensor:
    if in_place:
        return input
    return cls.apply(input) if src is None else cls.apply(input, src)


def _dispatch(cls, input: Tensor, args, name: str, in_place: bool) -> Tensor:
    if in_place:
        return _run_inplace(cls, input, args, name)
    return cls.apply(input, *args)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None) -> Tensor:
    """``Tensor.scatter_``."""
    _util.check_inplace(self)
    return _scatter(self, dim, index, src, value, reduce, "scatter_", True)


def scatter_add(input, dim, index, src, *, out=None) -> Tensor:
    """``torch.scatter_add``: ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    r = _scatter_add(input, dim, index, src, False)
    return r if out is None else write_out(out, r, "scatter_add")


def _scatter_add(input, dim, index, src, in_place):
    _need_tensor(src, "scatter_add", "src", 4)
    d, ia = _scatter_prepare("scatter_add", input, dim, index, src)
    if ia is None:
        return _noop(input, in_place, _UnchangedScatterAdd, src)
    return _dispatch(ScatterAdd, input, (d, ia, src), "scatter_add_", in_place)


def scatter_add_(self, dim, index, src) -> Tensor:
    """``Tensor.scatter_add_``."""
    _util.check_inplace(self)
    return _scatter_add(self, dim, index, src, True)


def scatter_reduce(input, dim, index, src, reduce: str, *, include_self: bool = True,
                   out=None) -> Tensor:
    """``torch.scatter_reduce``: ``sum``, ``prod``, ``mean``, ``amax`` or ``amin`` of ``src``
    (and, with ``include_self``, of ``input``) at each position. Integer ``mean`` rounds down,
    as in PyTorch."""
    r = _scatter_reduce(input, dim, index, src, reduce, include_self, False)
    return r if out is None else write_out(out, r, "scatter_reduce")


def _check_reduce(reduce) -> None:
    # PyTorch's forward also takes the undocumented 'max'/'min'; its backward refuses them
    if reduce not in _REDUCE_NAMES and reduce not in ("max", "min"):
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")


def _scatter_reduce(input, dim, index, src, reduce, include_self, in_place):
    _need_tensor(src, "scatter_reduce", "src", 4)
    _check_reduce(reduce)
    d, ia = _scatter_prepare("scatter_reduce", input, dim, index, src)
    if ia is None:
        return _noop(input, in_place, _UnchangedScatterReduce, src)
    xp = array_module(input._data)
    _, pos = _scatter_pos(xp, input._data, ia, d)
    block = _block(pos[d].shape, _shape1(src._data.shape))
    if reduce == "mean" and input._data.dtype == _BOOL:
        raise NotImplementedError('"scatter_gather_tensor_cpu_reduce_mean" not implemented for '
                                  "'Bool'")
    return _dispatch(ScatterReduce, input, (pos, src, block, reduce, bool(include_self)),
                     "scatter_reduce_", in_place)


def scatter_reduce_(self, dim, index, src, reduce: str, *, include_self: bool = True) -> Tensor:
    """``Tensor.scatter_reduce_``."""
    _util.check_inplace(self)
    return _scatter_reduce(self, dim, index, src, reduce, include_self, True)


# ---------------------------------------------------------------------------------------------
# index_select / index_add / index_copy / index_fill / index_reduce
# ---------------------------------------------------------------------------------------------

class IndexSelect(Op, name="IndexSelectBackward0"):
    @staticmethod
    def forward(ctx, a, dim, index):
        xp = array_module(a)
        a1 = a.reshape(_shape1(a.shape))
        idx = _as_index(xp, index).reshape(-1)
        ctx.in_shape, ctx.pos = a1.shape, _along(dim, idx, a1.shape)
        r = xp.take(a1, idx, axis=dim)
        ctx.r1_shape = r.shape
        return r.reshape(()) if a.ndim == 0 else r

    @staticmethod
    def backward(ctx, g):
        return IndexGrad.apply(_as1(g, ctx.r1_shape), ctx.in_shape, ctx.pos, True), None, None


def _vector_index(index: Tensor):
    return index._data.reshape(-1)


def index_select(input, dim, index, *, out=None) -> Tensor:
    """``torch.index_select``: the entries ``index`` (a vector) of dim ``dim``."""
    _need_tensor(input, "index_select", "input", 1)
    _need_tensor(index, "index_select", "index", 3)
    a = input._data
    nd = a.ndim
    d = wrap_dim(dim, nd)
    _check_index_dtype(index, "index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    _util.check_same_device(input, index)
    ia = _vector_index(index)
    xp = array_module(ia)
    if nd == 0 and ia.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                           f"{ia.size} value(s)")
    size = _shape1(a.shape)[d]
    bad = _first_out_of_range(xp, ia, size, False)
    if bad is not None:
        if d == 1 and nd >= 2:
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
        raise IndexError("index out of range in self")
    r = IndexSelect.apply(input, d, ia)
    return r if out is None else write_out(out, r, "index_select")


def _index_source_checks(fname: str, self: Tensor, d: int, index: Tensor, source: Tensor,
                         check_count_first: bool = True) -> None:
    """Checks shared by index_add and index_reduce."""
    dt = index._data.dtype
    if dt not in _INDEX_DTYPES:
        raise RuntimeError(f"{fname}(): Expected dtype int32/int64 for index but got: "
                           f"{_name(index.dtype)}")
    if index._data.ndim > 1:
        raise IndexError(f"{fname}(): Index is supposed to be a vector, but got dim: "
                         f"{index._data.ndim} with type: {_name(index.dtype)} and size: "
                         f"{list(index._data.shape)}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"{fname}(): self ({_name(self.dtype)}) and source "
                           f"({_name(source.dtype)}) must have the same scalar type")
    _util.check_same_device(self, index, source)
    ssh, srh = self._data.shape, source._data.shape
    n = index._data.size
    if len(srh) == 0 and len(ssh) > 0:
        if n != 1:
            raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    elif n != _shape1(srh)[d]:
        raise RuntimeError(f"{fname}(): Number of indices ({n}) should be equal to "
                           f"source.size(dim): ({_shape1(srh)[d]}), for dim: {d}")
    same = len(ssh) == len(srh) and all(a == b for k, (a, b) in enumerate(zip(ssh, srh))
                                        if k != d)
    if not same:
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(ssh)} source.shape = "
                           f"{list(srh)}")


class IndexAdd(_ScatterBase, name="IndexAddBackward0"):
    @staticmethod
    def forward(ctx, a, dim, index, src, alpha):
        xp = array_module(a)
        r = _ScatterBase._out(ctx, a)
        idx = _as_index(xp, index).reshape(-1)
        s1 = src.reshape(_shape1(src.shape))
        if alpha != 1:
            s1 = s1 * xp.asarray(alpha, dtype=s1.dtype)
        pos = _along(dim, idx, r.shape)
        index_add_at(xp, r, pos, s1)
        ctx.pos, ctx.alpha, ctx.out1_shape = pos, alpha, r.shape
        return r.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        gs = None
        if e[3]:
            gs = _take_at(_as1(g, ctx.out1_shape), ctx.pos)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return (g if e[0] else None), None, None, gs, None


def index_add(input, dim, index, source, *, alpha=1, out=None) -> Tensor:
    """``torch.index_add``: ``input`` with ``alpha * source`` added at ``index`` along
    ``dim`` (repeated indices add up)."""
    r = _index_add(input, dim, index, source, alpha, False)
    return r if out is None else write_out(out, r, "index_add")


def _index_add(input, dim, index, source, alpha, in_place):
    _need_tensor(input, "index_add", "input", 1)
    _need_tensor(index, "index_add", "index", 3)
    _need_tensor(source, "index_add", "source", 4)
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    _index_source_checks("index_add_", input, d, index, source)
    ia = _vector_index(index)
    size = _shape1(input._data.shape)[d]
    bad = _first_out_of_range(array_module(ia), ia, size, False)
    if bad is not None:
        if nd >= 2 and (d == 0 or d == nd - 1):
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
        raise IndexError("index out of range in self")
    if alpha != 1 and input._data.dtype.kind in "iub":
        alpha = int(alpha)
    return _dispatch(IndexAdd, input, (d, ia, source, alpha), "index_add_", in_place)


def index_add_(self, dim, index, source, *, alpha=1) -> Tensor:
    """``Tensor.index_add_``."""
    _util.check_inplace(self)
    return _index_add(self, dim, index, source, alpha, True)


class IndexCopy(_ScatterBase, name="IndexCopyBackward0"):
    @staticmethod
    def forward(ctx, a, dim, index, src):
        xp = array_module(a)
        r = _ScatterBase._out(ctx, a)
        idx = _as_index(xp, index).reshape(-1)
        pos = _along(dim, idx, r.shape)
        s1 = src.reshape(r.shape[:dim] + idx.shape + r.shape[dim + 1:]) if src.ndim != r.ndim \
            else src
        r[pos] = s1
        ctx.pos, ctx.out1_shape = pos, r.shape
        return r.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        g1 = _as1(g, ctx.out1_shape)
        ga = IndexPut.apply(g1, ctx.pos, 0, False) if e[0] else None
        gs = _take_at(g1, ctx.pos) if e[3] else None
        return ga, None, None, gs


def index_copy(input, dim, index, source, *, out=None) -> Tensor:
    """``torch.index_copy``: ``input`` with the slices ``index`` of dim ``dim`` replaced by
    those of ``source``."""
    r = _index_copy(input, dim, index, source, False)
    return r if out is None else write_out(out, r, "index_copy")


def _index_copy(input, dim, index, source, in_place):
    _need_tensor(input, "index_copy", "input", 1)
    _need_tensor(index, "index_copy", "index", 3)
    _need_tensor(source, "index_copy", "source", 4)
    ssh, srh = input._data.shape, source._data.shape
    d = wrap_dim(dim, len(ssh))
    if index._data.dtype != _I64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                           f"{_name(index.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {_name(input.dtype)} and (source) {_name(source.dtype)}")
    if index._data.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got "
                         f"{index._data.ndim})")
    _util.check_same_device(input, index, source)
    n = index._data.size
    if len(srh) and n != srh[d if d < len(srh) else 0]:
        raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to "
                         f"source.size(dim) ({srh[d if d < len(srh) else 0]})")
    if len(srh) == 0 and n != 1:
        raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to "
                         "source.size(dim) (1)")
    if len(ssh) and len(srh) and len(ssh) != len(srh):
        raise IndexError("index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({len(srh)}), "
                         f"destination dimensionality ({len(ssh)})")
    if len(ssh) and len(srh):
        a_rest = [s for k, s in enumerate(ssh) if k != d]
        s_rest = [s for k, s in enumerate(srh) if k != d]
        if a_rest != s_rest:
            raise RuntimeError("index_copy_(): Source/destination tensor must have same slice "
                               f"shapes. Destination slice shape: {' '.join(map(str, a_rest))} "
                               f"at dimension {d} and source slice shape: "
                               f"{' '.join(map(str, s_rest))} at dimension 0.")
    ia = _vector_index(index)
    size = _shape1(ssh)[d]
    bad = _first_out_of_range(array_module(ia), ia, size, False)
    if bad is not None:
        raise IndexError(f"index_copy_(): index {bad} is out of bounds for dimension {d} with "
                         f"size {size}")
    return _dispatch(IndexCopy, input, (d, ia, source), "index_copy_", in_place)


def index_copy_(self, dim, index, source) -> Tensor:
    """``Tensor.index_copy_``."""
    _util.check_inplace(self)
    return _index_copy(self, dim, index, source, True)


class IndexFill(_ScatterBase, name="IndexFillBackward0"):
    @staticmethod
    def forward(ctx, a, dim, index, value):
        xp = array_module(a)
        r = _ScatterBase._out(ctx, a)
        pos = _along(dim, _as_index(xp, index).reshape(-1), r.shape, nonneg=False)
        r[pos] = value
        ctx.pos, ctx.out1_shape = pos, r.shape
        if ctx._edges and ctx._edges[3]:
            ctx.hit = _hit_mask(xp, r.shape, pos)
        return r.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        g1 = _as1(g, ctx.out1_shape)
        ga = IndexPut.apply(g1, ctx.pos, 0, False) if e[0] else None
        gv = None
        if e[3]:
            from .reduction import sum as _sum

            gv = _sum(g1 * _const(ctx.hit.astype(g._data.dtype)))
        return ga, None, None, gv


class IndexFillTensor(IndexFill, name="IndexFillBackward1"):
    pass


def index_fill(input, dim, index, value) -> Tensor:
    """``torch.index_fill``: the slices ``index`` of dim ``dim`` set to ``value`` (a number
    or a 0-d tensor, which then gets a gradient)."""
    return _index_fill(input, dim, index, value, False)


def _index_fill(input, dim, index, value, in_place):
    _need_tensor(input, "index_fill", "input", 1)
    _need_tensor(index, "index_fill", "index", 3)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
    elif not isinstance(value, _SCALAR_TYPES):
        raise TypeError(f"index_fill(): argument 'value' must be Number, not "
                        f"{type(value).__name__}")
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    if index._data.dtype != _I64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index._data.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    _util.check_same_device(input, index)
    ia = _vector_index(index)
    size = _shape1(input._data.shape)[d]
    bad = _first_out_of_range(array_module(ia), ia, size, True)
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    if isinstance(value, Tensor):
        v = _util.cast(_same_device_value(value, input), input.dtype)
        return _dispatch(IndexFillTensor, input, (d, ia, v), "index_fill_", in_place)
    if isinstance(value, (complex, np.complexfloating)) and not input.is_complex():
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not "
                           "supported")
    v = checked_scalar(value, input.dtype)
    return _dispatch(IndexFill, input, (d, ia, v), "index_fill_", in_place)


def index_fill_(self, dim, index, value) -> Tensor:
    """``Tensor.index_fill_``."""
    _util.check_inplace(self)
    return _index_fill(self, dim, index, value, True)


class IndexReduce(ScatterReduce, name="IndexReduceBackward0"):
    pass


_INDEX_REDUCE_BETA = "index_reduce() is in beta and the API may change at any time."


def index_reduce(input, dim, index, source, reduce: str, *, include_self: bool = True,
                 out=None) -> Tensor:
    """``torch.index_reduce``: ``prod``, ``mean``, ``amax`` or ``amin`` of the slices of
    ``source`` at ``index`` along ``dim`` (with ``input``'s when ``include_self``)."""
    r = _index_reduce(input, dim, index, source, reduce, include_self, False)
    return r if out is None else write_out(out, r, "index_reduce")


def _index_reduce(input, dim, index, source, reduce, include_self, in_place):
    _need_tensor(input, "index_reduce", "input", 1)
    _need_tensor(index, "index_reduce", "index", 3)
    _need_tensor(source, "index_reduce", "source", 4)
    warnings.warn(_INDEX_REDUCE_BETA, UserWarning, stacklevel=3)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    _index_source_checks("index_reduce_", input, d, index, source)
    ia = _vector_index(index)
    xp = array_module(ia)
    if _first_out_of_range(xp, ia, _shape1(input._data.shape)[d], False) is not None:
        raise IndexError("index out of range in self")
    if reduce == "mean" and input._data.dtype == _BOOL:
        raise NotImplementedError('"index_reduce_func_cpu_" not implemented for \'Bool\'')
    src = source
    if source._data.ndim == 0 and nd:
        src = _reshape(source, (1,) * nd)
    pos = _along(d, _as_index(xp, ia), _shape1(input._data.shape))
    return _dispatch(IndexReduce, input, (pos, src, None, reduce, bool(include_self)),
                     "index_reduce_", in_place)


def index_reduce_(self, dim, index, source, reduce: str, *, include_self: bool = True) -> Tensor:
    """``Tensor.index_reduce_``."""
    _util.check_inplace(self)
    return _index_reduce(self, dim, index, source, reduce, include_self, True)


# ---------------------------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------------------------

class MaskedFill(Op, name="MaskedFillBackward0"):
    @staticmethod
    def forward(ctx, a, mask, value):
        xp = array_module(a)
        ctx.mask = mask
        v = value if hasattr(value, "dtype") else xp.asarray(value, dtype=a.dtype)
        return xp.where(mask, v.astype(a.dtype, copy=False), a)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        ga = gv = None
        if e[0]:
            ga = MaskedFill.apply(g, ctx.mask, 0)
        if len(e) > 2 and e[2]:
            from .reduction import sum as _sum

            m = array_module(g._data).broadcast_to(ctx.mask, g._data.shape)
            gv = _sum(g * _const(m.astype(g._data.dtype)))
        return ga, None, gv


class MaskedFillTensor(MaskedFill, name="MaskedFillBackward1"):
    pass


def _bool_mask(mask, fname: str, msg) -> None:
    _need_tensor(mask, fname, "mask", 2)
    if mask._data.dtype != _BOOL:
        raise RuntimeError(msg(mask.dtype))


def masked_fill(input, mask, value) -> Tensor:
    """``torch.masked_fill``: ``value`` (a number or 0-d tensor) where ``mask`` is True;
    ``input`` and ``mask`` broadcast together."""
    m, v = _masked_fill_args(input, mask, value)
    if isinstance(v, Tensor):
        return MaskedFillTensor.apply(input, m, v)
    return MaskedFill.apply(input, m, v)


def _masked_fill_args(input, mask, value):
    """Checks; returns the mask array and the value (cast tensor or converted number)."""
    _need_tensor(input, "masked_fill", "input", 1)
    _bool_mask(mask, "masked_fill", lambda d: "masked_fill_ only supports boolean masks, but "
               f"got mask with dtype {_c_name(d)}")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
    elif not isinstance(value, _SCALAR_TYPES):
        raise TypeError(f"masked_fill(): argument 'value' must be Number, not "
                        f"{type(value).__name__}")
    # PyTorch names the mask "tensor a" in its broadcast error
    _util.broadcast_shapes_or_raise(mask._data.shape, input._data.shape)
    m = _mask_array(mask, input)
    if isinstance(value, Tensor):
        return m, _util.cast(_same_device_value(value, input), input.dtype)
    return m, checked_scalar(value, input.dtype)


def _mask_array(mask: Tensor, like: Tensor):
    m = mask._data
    if type(m) is not type(like._data):
        if m.ndim:
            _util.check_same_device(like, mask)
        m = _backend.to_device(m, like.device)
    return m


def masked_fill_(self, mask, value) -> Tensor:
    """``Tensor.masked_fill_``: ``mask`` must broadcast to ``self``'s shape."""
    _util.check_inplace(self)
    _need_tensor(mask, "masked_fill_", "mask", 1)
    if mask._data.dtype == _BOOL:
        shp = _util.broadcast_shapes_or_raise(self._data.shape, mask._data.shape)
        if shp != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(shp)}")
    grad = _state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))
    if not grad:
        m, v = _masked_fill_args(self, mask, value)
        a = self._data
        xp = array_module(a)
        v = v._data if isinstance(v, Tensor) else xp.asarray(v, dtype=a.dtype)
        xp.copyto(a, v, where=xp.broadcast_to(m, a.shape))
        self._bump_version()
        return self
    return _util.inplace(self, masked_fill(self, mask, value), "masked_fill_")


class MaskedSelect(Op, name="MaskedSelectBackward0"):
    @staticmethod
    def forward(ctx, a, mask, shape):
        xp = array_module(a)
        m = xp.broadcast_to(mask, shape)
        ctx.shape, ctx.mask = shape, m
        return xp.broadcast_to(a, shape)[m]

    @staticmethod
    def backward(ctx, g):
        return IndexGrad.apply(g, ctx.shape, (ctx.mask,), False), None, None


def masked_select(input, mask, *, out=None) -> Tensor:
    """``torch.masked_select``: the elements where ``mask`` is True, as a 1-d tensor
    (``input`` and ``mask`` broadcast together)."""
    _need_tensor(input, "masked_select", "input", 1)
    _bool_mask(mask, "masked_select", lambda d: "masked_select: expected BoolTensor for mask")
    shape = _util.broadcast_shapes_or_raise(mask._data.shape, input._data.shape)
    r = MaskedSelect.apply(input, _mask_array(mask, input), tuple(shape))
    return r if out is None else write_out(out, r, "masked_select")


class MaskedScatter(Op, name="MaskedScatterBackward0"):
    _write_a = False

    @staticmethod
    def forward(ctx, a, mask, src, shape):
        xp = array_module(a)
        m = xp.broadcast_to(mask, shape)
        r = a if ctx._write_a else xp.array(xp.broadcast_to(a, shape), copy=True)
        n = int(xp.count_nonzero(m))
        r[m] = src.reshape(-1)[:n]
        ctx.mask, ctx.n, ctx.src_shape = m, n, src.shape
        return r

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        ga = gs = None
        if e[0]:
            ga = MaskedFill.apply(g, ctx.mask, 0)
        if e[2]:
            picked = Index.apply(g, (ctx.mask,), False, True)
            size = int(np.prod(ctx.src_shape))
            block = None if ctx.n == size else (slice(0, ctx.n),)
            gs = _reshape(_embed(picked, (size,), block), ctx.src_shape)
        return ga, None, gs, None


def _masked_scatter_checks(fname, input, mask, source):
    _need_tensor(input, fname, "input", 1)
    _bool_mask(mask, fname, lambda d: "masked_scatter_ only supports boolean masks, but got "
               f"mask with dtype {_name(d)}")
    _need_tensor(source, fname, "source", 3)
    if source.dtype is not input.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but "
                           f"got{_name(input.dtype)} and {_name(source.dtype)}")
    _util.check_same_device(input, source)


def _masked_scatter_count(m, shape, source: Tensor) -> None:
    xp = array_module(m)
    n = int(xp.count_nonzero(xp.broadcast_to(m, shape)))
    if source._data.size < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")


def masked_scatter(input, mask, source) -> Tensor:
    """``torch.masked_scatter``: the elements of ``source``, in order, written where ``mask``
    is True (``input`` and ``mask`` broadcast together)."""
    _masked_scatter_checks("masked_scatter", input, mask, source)
    shape = _util.broadcast_shapes_or_raise(input._data.shape, mask._data.shape)
    m = _mask_array(mask, input)
    _masked_scatter_count(m, shape, source)
    return MaskedScatter.apply(input, m, source, tuple(shape))


def masked_scatter_(self, mask, source) -> Tensor:
    """``Tensor.masked_scatter_``: ``mask`` must expand to ``self``'s shape."""
    _util.check_inplace(self)
    _masked_scatter_checks("masked_scatter_", self, mask, source)
    shape = self._data.shape
    if mask._data.shape != shape:
        _expand_check(mask._data.shape, shape, "CPUBoolType" if mask.is_cpu else "CUDABoolType")
    m = _mask_array(mask, self)
    _masked_scatter_count(m, shape, source)
    return _run_inplace(MaskedScatter, self, (m, source, tuple(shape)), "masked_scatter_")


# ---------------------------------------------------------------------------------------------
# take / put / take_along_dim
# ---------------------------------------------------------------------------------------------

class Take(Op, name="TakeBackward0"):
    @staticmethod
    def forward(ctx, a, index):
        xp = array_module(a)
        idx = _as_index(xp, index)
        ctx.in_shape, ctx.idx = a.shape, idx
        return xp.take(a.reshape(-1), idx)

    @staticmethod
    def backward(ctx, g):
        n = int(np.prod(ctx.in_shape))
        flat = IndexGrad.apply(g, (n,), (ctx.idx,), True)
        return _reshape(flat, ctx.in_shape), None


def _flat_bounds(xp, ia, n: int) -> None:
    bad = _first_out_of_range(xp, ia, n, True)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")


def take(input, index, *, out=None) -> Tensor:
    """``torch.take``: ``input`` read as 1-d at ``index`` (result has ``index``'s shape)."""
    _need_tensor(input, "take", "input", 1)
    _need_tensor(index, "take", "index", 2)
    if index._data.dtype != _I64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_name(index.dtype)}")
    _util.check_same_device(input, index)
    ia = index._data
    n = input._data.size
    if n == 0 and ia.size:
        raise IndexError("take(): tried to take from an empty tensor")
    _flat_bounds(array_module(ia), ia, n)
    r = Take.apply(input, ia)
    return r if out is None else write_out(out, r, "take")


class Put(Op, name="PutBackward0"):
    _write_a = False

    @staticmethod
    def forward(ctx, a, index, src, accumulate):
        xp = array_module(a)
        idx = _as_index(xp, index).reshape(-1)
        if ctx._write_a and not a.flags.c_contiguous:
            flat = xp.ascontiguousarray(a)
            Put._write(xp, flat.reshape(-1), idx, src, accumulate)
            a[...] = flat
            return a
        r = a if ctx._write_a else a.copy()
        Put._write(xp, r.reshape(-1), idx, src, accumulate)
        ctx.idx, ctx.accumulate = idx, accumulate
        ctx.src_shape = src.shape if hasattr(src, "shape") else None
        return r

    @staticmethod
    def _write(xp, flat, idx, src, accumulate):
        v = src.reshape(-1) if hasattr(src, "reshape") else src
        if accumulate:
            index_add_at(xp, flat, idx, v)
        else:
            flat[idx] = v

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        ga = gs = None
        if e[0]:
            ga = g if ctx.accumulate else Put.apply(g, ctx.idx, 0, False)
        if e[2]:
            gs = _reshape(Take.apply(g, ctx.idx), ctx.src_shape)
        return ga, None, gs, None


def put(input, index, source, accumulate: bool = False) -> Tensor:
    """``torch.put``: ``source`` written into ``input`` read as 1-d at ``index``
    (``accumulate``: added, repeats adding up)."""
    return _put(input, index, source, accumulate, False)


def _put(input, index, source, accumulate, in_place):
    _need_tensor(input, "put", "input", 1)
    _need_tensor(index, "put", "index", 2)
    _need_tensor(source, "put", "source", 3)
    if index._data.dtype != _I64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{_name(index.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_name(input.dtype)} and source.dtype = "
                           f"{_name(source.dtype)}")
    _util.check_same_device(input, index, source)
    ia = index._data
    if source._data.size != ia.size:
        raise IndexError("put_(): Expected source and index to have the same number of elements, "
                         f"but got source.numel() = {source._data.size}, index.numel() = "
                         f"{ia.size}")
    n = input._data.size
    if n == 0 and ia.size:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    _flat_bounds(array_module(ia), ia, n)
    return _dispatch(Put, input, (ia, source, bool(accumulate)), "put_", in_place)


def put_(self, index, source, accumulate: bool = False) -> Tensor:
    """``Tensor.put_``."""
    _util.check_inplace(self)
    return _put(self, index, source, accumulate, True)


def take_along_dim(input, indices, dim=None, *, out=None) -> Tensor:
    """``torch.take_along_dim``: ``gather`` after broadcasting ``input`` and ``indices`` in
    every dim but ``dim`` (``dim=None``: both flattened). Unlike PyTorch, out-of-range indices
    raise instead of reading arbitrary memory."""
    from .shape import expand

    _need_tensor(input, "take_along_dim", "input", 1)
    _need_tensor(indices, "take_along_dim", "indices", 2)
    if indices._data.dtype != _I64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_name(indices.dtype)}")
    if dim is None:
        r = gather(_reshape(input, (-1,)), 0, _reshape(indices, (-1,)))
    else:
        ni, nx = input._data.ndim, indices._data.ndim
        if ni != nx:
            raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                               f"number of dimensions, but got {ni} dimensions for input, and "
                               f"{nx} dimensions for indices")
        d = wrap_dim(dim, ni)
        if ni == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        si, sx = list(input._data.shape), list(indices._data.shape)
        ci, cx = si[d], sx[d]
        si[d] = sx[d] = 1
        b = list(_util.broadcast_shapes_or_raise(tuple(si), tuple(sx)))
        bi, bx = b.copy(), b.copy()
        bi[d], bx[d] = ci, cx
        inp = input if tuple(bi) == input._data.shape else expand(input, bi)
        idx = indices if tuple(bx) == indices._data.shape else expand(indices, bx)
        r = gather(inp, d, idx)
    return r if out is None else write_out(out, r, "take_along_dim")


# ---------------------------------------------------------------------------------------------
# nonzero / argwhere
# ---------------------------------------------------------------------------------------------

def nonzero(input, *, out=None, as_tuple: bool = False):
    """``torch.nonzero``: an ``[n, ndim]`` int64 tensor of the indices of non-zero elements,
    or (``as_tuple``) one 1-d tensor per dim (a 0-d input counts as 1-d)."""
    _need_tensor(input, "nonzero", "input", 1)
    a = input._data
    xp = array_module(a)
    if as_tuple:
        if out is not None:
            raise RuntimeError("nonzero does not support the out kwarg when as_tuple is True")
        a1 = a.reshape(1) if a.ndim == 0 else a
        return tuple(Tensor._make(x.astype(np.int64, copy=False)) for x in xp.nonzero(a1))
    if a.ndim == 0:
        r = xp.zeros((1 if bool(a) else 0, 0), dtype=np.int64)
    else:
        r = xp.argwhere(a).astype(np.int64, copy=False)
    res = Tensor._make(r)
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"nonzero(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._data.dtype != _I64:
        raise RuntimeError("nonzero: Expected out tensor to have scalar type Long but got scalar "
                           f"type{_name(out.dtype)}")
    return write_out(out, res, "nonzero")


def argwhere(input) -> Tensor:
    """``torch.argwhere``: ``nonzero(input)``."""
    return nonzero(input)


# ---------------------------------------------------------------------------------------------
# Tensor methods
# ---------------------------------------------------------------------------------------------

def _m_scatter(self, dim, index, src=None, value=None, *, reduce=None) -> Tensor:
    return _scatter(self, dim, index, src, value, reduce, "scatter", False)


def _m_scatter_add(self, dim, index, src) -> Tensor:
    return _scatter_add(self, dim, index, src, False)


def _m_scatter_reduce(self, dim, index, src, reduce, *, include_self=True) -> Tensor:
    return _scatter_reduce(self, dim, index, src, reduce, include_self, False)


def _m_index_add(self, dim, index, source, *, alpha=1) -> Tensor:
    return _index_add(self, dim, index, source, alpha, False)


def _m_index_reduce(self, dim, index, source, reduce, *, include_self=True) -> Tensor:
    return _index_reduce(self, dim, index, source, reduce, include_self, False)


def _m_gather(self, dim, index, *, sparse_grad=False) -> Tensor:
    return gather(self, dim, index, sparse_grad=sparse_grad)


def _m_index_select(self, dim, index) -> Tensor:
    return index_select(self, dim, index)


def _m_nonzero(self, *, as_tuple=False):
    return nonzero(self, as_tuple=as_tuple)


def _m_take_along_dim(self, indices, dim=None) -> Tensor:
    return take_along_dim(self, indices, dim)


def _m_masked_select(self, mask) -> Tensor:
    return masked_select(self, mask)


def _m_take(self, index) -> Tensor:
    return take(self, index)


def _m_index_copy(self, dim, index, source) -> Tensor:
    return _index_copy(self, dim, index, source, False)


METHODS = {
    "__getitem__": getitem, "__setitem__": setitem,
    "gather": _m_gather, "scatter": _m_scatter, "scatter_": scatter_,
    "scatter_add": _m_scatter_add, "scatter_add_": scatter_add_,
    "scatter_reduce": _m_scatter_reduce, "scatter_reduce_": scatter_reduce_,
    "index_select": _m_index_select, "index_add": _m_index_add, "index_add_": index_add_,
    "index_copy": _m_index_copy, "index_copy_": index_copy_,
    "index_fill": index_fill, "index_fill_": index_fill_,
    "index_put": _m_index_put, "index_put_": _m_index_put_,
    "index_reduce": _m_index_reduce, "index_reduce_": index_reduce_,
    "masked_fill": masked_fill, "masked_fill_": masked_fill_,
    "masked_select": _m_masked_select, "masked_scatter": masked_scatter,
    "masked_scatter_": masked_scatter_, "take": _m_take, "take_along_dim": _m_take_along_dim,
    "put": put, "put_": put_, "nonzero": _m_nonzero, "argwhere": argwhere,
}
