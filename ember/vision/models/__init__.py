"""``torchvision.models``: classification architectures with torchvision's module names."""

from ._api import (PretrainedWeightsUnavailable, Weights, WeightsEnum, get_model,
                   get_model_builder, get_model_weights, get_weight, list_models)
from .alexnet import *
from .densenet import *
from .googlenet import *
from .mobilenetv2 import *
from .mobilenetv3 import *
from .resnet import *
from .shufflenetv2 import *
from .squeezenet import *
from .vgg import *
