"""``torchvision.transforms``: image transforms on PIL images and tensors."""

from . import functional
from .autoaugment import AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from .transforms import *
from .transforms import __all__ as _transforms_all

__all__ = ["functional", "AutoAugment", "AutoAugmentPolicy", "RandAugment",
           "TrivialAugmentWide", *_transforms_all]
