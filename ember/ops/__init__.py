"""Differentiable ops, grouped by family; each family module lists its Tensor methods.

Importing this package attaches every family's ``METHODS`` to ``ember.Tensor``.
"""

from __future__ import annotations

from .._tensor import Tensor
from . import _util, creation, indexing, linalg, pointwise, random, reduction, shape
from . import activation, conv, pooling

FAMILIES = [creation, pointwise, reduction, shape, indexing, linalg, random, activation]


def _install_methods() -> None:
    for mod in FAMILIES:
        for name, fn in getattr(mod, "METHODS", {}).items():
            setattr(Tensor, name, fn)


_install_methods()

__all__ = ["FAMILIES", "_util"]
