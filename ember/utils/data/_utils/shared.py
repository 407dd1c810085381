"""Moving batches from worker processes to the main process through POSIX shared memory.

A worker pickles each result itself (``dumps``). Arrays of at least ``THRESHOLD`` bytes (tensor
storages and plain NumPy arrays) do not travel in the pickle: they live in shared memory and the
pickle only names the segment. The default collate function and the TensorDataset gather write
their output there directly (``empty``), so a batch is copied once, by the collation itself;
other large arrays are copied into shared memory once while pickling. The main process
(``loads``) builds its arrays on a mapping of the same memory, without copying.

Each worker keeps a pool of segments ("slots") that it reuses: touching fresh shared pages costs
a page fault per 4 KiB (about 1 ms for a 256x784 float batch, more than copying it), reused ones
cost nothing. A slot is free again once both sides are done with it: the worker's arrays on it
are gone, and the main process cleared the slot's byte in a flag array shared with the worker
when the last of its arrays on that slot was freed (``weakref.finalize`` on a per-use base
array). When every slot is taken (the user keeps many batches alive) a one-off segment is used
instead; its name is unlinked as soon as the main process maps it.

Segment names start with a prefix per iterator and worker, so the main process can sweep away
what a killed worker left behind (``unlink_leftovers``). Where POSIX shared memory is missing
(Windows), or cannot be allocated (``/dev/shm`` full), arrays are pickled in-band instead.
"""

from __future__ import annotations

import io
import itertools
import mmap
import os
import pickle
import threading
import warnings
import weakref
from collections import deque

import numpy as np

from ...._tensor import Tensor, _rebuild_tensor

try:  # the module behind multiprocessing.shared_memory, minus its resource tracker
    import _posixshmem
except ImportError:  # pragma: no cover - Windows
    _posixshmem = None

#: Arrays of at least this many bytes go through shared memory; below it, pickling the bytes
#: is cheaper than managing a segment.
THRESHOLD = 64 * 1024

_PAGE = mmap.PAGESIZE
_SHM_DIR = "/dev/shm"  # where Linux exposes POSIX shared memory, for the leftover sweep


class _Segment(mmap.mmap):
    """A mapped shared-memory segment (attributes: ``name``, base address ``addr``, ``slot``
    (its pool slot or None), ``owned`` (created by this process), ``serial``)."""


def _address(seg: _Segment) -> int:
    return np.ndarray((0,), np.uint8, buffer=seg).__array_interface__["data"][0]


def _open(name: str, nbytes: int, create: bool) -> _Segment:
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = _posixshmem.shm_open(name, flags, 0o600)
    try:
        if create:
            try:
                # posix_fallocate reports a full /dev/shm as ENOSPC now; with ftruncate alone
                # the worker would die of SIGBUS on its first write
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(fd, 0, nbytes)
                else:
                    os.ftruncate(fd, nbytes)
            except OSError:
                _posixshmem.shm_unlink(name)
                raise
        seg = _Segment(fd, nbytes)
    finally:
        os.close(fd)
    seg.name = name
    seg.addr = _address(seg)
    seg.slot = None
    seg.owned = create
    seg.serial = None
    return seg


def available() -> bool:
    return _posixshmem is not None


# ------------------------------------------------------------------------------ worker side
class _Slot:
    """One reusable segment of a worker's pool."""

    __slots__ = ("index", "seg", "busy", "generation")

    def __init__(self, index: int) -> None:
        self.index = index
        self.seg = None
        self.busy = False  # the worker still holds arrays on it
        self.generation = 0

    def release(self) -> None:
        self.busy = False


class _WorkerState:
    prefix: str | None = None
    flags = None  # shared bytes: flags[i] == 1 while the main process uses slot i
    slots: list = []
    counter = itertools.count()
    pending: list = []  # segments handed out since the last message was pickled
    sent: list = []  # segments referenced by the message being pickled
    recent: deque = deque(maxlen=1)  # one-off segment names of the latest messages
    serial = 0  # number of the message being pickled
    warned = False


_state = _WorkerState()


