"""The arithmetic of ``arange``/``linspace``/``logspace``/``range``, reproducing PyTorch's CPU
kernels bit for bit.

PyTorch computes these values in its accumulation type with fused multiply-adds (the compiler
contracts ``start + step * i``), and ``arange`` fills runs of 256-bit vectors from a rounded
base value (``base + i * step``) with a scalar tail. The helpers below emulate a correctly
rounded FMA with error-free transformations in NumPy, so the same values come out (up to
thread-chunk boundaries for ``arange`` over more than 32768 elements, where PyTorch's result
depends on its thread count; ember assumes one thread per CPU).
"""

from __future__ import annotations

import math
import os

import numpy as np

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_VEC_BYTES = 32  # PyTorch's CPU arange kernel runs on 256-bit vectors
_GRAIN = 32768  # at::internal::GRAIN_SIZE: below this a kernel runs on one thread


def _two_sum(a, b):
    """``a + b`` as ``s + e`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    """Veltkamp split of float64 ``a`` into 26- and 27-bit halves (``a == hi + lo``)."""
    big = a * 134217729.0  # 2**27 + 1
    hi = big - (big - a)
    return hi, a - hi


def fma64(a, k, c):
    """``a * k + c`` rounded once, as a fused multiply-add does, for float64 ``a`` and ``c``
    and integer-valued float64 ``k`` (|k| < 2**52); NumPy arrays or scalars."""
    a, k, c = np.asarray(a, _F64), np.asarray(k, _F64), np.asarray(c, _F64)
    ah, al = _split(a)
    if k.size and float(np.abs(k).max()) >= 2.0 ** 26:
        kh = np.floor(k / 8192.0) * 8192.0  # k = kh + kl with both parts short enough
        kl = k - kh
        parts = (ah * kh, al * kh, ah * kl, al * kl)
    else:
        parts = (ah * k, al * k)  # 26/27-bit halves times a <=26-bit k: exact
    # the exact partial products, summed without error into s + err
    s, err = _two_sum(c, parts[0])
    for p in parts[1:]:
        s, e = _two_sum(s, p)
        err = err + e
    return s + err


def fma32(a, k, c):
    """``a * k + c`` rounded once to float32 (float32 ``a``/``c``, integer ``k`` < 2**29)."""
    a64, c64 = np.asarray(a, _F32).astype(_F64), np.asarray(c, _F32).astype(_F64)
    p = a64 * np.asarray(k, _F64)  # exact: 24 + 29 bits
    s, t = _two_sum(p, c64)
    return round_to_f32(s, t)


def round_to_f32(s, t):
    """The float32 nearest to ``s + t`` (``t`` a tiny float64 remainder of ``s``)."""
    r = np.asarray(s).astype(_F32)
    back = r.astype(_F64)
    d = s - back
    # only an exact float32 midpoint ``s`` can round the wrong way; there ``t`` decides
    with np.errstate(invalid="ignore"):
        other = np.nextafter(r, np.where(d > 0, np.float32(np.inf), np.float32(-np.inf)))
        mid = (d != 0) & (other.astype(_F64) - s == d) & (t != 0)
        wrong_side = mid & ((back - s) * t < 0)
    return np.where(wrong_side, other, r)


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _chunks(n: int) -> list:
    """The [begin, end) ranges at::parallel_for hands to its threads."""
    if n <= _GRAIN:
        return [(0, n)]
    t = min(_threads(), -(-n // _GRAIN))
    size = -(-n // t)
    return [(b, min(n, b + size)) for b in range(0, n, size)]


def _vector_layout(n: int, v: int):
    """Per element: whether PyTorch's vectorized loop wrote it, and its vector's first index."""
    k = np.arange(n, dtype=np.int64)
    in_vec = np.zeros(n, dtype=bool)
    block = k.copy()
    for b, e in _chunks(n):
        m = (e - b) // (2 * v) * (2 * v)
        in_vec[b:b + m] = True
        block[b:b + m] = b + (k[b:b + m] - b) // v * v
    return k, in_vec, block


def arange_values(start, step, n: int, npd: np.dtype):
    """``n`` values of PyTorch's CPU arange kernel for a floating dtype ``npd``."""
    wide = npd in (_F32, _F64)  # accumulate in double; 16-bit floats in float32
    v = _VEC_BYTES // npd.itemsize
    k, in_vec, block = _vector_layout(n, v)
    out = np.empty(n, dtype=npd)
    tail = ~in_vec
    if wide:
        out[tail] = fma64(step, k[tail], start)
    else:
        s32, st32 = np.float32(start), np.float32(step)
        out[tail] = fma32(st32, k[tail], s32)
    if in_vec.any():
        # each vector starts from a base computed once and rounded to the output type (for
        # float32 too: Vectorized<float>::arange takes a float base), then adds i * step
        starts = block[in_vec]
        firsts = np.flatnonzero(np.diff(starts, prepend=-1))
        uniq = starts[firsts]
        idx = np.repeat(np.arange(uniq.size), np.diff(np.append(firsts, starts.size)))
        i = (k[in_vec] - starts).astype(_F64)
        if wide:
            base = fma64(step, uniq, start)
            if npd == _F32:
                base = base.astype(_F32).astype(_F64)
            out[in_vec] = fma64(step, i, base[idx])
        else:
            base = fma32(st32, uniq, s32).astype(npd).astype(_F32)
            out[in_vec] = fma32(st32, i, base[idx])
    return out


def _wrap_int(x, npd: np.dtype):
    """A Python/NumPy number converted to integer dtype ``npd`` the C++ way (truncate, wrap)."""
    if npd.kind == "b":
        return np.bool_(x != 0)
    return np.array(math.trunc(x) if isinstance(x, float) else int(x)).astype(np.int64) \
        .astype(npd)


