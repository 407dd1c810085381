"""What a checkpoint's pickle calls to rebuild tensors, written for ember.

PyTorch pickles a tensor as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, backward_hooks)`` with the storage as a persistent id naming a storage class
(``torch.FloatStorage``). These functions take the same arguments and build ember tensors; the
tables in ``_globals`` map PyTorch's names onto them. Every argument is checked, since in a
``weights_only`` load they come from an untrusted file.
"""

from __future__ import annotations

from .. import _dtype
from .._tensor import _INTERNAL, _LEGACY_NAMES, Tensor, strided
from ..storage import TypedStorage, UntypedStorage, strided_view


class StorageType:
    """A storage class named in a checkpoint (``torch.FloatStorage``): the dtype it holds.

    ``torch.UntypedStorage`` holds bytes (uint8)."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: _dtype.dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"StorageType(dtype={self.dtype})"


# torch.FloatStorage & co., one per ember dtype, keyed by the class name PyTorch pickles
STORAGE_TYPES: dict[str, StorageType] = {}
for _name, _legacy in _LEGACY_NAMES.items():
    _sname = _legacy.replace("Tensor", "Storage")
    STORAGE_TYPES[_sname] = StorageType(_sname, _dtype._BY_NAME[_name])
UNTYPED = StorageType("UntypedStorage", _dtype.uint8)
STORAGE_TYPE_OF_DTYPE = {st.dtype: st for st in STORAGE_TYPES.values()}


def _check_int(value, what: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuntimeError(f"{fn}: {what} must be an int, got {type(value).__name__}")
    return value


def _check_ints(values, what: str, fn: str) -> tuple:
    if not isinstance(values, (tuple, list)):
        raise RuntimeError(f"{fn}: {what} must be a tuple of ints, got {type(values).__name__}")
    out = tuple(_check_int(v, what, fn) for v in values)
    if any(v < 0 for v in out):
        raise RuntimeError(f"{fn}: negative {what} {list(out)}")
    return out


def _tensor_on(storage, offset, size, stride, fn: str, dtype=None) -> Tensor:
    """A tensor viewing ``storage`` (a TypedStorage, or untyped bytes read as ``dtype``),
    after checking that the geometry lies inside the storage's bytes."""
    if isinstance(storage, TypedStorage):
        untyped, dtype = storage._untyped_storage, dtype or storage.dtype
    elif isinstance(storage, UntypedStorage) and dtype is not None:
        untyped = storage
    else:
        raise RuntimeError(f"{fn}: expected a storage as first argument, got "
                           f"{type(storage).__name__}")
    if not isinstance(dtype, _dtype.dtype):
        raise RuntimeError(f"{fn}: expected a dtype, got {type(dtype).__name__}")
    offset = _check_int(offset, "storage offset", fn)
    size = _check_ints(size, "size", fn)
    stride = _check_ints(stride, "stride", fn)
    if offset < 0:
        raise RuntimeError(f"{fn}: negative storage offset {offset}")
    if len(size) != len(stride):
        raise RuntimeError(f"{fn}: size {list(size)} and stride {list(stride)} have different "
                           "lengths")
    if untyped.nbytes() % dtype.itemsize:
        raise RuntimeError(f"{fn}: a storage of {untyped.nbytes()} bytes is not a whole number "
                           f"of {dtype} elements")
    flat = untyped._typed(dtype)
    have = int(flat.size)
    if 0 in size:
        offset = min(offset, have)  # an empty tensor reads nothing; keep the view in bounds
    else:
        need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
        if need > have:
            isz = dtype.itemsize
            raise RuntimeError(
                f"{fn}: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
                f"and itemsize {isz} requiring a storage size of {need * isz} are out of bounds "
                f"for storage of size {have * isz}")
    return Tensor._make(strided_view(flat, offset, size, stride))


class PendingStorage(TypedStorage):
    """A storage whose bytes are read only after the pickle (the legacy format)."""

    __slots__ = ()


def _apply_metadata(t: Tensor, metadata, storage, fn: str) -> Tensor:
    """PyTorch records lazily conjugated/negated tensors as metadata bits; ember has no such
    bits and applies them (the result no longer shares the file's storage)."""
    if not metadata:
        return t
    if isinstance(storage, PendingStorage):
        raise NotImplementedError(f"{fn}: conjugate/negative-bit tensors in legacy-format "
                                  "(pre-1.6) checkpoints are not supported by ember")
    if not isinstance(metadata, dict) or not set(metadata) <= {"conj", "neg"}:
        raise NotImplementedError(f"{fn}: tensor metadata {metadata!r} is not supported by ember "
                                  "(only the conj and neg bits are)")
    if metadata.get("neg"):
        t = Tensor._make(-t._data)
    if metadata.get("conj"):
        t = Tensor._make(t._data.conj())
    return t


