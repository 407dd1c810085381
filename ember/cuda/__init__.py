"""``torch.cuda`` on CuPy: availability, devices, synchronization, RNG, memory and streams.

Without CuPy or a GPU this module behaves like PyTorch's CPU-only build: ``is_available()`` is
False, ``device_count()`` is 0, seeding and the memory counters are silent no-ops (counters read
0), and everything that needs a device raises ``AssertionError: Torch not compiled with CUDA
enabled`` (ember adds why: no CuPy installation with a usable GPU).

Memory statistics come from CuPy's default memory pool. CuPy does not record peaks, so the
``max_*``/``peak`` figures are tracked from the first call to a memory-statistics function on,
by a CuPy memory hook on the calling thread; call ``reset_peak_memory_stats()`` before the code
you want to measure.
"""

from __future__ import annotations

import collections
import contextlib

from .. import _backend
from .._backend import cuda_device_count, is_cuda_available

__all__ = [
    "is_available", "is_initialized", "init", "device_count", "current_device", "set_device",
    "device", "device_of", "synchronize", "manual_seed", "manual_seed_all", "seed", "seed_all",
    "initial_seed", "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all",
    "empty_cache", "memory_allocated", "max_memory_allocated", "memory_reserved",
    "max_memory_reserved", "reset_peak_memory_stats", "reset_max_memory_allocated",
    "memory_stats", "mem_get_info", "get_device_name", "get_device_properties",
    "get_device_capability", "is_bf16_supported", "get_arch_list", "Stream", "Event", "stream",
    "StreamContext", "current_stream", "default_stream",
]


def is_available() -> bool:
    """True when CuPy and at least one CUDA GPU can be used."""
    return is_cuda_available()


def is_initialized() -> bool:
    return is_cuda_available()


def device_count() -> int:
    """Number of visible CUDA GPUs (0 without CuPy or a GPU)."""
    return cuda_device_count()


def _cp():
    """CuPy, or PyTorch's ``AssertionError`` for a build without CUDA."""
    return _backend.cupy_module()


def init() -> None:
    """Initialize CUDA (raises when it is unusable, as ``torch.cuda.init`` does)."""
    _cp()


def get_arch_list() -> list:
    """The CUDA architectures this build supports: empty without CUDA."""
    if not is_available():
        return []
    major, minor = get_device_capability()
    return [f"sm_{major}{minor}"]


def _device_index(device, optional: bool = True) -> int:
    """A CUDA device index from an int, string, ``ember.device`` or None (current device)."""
    if device is None:
        return current_device()
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    d = _backend.device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return current_device() if d.index is None else d.index


def current_device() -> int:
    """Index of the current CUDA device."""
    return int(_cp().cuda.runtime.getDevice())


def set_device(device) -> None:
    """Make ``device`` current (a negative index is a no-op, as in PyTorch)."""
    idx = device if isinstance(device, int) else _device_index(device)
    if idx < 0:
        return
    _cp().cuda.runtime.setDevice(idx)


class device:
    """Context manager that makes a CUDA device current (``torch.cuda.device``).

    ``None`` or a negative index make it a no-op.
    """

    def __init__(self, device):
        if device is None:
            self.idx = -1
        elif isinstance(device, int) and not isinstance(device, bool):
            self.idx = device
        else:
            d = _backend.device(device)
            if d.type != "cuda":
                raise ValueError(f"Expected a cuda device, but got: {d}")
            self.idx = -1 if d.index is None else d.index
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return
        if not is_available():
            raise RuntimeError("PyTorch was compiled without CUDA support: ember found no CuPy "
                               "installation with a usable GPU")
        cp = _cp()
        self.prev_idx = int(cp.cuda.runtime.getDevice())
        if self.prev_idx != self.idx:
            cp.cuda.runtime.setDevice(self.idx)

    def __exit__(self, *args):
        if self.idx >= 0 and self.prev_idx != self.idx:
            _cp().cuda.runtime.setDevice(self.prev_idx)
        return False


