"""``torch.nn``: modules, parameters, initialisation and the functional API."""

from . import functional, init, modules, parameter
from .modules import *  # noqa: F403 - the layer classes are torch.nn's namespace
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

from . import utils  # noqa: E402 - after the layers it builds on
from . import parallel  # noqa: E402

__all__ = ["functional", "init", "modules", "parameter", "utils", "Parameter", "Buffer",
           "UninitializedParameter", "UninitializedBuffer", *_modules_all]
