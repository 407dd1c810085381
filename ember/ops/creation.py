"""Tensor creation and copies: ``tensor``, ``zeros``, ``arange``, ``clone``, ``to``, ...

Follows PyTorch's dtype inference: Python floats give the default dtype, ints give int64,
bools give bool; NumPy arrays keep their dtype.
"""

from __future__ import annotations

import builtins
import math
import numbers
import warnings

import numpy as np

from .. import _backend, _dtype
from .._backend import CPU, array_module
from .._dtype import from_numpy_dtype, to_numpy_dtype
from .._tensor import (
    Size,
    Tensor,
    channels_last,
    channels_last_3d,
    contiguous_format,
    legacy_type_name,
    preserve_format,
)
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _ranges, _util
from ._util import write_out

__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
    "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range", "linspace",
    "logspace", "eye", "clone", "empty_strided", "scalar_tensor", "frombuffer",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor",
    "ShortTensor", "IntTensor", "LongTensor", "BoolTensor",
]



# ---------------------------------------------------------------------------------------------
# argument helpers
# ---------------------------------------------------------------------------------------------

def _device(device) -> _backend.device:
    if device is None:
        return _default_device()
    d = _backend.device(device)
    if d.type == "cuda":
        return _backend.canonical_device(d)
    if d.type == "meta":
        raise NotImplementedError("ember has no 'meta' device")
    return d


_default_device_value = [CPU]


def _default_device() -> _backend.device:
    return _default_device_value[0]


def set_default_device(device) -> None:
    """``torch.set_default_device``: where factory functions put new tensors."""
    _default_device_value[0] = CPU if device is None else _device(device)


def get_default_device() -> _backend.device:
    return _default_device_value[0]


def _xp(device: _backend.device):
    return np if device.type == "cpu" else _backend.module_for(device)


def _finish(arr, requires_grad: bool, device=None) -> Tensor:
    if device is not None and device.type != "cpu":
        arr = _backend.to_device(arr, device)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    if _state.inference:
        t._inference = True
    return t


def _np_dtype(dtype, default=None):
    if dtype is None:
        dtype = default if default is not None else _dtype.get_default_dtype()
    if isinstance(dtype, _dtype.dtype):
        return to_numpy_dtype(dtype)
    if isinstance(dtype, type) and issubclass(dtype, Tensor):
        return to_numpy_dtype(getattr(dtype, "_legacy_dtype", _dtype.get_default_dtype()))
    return np.dtype(dtype)  # a NumPy dtype or type, accepted for convenience


# ---------------------------------------------------------------------------------------------
# tensor / as_tensor / from_numpy
# ---------------------------------------------------------------------------------------------

_SEQUENCES = (list, tuple, builtins.range, bytearray, memoryview)
_LIST_TYPES = {list, tuple}
_NUMBER_TYPES = {bool: lambda: _dtype.bool, int: lambda: _dtype.int64,
                 float: _dtype.get_default_dtype, complex: _dtype.default_complex_dtype}


def _scalar_dtype(x):
    """The dtype PyTorch infers for one leaf of ``tensor(data)``; None if it is not a number."""
    if isinstance(x, np.generic):
        return from_numpy_dtype(x.dtype) if x.dtype.kind in "biufc" else None
    if isinstance(x, bool):
        return _dtype.bool
    if isinstance(x, numbers.Integral):
        return _dtype.int64
    if isinstance(x, float):
        return _dtype.get_default_dtype()
    if isinstance(x, complex):
        return _dtype.default_complex_dtype()
    return None


def _bad_leaf(x):
    if isinstance(x, (str, bytes)):
        return TypeError(f"new(): invalid data type '{type(x).__name__}'")
    return RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _walk(data):
    """Shape and inferred dtype of nested sequences, with PyTorch's errors (ragged lists,
    strings, unknown objects). Tensors and arrays inside count as nested sequences."""
    shape: list = []
    level = [data]
    dt = None
    depth = 0
    while level:
        first = level[0]
        if isinstance(first, _SEQUENCES):
            n = len(first)
            if set(map(type, level)) <= _LIST_TYPES and set(map(len, level)) == {n}:
                shape.append(n)  # fast path: a regular level of lists/tuples
                level = [x for item in level for x in item]
                depth += 1
                continue
            for item in level:
                if not isinstance(item, _SEQUENCES):
                    if isinstance(item, (str, bytes)):
                        raise ValueError(f"too many dimensions '{type(item).__name__}'")
                    raise TypeError("not a sequence")
                if len(item) != n:
                    raise ValueError(f"expected sequence of length {n} at dim {depth} "
                                     f"(got {len(item)})")
            shape.append(n)
            level = [x for item in level for x in item]
            depth += 1
            continue
        if isinstance(first, np.ndarray) and first.ndim:
            sub = first.shape
            for item in level:
                if not isinstance(item, np.ndarray) or item.shape != sub:
                    if isinstance(item, np.ndarray) and item.ndim:
                        raise ValueError(f"expected sequence of length {sub[0]} at dim {depth} "
                                         f"(got {item.shape[0]})")
                    raise TypeError("not a sequence")
                _check_numpy(item)
                d = from_numpy_dtype(item.dtype)
                dt = d if dt is None else _dtype.promote_types(dt, d)
            shape.extend(sub)
            return tuple(shape), dt, depth
        types = set(map(type, level))
        if all(t in _NUMBER_TYPES or (issubclass(t, np.generic) and t is not np.object_)
               for t in types):
            # fast path: plain numbers, one dtype lookup per distinct type
            for t in types:
                d = _scalar_dtype(level[[type(x) for x in level].index(t)]) \
                    if issubclass(t, np.generic) else _NUMBER_TYPES[t]()
                if d is None:
                    raise _bad_leaf(level[[type(x) for x in level].index(t)])
                dt = d if dt is None else _dtype.promote_types(dt, d)
            return tuple(shape), dt, depth
        for item in level:
            if isinstance(item, (Tensor, np.ndarray)):
                if item.size != 1 if isinstance(item, np.ndarray) else item._data.size != 1:
                    raise ValueError("only one element tensors can be converted to Python "
                                     "scalars")
                d = item.dtype if isinstance(item, Tensor) else from_numpy_dtype(item.dtype)
                dt = d if dt is None else _dtype.promote_types(dt, d)
                continue
            if isinstance(item, _SEQUENCES):
                if isinstance(first, float):
                    raise TypeError(f"must be real number, not {type(item).__name__}")
                raise TypeError(f"'{type(item).__name__}' object cannot be interpreted as an "
                                "integer")
            d = _scalar_dtype(item)
            if d is None:
                if isinstance(item, str) and depth:
                    if item is first:  # PyTorch sees a string as one more dimension
                        raise ValueError("too many dimensions 'str'")
                    raise TypeError("new(): invalid data type 'str'")
                raise _bad_leaf(item)
            dt = d if dt is None else _dtype.promote_types(dt, d)
        return tuple(shape), dt, depth
    return tuple(shape), dt, depth


def _flat_values(data, depth: int) -> list:
    """The leaves of ``depth`` levels of nested sequences, in order (tensors become numbers or
    arrays)."""
    level = [data]
    for _ in builtins.range(depth):
        level = [x for item in level for x in item]
    return level


