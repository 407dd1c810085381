"""The loop a DataLoader worker process runs, and ``get_worker_info``."""

from __future__ import annotations

import os
import queue
import random
from dataclasses import dataclass

import numpy as np

from . import ExceptionWrapper, shared, signal_handling

__all__ = ["WorkerInfo", "get_worker_info"]

# How often an idle worker checks whether the main process stopped it or died (seconds).
_POLL_INTERVAL = 0.1


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: its ``id`` (0 .. num_workers-1),
    ``num_workers``, the ``seed`` its RNGs were seeded with, and its copy of ``dataset``.
    ``rng`` and ``worker_method`` are kept for PyTorch 2.13's layout (always None and
    "multiprocessing": ember's workers are processes)."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object | None = None
    worker_method: str | None = "multiprocessing"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """``torch.utils.data.get_worker_info``: this worker's ``WorkerInfo``, or None in the main
    process. Use it in ``IterableDataset.__iter__`` or ``worker_init_fn`` to shard work."""
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Start a new epoch (persistent workers); echoed back as an acknowledgement."""

    seed: int | None = None


class ManagerWatchdog:
    """Notices when the main process is gone (the worker is then re-parented)."""

    def __init__(self) -> None:
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self) -> bool:
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


def _numpy_seed(base_seed: int, worker_id: int) -> np.ndarray:
    # PyTorch seeds NumPy's legacy RNG with SeedSequence-style mixing of (worker id, low and
    # high 32 bits of the base seed); NumPy's own SeedSequence computes exactly that state.
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(entropy).generate_state(4)


def _seed_worker(base_seed: int, worker_id: int) -> int:
    from .... import random as ember_random

    seed = base_seed + worker_id
    random.seed(seed)
    # CPU generator only: a worker must not touch CUDA (it may be a fork of a CUDA process)
    ember_random.default_generator.manual_seed(seed)
    np.random.seed(_numpy_seed(base_seed, worker_id))
    return seed


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation,
                 collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers,
                 persistent_workers, shm_prefix, shm_flags, max_in_flight) -> None:
    """Fetch the batches whose indices arrive on ``index_queue`` and put ``(task index,
    pickled result)`` on ``data_queue`` until told to stop (None) or the parent dies."""
    from ..dataloader import _DatasetKind

    parent = os.getppid()
    try:
        signal_handling._set_worker_signal_handlers()
        seed = _seed_worker(base_seed, worker_id)
        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        shared.worker_setup(shm_prefix, shm_flags, max_in_flight)
        where = f"in DataLoader worker process {worker_id}"
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                  collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)

        iteration_end = False
        watchdog = ManagerWatchdog()
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=_POLL_INTERVAL)
            except queue.Empty:
                if done_event.is_set():
                    # The stop message (None) may never come: when the iterator is collected
                    # as part of a reference cycle, its index queues are finalized first and
                    # their feeder threads drop what is put afterwards.
                    break
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, shared.dumps(None)))
                iteration_end = False
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                      collate_fn, drop_last)
                continue
            if r is None:
                break  # the main process is shutting down (or the dataset ended)
            if done_event.is_set() or iteration_end:
                continue  # drain: nothing more will be read
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=where)
            try:
                payload = shared.dumps(data)
            except Exception:  # an unpicklable batch: report it instead of hanging
                payload = shared.dumps(ExceptionWrapper(where=where))
            data_queue.put((idx, payload))
            del data, payload, idx, index, r  # free the batch before waiting for the next
    except KeyboardInterrupt:
        interrupted = True  # Ctrl-C reaches the whole process group
    else:
        interrupted = False
    if interrupted or done_event.is_set() or os.getppid() != parent:
        # Nobody will read what is still buffered: do not block exit on a full pipe, and free
        # the shared memory of the pool and of unread results.
        data_queue.cancel_join_thread()
        data_queue.close()
        shared.unlink_own()
