"""``torch.nn.parameter``: ``Parameter``, ``Buffer`` and the uninitialized (lazy) variants.

A ``Parameter`` is a ``Tensor`` subclass whose only difference is that assigning it to a
``Module`` attribute registers it. Ops on a Parameter return plain tensors, as in PyTorch.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .. import _backend
from .._tensor import Tensor

__all__ = ["Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedBuffer",
           "UninitializedTensorMixin"]

_new = object.__new__

# Instance attributes that are ember's autograd/storage bookkeeping, not user state to pickle.
_INTERNAL = frozenset({"_grad", "_out_nr", "_vc", "_base", "_view_fn", "_accum",
                       "_retains_grad", "_inference", "_hooks", "_post_acc_hooks", "_is_param"})


def _empty_default():
    from ..ops.creation import empty

    return empty(0)


def _alias(cls, data: Tensor, requires_grad: bool) -> Tensor:
    """A leaf of class ``cls`` sharing storage and version counter with ``data`` (PyTorch's
    ``Tensor._make_subclass``)."""
    requires_grad = bool(requires_grad)
    if requires_grad and not (data.is_floating_point() or data.is_complex()):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    t = _new(cls)
    t._data = data._data
    t._rg = requires_grad
    t._grad_fn = None
    t._vc = data._version_counter()
    if data._inference:
        t._inference = True
    return t


class _ParameterMeta(type):
    # Parameter(tensor_subclass_instance) marks the detached instance with `_is_param`, which
    # must make it count as a Parameter (PyTorch's _ParameterMeta does the same).
    def __instancecheck__(cls, instance) -> bool:
        if cls is Parameter and isinstance(instance, Tensor) and \
                getattr(instance, "_is_param", False):
            return True
        return super().__instancecheck__(instance)


class Parameter(Tensor, metaclass=_ParameterMeta):
    """``torch.nn.Parameter(data=None, requires_grad=True)``: a tensor that a ``Module``
    registers as a parameter when assigned as an attribute.

    Shares storage with ``data``; ``Parameter()`` holds an empty float tensor.
    """

    _is_param = True

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = _empty_default()
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not "
                            f"{type(data).__name__}")
        if type(data) is Tensor or type(data) is Parameter or cls is not Parameter:
            return _alias(cls, data, requires_grad)
        t = data.detach()
        if type(t) is not type(data):
            t = _alias(type(data), data, requires_grad)
        else:
            t.requires_grad_(requires_grad)
        t._is_param = True
        return t

    def __init__(self, data=None, requires_grad: bool = True):  # construction is in __new__
        pass

    def __deepcopy__(self, memo):
        # Like PyTorch: a fresh Parameter with cloned data; .grad and attributes are not copied.
        if id(self) in memo:
            return memo[id(self)]
        xp = _backend.array_module(self._data)
        data = Tensor._make(xp.array(self._data, copy=True))
        result = type(self)(data, self._rg)
        memo[id(self)] = result
        return result

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        state = {k: v for k, v in self.__dict__.items() if k not in _INTERNAL}
        data = Tensor._make(self._data)
        if not state:
            return (_rebuild_parameter, (data, self._rg, OrderedDict()))
        return (_rebuild_parameter_with_state, (data, self._rg, OrderedDict(), state))


def _rebuild_parameter(data: Tensor, requires_grad: bool, backward_hooks) -> Parameter:
    """Unpickling entry point, with the signature of ``torch._utils._rebuild_parameter``."""
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data: Tensor, requires_grad: bool, backward_hooks,
                                  state: dict) -> Parameter:
    """``torch._utils._rebuild_parameter_with_state``: also restores instance attributes."""
    p = Parameter(data, requires_grad)
    for k, v in state.items():
        setattr(p, k, v)
    return p


class UninitializedTensorMixin:
    """Shared behaviour of the lazy placeholders: no shape until ``materialize(shape)``."""

    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate the data with ``shape`` and turn into ``cls_to_become`` (in place)."""
        from ..ops.creation import empty

        if device is None:
            device = self.device
        if dtype is None:
            dtype = self.dtype
        if isinstance(shape, int):
            shape = (shape,)
        self._data = empty(tuple(shape), device=device, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into "
            "an initialized one. Call `forward` to initialize the parameters before accessing "
            "their attributes.")

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self._rg,))


def is_lazy(param: Any) -> bool:
    """True for an uninitialized (lazy) parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """``torch.nn.UninitializedParameter``: a Parameter whose shape is not known yet.

    Differs from PyTorch: ember has no ``__torch_function__``, so using it in an op before
    ``materialize`` computes on its empty data instead of raising PyTorch's ValueError.
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        from ..ops.creation import empty

        return _alias(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self._rg, self.device, self.dtype)
        memo[id(self)] = result
        return result


class _BufferMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer and isinstance(instance, Tensor) and \
                getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """``torch.nn.Buffer(data=None, *, persistent=True)``: marks a tensor so that assigning it
    to a Module attribute registers a buffer. Returns a detached plain tensor (as PyTorch)."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = _empty_default()
        t = data.detach()
        t.requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """``torch.nn.UninitializedBuffer``: a buffer whose shape is not known yet."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None,
                persistent: bool = True):
        from ..ops.creation import empty

        t = _alias(cls, empty(0, device=device, dtype=dtype), requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t

    def __init__(self, requires_grad: bool = False, device=None, dtype=None,
                 persistent: bool = True):
        pass
