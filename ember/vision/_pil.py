"""Pillow, imported on first use and optional: ``import ember`` neither needs nor loads it,
and the functions that read, write or create PIL images say how to install it."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["require_pil", "is_pil_image"]


def require_pil():
    """The ``PIL.Image`` module, or an ImportError explaining how to get it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("ember.vision needs Pillow to read, write and create images: "
                          "pip install Pillow (or the ember[vision] extra)") from None
    return Image


def is_pil_image(img: Any) -> bool:
    # An object can only be a PIL image if Pillow has been imported already.
    image = sys.modules.get("PIL.Image")
    return image is not None and isinstance(img, image.Image)
