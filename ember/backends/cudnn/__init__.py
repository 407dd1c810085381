"""``torch.backends.cudnn``: flags for NVIDIA's cuDNN library.

ember does not call cuDNN (its CUDA convolutions are im2col + cuBLAS matmuls through CuPy), so it
behaves like a PyTorch build without cuDNN: ``is_available()`` is False, ``version()`` and
``benchmark_limit`` are None. The other flags keep PyTorch's defaults and accept assignments,
``set_flags`` and ``flags(...)``; they do not change ember's results: its convolutions are
deterministic, never autotuned, and never use TF32.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["is_available", "version", "is_acceptable", "set_flags", "flags", "enabled",
           "benchmark", "benchmark_limit", "deterministic", "allow_tf32", "fp32_precision",
           "depthwise_kernel"]

enabled = True
benchmark = False
benchmark_limit = None  # PyTorch's value without cuDNN (10 with it)
deterministic = False
allow_tf32 = True
fp32_precision = "none"
depthwise_kernel = "auto"


def is_available() -> bool:
    """False: ember has no cuDNN code path."""
    return False


def version() -> int | None:
    """The cuDNN version in use: None, as ember does not use cuDNN."""
    return None


def is_acceptable(tensor) -> bool:
    """Whether PyTorch would hand ``tensor`` to cuDNN: never in ember."""
    return False


def set_flags(_enabled: bool | None = None, _benchmark: bool | None = None,
              _benchmark_limit: int | None = None, _deterministic: bool | None = None,
              _allow_tf32: bool | None = None, _fp32_precision: str | None = "none",
              _depthwise_kernel: str | None = None) -> tuple:
    """Set the given flags (``_benchmark_limit`` is ignored without cuDNN, as in PyTorch);
    returns the previous ``(enabled, benchmark, benchmark_limit, deterministic, allow_tf32,
    fp32_precision, depthwise_kernel)``."""
    global enabled, benchmark, deterministic, allow_tf32, fp32_precision, depthwise_kernel
    old = (enabled, benchmark, benchmark_limit, deterministic, allow_tf32, fp32_precision,
           depthwise_kernel)
    if _enabled is not None:
        enabled = _enabled
    if _benchmark is not None:
        benchmark = _benchmark
    if _deterministic is not None:
        deterministic = _deterministic
    if _allow_tf32 is not None:
        allow_tf32 = _allow_tf32
    if _fp32_precision is not None:
        fp32_precision = _fp32_precision
    if _depthwise_kernel is not None:
        depthwise_kernel = _depthwise_kernel
    return old


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
          deterministic: bool = False, allow_tf32: bool = True, fp32_precision: str = "none",
          depthwise_kernel: str = "auto") -> Iterator[None]:
    """Set all flags for the ``with`` block (PyTorch's defaults for the ones not given, so
    ``flags()`` disables cuDNN), restoring them afterwards."""
    old = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32,
                    fp32_precision, depthwise_kernel)
    try:
        yield
    finally:
        set_flags(*old)
