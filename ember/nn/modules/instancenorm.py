"""torch.nn.modules.instancenorm."""

from __future__ import annotations

__all__: list = []
