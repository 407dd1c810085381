"""VGG 11/13/16/19 with and without batch norm (Simonyan & Zisserman), as torchvision."""

from __future__ import annotations

from typing import Any

import ember

from ... import nn
from ..._tensor import Tensor
from ._api import WeightsEnum, _classification, _reject_weights, register_model

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
           "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights"]


class VGG(nn.Module):
    """VGG classifier over ``features``; torchvision's initialisation when ``init_weights``:
    conv kaiming-normal (fan_out, relu), linear N(0, 0.01), zero biases, unit BN scales."""

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = ember.flatten(x, 1)
        return self.classifier(x)


def make_layers(cfg: list[str | int], batch_norm: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfgs: dict[str, list[str | int]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}

_URL = "https://download.pytorch.org/models/"


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg11-8a719046.pth")
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg11_bn-6002323d.pth")
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg13-19584684.pth")
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg13_bn-abd245e5.pth")
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg16-397923af.pth")
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg16_bn-6c64b313.pth")
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg19-dcbb9e9d.pth")
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "vgg19_bn-c79401a0.pth")
    DEFAULT = IMAGENET1K_V1


def _vgg(name: str, cfg: str, batch_norm: bool, weights: Any, enum: type[WeightsEnum],
         kwargs: dict[str, Any]) -> VGG:
    _reject_weights(name, weights, enum, kwargs)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


@register_model(weights=VGG11_Weights)
def vgg11(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 (configuration A)."""
    return _vgg("vgg11", "A", False, weights, VGG11_Weights, kwargs)


@register_model(weights=VGG11_BN_Weights)
def vgg11_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 with batch normalisation."""
    return _vgg("vgg11_bn", "A", True, weights, VGG11_BN_Weights, kwargs)


@register_model(weights=VGG13_Weights)
def vgg13(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-13 (configuration B)."""
    return _vgg("vgg13", "B", False, weights, VGG13_Weights, kwargs)


@register_model(weights=VGG13_BN_Weights)
def vgg13_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-13 with batch normalisation."""
    return _vgg("vgg13_bn", "B", True, weights, VGG13_BN_Weights, kwargs)


@register_model(weights=VGG16_Weights)
def vgg16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16 (configuration D; 138,357,544 parameters)."""
    return _vgg("vgg16", "D", False, weights, VGG16_Weights, kwargs)


@register_model(weights=VGG16_BN_Weights)
def vgg16_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16 with batch normalisation."""
    return _vgg("vgg16_bn", "D", True, weights, VGG16_BN_Weights, kwargs)


@register_model(weights=VGG19_Weights)
def vgg19(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-19 (configuration E)."""
    return _vgg("vgg19", "E", False, weights, VGG19_Weights, kwargs)


@register_model(weights=VGG19_BN_Weights)
def vgg19_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-19 with batch normalisation."""
    return _vgg("vgg19_bn", "E", True, weights, VGG19_BN_Weights, kwargs)
