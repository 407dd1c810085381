"""``torchvision.io`` image functions, implemented with Pillow.

Images are uint8 tensors [C, H, W]. torchvision returns uint16 for 16-bit PNGs; ember has no
uint16 dtype, so those decode to int32 (same values). Files are written atomically.
"""

from __future__ import annotations

import io as _io
import os
import pathlib
import tempfile
from enum import Enum

import numpy as np

from ... import _dtype
from ..._tensor import Tensor

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_image", "decode_png",
           "decode_jpeg", "encode_png", "encode_jpeg", "read_image", "write_png", "write_jpeg"]


class ImageReadMode(Enum):
    """How to convert a decoded image (torchvision's values)."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_MODE_NAMES = {"UNCHANGED": ImageReadMode.UNCHANGED, "GRAY": ImageReadMode.GRAY,
               "GRAY_ALPHA": ImageReadMode.GRAY_ALPHA, "RGB": ImageReadMode.RGB,
               "RGB_ALPHA": ImageReadMode.RGB_ALPHA, "RGBA": ImageReadMode.RGB_ALPHA}


def _parse_mode(mode: ImageReadMode | str) -> ImageReadMode:
    if isinstance(mode, ImageReadMode):
        return mode
    if isinstance(mode, str) and mode.upper() in _MODE_NAMES:
        return _MODE_NAMES[mode.upper()]
    raise ValueError(f"Invalid mode {mode!r}: expected an ImageReadMode or one of "
                     f"{sorted(_MODE_NAMES)}")


def _write_atomic(filename: str | os.PathLike, data: bytes) -> None:
    """Write through a temporary file in the same directory, fsync, then rename."""
    filename = os.fspath(filename)
    directory = os.path.dirname(os.path.abspath(filename))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(filename))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_file(path: str | os.PathLike) -> Tensor:
    """The bytes of a file as a 1-D uint8 tensor."""
    with open(path, "rb") as f:
        data = f.read()
    return Tensor._make(np.frombuffer(data, dtype=np.uint8).copy())


def write_file(filename: str | os.PathLike, data: Tensor) -> None:
    """Write a 1-D uint8 tensor's bytes to ``filename``."""
    if not isinstance(data, Tensor) or data.dtype != _dtype.uint8 or data.ndim != 1:
        raise RuntimeError("Input data should be a 1-dimensional uint8 tensor, got "
                           f"{getattr(data, 'dtype', type(data))} with shape "
                           f"{tuple(getattr(data, 'shape', ()))}")
    _write_atomic(filename, data.detach().numpy(force=True).tobytes())


def _open(data: bytes, name: str):
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(_io.BytesIO(data))
        img.load()
    except UnidentifiedImageError as e:
        raise RuntimeError(f"Unsupported or corrupt image file {name}: Pillow cannot identify "
                           "it") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise RuntimeError(f"Could not decode image {name}: {e}") from e
    return img


