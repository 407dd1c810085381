"""Matrix products: ``matmul``/``@``, ``mm``, ``bmm``, ``mv``, ``dot``, ``einsum``, ...

Products go through NumPy/CuPy ``matmul`` (BLAS/cuBLAS). float16/bfloat16 are multiplied in
float32 and rounded back (PyTorch accumulates half-precision products in float32 on the CPU).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Op
from . import _util
from . import shape as _shape
from ._util import write_out

__all__ = ["matmul", "mm", "mv", "dot"]

_HALF = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _HALF.add(_dtype._BF16_NP)


def _mm(a, b):
    """matmul on arrays, through float32 for half-precision dtypes."""
    if a.dtype in _HALF:
        xp = array_module(a)
        return xp.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return a @ b


def _cname(t: Tensor) -> str:
    from .._tensor import _c_name

    return _c_name(t.dtype)


def _check_dtypes(a: Tensor, b: Tensor, first="mat1", second="mat2") -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected {first} and {second} to have the same dtype, but got: "
                           f"{_cname(a)} != {_cname(b)}")
    _util.check_same_device(a, b)


class Mm(Op, name="MmBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _mm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        ga = Mm.apply(g, _shape.t(b).conj() if b.is_complex() else _shape.t(b)) if e[0] else None
        gb = Mm.apply(_shape.t(a).conj() if a.is_complex() else _shape.t(a), g) if e[1] else None
        return ga, gb


def mm(input, mat2, *, out=None) -> Tensor:
    """``torch.mm``: 2-D matrix product."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_mm(input, mat2)
    r = Mm.apply(input, mat2)
    return r if out is None else write_out(out, r, "mm")


def _check_mm(a: Tensor, b: Tensor) -> None:
    sa, sb = a._data.shape, b._data.shape
    if sa[1] != sb[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and "
                           f"{sb[0]}x{sb[1]})")
    _check_dtypes(a, b)


class Dot(Op, name="DotBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.dtype in _HALF:
            return array_module(a).dot(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
        return array_module(a).dot(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        return (g * b if e[0] else None), (g * a if e[1] else None)


def dot(input, tensor, *, out=None) -> Tensor:
    """``torch.dot``: inner product of two 1-D tensors."""
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{tensor._data.ndim}D tensors")
    if input._data.shape != tensor._data.shape:
        n, m = input._data.shape[0], tensor._data.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                           f"have the same number of elements, but got {n} and {m} elements "
                           "respectively")
    _check_dtypes(input, tensor, "self", "other")
    r = Dot.apply(input, tensor)
    return r if out is None else write_out(out, r, "dot")


class Mv(Op, name="MvBackward0"):
    @staticmethod
    def forward(ctx, a, v):
        ctx.save_for_backward(a, v)
        return _mm(a, v)

    @staticmethod
    def backward(ctx, g):
        a, v = ctx.saved_tensors
        e = ctx._edges
        from .pointwise import mul

        ga = mul(_shape.unsqueeze(g, 1), _shape.unsqueeze(v, 0)) if e[0] else None
        gv = Mv.apply(_shape.t(a), g) if e[1] else None
        return ga, gv


def mv(input, vec, *, out=None) -> Tensor:
    """``torch.mv``: matrix-vector product."""
    sa, sv = input._data.shape, vec._data.shape
    if input._data.ndim != 2 or vec._data.ndim != 1 or sa[1] != sv[0]:
        raise RuntimeError(f"size mismatch, got input ({sa[0] if sa else ''}), mat "
                           f"({'x'.join(map(str, sa))}), vec ({'x'.join(map(str, sv))})")
    _check_dtypes(input, vec, "self", "vec")
    r = Mv.apply(input, vec)
    return r if out is None else write_out(out, r, "mv")


class Matmul(Op, name="UnsafeViewBackward0"):
    """Batched matmul with broadcast batch dims (both operands at least 2-D)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _mm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        ga = Matmul.apply(g, _shape._mT(b)) if e[0] else None
        gb = Matmul.apply(_shape._mT(a), g) if e[1] else None
        return ga, gb


def matmul(input, other, *, out=None) -> Tensor:
    """``torch.matmul``/``@`` for every rank combination, with broadcast batch dims."""
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        bad = other if isinstance(input, Tensor) else input
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(bad).__name__}")
    da, db = input._data.ndim, other._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D "
                           f"and {db}D")
    if da == 2 and db == 2:
        _check_mm(input, other)
        r = Mm.apply(input, other)
    elif da == 1 and db == 1:
        r = dot(input, other)
    elif da == 2 and db == 1:
        r = mv(input, other)
    elif da == 1 and db == 2:
        sa, sb = input._data.shape, other._data.shape
        if sa[0] != sb[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{sa[0]} and "
                               f"{sb[0]}x{sb[1]})")
        _check_dtypes(input, other)
        r = _shape.squeeze(Mm.apply(_shape.unsqueeze(input, 0), other), 0)
    else:
        a = _shape.unsqueeze(input, 0) if da == 1 else input
        b = _shape.unsqueeze(other, 1) if db == 1 else other
        sa, sb = a._data.shape, b._data.shape
        if sa[-1] != sb[-2]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{_prod(sb[:-2]) if len(sb) > 2 else 1}, {sa[-1]}] but got: "
                               f"[{_prod(sb[:-2]) if len(sb) > 2 else 1}, {sb[-2]}].")
        _util.broadcast_shapes_or_raise(sa[:-2], sb[:-2])
        _check_dtypes(a, b)
        r = Matmul.apply(a, b)
        if da == 1:
            r = _shape.squeeze(r, -2)
        if db == 1:
            r = _shape.squeeze(r, -1)
    return r if out is None else write_out(out, r, "matmul")


def _prod(s) -> int:
    n = 1
    for k in s:
        n *= k
    return n


def _rmatmul(self, other):
    if not isinstance(other, Tensor):
        if isinstance(other, np.ndarray):
            from .creation import as_tensor

            return matmul(as_tensor(other), self)
        return NotImplemented
    return matmul(other, self)


METHODS = {"matmul": matmul, "mm": mm, "mv": mv, "dot": dot, "__matmul__": matmul,
           "__rmatmul__": _rmatmul}
