"""Indexing: ``t[...]``, ``t[...] = v``, ``gather``, ``scatter``, ``index_select``, masks, ...

Basic indexing (ints, slices, None, ``...``) returns a view; advanced indexing (integer or
boolean tensors, lists, arrays) returns a copy, exactly as in PyTorch (and NumPy).
"""

from __future__ import annotations

import numpy as np

from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _util

__all__: list = []

_ndarray = np.ndarray


def index_add_at(xp, target, idx, values) -> None:
    """``target[idx] += values`` with repeated indices accumulating (scatter-add)."""
    if xp is np:
        np.add.at(target, idx, values)
    else:
        import cupyx

        cupyx.scatter_add(target, idx, values)


def _bad_index(obj):
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     "Variables are valid indices (got " + type(obj).__name__ + ")")


def convert_index(index, t: Tensor):
    """Translate a PyTorch index into a NumPy/CuPy one; returns (index, is_basic)."""
    items = index if isinstance(index, tuple) else (index,)
    xp = array_module(t._data)
    out = []
    basic = True
    for it in items:
        if it is None or it is Ellipsis or isinstance(it, bool):
            out.append(it)
        elif isinstance(it, (int, np.integer)):
            out.append(int(it))
        elif isinstance(it, slice):
            out.append(_slice(it))
        elif isinstance(it, Tensor):
            a = it._data
            k = a.dtype.kind
            if k in "iu" and a.dtype != np.uint8:
                if a.ndim == 0:
                    out.append(int(a))
                    continue
                out.append(a if xp is np else xp.asarray(a))
                basic = False
            elif k == "b" or a.dtype == np.uint8:
                if a.ndim == 0:
                    out.append(bool(a))
                    continue
                out.append(a.astype(bool) if xp is np else xp.asarray(a.astype(bool)))
                basic = False
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
        elif isinstance(it, (list, tuple, np.ndarray)):
            a = _list_index(it)
            out.append(a if xp is np else xp.asarray(a))
            basic = False
        else:
            try:
                out.append(int(it.__index__()))
            except AttributeError:
                _bad_index(it)
    _check_dims(out, t._data.shape)
    if basic and Ellipsis not in out:
        # a trailing `...` makes NumPy return a 0-d view instead of a scalar copy
        out.append(Ellipsis)
    return tuple(out), basic


def _list_index(it):
    if isinstance(it, np.ndarray):
        a = it
    else:
        conv = [x.item() if isinstance(x, Tensor) else x for x in it] \
            if any(isinstance(x, Tensor) for x in it) else it
        a = np.asarray(conv)
    if a.dtype.kind == "f":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.dtype.kind not in "iub":
        _bad_index(it)
    if a.dtype == np.uint8:
        a = a.astype(bool)
    return a


def _slice(s: slice) -> slice:
    def num(v):
        if v is None or isinstance(v, int):
            return v
        if isinstance(v, Tensor):
            return int(v.item())
        return int(v.__index__())

    step = num(s.step)
    if step is not None and step <= 0:
        raise ValueError("step must be greater than zero")
    return slice(num(s.start), num(s.stop), step)


def _check_dims(items, shape) -> None:
    """PyTorch's messages for too many indices and out-of-range integers."""
    consumed = 0
    for it in items:
        if it is None or isinstance(it, bool):
            continue
        if it is Ellipsis:
            continue
        if isinstance(it, (_ndarray,)) or hasattr(it, "dtype"):
            consumed += it.ndim if it.dtype == np.bool_ else 1
        else:
            consumed += 1
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    # check integers against their dims (positions are simple when there is no Ellipsis)
    if Ellipsis not in [i for i in items if not hasattr(i, "dtype")]:
        d = 0
        for it in items:
            if it is None or isinstance(it, bool):
                continue
            if isinstance(it, int):
                size = shape[d]
                if not -size <= it < size:
                    raise IndexError(f"index {it} is out of bounds for dimension {d} with size "
                                     f"{size}")
                d += 1
            elif hasattr(it, "dtype"):
                d += it.ndim if it.dtype == np.bool_ else 1
            else:
                d += 1


