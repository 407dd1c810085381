"""Shape and view ops: ``view``, ``reshape``, ``permute``, ``expand``, ``cat``, ``split``, ...

View ops (``is_view = True``) return NumPy/CuPy views that share memory with their input, so a
write through a view is seen by its base and the version counter is shared, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Op
from . import _util
from ._util import wrap_dim

__all__ = ["reshape", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes",
           "swapdims", "t", "broadcast_to"]


def infer_size(shape, numel: int) -> tuple:
    """Resolve one ``-1`` in ``shape``; PyTorch's error when the sizes cannot match."""
    shape = tuple(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            if known == 0 and numel == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape "
                                   f"{list(shape)} because the unspecified dimension size -1 "
                                   "can be any value and is ambiguous")
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        i = neg[0]
        return shape[:i] + (numel // known,) + shape[i + 1:]
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def try_view(a, shape):
    """``a`` reshaped without copying, or None when the strides do not allow it."""
    if isinstance(a, np.ndarray):
        try:
            return a.reshape(shape, copy=False)
        except ValueError:
            return None
    r = a.reshape(shape)  # CuPy returns a view whenever one is possible
    return r if r.data.ptr == a.data.ptr and not r.flags.owndata else None


class _Reshaped(Op):
    """Ops whose output is the input's data in another shape; backward reshapes back."""

    is_view = True

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.in_shape)


class View(_Reshaped, name="ViewBackward0"):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        r = try_view(a, shape)
        if r is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return r


class ReshapeCopy(Op, name="UnsafeViewBackward0"):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return array_module(a).ascontiguousarray(a).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.in_shape)


def view(self, *shape) -> Tensor:
    """``Tensor.view``: same data, new shape; fails if the strides do not allow a view.
    ``view(dtype)`` reinterprets the bytes as another dtype."""
    from .. import _dtype

    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_dtype(self, shape[0])
    shape = infer_size(_shape_args(shape), self._data.size)
    return View.apply(self, shape)


def _view_dtype(self, d) -> Tensor:
    from .._dtype import to_numpy_dtype

    a = self._data
    npd = to_numpy_dtype(d)
    if npd.itemsize != a.dtype.itemsize and not a.flags.c_contiguous:
        raise RuntimeError("self.stride(-1) must be 1 to view "
                           f"{self.dtype} as {d} (different element sizes)")
    t = Tensor._make(a.view(npd))
    t._vc = self._version_counter()
    t._base = self if self._base is None else self._base
    return t


def reshape(input, *shape) -> Tensor:
    """``torch.reshape``: a view when possible, else a copy."""
    shape = infer_size(_shape_args(shape), input._data.size)
    a = input._data
    if a.shape == shape:
        return View.apply(input, shape)
    if try_view(a, shape) is not None:
        return View.apply(input, shape)
    return ReshapeCopy.apply(input, shape)


def view_as(self, other) -> Tensor:
    return view(self, other._data.shape)


def reshape_as(self, other) -> Tensor:
    return reshape(self, other._data.shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``torch.flatten``: returns the input itself when nothing changes (like PyTorch)."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, nd)
    e = wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = input._data.shape
    n = 1
    for k in shp[s:e + 1]:
        n *= k
    return reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input, dim: int, sizes) -> Tensor:
    """``torch.unflatten``: split one dimension into ``sizes`` (one may be -1)."""
    shp = input._data.shape
    d = wrap_dim(dim, len(shp))
    sizes = tuple(sizes)
    if len(sizes) == 0:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = infer_size(sizes, shp[d])
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor") from None
    return reshape(input, shp[:d] + sizes + shp[d + 1:])


class Unsqueeze(_Reshaped, name="UnsqueezeBackward0"):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.in_shape = a.shape
        return array_module(a).expand_dims(a, dim)


def unsqueeze(input, dim: int) -> Tensor:
    """``torch.unsqueeze``."""
    nd = input._data.ndim
    lo, hi = -nd - 1, nd
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but "
                         f"got {dim})")
    return Unsqueeze.apply(input, dim % (nd + 1))


class Squeeze(_Reshaped, name="SqueezeBackward0"):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.in_shape = a.shape
        return a.reshape(tuple(s for i, s in enumerate(a.shape) if i not in dims))


def squeeze(input, dim=None) -> Tensor:
    """``torch.squeeze``: drop size-1 dims (all, one, or a tuple of them)."""
    shp = input._data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shp) if s == 1)
    else:
        dims = tuple(d for d in _util.wrap_dims(dim, len(shp)) if len(shp) and shp[d] == 1)
    return Squeeze.apply(input, dims)


class Permute(Op, name="PermuteBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return Permute.apply(g, tuple(inv))


def permute(input, *dims) -> Tensor:
    """``torch.permute``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    return Permute.apply(input, _util.wrap_dims(dims, nd))


class Transpose(Op, name="TransposeBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.d = (d0, d1)
        return a.swapaxes(d0, d1)

    @staticmethod
    def backward(ctx, g):
        return Transpose.apply(g, *ctx.d)


def transpose(input, dim0: int, dim1: int) -> Tensor:
    """``torch.transpose``."""
    nd = input._data.ndim
    return Transpose.apply(input, wrap_dim(dim0, nd), wrap_dim(dim1, nd))


swapaxes = swapdims = transpose


class T(Op, name="TBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a):
        return a.T

    @staticmethod
    def backward(ctx, g):
        return T.apply(g)


def t(input) -> Tensor:
    """``torch.t``: transpose of a tensor with at most 2 dims."""
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return T.apply(input)


def _T(self) -> Tensor:
    nd = self._data.ndim
    if nd == 2:
        return T.apply(self)
    return Permute.apply(self, tuple(range(nd - 1, -1, -1)))


def _mT(self) -> Tensor:
    nd = self._data.ndim
    if nd < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{nd}-D tensor.")
    return Transpose.apply(self, nd - 2, nd - 1)


class Expand(Op, name="ExpandBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return array_module(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return _util.sum_to(g, ctx.in_shape)


def expand(self, *sizes) -> Tensor:
    """``Tensor.expand``: a broadcast view (-1 keeps a size); no data is copied."""
    sizes = _shape_args(sizes)
    shp = self._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shp)}}}, size={list(sizes)}): the "
                           "number of sizes provided ({}) must be greater or equal to the number "
                           "of dimensions in the tensor ({})".format(len(sizes), len(shp)))
    lead = len(sizes) - len(shp)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            out.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            out.append(cur)
        elif cur == s or cur == 1:
            out.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shp)}")
    out = tuple(out)
    if out == shp:
        return View.apply(self, shp)
    return Expand.apply(self, out)


def expand_as(self, other) -> Tensor:
    return expand(self, other._data.shape)


def broadcast_to(input, size) -> Tensor:
    """``torch.broadcast_to``."""
    return expand(input, tuple(size))


METHODS = {
    "view": view, "reshape": reshape, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "permute": permute, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
    "t": t, "expand": expand, "expand_as": expand_as, "broadcast_to": broadcast_to,
    "T": property(_T), "mT": property(_mT),
}
