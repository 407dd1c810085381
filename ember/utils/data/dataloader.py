"""``torch.utils.data.DataLoader``: batches from a dataset, in this process or in workers.

With ``num_workers > 0`` the loader starts real worker processes (``multiprocessing``; the
platform's default start method unless ``multiprocessing_context`` names another). Each worker
gets batches of indices round-robin, ``prefetch_factor`` batches ahead per worker, and sends
back pickled results whose large arrays travel through shared memory (see
``_utils/shared.py``); results are handed out in sampler order unless ``in_order=False``.
Worker ``i`` seeds Python's ``random``, NumPy's legacy global RNG and ember's CPU generator
from ``base_seed + i``, where ``base_seed`` is drawn from ``generator`` (or ember's default
generator) when the iterator is created, so augmentations differ across workers and repeat
across runs with the same seed.

Failures: an exception in a worker is raised again in the main process with the same type
(``RuntimeError`` when the type cannot be rebuilt from a message) and the worker's traceback
text; a worker that dies raises ``RuntimeError: DataLoader worker (pid(s) ...) exited
unexpectedly`` (its cause says how it died); ``timeout`` raises ``RuntimeError: DataLoader
timed out after N seconds``; the workers of an iterator that is exhausted, garbage-collected or
interrupted are stopped (and joined, or terminated when they do not stop).
"""

from __future__ import annotations

import atexit
import itertools
import math
import multiprocessing
import multiprocessing.context
import multiprocessing.util  # registers its atexit hook now, so that ours runs before it
import os
import pickle
import queue
import secrets
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from ..._dtype import int64
from ...ops.creation import empty
from . import _utils
from ._utils import ExceptionWrapper, shared, signal_handling
from ._utils.collate import default_collate, default_convert
from ._utils.fetch import _IterableDatasetFetcher, _MapDatasetFetcher
from ._utils.pin_memory import _pin_memory_loop, pin_memory
from ._utils.worker import (
    _IterableDatasetStopIteration,
    _ResumeIteration,
    _worker_loop,
    get_worker_info,
)
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

T_co = TypeVar("T_co", covariant=True)


# Iterators with running workers. At interpreter exit they are shut down properly (this hook
# runs before multiprocessing's, which would just terminate the workers, and before the exit
# flag is set), so the workers free their shared memory.
_live_iterators: weakref.WeakSet = weakref.WeakSet()


def _shutdown_live_iterators() -> None:
    for it in list(_live_iterators):
        it._shutdown_workers()


atexit.register(_shutdown_live_iterators)


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        cls = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
        return cls(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the "indices" of an iterable dataset."""

    def __iter__(self):
        while True:
            yield None


def _cpu_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader(Generic[T_co]):
    """``torch.utils.data.DataLoader`` with all of PyTorch 2.13's arguments.

    ``batch_size=None`` turns automatic batching off (samples pass through
    ``default_convert``); ``batch_sampler`` replaces ``batch_size``/``shuffle``/``sampler``/
    ``drop_last``; ``pin_memory`` page-locks batches through CuPy when CUDA is available and is
    otherwise ignored with PyTorch's warning; ``pin_memory_device`` is deprecated (warns).
    Random orders come from ember's generators, so a seed reproduces ember's order, not
    PyTorch's.
    """

    __initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context) -> None:
        if multiprocessing_context is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(multiprocessing_context, str):
                valid = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in valid:
                    raise ValueError("multiprocessing_context option should specify a valid "
                                     f"start method in {valid!r}, but got "
                                     f"multiprocessing_context={multiprocessing_context!r}")
                multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
            if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={multiprocessing_context}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                           "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self) -> _BaseDataLoaderIter:
        # persistent workers: one iterator for the loader's lifetime, reset for each epoch
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # an estimate from len(dataset), as in PyTorch: workers may split batches
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn (as PyTorch does) when more workers are asked for than there are CPUs."""
        if not self.num_workers:
            return
        suggest = _cpu_count()
        cpuset_checked = hasattr(os, "sched_getaffinity")
        if suggest is not None and self.num_workers <= suggest:
            return
        if suggest is not None:
            cpuset = "" if cpuset_checked else " (`cpuset` is not taken into account)"
            hint = (f"Our suggested max number of worker in current system is {suggest}{cpuset}, "
                    "which is smaller than what this DataLoader is going to create.")
        else:
            hint = ("DataLoader is not able to compute a suggested max number of worker in "
                    "current system.")
        warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                      f"total. {hint} Please be aware that excessive worker creation might get "
                      "DataLoader running slow or even freeze, lower the worker number to avoid "
                      "potential slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._shared_seed = None
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be "
                          f"used as the device,ignore pin_memory_device="
                          f"'{loader.pin_memory_device}'.", stacklevel=2)
        cuda = _cuda_available()
        if loader.pin_memory and not cuda:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        self._pin_memory = bool(loader.pin_memory) and cuda
        self._pin_memory_device = "cuda" if self._pin_memory else None
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = int(empty((), dtype=int64).random_(generator=loader.generator).item())
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)  # may raise StopIteration

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly "
                        "configuring the IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data."
                        "IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", self.__class__.__name__)


