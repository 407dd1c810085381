"""``ember.Tensor``: one NumPy/CuPy array plus the autograd state PyTorch keeps on a tensor.

Arithmetic, shape and reduction methods are attached by ``ember.ops`` (each op lives once, in
its family module); this file holds what is about the tensor object itself: construction,
metadata, conversion to Python/NumPy, autograd bookkeeping and the version counter.
"""

from __future__ import annotations

import copy as _copy
import warnings

import numpy as np

from . import _backend, _dtype
from ._backend import CPU, device_of
from ._dtype import _FROM_NP, from_numpy_dtype

__all__ = ["Tensor", "Size", "is_tensor", "strided", "memory_format", "contiguous_format",
           "preserve_format", "channels_last", "channels_last_3d"]

_new = object.__new__
_ndarray = np.ndarray


class Size(tuple):
    """``torch.Size``: a tuple of dimension sizes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "torch.Size([" + ", ".join(str(s) for s in self) + "])"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


class _Layout:
    def __repr__(self) -> str:
        return "torch.strided"

    def __reduce__(self):
        return "strided"


strided = _Layout()


class memory_format:
    """``torch.memory_format``: how a tensor's elements are laid out in memory."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return "torch." + self._name

    def __reduce__(self):
        return self._name  # pickled by reference to the module-level instance


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

# Legacy type names used in PyTorch's messages and by Tensor.type().
_LEGACY_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "uint8": "ByteTensor", "int8": "CharTensor",
    "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}


def legacy_type_name(t: Tensor) -> str:
    prefix = "torch.cuda." if not isinstance(t._data, np.ndarray) else "torch."
    return prefix + _LEGACY_NAMES[t.dtype._name]


def as_array(x):
    """Turn a NumPy scalar (what NumPy reductions return) into a 0-d array."""
    if type(x) is _ndarray:
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    return x


