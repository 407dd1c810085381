"""``torch.backends.cuda``: CUDA math switches.

``matmul`` takes PyTorch's cuBLAS flags with PyTorch's defaults and rejects unknown names as
PyTorch does. The flags are recorded only: ember's CUDA matmuls go through CuPy, which computes
float32 in full precision (no TF32) and half types with float32 accumulation, whatever they say.
"""

from __future__ import annotations

__all__ = ["is_built", "matmul", "cuBLASModule"]


def is_built() -> bool:
    """True when ember can run on CUDA, i.e. CuPy is installed (a GPU need not be present)."""
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


class cuBLASModule:
    """The ``torch.backends.cuda.matmul`` flags."""

    _defaults = {"allow_tf32": False, "allow_fp16_reduced_precision_reduction": True,
                 "allow_bf16_reduced_precision_reduction": True,
                 "allow_fp16_accumulation": False}

    def __init__(self) -> None:
        for name, value in self._defaults.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        if name not in self._defaults:
            raise AttributeError("Unknown attribute " + name)
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        raise AttributeError("Unknown attribute " + name)


matmul = cuBLASModule()
