"""Tensor creation and copies: ``tensor``, ``zeros``, ``arange``, ``clone``, ``to``, ...

Follows PyTorch's dtype inference: Python floats give the default dtype, ints give int64,
bools give bool; NumPy arrays keep their dtype.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _backend, _dtype
from .._backend import CPU, array_module
from .._dtype import from_numpy_dtype, to_numpy_dtype
from .._tensor import Size, Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _util
from ._util import write_out

__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
    "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range", "linspace",
    "logspace", "eye", "clone", "empty_strided", "scalar_tensor", "frombuffer",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor",
    "ShortTensor", "IntTensor", "LongTensor", "BoolTensor",
]

_builtin_range = range


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

def _infer_np(data):
    """NumPy array for nested Python data with PyTorch's dtype inference."""
    if isinstance(data, str) or (isinstance(data, (list, tuple)) and _has_str(data)):
        raise TypeError(f"new(): invalid data type '{type(_first_leaf(data)).__name__}'")
    if isinstance(data, (list, tuple)):
        data = _unwrap_tensors(data)
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(_ragged_message(data) or str(e)) from None
        if arr.dtype == object:
            raise ValueError(_ragged_message(data) or "could not infer a tensor dtype from data")
        if arr.dtype.kind == "f" and not _has_numpy_float(data):
            arr = arr.astype(_dtype.to_numpy_dtype(_dtype.get_default_dtype()))
        elif arr.dtype.kind == "c" and not _has_numpy_float(data):
            arr = arr.astype(_dtype.to_numpy_dtype(_dtype.default_complex_dtype()))
        elif arr.dtype.kind in "iu" and arr.dtype != np.int64 and not _has_numpy_float(data):
            arr = arr.astype(np.int64)
        elif arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(_dtype.to_numpy_dtype(_dtype.get_default_dtype()))
        return arr
    if isinstance(data, bool):
        return np.array(data, dtype=np.bool_)
    if isinstance(data, numbers.Integral) and not isinstance(data, np.generic):
        if not -(2**63) <= data < 2**63:
            raise ValueError("Overflow when unpacking long long")
        return np.array(data, dtype=np.int64)
    if isinstance(data, float):
        return np.array(data, dtype=_dtype.to_numpy_dtype(_dtype.get_default_dtype()))
    if isinstance(data, complex):
        return np.array(data, dtype=_dtype.to_numpy_dtype(_dtype.default_complex_dtype()))
    if isinstance(data, np.generic):
        return np.array(data)
    if hasattr(data, "__array__") or hasattr(data, "__array_interface__"):
        return np.asarray(data)
    raise TypeError(f"new(): invalid data type '{type(data).__name__}'")


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _has_str(data) -> bool:
    stack = [data]
    while stack:
        d = stack.pop()
        if isinstance(d, str):
            return True
        if isinstance(d, (list, tuple)):
            stack.extend(d)
    return False


def _has_numpy_float(data) -> bool:
    stack = [data]
    while stack:
        d = stack.pop()
        if isinstance(d, (list, tuple)):
            stack.extend(d)
        elif isinstance(d, (np.ndarray, np.generic)) and not isinstance(d, (float, int)):
            return True
        elif isinstance(d, np.float64):
            return True
    return False


def _unwrap_tensors(data):
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, (list, tuple)):
        if any(isinstance(d, (list, tuple, Tensor)) for d in data):
            return [_unwrap_tensors(d) for d in data]
    return data


