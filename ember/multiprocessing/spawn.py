"""``torch.multiprocessing.spawn``: run ``fn(i, *args)`` in ``nprocs`` processes, join them, and
raise in the parent when one fails (its traceback included), stopping the others."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["ProcessContext", "ProcessException", "ProcessExitedException",
           "ProcessRaisedException", "spawn", "SpawnContext", "start_processes"]

#: set to "1" to start forkserver processes from a thread pool (PyTorch's opt-in)
ENV_VAR_PARALLEL_START = "TORCH_MP_PARALLEL_START"


class ProcessException(Exception):
    """A spawned process failed; ``error_index`` is its rank, ``error_pid`` its pid."""

    def __init__(self, msg: str, error_index: int, error_pid: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.error_pid = error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """The process's function raised; the message carries the child's traceback."""


class ProcessExitedException(ProcessException):
    """The process exited with a non-zero code or was killed by a signal."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code,
                            self.signal_name)


def _run(fn: Callable, i: int, args: tuple, error_file: str) -> None:
    """Body of each child: the traceback of an exception goes to ``error_file`` (a one-shot
    file is simpler and cannot deadlock, unlike a queue left half-read by a dying child)."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent stops its children with SIGINT/SIGTERM; nothing to report
    except Exception:
        with open(error_file, "wb") as f:
            pickle.dump(traceback.format_exc(), f)
        sys.exit(1)


class ProcessContext:
    """The processes started by ``start_processes(..., join=False)``."""

    def __init__(self, processes: list, error_files: list) -> None:
        self.processes = processes
        self.error_files = error_files
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list:
        return [int(p.pid) for p in self.processes]

    def _join_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for p in self.processes:
            p.join(max(0.0, deadline - time.monotonic()))

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait up to ``timeout`` for a process to end. Returns True once all ended cleanly,
        False while some still run. When one failed, the others get ``grace_period`` seconds to
        finish, then SIGTERM, then SIGKILL, and the failure is raised as
        ``ProcessRaisedException`` (with the child's traceback) or ``ProcessExitedException``."""
        if not self.sentinels:
            return True
        failed = None
        for sentinel in multiprocessing.connection.wait(list(self.sentinels), timeout=timeout):
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        self._stop_all(grace_period)
        proc = self.processes[failed]
        if os.access(self.error_files[failed], os.R_OK):
            with open(self.error_files[failed], "rb") as f:
                trace = pickle.load(f)
            raise ProcessRaisedException(
                f"\n\n-- Process {failed} terminated with the following error:\n{trace}",
                failed, proc.pid)
        code = proc.exitcode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"<Unknown signal {-code}>"
            raise ProcessExitedException(f"process {failed} terminated with signal {name}",
                                         failed, proc.pid, exit_code=code, signal_name=name)
        raise ProcessExitedException(f"process {failed} terminated with exit code {code}",
                                     failed, proc.pid, exit_code=code)

    def _stop_all(self, grace_period: float | None) -> None:
        if grace_period is not None:
            self._join_all(grace_period)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        # a child stuck outside Python code may ignore SIGTERM
        self._join_all(30 if grace_period is None else grace_period)
        for p in self.processes:
            if p.is_alive():
                p.kill()
            p.join()


class SpawnContext(ProcessContext):
    """The pre-1.4 name of ``ProcessContext`` (warns, as PyTorch does)."""

    def __init__(self, processes: list, error_files: list) -> None:
        warnings.warn("SpawnContext is renamed to ProcessContext since 1.4 release.",
                      stacklevel=2)
        super().__init__(processes, error_files)


def _error_file() -> str:
    # only the name is needed: the file exists once a child has something to report
    fd, name = tempfile.mkstemp(prefix="ember-errorfile-", suffix=".pickle")
    os.close(fd)
    os.unlink(name)
    return name


def start_processes(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True,
                    daemon: bool = False, start_method: str = "spawn"
                    ) -> ProcessContext | None:
    """Start ``nprocs`` processes running ``fn(i, *args)`` with ``start_method``; with
    ``join=True`` wait for all of them (raising on the first failure), else return the
    ``ProcessContext``."""
    ctx = multiprocessing.get_context(start_method)
    error_files = [_error_file() for _ in range(nprocs)]

    def start(i: int):
        p = ctx.Process(target=_run, args=(fn, i, args, error_files[i]), daemon=daemon)
        p.start()
        return p

    if start_method == "forkserver" and os.environ.get(ENV_VAR_PARALLEL_START, "0") == "1":
        with ThreadPoolExecutor(max_workers=max(1, nprocs)) as pool:
            processes = list(pool.map(start, range(nprocs)))
    else:
        processes = [start(i) for i in range(nprocs)]
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """``start_processes`` with the 'spawn' start method (another ``start_method`` warns and is
    ignored, as in PyTorch)."""
    if start_method != "spawn":
        warnings.warn(f"This method only supports start_method=spawn (got: {start_method}).\n"
                      "To use a different start_method use:\n\t\t"
                      " torch.multiprocessing.start_processes(...)", FutureWarning,
                      stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
