"""Turning ember tensors, NumPy arrays and Python numbers into NumPy arrays, and image arrays
into the HWC layout the image summaries encode (PyTorch's ``torch.utils.tensorboard._utils``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import _dtype
from ..._tensor import Tensor

__all__ = ["make_np", "convert_to_HWC", "make_grid", "figure_to_image"]


def make_np(x: Any) -> np.ndarray:
    """A host NumPy array for ``x``, as PyTorch's ``make_np``: arrays pass through, a Python or
    NumPy scalar becomes a 1-element array, a tensor is detached and copied to the CPU (bfloat16
    becomes float16, which NumPy can hold); anything else raises NotImplementedError."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        x = x.detach()
        if x.dtype == _dtype.bfloat16:
            x = x.half()
        return x.cpu().numpy()
    raise NotImplementedError(f"Got {type(x)}, but numpy array or torch tensor are expected.")


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile an N1HW or N3HW batch into one CHW image, ``ncols`` images a row, no padding, unused
    cells black: the layout of PyTorch's tensorboard ``make_grid`` (not torchvision's)."""
    if not isinstance(images, np.ndarray):
        raise AssertionError("plugin error, should pass numpy array here")
    if images.ndim == 4 and images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    n, c, h, w = images.shape
    ncols = min(n, ncols)
    nrows = math.ceil(n / ncols)
    cells = np.zeros((nrows * ncols, c, h, w), dtype=images.dtype)
    cells[:n] = images
    # (rows, cols, C, H, W) -> (C, rows, H, cols, W): one reshape places every image at once
    grid = cells.reshape(nrows, ncols, c, h, w).transpose(2, 0, 3, 1, 4)
    return grid.reshape(c, nrows * h, ncols * w)


def convert_to_HWC(tensor: np.ndarray, input_format: str) -> np.ndarray:
    """Reorder an image array given in ``input_format`` (NCHW, CHW, HWC, HW or any permutation)
    into HWC with 3 channels (grey is repeated; a batch is tiled by :func:`make_grid`), raising
    AssertionError like PyTorch for a repeated letter or a rank that does not match."""
    if len(set(input_format)) != len(input_format):
        raise AssertionError("You can not use the same dimension shorthand twice. "
                             f"input_format: {input_format}")
    if tensor.ndim != len(input_format):
        raise AssertionError("size of input tensor and input format are different. "
                             f"tensor shape: {tensor.shape}, input_format: {input_format}")
    input_format = input_format.upper()
    if len(input_format) == 4:
        nchw = tensor.transpose([input_format.find(c) for c in "NCHW"])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(input_format) == 3:
        hwc = tensor.transpose([input_format.find(c) for c in "HWC"])
        return np.repeat(hwc, 3, axis=2) if hwc.shape[2] == 1 else hwc
    if len(input_format) == 2:
        hw = tensor.transpose([input_format.find(c) for c in "HW"])
        return np.repeat(hw[:, :, None], 3, axis=2)
    raise AssertionError(f"input_format must have 2, 3 or 4 dimensions, got {input_format}")


def figure_to_image(figures: Any, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure (CHW uint8 RGB) or a list of them (NCHW) with the Agg
    backend, closing each one when ``close``, as PyTorch's ``figure_to_image``."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure) -> np.ndarray:
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        w, h = figure.canvas.get_width_height()
        rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(h, w, 4)
        if close:
            plt.close(figure)
        return np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)