def linspace_values(start, end, steps: int, npd: np.dtype):
    """PyTorch's CPU linspace: ``start``/``end`` converted to the output type; the step and
    values computed in it (double for integer outputs, FMA-contracted for float/double, in
    16-bit arithmetic for float16/bfloat16); the first half counted from ``start``, the rest
    from ``end``."""
    if steps == 0:
        return np.empty((0,), dtype=npd)
    if npd.kind == "c":
        s, e = np.asarray(start).astype(npd), np.asarray(end).astype(npd)
    elif npd.kind in "iub":
        s, e = _wrap_int(start.real if isinstance(start, complex) else start, npd), \
            _wrap_int(end.real if isinstance(end, complex) else end, npd)
    else:
        s, e = np.asarray(start).astype(npd), np.asarray(end).astype(npd)
    if steps == 1:
        return np.asarray([s], dtype=npd)
    i = np.arange(steps, dtype=np.int64)
    m = steps - 1 - i
    lower = i < steps // 2
    if npd.kind in "iu":
        step = (float(e) - float(s)) / (steps - 1)
        vals = np.where(lower, fma64(step, i, float(s)), fma64(-step, m, float(e)))
        return np.trunc(vals).astype(np.int64).astype(npd)
    if npd == _F64:
        step = (e - s) / np.float64(steps - 1)
        return np.where(lower, fma64(step, i, s), fma64(-step, m, e))
    if npd == _F32:
        step = (e - s) / np.float32(steps - 1)
        return np.where(lower, fma32(step, i, s), fma32(-step, m, e)).astype(_F32)
    if npd.kind == "c":
        rt = _F32 if npd == np.complex64 else _F64
        # a complex divided by a real count divides each part (NumPy's complex division
        # would round differently)
        step = np.asarray((e.real - s.real) / rt.type(steps - 1) +
                          1j * ((e.imag - s.imag) / rt.type(steps - 1))).astype(npd)
        f = fma32 if rt == _F32 else fma64
        re = np.where(lower, f(step.real, i, s.real), f(-step.real, m, e.real))
        im = np.where(lower, f(step.imag, i, s.imag), f(-step.imag, m, e.imag))
        return (re.astype(rt) + 1j * im.astype(rt)).astype(npd)
    # float16 / bfloat16: every operation rounds to the 16-bit type, as c10::Half's do
    step = ((e - s) / np.asarray(steps - 1).astype(npd)).astype(npd)
    ih, mh = i.astype(npd), m.astype(npd)
    return np.where(lower, (s + (step * ih).astype(npd)).astype(npd),
                    (e - (step * mh).astype(npd)).astype(npd)).astype(npd)


def logspace_values(start, end, steps: int, base: float, npd: np.dtype):
    """PyTorch's CPU logspace: exponents ``start + step * i`` (or from ``end``) in double with
    the step computed from the endpoints converted to the output type, then ``pow`` in double;
    complex outputs compute in their own complex type."""
    if steps == 0:
        return np.empty((0,), dtype=npd)
    if steps == 1:
        return np.asarray([np.power(np.complex128(base) if npd.kind == "c" else float(base),
                                    start)]).astype(npd)
    i = np.arange(steps, dtype=np.int64)
    m = steps - 1 - i
    lower = i < steps // 2
    if npd.kind == "c":
        s, e = np.asarray(start).astype(npd), np.asarray(end).astype(npd)
        step = (e - s) / npd.type(steps - 1)
        expo = np.where(lower, s + step * i.astype(npd), e - step * m.astype(npd))
        return np.power(npd.type(base), expo).astype(npd)
    if npd.kind in "iub":
        s = _wrap_int(start.real if isinstance(start, complex) else start, npd)
        e = _wrap_int(end.real if isinstance(end, complex) else end, npd)
        diff = float(int(e) - int(s))  # C++ promotes small integers to int: no wrap-around
    else:
        s, e = np.asarray(start).astype(npd), np.asarray(end).astype(npd)
        diff = float((e - s).astype(npd))
    step = diff / (steps - 1)
    # this loop is not FMA-contracted in PyTorch
    expo = np.where(lower, float(s) + step * i, float(e) - step * m)
    # C's pow, which PyTorch calls: NumPy's vectorized power differs in the last bit for ~5% of
    # inputs. logspace is not a hot path, so the per-element call is affordable.
    b = float(base)
    vals = np.array([_c_pow(b, x) for x in expo.tolist()], dtype=_F64)
    if npd.kind in "iu":
        with np.errstate(invalid="ignore"):
            return np.trunc(vals).astype(np.int64).astype(npd)
    return vals.astype(npd)


def _c_pow(b: float, x: float) -> float:
    """C's ``pow``: inf on overflow and nan for a negative base with a fractional exponent,
    where Python's ``math.pow`` raises."""
    try:
        return math.pow(b, x)
    except OverflowError:
        odd = b < 0 and x == int(x) and int(x) % 2 == 1
        return -math.inf if odd else math.inf
    except ValueError:
        return math.nan


def range_values(start, step, n: int, npd: np.dtype):
    """PyTorch's CPU ``torch.range`` kernel: ``start + i * step`` (FMA) in the accumulation
    type, then rounded to the output type."""
    k = np.arange(n, dtype=np.int64)
    if npd in (_F32, _F64) or npd.kind in "iu":
        return fma64(step, k, start).astype(npd) if npd.kind == "f" else \
            (int(start) + int(step) * k).astype(npd)
    return fma32(np.float32(step), k, np.float32(start)).astype(npd)


__all__ = ["fma64", "fma32", "arange_values", "linspace_values", "logspace_values",
           "range_values"]
