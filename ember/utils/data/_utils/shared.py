"""Moving batches from worker processes to the main process through POSIX shared memory.

A worker pickles each result itself (``dumps``). Arrays of at least ``THRESHOLD`` bytes (tensor
storages and plain NumPy arrays) do not travel in the pickle: they live in a shared-memory
segment and the pickle only names it. The default collate function and the TensorDataset
gather already write their output into such a segment (``empty``), so a batch is copied once,
by the collation itself; other large arrays are copied into a segment once while pickling.
The main process (``loads``) maps the segment, unlinks its name at once (the memory lives on
until the last array using it is freed) and builds tensors on the mapping without copying.

Segments are named ``<prefix><counter>`` with a prefix per iterator and worker, so the main
process can remove what a killed worker left behind (``unlink_leftovers``). Where POSIX shared
memory is missing (Windows), or a segment cannot be allocated (shared memory full), arrays are
pickled in-band instead.
"""

from __future__ import annotations

import io
import itertools
import mmap
import os
import pickle
import threading
import warnings
from collections import deque

import numpy as np

from ...._tensor import Tensor, _rebuild_tensor

try:  # the module behind multiprocessing.shared_memory, minus its resource tracker
    import _posixshmem
except ImportError:  # pragma: no cover - Windows
    _posixshmem = None

#: Arrays of at least this many bytes go through shared memory; below it, pickling the bytes
#: is cheaper than creating, mapping and unlinking a segment.
THRESHOLD = 64 * 1024

_SHM_DIR = "/dev/shm"  # where Linux exposes POSIX shared memory, for the leftover sweep


class _Segment(mmap.mmap):
    """A mapped shared-memory segment (``name``, base address ``addr``)."""


class _WorkerState:
    prefix: str | None = None
    counter = itertools.count()
    pending: list = []  # segments created since the last message was pickled
    recent: deque = deque(maxlen=1)  # segment names of the latest messages
    serial = 0  # number of the message being pickled
    warned = False


_state = _WorkerState()
_local = threading.local()  # per-thread cache of segments attached by the current loads()


def available() -> bool:
    return _posixshmem is not None


def worker_setup(prefix: str | None, keep_messages: int) -> None:
    """Enable shared-memory output in this worker process; ``keep_messages`` is how many of
    its latest messages may still be unread by the main process at shutdown."""
    _state.prefix = prefix if available() else None
    _state.counter = itertools.count()
    _state.pending = []
    _state.recent = deque(maxlen=max(1, keep_messages))


def _address(seg: _Segment) -> int:
    return np.ndarray((0,), np.uint8, buffer=seg).__array_interface__["data"][0]


def _create(nbytes: int) -> _Segment | None:
    name = f"{_state.prefix}{next(_state.counter):x}"
    try:
        fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except OSError as e:
        _warn_once(e)
        return None
    try:
        # posix_fallocate reports a full /dev/shm as ENOSPC now; with ftruncate alone the
        # worker would die of SIGBUS on its first write.
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, nbytes)
        else:
            os.ftruncate(fd, nbytes)
        seg = _Segment(fd, nbytes)
    except OSError as e:
        _posixshmem.shm_unlink(name)
        _warn_once(e)
        return None
    finally:
        os.close(fd)
    seg.name = name
    seg.addr = _address(seg)
    seg.owned = True
    seg.serial = None
    _state.pending.append(seg)
    return seg


def _warn_once(err: OSError) -> None:
    if not _state.warned:
        _state.warned = True
        warnings.warn(f"DataLoader worker could not allocate shared memory ({err}); batches are "
                      "pickled instead, which is slower. Consider raising the size of /dev/shm.",
                      RuntimeWarning, stacklevel=3)


def empty(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array; in a worker, large ones live in shared memory."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for s in shape:
        nbytes *= s
    if _state.prefix is not None and nbytes >= THRESHOLD and not dtype.hasobject:
        seg = _create(nbytes)
        if seg is not None:
            return np.ndarray(shape, dtype, buffer=seg)
    return np.empty(shape, dtype)


def in_worker() -> bool:
    return _state.prefix is not None


# ------------------------------------------------------------------------------ pickling
class _SegmentRef:
    """Pickled in place of an array: which segment, and which array on it."""

    __slots__ = ("args",)

    def __init__(self, *args) -> None:
        self.args = args

    def __reduce__(self):
        return (_attach, self.args)


def _segment_of(a: np.ndarray):
    """The segment ``a`` lives in and its byte offset there, or (None, 0)."""
    base = a
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, _Segment) and not base.closed:
        return base, a.__array_interface__["data"][0] - base.addr
    return None, 0


def _may_reference(seg: _Segment) -> bool:
    # The main process unlinks a segment's name when it maps it, so a segment may appear in one
    # message only (any number of times); a later message gets a copy.
    if not seg.owned or seg.serial not in (None, _state.serial):
        return False
    seg.serial = _state.serial
    return True


