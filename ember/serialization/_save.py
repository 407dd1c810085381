"""``torch.save`` for ember: PyTorch's zip checkpoint format, readable by PyTorch.

The object is pickled first (into memory, with tensors replaced by references to their
storages), then the archive is written: ``data.pkl``, the format records, one ``data/<key>``
record per storage. An object that cannot be pickled therefore fails before any file is touched.

The pickler is Python's own (``pickle._Pickler``) with two additions: tensors, dtypes, devices,
``Size`` and storages are reduced to the globals PyTorch uses (``torch._utils._rebuild_tensor_v2``,
``torch.float32``, ...), written by name; and storages become persistent ids
``('storage', torch.<Type>Storage, key, location, numel)``. (The C pickler cannot write a global
it cannot import, and ember must not need PyTorch installed.)
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import uuid
from collections import OrderedDict

import numpy as np

from .. import _backend
from .._tensor import _INTERNAL, Tensor, _contiguous_strides, _data_ptr, _Layout
from ..storage import UntypedStorage, byte_span, memory_root
from . import _globals
from . import _rebuild as R
from ._files import atomic_write, is_path
from ._locations import location_tag
from ._zip import ALIGNMENT, ZipWriter

DEFAULT_PROTOCOL = 2


class _StorageRef:
    """Stands in the pickle for one storage; the pickler writes its persistent id."""

    __slots__ = ("pid", "span")

    def __init__(self, pid: tuple, span):
        self.pid = pid
        self.span = span  # the storage's bytes: a 1-D uint8 array (NumPy or CuPy)


class _Storages:
    """The storages met while pickling, one per memory root, keyed "0", "1", ..."""

    def __init__(self):
        self._by_root: dict[int, tuple] = {}  # id(root) -> (root, dtype, ref)
        self.refs: list[_StorageRef] = []

    def locate(self, a):
        """(storage ref, element offset, element strides) for array ``a``: the storage is all
        of the memory ``a`` views, so views of one tensor share one storage in the file."""
        root = memory_root(a)
        span = byte_span(root)
        isz = a.dtype.itemsize
        offset = _data_ptr(a) - _data_ptr(root)
        strides = a.strides if a.size else tuple(s * isz for s in _contiguous_strides(a.shape))
        if span is None or offset % isz or span.size % isz or \
                any(s < 0 or s % isz for s in strides):
            # a layout PyTorch's storages cannot describe (negative or unaligned strides): save
            # this tensor's elements on their own
            xp = _backend.array_module(a)
            root = xp.array(a, order="C", copy=True)
            span, offset, strides = byte_span(root), 0, root.strides
        ref = self._ref(root, span, a.dtype)
        return ref, offset // isz, tuple(s // isz for s in strides)

    def _ref(self, root, span, np_dtype) -> _StorageRef:
        from .._dtype import from_numpy_dtype

        dtype = from_numpy_dtype(np_dtype)
        hit = self._by_root.get(id(root))
        if hit is not None:
            if hit[1] is not dtype:
                raise RuntimeError("Cannot save multiple tensors or storages that view the same "
                                   "data as different types")
            return hit[2]
        key = str(len(self.refs))
        location = location_tag(UntypedStorage._wrap(span))
        pid = ("storage", R.STORAGE_TYPE_OF_DTYPE[dtype], key, location,
               span.size // dtype.itemsize)
        ref = _StorageRef(pid, span)
        self._by_root[id(root)] = (root, dtype, ref)  # root kept alive: its id stays unique
        self.refs.append(ref)
        return ref


class _Pickler(pickle._Pickler):
    """Python's pickler, writing ember's tensors and types under PyTorch's names."""

    def __init__(self, file, protocol: int, storages: _Storages):
        super().__init__(file, protocol)
        self._storages = storages
        self._names = _globals.save_names()

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if id(obj) in self._names:
            return "global"  # any string: pickle then calls save_global, which names it
        if type(obj) is _Layout:
            return (R._get_layout, ("torch.strided",))
        return NotImplemented

    def save_global(self, obj, name=None):
        spelled = self._names.get(id(obj))
        if spelled is None:
            return super().save_global(obj, name)
        module, qualname = spelled
        if self.proto >= 4:
            self.save(module)
            self.save(qualname)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode())
        self.memoize(obj)

    def _reduce_tensor(self, t: Tensor):
        from ..nn.parameter import Parameter

        state = {k: v for k, v in t.__dict__.items() if k not in _INTERNAL}
        if isinstance(t, Parameter):
            data = Tensor._make(t._data)
            if state:
                return (R._rebuild_parameter_with_state, (data, t._rg, OrderedDict(), state))
            return (R._rebuild_parameter, (data, t._rg, OrderedDict()))
        ref, offset, stride = self._storages.locate(t._data)
        args = (ref, offset, tuple(t._data.shape), stride, t._rg, OrderedDict())
        if type(t) is Tensor and not state:
            return (R._rebuild_tensor_v2, args)
        return (R._rebuild_from_type_v2, (R._rebuild_tensor_v2, type(t), args, state))


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------

def save(obj: object, f, pickle_module=pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """``torch.save(obj, f)``: write ``obj`` to ``f`` (a path or a binary file object) in
    PyTorch's zip format, which ``torch.load`` reads.

    Tensors are saved with their storage, offset and strides, so views keep sharing memory
    when loaded. A path is written atomically (temporary file, fsync, rename): if saving fails,
    the file that was there is left unchanged. Unlike PyTorch, ``pickle_module`` must be
    ``pickle`` and the legacy (pre-1.6) format cannot be written.
    """
    if not is_path(f) and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")
    if pickle_module is not pickle:
        raise NotImplementedError("ember.save pickles with the pickle module only; "
                                  f"pickle_module={getattr(pickle_module, '__name__', '?')} is not "
                                  "supported")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip-based format (PyTorch's "
                                  "default since 1.6); _use_new_zipfile_serialization=False is "
                                  "not supported")
    if isinstance(pickle_protocol, bool) or not isinstance(pickle_protocol, int) or \
            not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"pickle_protocol must be an int from 2 to {pickle.HIGHEST_PROTOCOL}, "
                         f"got {pickle_protocol!r}")
    storages = _Storages()
    buf = io.BytesIO()
    _Pickler(buf, pickle_protocol, storages).dump(obj)
    pkl = buf.getbuffer()
    if is_path(f):
        archive = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
        with atomic_write(f) as fh:
            _write_archive(fh, archive, pkl, storages.refs, not _disable_byteorder_record,
                           sync=True)
    else:
        _write_archive(f, "archive", pkl, storages.refs, not _disable_byteorder_record)
        if hasattr(f, "flush"):
            f.flush()


def _write_archive(fh, archive: str, pkl, refs, byteorder: bool, sync: bool = False) -> None:
    zw = ZipWriter(fh, archive, sync=sync)
    records = [("data.pkl", pkl), (".format_version", "1"),
               (".storage_alignment", str(ALIGNMENT))]
    if byteorder:
        records.append(("byteorder", sys.byteorder))
    for ref in refs:
        name = f"data/{ref.pid[2]}"
        if isinstance(ref.span, np.ndarray):
            records.append((name, ref.span))
        else:  # a device storage: copied to the host when its turn comes, one at a time
            zw.write_records(records)
            records = []
            zw.write_records([(name, _backend.to_device(ref.span, _backend.CPU))])
    records += [("version", "3\n"), (".data/serialization_id", f"{uuid.uuid4().int:040d}")]
    zw.write_records(records)
    zw.close()
