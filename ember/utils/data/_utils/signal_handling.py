"""Noticing dead workers at once instead of waiting on a queue forever.

The main process registers each iterator's worker pids. A SIGCHLD handler (installed once, from
the main thread, chaining any previous handler) looks at those pids without reaping them and
raises ``RuntimeError`` for one that was killed by a signal or exited with a non-zero status;
the error surfaces in the main thread, typically inside the DataLoader's wait, which then
reports the worker as ``DataLoader worker (pid(s) ...) exited unexpectedly`` (PyTorch's wording
for both). Iterators unregister their pids before they stop workers on purpose. Workers print a
Python traceback when they crash on SIGSEGV/SIGBUS/SIGFPE (``faulthandler``).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading

from . import IS_WINDOWS

_worker_pids: dict[int, tuple] = {}
_SIGCHLD_handler_set = False


def _set_worker_pids(key: int, pids: tuple) -> None:
    if key in _worker_pids:
        raise RuntimeError("_set_worker_pids should be called only once for each "
                           "_BaseDataLoaderIter.")
    _worker_pids[key] = tuple(pids)


def _remove_worker_pids(key: int) -> None:
    if _worker_pids.pop(key, None) is None:
        raise RuntimeError("Cannot find worker information for _BaseDataLoaderIter with id "
                           f"{key}")


def _error_if_any_worker_fails() -> None:
    """Raise RuntimeError if a registered worker died abnormally (it stays unreaped)."""
    if not hasattr(os, "waitid"):
        return
    for pids in list(_worker_pids.values()):
        for pid in pids:
            try:
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except (ChildProcessError, OSError):
                continue  # reaped already, or not our child
            if info is None:
                continue
            if info.si_code == os.CLD_EXITED and info.si_status != 0:
                raise RuntimeError(
                    f"DataLoader worker (pid {pid}) exited unexpectedly with exit code "
                    f"{info.si_status}. Details are lost due to multiprocessing. Rerunning with "
                    "num_workers=0 may give better error trace.")
            if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
                msg = (f"DataLoader worker (pid {pid}) is killed by signal: "
                       f"{signal.strsignal(info.si_status)}. ")
                if info.si_status == signal.SIGBUS:
                    msg += ("It is possible that dataloader's workers are out of shared memory. "
                            "Please try to raise your shared memory limit.")
                raise RuntimeError(msg)


def _set_worker_signal_handlers() -> None:
    """In a worker: print a traceback on fatal signals before dying of them."""
    _worker_pids.clear()  # a forked worker inherits the registry; its entries are not its children
    if not faulthandler.is_enabled():
        try:
            faulthandler.enable()
        except (RuntimeError, ValueError, OSError):  # no usable stderr
            pass


def _set_SIGCHLD_handler() -> None:
    if IS_WINDOWS or not hasattr(signal, "SIGCHLD"):
        return
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be installed from the main thread
    global _SIGCHLD_handler_set
    if _SIGCHLD_handler_set:
        return
    previous = signal.getsignal(signal.SIGCHLD)
    if not callable(previous):
        previous = None

    def handler(signum, frame):
        from . import python_exit_status

        # at interpreter exit multiprocessing terminates the daemonic workers itself
        if not python_exit_status:
            _error_if_any_worker_fails()
        if previous is not None:
            previous(signum, frame)

    signal.signal(signal.SIGCHLD, handler)
    _SIGCHLD_handler_set = True
