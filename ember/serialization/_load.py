"""``torch.load`` for ember: PyTorch's zip checkpoints (and the legacy pre-1.6 format), with no
PyTorch installed.

With ``weights_only=True`` (the default, as in PyTorch >= 2.6) the pickle is run by ember's
restricted unpickler (``_unpickler``); there is no fallback to full pickle. ``weights_only=False``
uses the pickle module, with PyTorch's names mapped onto ember.
"""

from __future__ import annotations

import contextlib
import io
import mmap as _mmap
import os
import pickle
import struct
import sys
import warnings
from pickle import UnpicklingError

import numpy as np

from .. import _dtype
from ..storage import TypedStorage, UntypedStorage
from . import _globals
from ._files import describe, is_path
from ._locations import restore_function
from ._rebuild import PendingStorage, StorageType
from ._unpickler import WeightsUnpickler, globals_in_pickle
from ._zip import ZipReader

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # the legacy format's first pickle
PROTOCOL_VERSION = 1001
_ZIP_MAGIC = b"PK\x03\x04"

UNSAFE_MESSAGE = ("Re-running `torch.load` with `weights_only` set to `False` will likely "
                  "succeed, but it can result in arbitrary code execution. Do it only if you got "
                  "the file from a trusted source.")


@contextlib.contextmanager
def _opened(f):
    if is_path(f):
        with open(f, "rb") as fh:
            yield fh
        return
    if not all(hasattr(f, a) for a in ("read", "seek", "tell")):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with "
                             "'read', 'seek' and 'tell' attributes")
    seekable = getattr(f, "seekable", None)
    if seekable is not None and not seekable():
        raise io.UnsupportedOperation(
            "You can only torch.load from a file that is seekable. Please pre-load the data into "
            "a buffer like io.BytesIO and try to load from it instead.")
    yield f


def _ascii(s):
    return s.decode("ascii") if isinstance(s, bytes) else s


def _weights_only_message(message: str, fname: str) -> str:
    if "is blocked" in message:
        return (f"Weights only load of {fname} failed: {message} Loading it with "
                "weights_only=False would run that code: do it only if you trust the source of "
                "the checkpoint.")
    if "was not an allowed global" in message:
        return (f"Weights only load of {fname} failed. This file can still be loaded, to do so "
                "you have two options, do those steps only if you trust the source of the "
                f"checkpoint.\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following error "
                f"message.\n\tWeightsUnpickler error: {message}")
    return (f"Weights only load of {fname} failed. {UNSAFE_MESSAGE}\n\nWeightsUnpickler error: "
            f"{message}")


def _with_name(e: Exception, fname: str) -> Exception:
    """The same exception with the file name in front of its message (when it lacks it)."""
    msg = str(e)
    if fname in msg:
        return e
    try:
        return type(e)(f"{fname}: {msg}")
    except Exception:  # an exception type whose constructor takes something else
        return e


def _full_unpickler(pickle_module, fileobj, persistent_load, load_args):
    class Unpickler(pickle_module.Unpickler):
        def find_class(self, module, name):
            obj = _globals.resolve_full(module, name)
            return obj if obj is not None else super().find_class(module, name)

        def persistent_load(self, pid):
            return persistent_load(pid)

    return Unpickler(fileobj, **load_args)


def _storage_pid(pid, fname: str):
    """(dtype, key, location, numel) of a zip checkpoint's storage persistent id, checked."""
    if not isinstance(pid, tuple) or len(pid) != 5 or _ascii(pid[0]) != "storage":
        raise UnpicklingError(f"{fname}: unexpected persistent id {pid!r}: expected "
                              "('storage', storage_type, key, location, numel)")
    _, stype, key, location, numel = pid
    key, location = _ascii(key), _ascii(location)
    if not isinstance(stype, StorageType):
        raise UnpicklingError(f"{fname}: persistent id names {stype!r}, not a storage type")
    if not isinstance(key, str) or not isinstance(location, str):
        raise UnpicklingError(f"{fname}: storage key and location must be str, got {pid!r}")
    if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
        raise UnpicklingError(f"{fname}: invalid storage size {numel!r} for storage {key!r}")
    return stype.dtype, key, location, numel


def _byteswap(arr: np.ndarray, dtype: _dtype.dtype) -> None:
    """Swap each element's bytes in place (each half for complex dtypes)."""
    size = dtype.itemsize // 2 if dtype.is_complex else dtype.itemsize
    if size > 1:
        arr.view(f"u{size}").byteswap(inplace=True)


