"""``torch.backends.opt_einsum``: how ``einsum`` orders the contractions of three or more
operands.

PyTorch computes the order with the ``opt_einsum`` package when it is installed. ember always
can: it uses NumPy's ``einsum_path``, which implements the same "greedy" and "optimal" searches.
So ``is_available()`` is True, ``enabled`` defaults to True and ``strategy`` to "auto" (greedy).
Setting ``enabled = False`` contracts left to right, as PyTorch does without opt_einsum.
``get_opt_einsum()`` returns the ``opt_einsum`` package if it is installed (ember does not use
it).
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator

__all__ = ["is_available", "get_opt_einsum", "set_flags", "flags", "enabled", "strategy"]

_STRATEGIES = ("auto", "greedy", "optimal")
_state = {"enabled": True, "strategy": "auto"}


def is_available() -> bool:
    """True: ember's einsum always optimises the contraction order (NumPy's path search)."""
    return True


def get_opt_einsum():
    """The ``opt_einsum`` package if it is installed, else None."""
    try:
        import opt_einsum
    except ImportError:
        return None
    return opt_einsum


def _set_enabled(value: bool) -> None:
    _state["enabled"] = value


def _set_strategy(value: str) -> None:
    if not _state["enabled"]:
        raise ValueError(f"opt_einsum is not enabled, so setting a `strategy` to {value} will "
                         "not be meaningful. einsum contracts from left to right. Set "
                         "`enabled` to `True` as well or unset `strategy`.")
    if value not in _STRATEGIES:
        raise ValueError("`strategy` must be one of the following: [auto, greedy, optimal] "
                         f"but is {value}")
    _state["strategy"] = value


def set_flags(_enabled: bool | None = None, _strategy: str | None = None) -> tuple:
    """Set ``enabled`` and/or ``strategy``; returns the previous ``(enabled, strategy)``."""
    old = (_state["enabled"], _state["strategy"])
    if _enabled is not None:
        _set_enabled(_enabled)
    if _strategy is not None:
        _set_strategy(_strategy)
    return old


@contextlib.contextmanager
def flags(enabled: bool | None = None, strategy: str | None = None) -> Iterator[None]:
    """Set the flags for the ``with`` block, restoring them afterwards."""
    old = set_flags(enabled, strategy)
    try:
        yield
    finally:
        # restore enabled first: a strategy cannot be set while disabled
        _state["enabled"], _state["strategy"] = old


def contraction_order(n_operands: int):
    """The ``optimize`` argument for NumPy's ``einsum`` that follows the flags: the search
    strategy, or an explicit left-to-right path when disabled."""
    if n_operands < 3:
        return n_operands > 1  # one pair: any order is the same contraction
    if not _state["enabled"]:
        # NumPy appends each intermediate at the end of the operand list: contract the first
        # operand with that running result
        return ["einsum_path", (0, 1)] + [(0, n_operands - 2 - k)
                                          for k in range(n_operands - 2)]
    return "optimal" if _state["strategy"] == "optimal" else "greedy"


class _Module(types.ModuleType):
    """Validates assignments to ``enabled`` and ``strategy`` as PyTorch does."""

    enabled = property(lambda self: _state["enabled"], lambda self, v: _set_enabled(v))
    strategy = property(lambda self: _state["strategy"], lambda self, v: _set_strategy(v))


sys.modules[__name__].__class__ = _Module
