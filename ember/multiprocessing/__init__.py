"""``torch.multiprocessing``: the standard library's :mod:`multiprocessing` under PyTorch's name.

Every public name of :mod:`multiprocessing` is re-exported (``Process``, ``Queue``, ``Pool``,
``get_context``, ``set_start_method`` ...), plus PyTorch's additions: ``spawn`` /
``start_processes`` (run ``fn(i, *args)`` in ``nprocs`` processes and re-raise a child's error
in the parent) and the sharing-strategy functions.

Where ember differs: PyTorch registers pickling reducers that move a tensor sent through a
``Queue`` or ``Pipe`` into shared memory, so that both processes see one storage. ember tensors
travel by value (their data is pickled and copied), and ``Tensor.share_memory_`` does not
exist, so Hogwild-style training on shared parameters is not possible. The sharing strategy is
validated and recorded as PyTorch does, but does not change how tensors travel. DataLoader
workers are not affected: they hand batches to the main process through POSIX shared memory on
their own (``ember.utils.data``).
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing import *  # noqa: F403

from .spawn import (ENV_VAR_PARALLEL_START, ProcessContext, ProcessException,
                    ProcessExitedException, ProcessRaisedException, SpawnContext, spawn,
                    start_processes)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__

# PyTorch's defaults: macOS and Windows only have the file-system strategy
if sys.platform in ("darwin", "win32"):
    _all_sharing_strategies = {"file_system"}
    _sharing_strategy = "file_system"
else:
    _all_sharing_strategies = {"file_descriptor", "file_system"}
    _sharing_strategy = "file_descriptor"


def set_sharing_strategy(new_strategy: str) -> None:
    """Select the strategy for sharing CPU tensors (validated like PyTorch's; ember records it
    but sends tensors by value whichever is chosen, see the module docstring)."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of "
                             f"{_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy() -> str:
    """The current sharing strategy ('file_descriptor' by default on Linux)."""
    return _sharing_strategy


def get_all_sharing_strategies() -> set:
    """The sharing strategies this platform accepts."""
    return _all_sharing_strategies
