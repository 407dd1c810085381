"""CPU threading: ember's thread count, the BLAS library's thread count, and a thread pool.

NumPy's elementwise kernels are single-threaded but release the GIL, so large array work split
into row blocks runs on several cores from a small pool of Python threads. BLAS (OpenBLAS in
NumPy's wheels) has threads of its own, which spin-wait for each other: next to ember's pool,
other processes or PyTorch's OpenMP threads, a two-thread GEMM can take many times longer than
on one thread (a 64x784 @ 784x128 product: 0.17 ms on one thread, 0.3-1.4 ms on two when the
other core is busy). So ember keeps OpenBLAS on one thread (``matmul`` threads large products
itself, over the pool) and gives it more only inside ``blas_threads(n)`` (large batched
products). Switching BLAS's thread count per product instead cost ~4 us a switch, ~40 us of an
MLP's training step.

``torch.get_num_threads``/``set_num_threads`` set ember's thread count. The BLAS control finds
OpenBLAS's ``*_set_num_threads`` in the loaded libraries through ctypes (``EMBER_BLAS_CONTROL=0``
leaves BLAS alone); with another BLAS (MKL, Accelerate) it does nothing and that library threads
its products itself. NumPy code run beside ember shares the one-thread setting.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading

__all__ = ["get_num_threads", "set_num_threads", "get_num_interop_threads",
           "set_num_interop_threads"]

_num_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else (os.cpu_count() or 1))
_pool = None
_pool_lock = threading.Lock()
_blas_lock = threading.RLock()
_blas_depth = 0  # nesting of blas_threads regions


def get_num_threads() -> int:
    """``torch.get_num_threads``: threads used for intra-op parallelism."""
    return _num_threads


def set_num_threads(n: int) -> None:
    """``torch.set_num_threads``: the threads ember's pool and threaded products use."""
    global _num_threads, _pool
    n = int(n)
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    with _pool_lock:
        _num_threads = n
        old, _pool = _pool, None
    if old is not None:
        old.close()


_interop = _num_threads


def get_num_interop_threads() -> int:
    """``torch.get_num_interop_threads`` (recorded only: ember runs ops on the calling
    thread)."""
    return _interop


def set_num_interop_threads(n: int) -> None:
    """``torch.set_num_interop_threads``: recorded; ember has no inter-op pool."""
    global _interop
    if int(n) <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _interop = int(n)


# ---------------------------------------------------------------------------------------------
# BLAS thread control (OpenBLAS through ctypes)
# ---------------------------------------------------------------------------------------------

def _find_openblas_setter():
    """``openblas_set_num_threads`` of the OpenBLAS NumPy has loaded, or None."""
    try:
        import numpy  # noqa: F401  (loads its BLAS)

        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()
                     and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn.restype = None
                return fn
    return None


_blas_setter = _find_openblas_setter() if os.environ.get("EMBER_BLAS_CONTROL", "1") != "0" \
    else None
_blas_current = [None]


def _set_blas(n: int) -> None:
    if _blas_setter is not None and _blas_current[0] != n:
        _blas_setter(n)
        _blas_current[0] = n


_set_blas(1)  # BLAS's setting outside blas_threads regions


def _blas_enter(n: int) -> None:
    global _blas_depth
    with _blas_lock:
        _blas_depth += 1
        _set_blas(n)


def _blas_exit() -> None:
    global _blas_depth
    with _blas_lock:
        _blas_depth -= 1
        if _blas_depth == 0:
            _set_blas(1)


@contextlib.contextmanager
def blas_threads(n: int):
    """BLAS runs on ``n`` threads inside the block (process-wide: BLAS has one setting)."""
    if _blas_setter is None or n == _blas_current[0]:
        yield
        return
    _blas_enter(n)
    try:
        yield
    finally:
        _blas_exit()


# Below this many multiply-adds a GEMM is not worth splitting over threads (~0.1 ms of work;
# measured on a 64x784 @ 784x128 product, 6.4M: split over two threads, an MLP step got slower).
SMALL_GEMM = 1 << 23


