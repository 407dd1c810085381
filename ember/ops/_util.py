"""Shared machinery for ops: type promotion, argument checks, in-place writes and ``out=``."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import _backend, _dtype
from .._dtype import _FROM_NP, promote_types
from .._tensor import Tensor, _legacy_scalar_name
from ..autograd.function import Op, replay_view
from ..autograd.grad_mode import state as _state
from ..autograd.graph import Node, edge_of, move_tensor_state

_ndarray = np.ndarray
_new = object.__new__

# ---------------------------------------------------------------------------------------------
# dims
# ---------------------------------------------------------------------------------------------


def wrap_dim(dim: int, ndim: int) -> int:
    """Normalize a possibly negative dim; raises PyTorch's IndexError when out of range."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        if isinstance(dim, Tensor) and dim.numel() == 1:
            dim = int(dim.item())
        else:
            raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but "
                         f"got {dim})")
    return int(dim) % ndim if ndim else 0


def wrap_dims(dims, ndim: int) -> tuple:
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        dup = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return out


def parse_shape(args) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(torch.Size(...))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    try:
        shape = tuple(int(s) if not isinstance(s, Tensor) else int(s.item()) for s in args)
    except TypeError:
        bad = next(s for s in args if not isinstance(s, (int, np.integer, Tensor)))
        raise TypeError(f"expected a sequence of integers or a single integer, got "
                        f"'{type(bad).__name__}'") from None
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
    return shape


# ---------------------------------------------------------------------------------------------
# type promotion (PyTorch's result_type: dimensioned tensors > zero-dim tensors > Python numbers)
# ---------------------------------------------------------------------------------------------

def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is _dtype.bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(s):
    """The dtype PyTorch gives a Python number when it takes part in promotion."""
    if isinstance(s, bool):
        return _dtype.bool
    if isinstance(s, numbers.Integral):
        return _dtype.int64
    if isinstance(s, numbers.Real):
        return _dtype.get_default_dtype()
    if isinstance(s, numbers.Complex):
        return _dtype.default_complex_dtype()
    raise TypeError(f"unsupported operand type: {type(s).__name__}")


def result_type(*operands) -> _dtype.dtype:
    """``torch.result_type`` generalised to any number of tensors and Python numbers."""
    dim_r = zero_r = wrapped = None
    for a in operands:
        if isinstance(a, Tensor):
            d = _FROM_NP[a._data.dtype]
            if a._data.ndim:
                dim_r = d if dim_r is None else promote_types(dim_r, d)
            else:
                zero_r = d if zero_r is None else promote_types(zero_r, d)
        elif a is None:
            continue
        else:
            d = scalar_dtype(a)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim_r, _combine(zero_r, wrapped))


def can_cast(from_: _dtype.dtype, to: _dtype.dtype) -> bool:
    """``torch.can_cast``: same-kind casting (no float->int, complex->real, number->bool)."""
    if from_.is_complex and not to.is_complex:
        return False
    if from_.is_floating_point and not (to.is_floating_point or to.is_complex):
        return False
    if from_ is not _dtype.bool and to is _dtype.bool:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# errors phrased like PyTorch's
# ---------------------------------------------------------------------------------------------

