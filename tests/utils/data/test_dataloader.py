"""DataLoader in the main process (num_workers=0) against PyTorch: batching, ordering, samplers,
iterable datasets, argument checks and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.utils import data as E
from tests.utils.data._helpers import Squares, same

torch = pytest.importorskip("torch")
T = torch.utils.data


def loaders(make):
    """make(data_module, lib) -> DataLoader, for PyTorch and ember."""
    return make(T, torch), make(E, ember)


def same_batches(make):
    t, e = loaders(make)
    tb, eb = list(t), list(e)
    same(tb, eb)
    assert len(t) == len(e)
    return eb


def errors_alike(fn):
    with pytest.raises(Exception) as te:
        fn(T, torch)
    with pytest.raises(type(te.value)) as ee:
        fn(E, ember)
    assert str(ee.value) == str(te.value)


def tensor_ds(d, lib, n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return d.TensorDataset(lib.tensor(x), lib.tensor(np.arange(n) % 4))


# ------------------------------------------------------------------------------ batching
@pytest.mark.parametrize("bs,drop", [(1, False), (3, False), (3, True), (4, True), (10, False),
                                     (32, False), (32, True)])
def test_batches_match_pytorch(bs, drop):
    same_batches(lambda d, lib: d.DataLoader(tensor_ds(d, lib), batch_size=bs, drop_last=drop))
    same_batches(lambda d, lib: d.DataLoader(Squares(10), batch_size=bs, drop_last=drop))


def test_default_batch_size_is_one():
    out = same_batches(lambda d, lib: d.DataLoader(list(range(3))))
    assert len(out) == 3 and out[0].shape == (1,)


def test_batch_size_none_converts_samples():
    out = same_batches(lambda d, lib: d.DataLoader(Squares(4), batch_size=None))
    assert isinstance(out[0]["x"], ember.Tensor) and out[0]["y"] == 0
    same_batches(lambda d, lib: d.DataLoader(tensor_ds(d, lib, 4), batch_size=None))


def test_batch_sampler_and_sampler():
    bsampler = [[3, 1], [0], [2, 2, 4]]
    same_batches(lambda d, lib: d.DataLoader(Squares(5), batch_sampler=bsampler))
    same_batches(lambda d, lib: d.DataLoader(Squares(5), sampler=[4, 0, 3, 1], batch_size=3))
    same_batches(lambda d, lib: d.DataLoader(
        Squares(9), batch_sampler=d.BatchSampler(d.SequentialSampler(range(9)), 4, True)))
    dl = E.DataLoader(Squares(5), batch_sampler=bsampler)
    assert dl.batch_size is None and dl.drop_last is False and dl.batch_sampler is bsampler


def test_tensor_dataset_gather_path_equals_per_sample_path():
    # the loader gathers TensorDataset batches with one take per tensor; the result must be
    # what default_collate makes of the individual samples, including inside Subsets
    x = ember.randn(50, 2, 3)
    y = ember.randint(0, 9, (50,))
    ds = E.TensorDataset(x, y)
    sub = E.Subset(E.Subset(ds, list(range(49, -1, -1))), [3, 7, 11, 0, 40, 2, 5])
    for dataset in (ds, sub):
        idx = [4, 0, 6, 6, 1]
        fast = next(iter(E.DataLoader(dataset, batch_sampler=[idx])))
        slow = E.default_collate([dataset[i] for i in idx])
        assert isinstance(fast, list) and len(fast) == 2
        for f, s in zip(fast, slow):
            assert f.dtype == s.dtype and f.shape == s.shape and f.is_contiguous()
            assert bool((f == s).all())
    neg = next(iter(E.DataLoader(ds, batch_sampler=[[-1, -50]])))
    assert neg[1].tolist() == [y[-1].item(), y[0].item()]


def test_tensor_dataset_errors_like_pytorch():
    errors_alike(lambda d, lib: list(d.DataLoader(tensor_ds(d, lib, 4), batch_sampler=[[1, 4]])))
    errors_alike(lambda d, lib: list(d.DataLoader(tensor_ds(d, lib, 4), batch_sampler=[[1.0]])))


def test_tensor_dataset_with_autograd_and_custom_collate():
    w = ember.ones(4, 2, requires_grad=True)
    batch = next(iter(E.DataLoader(E.TensorDataset(w * 2), batch_size=3)))
    assert batch[0].requires_grad and batch[0].grad_fn.name() == "StackBackward0"
    batch = next(iter(E.DataLoader(E.TensorDataset(ember.arange(4)), batch_size=2,
                                   collate_fn=lambda b: b)))
    assert isinstance(batch, list) and isinstance(batch[0], tuple)


def test_getitems_is_used():
    class Batched(E.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, idx):
            return [i * 10 for i in idx]

    out = list(E.DataLoader(Batched(), batch_size=4))
    assert [b.tolist() for b in out] == [[0, 10, 20, 30], [40, 50]]


def test_shuffle_uses_generator():
    def run(seed):
        g = ember.Generator().manual_seed(seed)
        dl = E.DataLoader(Squares(20), batch_size=6, shuffle=True, generator=g)
        return [b["y"].tolist() for b in dl]

    a = run(1)
    assert sorted(sum(a, [])) == list(range(20)) and sum(a, []) != list(range(20))
    assert run(1) == a and run(2) != a
    dl = E.DataLoader(Squares(20), batch_size=6, shuffle=True)
    ember.manual_seed(3)
    first = [b["y"].tolist() for b in dl]
    ember.manual_seed(3)
    assert [b["y"].tolist() for b in dl] == first
    assert isinstance(dl.sampler, E.RandomSampler)


def test_len():
    for bs, drop, n in [(3, False, 4), (3, True, 3), (None, False, 10), (10, False, 1)]:
        t, e = loaders(lambda d, lib, bs=bs, drop=drop: d.DataLoader(Squares(10), batch_size=bs,
                                                                     drop_last=drop))
        assert len(e) == len(t) == n
        assert len(iter(e)) == n


# ------------------------------------------------------------------------------ iterables
def it_ds(d, vals, length=None):
    attrs = {"__iter__": lambda self: iter(vals)}
    if length is not None:
        attrs["__len__"] = lambda self: length
    return type("It", (d.IterableDataset,), attrs)()


@pytest.mark.parametrize("bs,drop", [(1, False), (2, False), (2, True), (3, True), (None, False)])
def test_iterable_dataset_batches(bs, drop):
    same_batches(lambda d, lib: d.DataLoader(it_ds(d, list(range(7)), 7), batch_size=bs,
                                             drop_last=drop))


def test_iterable_dataset_of_dicts():
    vals = [{"a": i, "b": [float(i), "s"]} for i in range(5)]
    same_batches(lambda d, lib: d.DataLoader(it_ds(d, vals, 5), batch_size=2))


def test_iterable_len_warning():
    dl = E.DataLoader(it_ds(E, list(range(5)), 3), batch_size=None)
    assert len(dl) == 3
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert list(dl) == [0, 1, 2, 3, 4]
    msgs = [str(x.message) for x in w]
    assert len(msgs) == 2 and "was reported to be 3(when accessing len(dataloader)), but 4 " \
        "samples have been fetched." in msgs[0]
    dl = E.DataLoader(it_ds(E, list(range(5))), batch_size=2)
    with pytest.raises(TypeError):
        len(dl)
    assert [b.tolist() for b in dl] == [[0, 1], [2, 3], [4]]


# ------------------------------------------------------------------------------ arguments
@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
    dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(multiprocessing_context="spawn"), dict(num_workers=1, multiprocessing_context="bogus"),
    dict(num_workers=1, multiprocessing_context=3), dict(batch_size=0), dict(batch_size=-2),
    dict(drop_last=None), dict(shuffle=True, sampler=[1]),
])
def test_argument_errors_match_pytorch(kwargs):
    errors_alike(lambda d, lib: d.DataLoader(list(range(4)), **kwargs))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]])])
def test_iterable_argument_errors_match_pytorch(kwargs):
    errors_alike(lambda d, lib: d.DataLoader(it_ds(d, [1, 2]), **kwargs))


def test_iterable_accepts_shuffle_false():
    assert list(E.DataLoader(it_ds(E, [1, 2]), shuffle=False, batch_size=None)) == [1, 2]


def test_attributes_frozen_after_init():
    for name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                 "persistent_workers"):
        errors_alike(lambda d, lib, name=name: setattr(d.DataLoader([1]), name, None))
    dl = E.DataLoader([1, 2])
    dl.num_workers = 0  # other attributes can change
    dl.collate_fn = lambda b: b
    assert list(dl) == [[1], [2]]


def test_defaults_and_attributes():
    t, e = loaders(lambda d, lib: d.DataLoader([1, 2, 3], num_workers=2))
    for attr in ("batch_size", "num_workers", "prefetch_factor", "pin_memory", "timeout",
                 "drop_last", "persistent_workers", "in_order", "pin_memory_device",
                 "multiprocessing_context", "worker_init_fn", "generator"):
        assert getattr(e, attr) == getattr(t, attr), attr
    t, e = loaders(lambda d, lib: d.DataLoader([1, 2, 3]))
    assert e.prefetch_factor is t.prefetch_factor is None
    assert e.collate_fn is E.default_collate
    assert E.DataLoader([1], batch_size=None).collate_fn is E.default_convert
    e = E.DataLoader([1], num_workers=1, multiprocessing_context="spawn")
    import multiprocessing

    assert e.multiprocessing_context is multiprocessing.get_context("spawn")


def test_worker_count_warning_matches_pytorch():
    import os

    n = len(os.sched_getaffinity(0)) + 5
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        T.DataLoader([1], num_workers=n)
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        E.DataLoader([1], num_workers=n)
    assert [str(w.message) for w in we] == [str(w.message) for w in wt] and len(we) == 1


def test_pin_memory_without_cuda_warns_like_pytorch():
    if ember.cuda.is_available():
        pytest.skip("CUDA present: pinning is real")

    def run(d, lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = list(d.DataLoader(Squares(3), batch_size=2, pin_memory=True,
                                    pin_memory_device="cuda"))
        return out, [str(x.message) for x in w]

    t, tw = run(T, torch)
    e, ew = run(E, ember)
    same(t, e)
    assert ew == tw and len(ew) == 2


def test_iterator_cannot_be_pickled():
    import pickle

    errors_alike(lambda d, lib: pickle.dumps(iter(d.DataLoader([1, 2]))))


def test_worker_info_in_main_process_is_none():
    assert E.get_worker_info() is None