def _infer_np(data, dtype=None):
    """A NumPy array for ``tensor(data)``: PyTorch's dtype inference over the leaves (bool <
    int64 < default float < default complex, NumPy scalars keep their dtype), then ``dtype``
    with PyTorch's overflow checks."""
    if isinstance(data, np.ndarray):
        _check_numpy(data)
        arr = _widened(data, copy=True)
        return arr if dtype is None else _cast_checked(arr, _np_dtype(dtype))
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not isinstance(data, _SEQUENCES):
        if _scalar_dtype(data) is None:
            if hasattr(data, "__array__") or hasattr(data, "__array_interface__"):
                return _infer_np(np.asarray(data), dtype)
            raise _bad_leaf(data)
        inferred = _scalar_dtype(data)
        if isinstance(data, int) and not isinstance(data, bool) and \
                not -(1 << 63) <= data < (1 << 63):
            raise ValueError("Overflow when unpacking long long")
        arr = np.array(data, dtype=_build_dtype(inferred, dtype))
        return arr if dtype is None else _cast_checked(arr, _np_dtype(dtype), data)
    shape, inferred, depth = _walk(data)
    if inferred is None:
        inferred = _dtype.get_default_dtype()
    leaves = _flat_values(data, depth)
    if len(shape) == depth and any(isinstance(x, (Tensor, np.ndarray)) for x in leaves):
        leaves = [x.item() if isinstance(x, (Tensor, np.ndarray)) else x for x in leaves]
    npd = _build_dtype(inferred, dtype)
    if dtype is not None and npd.kind != "i" and _np_dtype(dtype).kind in "iu":
        # PyTorch unpacks each Python int as int64 for an integer target (rare: mixed data)
        if any(type(x) is int and not -(1 << 63) <= x < (1 << 63) for x in leaves):
            raise ValueError("Overflow when unpacking long long")
    if len(shape) > depth:
        arr = np.stack([np.asarray(x) for x in leaves]).astype(npd) if leaves else \
            np.empty(shape, dtype=npd)
        arr = arr.reshape(shape)
    else:
        try:
            arr = np.array(leaves, dtype=npd).reshape(shape)
        except OverflowError:  # a Python int outside int64
            raise ValueError("Overflow when unpacking long long") from None
    return arr if dtype is None else _cast_checked(arr, _np_dtype(dtype), leaves)


def _build_dtype(inferred, dtype) -> np.dtype:
    """The dtype to read Python numbers into: the inferred one, or when a target ``dtype`` is
    given, a double-precision version of it (PyTorch converts each number straight to the
    target, so nothing may overflow or round on the way)."""
    if dtype is None:
        return to_numpy_dtype(inferred)
    if inferred.is_complex:
        return np.dtype(np.complex128)
    if inferred.is_floating_point:
        return np.dtype(np.float64)
    return to_numpy_dtype(inferred)


_NP_NAMES = {"uint8": "uint8", "int8": "int8", "int16": "int16", "int32": "int32",
             "int64": "int64", "float32": "float", "float64": "double"}


def _cast_checked(arr, npd, source=None):
    """``arr`` as dtype ``npd`` the way ``torch.tensor(data, dtype=...)`` converts Python
    numbers: integers must fit (unsigned types accept down to -max and wrap), floats are
    truncated, Python complex numbers cannot become real. Arrays convert like NumPy casts."""
    if arr.dtype == npd:
        return arr
    if source is not None and npd.kind not in "cb":
        leaves = source if isinstance(source, list) else [source]
        if any(isinstance(x, complex) for x in leaves):
            raise TypeError("must be real number, not complex")
    if source is not None and npd.kind in "iu" and arr.size:
        info = np.iinfo(npd)
        lo = -int(info.max) if npd.kind == "u" else int(info.min)
        src = arr
        name = _NP_NAMES.get(npd.name, npd.name)
        if src.dtype.kind in "fc":
            src = src.real if src.dtype.kind == "c" else src
            if not bool(np.isfinite(src).all()):
                raise RuntimeError(f"value cannot be converted to type {name} without overflow")
            src = np.trunc(src)
            if float(src.min()) < lo or float(src.max()) > int(info.max):
                raise RuntimeError(f"value cannot be converted to type {name} without overflow")
        elif src.dtype.kind in "iu":
            if int(src.min()) < lo or int(src.max()) > int(info.max):
                raise RuntimeError(f"value cannot be converted to type {name} without overflow")
        if arr.dtype.kind in "iu":
            return arr.astype(np.int64).astype(npd)  # negative values wrap, as in C++
        real = arr.real if arr.dtype.kind == "c" else arr
        return np.asarray(np.trunc(real)).astype(np.int64).astype(npd)
    if arr.dtype.kind == "c" and npd.kind != "c":
        if source is None:
            warnings.warn("Casting complex values to real discards the imaginary part",
                          UserWarning, stacklevel=4)
        arr = arr.real
    return arr.astype(npd)


def _check_numpy(a: np.ndarray) -> None:
    """PyTorch's checks on a NumPy array turned into a tensor (dtype, negative strides)."""
    if a.dtype.kind not in "biufc" and a.dtype != _dtype._BF16_NP:
        raise TypeError(f"can't convert np.ndarray of type numpy.{a.dtype.type.__name__}. The "
                        "only supported types are: float64, float32, float16, complex64, "
                        "complex128, int64, int32, int16, int8, uint8, and bool.")
    from_numpy_dtype(a.dtype)  # raises for dtypes ember cannot hold even widened
    if any(st < 0 for st in a.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array  with array.copy().) ")


