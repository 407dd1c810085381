"""``torch.storage``: the flat memory that tensors view.

ember keeps a tensor's memory in a NumPy/CuPy array; views share the array that owns the memory
(their ``.base`` chain). ``UntypedStorage`` exposes that memory as bytes, as PyTorch's storage
does, so that ``Tensor.untyped_storage()``, ``torch.load``'s ``map_location`` callables and
checkpoints can talk about storages. ``TypedStorage`` pairs one with a dtype (what
``torch.load`` hands to its tensor rebuild functions).
"""

from __future__ import annotations

import numpy as np

from . import _backend, _dtype
from ._backend import CPU, device_of

__all__ = ["UntypedStorage", "TypedStorage"]


class UntypedStorage:
    """``torch.UntypedStorage``: a contiguous byte buffer on one device.

    ``UntypedStorage(n)`` allocates ``n`` bytes (uninitialized), ``UntypedStorage([1, 2])``
    copies a sequence of byte values; ``device=`` places it. Storages returned by
    ``Tensor.untyped_storage()`` share memory with the tensor.
    """

    __slots__ = ("_data",)

    def __init__(self, size_or_sequence=0, *, device=None):
        d = CPU if device is None else _backend.canonical_device(device)
        xp = _backend.module_for(d)
        with _backend.on_device(d):
            if isinstance(size_or_sequence, (int, np.integer)):
                if size_or_sequence < 0:
                    raise RuntimeError(f"Storage size must be non-negative, got "
                                       f"{size_or_sequence}")
                self._data = xp.empty(int(size_or_sequence), dtype=np.uint8)
            else:
                self._data = xp.asarray(np.asarray(list(size_or_sequence), dtype=np.uint8))

    @classmethod
    def _wrap(cls, data) -> UntypedStorage:
        """A storage over ``data``, a 1-D uint8 array (NumPy or CuPy), without copying."""
        s = object.__new__(cls)
        s._data = data
        return s

    def nbytes(self) -> int:
        return int(self._data.size)

    def size(self) -> int:
        return int(self._data.size)

    __len__ = size

    def element_size(self) -> int:
        return 1

    @property
    def device(self) -> _backend.device:
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def data_ptr(self) -> int:
        from ._tensor import _data_ptr

        return _data_ptr(self._data)

    def to(self, *, device, non_blocking: bool = False) -> UntypedStorage:
        """This storage on ``device`` (itself when it is already there)."""
        d = _backend.canonical_device(device)
        moved = _backend.to_device(self._data, d)
        return self if moved is self._data else UntypedStorage._wrap(moved)

    def cpu(self) -> UntypedStorage:
        return self.to(device=CPU)

    def cuda(self, device=None, non_blocking: bool = False) -> UntypedStorage:
        idx = device if isinstance(device, int) else None
        d = _backend.device("cuda", idx) if idx is not None or device is None else device
        return self.to(device=d, non_blocking=non_blocking)

    def tolist(self) -> list:
        return [int(v) for v in _backend.to_device(self._data, CPU)]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return UntypedStorage._wrap(self._data[idx])
        return int(self._data[idx])

    def _typed(self, dtype: _dtype.dtype):
        """The bytes viewed as a 1-D array of ``dtype`` (shares memory)."""
        return self._data.view(_dtype.to_numpy_dtype(dtype))

    def __repr__(self) -> str:
        values = "\n".join(f" {v}" for v in self.tolist())
        head = f"[torch.storage.UntypedStorage(device={self.device}) of size {self.nbytes()}]"
        return values + "\n" + head if values else head


class TypedStorage:
    """``torch.TypedStorage``: an ``UntypedStorage`` read as elements of one dtype.

    PyTorch deprecates this class for users; ``torch.load`` still passes one to the tensor
    rebuild functions, which is what ember uses it for.
    """

    __slots__ = ("_untyped_storage", "dtype")

    def __init__(self, *, wrap_storage: UntypedStorage, dtype: _dtype.dtype,
                 _internal: bool = False):
        if not isinstance(wrap_storage, UntypedStorage):
            raise TypeError(f"TypedStorage(): argument 'wrap_storage' must be UntypedStorage, "
                            f"not {type(wrap_storage).__name__}")
        if wrap_storage.nbytes() % dtype.itemsize:
            raise RuntimeError(f"TypedStorage: {wrap_storage.nbytes()} bytes are not a whole "
                               f"number of {dtype} elements")
        self._untyped_storage = wrap_storage
        self.dtype = dtype

    def untyped(self) -> UntypedStorage:
        return self._untyped_storage

    @property
    def device(self) -> _backend.device:
        return self._untyped_storage.device

    @property
    def is_cuda(self) -> bool:
        return self._untyped_storage.is_cuda

    def size(self) -> int:
        return self._untyped_storage.nbytes() // self.dtype.itemsize

    __len__ = size

    def nbytes(self) -> int:
        return self._untyped_storage.nbytes()

    def element_size(self) -> int:
        return self.dtype.itemsize

    def data_ptr(self) -> int:
        return self._untyped_storage.data_ptr()

    def tolist(self) -> list:
        from ._tensor import Tensor

        return Tensor._make(self._untyped_storage._typed(self.dtype)).tolist()

    def __repr__(self) -> str:
        return (f"[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) of "
                f"size {self.size()}]")


# ---------------------------------------------------------------------------------------------
# the storage behind an array, and strided views into one
# ---------------------------------------------------------------------------------------------

def memory_root(a):
    """The array owning ``a``'s memory (the end of its ``.base`` chain of arrays)."""
    from .ops.shape import _storage

    return _storage(a)[0]


def byte_span(root):
    """A 1-D uint8 array over all of ``root``'s memory, sharing it; None when ``root`` has a
    negative stride (its first element is then not its lowest address)."""
    if root.flags.c_contiguous or root.flags.f_contiguous:
        flat = root.reshape(-1, order="A")
    elif any(s < 0 for s in root.strides):
        return None
    else:  # an as_strided/empty_strided result: view the span from first to last element
        from .ops.shape import _storage_numel

        xp = _backend.array_module(root)
        flat = xp.lib.stride_tricks.as_strided(root, (_storage_numel(root),),
                                               (root.dtype.itemsize,))
    return flat.view(np.uint8)


def strided_view(flat, offset: int, size, stride):
    """A view of the 1-D array ``flat`` with element ``size``/``stride`` starting ``offset``
    elements in; the caller has checked the bounds. On the CPU the view's ``.base`` is
    ``flat``'s owner, so tensors built this way share one storage."""
    isz = flat.dtype.itemsize
    bstrides = tuple(int(s) * isz for s in stride)
    if isinstance(flat, np.ndarray):
        return np.ndarray(tuple(size), flat.dtype, buffer=flat, offset=offset * isz,
                          strides=bstrides)
    xp = _backend.array_module(flat)
    return xp.ndarray(tuple(size), flat.dtype, memptr=flat.data + offset * isz,
                      strides=bstrides)