def _cuda_available() -> bool:
    from ... import cuda

    return cuda.is_available()


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        if self._num_workers != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires num_workers == 0")
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        data = self._dataset_fetcher.fetch(index)  # may raise StopIteration
        if self._pin_memory:
            data = pin_memory(data, self._pin_memory_device)
        return data


# How long the main process waits on the data queue before it checks whether a worker died.
# The SIGCHLD handler usually interrupts the wait at once, but the kernel may deliver the
# signal to another thread of the process (a queue's feeder thread), which leaves the main
# thread's wait running; PyTorch's 5 s MP_STATUS_CHECK_INTERVAL would then delay the error.
_DEATH_POLL = 0.5


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates once over the dataset with worker processes (or every epoch, when the
    workers are persistent).

    Task ``k`` (the k-th batch of indices) goes to the next live worker round-robin; at most
    ``prefetch_factor * num_workers`` tasks are outstanding. ``_task_info[k]`` is
    ``(worker_id,)`` while task ``k`` is pending and ``(worker_id, data)`` once its result
    arrived ahead of its turn.
    """

    def __init__(self, loader: DataLoader) -> None:
        # set first: __del__ runs even when the constructor fails half-way; "shut down" until
        # there is something to shut down
        self._shutdown = True
        self._workers = []
        self._index_queues = []
        self._worker_pids_set = False
        self._shm_prefix = None
        self._pool_prefixes = []
        # a forked child (a worker of another loader) inherits this object; only the process
        # that started the workers may stop them
        self._owner_pid = os.getpid()
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._num_workers <= 0:
            raise AssertionError("num_workers must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        self._worker_init_fn = loader.worker_init_fn
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        self._shutdown = False
        if shared.available():
            self._shm_prefix = f"/edl{os.getpid():x}_{secrets.token_hex(3)}_"
        max_in_flight = self._prefetch_factor * self._num_workers + 1
        # reusable shared-memory slots per worker: batches in flight and in use, a few big
        # arrays each (see _utils/shared.py)
        pool_slots = 4 * (self._prefetch_factor + 2)
        self._workers_status = [False] * self._num_workers
        try:
            for i in range(self._num_workers):
                index_queue = ctx.Queue()
                # the main process never waits for unread indices when it exits
                index_queue.cancel_join_thread()
                prefix = flags = None
                if self._shm_prefix is not None:
                    prefix = f"{self._shm_prefix}{i}_"
                    flags = ctx.RawArray("B", pool_slots)
                    shared.register_pool(prefix, flags)
                    self._pool_prefixes.append(prefix)
                w = ctx.Process(
                    target=_worker_loop,
                    args=(self._dataset_kind, self._dataset, index_queue,
                          self._worker_result_queue, self._workers_done_event,
                          self._auto_collation, self._collate_fn, self._drop_last,
                          self._base_seed, self._worker_init_fn, i, self._num_workers,
                          self._persistent_workers, prefix, flags, max_in_flight))
                w.daemon = True
                self._index_queues.append(index_queue)
                try:
                    w.start()
                except (TypeError, AttributeError, pickle.PicklingError):
                    warnings.warn(
                        "Got pickle error when attempting to start a worker Process. This might "
                        "be because the worker Process arguments are not picklable. Python "
                        "3.14+ changed the multiprocessing start method in non-Mac POSIX "
                        "platforms to 'forkserver', which requires the worker Process "
                        "arguments to be picklable. You can also try "
                        "multiprocessing.set_start_method('fork').", stacklevel=2)
                    raise
                self._workers.append(w)
                self._workers_status[i] = True
        except BaseException:
            self._index_queues = self._index_queues[:len(self._workers)]
            self._workers_status = self._workers_status[:len(self._workers)]
            self._shutdown_workers()
            raise

        if self._pin_memory:
            from ... import cuda

            self._pin_memory_thread_done_event = threading.Event()
            self._data_queue = queue.Queue()
            t = threading.Thread(target=_pin_memory_loop,
                                 args=(self._worker_result_queue, self._data_queue,
                                       cuda.current_device(), self._pin_memory_thread_done_event,
                                       self._pin_memory_device), daemon=True)
            t.start()
            self._pin_memory_thread = t
        else:
            self._data_queue = self._worker_result_queue

        _live_iterators.add(self)
        signal_handling._set_worker_pids(id(self), tuple(w.pid for w in self._workers))
        signal_handling._set_SIGCHLD_handler()
        self._worker_pids_set = True
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0  # index of the next task to send
        self._rcvd_idx = 0  # index of the next task to hand out
        self._task_info = {}
        self._tasks_outstanding = 0  # tasks sent whose result has not arrived
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: restart their fetchers, and drop results of the last epoch
            # that are still on the way (their acknowledgement comes after them)
            for q in self._index_queues:
                q.put(_ResumeIteration(self._shared_seed))
            pending = self._num_workers
            while pending > 0:
                idx, _ = self._get_data()
                if isinstance(idx, _ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_get_data(self, timeout: float = _utils.MP_STATUS_CHECK_INTERVAL):
        """(True, (task index, data)) or (False, None) when ``timeout`` passed quietly; raises
        when a worker died."""
        try:
            idx, data = self._data_queue.get(timeout=timeout)
        except Exception as e:
            # a timeout, an interrupted wait (the SIGCHLD handler raises there), or a broken
            # pipe: find out whether a worker died
            failed = []
            for wid, w in enumerate(self._workers):
                if self._workers_status[wid] and not w.is_alive():
                    failed.append(w)
                    self._mark_worker_as_unavailable(wid)
            if failed:
                pids = ", ".join(str(w.pid) for w in failed)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from e
            if isinstance(e, queue.Empty):
                return False, None
            raise
        if type(data) is bytes:
            data = shared.loads(data)
        return True, (idx, data)

    def _get_data(self):
        if self._timeout > 0:
            ok, data = self._try_get_data(self._timeout)
            if ok:
                return data
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        if self._pin_memory:
            while self._pin_memory_thread.is_alive():
                ok, data = self._try_get_data(_DEATH_POLL)
                if ok:
                    return data
            raise RuntimeError("Pin memory thread exited unexpectedly")
        while True:
            ok, data = self._try_get_data(_DEATH_POLL)
            if ok:
                return data

    def _next_data(self):
        while True:
            # skip tasks of workers that ended (iterable datasets) without producing them
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    wid = info[0]
                    if len(info) == 2 or self._workers_status[wid]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:  # arrived earlier, out of order
                wid, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, wid)

            if self._shutdown or self._tasks_outstanding <= 0:
                raise AssertionError("Invalid iterator state: shutdown or no outstanding tasks "
                                     "when fetching next data")
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable and isinstance(
                    data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    wid = self._task_info.pop(idx)[0]
                    return self._process_data(data, wid)
                self._task_info[idx] += (data,)
            else:
                wid = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, wid)

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        if self._tasks_outstanding >= max_tasks:
            raise AssertionError("Number of outstanding tasks exceeded maximum allowed tasks")
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next live worker, if any
            wid = next(self._worker_queue_idx_cycle)
            if self._workers_status[wid]:
                if self._in_order:
                    break
                # out of order: keep a slow worker from hoarding the prefetch budget
                if self._workers_num_tasks[wid] < max_tasks // sum(self._workers_status):
                    break
        else:
            return
        self._index_queues[wid].put((self._send_idx, index))
        self._task_info[self._send_idx] = (wid,)
        self._workers_num_tasks[wid] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_idx: int):
        self._workers_num_tasks[worker_idx] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id: int, shutdown: bool = False) -> None:
        # Tell the worker to exit (None); it stays unavailable for the rest of this iteration.
        if not self._workers_status[worker_id] and not self._persistent_workers and not shutdown:
            raise AssertionError("Worker status inconsistent when marking worker as unavailable")
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False
        if self._workers_done_event.is_set() != shutdown:
            raise AssertionError("_workers_done_event state does not match shutdown flag")

    def _shutdown_workers(self) -> None:
        """Stop the workers: ask politely (done event + None), join for a while, terminate
        the rest; then remove shared memory that unread results still name."""
        if _utils is None or _utils.python_exit_status is not False:
            return  # late in interpreter exit (live iterators were shut down by the hook)
        if self._shutdown or self._owner_pid != os.getpid():
            return
        self._shutdown = True
        try:
            if hasattr(self, "_pin_memory_thread"):
                self._pin_memory_thread_done_event.set()
                self._worker_result_queue.put((None, None))  # wake the thread up
                self._pin_memory_thread.join()
                self._worker_result_queue.cancel_join_thread()
                self._worker_result_queue.close()
            self._workers_done_event.set()
            for wid in range(len(self._workers)):
                if self._persistent_workers or self._workers_status[wid]:
                    self._mark_worker_as_unavailable(wid, shutdown=True)
            for w in self._workers:
                w.join(timeout=_utils.MP_STATUS_CHECK_INTERVAL)
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
        finally:
            # unregister first: the workers terminated below must not count as failures
            if self._worker_pids_set:
                signal_handling._remove_worker_pids(id(self))
                self._worker_pids_set = False
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_utils.MP_STATUS_CHECK_INTERVAL)
            for prefix in self._pool_prefixes:
                shared.forget_pool(prefix)
            if self._shm_prefix is not None:
                shared.unlink_leftovers(self._shm_prefix)

    def __del__(self) -> None:
        if not getattr(self, "_shutdown", True):
            self._shutdown_workers()
