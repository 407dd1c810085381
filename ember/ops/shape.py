"""Shape and view ops: ``view``, ``reshape``, ``permute``, ``expand``, ``cat``, ``split``, ...

View ops (``is_view = True``) return NumPy/CuPy views that share memory with their input, so a
write through a view is seen by its base and the version counter is shared, as in PyTorch; their
strides and storage offsets are PyTorch's too (``view``/``unsqueeze``/``expand`` compute
PyTorch's geometry where NumPy would choose other strides for size-1 dims).
Ops that return several views (``split``, ``chunk``, ``unbind``) record, for each output, the
single-output view op that rebuilds it (``narrow``/``select``), so in-place writes through them
can be replayed on the base; like PyTorch they refuse in-place ops that would need autograd.
PyTorch has no negative strides, so ``flip``/``rot90``/``roll`` copy.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _dtype
from .._backend import array_module, is_numpy
from .._dtype import promote_types, to_numpy_dtype
from .._tensor import Size, Tensor, _data_ptr, _legacy_scalar_name, legacy_type_name
from ..autograd.function import Op, _set_view
from ..autograd.grad_mode import state as _state
from ..autograd.graph import move_tensor_state
from . import _util
from ._util import wrap_dim, write_out

__all__ = [
    "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose",
    "swapaxes", "swapdims", "t", "broadcast_to", "cat", "concat", "concatenate", "stack",
    "hstack", "vstack", "row_stack", "dstack", "column_stack", "split", "split_with_sizes",
    "tensor_split", "hsplit", "vsplit", "dsplit", "chunk", "unbind", "narrow", "select",
    "repeat_interleave", "tile", "flip", "fliplr", "flipud", "roll", "rot90", "tril", "triu",
    "tril_indices", "triu_indices", "diagonal", "diag", "diag_embed", "diagflat", "movedim",
    "moveaxis", "broadcast_tensors", "broadcast_shapes", "meshgrid", "atleast_1d", "atleast_2d",
    "atleast_3d", "ravel", "as_strided", "adjoint",
]

_Int = (int, np.integer)


def _as_int(v, what: str = "argument") -> int:
    """A Python int from an int, a NumPy integer or a one-element integer tensor."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, _Int):
        return int(v)
    if isinstance(v, Tensor) and v._data.size == 1 and v._data.dtype.kind in "iub":
        return int(v.item())
    raise TypeError(f"{what} must be int, not {type(v).__name__}")


def _int_tuple(v, fname: str, arg: str, pos: int) -> tuple:
    """A tuple of ints from a list/tuple/Size; PyTorch's TypeError for anything else."""
    if isinstance(v, (list, tuple)):
        try:
            return tuple(_as_int(x) for x in v)
        except TypeError:
            pass
    raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be tuple of ints, not "
                    f"{type(v).__name__}")