def _unpickle(data, persistent_load, fname: str, weights_only: bool, pickle_module,
              load_args: dict, start: int = 0):
    """Run one pickle from ``data`` (a buffer) at ``start``; returns (object, end position)."""
    if weights_only:
        up = WeightsUnpickler(data, persistent_load, start=start, **load_args)
        try:
            return up.load(), up.end
        except UnpicklingError as e:
            raise UnpicklingError(_weights_only_message(str(e), fname)) from None
        except RuntimeError as e:  # a rebuild function refused its arguments
            raise _with_name(e, fname) from None
    src = data if isinstance(data, _mmap.mmap) else io.BytesIO(data)
    src.seek(start)
    obj = _full_unpickler(pickle_module, src, persistent_load, load_args).load()
    return obj, src.tell()


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args):
    """``torch.load(f, map_location=None, *, weights_only=True, mmap=False)``: the object saved
    in ``f`` (a path or a seekable binary file object) by ``torch.save`` or ``ember.save``.

    ``map_location`` (a device string, ``ember.device``, a dict of location tags, or a callable
    ``(storage, location) -> storage or None``) says where tensors go; by default to the device
    they were saved from. ``weights_only=True`` allows only tensors, containers, primitive
    types and allowlisted globals (``add_safe_globals``); ``weights_only=False`` unpickles
    anything and so runs code from the file: use it only for files you trust. ``mmap=True``
    maps the tensor data from the file (copy-on-write) instead of reading it. A path ending in
    ``.safetensors`` is read with ``load_safetensors``, as PyTorch does.
    """
    if weights_only is None:
        weights_only = pickle_module is None
    load_args = {"encoding": pickle_load_args.pop("encoding", "utf-8")}
    if "errors" in pickle_load_args:
        load_args["errors"] = pickle_load_args.pop("errors")
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                               "specified")
        if pickle_load_args:
            warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    else:
        pickle_module = pickle if pickle_module is None else pickle_module
        load_args.update(pickle_load_args)
        warnings.warn("ember.load(weights_only=False) unpickles with the full pickle module, "
                      "which can run arbitrary code from the file: only load files you trust.",
                      UserWarning, stacklevel=2)
    fname = describe(f)
    if is_path(f) and os.fspath(f).endswith(".safetensors"):
        return _load_safetensors_path(f, map_location)
    if mmap and not is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    restore = restore_function(map_location)
    with _opened(f) as fh:
        start = fh.tell()
        head = fh.read(4)
        fh.seek(start)
        if head == _ZIP_MAGIC:
            return _load_zip(fh, fname, restore, weights_only, pickle_module, load_args, mmap)
        if mmap:
            raise RuntimeError(f"mmap can only be used with files saved with `torch.save({fname}, "
                               "_use_new_zipfile_serialization=True), please torch.save your "
                               "checkpoint with this option in order to use mmap.")
        if not head:
            raise RuntimeError(f"{fname}: the file is empty (0 bytes): it is not a checkpoint")
        if head[:1] == pickle.PROTO:
            return _load_legacy(fh, fname, restore, weights_only, pickle_module, load_args)
        fh.seek(start + 257)
        if fh.read(5) == b"ustar":
            raise NotImplementedError(f"{fname} is in PyTorch's tar format (before 0.4), which "
                                      "ember cannot load")
        raise RuntimeError(f"{fname} is not a checkpoint: expected a zip archive written by "
                           "torch.save (or the legacy pickle format), but the file starts with "
                           f"{head!r}")


def _load_safetensors_path(f, map_location):
    from ._safetensors import load_safetensors

    if isinstance(map_location, (dict,)) or callable(map_location):
        raise RuntimeError("Loading safetensors file with dict or callable map_location is not "
                           "supported. Use a device string or torch.device instead.")
    return load_safetensors(f, device="cpu" if map_location is None else str(map_location))


def _load_zip(fh, fname, restore, weights_only, pickle_module, load_args, mmap):
    reader = ZipReader(fh, fname)
    mapped = None
    if mmap:
        mapped = _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_COPY)
    byteorder = sys.byteorder
    if reader.has_record("byteorder"):
        byteorder = reader.read_record("byteorder").decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise RuntimeError(f"{fname}: Unknown endianness type: {byteorder}")
    elif not reader.has_record(".format_version"):
        byteorder = "little"  # files from before the byteorder record were little-endian
    loaded: dict[str, TypedStorage] = {}

    def persistent_load(pid):
        dtype, key, location, numel = _storage_pid(pid, fname)
        hit = loaded.get(key)
        if hit is not None:
            return hit
        arr = reader.read_array(f"data/{key}", numel * dtype.itemsize, mapped)
        if byteorder != sys.byteorder:
            _byteswap(arr, dtype)
        typed = TypedStorage(wrap_storage=restore(UntypedStorage._wrap(arr), location),
                             dtype=dtype)
        loaded[key] = typed
        return typed

    pkl = reader.read_record("data.pkl")
    return _unpickle(pkl, persistent_load, fname, weights_only, pickle_module, load_args)[0]


