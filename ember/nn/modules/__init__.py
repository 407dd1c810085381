"""``torch.nn.modules``: every layer class, one file per family.

Each family file lists its classes in ``__all__``; this package re-exports all of them.
"""

from . import (activation, attention, batchnorm, channelshuffle, container, conv, distance,
               dropout, flatten, fold, instancenorm, lazy, linear, loss, module, normalization,
               padding, pixelshuffle, pooling, rnn, sparse, transformer, upsampling)
from .activation import *
from .attention import *
from .batchnorm import *
from .channelshuffle import *
from .container import (Container, ModuleDict, ModuleList, ParameterDict, ParameterList,
                        Sequential)
from .conv import *
from .distance import *
from .dropout import *
from .flatten import Flatten, Unflatten
from .fold import *
from .instancenorm import *
from .lazy import LazyModuleMixin
from .linear import Bilinear, Identity, LazyLinear, Linear
from .loss import *
from .module import Module
from .normalization import *
from .padding import *
from .pixelshuffle import *
from .pooling import *
from .rnn import *
from .sparse import *
from .transformer import *
from .upsampling import *

__all__ = ["Module", "Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "Identity", "Linear", "Bilinear", "LazyLinear", "Flatten",
           "Unflatten", "LazyModuleMixin"]
for _m in (activation, attention, batchnorm, channelshuffle, conv, distance, dropout, fold,
           instancenorm, loss, normalization, padding, pixelshuffle, pooling, rnn, sparse,
           transformer, upsampling):
    __all__ += list(_m.__all__)
del _m
