"""ShuffleNetV2 (Ma et al.), as torchvision builds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember

from ... import nn
from ..._tensor import Tensor
from ._api import WeightsEnum, _classification, _reject_weights, register_model

__all__ = ["ShuffleNetV2", "ShuffleNet_V2_X0_5_Weights", "ShuffleNet_V2_X1_0_Weights",
           "ShuffleNet_V2_X1_5_Weights", "ShuffleNet_V2_X2_0_Weights", "shufflenet_v2_x0_5",
           "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = ember.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, num_channels, height, width)


class InvertedResidual(nn.Module):
    """ShuffleNetV2 unit: split (stride 1) or two branches (stride 2), concat, shuffle."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError("illegal stride value")
        self.stride = stride
        branch_features = oup // 2
        if (self.stride == 1) and (inp != branch_features << 1):
            raise ValueError(f"Invalid combination of stride {stride}, inp {inp} and oup {oup} "
                             "values. If stride == 1 then inp should be equal to oup // 2 << 1.")
        if self.stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=self.stride, padding=1),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
                nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if (self.stride > 1) else branch_features, branch_features,
                      kernel_size=1, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
            self.depthwise_conv(branch_features, branch_features, kernel_size=3,
                                stride=self.stride, padding=1),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, kernel_size=1, stride=1, padding=0,
                      bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
        )

    @staticmethod
    def depthwise_conv(i: int, o: int, kernel_size: int, stride: int = 1, padding: int = 0,
                       bias: bool = False) -> nn.Conv2d:
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = ember.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = ember.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2 with ``stages_repeats`` units in stages 2-4; PyTorch's default init."""

    def __init__(self, stages_repeats: list[int], stages_out_channels: list[int],
                 num_classes: int = 1000,
                 inverted_residual: Callable[..., nn.Module] = InvertedResidual) -> None:
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels
        input_channels = 3
        output_channels = self._stage_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 3, 2, 1, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(inplace=True),
        )
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, repeats, output_channels in zip(["stage2", "stage3", "stage4"],
                                                  stages_repeats,
                                                  self._stage_out_channels[1:]):
            seq = [inverted_residual(input_channels, output_channels, 2)]
            for _ in range(repeats - 1):
                seq.append(inverted_residual(output_channels, output_channels, 1))
            setattr(self, name, nn.Sequential(*seq))
            input_channels = output_channels
        output_channels = self._stage_out_channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 1, 1, 0, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(output_channels, num_classes)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        x = self.conv5(x)
        x = x.mean([2, 3])  # global average pool
        return self.fc(x)

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


_URL = "https://download.pytorch.org/models/"


class ShuffleNet_V2_X0_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "shufflenetv2_x0.5-f707e7126e.pth")
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "shufflenetv2_x1-5666bf0f80.pth")
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "shufflenetv2_x1_5-3c479a10.pth", resize_size=232)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X2_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _classification(_URL + "shufflenetv2_x2_0-8be3c8ee.pth", resize_size=232)
    DEFAULT = IMAGENET1K_V1


def _shufflenetv2(name: str, weights: Any, enum: type[WeightsEnum], kwargs: dict[str, Any],
                  repeats: list[int], channels: list[int]) -> ShuffleNetV2:
    _reject_weights(name, weights, enum, kwargs)
    return ShuffleNetV2(repeats, channels, **kwargs)


@register_model(weights=ShuffleNet_V2_X0_5_Weights)
def shufflenet_v2_x0_5(*, weights: Any = None, progress: bool = True, **kwargs: Any
                       ) -> ShuffleNetV2:
    """ShuffleNetV2 with 0.5x output channels."""
    return _shufflenetv2("shufflenet_v2_x0_5", weights, ShuffleNet_V2_X0_5_Weights, kwargs,
                         [4, 8, 4], [24, 48, 96, 192, 1024])


@register_model(weights=ShuffleNet_V2_X1_0_Weights)
def shufflenet_v2_x1_0(*, weights: Any = None, progress: bool = True, **kwargs: Any
                       ) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.0x output channels (2,278,604 parameters with 1000 classes)."""
    return _shufflenetv2("shufflenet_v2_x1_0", weights, ShuffleNet_V2_X1_0_Weights, kwargs,
                         [4, 8, 4], [24, 116, 232, 464, 1024])


@register_model(weights=ShuffleNet_V2_X1_5_Weights)
def shufflenet_v2_x1_5(*, weights: Any = None, progress: bool = True, **kwargs: Any
                       ) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.5x output channels."""
    return _shufflenetv2("shufflenet_v2_x1_5", weights, ShuffleNet_V2_X1_5_Weights, kwargs,
                         [4, 8, 4], [24, 176, 352, 704, 1024])


@register_model(weights=ShuffleNet_V2_X2_0_Weights)
def shufflenet_v2_x2_0(*, weights: Any = None, progress: bool = True, **kwargs: Any
                       ) -> ShuffleNetV2:
    """ShuffleNetV2 with 2.0x output channels."""
    return _shufflenetv2("shufflenet_v2_x2_0", weights, ShuffleNet_V2_X2_0_Weights, kwargs,
                         [4, 8, 4], [24, 244, 488, 976, 2048])
