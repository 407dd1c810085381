"""Pillow, imported once and optional: ``import ember`` works without it, and the functions
that read, write or create PIL images say how to install it."""

from __future__ import annotations

try:
    from PIL import Image, ImageColor, ImageDraw, ImageEnhance, ImageFont, ImageOps
except ImportError:  # pragma: no cover - Pillow is part of the ember[vision] extra
    Image = ImageColor = ImageDraw = ImageEnhance = ImageFont = ImageOps = None

__all__ = ["Image", "ImageColor", "ImageDraw", "ImageEnhance", "ImageFont", "ImageOps",
           "require_pil"]


def require_pil():
    """The ``PIL.Image`` module, or an ImportError explaining how to get it."""
    if Image is None:
        raise ImportError("ember.vision needs Pillow to read, write and create images: "
                          "pip install Pillow (or the ember[vision] extra)")
    return Image
