"""``torch.cuda``: CUDA availability, devices, synchronization and memory statistics (CuPy)."""

from __future__ import annotations

from .._backend import cuda_device_count, is_cuda_available


def is_available() -> bool:
    """True when CuPy and at least one CUDA GPU can be used."""
    return is_cuda_available()


def device_count() -> int:
    return cuda_device_count()
