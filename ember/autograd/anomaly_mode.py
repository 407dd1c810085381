"""Anomaly detection (``torch.autograd.detect_anomaly``/``set_detect_anomaly``).

With it on, every node records the stack of the forward call that created it, and the engine
checks each backward output for NaN, naming the op and printing that forward stack.
"""

from __future__ import annotations

import warnings

from .grad_mode import state as _state

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return _state.anomaly_check_nan


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = _state.anomaly
        self.check_nan = check_nan
        self.prev_check_nan = _state.anomaly_check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        _state.anomaly = True
        _state.anomaly_check_nan = self.check_nan

    def __exit__(self, *args) -> None:
        _state.anomaly = self.prev
        _state.anomaly_check_nan = self.prev_check_nan

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with self.__class__(self.check_nan):
                return fn(*a, **k)

        return wrapper


class set_detect_anomaly:
    """Set anomaly detection on or off, at once or for a ``with`` block."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = _state.anomaly
        self.prev_check_nan = _state.anomaly_check_nan
        _state.anomaly = bool(mode)
        _state.anomaly_check_nan = check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args) -> None:
        _state.anomaly = self.prev
        _state.anomaly_check_nan = self.prev_check_nan
