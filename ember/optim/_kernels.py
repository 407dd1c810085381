"""Array-level building blocks of the optimizers' updates (NumPy or CuPy arrays, in place).

Each helper reproduces the arithmetic of one PyTorch CPU kernel in PyTorch's operation order:
Python scalars are rounded to the parameter's compute type first (float32 for float32/16/bfloat16
parameters, float64 for float64), ``addcmul``/``addcdiv`` multiply the scalar into the first
tensor before the second, ``lerp`` switches formula at a weight of 0.5. The results agree with
PyTorch's single-tensor (``foreach=False``) optimizers up to the last-bit rounding of PyTorch's
fused multiply-adds and vectorised square root, which NumPy does not reproduce.

The updates write into reusable scratch arrays (``Workspace``) instead of allocating temporaries
for every operation; parameters larger than ``CHUNK`` elements are processed in slices so the
scratch stays bounded. A group of small parameters that share dtype, device and step count is
updated in one pass over concatenated arrays (``update``), its state kept in flat buffers that
the per-parameter state tensors view: ``benchmarks/optim.py`` measures 1000 tensors of 100
elements at 0.3x (Adam) to 0.7x (SGD) PyTorch's ``foreach`` step time, against 0.8x to 1.5x
for one pass per tensor.
"""

from __future__ import annotations

import numpy as np

from .. import _parallel
from .._backend import array_module

# Largest number of elements updated in one slice (bounds the scratch memory: a few of these).
CHUNK = 1 << 22

_f32 = np.float32
_f64 = np.float64


_WIDE = frozenset({np.dtype(np.float64), np.dtype(np.complex128)})


def scalar_type(dtype):
    """The NumPy scalar type PyTorch rounds a Python scalar to for arrays of ``dtype``
    (its "opmath" type: float64 for float64/complex128, float32 for every narrower type)."""
    return _f64 if dtype in _WIDE else _f32


def real_view(a):
    """A real view of a complex array with a trailing axis of 2 (``torch.view_as_real``);
    real arrays are returned unchanged."""
    if a is None or a.dtype.kind != "c":
        return a
    real = np.float32 if a.dtype == np.complex64 else np.float64
    return a[..., None].view(real)


class Workspace:
    """Scratch arrays reused across parameters and steps, one pool per (device, dtype)."""

    def __init__(self) -> None:
        self._pools: dict = {}
        self.flat: dict = {}  # group key -> _FlatState
        self._workers: list = []

    def worker(self, i: int) -> Workspace:
        """The scratch of the ``i``-th pool thread in a threaded update (kept across steps)."""
        while len(self._workers) <= i:
            self._workers.append(Workspace())
        return self._workers[i]

    def get(self, like, count: int) -> list:
        """``count`` contiguous scratch arrays with the shape and dtype of ``like``."""
        xp = array_module(like)
        dev = -1 if xp is np else int(like.device.id)
        key = (dev, like.dtype)
        pool = self._pools.get(key)
        n = like.size
        if pool is None or pool[0].size < n or len(pool) < count:
            size = max(n, pool[0].size if pool else 0)
            pool = [xp.empty(size, dtype=like.dtype) for _ in range(max(count,
                                                                           len(pool or ())))]
            self._pools[key] = pool
        shape = like.shape
        return [b[:n].reshape(shape) for b in pool[:count]]


def run(kernel, ws: Workspace, n_scratch: int, arrays: list, *args) -> None:
    """Call ``kernel(*arrays, *scratch, *args)``, slicing large contiguous arrays into chunks of
    at most ``CHUNK`` elements (every kernel here is elementwise). ``arrays[0]`` is the
    parameter; entries may be None (optional state)."""
    p = arrays[0]
    n = p.size
    if n <= CHUNK:
        kernel(*arrays, *ws.get(p, n_scratch), *args)
        return
    if all(a is None or a.flags.c_contiguous for a in arrays):
        flat = [None if a is None else a.reshape(-1) for a in arrays]
        for start in range(0, n, CHUNK):
            part = [None if a is None else a[start:start + CHUNK] for a in flat]
            kernel(*part, *ws.get(part[0], n_scratch), *args)
        return
    # a large strided parameter: temporaries of its own size, not kept
    xp = array_module(p)
    kernel(*arrays, *[xp.empty(p.shape, dtype=p.dtype) for _ in range(n_scratch)], *args)