def worker_setup(prefix: str | None, flags, keep_messages: int) -> None:
    """Enable shared-memory output in this worker process. ``flags`` is the slot flag array
    shared with the main process (its length is the pool size); ``keep_messages`` is how many
    of the latest messages may still be unread by the main process at shutdown."""
    _state.prefix = prefix if available() else None
    _state.flags = flags
    _state.slots = [_Slot(i) for i in range(0 if flags is None else len(flags))]
    _state.counter = itertools.count()
    _state.pending = []
    _state.sent = []
    _state.recent = deque(maxlen=max(1, keep_messages))


def in_worker() -> bool:
    return _state.prefix is not None


def _warn_once(err: OSError) -> None:
    if not _state.warned:
        _state.warned = True
        warnings.warn(f"DataLoader worker could not allocate shared memory ({err}); batches are "
                      "pickled instead, which is slower. Consider raising the size of /dev/shm.",
                      RuntimeWarning, stacklevel=4)


def _take_slot(nbytes: int) -> _Slot | None:
    flags, spare, empty_slot = _state.flags, None, None
    for slot in _state.slots:
        if slot.busy or flags[slot.index]:
            continue
        if slot.seg is None:
            empty_slot = empty_slot or slot
        elif len(slot.seg) >= nbytes:
            return slot
        else:
            spare = spare or slot
    slot = empty_slot or spare  # a new segment in an unused slot, or replace a small one
    if slot is None:
        return None
    size = -(-nbytes // _PAGE) * _PAGE
    name = f"{_state.prefix}s{slot.index}g{slot.generation}"
    try:
        seg = _open(name, size, create=True)
    except OSError as e:
        _warn_once(e)
        return None
    if slot.seg is not None:
        _unlink(slot.seg.name)  # the main process maps the new name from now on
    slot.generation += 1
    seg.slot = slot
    slot.seg = seg
    return slot


def _one_off(nbytes: int) -> _Segment | None:
    try:
        seg = _open(f"{_state.prefix}{next(_state.counter):x}", nbytes, create=True)
    except OSError as e:
        _warn_once(e)
        return None
    return seg


def empty(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array; in a worker, large ones live in shared memory."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for s in shape:
        nbytes *= s
    if _state.prefix is None or nbytes < THRESHOLD or dtype.hasobject:
        return np.empty(shape, dtype)
    slot = _take_slot(nbytes)
    if slot is not None:
        seg = slot.seg
        slot.busy = True
        # per-use base array: every view of the result has it as .base, so its death means
        # the worker is done with this use of the slot
        base = np.ndarray((nbytes,), np.uint8, buffer=seg)
        weakref.finalize(base, slot.release)
    else:
        seg = _one_off(nbytes)
        if seg is None:
            return np.empty(shape, dtype)
        base = seg
    seg.serial = None
    _state.pending.append(seg)
    return np.ndarray(shape, dtype, buffer=base)


# ------------------------------------------------------------------------------ pickling
class _SegmentRef:
    """Pickled in place of an array: which segment (and pool slot), which array on it."""

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


def _reference(seg: _Segment, offset: int, dtype, shape, strides):
    """A ``_SegmentRef`` to an array on ``seg``, or None when ``seg`` may not be named: a
    segment goes out with one message only (any number of times in it); a later message
    gets a copy, since the main process may be using or have unlinked the first one."""
    if not seg.owned or seg.serial not in (None, _state.serial):
        return None
    if seg.serial is None:
        seg.serial = _state.serial
        _state.sent.append(seg)
        if seg.slot is not None:
            _state.flags[seg.slot.index] = 1
    slot = None if seg.slot is None else (_state.prefix, seg.slot.index)
    return _SegmentRef(seg.name, len(seg), dtype, shape, strides, offset, slot)


def _shared_ref(a: np.ndarray):
    """A ``_SegmentRef`` for plain array ``a`` (after copying it into shared memory when it is
    not in a segment it may name), or None when ``a`` is better pickled in-band."""
    if a.dtype.hasobject:
        return None
    seg, offset = _segment_of(a)
    if seg is not None:
        ref = _reference(seg, offset, a.dtype, a.shape, a.strides)
        if ref is not None:
            return ref
    if a.nbytes < THRESHOLD:
        return None
    return _copy_to_segment(a)


def _copy_to_segment(a: np.ndarray):
    """A ``_SegmentRef`` for a C-contiguous copy of ``a`` in shared memory (None if none)."""
    copy = empty(a.shape, a.dtype)
    seg, offset = _segment_of(copy)
    if seg is None:
        return None
    np.copyto(copy, a)
    return _reference(seg, offset, a.dtype, a.shape, copy.strides)


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
    if seg is not None:
        # the storage is in shared memory already: send its name, views keep their layout
        ref = _reference(seg, root_offset, root.dtype, root.shape, root.strides)
        if ref is not None:
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
    _state.sent = []
    ok = False
    try:
        buf = io.BytesIO()
        _Pickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
        ok = True
        return buf.getvalue()
    finally:
        sent = _state.sent if ok else []
        for seg in _state.sent if not ok else ():
            seg.serial = None  # the message was not sent: nobody will map these
            if seg.slot is not None:
                _state.flags[seg.slot.index] = 0
        one_offs = []
        for seg in _state.pending:
            if seg.slot is not None:
                continue  # pool slots free themselves
            if seg in sent:
                one_offs.append(seg.name)
            elif seg.owned:
                # allocated for this message but not part of it (collation failed, or a
                # custom collate_fn copied the data elsewhere): nobody will map it
                seg.owned = False
                _unlink(seg.name)
        _state.pending = []
        _state.sent = []
        if one_offs:
            _state.recent.append(one_offs)


def _unlink(name: str) -> None:
    try:
        _posixshmem.shm_unlink(name)
    except OSError:
        pass


def unlink_own() -> None:
    """At worker exit: unlink the pool's segments and the one-off segments of the latest
    messages (those the main process did not map yet; mapped ones are gone already)."""
    if _posixshmem is None:
        return
    for slot in _state.slots:
        if slot.seg is not None:
            _unlink(slot.seg.name)
    while _state.recent:
        for name in _state.recent.popleft():
            _unlink(name)


# ------------------------------------------------------------------------------ main side
_local = threading.local()  # per-thread cache of what the current loads() mapped
_pools: dict = {}  # worker prefix -> that worker's slot flags
_mapped: dict = {}  # (worker prefix, slot) -> the segment mapped for it (reused across batches)
_mapped_lock = threading.Lock()


def register_pool(prefix: str, flags) -> None:
    _pools[prefix] = flags


def forget_pool(prefix: str) -> None:
    """The iterator is done: drop the mappings (arrays still using them keep them alive)."""
    _pools.pop(prefix, None)
    with _mapped_lock:
        for key in [k for k in _mapped if k[0] == prefix]:
            _unlink(_mapped.pop(key).name)  # gone already unless its worker was killed


def _release(flags, index: int) -> None:
    flags[index] = 0


def _attach(name: str, nbytes: int, dtype, shape, strides, offset: int, slot=None):
    """Unpickling side of ``_SegmentRef``: the array on the named segment."""
    cache = _local.__dict__.setdefault("cache", {})
    base = cache.get(name)
    if base is None:
        if slot is None:
            seg = _map(name, nbytes)
            _unlink(name)  # one-off: the memory lives on until the last array using it is freed
            base = seg
        else:
            with _mapped_lock:
                seg = _mapped.get(slot)
                if seg is None or seg.name != name or len(seg) != nbytes:
                    seg = _mapped[slot] = _map(name, nbytes)
            base = np.ndarray((nbytes,), np.uint8, buffer=seg)
            flags = _pools.get(slot[0])
            if flags is not None:
                weakref.finalize(base, _release, flags, slot[1])
        cache[name] = base
    return np.ndarray(shape, dtype, buffer=base, offset=offset, strides=strides)


def _map(name: str, nbytes: int) -> _Segment:
    try:
        return _open(name, nbytes, create=False)
    except FileNotFoundError:
        raise RuntimeError(f"DataLoader: the shared memory segment {name} of a batch is gone "
                           "(was it removed from /dev/shm by another process?)") from None


def loads(payload: bytes):
    """Unpickle a worker result, mapping the shared memory it names."""
    _local.cache = {}
    try:
        return pickle.loads(payload)
    finally:
        _local.cache = {}


def unlink_leftovers(prefix: str) -> None:
    """Remove segments named ``prefix*`` (the pools, and what killed workers left behind)."""
    if _posixshmem is None or not os.path.isdir(_SHM_DIR):
        return
    stem = prefix.lstrip("/")
    try:
        names = [n for n in os.listdir(_SHM_DIR) if n.startswith(stem)]
    except OSError:
        return
    for n in names:
        _unlink("/" + n)