def _ragged_message(data):
    """PyTorch's 'expected sequence of length N at dim D (got M)' for ragged nested lists."""
    def walk(d, dim, expected):
        if not isinstance(d, (list, tuple)):
            return None
        for item in d:
            if isinstance(item, (list, tuple)):
                exp = expected.get(dim + 1)
                if exp is None:
                    expected[dim + 1] = len(item)
                elif len(item) != exp:
                    return f"expected sequence of length {exp} at dim {dim + 1} (got {len(item)})"
                r = walk(item, dim + 1, expected)
                if r:
                    return r
        return None

    return walk(data, 0, {})


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """``torch.tensor``: always copies ``data`` into a new leaf tensor."""
    dev = _device(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        xp = array_module(data._data)
        arr = xp.array(data._data, dtype=None if dtype is None else _np_dtype(dtype), copy=True)
        if device is None:
            dev = data.device
        return _finish(_backend.to_device(arr, dev), requires_grad)
    if not isinstance(data, np.ndarray) and _is_cupy(data):
        arr = data.copy() if dtype is None else data.astype(_np_dtype(dtype))
        return _finish(arr, requires_grad)
    if isinstance(data, np.ndarray):
        from_numpy_dtype(data.dtype)  # reject dtypes PyTorch has no tensor for
        arr = np.array(data, copy=True)
    else:
        arr = _infer_np(data)
    if dtype is not None:
        npd = _np_dtype(dtype)
        if arr.dtype != npd:
            arr = _cast_checked(arr, npd)
    else:
        from_numpy_dtype(arr.dtype)
    return _finish(arr, requires_grad, dev)


def _cast_checked(arr, npd):
    if npd.kind in "iu" and arr.dtype.kind in "iu" and arr.size:
        info = np.iinfo(npd)
        if arr.min() < info.min or arr.max() > info.max:
            raise RuntimeError(f"value cannot be converted to type {npd.name} without overflow")
    return arr.astype(npd)


def _is_cupy(x) -> bool:
    return type(x).__module__.startswith("cupy")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``torch.as_tensor``: shares memory with ``data`` when dtype and device allow."""
    if isinstance(data, Tensor):
        t = data
        if dtype is not None:
            t = t.to(dtype)
        if device is not None:
            t = t.to(_device(device))
        return t
    dev = _device(device) if device is not None else None
    if isinstance(data, np.ndarray):
        from_numpy_dtype(data.dtype)
        arr = data
        if dtype is not None and arr.dtype != _np_dtype(dtype):
            arr = arr.astype(_np_dtype(dtype))
        return _finish(arr, False, dev)
    if _is_cupy(data):
        return _finish(data if dtype is None else data.astype(_np_dtype(dtype)), False, dev)
    return tensor(data, dtype=dtype, device=dev)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False) -> Tensor:
    """``torch.asarray``."""
    if copy:
        t = tensor(obj._data if isinstance(obj, Tensor) else obj, dtype=dtype, device=device)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """``torch.from_numpy``: a CPU tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if any(s < 0 for s in ndarray.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array  with array.copy().) ")
    from_numpy_dtype(ndarray.dtype)
    if not ndarray.flags.writeable:
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                      "non-writable tensors. This means writing to this tensor will result in "
                      "undefined behavior. You may want to copy the array to protect its data or "
                      "make it writable before converting it to a tensor. This type of warning "
                      "will be suppressed for the rest of this program.", UserWarning,
                      stacklevel=2)
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

def _factory(fill, size, out, dtype, device, requires_grad, name):
    shape = _shape_arg(size, name)
    if out is not None:
        res = _factory(fill, (shape,), None, dtype or out.dtype, device or out.device, False,
                       name)
        return write_out(out, res, name)
    dev = _device(device)
    npd = _np_dtype(dtype)
    xp = _xp(dev)
    with _backend.on_device(dev):
        if fill is None:
            arr = xp.empty(shape, dtype=npd)
        elif fill == 0:
            arr = xp.zeros(shape, dtype=npd)
        elif fill == 1:
            arr = xp.ones(shape, dtype=npd)
        else:
            arr = xp.full(shape, fill, dtype=npd)
    return _finish(arr, requires_grad)