class device_of(device):
    """Context manager that makes the device of tensor ``obj`` current (no-op for CPU)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def synchronize(device=None) -> None:
    """Wait for all work on ``device`` (default: the current one) to finish."""
    cp = _cp()
    with cp.cuda.Device(_device_index(device)):
        cp.cuda.runtime.deviceSynchronize()


# ---------------------------------------------------------------------------------------------
# random-number generators (one default generator per device, in ember._backend)
# ---------------------------------------------------------------------------------------------

def _generator(device="cuda") -> _backend.Generator:
    idx = _device_index(device)
    return _backend.default_generator_for(_backend.device("cuda", idx))


def __getattr__(name):
    if name == "default_generators":
        return tuple(_generator(i) for i in range(device_count()))
    if name.endswith("Tensor"):  # the legacy types torch.cuda.FloatTensor & co.
        from ..ops.creation import CUDA_LEGACY_TYPES

        if name in CUDA_LEGACY_TYPES:
            return CUDA_LEGACY_TYPES[name]
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")


def manual_seed(seed) -> None:
    """Seed the current device's generator; a silent no-op without CUDA (as in PyTorch)."""
    seed = int(seed)
    if is_available():
        _generator().manual_seed(seed)


def manual_seed_all(seed) -> None:
    """Seed every CUDA device's generator; a silent no-op without CUDA."""
    seed = int(seed)
    for i in range(device_count()):
        _generator(i).manual_seed(seed)


def seed() -> None:
    """Seed the current device's generator non-deterministically (no-op without CUDA)."""
    if is_available():
        _generator().seed()


def seed_all() -> None:
    """Seed every device with one non-deterministic seed (no-op without CUDA)."""
    n = device_count()
    if n:
        s = _generator(0).seed()
        for i in range(1, n):
            _generator(i).manual_seed(s)


def initial_seed() -> int:
    """The seed of the current device's generator."""
    _cp()
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    """The state of ``device``'s generator as a uint8 tensor."""
    _cp()
    return _generator(device).get_state()


def get_rng_state_all() -> list:
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device="cuda") -> None:
    """Restore ``device``'s generator; a silent no-op without CUDA (PyTorch defers it)."""
    if is_available():
        _generator(device).set_state(new_state)


def set_rng_state_all(new_states) -> None:
    for i, st in enumerate(new_states):
        set_rng_state(st, i)


# ---------------------------------------------------------------------------------------------
# memory (CuPy's default memory pool)
# ---------------------------------------------------------------------------------------------

_peaks: dict = {}  # device index -> [peak allocated, peak reserved]
_hook = None


def _ensure_peak_hook() -> None:
    """Start tracking peaks: a CuPy memory hook that records the pool's high-water marks."""
    global _hook
    if _hook is not None:
        return
    cp = _cp()
    pool = cp.get_default_memory_pool()

    class _PeakHook(cp.cuda.memory_hook.MemoryHook):
        name = "EmberPeakMemory"

        def malloc_postprocess(self, **kw):
            dev = kw.get("device_id", 0)
            with cp.cuda.Device(dev):
                used, total = pool.used_bytes(), pool.total_bytes()
            p = _peaks.setdefault(dev, [0, 0])
            if used > p[0]:
                p[0] = used
            if total > p[1]:
                p[1] = total

    hook = _PeakHook()
    hook.__enter__()  # stays active on this thread for the rest of the process
    _hook = hook


def _pool_bytes(device) -> tuple:
    cp = _cp()
    idx = _device_index(device)
    pool = cp.get_default_memory_pool()
    with cp.cuda.Device(idx):
        return idx, pool.used_bytes(), pool.total_bytes()


def _peak(device) -> tuple:
    _ensure_peak_hook()
    idx, used, total = _pool_bytes(device)
    p = _peaks.setdefault(idx, [0, 0])
    p[0], p[1] = max(p[0], used), max(p[1], total)
    return idx, used, total, p


