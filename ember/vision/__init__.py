"""``ember.vision``: torchvision's datasets, transforms, models and image utilities for ember.

``python -m ember.compat`` maps ``torchvision`` onto this package, so ``from torchvision import
datasets, transforms`` works unchanged.
"""

from . import datasets, io, models, ops, transforms, utils

__version__ = "0.28.0+ember"

_image_backend = "PIL"


def set_image_backend(backend: str) -> None:
    """Only Pillow is supported ('accimage' is not available in ember)."""
    global _image_backend
    if backend not in ["PIL", "accimage"]:
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL' and 'accimage'")
    if backend == "accimage":
        raise NotImplementedError("ember.vision reads images with Pillow only; the accimage "
                                  "backend is not supported")
    _image_backend = backend


def get_image_backend() -> str:
    """The image loading backend: always 'PIL'."""
    return _image_backend
