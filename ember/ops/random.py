"""Random sampling: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
``multinomial`` and the in-place ``Tensor.uniform_``/``normal_``/... samplers."""

from __future__ import annotations

__all__: list = []
METHODS: dict = {}