# Groups whose tensors average at most this many elements are updated in one flat pass: the
# per-tensor Python and dispatch cost would dominate, while for large tensors the extra copies
# in and out of the flat arrays would cost more than they save.
FLAT_MEAN = 1 << 13


class _FlatState:
    """A group's state buffers as flat arrays; the state tensors' arrays are views into them."""

    __slots__ = ("tensors", "views", "flats")

    def __init__(self, tensors, views, flats) -> None:
        self.tensors, self.views, self.flats = tensors, views, flats


def _flat_ok(params, grads, states, args) -> bool:
    n = len(params)
    if n < 2:
        return False
    first = args[0]
    p0 = params[0]._data
    dt = p0.dtype
    if dt.kind == "c" or any(a != first for a in args):
        return False
    xp = array_module(p0)
    total = 0
    for p, g, row in zip(params, grads, states):
        a = p._data
        if a.dtype != dt or g._data.dtype != dt or array_module(a) is not xp:
            return False
        for s in row:
            if s is not None and s._data.dtype != dt:
                return False
        total += a.size
    if total > CHUNK or total > FLAT_MEAN * n or len({id(p) for p in params}) != n:
        return False
    for c in range(len(states[0])):  # an optional state is absent for all or none
        if len({states[i][c] is None for i in range(n)}) != 1:
            return False
    if xp is not np and len({int(p._data.device.id) for p in params}) != 1:
        return False
    return True


def _flat_state(ws: Workspace, key, params, states, total: int) -> list:
    """The flat state arrays of the group, rebuilt when a state tensor changed (a new
    parameter set, a loaded state dict); state tensors are re-pointed at views of them."""
    ncol = len(states[0])
    entry = ws.flat.get(key)
    if entry is not None and len(entry.tensors) == len(states) and all(
            len(row) == ncol and all(s is t and (s is None or s._data is v)
                                     for s, t, v in zip(row, trow, vrow))
            for row, trow, vrow in zip(states, entry.tensors, entry.views)):
        return entry.flats
    xp = array_module(params[0]._data)
    dt = params[0]._data.dtype
    flats, views = [], [[None] * ncol for _ in states]
    for c in range(ncol):
        if states[0][c] is None:
            flats.append(None)
            continue
        flat = xp.empty(total, dtype=dt)
        offset = 0
        for i, row in enumerate(states):
            t = row[c]
            size = t._data.size
            view = flat[offset:offset + size].reshape(t._data.shape)
            view[...] = t._data
            t._data = view
            views[i][c] = view
            offset += size
        flats.append(flat)
    ws.flat[key] = _FlatState([list(row) for row in states], views, flats)
    return flats


def update(kernel, ws: Workspace, n_scratch: int, params: list, grads: list, states: list,
           args: list, key=None) -> None:
    """Apply the elementwise ``kernel(p, g, *state, *scratch, *args)`` to every parameter.

    ``states[i]`` lists parameter i's state tensors (None for an unused optional one),
    ``args[i]`` its scalars. When the parameters are small and share dtype, device and scalars
    (the usual case: the same step count), one pass over flat arrays replaces the
    per-parameter passes; the group's state then lives in flat buffers (``key`` names the
    group). Parameters get their version bumped, as an in-place op would."""
    if key is not None and _flat_ok(params, grads, states, args):
        xp = array_module(params[0]._data)
        flat_p = xp.concatenate([p._data.reshape(-1) for p in params])
        flat_g = xp.concatenate([g._data.reshape(-1) for g in grads])
        flats = _flat_state(ws, key, params, states, flat_p.size)
        kernel(flat_p, flat_g, *flats, *ws.get(flat_p, n_scratch), *args[0])
        offset = 0
        for p in params:
            a = p._data
            size = a.size
            a[...] = flat_p[offset:offset + size].reshape(a.shape)
            offset += size
            p._bump_version()
        return
    jobs = [([p._data, g._data] + [None if s is None else s._data for s in row], a)
            for p, g, row, a in zip(params, grads, states, args)]
    parts = _thread_parts(jobs, params)
    if parts is None:
        for arrays, a in jobs:
            run(kernel, ws, n_scratch, [real_view(x) for x in arrays], *a)
    else:
        def work(s: int, e: int) -> None:
            for i in range(s, e):
                w = ws.worker(i)
                for arrays, a in parts[i]:
                    run(kernel, w, n_scratch, [real_view(x) for x in arrays], *a)

        _parallel.parallel_for(work, len(parts), blas_single=False)
    for p in params:
        p._bump_version()


