"""Transforms on PIL images (torchvision's ``_functional_pil``): thin wrappers over Pillow."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._pil import is_pil_image, require_pil

_is_pil_image = is_pil_image


# Pillow's submodules, imported when first needed (only PIL images reach these functions).
def _enhance():
    from PIL import ImageEnhance

    return ImageEnhance


def _ops():
    from PIL import ImageOps

    return ImageOps


def _check(img: Any) -> None:
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img: Any) -> list[int]:
    if _is_pil_image(img):
        width, height = img.size
        return [len(img.getbands()), height, width]
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_size(img: Any) -> list[int]:
    if _is_pil_image(img):
        return list(img.size)
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_num_channels(img: Any) -> int:
    if _is_pil_image(img):
        return len(img.getbands())
    raise TypeError(f"Unexpected type {type(img)}")


def hflip(img: Any) -> Any:
    _check(img)
    return img.transpose(require_pil().Transpose.FLIP_LEFT_RIGHT)


def vflip(img: Any) -> Any:
    _check(img)
    return img.transpose(require_pil().Transpose.FLIP_TOP_BOTTOM)


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    _check(img)
    return _enhance().Brightness(img).enhance(brightness_factor)


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    _check(img)
    return _enhance().Contrast(img).enhance(contrast_factor)


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    _check(img)
    return _enhance().Color(img).enhance(saturation_factor)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check(img)
    mode = img.mode
    if mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    # Adding in uint8 wraps around, which is the cyclic hue shift we want.
    np_h += np.array(hue_factor * 255).astype(np.int64).astype(np.uint8)
    h = require_pil().fromarray(np_h, "L")
    return require_pil().merge("HSV", (h, s, v)).convert(mode)


def adjust_gamma(img: Any, gamma: float, gain: float = 1.0) -> Any:
    _check(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    mode = img.mode
    img = img.convert("RGB")
    table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)]
    return img.point(table * len(img.getbands())).convert(mode)


def _parse_fill(fill: Any, img: Any, name: str = "fillcolor") -> dict[str, Any]:
    """Pillow's fill argument for ``img``: one value per band, ints unless mode 'F'."""
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * num_channels
        elif len(fill) != num_channels:
            raise ValueError("The number of elements in 'fill' does not match the number of "
                             f"channels of the image ({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img: Any, padding: int | Sequence[int], fill: Any = 0,
        padding_mode: str = "constant") -> Any:
    _check(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, list):
        padding = tuple(padding)
    if isinstance(padding, tuple) and len(padding) not in [1, 2, 4]:
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    if isinstance(padding, numbers.Number):
        left = top = right = bottom = int(padding)
    elif len(padding) == 2:
        left = right = padding[0]
        top = bottom = padding[1]
    else:
        left, top, right, bottom = padding

    if padding_mode == "constant":
        opts = _parse_fill(fill, img, name="fill")
        if min(left, top, right, bottom) >= 0:
            if img.mode == "P":
                palette = img.getpalette()
                out = _ops().expand(img, border=(left, top, right, bottom), **opts)
                out.putpalette(palette)
                return out
            return _ops().expand(img, border=(left, top, right, bottom), **opts)

    # Negative padding crops first (as torchvision does for every mode).
    p = [left, top, right, bottom]
    crop = [-min(x, 0) for x in p]
    if any(crop):
        cl, ct, cr, cb = crop
        img = img.crop((cl, ct, img.width - cr, img.height - cb))
    left, top, right, bottom = (max(x, 0) for x in p)
    if padding_mode == "constant":
        return pad(img, (left, top, right, bottom), fill, "constant")

    palette = img.getpalette() if img.mode == "P" else None
    arr = np.asarray(img)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
    out = require_pil().fromarray(np.pad(arr, widths, padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    _check(img)
    return img.crop((left, top, left + width, top + height))


def resize(img: Any, size: Sequence[int], interpolation: int = 2) -> Any:
    """Resize to ``size`` = [h, w] (already computed by the caller)."""
    _check(img)
    if not (isinstance(size, list) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize((int(size[1]), int(size[0])), interpolation)


def affine(img: Any, matrix: list[float], interpolation: int = 0,
           fill: Any = None) -> Any:
    _check(img)
    opts = _parse_fill(fill, img)
    return img.transform(img.size, require_pil().AFFINE, matrix, interpolation, **opts)


def rotate(img: Any, angle: float, interpolation: int = 0,
           expand: bool = False, center: Sequence[int] | None = None,
           fill: Any = None) -> Any:
    _check(img)
    opts = _parse_fill(fill, img)
    return img.rotate(angle, interpolation, expand, center, **opts)


def perspective(img: Any, perspective_coeffs: list[float],
                interpolation: int = 3, fill: Any = None) -> Any:
    _check(img)
    opts = _parse_fill(fill, img)
    return img.transform(img.size, require_pil().PERSPECTIVE, perspective_coeffs, interpolation,
                         **opts)


def to_grayscale(img: Any, num_output_channels: int) -> Any:
    _check(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        np_img = np.array(img.convert("L"), dtype=np.uint8)
        return require_pil().fromarray(np.dstack([np_img, np_img, np_img]), "RGB")
    raise ValueError("num_output_channels should be either 1 or 3")


def invert(img: Any) -> Any:
    _check(img)
    return _ops().invert(img)


def posterize(img: Any, bits: int) -> Any:
    _check(img)
    return _ops().posterize(img, bits)


def solarize(img: Any, threshold: float) -> Any:
    _check(img)
    return _ops().solarize(img, threshold)


def adjust_sharpness(img: Any, sharpness_factor: float) -> Any:
    _check(img)
    return _enhance().Sharpness(img).enhance(sharpness_factor)


def autocontrast(img: Any) -> Any:
    _check(img)
    return _ops().autocontrast(img)


def equalize(img: Any) -> Any:
    _check(img)
    return _ops().equalize(img)
