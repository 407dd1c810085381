"""``torch.nn.modules``: every layer class, one file per family."""

from .container import (Container, ModuleDict, ModuleList, ParameterDict, ParameterList,
                        Sequential)
from .flatten import Flatten, Unflatten
from .lazy import LazyModuleMixin
from .linear import Bilinear, Identity, LazyLinear, Linear
from .module import Module

__all__ = ["Module", "Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "Identity", "Linear", "Bilinear", "LazyLinear", "Flatten",
           "Unflatten", "LazyModuleMixin"]
