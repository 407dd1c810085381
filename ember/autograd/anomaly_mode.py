"""Anomaly detection (``torch.autograd.detect_anomaly``/``set_detect_anomaly``).

With it on, every backward node records the Python stack of the forward call that created it,
and the engine checks each backward output for NaN: it raises ``RuntimeError: Function
'XBackward0' returned nan values in its 0th output.`` and warns with that forward stack (also
when a backward raises any other error).

As in PyTorch the flags are process-wide, not per thread: they live on the class of the
thread-local grad-mode state, which every thread's state reads through.
"""

from __future__ import annotations

import warnings

from .grad_mode import state as _state

__all__ = ["detect_anomaly", "set_detect_anomaly"]

_flags = type(_state)  # class attributes: shared by all threads


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (``torch.is_anomaly_enabled``)."""
    return _state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward outputs for NaN
    (``torch.is_anomaly_check_nan_enabled``)."""
    return _state.anomaly_check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off for the whole process (``torch.set_anomaly_enabled``)."""
    _flags.anomaly = bool(enabled)
    _flags.anomaly_check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager that turns anomaly detection on for its block
    (``torch.autograd.detect_anomaly``); it warns that it slows things down, as PyTorch does."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Set anomaly detection on or off at once; as a context manager, restore the previous
    setting on exit (``torch.autograd.set_detect_anomaly``)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)