def _widened(a: np.ndarray, copy: bool = False) -> np.ndarray:
    """``a`` in the ember dtype that holds it: uint16/uint32 (which PyTorch keeps in barely
    usable "shell" dtypes) become int64."""
    npd = to_numpy_dtype(from_numpy_dtype(a.dtype))
    if npd != a.dtype:
        return a.astype(npd)
    return np.array(a, copy=True) if copy else a


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """``torch.tensor``: always copies ``data`` into a new leaf tensor, inferring the dtype as
    PyTorch does (Python floats give the default dtype, ints int64, bools bool; NumPy arrays
    and scalars keep theirs)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        npd = data._data.dtype if dtype is None else _np_dtype(dtype)
        _check_requires_grad(requires_grad, npd)
        dev = data.device if device is None else _device(device)
        arr = _backend.to_device(data._data, dev)
        arr = arr.astype(npd, copy=True) if arr is not data._data or arr.dtype != npd \
            else arr.copy()
        return _finish(arr, requires_grad)
    if _is_cupy(data):
        dev = _device(device) if device is not None else _backend.device_of(data)
        npd = data.dtype if dtype is None else _np_dtype(dtype)
        _check_requires_grad(requires_grad, npd)
        return _finish(_backend.to_device(data.astype(npd, copy=True), dev), requires_grad)
    if dtype is not None:
        _check_requires_grad(requires_grad, _np_dtype(dtype))
    arr = _infer_np(data, dtype)
    _check_requires_grad(requires_grad, arr.dtype)
    return _finish(arr, requires_grad, _device(device))


def _is_cupy(x) -> bool:
    return type(x).__module__.startswith("cupy")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``torch.as_tensor``: shares memory with a tensor or NumPy array when neither dtype nor
    device has to change; otherwise copies like ``torch.tensor``."""
    if isinstance(data, Tensor):
        t = data
        if device is not None:
            t = to_device(t, device)
        if dtype is not None and t.dtype is not dtype:
            t = to(t, dtype)
        return t
    dev = _device(device)
    if isinstance(data, np.ndarray):
        _check_numpy(data)
        arr = _widened(data)
        if dtype is not None and arr.dtype != _np_dtype(dtype):
            arr = _cast_checked(arr, _np_dtype(dtype))
        if not data.flags.writeable and arr is data:
            _warn_readonly()
        return _finish(arr, False, dev)
    if _is_cupy(data):
        arr = data if dtype is None else data.astype(_np_dtype(dtype), copy=False)
        return _finish(_backend.to_device(arr, dev), False)
    return _finish(_infer_np(data, dtype), False, dev)


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``torch.asarray``: shares memory with ``obj`` (a tensor, NumPy array or buffer) when
    possible; ``copy=True`` always copies, ``copy=False`` raises instead of copying."""
    if isinstance(obj, Tensor):
        t = obj
        same = (dtype is None or dtype is t.dtype) and \
            (device is None or _device(device) == t.device)
        if copy is False and not same:
            from .._tensor import _legacy_scalar_name as n

            raise ValueError(f"can't alias tensor with dtype '{n(t.dtype)}' into dtype "
                             f"'{n(dtype)}'.")
        if not same:
            t = as_tensor(t, dtype, device)
        elif copy:
            t = Tensor._make(_layout_copy(t._data, None))
    elif isinstance(obj, (bytes, bytearray, memoryview)) or _is_plain_buffer(obj):
        # PyTorch reads a buffer's bytes as `dtype` (default: the default float dtype)
        d = _dtype.get_default_dtype() if dtype is None else dtype
        t = frombuffer(obj, dtype=d)
        if copy:
            t = Tensor._make(t._data.copy())
        if device is not None:
            t = to_device(t, device)
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__"):
        a = obj if isinstance(obj, np.ndarray) else np.asarray(obj)
        _check_numpy(a)
        want = a.dtype if dtype is None else _np_dtype(dtype)
        if copy is False and want != a.dtype:
            from .._tensor import _legacy_scalar_name as n

            raise ValueError(f"can't alias tensor with dtype '{n(from_numpy_dtype(a.dtype))}' "
                             f"into dtype '{n(from_numpy_dtype(want))}'.")
        if copy:
            a = a.copy()
        t = as_tensor(a, dtype, device)
    else:
        t = as_tensor(obj, dtype, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _is_plain_buffer(obj) -> bool:
    """An object with the buffer protocol that is not an array or a sequence of numbers."""
    if isinstance(obj, (np.ndarray, np.generic, list, tuple, str, numbers.Number)) or \
            hasattr(obj, "__array_interface__"):
        return False
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


def _warn_readonly() -> None:
    warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                  "non-writable tensors. This means writing to this tensor will result in "
                  "undefined behavior. You may want to copy the array to protect its data or "
                  "make it writable before converting it to a tensor. This type of warning "
                  "will be suppressed for the rest of this program.", UserWarning, stacklevel=3)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """``torch.from_numpy``: a CPU tensor sharing memory with ``ndarray`` (writes go both
    ways); unsupported dtypes and negative strides raise PyTorch's errors."""
    if not isinstance(ndarray, np.ndarray):
        t = type(ndarray)
        name = f"numpy.{t.__name__}" if t.__module__ == "numpy" else t.__name__
        raise TypeError(f"expected np.ndarray (got {name})")
    _check_numpy(ndarray)
    if _widened(ndarray) is not ndarray:
        raise TypeError(f"can't share memory with np.ndarray of type numpy.{ndarray.dtype}: "
                        "ember has no such dtype (copy it with torch.tensor(), which widens "
                        "it to int64)")
    if not ndarray.flags.writeable:
        _warn_readonly()
    return Tensor._make(ndarray)


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """``torch.frombuffer``: a 1-D tensor over a Python buffer, sharing its memory."""
    arr = np.frombuffer(buffer, dtype=_np_dtype(dtype), count=count, offset=offset)
    return _finish(arr, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full((), s, dtype=dtype or _dtype.get_default_dtype(), device=device,
                requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# factories
# ---------------------------------------------------------------------------------------------

def _is_int_like(x) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, (numbers.Integral, np.integer)):
        return True
    return isinstance(x, Tensor) and x._data.ndim == 0 and x._data.dtype.kind in "iu"


def size_arg(size: tuple, kwargs: dict | None, name: str, varargs: bool = True) -> tuple:
    """A shape from PyTorch's size forms: ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``,
    ``f(torch.Size(...))``, ``f(size=(2, 3))``; with PyTorch's TypeErrors and its
    negative-dimension error (``zeros`` has its own message)."""
    if not kwargs:  # fast path: the common well-formed calls
        inner = size[0] if len(size) == 1 and type(size[0]) in (tuple, list, Size) else size
        if all(type(s) is int and s >= 0 for s in inner):
            return tuple(inner)
    if kwargs and "size" in kwargs:
        if size:
            got = ", ".join(type(a).__name__ for a in size)
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({got}, size={type(kwargs['size']).__name__})")
        s = kwargs["size"]
        if not isinstance(s, (tuple, list)):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not "
                            f"{type(s).__name__}")
        size = tuple(s)
    elif len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif len(size) == 1 and not _is_int_like(size[0]):
        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size[0]).__name__}")
    elif len(size) > 1 and any(isinstance(a, (tuple, list)) for a in size):
        got = ", ".join(type(a).__name__ for a in size)
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({got})")
    shape = []
    for i, s in enumerate(size):
        if not _is_int_like(s):
            if varargs:
                raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos "
                                f"{i + 1} with error \"type must be tuple of ints,but got "
                                f"{type(s).__name__}\"")
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, but "
                            f"found element of type {type(s).__name__} at pos {i}")
        shape.append(int(s))
    for s in shape:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {shape}")
    return tuple(shape)


def _check_requires_grad(requires_grad: bool, npd) -> None:
    if requires_grad and not (npd.kind in "fc" or npd == _dtype._BF16_NP):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")


def _check_out_dtype(out, dtype, name: str):
    """The dtype of a factory's result with ``out=``: ``out``'s, which ``dtype`` must match."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if dtype is not None and dtype is not out.dtype:
        from .._tensor import _legacy_scalar_name as n

        raise RuntimeError(f"dtype {n(dtype)} does not match dtype of out parameter "
                           f"({n(out.dtype)})")
    return out.dtype


def _factory_out(out: Tensor, arr, name: str, warn_resize: bool = False) -> Tensor:
    """Store a factory's result in ``out``: resized in place when the shape differs."""
    if _state.enabled and out._rg:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if type(arr) is not type(out._data):
        arr = _backend.to_device(arr, out.device)
    if out._data.shape == arr.shape:
        if out._data.ndim == 0 and type(out._data) is np.ndarray:
            out._data[()] = arr
        else:
            out._data[...] = arr
    else:
        if warn_resize:
            warnings.warn(
                f"The number of elements in the out tensor of shape {list(out._data.shape)} is "
                f"{out._data.size} which does not match the computed number of elements "
                f"{arr.size}. Note that this may occur as a result of rounding error. The out "
                f"tensor will be resized to a tensor of shape ({arr.size},).", UserWarning,
                stacklevel=3)
        out._data = arr.astype(out._data.dtype, copy=False)
    out._bump_version()
    return out


