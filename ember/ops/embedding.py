"""embedding ops (see ember/nn/functional.py)."""

from __future__ import annotations

__all__: list = []