def broadcast_shapes_or_raise(*shapes) -> tuple:
    """Broadcast shapes with PyTorch's error message on mismatch."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        off = ndim - len(s)
        for i, n in enumerate(s):
            j = i + off
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise RuntimeError(_broadcast_msg(shapes, ndim))
    return tuple(out)


def _broadcast_msg(shapes, ndim) -> str:
    a, b = shapes[0], shapes[1] if len(shapes) > 1 else shapes[0]
    for k in range(len(shapes)):
        for m in range(k + 1, len(shapes)):
            a, b = shapes[k], shapes[m]
            for i in range(ndim - 1, -1, -1):
                off = ndim - 1 - i
                sa = a[len(a) - 1 - off] if len(a) - 1 - off >= 0 else 1
                sb = b[len(b) - 1 - off] if len(b) - 1 - off >= 0 else 1
                if sa != sb and sa != 1 and sb != 1:
                    return (f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                            f"at non-singleton dimension {i}")
    return f"shapes {[list(s) for s in shapes]} cannot be broadcast together"


def check_same_device(*tensors) -> None:
    """PyTorch's error for tensors on different devices (0-d CPU tensors are allowed)."""
    for t in tensors:
        if isinstance(t, Tensor) and type(t._data) is not _ndarray:
            break
    else:
        return  # all on the CPU: the common case, without building device objects
    kind = None
    for t in tensors:
        if isinstance(t, Tensor):
            cpu = type(t._data) is _ndarray
            if cpu and t._data.ndim == 0:
                continue
            d = t.device
            if kind is None:
                kind = d
            elif d != kind:
                raise RuntimeError("Expected all tensors to be on the same device, but found at "
                                   f"least two devices, {kind} and {d}!")


def same_device(x: Tensor, y: Tensor):
    """x and y on one device: a 0-d CPU operand moves to the other's GPU (PyTorch allows
    that); any other mix raises PyTorch's device error."""
    xa, ya = x._data, y._data
    if type(xa) is type(ya) and (type(xa) is _ndarray or xa.device.id == ya.device.id):
        return x, y
    from .creation import to_device

    if type(ya) is _ndarray and ya.ndim == 0:
        return x, to_device(y, x.device)
    if type(xa) is _ndarray and xa.ndim == 0:
        return to_device(x, y.device), y
    check_same_device(x, y)
    return x, y


def dtype_name(d) -> str:
    return _legacy_scalar_name(d)


# ---------------------------------------------------------------------------------------------
# conversions used throughout ops
# ---------------------------------------------------------------------------------------------

def as_tensor_like(value, like: Tensor, dtype=None) -> Tensor:
    """A tensor for ``value`` (number, list, array or tensor) on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    xp = _backend.array_module(like._data)
    if dtype is None:
        if isinstance(value, (numbers.Number, np.generic)):
            dtype = scalar_dtype(value)
            arr = xp.asarray(value, dtype=_dtype.to_numpy_dtype(dtype))
            return Tensor._make(arr)
        from .creation import tensor as _tensor_fn

        t = _tensor_fn(value)
        return Tensor._make(_backend.to_device(t._data, like.device)) if not like.is_cpu else t
    arr = xp.asarray(value, dtype=_dtype.to_numpy_dtype(dtype))
    return Tensor._make(arr)


class Cast(Op, name="ToCopyBackward0"):
    @staticmethod
    def forward(ctx, a, np_dtype):
        ctx.src = a.dtype
        if a.dtype.kind == "c" and np.dtype(np_dtype).kind != "c":
            if np.dtype(np_dtype) == np.bool_:  # nonzero test, silently (PyTorch)
                return a != 0
            # PyTorch's UserWarning, instead of NumPy's ComplexWarning
            warnings.warn("Casting complex values to real discards the imaginary part",
                          UserWarning, stacklevel=5)
            return a.real.astype(np_dtype)
        return a.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        if g._data.dtype.kind == "c" and ctx.src.kind != "c":
            # real -> complex forward: the gradient is the real part (silently, as in PyTorch)
            from .pointwise import real

            g = real(g)
        return cast(g, ctx.src), None


def cast(t: Tensor, dtype) -> Tensor:
    """Differentiable dtype conversion (``dtype`` an ember or NumPy dtype); no-op if equal."""
    npd = dtype if isinstance(dtype, np.dtype) else _dtype.to_numpy_dtype(dtype)
    if t._data.dtype == npd:
        return t
    return Cast.apply(t, npd)


def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Sum ``g`` down to ``shape`` (undoing broadcasting), differentiably."""
    from . import reduction
    from . import shape as _shape

    gs = g._data.shape
    lead = len(gs) - len(shape)
    dims = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and gs[i + lead] != 1:
            dims.append(i + lead)
    if dims and not _state.enabled and type(g._data) is np.ndarray \
            and g._data.dtype in (np.float32, np.float64):
        # no graph wanted: one sum straight to ``shape``, a fresh array that .grad can take
        # as is (a keepdim sum then a reshape view was copied by the engine)
        a = g._data.sum(axis=tuple(dims), keepdims=True)
        return Tensor._make(a.reshape(shape))
    if dims:
        g = reduction.sum(g, tuple(dims), keepdim=True)
    if lead:
        g = _shape.reshape(g, shape)
    elif g._data.shape != tuple(shape):
        g = _shape.reshape(g, shape)
    return g