def _factory(fill, size, kwargs, out, dtype, device, requires_grad, name):
    shape = size_arg(size, kwargs, name)
    if out is not None:
        dtype = _check_out_dtype(out, dtype, name)
        device = out.device
    dev = _device(device)
    npd = _np_dtype(dtype)
    _check_requires_grad(requires_grad, npd)
    xp = _xp(dev)
    with _backend.on_device(dev):
        if fill is None:
            arr = xp.empty(shape, dtype=npd)
        elif fill == 0:
            arr = xp.zeros(shape, dtype=npd)
        else:
            arr = xp.ones(shape, dtype=npd)
    if out is not None:
        return _factory_out(out, arr, name)
    return _finish(arr, requires_grad)


def _unexpected(kwargs: dict, name: str) -> None:
    extra = [k for k in kwargs if k != "size"]
    if extra:
        raise TypeError(f"{name}() got an unexpected keyword argument '{extra[0]}'")


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kwargs) -> Tensor:
    """``torch.zeros``; accepts ``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros(size=...)``."""
    _unexpected(kwargs, "zeros")
    return _factory(0, size, kwargs, out, dtype, device, requires_grad, "zeros")


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kwargs) -> Tensor:
    """``torch.ones``."""
    _unexpected(kwargs, "ones")
    return _factory(1, size, kwargs, out, dtype, device, requires_grad, "ones")


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, **kwargs) -> Tensor:
    """``torch.empty`` (uninitialised memory, like PyTorch)."""
    _unexpected(kwargs, "empty")
    return _factory(None, size, kwargs, out, dtype, device, requires_grad, "empty")


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """``torch.empty_strided``: uninitialised memory viewed with the given element strides."""
    shape = size_arg((size,), None, "empty_strided", varargs=False)
    stride = tuple(int(s) for s in stride)
    if len(stride) != len(shape):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    dev = _device(device)
    npd = _np_dtype(dtype)
    _check_requires_grad(requires_grad, npd)
    xp = _xp(dev)
    n = 0 if 0 in shape else 1 + sum((sz - 1) * st for sz, st in zip(shape, stride))
    with _backend.on_device(dev):
        buf = xp.empty((n,), dtype=npd)
        arr = xp.lib.stride_tricks.as_strided(buf, shape, tuple(st * npd.itemsize
                                                                for st in stride))
    return _finish(arr, requires_grad)


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()  # PyTorch infers from the Python scalar, not the dtype
    if isinstance(fill_value, (bool, np.bool_)):
        return _dtype.bool
    if isinstance(fill_value, (numbers.Integral, np.integer)):
        return _dtype.int64
    if isinstance(fill_value, (complex, np.complexfloating)):
        return _dtype.default_complex_dtype()
    return _dtype.get_default_dtype()


def _fill_number(fill_value, name: str):
    """``fill_value`` as a Python number (0-d tensors allowed), with PyTorch's TypeError."""
    if isinstance(fill_value, Tensor):
        if fill_value._data.ndim != 0:
            raise TypeError(f"{name}(): argument 'fill_value' (position 2) must be Number, not "
                            "Tensor")
        return fill_value.item()
    if isinstance(fill_value, (numbers.Number, np.generic)) and not isinstance(fill_value, str):
        return fill_value
    raise TypeError(f"{name}(): argument 'fill_value' (position 2) must be Number, not "
                    f"{type(fill_value).__name__}")


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """``torch.full``: the dtype is inferred from ``fill_value`` (bool, int64, default float or
    complex) unless given; values that do not fit the dtype raise like PyTorch."""
    if dtype is None:
        dtype = _fill_dtype(fill_value)
    fill_value = _fill_number(fill_value, "full")
    shape = size_arg((size,), None, "full", varargs=False) if isinstance(size, (tuple, list)) \
        else _raise_size(size, "full")
    if out is not None:
        dtype = _check_out_dtype(out, None, "full")
        return _factory_out(out, _full_array(fill_value, shape, dtype, out.device), "full")
    dev = _device(device)
    _check_requires_grad(requires_grad, _np_dtype(dtype))
    return _finish(_full_array(fill_value, shape, dtype, dev), requires_grad)


def _raise_size(size, name: str):
    raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                    f"{type(size).__name__}")


def _full_array(fill, shape, dtype, dev):
    npd = _np_dtype(dtype)
    d = from_numpy_dtype(npd)
    check_fill_value(fill, npd, d)
    with _backend.on_device(dev):
        return _xp(dev).full(shape, cast_scalar(fill, npd), dtype=npd)


def _factory_full(fill, size, out, dtype, device, requires_grad):
    """``full`` for callers that already have a shape tuple (new_full, full_like, ...)."""
    shape = size_arg((tuple(size),), None, "full", varargs=False)
    dev = _device(device)
    _check_requires_grad(requires_grad, _np_dtype(dtype))
    return _finish(_full_array(fill, shape, dtype, dev), requires_grad)


def _like(fill, input, dtype, device, requires_grad, name, memory_format=None):
    """``*_like``: ``input``'s shape (and, by default, its memory layout), dtype and device."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    d = input.dtype if dtype is None else dtype
    npd = _np_dtype(d)
    _check_requires_grad(requires_grad, npd)
    if fill is not None:
        check_fill_value(fill, npd, from_numpy_dtype(npd))
    dev = input.device if device is None else _device(device)
    a = input._data
    order = "C" if memory_format is contiguous_format else "K"
    with _backend.on_device(dev):
        if dev == input.device:
            arr = array_module(a).empty_like(a, dtype=npd, order=order)
        else:
            arr = _xp(dev).empty(a.shape, dtype=npd)
        if fill is not None:
            arr[...] = cast_scalar(fill, npd)
    return _finish(arr, requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """``torch.zeros_like`` (keeps ``input``'s memory layout, like ``preserve_format``)."""
    return _like(0, input, dtype, device, requires_grad, "zeros_like", memory_format)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """``torch.ones_like``."""
    return _like(1, input, dtype, device, requires_grad, "ones_like", memory_format)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """``torch.empty_like``."""
    return _like(None, input, dtype, device, requires_grad, "empty_like", memory_format)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """``torch.full_like``: ``input``'s dtype unless ``dtype`` is given."""
    fill_value = _fill_number(fill_value, "full_like")
    return _like(fill_value, input, dtype, device, requires_grad, "full_like", memory_format)


# ---------------------------------------------------------------------------------------------
# storing Python numbers into a dtype (fill_, full, ...), with PyTorch's overflow checks
# ---------------------------------------------------------------------------------------------

_INT_TYPE_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                   "int64": "int64_t", "float32": "float", "float64": "double",
                   "float16": "c10::Half", "bfloat16": "c10::BFloat16", "bool": "bool",
                   "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _overflow(d) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {_INT_TYPE_NAMES[d._name]} without "
                        "overflow")


def check_fill_value(value, npd: np.dtype, d) -> None:
    """PyTorch's check before a Python number is stored as dtype ``d``: integers must fit
    (unsigned types also take ints down to -max, which wrap; floats must lie within the
    type's range before truncation), finite values must not
    overflow float16/bfloat16/float32, complex values need a complex dtype; bool and float64
    take anything. (PyTorch skips the check for one-element tensors; ember always checks.)"""
    if isinstance(value, (complex, np.complexfloating)) and npd.kind != "c":
        if value.imag != 0 and npd.kind != "b":
            raise _overflow(d)
        value = value.real
    if npd.kind in "bc" or npd == np.float64:
        return
    if npd.kind == "f" or npd == _dtype._BF16_NP:
        v = float(value)
        if math.isfinite(v) and abs(v) > float(_dtype.finfo(d).max):
            raise _overflow(d)
        return
    info = np.iinfo(npd)
    if isinstance(value, (float, np.floating)):
        # a float must lie within [lowest, max] before truncation (c10::overflows)
        v = float(value)
        if not math.isfinite(v) or not int(info.min) <= v <= int(info.max):
            raise _overflow(d)
        return
    v = int(value)
    lo = -int(info.max) if npd.kind == "u" else int(info.min)
    if not lo <= v <= int(info.max):
        raise _overflow(d)


