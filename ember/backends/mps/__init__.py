"""``torch.backends.mps``: Apple's Metal backend, which ember does not have."""

from __future__ import annotations

__all__ = ["is_available", "is_built", "is_macos_or_newer"]


def is_built() -> bool:
    """False: ember has no MPS backend."""
    return False


def is_available() -> bool:
    """False: ember has no MPS backend (scripts fall back to CUDA or the CPU)."""
    return False


def is_macos_or_newer(major: int, minor: int) -> bool:
    """False, like PyTorch's builds without MPS."""
    return False