def matmul(a, b):
    """``a @ b`` for NumPy arrays, threaded by ember rather than by BLAS.

    A large 2-D product is cut into row (or column) blocks computed by single-threaded BLAS
    calls on the pool, whose threads sleep instead of spinning; a small one runs on BLAS's one
    thread; a large batched (N-D) product runs on BLAS's threads (``blas_threads``). Other
    operands (mixed dtypes, non-NumPy) go to ``@`` unchanged.
    """
    import numpy as np

    if _blas_setter is None or type(a) is not np.ndarray or type(b) is not np.ndarray \
            or a.dtype != b.dtype or a.dtype.kind not in "fc" or a.ndim < 2 or b.ndim < 2:
        return a @ b
    if a.ndim != 2 or b.ndim != 2:
        if _num_threads > 1 and a.size * b.shape[-1] >= SMALL_GEMM and not _blas_depth:
            with blas_threads(_num_threads):
                return a @ b
        return a @ b
    m, k = a.shape
    n = b.shape[1]
    if k == 1 and m * n > 1:
        # an outer product: NumPy's GEMM with K=1 takes ~4x the broadcast multiply (217 vs
        # 58 us for 128x1 @ 1x784), and one product per element is the same number
        return a * b
    if m * n * k < SMALL_GEMM or _num_threads == 1 or _blas_depth:
        return a @ b
    out = np.empty((m, n), dtype=a.dtype)
    if m >= n:
        def part(s, e):
            np.matmul(a[s:e], b, out=out[s:e])
        parallel_for(part, m, min_items=8)
    else:
        def part(s, e):
            np.matmul(a, b[:, s:e], out=out[:, s:e])
        parallel_for(part, n, min_items=8)
    return out


# ---------------------------------------------------------------------------------------------
# thread pool for blocked array work
# ---------------------------------------------------------------------------------------------

class _Worker(threading.Thread):
    """A pool thread parked on its own lock between jobs."""

    def __init__(self, i: int):
        super().__init__(name=f"ember-intraop_{i}", daemon=True)
        self.go = threading.Lock()
        self.go.acquire()
        self.done = threading.Lock()
        self.done.acquire()
        self.job = None
        self.err = None
        self.start()

    def run(self):
        while True:
            self.go.acquire()
            fn, args = self.job
            if fn is None:
                return
            try:
                fn(*args)
            except BaseException as e:  # handed to the caller by wait()
                self.err = e
            # drop the job before parking: its closure holds the op's arrays, which would
            # otherwise stay alive until the next job (+15 MB peak in the seeds' CNN step)
            self.job = fn = args = None
            self.done.release()

    def submit(self, fn, *args) -> None:
        self.job = (fn, args)
        self.go.release()

    def wait(self):
        """Block until the job ends; its exception, or None."""
        self.done.acquire()
        err, self.err = self.err, None
        return err


class _Team:
    """``n - 1`` worker threads that, with the calling thread, run the blocks of one
    ``parallel_for`` at a time. Handing a block to a parked worker is one lock release and
    collecting it one acquire: a round trip of ~14 us, where ThreadPoolExecutor's future and
    queue took ~30 us, which counted against every threaded op of a small model's step."""

    def __init__(self, n: int):
        self.busy = threading.Lock()
        self.workers = [_Worker(i) for i in range(n - 1)]

    def close(self) -> None:
        with self.busy:  # let a running parallel_for finish first
            for w in self.workers:
                w.submit(None)


def _get_pool():
    """The team of the current thread count, or None while another thread is using it (or
    from inside one of its workers): the caller then runs serially."""
    global _pool
    team = _pool
    if team is None:
        with _pool_lock:
            if _pool is None:
                _pool = _Team(_num_threads)
            team = _pool
    return team if team.busy.acquire(blocking=False) else None