def cast_scalar(value, npd: np.dtype):
    """The Python number ``value`` as a NumPy scalar of ``npd``, converted as C++ does
    (truncation toward zero; negative values wrap around in unsigned types)."""
    if npd.kind != "c" and isinstance(value, (complex, np.complexfloating)):
        value = value.real
    if npd.kind == "b":
        return np.bool_(value != 0)
    if npd.kind in "iu":
        v = int(value)
        if v < 0 and npd.kind == "u":
            v %= 1 << (8 * npd.itemsize)
        return npd.type(v)
    return np.asarray(value).astype(npd)


def _number(x, name: str, what: str, pos: int):
    """A Python number from a number or a one-element tensor, with PyTorch's TypeError."""
    if isinstance(x, Tensor):
        if x._data.size != 1:
            raise TypeError(f"{name}(): argument '{what}' (position {pos}) must be Number, not "
                            "Tensor")
        return x.item()
    if isinstance(x, (numbers.Number, np.generic)):
        return x.item() if isinstance(x, np.generic) else x
    raise TypeError(f"{name}(): argument '{what}' (position {pos}) must be Number, not "
                    f"{type(x).__name__}")


def _is_floaty(*vals) -> bool:
    return any(isinstance(v, float) or (isinstance(v, Tensor) and v.is_floating_point())
               for v in vals)


def _range_dtype_check(npd, d, kernel: str) -> None:
    if npd.kind in "bc":
        from .._tensor import _legacy_scalar_name

        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_legacy_scalar_name(d)}'")


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """``torch.arange``: ``[start, end)`` by ``step``, the same values as PyTorch's CPU kernel
    (see ``_ranges``). The length is ``ceil((end - start) / step)`` in double; int64 truncates
    the bounds and step first and counts in integers; other integer types step from the
    truncated start by the truncated step."""
    if end is None:
        start, end = 0, start
        pos = (0, 1, 3)  # arange(end): PyTorch names the single argument 'end', position 1
    else:
        pos = (1, 2, 3)
    if pos[0] and not all(isinstance(v, (numbers.Number, np.generic, Tensor))
                          for v in (start, end, step)):
        got = ", ".join(type(v).__name__ for v in (start, end, step))
        raise TypeError(f"arange() received an invalid combination of arguments - got ({got}), "
                        "but expected one of: (Number end), (Number start, Number end), "
                        "(Number start, Number end, Number step)")
    start_v = _number(start, "arange", "start", pos[0])
    end_v = _number(end, "arange", "end", pos[1])
    step_v = _number(step, "arange", "step", pos[2])
    for v in (start_v, end_v, step_v):
        if isinstance(v, complex):
            raise RuntimeError("value cannot be converted to type double without overflow")
    if out is not None:
        dtype = _check_out_dtype(out, dtype, "arange")
        device = out.device
    if dtype is None:
        dtype = _dtype.get_default_dtype() if _is_floaty(start, end, step) else _dtype.int64
    npd = _np_dtype(dtype)
    d = from_numpy_dtype(npd)
    _range_dtype_check(npd, d, "arange_cpu")
    _check_requires_grad(requires_grad, npd)
    if npd.kind in "iu":
        # integer bounds are first converted to int64, PyTorch's accumulation type
        for v in (start_v, end_v, step_v):
            if not (isinstance(v, float) and not math.isfinite(v)):
                check_fill_value(v, np.dtype(np.int64), _dtype.int64)
    if step_v == 0:
        raise RuntimeError("step must be nonzero")
    for v in (start_v, end_v):
        if not math.isfinite(v):
            raise RuntimeError(f"unsupported range: {_g(start_v)} -> {_g(end_v)}")
    if (end_v - start_v) * step_v < 0 and end_v != start_v:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if npd == np.int64:
        # int64 truncates the bounds first and counts in integers
        if int(step_v) == 0:
            raise ValueError("step must be nonzero")
        s0, e0, st = math.trunc(start_v), math.trunc(end_v), math.trunc(step_v)
        sgn = (st > 0) - (st < 0)
        num = e0 - s0 + st - sgn
        n = max(0, abs(num) // abs(st) * (1 if (num >= 0) == (st > 0) else -1))
        arr = s0 + st * np.arange(n, dtype=np.int64)
    elif npd.kind in "iu":
        # other integer types size the range in double but step with truncated values
        n = max(0, math.ceil((float(end_v) - float(start_v)) / float(step_v)))
        s0, st = math.trunc(start_v), math.trunc(step_v)
        arr = (s0 + st * np.arange(n, dtype=np.int64)).astype(npd)
    else:
        n = max(0, math.ceil((float(end_v) - float(start_v)) / float(step_v)))
        arr = _ranges.arange_values(float(start_v), float(step_v), n, npd)
    if out is not None:
        return _factory_out(out, arr, "arange", warn_resize=out._data.size != arr.size)
    return _finish(arr, requires_grad, _device(device))


def _g(x) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False) -> Tensor:
    """``torch.range`` (deprecated in PyTorch): like ``arange`` but includes ``end``; the
    default dtype is always the default float dtype."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    start = _number(start, "range", "start", 1)
    end = _number(end, "range", "end", 2)
    step = _number(step, "range", "step", 3)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    npd = _np_dtype(dtype)
    _check_requires_grad(requires_grad, npd)
    n = int((end - start) / step + 1)
    arr = _ranges.range_values(start, step, n, npd)
    res = _finish(arr, requires_grad, _device(device))
    return res if out is None else write_out(out, res, "range")


def _steps_arg(steps, name: str, start, end) -> int:
    if isinstance(steps, Tensor) and steps._data.size == 1 and not steps.is_floating_point():
        steps = steps.item()
    if isinstance(steps, bool) or not isinstance(steps, (numbers.Integral, np.integer)):
        got = ", ".join(type(v).__name__ for v in (start, end, steps))
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), "
                        "but expected (Number start, Number end, int steps)")
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return steps


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``torch.linspace``: ``steps`` points from ``start`` to ``end`` inclusive, the same
    values as PyTorch's CPU kernel (see ``_ranges.linspace_values``)."""
    s_nd = start._data.ndim if isinstance(start, Tensor) else 0
    e_nd = end._data.ndim if isinstance(end, Tensor) else 0
    if s_nd or e_nd:
        raise RuntimeError(f"linspace only supports 0-dimensional start and end tensors, but "
                           f"got start with {s_nd} dimension(s) and end with {e_nd} "
                           "dimension(s).")
    steps = _steps_arg(steps, "linspace", start, end)
    start = _number(start, "linspace", "start", 1)
    end = _number(end, "linspace", "end", 2)
    if dtype is None:
        cplx = isinstance(start, complex) or isinstance(end, complex)
        dtype = _dtype.default_complex_dtype() if cplx else _dtype.get_default_dtype()
    if out is not None:
        dtype = _check_out_dtype(out, dtype, "linspace")
        device = out.device
    npd = _np_dtype(dtype)
    if npd.kind == "b":
        _range_dtype_check(npd, from_numpy_dtype(npd), "linspace_cpu")
    _check_requires_grad(requires_grad, npd)
    for v in (start, end):
        check_fill_value(v, npd, from_numpy_dtype(npd))
    if npd.kind != "c":
        start, end = _real(start), _real(end)
    arr = _ranges.linspace_values(start, end, steps, npd)
    if out is not None:
        return _factory_out(out, arr, "linspace")
    return _finish(arr, requires_grad, _device(device))