def zeros_like_array(like, shape, np_dtype) -> Tensor:
    xp = _backend.array_module(like)
    return Tensor._make(xp.zeros(shape, dtype=np_dtype))


def ones_like_tensor(t: Tensor) -> Tensor:
    xp = _backend.array_module(t._data)
    return Tensor._make(xp.ones(t._data.shape, dtype=t._data.dtype))


def zeros_like_tensor(t: Tensor) -> Tensor:
    xp = _backend.array_module(t._data)
    return Tensor._make(xp.zeros(t._data.shape, dtype=t._data.dtype))


def full_like_tensor(t: Tensor, value) -> Tensor:
    xp = _backend.array_module(t._data)
    return Tensor._make(xp.full(t._data.shape, value, dtype=t._data.dtype))


# ---------------------------------------------------------------------------------------------
# in-place writes
# ---------------------------------------------------------------------------------------------

_OVERLAP_MSG = ("unsupported operation: more than one element of the written-to tensor refers to "
                "a single memory location. Please clone() the tensor before performing the "
                "operation.")


def check_inplace(target: Tensor) -> None:
    """PyTorch's checks before an in-place op on ``target`` (raised before anything changes)."""
    if _state.enabled:
        if target._rg and target._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        base = target._base
        # (detach() and aliases share a base but are not differentiable views: PyTorch allows
        # x.detach().add_(1) on a leaf)
        if base is not None and target._view_fn is not None and base._rg and \
                base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
    if target._inference and not _state.inference:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
                           "details.")
    a = target._data
    if not getattr(a.flags, "writeable", True):  # (CuPy arrays have no such flag)
        if a.size and any(s == 0 and n > 1 for n, s in zip(a.shape, a.strides)):
            raise RuntimeError(_OVERLAP_MSG)
        if not _writeable_again(a):
            raise RuntimeError("ember: cannot write to this tensor: its NumPy array is read-only "
                               "(e.g. from_numpy() of a read-only array); clone() it first")


def _writeable_again(a) -> bool:
    """NumPy keeps views of a read-only (expanded, overlapping) array read-only; a view whose
    own elements are distinct may be written, as in PyTorch, when its storage is writeable."""
    root = a
    while isinstance(root.base, _ndarray):
        root = root.base
    if not root.flags.writeable:
        return False
    try:
        a.flags.writeable = True
    except ValueError:
        return False
    return True


def inplace(target: Tensor, result: Tensor, name: str = "") -> Tensor:
    """Write an out-of-place ``result`` (computed from ``target``) into ``target``'s storage and
    make ``target`` take ``result``'s place in the graph (rebasing a view's base via
    CopySlices), as PyTorch's in-place ops do."""
    td, rd = target._data, result._data
    if result._grad_fn is not None and "_multi_view" in target.__dict__:
        # an output of split/chunk/unbind: PyTorch refuses in-place ops that need autograd
        raise RuntimeError(target._multi_view)
    if rd.shape != td.shape:
        raise RuntimeError(f"output with shape {list(td.shape)} doesn't match the broadcast shape "
                           f"{list(rd.shape)}")
    if rd.dtype != td.dtype:
        rdt, tdt = _FROM_NP[rd.dtype], _FROM_NP[td.dtype]
        if not can_cast(rdt, tdt):
            raise RuntimeError(f"result type {dtype_name(rdt)} can't be cast to the desired output "
                               f"type {dtype_name(tdt)}")
    node = result._grad_fn
    if node is not None and node._saved:
        _snapshot_saved_target(node, target)
    if rd is not td:
        if td.ndim == 0 and type(td) is _ndarray:
            td[()] = rd
        else:
            td[...] = rd
    target._bump_version()
    if node is not None:
        _rebase(target, node)
    return target