def _shared_ref(a: np.ndarray):
    """A ``_SegmentRef`` for plain array ``a`` (after copying it into a new segment when it is
    not in one it may name), or None when ``a`` is better pickled in-band."""
    if a.dtype.hasobject:
        return None
    seg, offset = _segment_of(a)
    if seg is not None and _may_reference(seg):
        return _SegmentRef(seg.name, len(seg), a.dtype, a.shape, a.strides, offset)
    if a.nbytes < THRESHOLD:
        return None
    return _copy_to_segment(a)


def _copy_to_segment(a: np.ndarray):
    """A ``_SegmentRef`` for a C-contiguous copy of ``a`` in a new segment (None if none)."""
    copy = empty(a.shape, a.dtype)
    seg, offset = _segment_of(copy)
    if seg is None:
        return None
    np.copyto(copy, a)
    seg.serial = _state.serial
    return _SegmentRef(seg.name, len(seg), a.dtype, a.shape, copy.strides, offset)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return _reduce_tensor(obj)
        if type(obj) is np.ndarray:
            ref = _shared_ref(obj)
            if ref is not None:
                return ref.__reduce__()
        return NotImplemented


def _reduce_tensor(t: Tensor):
    fn, args = t.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    a = t._data
    if fn is not _rebuild_tensor or type(a) is not np.ndarray or a.dtype.hasobject:
        return fn, args  # a subclass with its own pickling, or a CUDA tensor
    root, offset, shape, strides, *rest = args
    seg, root_offset = _segment_of(root)
    if seg is not None and _may_reference(seg):
        # the storage is shared already: send its name, views keep offsets and strides
        ref = _SegmentRef(seg.name, len(seg), root.dtype, root.shape, root.strides, root_offset)
        return fn, (ref, offset, shape, strides, *rest)
    if root.nbytes > a.nbytes or a.nbytes >= THRESHOLD:
        # Send only this tensor's elements: a row of a big dataset tensor must not drag the
        # whole storage along (PyTorch would move that storage to shared memory instead).
        ref = _copy_to_segment(a) if a.nbytes >= THRESHOLD and in_worker() else None
        if ref is not None:
            return fn, (ref, 0, shape, ref.args[4], *rest)
        compact = a.copy(order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        return fn, (compact, 0, shape, compact.strides, *rest)
    return fn, args


def dumps(obj) -> bytes:
    """Pickle one worker result, moving its large arrays to shared memory."""
    _state.serial += 1
    try:
        buf = io.BytesIO()
        _Pickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
        return buf.getvalue()
    finally:
        sent = []
        for seg in _state.pending:
            if seg.serial == _state.serial:
                sent.append(seg.name)
            elif seg.owned:
                # allocated for this message but not part of it (collation failed, or a
                # custom collate_fn copied the data elsewhere): nobody will map it
                seg.owned = False
                _posixshmem.shm_unlink(seg.name)
        _state.pending = []
        if sent:
            _state.recent.append(sent)


def _attach(name: str, nbytes: int, dtype, shape, strides, offset: int) -> np.ndarray:
    cache = getattr(_local, "cache", None)
    seg = None if cache is None else cache.get(name)
    if seg is None:
        try:
            fd = _posixshmem.shm_open(name, os.O_RDWR, 0o600)
        except FileNotFoundError:
            raise RuntimeError(f"DataLoader: the shared memory segment {name} of a batch is gone "
                               "(was it removed from /dev/shm by another process?)") from None
        try:
            seg = _Segment(fd, nbytes)
        finally:
            os.close(fd)
            _posixshmem.shm_unlink(name)
        seg.name = name
        seg.addr = _address(seg)
        seg.owned = False
        if cache is not None:
            cache[name] = seg
    return np.ndarray(shape, dtype, buffer=seg, offset=offset, strides=strides)


def loads(payload: bytes):
    """Unpickle a worker result, mapping (and unlinking) the segments it names."""
    _local.cache = {}
    try:
        return pickle.loads(payload)
    finally:
        _local.cache = None


def unlink_recent() -> None:
    """Unlink the segments of this worker's latest messages that the main process has not
    mapped yet (it discards them at shutdown); mapped ones are already gone."""
    if _posixshmem is None:
        return
    while _state.recent:
        for name in _state.recent.popleft():
            try:
                _posixshmem.shm_unlink(name)
            except OSError:
                pass


def unlink_leftovers(prefix: str) -> None:
    """Remove segments named ``prefix*`` (left by workers that were killed mid-message)."""
    if _posixshmem is None or not os.path.isdir(_SHM_DIR):
        return
    stem = prefix.lstrip("/")
    try:
        names = [n for n in os.listdir(_SHM_DIR) if n.startswith(stem)]
    except OSError:
        return
    for n in names:
        try:
            _posixshmem.shm_unlink("/" + n)
        except OSError:
            pass