def _real(x):
    return x.real if isinstance(x, complex) else x


def logspace(start, end, steps: int, base: float = 10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad=False) -> Tensor:
    """``torch.logspace``: ``base ** (start + i * step)``, the same values as PyTorch's CPU
    kernel (see ``_ranges.logspace_values``)."""
    s_nd = start._data.ndim if isinstance(start, Tensor) else 0
    e_nd = end._data.ndim if isinstance(end, Tensor) else 0
    if s_nd or e_nd:
        raise RuntimeError(f"logspace only supports 0-dimensional start and end tensors, but "
                           f"got start with {s_nd} dimension(s) and end with {e_nd} "
                           "dimension(s).")
    steps = _steps_arg(steps, "logspace", start, end)
    start = _number(start, "logspace", "start", 1)
    end = _number(end, "logspace", "end", 2)
    base = _number(base, "logspace", "base", 4)
    if dtype is None:
        cplx = isinstance(start, complex) or isinstance(end, complex)
        dtype = _dtype.default_complex_dtype() if cplx else _dtype.get_default_dtype()
    if out is not None:
        dtype = _check_out_dtype(out, dtype, "logspace")
        device = out.device
    npd = _np_dtype(dtype)
    if npd.kind == "b":
        _range_dtype_check(npd, from_numpy_dtype(npd), "logspace_cpu")
    _check_requires_grad(requires_grad, npd)
    for v in (start, end):
        check_fill_value(v, npd, from_numpy_dtype(npd))
    if npd.kind != "c":
        start, end = _real(start), _real(end)
    arr = _ranges.logspace_values(start, end, steps, base, npd)
    if out is not None:
        return _factory_out(out, arr, "logspace")
    return _finish(arr, requires_grad, _device(device))


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    """``torch.eye``: ones on the diagonal of an ``n`` x ``m`` matrix."""
    for what, v, pos in (("n", n, 1), ("m", m, 2)):
        if v is not None and (isinstance(v, bool) or
                              not isinstance(v, (numbers.Integral, np.integer))):
            raise TypeError(f"eye(): argument '{what}' (position {pos}) must be int, not "
                            f"{type(v).__name__}")
    n = int(n)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    m = n if m is None else int(m)
    if out is not None:
        dtype = _check_out_dtype(out, dtype, "eye")
        device = out.device
    dev = _device(device)
    npd = _np_dtype(dtype)
    _check_requires_grad(requires_grad, npd)
    with _backend.on_device(dev):
        arr = _xp(dev).eye(n, m, dtype=npd)
    if out is not None:
        return _factory_out(out, arr, "eye")
    return _finish(arr, requires_grad)


# ---------------------------------------------------------------------------------------------
# copies and conversions
# ---------------------------------------------------------------------------------------------

def _layout_copy(a, memory_format):
    """A copy of array ``a`` in ``memory_format``: ``preserve_format`` (default) keeps ``a``'s
    dense layout like PyTorch, ``contiguous_format`` is row-major, ``channels_last(_3d)``
    puts the channel dimension last in memory (with PyTorch's strides)."""
    xp = array_module(a)
    if memory_format is None or memory_format is preserve_format:
        return a.copy(order="K")
    if memory_format is contiguous_format:
        c = xp.ascontiguousarray(a)
        return a.copy() if c is a else c
    perm = _channels_last_perm(a.ndim, memory_format)
    strides, acc = [0] * a.ndim, 1
    for d in reversed(perm):
        strides[d] = acc
        acc *= max(a.shape[d], 1)
    buf = xp.empty((acc,), dtype=a.dtype)
    out = xp.lib.stride_tricks.as_strided(buf, a.shape,
                                          tuple(st * a.dtype.itemsize for st in strides))
    out[...] = a
    return out


def suggest_memory_format(a):
    """PyTorch's ``suggest_memory_format``: channels_last(_3d) for 4-D (5-D) arrays laid out
    that way, else contiguous_format."""
    for fmt, nd in ((channels_last, 4), (channels_last_3d, 5)):
        if a.ndim == nd and not a.flags.c_contiguous and is_memory_format(a, fmt):
            return fmt
    return contiguous_format


def _channels_last_perm(ndim: int, memory_format) -> list:
    if memory_format is channels_last:
        if ndim != 4:
            raise RuntimeError("required rank 4 tensor to use channels_last format")
        return [0, 2, 3, 1]
    if memory_format is channels_last_3d:
        if ndim != 5:
            raise RuntimeError("required rank 5 tensor to use channels_last_3d format")
        return [0, 2, 3, 4, 1]
    raise TypeError(f"memory_format must be a torch.memory_format, not "
                    f"{type(memory_format).__name__}")


def is_memory_format(a, memory_format) -> bool:
    """Whether array ``a`` is laid out densely in ``memory_format`` (``Tensor.is_contiguous``)."""
    if memory_format is None or memory_format is contiguous_format:
        return bool(a.flags.c_contiguous)
    if memory_format is preserve_format:
        return False
    if a.ndim != (4 if memory_format is channels_last else 5):
        return False
    perm = _channels_last_perm(a.ndim, memory_format)
    expected, acc = {}, 1
    for d in reversed(perm):
        expected[d] = acc
        acc *= a.shape[d]
    isz = a.dtype.itemsize
    return all(a.shape[d] == 1 or a.strides[d] == expected[d] * isz
               for d in builtins.range(a.ndim))


