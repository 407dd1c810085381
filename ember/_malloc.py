"""glibc allocator settings for a training process (``M_MMAP_THRESHOLD``, ``M_TRIM_THRESHOLD``).

glibc serves large blocks with fresh ``mmap`` pages and hands freed memory at the top of its
heap back to the OS. A training step frees and re-allocates the same few-MB activations and
gradients every step, so with glibc's defaults every step page-faults them in again (zeroed by
the kernel): ~3 us a 4 KB page on this project's 2-core VM. LeNet's step, ember alone in the
process, made 1,229 page faults a step and took 15.1 ms on one thread; with the settings below,
none and 9.7 ms (PyTorch alone pays the same: 1,248 faults, 12.1 ms; its CPU tuning guide
suggests swapping in another allocator for this reason).

At import, on Linux with glibc, ember keeps blocks up to ``MMAP_THRESHOLD`` on the heap and lets
up to ``TRIM_THRESHOLD`` bytes of free memory stay at the heap's top, unless
``EMBER_MALLOC_TUNE=0`` or the user set glibc's own ``MALLOC_MMAP_THRESHOLD_``/
``MALLOC_TRIM_THRESHOLD_`` (those then win). The cost: memory the process frees is kept for
reuse rather than returned to the OS, as a caching allocator keeps it.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# The largest mmap threshold glibc accepts on 64-bit systems (HEAP_MAX_SIZE / 2).
MMAP_THRESHOLD = 32 << 20
# Free memory kept at the top of the heap: the seeds' CNN step frees ~100 MB of activations and
# gradients at batch 100.
TRIM_THRESHOLD = 256 << 20

tuned = False  # whether tune() changed the settings in this process


def tune() -> bool:
    """Apply the settings above once; True when they are in effect."""
    global tuned
    if tuned:
        return True
    if os.environ.get("EMBER_MALLOC_TUNE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # (mallopt returns 1 on success; the trim threshold first, so that a refused mmap
    # threshold still leaves freed memory where it is)
    tuned = bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) & bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return tuned