def empty_cache() -> None:
    """Return the memory pool's unused blocks to the driver (no-op without CUDA)."""
    if is_available():
        cp = _cp()
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes held by live tensors on ``device`` (0 without CUDA)."""
    if not is_available():
        return 0
    return _pool_bytes(device)[1]


def memory_reserved(device=None) -> int:
    """Bytes the memory pool holds on ``device``, in use or cached (0 without CUDA)."""
    if not is_available():
        return 0
    return _pool_bytes(device)[2]


def max_memory_allocated(device=None) -> int:
    """Peak of ``memory_allocated`` since tracking started or the last reset."""
    if not is_available():
        return 0
    return _peak(device)[3][0]


def max_memory_reserved(device=None) -> int:
    """Peak of ``memory_reserved`` since tracking started or the last reset."""
    if not is_available():
        return 0
    return _peak(device)[3][1]


def reset_peak_memory_stats(device=None) -> None:
    """Restart peak tracking from the current usage (no-op without CUDA)."""
    if not is_available():
        return
    _ensure_peak_hook()
    idx, used, total = _pool_bytes(device)
    _peaks[idx] = [used, total]


def reset_max_memory_allocated(device=None) -> None:
    reset_peak_memory_stats(device)


def memory_stats(device=None) -> collections.OrderedDict:
    """PyTorch's main allocator counters from CuPy's pool (empty without CUDA)."""
    if not is_available():
        return collections.OrderedDict()
    _, used, total, p = _peak(device)
    stats = {
        "allocated_bytes.all.current": used, "allocated_bytes.all.peak": p[0],
        "reserved_bytes.all.current": total, "reserved_bytes.all.peak": p[1],
        "active_bytes.all.current": used, "active_bytes.all.peak": p[0],
        "inactive_split_bytes.all.current": total - used,
    }
    return collections.OrderedDict(sorted(stats.items()))


def mem_get_info(device=None) -> tuple:
    """``(free, total)`` bytes of device memory as the driver reports them."""
    cp = _cp()
    with cp.cuda.Device(_device_index(device)):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)


# ---------------------------------------------------------------------------------------------
# device properties
# ---------------------------------------------------------------------------------------------

class _CudaDeviceProperties:
    """What ``torch.cuda.get_device_properties`` returns, read from the CUDA runtime."""

    def __init__(self, props: dict):
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major = int(props["major"])
        self.minor = int(props["minor"])
        self.total_memory = int(props["totalGlobalMem"])
        self.multi_processor_count = int(props["multiProcessorCount"])
        self.is_integrated = int(props.get("integrated", 0))
        self.is_multi_gpu_board = int(props.get("isMultiGpuBoard", 0))
        self.L2_cache_size = int(props.get("l2CacheSize", 0))
        self.warp_size = int(props.get("warpSize", 32))
        self.max_threads_per_multi_processor = int(props.get("maxThreadsPerMultiProcessor", 0))

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size // (1024 * 1024)}MB)")


def get_device_properties(device=None) -> _CudaDeviceProperties:
    cp = _cp()
    idx = _device_index(device)
    if not 0 <= idx < device_count():
        raise AssertionError("Invalid device id")
    return _CudaDeviceProperties(cp.cuda.runtime.getDeviceProperties(idx))


def get_device_name(device=None) -> str:
    return get_device_properties(device).name


def get_device_capability(device=None) -> tuple:
    p = get_device_properties(device)
    return p.major, p.minor


_bf16_ok = None


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """True when bfloat16 tensors work on the current GPU: compute capability 8.0+ and a CuPy
    that can hold ml_dtypes' bfloat16 arrays. False without CUDA."""
    global _bf16_ok
    if not is_available():
        return False
    if _bf16_ok is None:
        from .. import _dtype

        ok = _dtype._BF16_NP is not None and get_device_capability()[0] >= 8
        if ok:
            try:
                _cp().zeros(1, dtype=_dtype._BF16_NP)
            except Exception:  # CuPy without bfloat16 support
                ok = False
        _bf16_ok = ok
    return _bf16_ok


