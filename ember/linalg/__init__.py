"""``torch.linalg``: matrix functions (inverses, decompositions, norms)."""

from __future__ import annotations