class Tensor:
    """A multi-dimensional array with autograd, following ``torch.Tensor``.

    ``Tensor(data)``/``Tensor(*sizes)`` are the legacy constructors (default float dtype);
    prefer ``ember.tensor``. Internally, ``Tensor._make(array)`` wraps an array without copying.
    """

    __slots__ = ("_data", "_rg", "_grad_fn", "__dict__", "__weakref__")

    # Rarely-set state lives in the instance __dict__ once set; these class attributes are the
    # defaults, so creating a tensor only has to fill the three slots above.
    _grad = None
    _out_nr = 0
    _vc = None  # version counter shared with views: a one-element list, created on demand
    _base = None  # the tensor this one is a view of
    _view_fn = None  # how to rebuild this view from _base: (parent_fn, op_class, args)
    _gf_ver = -1  # version of the base when this view's grad_fn was recorded
    _accum = None  # weak reference to this leaf's AccumulateGrad node
    _retains_grad = False
    _inference = False
    _hooks = None  # hooks of a leaf tensor (non-leaf hooks live on grad_fn)
    _post_acc_hooks = None
    _is_param = False

    # NumPy defers binary operators to us (ndarray + tensor -> tensor), as with PyTorch.
    __array_priority__ = 1000

    def __new__(cls, *args, device=None):
        from .ops import creation

        return creation._legacy_new(cls, args, device)

    def __init__(self, *args, **kwargs):  # construction happens in __new__
        pass

    @staticmethod
    def _make(arr, rg: bool = False, grad_fn=None) -> Tensor:
        t = _new(Tensor)
        t._data = arr
        t._rg = rg
        t._grad_fn = grad_fn
        return t

    # ------------------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """``torch.Size`` of the tensor, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim, "size")]

    def _wrap_dim(self, dim, fname: str = "size") -> int:
        """A non-negative dim index, with PyTorch's errors for ``size``/``stride``."""
        if isinstance(dim, Tensor) and dim._data.size == 1 and dim._data.dtype.kind in "iu":
            dim = int(dim.item())
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{fname}(): argument 'dim' (position 1) must be int, not "
                            f"{type(dim).__name__}")
        nd = self._data.ndim
        if nd == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        if not -nd <= dim < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                             f"{nd - 1}], but got {dim})")
        return int(dim) % nd

    @property
    def dtype(self) -> _dtype.dtype:
        return _FROM_NP[self._data.dtype]

    @property
    def device(self) -> _backend.device:
        d = self._data
        if type(d) is _ndarray:
            return CPU
        return device_of(d)

    @property
    def is_cuda(self) -> bool:
        return not isinstance(self._data, np.ndarray)

    @property
    def is_cpu(self) -> bool:
        return isinstance(self._data, np.ndarray)

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def layout(self):
        return strided

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def itemsize(self) -> int:
        return self._data.dtype.itemsize

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim: int | None = None):
        a = self._data
        isz = a.dtype.itemsize
        st = tuple(s // isz for s in a.strides)
        if a.ndim and 0 in a.shape:
            # PyTorch reports contiguous strides for empty tensors.
            st = _contiguous_strides(a.shape)
        if dim is None:
            return st
        return st[self._wrap_dim(dim, "stride")]

    def storage_offset(self) -> int:
        a = self._data
        base = a
        while getattr(base, "base", None) is not None and isinstance(base.base, type(a)):
            base = base.base
        if base is a:
            return 0
        return (_data_ptr(a) - _data_ptr(base)) // a.dtype.itemsize

    def data_ptr(self) -> int:
        return _data_ptr(self._data)

    def is_contiguous(self, memory_format=contiguous_format) -> bool:
        """Whether the elements are dense in row-major order (or in ``memory_format``)."""
        if memory_format is contiguous_format or memory_format is None:
            return bool(self._data.flags.c_contiguous)
        from .ops.creation import is_memory_format

        return is_memory_format(self._data, memory_format)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self.dtype is _dtype.bfloat16

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    def is_inference(self) -> bool:
        return self._inference

    def get_device(self) -> int:
        return -1 if isinstance(self._data, np.ndarray) else int(self._data.device.id)

    @property
    def _version(self) -> int:
        vc = self._vc
        return 0 if vc is None else vc[0]

    def _bump_version(self) -> None:
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    def _version_counter(self) -> list:
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    # ------------------------------------------------------------------------------ autograd
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._grad_fn is None and not (self.is_floating_point() or
                                                     self.is_complex()):
            # PyTorch's attribute setter words this differently from requires_grad_()
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        requires_grad = bool(requires_grad)
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return self
        if requires_grad and not (self.is_floating_point() or self.is_complex()):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and self._inference:
            from .autograd.grad_mode import state

            if not state.inference:
                raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                                   "InferenceMode is not allowed.")
        self._rg = requires_grad
        return self

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def output_nr(self) -> int:
        return self._out_nr

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
                "mistake, make sure you access the leaf Tensor instead.", UserWarning,
                stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_c_name(value.dtype)}' to a "
                    f"tensor with grad_dtype '{_legacy_scalar_name(self.dtype)}'. The gradient "
                    "must match the tensor's grad_dtype (defaults to the tensor's dtype).")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size")
            if value.device != self.device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def data(self) -> Tensor:
        t = Tensor._make(self._data)
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        if self._rg and value._data.dtype.kind not in "fc" and value.dtype is not _dtype.bfloat16:
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        self._data = value._data

    def detach(self) -> Tensor:
        """A tensor sharing storage and version counter with ``self``, outside the graph."""
        t = Tensor._make(self._data)
        t._vc = self._version_counter()
        t._base = self if self._base is None else self._base
        t._inference = self._inference
        return t

    def detach_(self) -> Tensor:
        if self._base is not None and self._view_fn is not None and self._base._rg:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._rg = False
        self.__dict__.pop("_out_nr", None)
        return self

    def retain_grad(self) -> None:
        if self._grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        from .autograd.graph import add_retain_grad

        add_retain_grad(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; may return a new grad."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.graph import register_tensor_hook

        return register_tensor_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after this leaf's ``.grad`` has been accumulated."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        from .utils.hooks import RemovableHandle

        if self._post_acc_hooks is None:
            from collections import OrderedDict

            self._post_acc_hooks = OrderedDict()  # (a plain dict cannot be weakly referenced)
        handle = RemovableHandle(self._post_acc_hooks)
        self._post_acc_hooks[handle.id] = hook
        return handle

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate gradients of this tensor into the leaves (``torch.Tensor.backward``)."""
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ------------------------------------------------------------------------------ conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array of this CPU tensor, sharing memory (``torch.Tensor.numpy``).

        ``force=True`` first detaches and copies to the CPU. bfloat16 has no NumPy dtype in
        PyTorch and raises, as there.
        """
        if self.dtype is _dtype.bfloat16:
            raise TypeError("Got unsupported ScalarType BFloat16")
        if force:
            return _backend.to_device(self._data, CPU)
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if not isinstance(self._data, np.ndarray):
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # NumPy ufuncs on tensors give tensors; PyTorch turns bool results into uint8
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return Tensor._make(np.asarray(array))

    def item(self):
        """The single value as a Python number (``bool``, ``int``, ``float`` or ``complex``)."""
        a = self._data
        if a.size != 1:
            raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to Scalar")
        return a.reshape(()).item() if isinstance(a, np.ndarray) else a.item()

    def tolist(self):
        """Nested Python lists of Python numbers (a number for a 0-d tensor)."""
        a = self._data
        if not isinstance(a, np.ndarray):
            a = a.get()
        if a.dtype == _dtype._BF16_NP:
            a = a.astype(np.float32)
        return a.tolist()

    def __bool__(self) -> bool:
        a = self._data
        if a.size != 1:
            if a.size == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(a.reshape(()))

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        v = self.item()
        if isinstance(v, complex):
            if v.imag != 0:
                raise RuntimeError("value cannot be converted to type double without overflow")
            v = v.real
        return float(v)

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __complex__(self) -> complex:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return complex(self.item())

    def __index__(self) -> int:
        a = self._data
        if a.size != 1 or a.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        # PyTorch iterates over unbind(0): views of self, each with UnbindBackward0
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __contains__(self, element) -> bool:
        if isinstance(element, (Tensor, int, float, bool, complex)):
            return bool((self == element).any().item())
        raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you passed "
                           f"in a {type(element)}.")

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._tensor_str import _str

        return _str(self, tensor_contents=tensor_contents)

    def __format__(self, format_spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __dir__(self):
        return sorted(set(super().__dir__()))

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """With no argument, the legacy type name (``'torch.FloatTensor'``); else a cast."""
        if dtype is None:
            return legacy_type_name(self)
        if isinstance(dtype, str):
            if dtype.startswith("torch.cuda."):
                return self.to("cuda", _dtype_from_legacy_name(dtype))
            dtype = _dtype_from_legacy_name(dtype)
        elif isinstance(dtype, type):
            # FloatTensor & co. carry their dtype; Tensor itself means the default dtype
            if getattr(dtype, "_legacy_cuda", False):
                return self.to("cuda", dtype._legacy_dtype)
            dtype = getattr(dtype, "_legacy_dtype", _dtype.get_default_dtype())
        return self.to(dtype)

    # ------------------------------------------------------------------------------ pickling
    def __reduce_ex__(self, protocol):
        """Pickle as (storage, offset, shape, strides), like PyTorch: views pickled together
        keep sharing memory and strides survive. ``.grad`` and the graph are not pickled;
        ``requires_grad`` and user attributes are."""
        root, offset, strides = _storage_of(self._data)
        state = {k: v for k, v in self.__dict__.items() if k not in _INTERNAL}
        return (_rebuild_tensor, (root, offset, tuple(self._data.shape), strides, self._rg,
                                  str(self.device), type(self), state))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = _new(type(self))
        new._data = _deepcopy_array(self._data, memo)
        new._rg = self._rg
        new._grad_fn = None
        memo[id(self)] = new
        if self._grad is not None:
            new._grad = _copy.deepcopy(self._grad, memo)
        for k, v in self.__dict__.items():
            if k not in _INTERNAL:
                new.__dict__[k] = _copy.deepcopy(v, memo)
        if self._is_param and not type(self)._is_param:
            new._is_param = True
        return new


# Instance attributes that are ember's autograd/storage bookkeeping, not user state.
_INTERNAL = frozenset({"_grad", "_out_nr", "_vc", "_base", "_view_fn", "_accum",
                       "_retains_grad", "_inference", "_hooks", "_post_acc_hooks", "_is_param"})


def _root_of(a):
    """The NumPy array that owns ``a``'s memory, if it is a plain dense buffer; else None."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root is a or not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    return root


def _storage_of(a):
    """(storage array, byte offset, byte strides) describing ``a`` on the CPU."""
    if not isinstance(a, np.ndarray):
        a = a.get()
    root = _root_of(a)
    if root is None:
        if a.flags.c_contiguous or a.flags.f_contiguous:
            return a, 0, a.strides
        a = a.copy(order="K")
        return a, 0, a.strides
    if root.dtype != a.dtype:
        # a dtype view (Tensor.view(dtype)): the storage is rebuilt with the root's dtype, so
        # hand out the root's bytes reinterpreted as this tensor's dtype
        if root.nbytes % a.dtype.itemsize:
            a = a.copy(order="K")
            return a, 0, a.strides
        root = root.reshape(-1, order="A").view(np.uint8).view(a.dtype)
    return root, _data_ptr(a) - _data_ptr(root), a.strides


def _view_into(root, offset: int, shape, strides):
    return np.ndarray(shape, dtype=root.dtype, buffer=root, offset=offset, strides=strides)


def _deepcopy_array(a, memo):
    """A copy of ``a`` that keeps its strides, and keeps sharing memory with other tensors
    deep-copied in the same call that view the same storage (CPU)."""
    if not isinstance(a, np.ndarray):
        return a.copy(order="K")
    root = _root_of(a)
    if root is None:
        return a.copy(order="K")
    key = ("ember-storage", id(root))
    new_root = memo.get(key)
    if new_root is None:
        new_root = memo[key] = root.copy(order="K")
        memo.setdefault(id(memo), []).append(root)  # keep root alive, as copy.deepcopy does
    # a.dtype, not the root's: a may be a dtype view (Tensor.view(dtype))
    return np.ndarray(a.shape, dtype=a.dtype, buffer=new_root,
                      offset=_data_ptr(a) - _data_ptr(root), strides=a.strides)


def _rebuild_tensor(storage, offset, shape, strides, requires_grad, dev, cls=None, state=None):
    """Unpickling entry point of ``Tensor.__reduce_ex__``."""
    d = _backend.device(dev)
    if d.type != "cpu" and not _backend.is_cuda_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "torch.cuda.is_available() is False. If you are running on a "
                           "CPU-only machine, please use torch.load with "
                           "map_location=torch.device('cpu') to map your storages to the CPU.")
    arr = _view_into(storage, offset, tuple(shape), tuple(strides))
    cls = Tensor if cls is None else cls
    t = _new(cls)
    t._data = _backend.to_device(arr, d)
    t._rg = bool(requires_grad)
    t._grad_fn = None
    if state:
        t.__dict__.update(state)
    return t


def _data_ptr(a) -> int:
    if isinstance(a, np.ndarray):
        return a.__array_interface__["data"][0]
    return int(a.data.ptr)


def _contiguous_strides(shape) -> tuple:
    st = []
    acc = 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st))


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int", "int16": "short int",
            "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
                 "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                 "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                 "complex128": "ComplexDouble"}


def _c_name(d: _dtype.dtype) -> str:
    return _C_NAMES[d._name]


def _legacy_scalar_name(d: _dtype.dtype) -> str:
    """PyTorch's ScalarType name (``Float``, ``Long``) used in many error messages."""
    return _SCALAR_NAMES[d._name]


def _dtype_from_legacy_name(name: str) -> _dtype.dtype:
    short = name.rsplit(".", 1)[-1]
    for k, v in _LEGACY_NAMES.items():
        if v == short:
            return _dtype._BY_NAME[k]
    raise ValueError(f"invalid type: '{name}'")


def is_tensor(obj) -> bool:
    """``torch.is_tensor``."""
    return isinstance(obj, Tensor)


def is_storage(obj) -> bool:
    """``torch.is_storage``: ember has no storage objects, so always False."""
    return False


def numel(input) -> int:
    """``torch.numel``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input.numel()


def is_nonzero(input) -> bool:
    """``torch.is_nonzero``: ``bool`` of a one-element tensor, with PyTorch's errors."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_nonzero(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return bool(input)


# Exposed for ops: lookup of ember dtypes by NumPy dtype.
dtype_of = from_numpy_dtype