class Clone(Op, name="CloneBackward0"):
    @staticmethod
    def forward(ctx, a, memory_format=None):
        return _layout_copy(a, memory_format)

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None) -> Tensor:
    """``torch.clone``: a differentiable copy with its own storage; keeps the input's dense
    layout by default (``preserve_format``), like PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"clone(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return Clone.apply(input, memory_format)


def contiguous(self, memory_format=contiguous_format) -> Tensor:
    """``Tensor.contiguous``: ``self`` if already laid out in ``memory_format``, else a
    differentiable copy (``CloneBackward0``)."""
    if memory_format is preserve_format:
        if self._data.flags.c_contiguous:
            return self
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    if is_memory_format(self._data, memory_format):
        return self
    return Clone.apply(self, memory_format)


def is_contiguous(self, memory_format=contiguous_format) -> bool:
    """``Tensor.is_contiguous(memory_format=torch.contiguous_format)``."""
    return is_memory_format(self._data, memory_format)


class ToDevice(Op, name="ToCopyBackward0"):
    @staticmethod
    def forward(ctx, a, device):
        ctx.src = _backend.device_of(a)
        return _backend.to_device(a, device)

    @staticmethod
    def backward(ctx, g):
        return to_device(g, ctx.src)


def to_device(t: Tensor, device) -> Tensor:
    d = _device(device)
    if t.device == d:
        return t
    return ToDevice.apply(t, d)


def _to_error(args, kwargs) -> TypeError:
    got = [type(a).__name__ if not isinstance(a, _dtype.dtype) else "torch.dtype" for a in args]
    got += [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    return TypeError(f"to() received an invalid combination of arguments - got ({', '.join(got)}"
                     "), but expected one of:\n * (torch.device device = None, torch.dtype dtype "
                     "= None, bool non_blocking = False, bool copy = False, *, torch.memory_format "
                     "memory_format = None)\n * (torch.dtype dtype, bool non_blocking = False, bool"
                     " copy = False, *, torch.memory_format memory_format = None)\n * (Tensor "
                     "tensor, bool non_blocking = False, bool copy = False, *, torch.memory_format "
                     "memory_format = None)")


def _parse_to(args, kwargs):
    """``(dtype, device, copy)`` of a ``to(...)`` call (see ``_parse_to_full``)."""
    return _parse_to_full(args, kwargs)[:3]


def _parse_to_full(args, kwargs):
    """PyTorch's three ``to`` signatures: ``(device=None, dtype=None, non_blocking, copy)``,
    ``(dtype, non_blocking, copy)``, ``(tensor, non_blocking, copy)``; memory_format keyword."""
    allowed = {"dtype", "device", "non_blocking", "copy", "memory_format"}
    bad = [k for k in kwargs if k not in allowed]
    if bad:
        raise _to_error(args, kwargs)
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    copy = bool(kwargs.get("copy", False))
    memory_format = kwargs.get("memory_format")
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        dtype, device = other.dtype, other.device
    elif rest and isinstance(rest[0], _dtype.dtype):
        dtype = rest.pop(0)
    elif rest and (rest[0] is None or isinstance(rest[0], (str, _backend.device)) or
                   (isinstance(rest[0], int) and not isinstance(rest[0], bool))):
        device = rest.pop(0)
        if rest and (rest[0] is None or isinstance(rest[0], _dtype.dtype)):
            d = rest.pop(0)
            dtype = d if d is not None else dtype
    flags = rest
    if len(flags) > 2 or not all(isinstance(f, (bool, int)) for f in flags):
        raise _to_error(args, kwargs)
    if len(flags) == 2:
        copy = bool(flags[1])
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        raise _to_error(args, kwargs)
    return dtype, device, copy, memory_format


def to(self, *args, **kwargs) -> Tensor:
    """``Tensor.to(device/dtype/tensor, non_blocking, copy, memory_format=)``: returns ``self``
    when nothing changes (and ``copy`` is False), else a differentiable converted copy that
    keeps ``self``'s layout unless ``memory_format`` says otherwise."""
    dtype, device, copy, memory_format = _parse_to_full(args, kwargs)
    t = self
    if device is not None:
        d = _device(device)
        if t.device != d:
            t = ToDevice.apply(t, d)
    if dtype is not None and t.dtype is not dtype:
        t = _util.Cast.apply(t, to_numpy_dtype(dtype))
    if memory_format is not None and memory_format is not preserve_format:
        # like PyTorch, no copy when the layout PyTorch would suggest is already the one asked
        if t is self:
            if suggest_memory_format(t._data) is not memory_format or copy:
                return Clone.apply(self, memory_format)
        elif not is_memory_format(t._data, memory_format):
            t = Clone.apply(t, memory_format)
        return t
    if copy and t is self:
        t = Clone.apply(self, None)
    return t


def _conv(dtype):
    def f(self, memory_format=None):
        return to(self, dtype, memory_format=memory_format)

    f.__name__ = dtype._name
    f.__doc__ = f"``Tensor.{dtype._name}()``: ``self.to({dtype})``."
    return f


def cpu(self, memory_format=None) -> Tensor:
    """``Tensor.cpu()``: ``self`` when already on the CPU, else a differentiable copy."""
    return to_device(self, CPU)


def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    """``Tensor.cuda(device=None)``: a copy on a CUDA device (AssertionError without CUDA)."""
    if device is None:
        device = "cuda"
    elif isinstance(device, int) and not isinstance(device, bool):
        device = f"cuda:{device}"
    d = _backend.device(device)
    if d.type != "cuda":
        raise RuntimeError(f"Invalid device, must be cuda device, got {d}")
    return to_device(self, d)


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    """``Tensor.copy_``: write ``src`` (broadcast, cast, moved between devices) into ``self``;
    differentiable with respect to both (``CopyBackwards``)."""
    if not isinstance(src, Tensor):
        if isinstance(src, (numbers.Number, np.generic)):
            src = _util.as_tensor_like(src, self)
        else:
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                            f"{type(src).__name__}")
    td, sd = self._data, src._data
    if sd.shape != td.shape:
        b = _util.broadcast_shapes_or_raise(td.shape, sd.shape)
        if b != td.shape:
            raise RuntimeError(f"output with shape {list(td.shape)} doesn't match the broadcast "
                               f"shape {list(b)}")
    _util.check_inplace(self)
    if sd.dtype.kind == "c" and td.dtype.kind != "c":
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning,
                      stacklevel=2)
    if not (_state.enabled and (self._rg or src._rg)):
        if type(sd) is not type(td):
            sd = _backend.to_device(sd, self.device)
        if sd.dtype.kind == "c" and td.dtype.kind != "c":
            sd = sd.real
        if td.ndim == 0 and type(td) is np.ndarray:
            td[()] = sd
        else:
            td[...] = sd
        self._bump_version()
        return self
    return _util.inplace(self, CopyFrom.apply(self, src), "copy_")


class CopyFrom(Op, name="CopyBackwards"):
    @staticmethod
    def forward(ctx, dst, src):
        xp = array_module(dst)
        if type(src) is not type(dst):
            src = _backend.to_device(src, _backend.device_of(dst))
        if src.dtype.kind == "c" and dst.dtype.kind != "c":
            src = src.real
        return xp.broadcast_to(src, dst.shape).astype(dst.dtype, copy=True)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        gd = _util.zeros_like_tensor(g) if e[0] else None
        return gd, (g if e[1] else None)


def type_as(self, other: Tensor) -> Tensor:
    """``Tensor.type_as(other)``: ``self.to(other.dtype)``."""
    return to(self, other.dtype)


# ---------------------------------------------------------------------------------------------
# legacy constructors: Tensor(...), FloatTensor(...), Tensor.new(...)
# ---------------------------------------------------------------------------------------------

class Alias(Op, name="AliasBackward0"):
    """``Tensor(t)``: a new tensor object over the same memory."""

    is_view = True

    @staticmethod
    def forward(ctx, a):
        return a.view()

    @staticmethod
    def backward(ctx, g):
        return g


