"""``torchvision.ops`` building blocks used by the models."""

from .misc import Conv2dNormActivation, ConvNormActivation, SqueezeExcitation

__all__ = ["Conv2dNormActivation", "ConvNormActivation", "SqueezeExcitation"]
