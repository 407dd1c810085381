"""Padding layers (``torch.nn.modules.padding``); the arithmetic is ``F.pad``."""

from __future__ import annotations

from collections.abc import Iterable

from ..._tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d"]


def _ntuple(v, n: int) -> tuple:
    # PyTorch's _ntuple: an iterable is taken as given, a single value is repeated
    if isinstance(v, Iterable):
        return tuple(v)
    return (v,) * n


class _CircularPadNd(Module):
    __constants__ = ["padding"]
    _nd = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._nd)

    def _check_input_dim(self, input: Tensor) -> None:
        nd = self._nd
        if input.dim() not in (nd + 1, nd + 2):
            raise ValueError(f"expected {nd + 1}D or {nd + 2}D input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        return F.pad(input, self.padding, "circular")

    def extra_repr(self) -> str:
        return f"{self.padding}"


class CircularPad1d(_CircularPadNd):
    """``torch.nn.CircularPad1d``."""

    _nd = 1


class CircularPad2d(_CircularPadNd):
    """``torch.nn.CircularPad2d``."""

    _nd = 2


class CircularPad3d(_CircularPadNd):
    """``torch.nn.CircularPad3d``."""

    _nd = 3


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]
    _nd = 1

    def __init__(self, padding, value: float) -> None:
        super().__init__()
        self.value = value
        self.padding = _ntuple(padding, 2 * self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """``torch.nn.ConstantPad1d(padding, value)``."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """``torch.nn.ConstantPad2d(padding, value)``."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """``torch.nn.ConstantPad3d(padding, value)``."""

    _nd = 3


class _ReflectionPadNd(Module):
    __constants__ = ["padding"]
    _nd = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "reflect")

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ReflectionPadNd):
    """``torch.nn.ReflectionPad1d``."""

    _nd = 1


class ReflectionPad2d(_ReflectionPadNd):
    """``torch.nn.ReflectionPad2d``."""

    _nd = 2


class ReflectionPad3d(_ReflectionPadNd):
    """``torch.nn.ReflectionPad3d``."""

    _nd = 3


class _ReplicationPadNd(Module):
    __constants__ = ["padding"]
    _nd = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "replicate")

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReplicationPad1d(_ReplicationPadNd):
    """``torch.nn.ReplicationPad1d``."""

    _nd = 1


class ReplicationPad2d(_ReplicationPadNd):
    """``torch.nn.ReplicationPad2d``."""

    _nd = 2


class ReplicationPad3d(_ReplicationPadNd):
    """``torch.nn.ReplicationPad3d``."""

    _nd = 3


class ZeroPad1d(ConstantPad1d):
    """``torch.nn.ZeroPad1d``."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """``torch.nn.ZeroPad2d``."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """``torch.nn.ZeroPad3d``."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