def _varargs(args) -> tuple:
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean the sizes (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(_as_int(a) for a in args)


def _check_tensor(x, fname: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _dim_of_nonscalar(dim, nd: int) -> int:
    """Wrap ``dim`` for ops that need at least one dimension (PyTorch's unbind/roll message)."""
    if nd == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(dim, nd)


# ---------------------------------------------------------------------------------------------
# raw strided views: the storage of an array and views with arbitrary element strides
# ---------------------------------------------------------------------------------------------

def _el_strides(a) -> tuple:
    isz = a.dtype.itemsize
    return tuple(s // isz for s in a.strides)


def _storage(a):
    """The array owning ``a``'s memory (its storage) and ``a``'s element offset within it."""
    root = a
    cls = type(a)
    while isinstance(root.base, cls):
        root = root.base
    if root is a:
        return a, 0
    return root, (_data_ptr(a) - _data_ptr(root)) // a.dtype.itemsize


def _storage_numel(root) -> int:
    if root.size == 0:
        return 0
    if root.flags.c_contiguous or root.flags.f_contiguous:
        return int(root.size)
    isz = root.dtype.itemsize
    return 1 + sum((n - 1) * s for n, s in zip(root.shape, root.strides)) // isz


def _strided(a, shape, strides, offset: int):
    """A view of ``a``'s storage with element ``strides``, starting ``offset`` elements into
    the storage. Views where one element is reached twice (a zero stride over more than one
    element) are read-only, so in-place ops raise PyTorch's overlap error."""
    root, _ = _storage(a)
    isz = a.dtype.itemsize
    shape = tuple(int(n) for n in shape)
    bstrides = tuple(int(s) * isz for s in strides)
    if 0 in shape:
        offset = min(offset, _storage_numel(root))
    overlap = 0 not in shape and any(s == 0 and n > 1 for n, s in zip(shape, strides))
    r = None
    if is_numpy(root):
        try:
            r = np.ndarray(shape, a.dtype, buffer=root, offset=offset * isz, strides=bstrides)
        except (TypeError, ValueError, BufferError):
            r = None  # storage not exportable as one buffer: fall back to as_strided below
    if r is None:
        xp = array_module(a)
        flat = xp.lib.stride_tricks.as_strided(root, (_storage_numel(root),), (isz,))
        r = xp.lib.stride_tricks.as_strided(flat[offset:], shape, bstrides)
    if is_numpy(r) and r.flags.writeable and (
            overlap or (not a.flags.writeable and 0 not in a.strides)):
        r.flags.writeable = False
    return r


def _geom_index(xp, shape, strides, offset: int):
    """Storage positions of every element of a strided geometry (vectorized per dim)."""
    idx = xp.full((), offset, dtype=np.int64)
    for n, s in zip(shape, strides):
        idx = idx[..., None] + xp.arange(n, dtype=np.int64) * s
    return idx


# ---------------------------------------------------------------------------------------------
# view / reshape
# ---------------------------------------------------------------------------------------------

def infer_size(shape, numel: int) -> tuple:
    """Resolve one ``-1`` in ``shape``; PyTorch's error when the sizes cannot match."""
    shape = tuple(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
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


def view_strides(old_shape, old_strides, new_shape):
    """Element strides of ``new_shape`` viewing memory laid out as (old_shape, old_strides), or
    None when no view is possible. Follows PyTorch's rule (its strides for size-1 dims
    included): dims are grouped into runs that are contiguous with one another, and each run
    must map onto whole dims of the new shape."""
    if not old_shape:
        return (1,) * len(new_shape)
    if 0 in old_shape:
        if tuple(old_shape) == tuple(new_shape):
            return tuple(old_strides)
        return _contig(new_shape)
    out = [0] * len(new_shape)
    vd = len(new_shape) - 1
    base = old_strides[-1]
    t_numel = v_numel = 1
    for td in range(len(old_shape) - 1, -1, -1):
        t_numel *= old_shape[td]
        if td == 0 or (old_shape[td - 1] != 1 and old_strides[td - 1] != t_numel * base):
            # end of a run of mutually contiguous dims: cover it with new dims
            while vd >= 0 and (v_numel < t_numel or new_shape[vd] == 1):
                out[vd] = v_numel * base
                v_numel *= new_shape[vd]
                vd -= 1
            if v_numel != t_numel:
                return None
            if td > 0:
                base = old_strides[td - 1]
                t_numel = v_numel = 1
    if vd != -1:
        return None
    return tuple(out)


def _restrided(a, r, strides):
    """``r`` (a view of ``a``) with the given element strides (PyTorch's, where NumPy chose
    others for size-1 dims)."""
    if _el_strides(r) == tuple(strides):
        return r
    return _strided(a, r.shape, strides, _storage(r)[1])


def try_view(a, shape):
    """``a`` reshaped without copying (with PyTorch's strides), or None when impossible."""
    if a.size and a.flags.c_contiguous and 1 not in a.shape:
        # standard C strides (NumPy relaxes strides of size-1 dims only): NumPy's and
        # PyTorch's strides for the new shape agree
        return a.reshape(shape)
    st = view_strides(a.shape, _el_strides(a), shape)
    if st is None:
        return None
    if a.flags.c_contiguous:
        return _restrided(a, a.reshape(shape), st)
    return _strided(a, shape, st, _storage(a)[1])


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
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_dtype(self, shape[0])
    shape = infer_size(_shape_args(shape), self._data.size)
    return View.apply(self, shape)


def _view_dtype(self, d) -> Tensor:
    """``Tensor.view(dtype)``: PyTorch's checks for reinterpreting elements of another size.
    Like PyTorch the result shares memory and the version counter, is not differentiable and
    is not an autograd view (``_base`` stays unset)."""
    a = self._data
    npd = to_numpy_dtype(d)
    old, new = a.dtype.itemsize, npd.itemsize
    if old != new:
        src, dst = _legacy_scalar_name(self.dtype), _legacy_scalar_name(d)
        what = f"to view {src} as {dst} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        st = self.stride()
        if st[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {st[-1]}")
        if new > old:
            ratio = new // old
            if a.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got "
                                   f"{a.shape[-1]}")
            off = self.storage_offset()
            if off % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, "
                                   f"but got {off}")
            for i, s in enumerate(st[:-1]):
                if s % ratio:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {what}, "
                                       f"but got {s}")
    t = Tensor._make(a.view(npd))
    t._vc = self._version_counter()
    return t


def reshape(input, *shape) -> Tensor:
    """``torch.reshape``: a view when possible, else a copy."""
    shape = infer_size(_shape_args(shape), input._data.size)
    a = input._data
    if a.shape == shape or (a.size and a.flags.c_contiguous) or \
            view_strides(a.shape, _el_strides(a), shape) is not None:
        return View.apply(input, shape)
    return ReshapeCopy.apply(input, shape)


def view_as(self, other) -> Tensor:
    return view(self, other._data.shape)


def reshape_as(self, other) -> Tensor:
    return reshape(self, other._data.shape)


def ravel(input) -> Tensor:
    """``torch.ravel``: a flattened view when possible, else a contiguous copy."""
    return reshape(_check_tensor(input, "ravel"), (-1,))


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``torch.flatten``: returns the input itself when nothing changes (like PyTorch)."""
    nd = input._data.ndim
    s = wrap_dim(start_dim, nd)  # a 0-d tensor takes dims -1 and 0, as PyTorch's does
    e = wrap_dim(end_dim, nd)
    if nd == 0:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)  # only 0 and -1 are valid dims of a 0-d
        return reshape(input, (1,))
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
    if not shp:
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but "
                           "tensor has no dimensions")
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


# ---------------------------------------------------------------------------------------------
# squeeze / unsqueeze / permute / transpose (and their in-place metadata forms)
# ---------------------------------------------------------------------------------------------

class Unsqueeze(_Reshaped, name="UnsqueezeBackward0"):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.in_shape = a.shape
        st = _el_strides(a)
        new = a.shape[dim] * st[dim] if dim < a.ndim else 1  # PyTorch's stride for the new dim
        return _restrided(a, array_module(a).expand_dims(a, dim), st[:dim] + (new,) + st[dim:])


class UnsqueezeInplace(Unsqueeze, name="UnsqueezeBackward1"):
    pass


def _unsqueeze_dim(input, dim) -> int:
    nd = input._data.ndim
    dim = _as_int(dim, "dim")
    lo, hi = -nd - 1, nd
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but "
                         f"got {dim})")
    return dim % (nd + 1)


def unsqueeze(input, dim: int) -> Tensor:
    """``torch.unsqueeze``."""
    return Unsqueeze.apply(input, _unsqueeze_dim(input, dim))


class Squeeze(_Reshaped, name="SqueezeBackward0"):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.in_shape = a.shape
        return array_module(a).squeeze(a, axis=dims) if dims else a[...]


class SqueezeDim(Squeeze, name="SqueezeBackward1"):
    pass


class SqueezeDims(Squeeze, name="SqueezeBackward2"):
    pass


class SqueezeInplace(Squeeze, name="SqueezeBackward3"):
    pass


class SqueezeDimInplace(Squeeze, name="SqueezeBackward4"):
    pass


class SqueezeDimsInplace(Squeeze, name="SqueezeBackward5"):
    pass


def _squeeze_args(input, dim):
    shp = input._data.shape
    if dim is None:
        return 0, tuple(i for i, s in enumerate(shp) if s == 1)
    kind = 2 if isinstance(dim, (tuple, list)) else 1
    dims = tuple(d for d in _util.wrap_dims(dim, len(shp)) if len(shp) and shp[d] == 1)
    return kind, dims


def squeeze(input, dim=None) -> Tensor:
    """``torch.squeeze``: drop size-1 dims (all, one, or a tuple of them)."""
    kind, dims = _squeeze_args(input, dim)
    return (Squeeze, SqueezeDim, SqueezeDims)[kind].apply(input, dims)


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
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(wrapped)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, wrapped)


class Transpose(Op, name="TransposeBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.d = (d0, d1)
        # a 0-d tensor accepts dims 0 and -1 (PyTorch); NumPy's swapaxes has no axis to swap
        return a.swapaxes(d0, d1) if a.ndim else a.view()

    @staticmethod
    def backward(ctx, g):
        if not _state.enabled:
            # a gradient needs no view tracking: a plain array view keeps the transposed
            # gradient free of references to the incoming one, so .grad can take it uncopied
            a = g._data
            return Tensor._make(a.swapaxes(*ctx.d) if a.ndim else a)
        return Transpose.apply(g, *ctx.d)


class TransposeInplace(Transpose, name="TransposeBackward1"):
    pass


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
        if not _state.enabled:  # (as Transpose.backward)
            return Tensor._make(g._data.T)
        return T.apply(g)


class TInplace(T, name="TBackward1"):
    pass


def _check_t(input, fname: str) -> None:
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"{fname}() expects a tensor with <= 2 dimensions, but self is {nd}D")


def t(input) -> Tensor:
    """``torch.t``: transpose of a tensor with at most 2 dims."""
    _check_t(input, "t")
    return T.apply(input)


def _T(self) -> Tensor:
    """``Tensor.T``: reverses the dims (PyTorch warns unless the tensor is a matrix)."""
    nd = self._data.ndim
    if nd == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    elif nd != 2:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated and it will throw an error in a future release. "
                      "Consider `x.mT` to transpose batches of matrices or "
                      "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions "
                      "of a tensor.", UserWarning, stacklevel=2)
    return Permute.apply(self, tuple(range(nd - 1, -1, -1)))


def _mT(self) -> Tensor:
    nd = self._data.ndim
    if nd == 0:
        warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
        return self
    if nd < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{nd}-D tensor.")
    return Transpose.apply(self, nd - 2, nd - 1)


def _conj(t: Tensor) -> Tensor:
    # ember has no lazy conjugate bit: complex tensors get a conjugated copy, not a view
    if t._data.dtype.kind != "c":
        return t
    from .pointwise import conj

    return conj(t)


def _adjoint(self, what: str, matrices_only: bool = False) -> Tensor:
    nd = self._data.ndim
    if nd == 0:
        warnings.warn(f"{what} is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=3)
        return _conj(self)
    if matrices_only and nd != 2:
        extra = " For batches of matrices, consider using tensor.mH" if nd > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D "
                           f"tensor.{extra}")
    if nd < 2:
        name = "mH" if what == "Tensor.mH" else "adjoint()"
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           f"Got {nd}-D tensor.")
    return _conj(Transpose.apply(self, nd - 2, nd - 1))


def adjoint(input) -> Tensor:
    """``torch.adjoint``: conjugate transpose of the last two dims (a view for real tensors;
    complex tensors are conjugated into a copy, as ember has no lazy conjugation)."""
    return _adjoint(_check_tensor(input, "adjoint"), "adjoint()")


def _mH(self) -> Tensor:
    return _adjoint(self, "Tensor.mH")


def _H(self) -> Tensor:
    return _adjoint(self, "Tensor.H", matrices_only=True)


def _check_meta_inplace(self: Tensor) -> None:
    """PyTorch's autograd checks for in-place ops that only change a tensor's metadata (the
    memory-overlap check does not apply: nothing is written)."""
    if _state.enabled:
        if self._rg and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        base = self._base
        if base is not None and self._view_fn is not None and base._rg and \
                base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
    if self._inference and not _state.inference:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
                           "details.")


def _inplace_view(self: Tensor, cls, *args) -> Tensor:
    """Give ``self`` the metadata of view op ``cls`` applied to it (``squeeze_``, ``t_``, ...):
    ``self`` keeps its storage, takes the op's grad_fn and its version counter moves on."""
    _check_meta_inplace(self)
    if _state.enabled and self._rg and "_multi_view" in self.__dict__:
        raise RuntimeError(self._multi_view)
    r = cls.apply(self, *args)
    self._data = r._data
    if r._grad_fn is not None:
        old_fn, old_nr = self._grad_fn, self._out_nr
        self._grad_fn = r._grad_fn
        self._rg = True
        if old_nr:
            self._out_nr = 0
        move_tensor_state(self, old_fn, old_nr)
    if self._base is not None and self._view_fn is not None:
        self._view_fn = r._view_fn  # later writes through self replay this op on the base
    self._bump_version()
    return self


def squeeze_(self, dim=None) -> Tensor:
    """``Tensor.squeeze_``."""
    kind, dims = _squeeze_args(self, dim)
    return _inplace_view(self, (SqueezeInplace, SqueezeDimInplace, SqueezeDimsInplace)[kind],
                         dims)


def unsqueeze_(self, dim: int) -> Tensor:
    """``Tensor.unsqueeze_``."""
    return _inplace_view(self, UnsqueezeInplace, _unsqueeze_dim(self, dim))


def t_(self) -> Tensor:
    """``Tensor.t_``."""
    _check_t(self, "t_")
    return _inplace_view(self, TInplace)


def transpose_(self, dim0: int, dim1: int) -> Tensor:
    """``Tensor.transpose_`` (also ``swapaxes_``/``swapdims_``)."""
    nd = self._data.ndim
    return _inplace_view(self, TransposeInplace, wrap_dim(dim0, nd), wrap_dim(dim1, nd))


# ---------------------------------------------------------------------------------------------
# expand / broadcasting
# ---------------------------------------------------------------------------------------------

def _expand_array(a, shape):
    """Broadcast view with PyTorch's strides: 0 where a size-1 dim grows; a new leading dim
    keeps the span of the dims after it (all zeros for a 0-d input)."""
    nd, lead = len(shape), len(shape) - a.ndim
    src = _el_strides(a)
    st = [0] * nd
    for i in range(nd - 1, -1, -1):
        j = i - lead
        if j >= 0:
            size, stride = a.shape[j], src[j]
        else:
            size, stride = 1, (shape[i + 1] * st[i + 1] if a.ndim and i + 1 < nd else 0)
        st[i] = 0 if size != shape[i] else stride
    return _strided(a, shape, st, _storage(a)[1])


class Expand(Op, name="ExpandBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return _expand_array(a, shape)

    @staticmethod
    def backward(ctx, g):
        return _util.sum_to(g, ctx.in_shape)


def expand(self, *sizes) -> Tensor:
    """``Tensor.expand``: a broadcast view (-1 keeps a size); no data is copied."""
    sizes = _shape_args(sizes)
    shp = self._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand({legacy_type_name(self)}{{{list(shp)}}}, size={list(sizes)}):"
                           f" the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    out = [0] * len(sizes)
    # from the last dim backwards, as PyTorch checks (its error names the last bad dim)
    for i in range(len(sizes) - 1, -1, -1):
        s = sizes[i]
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            out[i] = s
            continue
        cur = shp[i - lead]
        if s == -1:
            out[i] = cur
        elif cur == s or cur == 1:
            out[i] = s
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shp)}")
    return Expand.apply(self, tuple(out))


def expand_as(self, other) -> Tensor:
    return expand(self, other._data.shape)


def broadcast_to(input, size) -> Tensor:
    """``torch.broadcast_to``."""
    return expand(input, tuple(size))


def broadcast_shapes(*shapes) -> Size:
    """``torch.broadcast_shapes``: the broadcast of shapes given as ints or int sequences."""
    norm = []
    for s in shapes:
        if s is None:
            continue
        if isinstance(s, (numbers.Integral, Tensor)) and not isinstance(s, bool):
            s = (_as_int(s),)
        if not isinstance(s, (tuple, list)):
            raise RuntimeError("Input shapes should be of type ints, a tuple of ints, or a list "
                               f"of ints, got {s}")
        norm.append(s)
    if not norm:
        return Size(())
    common = [1] * max(len(s) for s in norm)
    for k, s in enumerate(norm):
        for idx in range(-1, -1 - len(s), -1):
            n = int(s[idx])
            if n == common[idx]:
                continue
            if common[idx] == 1:
                if n < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[idx] = n
            if n != 1 and common[idx] != n:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at {idx}! "
                                   f"Mismatching argument at index {k} had {s}; but expected "
                                   f"shape should be broadcastable to {common}")
    return Size(common)


