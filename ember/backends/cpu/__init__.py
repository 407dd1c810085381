"""``torch.backends.cpu``: the SIMD level the CPU kernels dispatch to."""

from __future__ import annotations

import platform

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """The widest x86 vector extension NumPy's kernels (ember's CPU kernels) can use, named as
    PyTorch names its dispatch levels: "AVX512", "AVX2" or "DEFAULT"."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy < 2 keeps it in numpy.core
        from numpy.core._multiarray_umath import __cpu_features__ as features
    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
        if features.get("AVX512_SKX"):
            return "AVX512"
        if features.get("AVX2"):
            return "AVX2"
    return "DEFAULT"