def _forget_pool() -> None:
    # a forked child has none of the parent's threads: it starts its own team when needed
    global _pool, _pool_lock, _blas_lock, _blas_depth
    _pool = None
    _pool_lock = threading.Lock()
    _blas_lock = threading.RLock()
    _blas_depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def split(n: int, parts: int) -> list:
    """``parts`` contiguous (start, stop) ranges covering range(n), sizes differing by <= 1."""
    parts = max(1, min(parts, n))
    q, r = divmod(n, parts)
    out, s = [], 0
    for i in range(parts):
        e = s + q + (i < r)
        out.append((s, e))
        s = e
    return out


def parallel_for(fn, n: int, min_items: int = 1, blas_single: bool = True) -> None:
    """Call ``fn(start, stop)`` over row blocks of range(n) on the pool (at most one block per
    thread, each at least ``min_items`` rows); serial when one thread would do, or when the
    pool is busy (a call from one of its workers, or from a second user thread). With
    ``blas_single`` the GEMMs inside run single-threaded (the blocks are the parallelism)."""
    t = min(_num_threads, n // max(1, min_items))
    team = _get_pool() if t > 1 else None
    if team is None:
        with blas_threads(1) if blas_single and _blas_depth else contextlib.nullcontext():
            fn(0, n)
        return
    err = None
    try:
        blocks = split(n, t)
        workers = team.workers[:len(blocks) - 1]
        with blas_threads(1) if blas_single and _blas_depth else contextlib.nullcontext():
            for w, (s, e) in zip(workers, blocks[1:]):
                w.submit(fn, s, e)
            try:
                fn(*blocks[0])
            except BaseException as e:  # still wait for the workers before leaving the block
                err = e
            for w in workers:
                e = w.wait()
                err = err or e
    finally:
        team.busy.release()
    if err is not None:
        raise err


# ---------------------------------------------------------------------------------------------
# per-thread workspace for large temporaries
# ---------------------------------------------------------------------------------------------

class _Workspace(threading.local):
    """Named scratch buffers of one thread, grown on demand and reused across calls: a fresh
    large NumPy temporary is page-faulted in again on every call (glibc returns big blocks to
    the OS), a reused one is not."""

    def __init__(self):
        self.bufs = {}

    def get(self, name: str, shape: tuple, dtype):
        import numpy as np

        dtype = np.dtype(dtype)
        n = 1
        for s in shape:
            n *= s
        need = n * dtype.itemsize
        buf = self.bufs.get(name)
        if buf is None or buf.nbytes < need:
            buf = self.bufs[name] = np.empty(max(need, 64), dtype=np.uint8)
        return buf[:need].view(dtype).reshape(shape)


class _Fresh:
    """Workspace stand-in for CuPy, whose memory pool already reuses blocks."""

    def __init__(self, xp):
        self.xp = xp

    def get(self, name: str, shape: tuple, dtype):
        return self.xp.empty(shape, dtype=dtype)


_ws = _Workspace()


def workspace(xp):
    """The calling thread's scratch buffers (NumPy), or plain allocation (other modules)."""
    import numpy as np

    return _ws if xp is np else _Fresh(xp)


# Elementwise work is split over threads from this many elements on (~0.5 MB of float32): below
# it, waking a pool thread costs more than the pass.
PAR_ELEMENTS = 1 << 17


def flat_blocks(fn, *arrays) -> bool:
    """Run ``fn(*flat_slices)`` over contiguous blocks of equally sized C-contiguous NumPy
    ``arrays`` on the pool. Returns False (doing nothing) when the arrays do not qualify, so the
    caller runs its single-pass version."""
    import numpy as np

    a0 = arrays[0]
    n = a0.size
    if n < PAR_ELEMENTS or _num_threads == 1:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.size != n or not a.flags.c_contiguous:
            return False
    flats = [a.reshape(-1) for a in arrays]
    parallel_for(lambda s, e: fn(*(f[s:e] for f in flats)), n, min_items=PAR_ELEMENTS // 2,
                 blas_single=False)
    return True