def broadcast_tensors(*tensors) -> tuple:
    """``torch.broadcast_tensors``: expanded views; inputs already of the result shape are
    returned as they are (like PyTorch)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    _util.check_same_device(*tensors)
    shape = _util.broadcast_shapes_or_raise(*(t._data.shape for t in tensors))
    return tuple(t if t._data.shape == shape else Expand.apply(t, shape) for t in tensors)


# ---------------------------------------------------------------------------------------------
# narrow / select / split / chunk / unbind
# ---------------------------------------------------------------------------------------------

class Narrow(Op, name="SliceBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, dim, start, length):
        ctx.args = (a.shape, dim, start)
        return a[(slice(None),) * dim + (slice(start, start + length),)]

    @staticmethod
    def backward(ctx, g):
        return SliceGrad.apply(g, *ctx.args)


class SliceGrad(Op, name="SliceBackwardBackward0"):
    """Zeros of the input's shape with ``g`` written at the narrowed region."""

    @staticmethod
    def forward(ctx, g, shape, dim, start):
        ctx.args = (dim, start, g.shape[dim])
        z = array_module(g).zeros(shape, dtype=g.dtype)
        z[(slice(None),) * dim + (slice(start, start + g.shape[dim]),)] = g
        return z

    @staticmethod
    def backward(ctx, gg):
        return Narrow.apply(gg, *ctx.args)


def narrow(input, dim: int, start, length: int) -> Tensor:
    """``torch.narrow``: a view of ``length`` elements of ``dim`` from ``start`` (which may be
    negative or a 0-d integer tensor)."""
    _check_tensor(input, "narrow")
    shp = input._data.shape
    if not shp:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shp))
    start, length = _as_int(start, "start"), _as_int(length, "length")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    size = shp[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but "
                         f"got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return Narrow.apply(input, d, start, length)


class Select(Op, name="SelectBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.args = (a.shape, dim, index)
        # the trailing Ellipsis keeps a 0-d result a view instead of a NumPy scalar
        return a[(slice(None),) * dim + (index, Ellipsis)]

    @staticmethod
    def backward(ctx, g):
        return SelectGrad.apply(g, *ctx.args)


class SelectGrad(Op, name="SelectBackwardBackward0"):
    """Zeros of the input's shape with ``g`` written at the selected index."""

    @staticmethod
    def forward(ctx, g, shape, dim, index):
        ctx.args = (dim, index)
        z = array_module(g).zeros(shape, dtype=g.dtype)
        z[(slice(None),) * dim + (index, Ellipsis)] = g
        return z

    @staticmethod
    def backward(ctx, gg):
        return Select.apply(gg, *ctx.args)


def select(input, dim: int, index) -> Tensor:
    """``torch.select``: the view at ``index`` of ``dim``, with ``dim`` removed."""
    _check_tensor(input, "select")
    shp = input._data.shape
    if not shp:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shp))
    index = _as_int(index, "index")
    if not -shp[d] <= index < shp[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shp)} "
                         f"at dimension {d}")
    return Select.apply(input, d, index % shp[d])