def _set_requires_grad(t: Tensor, requires_grad) -> Tensor:
    if not isinstance(requires_grad, bool):
        raise RuntimeError(f"requires_grad must be a bool, got {type(requires_grad).__name__}")
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride) -> Tensor:
    """``torch._utils._rebuild_tensor``."""
    return _tensor_on(storage, storage_offset, size, stride, "_rebuild_tensor")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None) -> Tensor:
    """``torch._utils._rebuild_tensor_v2``: a tensor viewing a loaded storage. Backward hooks
    are not restored (PyTorch keeps them only for old pickles)."""
    t = _tensor_on(storage, storage_offset, size, stride, "_rebuild_tensor_v2")
    t = _apply_metadata(t, metadata, storage, "_rebuild_tensor_v2")
    return _set_requires_grad(t, requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None) -> Tensor:
    """``torch._utils._rebuild_tensor_v3``: the storage is untyped and ``dtype`` is given."""
    raw = storage._untyped_storage if isinstance(storage, TypedStorage) else storage
    t = _tensor_on(raw, storage_offset, size, stride, "_rebuild_tensor_v3", dtype)
    t = _apply_metadata(t, metadata, storage, "_rebuild_tensor_v3")
    return _set_requires_grad(t, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """``torch._utils._rebuild_parameter``."""
    from ..nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise RuntimeError(f"_rebuild_parameter: expected a tensor, got {type(data).__name__}")
    return Parameter(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """``torch._utils._rebuild_parameter_with_state``: also restores instance attributes."""
    return _set_state(_rebuild_parameter(data, requires_grad, backward_hooks), state,
                      "_rebuild_parameter_with_state")


TENSOR_REBUILDERS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
                     _rebuild_parameter_with_state)


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: rebuild with ``func(*args)``, then make the
    result an instance of ``new_type`` (a Tensor subclass) and restore its attributes.

    ``func`` must be one of the tensor rebuild functions: this is called from restricted loads,
    so it may not become a way to call anything else."""
    if func not in TENSOR_REBUILDERS:
        raise RuntimeError(f"_rebuild_from_type_v2: {func!r} is not a tensor rebuild function")
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise RuntimeError(f"_rebuild_from_type_v2: {new_type!r} is not a Tensor type")
    if not isinstance(args, tuple):
        raise RuntimeError(f"_rebuild_from_type_v2: arguments must be a tuple, got "
                           f"{type(args).__name__}")
    ret = func(*args)
    if type(ret) is not new_type:
        from ..nn.parameter import Parameter, _alias

        if new_type is Parameter:
            ret = Parameter(ret, ret.requires_grad)
        else:
            ret = _alias(new_type, ret, ret.requires_grad)
    setstate = getattr(type(ret), "__setstate__", None)
    if setstate is not None and setstate is not getattr(Tensor, "__setstate__", None):
        ret.__setstate__(state)
        return ret
    return _set_state(ret, state, "_rebuild_from_type_v2")


def _set_state(t: Tensor, state, fn: str) -> Tensor:
    """Restore pickled instance attributes (a dict, or PyTorch's ``(dict, slots)`` pair),
    leaving ember's own bookkeeping attributes alone."""
    if state is None:
        return t
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    for part in (state, slots):
        if part is None:
            continue
        if not isinstance(part, dict):
            raise RuntimeError(f"{fn}: tensor state must be a dict, got {type(part).__name__}")
        for k, v in part.items():
            if not isinstance(k, str):
                raise RuntimeError(f"{fn}: attribute names must be str, got {type(k).__name__}")
            if k not in _INTERNAL and k not in ("_data", "_rg", "_grad_fn"):
                setattr(t, k, v)
    return t


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    """``torch._utils._rebuild_device_tensor_from_cpu_tensor``: a CPU tensor moved to
    ``device`` (PyTorch uses it for devices whose storages cannot be pickled)."""
    if not isinstance(data, Tensor):
        raise RuntimeError("_rebuild_device_tensor_from_cpu_tensor: expected a tensor, got "
                           f"{type(data).__name__}")
    return _set_requires_grad(data.to(dtype=dtype, device=device), requires_grad)


def _get_layout(name):
    """``torch.serialization._get_layout``: a layout from its printed name."""
    if name == "torch.strided":
        return strided
    raise NotImplementedError(f"ember has only the torch.strided layout, not {name!r}")


def _unsupported(kind: str):
    def rebuild(*args, **kwargs):
        raise NotImplementedError(f"this checkpoint holds {kind}, which ember does not support")

    rebuild.__name__ = f"_rebuild_{kind.replace(' ', '_')}"
    return rebuild


UNSUPPORTED_REBUILDERS = {
    "_rebuild_qtensor": _unsupported("quantized tensors"),
    "_rebuild_sparse_tensor": _unsupported("sparse tensors"),
    "_rebuild_sparse_csr_tensor": _unsupported("sparse CSR tensors"),
    "_rebuild_meta_tensor_no_storage": _unsupported("meta tensors"),
    "_rebuild_nested_tensor": _unsupported("nested tensors"),
    "_rebuild_wrapper_subclass": _unsupported("tensor wrapper subclasses"),
    "_rebuild_device_tensor_from_numpy": _unsupported("device tensors pickled through NumPy"),
}


def latin1_encode(obj, encoding: str = "utf-8", errors: str = "strict"):
    """``_codecs.encode`` as protocol-2 pickles use it for ``bytes`` (``encode(str,
    'latin1')``); restricted to that codec, so a file cannot reach other codecs."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("latin1", "iso88591"):
        raise RuntimeError(f"_codecs.encode: only the latin1 codec is allowed in a weights_only "
                           f"load, got {encoding!r}")
    if not isinstance(obj, str):
        raise RuntimeError(f"_codecs.encode: expected a str, got {type(obj).__name__}")
    return obj.encode("latin1", errors)