def _shape_arg(size, name):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    for s in size:
        if isinstance(s, float) or not isinstance(s, (numbers.Integral, Tensor)):
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos "
                            f"{list(size).index(s) + 1} with error \"type must be tuple of ints,"
                            f"but got {type(s).__name__}\"")
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{name}: Dimension size must be non-negative.")
    return shape


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    """``torch.zeros``; accepts ``zeros(2, 3)`` and ``zeros((2, 3))``."""
    return _factory(0, size, out, dtype, device, requires_grad, "zeros")


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """``torch.ones``."""
    return _factory(1, size, out, dtype, device, requires_grad, "ones")


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None) -> Tensor:
    """``torch.empty`` (uninitialised memory, like PyTorch)."""
    return _factory(None, size, out, dtype, device, requires_grad, "empty")


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    t = empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)
    return t


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        return fill_value.dtype
    if isinstance(fill_value, bool):
        return _dtype.bool
    if isinstance(fill_value, numbers.Integral):
        return _dtype.int64
    if isinstance(fill_value, complex):
        return _dtype.default_complex_dtype()
    return _dtype.get_default_dtype()


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """``torch.full``: dtype inferred from ``fill_value`` like PyTorch."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _fill_dtype(fill_value)
    if isinstance(size, numbers.Integral):
        size = (size,)
    return _factory_full(fill_value, tuple(size), out, dtype, device, requires_grad)


def _factory_full(fill, size, out, dtype, device, requires_grad):
    shape = _shape_arg(size, "full")
    if out is not None:
        return write_out(out, _factory_full(fill, shape, None, dtype, device or out.device,
                                            False), "full")
    dev = _device(device)
    npd = _np_dtype(dtype)
    with _backend.on_device(dev):
        arr = _xp(dev).full(shape, fill, dtype=npd)
    return _finish(arr, requires_grad)


def _like(fill, input, dtype, device, requires_grad, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    d = input.dtype if dtype is None else dtype
    dev = input.device if device is None else _device(device)
    if fill is None:
        return empty(input.shape, dtype=d, device=dev, requires_grad=requires_grad)
    return _factory_full(fill, input.shape, None, d, dev, requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return _like(0, input, dtype, device, requires_grad, "zeros_like")


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return _like(1, input, dtype, device, requires_grad, "ones_like")


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return _like(None, input, dtype, device, requires_grad, "empty_like")


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _like(fill_value, input, dtype, device, requires_grad, "full_like")


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """``torch.arange``: ``[start, end)`` by ``step``; values computed in double, then cast."""
    if end is None:
        start, end = 0, start
    start, end, step = _num(start), _num(end), _num(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        isfloat = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if isfloat else _dtype.int64
    n = max(0, math.ceil((end - start) / step))
    npd = _np_dtype(dtype)
    if npd.kind in "iu" and all(isinstance(v, numbers.Integral) for v in (start, end, step)):
        arr = np.arange(start, start + n * step, step, dtype=npd)[:n]
    else:
        arr = (start + step * np.arange(n, dtype=np.float64)).astype(npd)
    res = _finish(arr, requires_grad, _device(device))
    return res if out is None else write_out(out, res, "arange")


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False) -> Tensor:
    """``torch.range`` (deprecated in PyTorch): includes ``end``."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    arr = (start + step * np.arange(n, dtype=np.float64)).astype(_np_dtype(dtype))
    return _finish(arr, requires_grad, _device(device))


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``torch.linspace``: symmetric evaluation (from both ends), as PyTorch computes it."""
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    npd = _np_dtype(dtype)
    if steps == 0:
        arr = np.empty((0,), dtype=npd)
    elif steps == 1:
        arr = np.array([start], dtype=npd)
    else:
        step = (end - start) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        half = steps // 2
        vals = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
        if npd.kind in "iu":
            vals = np.trunc(vals)
        arr = vals.astype(npd)
    res = _finish(arr, requires_grad, _device(device))
    return res if out is None else write_out(out, res, "linspace")


def logspace(start, end, steps: int, base: float = 10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad=False) -> Tensor:
    """``torch.logspace``: ``base ** linspace(start, end, steps)``."""
    lin = linspace(start, end, steps, dtype=_dtype.float64)._data
    arr = np.power(float(base), lin).astype(_np_dtype(dtype))
    res = _finish(arr, requires_grad, _device(device))
    return res if out is None else write_out(out, res, "logspace")


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    """``torch.eye``."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dev = _device(device)
    with _backend.on_device(dev):
        arr = _xp(dev).eye(n, n if m is None else m, dtype=_np_dtype(dtype))
    res = _finish(arr, requires_grad)
    return res if out is None else write_out(out, res, "eye")