_MULTI_VIEW_MSG = ("This view is the output of a function that returns multiple views. Such "
                   "functions do not allow the output views to be modified inplace. You should "
                   "replace the inplace operation by an out-of-place one.")


def _mark_multi_views(outs, src: Tensor, name: str, specs) -> tuple:
    """Make each output of a multi-output view op a view of ``src``'s base, rebuilt on replay
    by a single-output view op; ``_util.inplace`` refuses autograd in-place ops on them with
    PyTorch's message."""
    for i, (t, (cls, rest)) in enumerate(zip(outs, specs)):
        _set_view(t, src, cls, rest)
        if t._rg:
            t._multi_view = (f"Output {i} of {name} is a view and is being modified inplace. "
                             + _MULTI_VIEW_MSG)
        else:
            t._multi_view = ("A view was created in no_grad mode and is being modified inplace "
                             "with grad mode enabled. " + _MULTI_VIEW_MSG)
    return outs


class Split(Op, name="SplitBackward0"):
    @staticmethod
    def forward(ctx, a, dim, sizes):
        ctx.dim = dim
        pre = (slice(None),) * dim
        out = []
        start = 0
        for s in sizes:
            out.append(a[pre + (slice(start, start + s),)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), ctx.dim)


class SplitWithSizes(Split, name="SplitWithSizesBackward0"):
    pass


def _split(input, dim: int, sizes, cls, name: str) -> tuple:
    outs = cls.apply(input, dim, tuple(sizes))
    specs = []
    start = 0
    for s in sizes:
        specs.append((Narrow, (dim, start, s)))
        start += s
    return _mark_multi_views(outs, input, name, specs)


