"""Datasets and callables for the DataLoader tests; module-level so that worker processes
started with ``spawn`` can unpickle them."""

from __future__ import annotations

import math
import os
import random
import signal
import time

import numpy as np

import ember
from ember.utils.data import Dataset, IterableDataset, get_worker_info


def same(t, e, path="out"):
    """Assert that a PyTorch result and an ember result have the same structure, container
    types, tensor dtypes/shapes and values."""
    import torch

    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: {type(e)} is not a tensor"
        assert str(t.dtype) == str(e.dtype), f"{path}: dtype {e.dtype} != {t.dtype}"
        assert tuple(t.shape) == tuple(e.shape), f"{path}: shape {e.shape} != {t.shape}"
        np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=path)
        return
    assert type(t).__name__ == type(e).__name__, f"{path}: {type(e)} != {type(t)}"
    if isinstance(t, dict):
        assert list(t) == list(e), path
        for k in t:
            same(t[k], e[k], f"{path}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert len(t) == len(e), path
        for i, (a, b) in enumerate(zip(t, e)):
            same(a, b, f"{path}[{i}]")
    else:
        assert t == e, f"{path}: {e!r} != {t!r}"


class Squares(Dataset):
    """Sample i is {'x': float32 array [i, i*i], 'y': i, 'name': 'sNN'}."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i, "name": f"s{i:02d}"}


class Big(Dataset):
    """Samples large enough (256 KiB per batch of 8) to travel through shared memory."""

    def __init__(self, n=32, width=8192):
        self.n, self.width = n, width

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return ember.full((self.width,), float(i)), i


class Range(IterableDataset):
    """start..end-1, split across workers like PyTorch's documented example."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __len__(self):
        return self.end - self.start

    def __iter__(self):
        info = get_worker_info()
        lo, hi = self.start, self.end
        if info is not None:
            per = int(math.ceil((hi - lo) / info.num_workers))
            lo = lo + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


class RandomDraws(Dataset):
    """Each sample: (worker id, draws from ember, NumPy's legacy RNG and Python's random)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        wid = -1 if info is None else info.id
        return (wid, float(ember.rand(()).item()), float(np.random.rand()), random.random())


class WorkerInfoDataset(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.num_workers, info.seed, type(info.dataset).__name__, os.getpid(),
                info.dataset is self)


class Failing(Dataset):
    def __init__(self, bad=5, exc=ValueError):
        self.bad, self.exc = bad, exc

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"sample {i} is broken")
        return i


class MultiArgError(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class FailingMultiArg(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise MultiArgError(i, "two")


class KeyFailing(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {}["missing"]


class Suicide(Dataset):
    """The worker that fetches sample ``at`` kills itself with ``sig`` (or exits with code)."""

    def __init__(self, at=6, sig=signal.SIGKILL, code=None):
        self.at, self.sig, self.code = at, sig, code

    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == self.at and get_worker_info() is not None:
            if self.code is not None:
                os._exit(self.code)
            os.kill(os.getpid(), self.sig)
        return i


class Segfault(Dataset):
    """The worker that fetches sample ``at`` dereferences a null pointer (a real SIGSEGV)."""

    def __init__(self, at=6):
        self.at = at

    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == self.at and get_worker_info() is not None:
            import ctypes
            import faulthandler

            faulthandler.disable()  # keep the expected crash out of the test output
            ctypes.string_at(0)
        return i


class Slow(Dataset):
    def __init__(self, delay=0.05, n=64):
        self.delay, self.n = delay, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delay)
        return i


class SlowFor(Dataset):
    """Sample ``slow`` takes ``delay`` seconds; the others are instant."""

    def __init__(self, slow=0, delay=0.5, n=12):
        self.slow, self.delay, self.n = slow, delay, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.slow:
            time.sleep(self.delay)
        return i


class PidDataset(Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, i):
        return os.getpid()


def record_init(worker_id):
    """worker_init_fn: stores the id on the worker's dataset copy."""
    get_worker_info().dataset.init_id = worker_id


class InitDataset(Dataset):
    init_id = None

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return (get_worker_info().id, self.init_id)


def failing_init(worker_id):
    raise RuntimeError(f"init of worker {worker_id} failed")


def list_collate(batch):
    return list(batch)


def unpicklable_collate(batch):
    return lambda: batch