def _to_tensor(img, mode: ImageReadMode, apply_exif_orientation: bool) -> Tensor:
    from PIL import ImageOps

    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    if mode == ImageReadMode.UNCHANGED:
        if img.mode == "P":
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif img.mode == "1":
            img = img.convert("L")
        elif img.mode in ("CMYK", "YCbCr", "HSV", "LAB"):
            img = img.convert("RGB")
        elif img.mode == "PA":
            img = img.convert("RGBA")
    else:
        target = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA",
                  ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}[mode]
        if img.mode != target:
            if img.mode.startswith("I;16") or img.mode == "I":
                # Pillow does not convert 16-bit images to colour directly: go through 8 bits.
                img = img.point(lambda v: v / 256).convert("L")
            img = img.convert(target)
    arr = np.array(img)
    if arr.dtype not in (np.uint8,):
        arr = arr.astype(np.int32)  # 16-bit data; ember has no uint16
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return Tensor._make(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def _bytes_of(input: Tensor | str | os.PathLike) -> tuple[bytes, str]:
    if isinstance(input, (str, pathlib.Path)):
        with open(input, "rb") as f:
            return f.read(), os.fspath(input)
    if not isinstance(input, Tensor):
        raise TypeError(f"Expected a tensor or a path, got {type(input)}")
    if input.dtype != _dtype.uint8 or input.ndim != 1:
        raise RuntimeError("Expected a 1-dimensional uint8 tensor of encoded bytes, got "
                           f"{input.dtype} with shape {tuple(input.shape)}")
    return input.detach().numpy(force=True).tobytes(), "<tensor data>"


def decode_image(input: Tensor | str, mode: ImageReadMode = ImageReadMode.UNCHANGED,
                 apply_exif_orientation: bool = False) -> Tensor:
    """Decode encoded image bytes (or a file path) into a uint8 [C, H, W] tensor."""
    data, name = _bytes_of(input)
    return _to_tensor(_open(data, name), _parse_mode(mode), apply_exif_orientation)


def decode_png(input: Tensor, mode: ImageReadMode = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    data, name = _bytes_of(input)
    img = _open(data, name)
    if img.format != "PNG":
        raise RuntimeError(f"Content of {name} is not a PNG image ({img.format})")
    return _to_tensor(img, _parse_mode(mode), apply_exif_orientation)


def decode_jpeg(input: Tensor, mode: ImageReadMode = ImageReadMode.UNCHANGED,
                device: str = "cpu", apply_exif_orientation: bool = False) -> Tensor:
    data, name = _bytes_of(input)
    img = _open(data, name)
    if img.format != "JPEG":
        raise RuntimeError(f"Content of {name} is not a JPEG image ({img.format})")
    out = _to_tensor(img, _parse_mode(mode), apply_exif_orientation)
    return out if str(device) == "cpu" else out.to(device)


def read_image(path: str | os.PathLike, mode: ImageReadMode = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Read a JPEG/PNG/GIF/WEBP/... file into a uint8 [C, H, W] tensor."""
    with open(path, "rb") as f:
        data = f.read()
    return _to_tensor(_open(data, os.fspath(path)), _parse_mode(mode), apply_exif_orientation)


def _to_pil(input: Tensor, what: str, channels: tuple[int, ...]):
    from PIL import Image

    if not isinstance(input, Tensor):
        raise TypeError(f"Expected a tensor, got {type(input)}")
    if input.dtype != _dtype.uint8:
        raise RuntimeError(f"Input tensor dtype should be uint8, got {input.dtype}")
    if input.ndim != 3:
        raise RuntimeError(f"Input data should be a 3-dimensional tensor [C, H, W], got shape "
                           f"{tuple(input.shape)}")
    if input.shape[0] not in channels:
        raise RuntimeError(f"The number of channels should be {' or '.join(map(str, channels))}"
                           f" to encode {what}, got {input.shape[0]}")
    arr = input.detach().numpy(force=True).transpose(1, 2, 0)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[arr.shape[2]]
    return Image.fromarray(np.ascontiguousarray(arr[:, :, 0] if mode == "L" else arr), mode)


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """PNG bytes (1-D uint8 tensor) of a uint8 [C, H, W] image (C = 1, 2, 3 or 4)."""
    if not 0 <= compression_level <= 9:
        raise ValueError(f"Compression level should be between 0 and 9, got "
                         f"{compression_level}")
    buf = _io.BytesIO()
    _to_pil(input, "a PNG", (1, 2, 3, 4)).save(buf, format="PNG",
                                                compress_level=compression_level)
    return Tensor._make(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def encode_jpeg(input: Tensor, quality: int = 75) -> Tensor:
    """JPEG bytes (1-D uint8 tensor) of a uint8 [C, H, W] image (C = 1 or 3)."""
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    buf = _io.BytesIO()
    _to_pil(input, "a JPEG", (1, 3)).save(buf, format="JPEG", quality=quality)
    return Tensor._make(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def write_png(input: Tensor, filename: str | os.PathLike, compression_level: int = 6) -> None:
    """Encode ``input`` as PNG and write it (atomically) to ``filename``."""
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input: Tensor, filename: str | os.PathLike, quality: int = 75) -> None:
    """Encode ``input`` as JPEG and write it (atomically) to ``filename``."""
    write_file(filename, encode_jpeg(input, quality))