def _split_sizes_int(size: int, split_size: int) -> list:
    if split_size == 0:
        return [size]
    n = max(-(-size // split_size), 1)
    return [split_size] * (n - 1) + [size - split_size * (n - 1)]


def split_with_sizes(input, split_sizes, dim: int = 0) -> tuple:
    """``torch.split_with_sizes``: views of the given sizes along ``dim``."""
    _check_tensor(input, "split_with_sizes")
    shp = input._data.shape
    if not shp:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, len(shp))
    sizes = [_as_int(s, "split_sizes") for s in split_sizes]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, "
                           f"but got split_sizes={sizes}")
    if sum(sizes) != shp[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {shp[d]} "
                           f"(input tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split(input, d, sizes, SplitWithSizes, "SplitWithSizes")


def split(tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """``torch.split``: views of ``split_size`` elements (the last may be shorter) or of the
    listed sizes along ``dim``."""
    _check_tensor(tensor, "split", "tensor")
    if isinstance(split_size_or_sections, (list, tuple)):
        return split_with_sizes(tensor, split_size_or_sections, dim)
    shp = tensor._data.shape
    if not shp:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    split_size = _as_int(split_size_or_sections, "split_size")
    d = wrap_dim(dim, len(shp))
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got "
                           f"split_size={split_size}")
    if split_size == 0 and shp[d] != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {shp[d]}")
    return _split(tensor, d, _split_sizes_int(shp[d], split_size), Split, "Split")


def chunk(input, chunks: int, dim: int = 0) -> tuple:
    """``torch.chunk``: at most ``chunks`` views of equal size (the last may be smaller)."""
    _check_tensor(input, "chunk")
    shp = input._data.shape
    if not shp:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = _as_int(chunks, "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, len(shp))
    size = shp[d]
    split_size = -(-size // chunks)
    if split_size == 0 and size == 0:
        # an empty dim gives `chunks` empty pieces, not one (PyTorch)
        return _split(input, d, [0] * chunks, SplitWithSizes, "SplitWithSizes")
    return _split(input, d, _split_sizes_int(size, split_size), Split, "Split")


def tensor_split(input, indices_or_sections=None, dim: int = 0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None) -> tuple:
    """``torch.tensor_split``: ``sections`` near-equal pieces, or pieces cut at ``indices``
    (slice semantics: negative indices wrap, out-of-range ones clamp). Each piece is its own
    narrow view."""
    _check_tensor(input, "tensor_split")
    spec = next((v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections)
                 if v is not None), None)
    if spec is None:
        raise TypeError("tensor_split() missing required argument 'indices_or_sections'")
    shp = input._data.shape
    if not shp:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           f"tensor with {len(shp)} dims")
    if isinstance(spec, Tensor):
        a = spec._data
        if a.dtype != np.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {_legacy_scalar_name(spec.dtype)}")
        if a.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {a.ndim} dims")
        spec = int(spec.item()) if a.ndim == 0 else [int(v) for v in spec.tolist()]
    d = wrap_dim(dim, len(shp))
    size = shp[d]
    if isinstance(spec, (list, tuple)):
        # PyTorch slices [previous index, index) with slice semantics: negative indices wrap,
        # out-of-range ones clamp, and a stop before the start gives an empty piece
        out, start = [], 0
        for idx in [_as_int(i, "indices") for i in spec]:
            stop = min(max(idx + size if idx < 0 else idx, 0), size)
            out.append(Narrow.apply(input, d, start, max(stop - start, 0)))
            start = stop
        out.append(Narrow.apply(input, d, start, size - start))
        return tuple(out)
    n = _as_int(spec, "sections")
    if n <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {n}")
    base_len, extra = divmod(size, n)
    out, start = [], 0
    for i in range(n):
        ln = base_len + (1 if i < extra else 0)
        out.append(Narrow.apply(input, d, start, ln))
        start += ln
    return tuple(out)


def _split_along(input, indices_or_sections, dim: int, need: int, fname: str) -> tuple:
    nd = input._data.ndim
    if nd < need:
        if need == 1:
            raise RuntimeError(f"torch.{fname} requires a tensor with at least 1 dimension, but "
                               f"got a tensor with {nd} dimensions!")
        raise RuntimeError(f"torch.{fname} requires a tensor with at least {need} dimension, "
                           f"but got a tensor with {nd} dimensions!")
    if not isinstance(indices_or_sections, (list, tuple, Tensor)):
        n = _as_int(indices_or_sections, "indices_or_sections")
        size = input._data.shape[dim]
        if n != 0 and size % n:
            raise RuntimeError(f"torch.{fname} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {size} is not divisible by the split_size "
                               f"{n}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections) -> tuple:
    """``torch.hsplit``: ``tensor_split`` along dim 1 (dim 0 for 1-D), sections must divide."""
    _check_tensor(input, "hsplit")
    return _split_along(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 1,
                        "hsplit")


def vsplit(input, indices_or_sections) -> tuple:
    """``torch.vsplit``: ``tensor_split`` along dim 0 of a tensor with at least 2 dims."""
    _check_tensor(input, "vsplit")
    return _split_along(input, indices_or_sections, 0, 2, "vsplit")


def dsplit(input, indices_or_sections) -> tuple:
    """``torch.dsplit``: ``tensor_split`` along dim 2 of a tensor with at least 3 dims."""
    _check_tensor(input, "dsplit")
    return _split_along(input, indices_or_sections, 2, 3, "dsplit")


class Unbind(Op, name="UnbindBackward0"):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        pre = (slice(None),) * dim
        return tuple(a[pre + (i, Ellipsis)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.dim)


def unbind(input, dim: int = 0) -> tuple:
    """``torch.unbind``: the views ``input.select(dim, i)`` for every ``i``."""
    _check_tensor(input, "unbind")
    d = _dim_of_nonscalar(dim, input._data.ndim)
    outs = Unbind.apply(input, d)
    return _mark_multi_views(outs, input, "Unbind",
                             [(Select, (d, i)) for i in range(len(outs))])


# ---------------------------------------------------------------------------------------------
# cat / stack and friends
# ---------------------------------------------------------------------------------------------

def _tensor_list(tensors, fname: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


def _promoted(tensors):
    d = tensors[0].dtype
    for t in tensors[1:]:
        d = promote_types(d, t.dtype)
    return d


def _legacy_empty(shape) -> bool:
    """PyTorch's cat skips 1-D empty tensors (the old ``torch.tensor([])`` placeholder)."""
    return len(shape) == 1 and shape[0] == 0


class Cat(Op, name="CatBackward0"):
    @staticmethod
    def forward(ctx, dim, npd, *arrays):
        skip = tuple(_legacy_empty(a.shape) for a in arrays)
        if all(skip):
            skip = (False,) * len(arrays)
        ctx.meta = (dim, tuple(a.shape for a in arrays), skip)
        xp = array_module(arrays[0])
        keep = [a.astype(npd, copy=False) for a, s in zip(arrays, skip) if not s]
        return xp.concatenate(keep, axis=dim)

    @staticmethod
    def backward(ctx, g):
        dim, shapes, skip = ctx.meta
        e = ctx._edges
        grads = [None, None]
        start = 0
        for i, (shp, sk) in enumerate(zip(shapes, skip)):
            if sk:
                grads.append(_util.zeros_like_array(g._data, shp, g._data.dtype)
                             if e[i + 2] else None)
                continue
            n = shp[dim]
            grads.append(Narrow.apply(g, dim, start, n) if e[i + 2] else None)
            start += n
        return tuple(grads)


def _check_out_dtype(out, dt, fname: str) -> None:
    if out is not None and isinstance(out, Tensor) and not _util.can_cast(dt, out.dtype):
        raise TypeError(f"torch.{fname}(): input types can't be cast to the desired output type "
                        f"{_legacy_scalar_name(out.dtype)}")


def cat(tensors, dim: int = 0, *, axis=None, out=None) -> Tensor:
    """``torch.cat``: join along ``dim`` with PyTorch's type promotion across the inputs;
    1-D empty tensors are skipped (legacy behaviour PyTorch keeps)."""
    tensors = _tensor_list(tensors, "cat")
    if axis is not None:
        dim = axis
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    dt = _promoted(tensors)
    ref = next((t for t in tensors if not _legacy_empty(t._data.shape)), None)
    if ref is None:
        d = 0
    else:
        rs = ref._data.shape
        d = wrap_dim(dim, len(rs))
        for i, t in enumerate(tensors):
            s = t._data.shape
            if _legacy_empty(s):
                continue
            if len(s) != len(rs):
                raise RuntimeError(f"Tensors must have same number of dimensions: got {len(rs)} "
                                   f"and {len(s)}")
            for k in range(len(rs)):
                if k != d and s[k] != rs[k]:
                    raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                       f"Expected size {rs[k]} but got size {s[k]} for tensor "
                                       f"number {i} in the list.")
    _util.check_same_device(*tensors)
    _check_out_dtype(out, dt, "cat")
    r = Cat.apply(d, to_numpy_dtype(dt), *tensors)
    return r if out is None else write_out(out, r, "cat")


def concat(tensors, dim: int = 0, *, axis=None, out=None) -> Tensor:
    """``torch.concat``: alias of ``cat``."""
    return cat(tensors, dim, axis=axis, out=out)


def concatenate(tensors, axis: int = 0, *, dim=None, out=None) -> Tensor:
    """``torch.concatenate``: alias of ``cat`` (NumPy's ``axis`` name)."""
    return cat(tensors, axis if dim is None else dim, out=out)


class Stack(Op, name="StackBackward0"):
    @staticmethod
    def forward(ctx, dim, npd, *arrays):
        ctx.dim = dim
        xp = array_module(arrays[0])
        return xp.stack([a.astype(npd, copy=False) for a in arrays], axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (None, None) + tuple(unbind(g, ctx.dim))


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """``torch.stack``: join equally shaped tensors along a new ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = tensors[0]._data.shape
    d = wrap_dim(dim, len(s0) + 1)
    for i, t in enumerate(tensors):
        if t._data.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(s0)} "
                               f"at entry 0 and {list(t._data.shape)} at entry {i}")
    _util.check_same_device(*tensors)
    dt = _promoted(tensors)
    _check_out_dtype(out, dt, "stack")
    r = Stack.apply(d, to_numpy_dtype(dt), *tensors)
    return r if out is None else write_out(out, r, "stack")


def _nonempty(tensors, fname: str) -> list:
    tensors = _tensor_list(tensors, fname)
    if not tensors:
        raise RuntimeError(f"{fname} expects a non-empty TensorList")
    return tensors


def hstack(tensors, *, out=None) -> Tensor:
    """``torch.hstack``: ``cat`` along dim 0 for 1-D inputs, else dim 1 (after atleast_1d)."""
    ts = [atleast_1d(t) for t in _nonempty(tensors, "hstack")]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None) -> Tensor:
    """``torch.vstack``: ``cat`` along dim 0 after ``atleast_2d``."""
    ts = [atleast_2d(t) for t in _nonempty(tensors, "vstack")]
    return cat(ts, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None) -> Tensor:
    """``torch.dstack``: ``cat`` along dim 2 after ``atleast_3d``."""
    ts = [atleast_3d(t) for t in _nonempty(tensors, "dstack")]
    return cat(ts, 2, out=out)


def column_stack(tensors, *, out=None) -> Tensor:
    """``torch.column_stack``: 0-D/1-D inputs become columns, then ``cat`` along dim 1."""
    ts = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t
          for t in _nonempty(tensors, "column_stack")]
    return cat(ts, 1, out=out)


def _atleast(fn, tensors):
    if len(tensors) == 1:
        x = tensors[0]
        if isinstance(x, (list, tuple)):
            return tuple(fn(t) for t in x)
        return fn(x)
    return tuple(fn(t) for t in tensors)


def _atleast_1d(t) -> Tensor:
    _check_tensor(t, "atleast_1d")
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def _atleast_2d(t) -> Tensor:
    _check_tensor(t, "atleast_2d")
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, (1, 1))
    return Unsqueeze.apply(t, 0) if nd == 1 else t


def _atleast_3d(t) -> Tensor:
    _check_tensor(t, "atleast_3d")
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, (1, 1, 1))
    if nd == 1:
        return Unsqueeze.apply(Unsqueeze.apply(t, 0), 2)
    return Unsqueeze.apply(t, 2) if nd == 2 else t


def atleast_1d(*tensors):
    """``torch.atleast_1d``: one tensor in, one out; several (or a sequence) give a tuple."""
    return _atleast(_atleast_1d, tensors)


def atleast_2d(*tensors):
    """``torch.atleast_2d``."""
    return _atleast(_atleast_2d, tensors)


def atleast_3d(*tensors):
    """``torch.atleast_3d``: 1-D inputs of size N become (1, N, 1), 2-D ones (M, N, 1)."""
    return _atleast(_atleast_3d, tensors)


# ---------------------------------------------------------------------------------------------
# repeat / tile / repeat_interleave
# ---------------------------------------------------------------------------------------------

class Repeat(Op, name="RepeatBackward0"):
    @staticmethod
    def forward(ctx, a, reps):
        ctx.in_shape = a.shape
        ctx.reps = reps
        lead = len(reps) - a.ndim
        return array_module(a).tile(a.reshape((1,) * lead + a.shape), reps)

    @staticmethod
    def backward(ctx, g):
        from . import reduction

        reps, in_shape = ctx.reps, ctx.in_shape
        if not reps:
            return g
        padded = (1,) * (len(reps) - len(in_shape)) + tuple(in_shape)
        inter = []
        for r, s in zip(reps, padded):
            inter += [r, s]
        # each repeat is a block: sum the repeat axes of (r0, s0, r1, s1, ...) away
        g = reduction.sum(reshape(g, tuple(inter)), tuple(range(0, 2 * len(reps), 2)))
        return reshape(g, in_shape)


def repeat(self, *sizes) -> Tensor:
    """``Tensor.repeat``: tile the tensor ``sizes`` times (copies; leading new dims allowed)."""
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    if len(sizes) == 1 and isinstance(sizes[0], Tensor):
        raise TypeError("repeat(): argument 'repeats' (position 1) must be tuple of ints, not "
                        "Tensor")
    reps = _varargs(sizes)
    shp = self._data.shape
    if len(reps) < len(shp):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    padded = (1,) * (len(reps) - len(shp)) + tuple(shp)
    out_shape = [r * s for r, s in zip(reps, padded)]
    for n in out_shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                               f"{out_shape}")
    return Repeat.apply(self, reps)


def tile(input, dims) -> Tensor:
    """``torch.tile``: ``repeat`` with ``dims`` padded by leading ones to the tensor's rank."""
    _check_tensor(input, "tile")
    dims = _int_tuple(dims, "tile", "dims", 2)
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, dims)


def _tile_method(self, *dims) -> Tensor:
    return tile(self, _varargs(dims))


class IndexSelect(Op, name="IndexSelectBackward0"):
    @staticmethod
    def forward(ctx, a, dim, idx):
        ctx.args = (a.shape, dim, idx)
        return array_module(a).take(a, idx, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.apply(g, *ctx.args)


class IndexAdd(Op, name="IndexAddBackward0"):
    """Zeros of the input's shape with rows of ``g`` added at ``idx`` along ``dim``."""

    @staticmethod
    def forward(ctx, g, shape, dim, idx):
        from .indexing import index_add_at

        ctx.args = (dim, idx)
        xp = array_module(g)
        z = xp.zeros(shape, dtype=g.dtype)
        index_add_at(xp, z, (slice(None),) * dim + (idx,), g)
        return z

    @staticmethod
    def backward(ctx, gg):
        return IndexSelect.apply(gg, *ctx.args)


def _check_repeats_tensor(reps: Tensor) -> None:
    if reps._data.dtype not in (np.int32, np.int64):
        dev = "cpu" if reps.is_cpu else "cuda"
        raise NotImplementedError(f'"repeat_interleave_{dev}" not implemented for '
                                  f"'{_legacy_scalar_name(reps.dtype)}'")


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """``torch.repeat_interleave``: repeat each element (or slice along ``dim``) ``repeats``
    times. With only a 1-D integer tensor ``repeats``, returns ``arange(len(repeats))``
    repeated accordingly."""
    xp = array_module(_check_tensor(input, "repeat_interleave")._data)
    if repeats is None:
        reps = input
        if reps._data.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        _check_repeats_tensor(reps)
        ra = reps._data
        if ra.size and bool((ra < 0).any()):
            raise RuntimeError("repeats can not be negative")
        total = int(ra.sum())
        if output_size is not None and output_size != total:
            raise RuntimeError("allocated size does not match required size")
        return Tensor._make(xp.repeat(xp.arange(ra.shape[0], dtype=ra.dtype), ra))
    if dim is None:
        input = flatten(input)
        d = 0
    else:
        d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not isinstance(repeats, Tensor):
        r = _as_int(repeats, "repeats")
        if r < 0:
            raise RuntimeError("Repeats must be non-negative")
        if output_size is not None and output_size != n * r:
            raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {n * r} but "
                               f"got {output_size}")
        from .creation import clone, contiguous_format

        if input._data.ndim == 0:
            input = reshape(input, (1,))
        shp = input._data.shape
        x = expand(Unsqueeze.apply(input, d + 1), shp[:d + 1] + (r,) + shp[d + 1:])
        # a contiguous copy of the expanded view, then a view merging the repeat axis
        x = clone(x, memory_format=contiguous_format)
        return reshape(x, shp[:d] + (shp[d] * r,) + shp[d + 1:])
    ra = repeats._data
    if ra.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    _check_repeats_tensor(repeats)
    if ra.size == 1:
        ra = xp.full((n,), int(repeats.item()), dtype=np.int64)
    elif ra.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {ra.shape[0]} and input.size({d}) = {n}")
    if ra.size and bool((ra < 0).any()):
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and output_size != int(ra.sum()):
        raise RuntimeError("allocated size does not match required size")
    if type(ra) is not type(input._data):
        from .._backend import to_device

        ra = to_device(ra, input.device)
    idx = xp.repeat(xp.arange(n, dtype=np.int64), ra)
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    return IndexSelect.apply(input, d, idx)


def _repeat_interleave_method(self, repeats, dim=None, *, output_size=None) -> Tensor:
    return repeat_interleave(self, repeats, dim, output_size=output_size)


# ---------------------------------------------------------------------------------------------
# flip / roll / rot90
# ---------------------------------------------------------------------------------------------

class Flip(Op, name="FlipBackward0"):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return array_module(a).flip(a, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims)


def flip(input, dims) -> Tensor:
    """``torch.flip``: a reversed copy (PyTorch has no negative strides)."""
    _check_tensor(input, "flip")
    dims = _int_tuple(dims, "flip", "dims", 2)
    nd = input._data.ndim
    dims = _util.wrap_dims(dims, nd)
    return Flip.apply(input, dims if nd else ())


def _flip_method(self, *dims) -> Tensor:
    return flip(self, _varargs(dims))


def fliplr(input) -> Tensor:
    """``torch.fliplr``: flip dim 1."""
    if _check_tensor(input, "fliplr")._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


def flipud(input) -> Tensor:
    """``torch.flipud``: flip dim 0."""
    if _check_tensor(input, "flipud")._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


class Roll(Op, name="RollBackward0"):
    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.args = (shifts, dims)
        xp = array_module(a)
        if dims is None:
            return xp.roll(a, shifts[0])
        return xp.roll(a, shifts, axis=dims)

    @staticmethod
    def backward(ctx, g):
        shifts, dims = ctx.args
        return Roll.apply(g, tuple(-s for s in shifts), dims)


def roll(input, shifts, dims=None) -> Tensor:
    """``torch.roll``: rotate elements along ``dims`` (or the flattened tensor)."""
    _check_tensor(input, "roll")
    shifts = (_as_int(shifts, "shifts"),) if not isinstance(shifts, (list, tuple)) \
        else tuple(_as_int(s, "shifts") for s in shifts)
    if dims is None:
        dims = ()
    dims = (_as_int(dims, "dims"),) if not isinstance(dims, (list, tuple)) \
        else tuple(_as_int(d, "dims") for d in dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims and len(shifts) == 1:
        return Roll.apply(input, shifts, None)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    nd = input._data.ndim
    return Roll.apply(input, shifts, tuple(_dim_of_nonscalar(d, nd) for d in dims))


class Rot90(Op, name="Rot90Backward0"):
    @staticmethod
    def forward(ctx, a, k, d0, d1):
        ctx.args = (k, d0, d1)
        xp = array_module(a)
        k %= 4
        # same layouts as PyTorch: a flipped copy, transposed for odd k
        if k == 1:
            return xp.flip(a, d1).copy().swapaxes(d0, d1)
        if k == 2:
            return xp.flip(a, (d0, d1)).copy()
        if k == 3:
            return xp.flip(a, d0).copy().swapaxes(d0, d1)
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        k, d0, d1 = ctx.args
        return Rot90.apply(g, -k, d0, d1)


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:
    """``torch.rot90``: rotate by 90 degrees ``k`` times in the plane of ``dims``."""
    _check_tensor(input, "rot90")
    dims = _int_tuple(dims, "rot90", "dims", 3)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    return Rot90.apply(input, _as_int(k, "k"), d0, d1)


# ---------------------------------------------------------------------------------------------
# triangular parts
# ---------------------------------------------------------------------------------------------

def _tri_keep(xp, shape, k: int, lower: bool):
    m, n = shape[-2:]
    off = xp.arange(n)[None, :] - xp.arange(m)[:, None]  # column minus row
    return off <= k if lower else off >= k


class Tril(Op, name="TrilBackward0"):
    lower = True

    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        xp = array_module(a)
        return xp.where(_tri_keep(xp, a.shape, k, ctx.lower), a, xp.zeros((), dtype=a.dtype))

    @staticmethod
    def backward(ctx, g):
        return type(ctx).apply(g, ctx.k)


class Triu(Tril, name="TriuBackward0"):
    lower = False


def _check_tri(input, fname: str) -> None:
    if _check_tensor(input, fname)._data.ndim < 2:
        raise RuntimeError(f"{fname}: input tensor must have at least 2 dimensions")


def tril(input, diagonal: int = 0, *, out=None) -> Tensor:
    """``torch.tril``: zero the elements above the ``diagonal``-th diagonal."""
    _check_tri(input, "tril")
    r = Tril.apply(input, _as_int(diagonal, "diagonal"))
    return r if out is None else write_out(out, r, "tril")


def triu(input, diagonal: int = 0, *, out=None) -> Tensor:
    """``torch.triu``: zero the elements below the ``diagonal``-th diagonal."""
    _check_tri(input, "triu")
    r = Triu.apply(input, _as_int(diagonal, "diagonal"))
    return r if out is None else write_out(out, r, "triu")


def tril_(self, diagonal: int = 0) -> Tensor:
    """``Tensor.tril_``."""
    _check_tri(self, "tril")
    _util.check_inplace(self)
    return _util.inplace(self, Tril.apply(self, _as_int(diagonal, "diagonal")), "tril_")


def triu_(self, diagonal: int = 0) -> Tensor:
    """``Tensor.triu_``."""
    _check_tri(self, "triu")
    _util.check_inplace(self)
    return _util.inplace(self, Triu.apply(self, _as_int(diagonal, "diagonal")), "triu_")


def _tri_indices(row, col, offset, dtype, device, lower: bool) -> Tensor:
    from .creation import _device, _xp

    row, col, offset = _as_int(row, "row"), _as_int(col, "col"), _as_int(offset, "offset")
    d = _dtype.int64 if dtype is None else dtype
    fname = "tril_indices" if lower else "triu_indices"
    if d.is_floating_point or d.is_complex or d is _dtype.bool:
        raise NotImplementedError(f'"{fname}" not implemented for '
                                  f"'{_legacy_scalar_name(d)}'")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    xp = _xp(_device(device))
    rows, cols = (xp.tril_indices if lower else xp.triu_indices)(row, offset, col)
    return Tensor._make(xp.stack([rows, cols]).astype(to_numpy_dtype(d)).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """``torch.tril_indices``: row-major coordinates of the lower triangle of a row x col
    matrix, as a 2 x N tensor."""
    return _tri_indices(row, col, offset, dtype, device, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """``torch.triu_indices``: row-major coordinates of the upper triangle."""
    return _tri_indices(row, col, offset, dtype, device, False)


# ---------------------------------------------------------------------------------------------
# diagonals
# ---------------------------------------------------------------------------------------------

def _diagonal_array(a, offset: int, d1: int, d2: int):
    shape, st = a.shape, _el_strides(a)
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        n = max(0, min(n1, n2 - offset))
        start = offset * st[d2]
    else:
        n = max(0, min(n1 + offset, n2))
        start = -offset * st[d1]
    if n == 0:
        start = 0
    keep = [i for i in range(len(shape)) if i not in (d1, d2)]
    return _strided(a, tuple(shape[i] for i in keep) + (n,),
                    tuple(st[i] for i in keep) + (st[d1] + st[d2],), _storage(a)[1] + start)


class Diagonal(Op, name="DiagonalBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        ctx.args = (a.shape, offset, d1, d2)
        return _diagonal_array(a, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return DiagonalGrad.apply(g, *ctx.args)


class DiagEmbed(Op, name="DiagEmbedBackward0"):
    """Zeros of ``shape`` whose (offset, d1, d2) diagonal holds the input's last dim."""

    @staticmethod
    def forward(ctx, a, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        z = array_module(a).zeros(shape, dtype=a.dtype)
        _diagonal_array(z, offset, d1, d2)[...] = a
        return z

    @staticmethod
    def backward(ctx, g):
        return Diagonal.apply(g, *ctx.args)


class DiagonalGrad(DiagEmbed, name="DiagonalBackwardBackward0"):
    pass


class DiagonalCopy(Op, name="DiagonalBackward0_copy"):
    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        ctx.args = (a.shape, offset, d1, d2)
        return _diagonal_array(a, offset, d1, d2).copy()

    @staticmethod
    def backward(ctx, g):
        return DiagonalGrad.apply(g, *ctx.args)


def _diag_dims(dim1, dim2, nd: int) -> tuple:
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``torch.diagonal``: a view of the ``offset`` diagonal of the (dim1, dim2) planes,
    appended as the last dim."""
    _check_tensor(input, "diagonal")
    d1, d2 = _diag_dims(dim1, dim2, input._data.ndim)
    return Diagonal.apply(input, _as_int(offset, "offset"), d1, d2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.diag_embed``: put the last dim of ``input`` on the diagonal of new
    (dim1, dim2) planes."""
    _check_tensor(input, "diag_embed")
    shp = input._data.shape
    d1, d2 = _diag_dims(dim1, dim2, len(shp) + 1)
    offset = _as_int(offset, "offset")
    n = (shp[-1] if shp else 1) + abs(offset)
    out = list(shp[:-1])
    for d in sorted((d1, d2)):
        out.insert(d, n)
    return DiagEmbed.apply(input, tuple(out), offset, d1, d2)


def diag(input, diagonal: int = 0, *, out=None) -> Tensor:
    """``torch.diag``: a 1-D input gives a square matrix with it on the ``diagonal``-th
    diagonal; a 2-D input gives that diagonal (a copy)."""
    _check_tensor(input, "diag")
    nd = input._data.ndim
    k = _as_int(diagonal, "diagonal")
    if nd == 1:
        r = diag_embed(input, k, 0, 1)
    elif nd == 2:
        r = DiagonalCopy.apply(input, k, 0, 1)
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    return r if out is None else write_out(out, r, "diag")


def diagflat(input, offset: int = 0) -> Tensor:
    """``torch.diagflat``: the flattened input on the ``offset`` diagonal of a square matrix."""
    _check_tensor(input, "diagflat")
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


# ---------------------------------------------------------------------------------------------
# movedim
# ---------------------------------------------------------------------------------------------

def movedim(input, source, destination) -> Tensor:
    """``torch.movedim``: move dims ``source`` to positions ``destination`` (a permute view)."""
    _check_tensor(input, "movedim")
    src = [source] if not isinstance(source, (list, tuple)) else list(source)
    dst = [destination] if not isinstance(destination, (list, tuple)) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    nd = input._data.ndim
    ws = [wrap_dim(d, nd) for d in src]
    wd = [wrap_dim(d, nd) for d in dst]
    if len(set(ws)) != len(ws):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(wd)) != len(wd):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if nd == 0:  # dims 0/-1 of a 0-d tensor: nothing moves
        return Permute.apply(input, ())
    order = [i for i in range(nd) if i not in ws]
    for d, s in sorted(zip(wd, ws)):
        order.insert(d, s)
    return Permute.apply(input, tuple(order))


moveaxis = movedim


# ---------------------------------------------------------------------------------------------
# meshgrid
# ---------------------------------------------------------------------------------------------

def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """``torch.meshgrid``: expanded views of 0-D/1-D tensors over their product grid. Without
    ``indexing`` PyTorch warns and uses 'ij'; 'xy' swaps the first two axes."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensor_list(list(tensors), "meshgrid")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f"{indexing}")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a {t._data.ndim}-D tensor of shape {list(t._data.shape)}")
    d0 = tensors[0].dtype
    if any(t.dtype is not d0 for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if any(t.device != tensors[0].device for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same device")
    swap = indexing == "xy" and len(tensors) >= 2
    ts = list(tensors)
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.size for t in ts)
    n = len(ts)
    grids = [Expand.apply(reshape(t, tuple(-1 if j == i else 1 for j in range(n))), shape)
             for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# ---------------------------------------------------------------------------------------------
# unfold / as_strided
# ---------------------------------------------------------------------------------------------

def _unfold_array(a, dim: int, size: int, step: int):
    if a.ndim == 0:
        return _strided(a, (size,), (1,), _storage(a)[1])
    st = _el_strides(a)
    nwin = (a.shape[dim] - size) // step + 1
    shape = a.shape[:dim] + (nwin,) + a.shape[dim + 1:] + (size,)
    strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
    return _strided(a, shape, strides, _storage(a)[1])


class Unfold(Op, name="UnfoldBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, dim, size, step):
        ctx.args = (a.shape, dim, size, step)
        return _unfold_array(a, dim, size, step)

    @staticmethod
    def backward(ctx, g):
        return UnfoldGrad.apply(g, *ctx.args)


class UnfoldGrad(Op, name="UnfoldBackwardBackward0"):
    """Sum the windows back into the input's shape (overlapping windows add up)."""

    @staticmethod
    def forward(ctx, g, shape, dim, size, step):
        ctx.args = (dim, size, step)
        xp = array_module(g)
        if len(shape) == 0:
            return g.reshape(()).copy() if size else xp.zeros((), dtype=g.dtype)
        z = xp.zeros(shape, dtype=g.dtype)
        if step >= size:
            _unfold_array(z, dim, size, step)[...] = g  # windows are disjoint
        else:
            from .indexing import index_add_at

            nwin = g.shape[dim]
            pos = xp.arange(nwin)[:, None] * step + xp.arange(size)[None, :]
            index_add_at(xp, xp.moveaxis(z, dim, -1), (Ellipsis, pos), xp.moveaxis(g, dim, -2))
        return z

    @staticmethod
    def backward(ctx, gg):
        return Unfold.apply(gg, *ctx.args)


def unfold(self, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: a view of all windows of ``size`` elements, ``step`` apart, along
    ``dimension`` (the windows form a new last dim)."""
    nd = self._data.ndim
    d = wrap_dim(dimension, nd)
    size, step = _as_int(size, "size"), _as_int(step, "step")
    max_size = self._data.shape[d] if nd else 1
    if size > max_size:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {max_size} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return Unfold.apply(self, d, size, step)


class AsStrided(Op, name="AsStridedBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a, size, stride, offset):
        if ctx._edges and ctx._edges[0]:
            _, a_off = _storage(a)
            ctx.geo = (a.shape, _el_strides(a), a_off, size, stride, offset)
        return _strided(a, size, stride, offset)

    @staticmethod
    def backward(ctx, g):
        in_shape, in_st, in_off, size, stride, offset = ctx.geo
        xp = array_module(g._data)
        src = _geom_index(xp, size, stride, offset)
        dst = _geom_index(xp, in_shape, in_st, in_off)
        # (CuPy's max has no `initial`: empty index arrays count as position 0)
        n = max(int(src.max()) if src.size else 0, int(dst.max()) if dst.size else 0) + 1
        scale = None
        if dst.size:
            count = xp.bincount(dst.ravel(), minlength=n)
            if int(count.max()) > 1:
                # the input reaches some memory more than once: share that gradient (PyTorch)
                scale = xp.where(count > 0, 1.0 / xp.maximum(count, 1), 0.0).astype(g._data.dtype)
        return StridedMap.apply(g, src, dst, n, scale)


class StridedMap(Op, name="AsStridedBackwardBackward0"):
    """Scatter-add ``g`` into a flat storage at ``src``, scale, gather at ``dst``; its own
    transpose is the same map with ``src`` and ``dst`` swapped."""

    @staticmethod
    def forward(ctx, g, src, dst, n, scale):
        from .indexing import index_add_at

        ctx.args = (src, dst, n, scale)
        xp = array_module(g)
        s = xp.zeros(n, dtype=g.dtype)
        index_add_at(xp, s, src.ravel(), g.ravel())
        if scale is not None:
            s *= scale
        return s[dst]

    @staticmethod
    def backward(ctx, gg):
        src, dst, n, scale = ctx.args
        return StridedMap.apply(gg, dst, src, n, scale)


def as_strided(input, size, stride, storage_offset=None) -> Tensor:
    """``torch.as_strided``: a view of the input's storage with the given size, element
    strides and storage offset (default: the input's own offset)."""
    _check_tensor(input, "as_strided")
    size = _int_tuple(size, "as_strided", "size", 2)
    stride = _int_tuple(stride, "as_strided", "stride", 3)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    for n in size:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                               f"{list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    a = input._data
    root, own = _storage(a)
    offset = own if storage_offset is None else _as_int(storage_offset, "storage_offset")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    isz = a.dtype.itemsize
    need = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    have = _storage_numel(root)
    if need > have:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {isz} requiring a storage size of "
                           f"{need * isz} are out of bounds for storage of size {have * isz}")
    return AsStrided.apply(input, size, stride, offset)


# ---------------------------------------------------------------------------------------------
# resize_
# ---------------------------------------------------------------------------------------------

def resize_(self, *sizes, memory_format=None) -> Tensor:
    """``Tensor.resize_``: reshape in place to a contiguous layout over the same storage,
    growing the storage when needed (new elements are uninitialized). Not differentiable.

    Differs from PyTorch in one case: when the storage has to grow, other views of the old
    storage keep the old memory instead of following the tensor to the new one."""
    if memory_format is not None and str(memory_format) != "torch.contiguous_format":
        raise NotImplementedError(f"resize_: memory_format={memory_format} is not supported by "
                                  "ember (only contiguous_format)")
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _varargs(sizes)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"numel: integer multiplication overflow (negative size in "
                           f"{list(shape)})")
    a = self._data
    if a.shape == shape:
        return self
    numel = math.prod(shape)
    root, off = _storage(a)
    have = _storage_numel(root)
    if off + numel > have:
        xp = array_module(a)
        grown = xp.empty(off + numel, dtype=a.dtype)
        if have:
            grown[:have] = xp.lib.stride_tricks.as_strided(root, (have,), (a.dtype.itemsize,))
        a = grown
    self._data = _strided(a, shape, _contig(shape), off)
    self._bump_version()
    return self


def _contig(shape) -> tuple:
    st = []
    acc = 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st))


def resize_as_(self, the_template, memory_format=None) -> Tensor:
    """``Tensor.resize_as_``: ``resize_`` to the template's shape."""
    return resize_(self, tuple(the_template._data.shape), memory_format=memory_format)


METHODS = {
    "view": view, "reshape": reshape, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "ravel": ravel, "unsqueeze": unsqueeze,
    "squeeze": squeeze, "unsqueeze_": unsqueeze_, "squeeze_": squeeze_,
    "permute": permute, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
    "transpose_": transpose_, "swapaxes_": transpose_, "swapdims_": transpose_,
    "t": t, "t_": t_, "expand": expand, "expand_as": expand_as, "broadcast_to": broadcast_to,
    "T": property(_T), "mT": property(_mT), "H": property(_H), "mH": property(_mH),
    "adjoint": adjoint,
    "split": split, "split_with_sizes": split_with_sizes, "tensor_split": tensor_split,
    "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit, "chunk": chunk, "unbind": unbind,
    "narrow": narrow, "select": select, "repeat": repeat, "tile": _tile_method,
    "repeat_interleave": _repeat_interleave_method, "flip": _flip_method, "fliplr": fliplr,
    "flipud": flipud, "roll": roll, "rot90": rot90, "tril": tril, "triu": triu, "tril_": tril_,
    "triu_": triu_, "diagonal": diagonal, "diag": diag, "diag_embed": diag_embed,
    "diagflat": diagflat, "movedim": movedim, "moveaxis": movedim, "unfold": unfold,
    "as_strided": as_strided, "resize_": resize_, "resize_as_": resize_as_,
}