# ---------------------------------------------------------------------------------------------
# streams and events (CuPy streams)
# ---------------------------------------------------------------------------------------------

class Stream:
    """``torch.cuda.Stream``: a CUDA stream (a ``cupy.cuda.Stream`` underneath)."""

    def __init__(self, device=None, priority: int = 0, **kwargs):
        if not is_available():
            raise RuntimeError("torch.cuda.Stream requires CUDA support: ember found no CuPy "
                               "installation with a usable GPU")
        cp = _cp()
        self.device_index = _device_index(device)
        with cp.cuda.Device(self.device_index):
            # only pass priority when asked: older CuPy releases lack the argument
            self._cp = cp.cuda.Stream(priority=priority) if priority else cp.cuda.Stream()

    @classmethod
    def _wrap(cls, cp_stream, device_index: int) -> Stream:
        s = object.__new__(cls)
        s._cp = cp_stream
        s.device_index = device_index
        return s

    @property
    def device(self):
        return _backend.device("cuda", self.device_index)

    @property
    def cuda_stream(self) -> int:
        return int(self._cp.ptr)

    def query(self) -> bool:
        """True when all work queued on this stream has finished."""
        return bool(self._cp.done)

    def synchronize(self) -> None:
        self._cp.synchronize()

    def wait_event(self, event: Event) -> None:
        self._cp.wait_event(event._cp)

    def wait_stream(self, stream: Stream) -> None:
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        if event is None:
            event = Event()
        event.record(self)
        return event

    def __eq__(self, other) -> bool:
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream and \
            self.device_index == other.device_index

    def __hash__(self) -> int:
        return hash((self.cuda_stream, self.device_index))

    def __repr__(self) -> str:
        return (f"<torch.cuda.Stream device=cuda:{self.device_index} "
                f"cuda_stream={self.cuda_stream:#x}>")


class Event:
    """``torch.cuda.Event``: a CUDA event for synchronization and timing (CuPy event)."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        if not is_available():
            raise RuntimeError("Tried to instantiate dummy base class Event: ember found no CuPy "
                               "installation with a usable GPU")
        self._cp = _cp().cuda.Event(block=blocking, disable_timing=not enable_timing,
                                    interprocess=interprocess)

    def record(self, stream: Stream | None = None) -> None:
        self._cp.record(current_stream()._cp if stream is None else stream._cp)

    def wait(self, stream: Stream | None = None) -> None:
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self) -> bool:
        return bool(self._cp.done)

    def synchronize(self) -> None:
        self._cp.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and ``end_event`` (both recorded, timing on)."""
        return float(_cp().cuda.get_elapsed_time(self._cp, end_event._cp))


def current_stream(device=None) -> Stream:
    """The stream new work on ``device`` goes to."""
    cp = _cp()
    idx = _device_index(device)
    with cp.cuda.Device(idx):
        return Stream._wrap(cp.cuda.get_current_stream(), idx)


def default_stream(device=None) -> Stream:
    """The device's default (null) stream."""
    cp = _cp()
    return Stream._wrap(cp.cuda.Stream.null, _device_index(device))


class StreamContext:
    """Context manager that makes ``stream`` current (``None``: a no-op), like PyTorch's."""

    def __init__(self, stream: Stream | None):
        self.stream = stream
        self._stack = None

    def __enter__(self):
        if self.stream is None:
            return None
        stack = contextlib.ExitStack()
        stack.enter_context(device(self.stream.device_index))
        stack.enter_context(self.stream._cp)
        self._stack = stack
        return self.stream

    def __exit__(self, *args):
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        return False


def stream(stream: Stream | None) -> StreamContext:
    """``with ember.cuda.stream(s):`` queues the block's GPU work on ``s``."""
    return StreamContext(stream)
