"""DenseNet 121/161/169/201 (Huang et al.), as torchvision builds them."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import ember

from ... import nn
from ..._tensor import Tensor
from ...nn import functional as F
from ._api import WeightsEnum, _classification, _reject_weights, register_model

__all__ = ["DenseNet", "DenseNet121_Weights", "DenseNet161_Weights", "DenseNet169_Weights",
           "DenseNet201_Weights", "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1 bottleneck then BN-ReLU-Conv3x3 producing ``growth_rate`` maps.

    ``memory_efficient`` is accepted for compatibility; ember computes the layer normally
    (torchvision recomputes the bottleneck in backward to save memory; results are equal).
    """

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int,
                 drop_rate: float, memory_efficient: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs: list[Tensor]) -> Tensor:
        concated = ember.cat(inputs, 1)
        return self.conv1(self.relu1(self.norm1(concated)))

    def forward(self, input: Tensor | list[Tensor]) -> Tensor:
        prev_features = [input] if isinstance(input, Tensor) else input
        bottleneck = self.bn_function(prev_features)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    _version = 2

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int,
                 growth_rate: int, drop_rate: float, memory_efficient: bool = False) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate,
                                bn_size=bn_size, drop_rate=drop_rate,
                                memory_efficient=memory_efficient)
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for _, layer in self.items():
            features.append(layer(features))
        return ember.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1,
                              bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC; convs kaiming-normal (fan_in), norms (1, 0), classifier bias 0."""

    def __init__(self, growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0,
                 num_classes: int = 1000, memory_efficient: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3,
                                bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers=num_layers, num_input_features=num_features,
                                bn_size=bn_size, growth_rate=growth_rate, drop_rate=drop_rate,
                                memory_efficient=memory_efficient)
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_input_features=num_features,
                                    num_output_features=num_features // 2)
                self.features.add_module("transition%d" % (i + 1), trans)
                num_features = num_features // 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    # torchvision's published DenseNet checkpoints predate its current layer names and use
    # "denselayer1.norm.1.weight" for "denselayer1.norm1.weight"; accept both spellings.
    _OLD_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|"
                          r"running_mean|running_var|num_batches_tracked))$")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        for key in list(state_dict):
            if key.startswith(prefix):
                match = self._OLD_KEY.match(key)
                if match:
                    state_dict[match.group(1) + match.group(2)] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, x: Tensor) -> Tensor:
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = ember.flatten(out, 1)
        return self.classifier(out)


_URL = "https://download.pytorch.org/models/"


class DenseNet121_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "densenet121-a639ec97.pth")
    DEFAULT = IMAGENET1K_V1


class DenseNet161_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "densenet161-8d451a50.pth")
    DEFAULT = IMAGENET1K_V1


class DenseNet169_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "densenet169-b2777c0a.pth")
    DEFAULT = IMAGENET1K_V1


class DenseNet201_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "densenet201-c1103571.pth")
    DEFAULT = IMAGENET1K_V1


def _densenet(name: str, growth_rate: int, block_config: tuple[int, ...],
              num_init_features: int, weights: Any, enum: type[WeightsEnum],
              kwargs: dict[str, Any]) -> DenseNet:
    _reject_weights(name, weights, enum, kwargs)
    return DenseNet(growth_rate, block_config, num_init_features, **kwargs)


@register_model(weights=DenseNet121_Weights)
def densenet121(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> DenseNet:
    """DenseNet-121 (7,978,856 parameters with 1000 classes)."""
    return _densenet("densenet121", 32, (6, 12, 24, 16), 64, weights, DenseNet121_Weights,
                     kwargs)


@register_model(weights=DenseNet161_Weights)
def densenet161(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> DenseNet:
    """DenseNet-161."""
    return _densenet("densenet161", 48, (6, 12, 36, 24), 96, weights, DenseNet161_Weights,
                     kwargs)


@register_model(weights=DenseNet169_Weights)
def densenet169(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> DenseNet:
    """DenseNet-169."""
    return _densenet("densenet169", 32, (6, 12, 32, 32), 64, weights, DenseNet169_Weights,
                     kwargs)


@register_model(weights=DenseNet201_Weights)
def densenet201(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> DenseNet:
    """DenseNet-201."""
    return _densenet("densenet201", 32, (6, 12, 48, 32), 64, weights, DenseNet201_Weights,
                     kwargs)