class Select(Op, name="SelectBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, idx):
        ctx.in_shape = a.shape
        ctx.idx = idx
        return a[idx]

    @staticmethod
    def backward(ctx, g):
        return IndexGrad.apply(g, ctx.in_shape, ctx.idx, False)


class Slice(Select, name="SliceBackward0"):
    pass


class Index(Op, name="IndexBackward0"):
    @staticmethod
    def forward(ctx, a, idx):
        ctx.in_shape = a.shape
        ctx.idx = idx
        try:
            return a[idx]
        except IndexError as e:
            raise IndexError(_numpy_index_msg(e)) from None

    @staticmethod
    def backward(ctx, g):
        return IndexGrad.apply(g, ctx.in_shape, ctx.idx, True)


def _numpy_index_msg(e) -> str:
    return str(e).replace("axis", "dimension")


class IndexGrad(Op, name="IndexPutBackward0"):
    """Gradient of indexing: zeros of the input shape with ``g`` added at ``idx``."""

    @staticmethod
    def forward(ctx, g, shape, idx, accumulate):
        ctx.idx = idx
        xp = array_module(g)
        z = xp.zeros(shape, dtype=g.dtype)
        if accumulate:
            index_add_at(xp, z, idx, g)
        else:
            z[idx] = g
        return z

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, ctx.idx)


def getitem(self, index) -> Tensor:
    """``Tensor.__getitem__`` with PyTorch's indexing rules."""
    idx, basic = convert_index(index, self)
    if basic:
        cls = Select if any(isinstance(i, int) for i in idx) else Slice
        return cls.apply(self, idx)
    return Index.apply(self, idx)


class IndexPut(Op, name="IndexPutBackward0"):
    @staticmethod
    def forward(ctx, a, idx, v, accumulate):
        ctx.idx = idx
        ctx.v_shape = v.shape if hasattr(v, "shape") else ()
        r = a.copy()
        if accumulate:
            xp = array_module(a)
            index_add_at(xp, r, idx, xp.broadcast_to(v, r[idx].shape))
        else:
            r[idx] = v
        return r

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        ga = gv = None
        if e[0]:
            xp = array_module(g._data)
            mask = xp.ones(g._data.shape, dtype=g._data.dtype)
            mask[ctx.idx] = 0
            ga = g * Tensor._make(mask)
        if e[2]:
            gv = Index.apply(g, ctx.idx)
        return ga, None, gv, None


def setitem(self, index, value) -> None:
    """``Tensor.__setitem__``: differentiable; writes through views like PyTorch."""
    idx, basic = convert_index(index, self)
    _util.check_inplace(self)
    grad = _state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))
    if not grad:
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and type(v) is not type(self._data):
            from .._backend import to_device

            v = to_device(v, self.device)
        if isinstance(value, Tensor) and v.dtype != self._data.dtype:
            _check_cast(value.dtype, self.dtype)
        try:
            self._data[idx] = v
        except IndexError as e:
            raise IndexError(_numpy_index_msg(e)) from None
        except ValueError as e:
            raise RuntimeError(_shape_mismatch_msg(self._data[idx].shape, value)) from e
        self._bump_version()
        return
    if not isinstance(value, Tensor):
        value = _util.as_tensor_like(value, self, dtype=self.dtype)
    if basic:
        from .creation import copy_

        copy_(getitem(self, index), value)
        return
    if value.dtype is not self.dtype:
        value = _util.cast(value, self.dtype)
    result = IndexPut.apply(self, idx, value, False)
    _util.inplace(self, result, "index_put_")


def _check_cast(src, dst) -> None:
    if not _util.can_cast(src, dst):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_util.dtype_name(dst)} for the destination and "
                           f"{_util.dtype_name(src)} for the source.")


def _shape_mismatch_msg(target_shape, value) -> str:
    vs = list(value.shape) if hasattr(value, "shape") else []
    return (f"shape mismatch: value tensor of shape {vs} cannot be broadcast to indexing result "
            f"of shape {list(target_shape)}")


METHODS = {"__getitem__": getitem, "__setitem__": setitem}