def _snapshot_saved_target(node: Node, target: Tensor) -> None:
    """The op saved ``target`` itself; keep a copy of its old value (PyTorch's original_self)."""
    saved = node._saved
    for i, e in enumerate(saved):
        if e is not None and e[0] == "t" and e[1] is target:
            twin = Tensor._make(target._data.copy(), target._rg, target._grad_fn)
            if target._out_nr:
                twin._out_nr = target._out_nr
            saved[i] = ("t", twin, [0], 0)


def _rebase(target: Tensor, node: Node, nr: int = 0) -> None:
    """Make ``target`` (just written in place) output ``nr`` of ``node``; a differentiable view
    instead rebases its base through CopySlices."""
    vc = target._version_counter()
    saved = node._saved
    if saved:
        for i, e in enumerate(saved):
            if e is not None and e[0] == "o":
                saved[i] = ("o", target._data, 0, vc, vc[0])
    base = target._base
    if base is None or target._view_fn is None:  # not a differentiable view
        old_fn, old_nr = target._grad_fn, target._out_nr
        target._grad_fn = node
        target._rg = True
        if old_nr != nr:
            target._out_nr = nr
        move_tensor_state(target, old_fn, old_nr)
        return
    cs = CopySlices()
    cs._edges = (edge_of(base) if base._rg else None,
                 (node, nr, target._data.shape, target._data.dtype))
    cs.view_fn = target._view_fn
    cs.base_meta = (base._data.shape, base._data.dtype)
    old_fn, old_nr = base._grad_fn, base._out_nr
    base._grad_fn = cs
    base._rg = True
    if old_nr:
        base._out_nr = 0
    move_tensor_state(base, old_fn, old_nr)
    prev = _state.enabled
    _state.enabled = True
    try:
        v = replay_view(target._view_fn, base)
    finally:
        _state.enabled = prev
    target._grad_fn = v._grad_fn
    target._rg = True
    target._out_nr = v._out_nr
    target._gf_ver = vc[0]


class CopySlices(Node):
    """Backward of writing into a view of ``base``: the view's region of the base gradient goes
    to the new values, the rest passes through to the base's old value."""

    def name(self) -> str:
        return "torch::autograd::CopySlices"  # PyTorch's C++ node name

    def __repr__(self) -> str:
        return f"<CopySlices object at {hex(id(self))}>"

    def _call(self, grads):
        g = grads[0]
        shape, dt = self.base_meta
        xp = _backend.array_module(g._data)
        mask = Tensor._make(xp.ones(shape, dtype=dt))
        prev = _state.enabled
        _state.enabled = False
        try:
            replay_view(self.view_fn, mask)._data[...] = 0
        finally:
            _state.enabled = prev
        return g * mask, replay_view(self.view_fn, g)


def write_out(out: Tensor, result: Tensor, fname: str) -> Tensor:
    """Implement ``out=``: copy ``result`` into ``out`` (resizing it like PyTorch does)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _state.enabled and (result._rg or out._rg):
        raise RuntimeError(f"{fname}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    rd, od = result._data, out._data
    rdt, odt = _FROM_NP[rd.dtype], _FROM_NP[od.dtype]
    if rdt is not odt and not can_cast(rdt, odt):
        raise RuntimeError(f"result type {dtype_name(rdt)} can't be cast to the desired output "
                           f"type {dtype_name(odt)}")
    if od.shape != rd.shape:
        if od.size != 0:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(od.shape)}, which does not match the required output shape "
                f"{list(rd.shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=3)
        out._data = rd.astype(od.dtype, copy=True)
    else:
        od[...] = rd
    out._bump_version()
    return out


def to_number(x):
    """A Python number from a Python number or a one-element tensor."""
    if isinstance(x, Tensor):
        return x.item()
    return x
