"""Turning the sampler's indices into (collated) data, in the main process or a worker."""

from __future__ import annotations

import numpy as np

from ...._tensor import Tensor
from ....autograd.grad_mode import is_grad_enabled
from . import collate as _collate
from . import shared


class _BaseDatasetFetcher:
    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        raise NotImplementedError


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    """Pulls the next sample (or ``len(index)`` samples) from the dataset's iterator."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _MapDatasetFetcher(_BaseDatasetFetcher):
    """``collate_fn([dataset[i] for i in batch])``, or ``dataset.__getitems__(batch)``."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self._gather = auto_collation and collate_fn is _collate.default_collate

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if self._gather:
                batch = _gather_tensor_dataset(self.dataset, possibly_batched_index)
                if batch is not None:
                    return batch
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(possibly_batched_index)
            else:
                data = [self.dataset[i] for i in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


def _plain(dataset, cls) -> bool:
    """``dataset`` is a ``cls`` whose item access is ``cls``'s own."""
    t = type(dataset)
    return isinstance(dataset, cls) and t.__getitem__ is cls.__getitem__ and (
        getattr(t, "__getitems__", None) is getattr(cls, "__getitems__", None))


def _gather_tensor_dataset(dataset, indices):
    """``default_collate([dataset[i] for i in indices])`` for a TensorDataset (possibly inside
    Subsets), computed as one ``take`` per tensor; None when that would differ in any way
    (autograd, devices, out-of-range or non-integer indices): the caller then goes the long
    way, which also raises PyTorch's errors."""
    from ..dataset import Subset, TensorDataset

    while _plain(dataset, Subset):
        try:
            indices = [dataset.indices[i] for i in indices]
        except Exception:
            return None
        dataset = dataset.dataset
    if not _plain(dataset, TensorDataset) or not indices:
        return None
    tensors = dataset.tensors
    grad = is_grad_enabled()
    for t in tensors:
        if not isinstance(t, Tensor) or type(t._data) is not np.ndarray or (grad and t._rg):
            return None
        if t._data.ndim == 0:
            return None
    try:
        idx = np.asarray(indices)
    except Exception:
        return None
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        return None
    n = tensors[0]._data.shape[0]
    lo, hi = int(idx.min()), int(idx.max())
    if lo < -n or hi >= n:
        return None
    out = []
    for t in tensors:
        a = t._data
        r = shared.empty((len(idx),) + a.shape[1:], a.dtype)
        # bounds were checked above; mode="wrap" avoids the buffered copy of mode="raise"
        np.take(a, idx, axis=0, out=r, mode="wrap")
        out.append(Tensor._make(r))
    return out
