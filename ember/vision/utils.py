"""``torchvision.utils``: ``make_grid``, ``save_image`` and ``draw_bounding_boxes``."""

from __future__ import annotations

import math
import os
import pathlib
import warnings
from typing import Any, BinaryIO

import ember

from .. import _dtype
from .._tensor import Tensor

__all__ = ["make_grid", "save_image", "draw_bounding_boxes"]


def _norm_ip(img: Tensor, low: float, high: float) -> None:
    img.clamp_(min=low, max=high)
    img.sub_(low).div_(max(high - low, 1e-5))


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2,
              normalize: bool = False, value_range: tuple[float, float] | None = None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch (B, C, H, W) or list of images into one (C, H', W') image with
    torchvision's geometry: ``nrow`` images per row, ``padding`` pixels before every image and
    after the last ones, 1-channel images repeated to 3 channels, a single image returned as
    it is. ``normalize`` shifts to [0, 1] by ``value_range`` or each image's / the batch's
    min and max (``scale_each``)."""
    if not isinstance(tensor, Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, Tensor):
                    raise TypeError(f"tensor or list of tensors expected, got a list "
                                    f"containing {type(t)}")
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        tensor = ember.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = ember.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = ember.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and "
                            "max are numbers")
        if value_range is not None:
            _norm_ip(tensor, value_range[0], value_range[1])
        elif scale_each is True:
            # Per-image min and max, all images at once.
            low = tensor.amin(dim=(1, 2, 3), keepdim=True)
            high = tensor.amax(dim=(1, 2, 3), keepdim=True)
            tensor.sub_(low).div_((high - low).clamp(min=1e-5))
        else:
            _norm_ip(tensor, float(tensor.min()), float(tensor.max()))
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps, num_channels, h, w = tensor.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(h + padding), int(w + padding)
    # Each cell is the image with ``padding`` rows/columns before it; the cells are laid out
    # row-major and the whole grid gets ``padding`` more at the bottom and right.
    cells = ember.full((ymaps * xmaps, num_channels, height, width), pad_value,
                       dtype=tensor.dtype, device=tensor.device)
    cells[:nmaps, :, padding:, padding:] = tensor
    rows = cells.view(ymaps, xmaps, num_channels, height, width).permute(2, 0, 3, 1, 4)
    grid = ember.full((num_channels, height * ymaps + padding, width * xmaps + padding),
                      pad_value, dtype=tensor.dtype, device=tensor.device)
    grid[:, :height * ymaps, :width * xmaps] = rows.reshape(num_channels, height * ymaps,
                                                            width * xmaps)
    return grid


def save_image(tensor: Tensor | list[Tensor], fp: str | pathlib.Path | BinaryIO,
               format: str | None = None, **kwargs: Any) -> None:
    """``make_grid(tensor, **kwargs)`` scaled by 255, rounded, clamped and saved with Pillow
    (the format from ``format`` or the file name)."""
    from PIL import Image

    grid = make_grid(tensor, **kwargs)
    ndarr = (grid.detach().mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0)
             .to(_dtype.uint8).numpy(force=True))
    im = Image.fromarray(ndarr[:, :, 0] if ndarr.shape[2] == 1 else ndarr)
    if isinstance(fp, (str, os.PathLike)):
        # Write next to the target and rename, so a crash never leaves half an image.
        path = os.fspath(fp)
        fmt = format or Image.registered_extensions().get(os.path.splitext(path)[1].lower())
        if fmt is None:
            raise ValueError(f"unknown file extension: {os.path.splitext(path)[1]!r} "
                             f"(cannot tell which format to save {path} in)")
        tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                           f".tmp-{os.getpid()}-{os.path.basename(path)}")
        try:
            with open(tmp, "wb") as f:
                im.save(f, format=fmt)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        im.save(fp, format=format)


def _generate_color_palette(num_objects: int) -> list[tuple[int, int, int]]:
    palette = (2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1)
    return [tuple((i * p) % 255 for p in palette) for i in range(num_objects)]


def _parse_colors(colors: Any, *, num_objects: int) -> list:
    from PIL import ImageColor

    if colors is None:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError("Number of colors must be equal or larger than the number of "
                             f"objects, but got {len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"`colors` must be a tuple or a string, or a list thereof, but got "
                         f"{colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got "
                         f"{colors}.")
    else:
        colors = [colors] * num_objects
    return [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]


def draw_bounding_boxes(image: Tensor, boxes: Tensor, labels: list[str] | None = None,
                        colors: Any = None, fill: bool = False, width: int = 1,
                        font: str | None = None, font_size: int | None = None,
                        label_colors: Any = None) -> Tensor:
    """Draw (xmin, ymin, xmax, ymax) boxes and labels on a uint8 or float [C, H, W] image
    (C = 1 or 3) with Pillow; returns a new image of the input's dtype with 3 channels."""
    from PIL import Image, ImageDraw, ImageFont

    from .transforms import functional as F

    if not isinstance(image, Tensor):
        raise TypeError(f"Tensor expected, got {type(image)}")
    if not (image.dtype == _dtype.uint8 or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.dim() != 3:
        raise ValueError("Pass individual images, not batches")
    if image.size(0) not in {1, 3}:
        raise ValueError("Only grayscale and RGB images are supported")
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"boxes should be a (N, 4) tensor, got shape {tuple(boxes.shape)}")
    if (boxes[:, 0] > boxes[:, 2]).any() or (boxes[:, 1] > boxes[:, 3]).any():
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use "
                         "torchvision.ops.box_convert to convert them")
    num_boxes = boxes.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn", stacklevel=2)
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. "
                         "Please specify labels for each box.")
    colors = _parse_colors(colors, num_objects=num_boxes)
    label_colors = _parse_colors(label_colors, num_objects=num_boxes) if label_colors \
        else colors
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.",
                          stacklevel=2)
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)
    if image.size(0) == 1:
        image = ember.tile(image, (3, 1, 1))
    original_dtype = image.dtype
    if original_dtype.is_floating_point:
        image = F.convert_image_dtype(image.clamp(0, 1), _dtype.uint8)
    img_to_draw: Image.Image = F.to_pil_image(image)
    draw = ImageDraw.Draw(img_to_draw, "RGBA" if fill else None)
    for bbox, color, label, label_color in zip(boxes.to(_dtype.int64).tolist(), colors, labels,
                                               label_colors):
        if fill:
            draw.rectangle(bbox, width=width, outline=color, fill=tuple(color) + (100,))
        else:
            draw.rectangle(bbox, width=width, outline=color)
        if label is not None:
            margin = width + 1
            draw.text((bbox[0] + margin, bbox[1] + margin), label, fill=label_color,
                      font=txt_font)
    out = F.pil_to_tensor(img_to_draw)
    if original_dtype.is_floating_point:
        out = F.convert_image_dtype(out, original_dtype)
    return out
