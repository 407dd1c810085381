"""``torch.backends``: the switches PyTorch scripts set for its native backends.

ember computes with NumPy on the CPU and CuPy on CUDA, so most of PyTorch's backends do not
exist here. The flags scripts commonly set (``cudnn.benchmark``, ``cudnn.deterministic``,
``cuda.matmul.allow_tf32`` ...) are accepted and read back with PyTorch's defaults; each
submodule says what, if anything, the flag changes in ember.
"""

from . import cpu, cuda, cudnn, mps, opt_einsum

__all__ = ["cpu", "cuda", "cudnn", "mps", "opt_einsum"]
