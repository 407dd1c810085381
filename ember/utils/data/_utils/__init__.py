"""Helpers of the DataLoader: collation, fetching, the worker loop, shared-memory transport,
pinning and worker-failure signals (``torch.utils.data._utils``)."""

from __future__ import annotations

import atexit
import sys
import traceback

IS_WINDOWS = sys.platform == "win32"

#: Seconds between liveness checks while a worker or the main process waits on a queue.
MP_STATUS_CHECK_INTERVAL = 5.0

#: Set at interpreter exit; iterators then skip shutting workers down (the multiprocessing
#: module terminates daemonic workers itself, and half the world may already be gone).
python_exit_status = False


def _set_python_exit_flag() -> None:
    global python_exit_status
    python_exit_status = True


atexit.register(_set_python_exit_flag)


class KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError prints its traceback readably."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, carried from a worker to the main process.

    ``reraise`` raises the same exception type with the message ``Caught <Type> <where>.``
    followed by the original traceback text, like ``torch._utils.ExceptionWrapper``; types that
    cannot be built from one string become ``RuntimeError``.
    """

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        # keep text only: holding the traceback would keep the frames (and their data) alive
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        try:
            raise exc
        finally:
            del exc  # no frame -> exception -> traceback -> frame cycle keeping data alive


from . import collate, fetch, pin_memory, shared, signal_handling, worker  # noqa: E402