def _thread_parts(jobs: list, params: list) -> list | None:
    """The parameters split into one run of consecutive parameters per ember thread, of about
    equal element counts, when the update is worth threading (NumPy arrays, distinct
    parameters, at least ``PAR_ELEMENTS`` elements in all); None to update them serially. Each
    parameter's update is unchanged, so the results are the serial ones."""
    nt = _parallel.get_num_threads()
    if nt < 2 or len(jobs) < 2:
        return None
    total = 0
    for arrays, _ in jobs:
        if type(arrays[0]) is not np.ndarray:
            return None
        total += arrays[0].size
    if total < _parallel.PAR_ELEMENTS or len({id(p) for p in params}) != len(params):
        return None
    parts: list = [[] for _ in range(min(nt, len(jobs)))]
    done, k = 0, 0
    for job in jobs:
        parts[k].append(job)
        done += job[0][0].size
        if k < len(parts) - 1 and done >= total * (k + 1) / len(parts):
            k += 1
    return [part for part in parts if part]


# --------------------------------------------------------------------------- PyTorch kernels
def grad_of(p, g, out, maximize: bool, weight_decay, tmp=None):
    """The gradient an update uses: ``-grad`` when maximizing, plus ``weight_decay * param``
    (``grad.add(param, alpha=weight_decay)``). Never writes into ``g`` itself."""
    if maximize:
        array_module(g).negative(g, out=out)
        g = out
    if weight_decay != 0:
        s = scalar_type(p.dtype)(weight_decay)
        if g is out:
            tmp_ = tmp if tmp is not None else array_module(p).empty_like(out)
            array_module(p).multiply(p, s, out=tmp_)
            out += tmp_
        else:
            array_module(p).multiply(p, s, out=out)
            out += g
        g = out
    return g


def lerp_(a, b, weight: float, tmp) -> None:
    """``a.lerp_(b, weight)`` for a scalar weight, with PyTorch's two formulas."""
    xp = array_module(a)
    st = scalar_type(a.dtype)
    w = st(weight)
    xp.subtract(b, a, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        a += tmp
    else:
        tmp *= st(1) - w
        xp.subtract(b, tmp, out=a)


def addcmul_(a, b, c, value: float, tmp) -> None:
    """``a.addcmul_(b, c, value=value)``: ``a + (value * b) * c``."""
    xp = array_module(a)
    if value == 1:
        xp.multiply(b, c, out=tmp)
    else:
        xp.multiply(b, scalar_type(a.dtype)(value), out=tmp)
        tmp *= c
    a += tmp


def addcdiv_(a, b, c, value: float, tmp) -> None:
    """``a.addcdiv_(b, c, value=value)``: ``a + (value * b) / c``."""
    xp = array_module(a)
    if value == 1:
        xp.divide(b, c, out=tmp)
    else:
        xp.multiply(b, scalar_type(a.dtype)(value), out=tmp)
        tmp /= c
    a += tmp


def add_(a, b, alpha: float, tmp) -> None:
    """``a.add_(b, alpha=alpha)``: ``a + alpha * b``."""
    if alpha == 1:
        a += b
        return
    array_module(a).multiply(b, scalar_type(a.dtype)(alpha), out=tmp)
    a += tmp


def mul_(a, s: float) -> None:
    """``a.mul_(s)`` with ``s`` rounded to the compute type (skipped when ``s`` is 1)."""
    if s != 1:
        a *= scalar_type(a.dtype)(s)
