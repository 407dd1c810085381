"""Reductions: ``sum``, ``mean``, ``max``, ``var``, ``norm``, ``softmax``, ``sort``, ...

``dim`` may be an int, a tuple/list or None (all dims); negative dims count from the end.
Half-precision inputs are accumulated in float32 and rounded back, as PyTorch does on the CPU.
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

__all__ = ["sum", "mean"]

_HALF = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _HALF.add(_dtype._BF16_NP)


def reduce_dims(dim, ndim: int) -> tuple:
    """Dims to reduce: all for None or an empty list (PyTorch's convention), else wrapped."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(ndim))
        return _util.wrap_dims(dim, ndim)
    return (_util.wrap_dim(dim, ndim),)


def keep_shape(in_shape, dims) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(in_shape))


def expand_grad(g: Tensor, in_shape, dims, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back over the reduced dims."""
    if not keepdim and dims:
        g = _shape.reshape(g, keep_shape(in_shape, dims))
    return _shape.expand(g, in_shape)


class Sum(Op, name="SumBackward1"):
    @staticmethod
    def forward(ctx, a, dims, keepdim, npd):
        ctx.in_shape = a.shape
        ctx.dims = dims
        ctx.keepdim = keepdim
        if a.dtype in _HALF and npd == a.dtype:
            return a.sum(axis=dims, keepdims=keepdim, dtype=np.float32).astype(npd)
        return a.sum(axis=dims, keepdims=keepdim, dtype=npd)

    @staticmethod
    def backward(ctx, g):
        return expand_grad(g, ctx.in_shape, ctx.dims, ctx.keepdim)


class SumAll(Sum, name="SumBackward0"):
    pass


def _sum_dtype(input: Tensor, dtype):
    if dtype is not None:
        return _dtype.to_numpy_dtype(dtype)
    k = input._data.dtype.kind
    if k in "biu":
        return np.dtype(np.int64)
    return input._data.dtype


def sum(input, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:  # noqa: A001
    """``torch.sum``; integer and bool inputs sum to int64 like PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sum(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if isinstance(dim, _dtype.dtype):  # sum(dtype) positional form
        dim, dtype = None, dim
    nd = input._data.ndim
    dims = reduce_dims(dim, nd)
    npd = _sum_dtype(input, dtype)
    cls = SumAll if dim is None else Sum
    r = cls.apply(input, dims, keepdim, npd)
    return r if out is None else write_out(out, r, "sum")


class Mean(Op, name="MeanBackward1"):
    @staticmethod
    def forward(ctx, a, dims, keepdim, npd):
        ctx.in_shape = a.shape
        ctx.dims = dims
        ctx.keepdim = keepdim
        n = 1
        for d in dims:
            n *= a.shape[d]
        ctx.n = n
        acc = np.float32 if a.dtype in _HALF else npd
        r = a.sum(axis=dims, keepdims=keepdim, dtype=acc)
        xp = array_module(a)
        r = xp.true_divide(r, n) if n else xp.full(r.shape, np.nan, dtype=acc)
        return r.astype(npd, copy=False)

    @staticmethod
    def backward(ctx, g):
        return expand_grad(g, ctx.in_shape, ctx.dims, ctx.keepdim) / ctx.n


class MeanAll(Mean, name="MeanBackward0"):
    pass


def mean(input, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """``torch.mean``: floating and complex inputs only, as in PyTorch."""
    if isinstance(dim, _dtype.dtype):
        dim, dtype = None, dim
    d = input.dtype if dtype is None else dtype
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_util.dtype_name(d)}")
    dims = reduce_dims(dim, input._data.ndim)
    cls = MeanAll if dim is None else Mean
    src = input if dtype is None else _util.cast(input, dtype)
    r = cls.apply(src, dims, keepdim, _dtype.to_numpy_dtype(d))
    return r if out is None else write_out(out, r, "mean")


METHODS = {"sum": sum, "mean": mean}