def _legacy_new(cls, args, device, dtype=None, kwargs=None):
    """``Tensor(...)``/``FloatTensor(...)``/``t.new(...)``: empty, sizes, data or a tensor of
    the same dtype (aliased)."""
    if kwargs:
        got = ", ".join([type(a).__name__ for a in args] +
                        [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
        raise TypeError(f"new() received an invalid combination of arguments - got ({got})")
    d = dtype or _dtype.get_default_dtype()
    npd = to_numpy_dtype(d)
    dev = _device(device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if src.dtype is not d and dtype is not None:
            raise TypeError(f"expected {_legacy_dtype_name(d)} (got "
                            f"{_legacy_dtype_name(src.dtype)})")
        if cls is Tensor and dtype is None:
            d = src.dtype
        t = Alias.apply(src) if src._rg and _state.enabled else _alias_nograd(src)
        return t if cls is Tensor else _as_subclass(t, cls)
    if len(args) == 0:
        arr = np.empty((0,), dtype=npd)
    elif len(args) == 1 and isinstance(args[0], (numbers.Number, np.generic)) and \
            not _is_int_like(args[0]):
        raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
    elif all(_is_int_like(a) for a in args) or (len(args) == 1 and isinstance(args[0], Size)):
        arr = np.empty(size_arg(args, None, "new"), dtype=npd)
    elif len(args) == 1:
        data = args[0]
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if data is None:
            raise TypeError("new(): data must be a sequence (got NoneType)")
        try:
            arr = _infer_np(data, d)
        except RuntimeError as e:
            # the legacy constructors convert element by element, so PyTorch's error is
            # about the element (``Tensor([None])``)
            bad = str(e).partition("Could not infer dtype of ")[2]
            if not bad:
                raise
            raise TypeError(f"must be real number, not {bad}") from None
    elif any(_is_int_like(a) for a in args):
        arr = np.empty(size_arg(args, None, "new"), dtype=npd)
    else:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)})")
    t = Tensor._make(_backend.to_device(arr, dev) if dev.type != "cpu" else arr)
    return t if cls is Tensor else _as_subclass(t, cls)


def _alias_nograd(src: Tensor) -> Tensor:
    t = Tensor._make(src._data)
    t._vc = src._version_counter()
    t._base = src if src._base is None else src._base
    return t


def _as_subclass(t: Tensor, cls):
    new = object.__new__(cls)
    new._data = t._data
    new._rg = False
    new._grad_fn = None
    return new


def _legacy_dtype_name(d) -> str:
    from .._tensor import _LEGACY_NAMES

    return "torch." + _LEGACY_NAMES[d._name]


class _LegacyTensorMeta(type):
    """``isinstance(t, torch.FloatTensor)`` checks the dtype and the device type (CPU, or CUDA
    for ``torch.cuda.FloatTensor``), as in PyTorch."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype and \
            obj.is_cuda == cls._legacy_cuda

    def __repr__(cls) -> str:
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _legacy_type(name: str, d: _dtype.dtype, cuda: bool = False):
    module = "torch.cuda" if cuda else "torch"

    def __new__(cls, *args, device=None, **kwargs):
        if cuda:
            if not _backend.is_cuda_available():
                raise TypeError(f"type {module}.{name} not available. Torch not compiled with "
                                "CUDA enabled.")
            device = "cuda" if device is None else device
        if len(args) == 1 and isinstance(args[0], Tensor) and not kwargs:
            src = args[0]
            if src.dtype is not d or src.is_cuda != cuda:
                raise TypeError(f"expected {module}.{name} (got {legacy_type_name(src)})")
            return _alias_nograd(src) if not src._rg else Alias.apply(src)
        return _legacy_new(Tensor, args, device, dtype=d, kwargs=kwargs)

    return _LegacyTensorMeta(name, (), {"__new__": __new__, "_legacy_dtype": d,
                                        "_legacy_cuda": cuda, "__module__": module, "dtype": d,
                                        "__doc__": f"``{module}.{name}``: legacy constructor of "
                                                   f"{d} tensors{' on the GPU' if cuda else ''}."})


FloatTensor = _legacy_type("FloatTensor", _dtype.float32)
DoubleTensor = _legacy_type("DoubleTensor", _dtype.float64)
HalfTensor = _legacy_type("HalfTensor", _dtype.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", _dtype.bfloat16)
ByteTensor = _legacy_type("ByteTensor", _dtype.uint8)
CharTensor = _legacy_type("CharTensor", _dtype.int8)
ShortTensor = _legacy_type("ShortTensor", _dtype.int16)
IntTensor = _legacy_type("IntTensor", _dtype.int32)
LongTensor = _legacy_type("LongTensor", _dtype.int64)
BoolTensor = _legacy_type("BoolTensor", _dtype.bool)
# ``torch.cuda.FloatTensor`` & co. (exported by ember.cuda)
CUDA_LEGACY_TYPES = {t.__name__: _legacy_type(t.__name__, t._legacy_dtype, cuda=True)
                     for t in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, ByteTensor,
                               CharTensor, ShortTensor, IntTensor, LongTensor, BoolTensor)}


def new(self, *args, device=None, **kwargs) -> Tensor:
    """``Tensor.new(...)``: the legacy constructor with ``self``'s dtype and device."""
    return _legacy_new(Tensor, args, self.device if device is None else device,
                       dtype=self.dtype, kwargs=kwargs)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False,
               layout=None, pin_memory=False) -> Tensor:
    """``Tensor.new_tensor(data)``: a copy of ``data`` with ``self``'s dtype and device unless
    given (a tensor ``data`` does not keep its own dtype)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        data = data.detach()
        d = dtype or self.dtype
        dev = self.device if device is None else _device(device)
        arr = _backend.to_device(data._data, dev).astype(to_numpy_dtype(d), copy=True)
        _check_requires_grad(requires_grad, arr.dtype)
        return _finish(arr, requires_grad)
    return tensor(data, dtype=dtype or self.dtype,
                  device=self.device if device is None else device,
                  requires_grad=requires_grad)


def _new_factory(fill, name: str):
    def f(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False, **kwargs):
        _unexpected(kwargs, name)
        shape = size_arg(size, kwargs, name)
        d = dtype or self.dtype
        dev = self.device if device is None else device
        if fill is None:
            return empty(shape, dtype=d, device=dev, requires_grad=requires_grad)
        return zeros(shape, dtype=d, device=dev, requires_grad=requires_grad) if fill == 0 \
            else ones(shape, dtype=d, device=dev, requires_grad=requires_grad)

    f.__name__ = name
    f.__doc__ = f"``Tensor.{name}(*size)``: with ``self``'s dtype and device unless given."
    return f


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False) -> Tensor:
    """``Tensor.new_full(size, fill_value)``: ``self``'s dtype and device unless given."""
    fill_value = _fill_number(fill_value, "new_full")
    return _factory_full(fill_value, tuple(size), None, dtype or self.dtype,
                         self.device if device is None else device, requires_grad)


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False,
                      layout=None, pin_memory=False) -> Tensor:
    """``Tensor.new_empty_strided``."""
    return empty_strided(size, stride, dtype=dtype or self.dtype,
                         device=self.device if device is None else device,
                         requires_grad=requires_grad)


METHODS = {
    "clone": clone, "contiguous": contiguous, "is_contiguous": is_contiguous, "to": to,
    "cpu": cpu, "cuda": cuda,
    "float": _conv(_dtype.float32), "double": _conv(_dtype.float64),
    "half": _conv(_dtype.float16), "bfloat16": _conv(_dtype.bfloat16),
    "long": _conv(_dtype.int64), "int": _conv(_dtype.int32), "short": _conv(_dtype.int16),
    "char": _conv(_dtype.int8), "byte": _conv(_dtype.uint8), "bool": _conv(_dtype.bool),
    "cfloat": _conv(_dtype.complex64), "cdouble": _conv(_dtype.complex128),
    "copy_": copy_, "type_as": type_as, "new": new, "new_tensor": new_tensor,
    "new_zeros": _new_factory(0, "new_zeros"), "new_ones": _new_factory(1, "new_ones"),
    "new_empty": _new_factory(None, "new_empty"), "new_full": new_full,
    "new_empty_strided": new_empty_strided,
}
