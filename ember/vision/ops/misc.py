"""Building blocks shared by the models (``torchvision.ops.misc``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ... import nn
from ..._tensor import Tensor

__all__ = ["ConvNormActivation", "Conv2dNormActivation", "SqueezeExcitation"]


def _make_ntuple(x: int | Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(x) if isinstance(x, Sequence) else (x,) * n


class ConvNormActivation(nn.Sequential):
    """Convolution, optional normalisation, optional activation: a Sequential whose children
    are named 0, 1, 2 as in torchvision (so state-dict keys match). ``padding`` defaults to
    "same" for odd kernels; the conv has a bias only without normalisation."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | Sequence[int] = 3, stride: int | Sequence[int] = 1,
                 padding: int | Sequence[int] | str | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 dilation: int | Sequence[int] = 1, inplace: bool | None = True,
                 bias: bool | None = None,
                 conv_layer: Callable[..., nn.Module] = nn.Conv2d) -> None:
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                dims = len(kernel_size) if isinstance(kernel_size, Sequence) else len(dilation)
                kernel_size = _make_ntuple(kernel_size, dims)
                dilation = _make_ntuple(dilation, dims)
                padding = tuple((kernel_size[i] - 1) // 2 * dilation[i] for i in range(dims))
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding,
                             dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class Conv2dNormActivation(ConvNormActivation):
    """``Conv2d`` + ``BatchNorm2d`` + ``ReLU`` by default (torchvision.ops)."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | Sequence[int] = 3, stride: int | Sequence[int] = 1,
                 padding: int | Sequence[int] | str | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 dilation: int | Sequence[int] = 1, inplace: bool | None = True,
                 bias: bool | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups,
                         norm_layer, activation_layer, dilation, inplace, bias, nn.Conv2d)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-Excitation (Hu et al.): scale channels by
    ``scale_activation(fc2(activation(fc1(avgpool(x)))))`` with 1x1 convolutions."""

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input: Tensor) -> Tensor:
        scale = self.avgpool(input)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale)

    def forward(self, input: Tensor) -> Tensor:
        return self._scale(input) * input