# ---------------------------------------------------------------------------------------------
# copies and conversions
# ---------------------------------------------------------------------------------------------

class Clone(Op, name="CloneBackward0"):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None) -> Tensor:
    """``torch.clone``: a differentiable copy with its own storage."""
    return Clone.apply(input)


def contiguous(self, memory_format=None) -> Tensor:
    """``Tensor.contiguous``: ``self`` if already C-contiguous, else a copy."""
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


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


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments - got unexpected "
                        f"keyword(s) {sorted(kwargs)}")
    args = list(args)
    # positional forms: to(dtype), to(device[, dtype]), to(tensor), then non_blocking, copy
    while args:
        a = args.pop(0)
        if isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, (str, _backend.device)) or (isinstance(a, int) and
                                                        not isinstance(a, bool) and
                                                        device is None and dtype is None):
            device = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, bool):
            if args:
                copy = args.pop()
            else:
                pass  # non_blocking alone
        elif a is None:
            continue
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    return dtype, device, copy


def to(self, *args, **kwargs) -> Tensor:
    """``Tensor.to(dtype | device | tensor, ..., copy=False)``: ``self`` when nothing changes."""
    dtype, device, copy = _parse_to(args, dict(kwargs))
    t = self
    if device is not None:
        d = _device(device)
        if t.device != d:
            t = ToDevice.apply(t, d)
    if dtype is not None and t.dtype is not dtype:
        t = _util.Cast.apply(t, to_numpy_dtype(dtype))
    if copy and t is self:
        t = Clone.apply(self)
    return t


def _conv(dtype):
    def f(self, memory_format=None):
        return to(self, dtype)

    f.__name__ = dtype._name
    return f


def cpu(self, memory_format=None) -> Tensor:
    return to_device(self, CPU)


def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to_device(self, device)


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    """``Tensor.copy_``: write ``src`` (broadcast, cast, moved) into ``self``; differentiable."""
    if not isinstance(src, Tensor):
        src = _util.as_tensor_like(src, self)
    _util.check_inplace(self)
    sd = src._data
    td = self._data
    if sd.shape != td.shape:
        try:
            _util.broadcast_shapes_or_raise(td.shape, sd.shape)
            ok = np.broadcast_shapes(td.shape, sd.shape) == td.shape
        except (RuntimeError, ValueError):
            ok = False
        if not ok:
            raise RuntimeError(f"The size of tensor a ({td.shape[-1] if td.ndim else 1}) must "
                               f"match the size of tensor b ({sd.shape[-1] if sd.ndim else 1}) "
                               f"at non-singleton dimension {max(td.ndim - 1, 0)}")
    grad = _state.enabled and (self._rg or src._rg)
    if not grad:
        if type(sd) is not type(td):
            sd = _backend.to_device(sd, self.device)
        if td.ndim == 0 and type(td) is np.ndarray:
            td[()] = sd
        else:
            td[...] = sd
        self._bump_version()
        return self
    result = CopyFrom.apply(self, src)
    return _util.inplace(self, result, "copy_")


class CopyFrom(Op, name="CopyBackwards"):
    @staticmethod
    def forward(ctx, dst, src):
        xp = array_module(dst)
        if type(src) is not type(dst):
            src = _backend.to_device(src, _backend.device_of(dst))
        return xp.broadcast_to(src, dst.shape).astype(dst.dtype, copy=True)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        gd = _util.zeros_like_tensor(g) if e[0] else None
        return gd, (g if e[1] else None)