def _load_legacy(fh, fname, restore, weights_only, pickle_module, load_args):
    """PyTorch's format before 1.6: pickles of the magic number, the protocol version and the
    system info, the object (storages as persistent ids), the storage keys; then each storage's
    element count and bytes. Storages are filled after the object is built, so they load to
    the CPU only."""
    start = fh.tell()
    try:
        buf = _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        fh.seek(0)
        buf = fh.read()

    def plain(pos):
        return _unpickle(buf, _no_persistent_ids, fname, True, None, load_args, pos)

    magic, pos = plain(start)
    if magic != MAGIC_NUMBER:
        raise RuntimeError(f"{fname}: Invalid magic number; corrupt file?")
    version, pos = plain(pos)
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"{fname}: Invalid protocol version: {version}")
    sys_info, pos = plain(pos)
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise NotImplementedError(f"{fname} is a legacy-format checkpoint from a big-endian "
                                  "machine, which ember cannot load")
    roots: dict = {}  # key -> (uint8 array, dtype, numel, location)
    views: dict = {}

    def persistent_load(pid):
        if isinstance(pid, tuple) and pid and _ascii(pid[0]) == "module" and not weights_only:
            return pid[1]  # a Module class pickled with its source (the source is not checked)
        if not isinstance(pid, tuple) or len(pid) != 6 or _ascii(pid[0]) != "storage":
            raise UnpicklingError(f"{fname}: unexpected persistent id {pid!r}")
        dtype, key, location, numel = _storage_pid(pid[:5], fname)
        if key not in roots:
            if numel * dtype.itemsize > len(buf):
                raise RuntimeError(f"{fname}: storage {key!r} declares {numel} elements, more "
                                   "than the file holds")
            roots[key] = (np.empty(numel * dtype.itemsize, np.uint8), dtype, numel, location)
        arr = roots[key][0]
        view = pid[5]
        if view is None:
            return PendingStorage(wrap_storage=UntypedStorage._wrap(arr), dtype=dtype)
        view_key, offset, size = view
        if view_key not in views:
            isz = dtype.itemsize
            if not (isinstance(offset, int) and isinstance(size, int) and 0 <= offset and
                    0 <= size and (offset + size) * isz <= arr.size):
                raise RuntimeError(f"{fname}: storage view {view!r} lies outside storage {key!r}")
            views[view_key] = PendingStorage(
                wrap_storage=UntypedStorage._wrap(arr[offset * isz:(offset + size) * isz]),
                dtype=dtype)
        return views[view_key]

    result, pos = _unpickle(buf, persistent_load, fname, weights_only, pickle_module, load_args,
                            pos)
    keys, pos = plain(pos)
    if not isinstance(keys, list):
        raise RuntimeError(f"{fname}: corrupt legacy checkpoint: no list of storage keys")
    for key in keys:
        if key not in roots:
            raise RuntimeError(f"{fname}: corrupt legacy checkpoint: unknown storage {key!r}")
        arr, dtype, numel, location = roots[key]
        if pos + 8 + arr.size > len(buf):
            raise RuntimeError(f"{fname}: the file is truncated inside storage {key!r}")
        (count,) = struct.unpack("<q", buf[pos:pos + 8])
        if count != numel:
            raise RuntimeError(f"{fname}: corrupt legacy checkpoint: storage {key!r} holds "
                               f"{count} elements, the pickle says {numel}")
        arr[:] = np.frombuffer(buf, np.uint8, arr.size, pos + 8)
        pos += 8 + arr.size
    for arr, _, _, location in roots.values():
        moved = restore(UntypedStorage._wrap(arr), location)
        if moved._data is not arr:
            raise NotImplementedError(f"{fname} is a legacy-format (pre-1.6) checkpoint, which "
                                      "ember loads only to the CPU: pass map_location='cpu' and "
                                      "move the tensors afterwards")
    return result


def _no_persistent_ids(pid):
    raise UnpicklingError(f"unexpected persistent id {pid!r}")


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """``torch.serialization.get_unsafe_globals_in_checkpoint``: the globals a checkpoint
    names that a ``weights_only`` load would refuse (found without running its pickle)."""
    fname = describe(f)
    with _opened(f) as fh:
        start = fh.tell()
        head = fh.read(4)
        fh.seek(start)
        if head != _ZIP_MAGIC:
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        names = globals_in_pickle(ZipReader(fh, fname).read_record("data.pkl"))
    safe = set(_globals.torch_globals()) | set(_globals.user_globals())
    return sorted(names - safe)