def type_as(self, other: Tensor) -> Tensor:
    return to(self, other.dtype)


# ---------------------------------------------------------------------------------------------
# legacy constructors: Tensor(...), FloatTensor(...), ...
# ---------------------------------------------------------------------------------------------

def _legacy_new(cls, args, device, dtype=None):
    dtype = dtype or _dtype.get_default_dtype()
    dev = _device(device)
    if len(args) == 0:
        t = Tensor._make(np.empty((0,), dtype=to_numpy_dtype(dtype)))
    elif len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if cls is Tensor or cls.__name__ == "Tensor":
            t = Tensor._make(src._data)
            t._vc = src._version_counter()
            return t if cls is Tensor else _as_subclass(t, cls)
        if src.dtype is not dtype:
            raise TypeError(f"expected {_legacy_dtype_name(dtype)} (got "
                            f"{_legacy_dtype_name(src.dtype)})")
        t = Tensor._make(src._data)
    elif all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)):
        shape = tuple(args[0]) if isinstance(args[0], Size) else tuple(int(a) for a in args)
        t = Tensor._make(np.empty(shape, dtype=to_numpy_dtype(dtype)))
    elif len(args) == 1:
        data = args[0]
        arr = data if isinstance(data, np.ndarray) else _infer_np(data)
        t = Tensor._make(np.array(arr, dtype=to_numpy_dtype(dtype)))
    else:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)})")
    if dev.type != "cpu":
        t._data = _backend.to_device(t._data, dev)
    return t if cls is Tensor else _as_subclass(t, cls)


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
    """``isinstance(t, torch.FloatTensor)`` checks the dtype (and CPU), as in PyTorch."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype and obj.is_cpu


def _legacy_type(name: str, d: _dtype.dtype):
    def __new__(cls, *args, device=None):
        return _legacy_new(Tensor, args, device, dtype=d) if not (
            len(args) == 1 and isinstance(args[0], Tensor)) else _legacy_from_tensor(args[0], d)

    return _LegacyTensorMeta(name, (), {"__new__": __new__, "_legacy_dtype": d,
                                        "__module__": "torch", "dtype": d})


def _legacy_from_tensor(src: Tensor, d):
    if src.dtype is not d:
        raise TypeError(f"expected {_legacy_dtype_name(d)} (got {_legacy_dtype_name(src.dtype)})")
    return src


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


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if isinstance(data, Tensor):
        data = data.detach()
        t = tensor(data._data, dtype=dtype or data.dtype, device=device or self.device)
    else:
        t = tensor(data, dtype=dtype or self.dtype, device=device or self.device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _new_factory(fill):
    def f(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False):
        shape = _shape_arg(size, "new")
        d = dtype or self.dtype
        dev = self.device if device is None else device
        if fill is None:
            return empty(shape, dtype=d, device=dev, requires_grad=requires_grad)
        return _factory_full(fill, shape, None, d, dev, requires_grad)

    return f


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False) -> Tensor:
    return _factory_full(fill_value, tuple(size), None, dtype or self.dtype,
                         self.device if device is None else device, requires_grad)


METHODS = {
    "clone": clone, "contiguous": contiguous, "to": to, "cpu": cpu, "cuda": cuda,
    "float": _conv(_dtype.float32), "double": _conv(_dtype.float64),
    "half": _conv(_dtype.float16), "bfloat16": _conv(_dtype.bfloat16),
    "long": _conv(_dtype.int64), "int": _conv(_dtype.int32), "short": _conv(_dtype.int16),
    "char": _conv(_dtype.int8), "byte": _conv(_dtype.uint8), "bool": _conv(_dtype.bool),
    "cfloat": _conv(_dtype.complex64), "cdouble": _conv(_dtype.complex128),
    "copy_": copy_, "type_as": type_as, "new_tensor": new_tensor,
    "new_zeros": _new_factory(0), "new_ones": _new_factory(1), "new_empty": _new_factory(None),
    "new_full": new_full,
}
