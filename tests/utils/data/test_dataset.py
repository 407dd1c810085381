"""Datasets, samplers, random_split and DistributedSampler against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.utils import data as E
from ember.utils.data.distributed import DistributedSampler
from tests.oracle import needs_torch

torch = pytest.importorskip("torch")
T = torch.utils.data


def errors_alike(fn):
    """fn(data_module, lib) raises the same exception type and message in both libraries."""
    with pytest.raises(Exception) as te:
        fn(T, torch)
    with pytest.raises(type(te.value)) as ee:
        fn(E, ember)
    assert str(ee.value) == str(te.value)
    return str(ee.value)


# ------------------------------------------------------------------------------ datasets
def test_dataset_base():
    errors_alike(lambda d, lib: d.Dataset()[0])
    errors_alike(lambda d, lib: len(d.Dataset()))
    a, b = E.TensorDataset(ember.arange(3)), E.TensorDataset(ember.arange(4))
    c = a + b
    assert isinstance(c, E.ConcatDataset) and len(c) == 7 and c[5][0].item() == 2
    errors_alike(lambda d, lib: d.IterableDataset())  # abstract: no __iter__
    it = _It(E, [1]).cls()
    assert isinstance(it + it, E.ChainDataset) and list(it + it) == [1, 1]
    assert issubclass(E.IterableDataset, E.Dataset)


def test_tensor_dataset():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    for d, lib in ((T, torch), (E, ember)):
        ds = d.TensorDataset(lib.tensor(x), lib.tensor(y))
        assert len(ds) == 6
        xi, yi = ds[4]
        assert xi.tolist() == [8.0, 9.0] and yi.item() == 4
        assert [t.tolist() for t in ds[1:3]] == [[[2.0, 3.0], [4.0, 5.0]], [1, 2]]
    errors_alike(lambda d, lib: d.TensorDataset(lib.zeros(3), lib.zeros(4)))


def test_stack_dataset():
    for d, lib in ((T, torch), (E, ember)):
        a, b = d.TensorDataset(lib.arange(4)), list("wxyz")
        tup, dic = d.StackDataset(a, b), d.StackDataset(num=a, ch=b)
        assert len(tup) == len(dic) == 4
        assert tup[1][1] == "x" and tup[1][0][0].item() == 1
        assert dic[2]["ch"] == "y" and list(dic[2]) == ["num", "ch"]
        got = tup.__getitems__([3, 0])
        assert [(s[0][0].item(), s[1]) for s in got] == [(3, "z"), (0, "w")]
        got = dic.__getitems__([1])
        assert got[0]["ch"] == "x" and isinstance(got[0], dict)
    errors_alike(lambda d, lib: d.StackDataset())
    errors_alike(lambda d, lib: d.StackDataset([1, 2], b=[1, 2]))
    errors_alike(lambda d, lib: d.StackDataset([1, 2], [1]))
    errors_alike(lambda d, lib: d.StackDataset(a=[1, 2], b=[1]))

    class Short(list):
        def __getitems__(self, idx):
            return [self[i] for i in idx][:-1]

    errors_alike(lambda d, lib: d.StackDataset(Short([1, 2, 3])).__getitems__([0, 1]))


def test_concat_dataset():
    for d in (T, E):
        c = d.ConcatDataset([range(3), range(10, 14), range(20, 22)])
        assert len(c) == 9 and c.cumulative_sizes == [3, 7, 9]
        assert [c[i] for i in range(9)] == [0, 1, 2, 10, 11, 12, 13, 20, 21]
        assert [c[-i] for i in range(1, 10)] == [21, 20, 13, 12, 11, 10, 2, 1, 0]
        assert d.ConcatDataset.cumsum([range(2), range(5)]) == [2, 7]
        with pytest.warns(FutureWarning, match="renamed to `cumulative_sizes`"):
            assert c.cummulative_sizes == [3, 7, 9]
    errors_alike(lambda d, lib: d.ConcatDataset([range(3)])[-4])
    errors_alike(lambda d, lib: d.ConcatDataset([range(3)])[3])
    errors_alike(lambda d, lib: d.ConcatDataset([]))
    errors_alike(lambda d, lib: d.ConcatDataset([range(2), _It(d, [1]).cls()]))


class _It:
    def __init__(self, d, vals):
        self.cls = type("It", (d.IterableDataset,), {
            "__iter__": lambda self: iter(vals), "__len__": lambda self: len(vals)})


def test_chain_dataset():
    for d in (T, E):
        a, b = _It(d, [1, 2]).cls(), _It(d, [3]).cls()
        ch = d.ChainDataset([a, b])
        assert list(ch) == [1, 2, 3] and len(ch) == 3
        assert list(a + b) == [1, 2, 3]
    errors_alike(lambda d, lib: list(d.ChainDataset([range(3)])))
    errors_alike(lambda d, lib: len(d.ChainDataset([range(3)])))


def test_subset():
    for d in (T, E):
        s = d.Subset(list("abcdef"), [5, 0, 3])
        assert len(s) == 3 and [s[i] for i in range(3)] == ["f", "a", "d"]
        assert s.__getitems__([2, 0]) == ["d", "f"]

        class Batched(list):
            def __getitems__(self, idx):
                return [("batched", self[i]) for i in idx]

        s = d.Subset(Batched("abcdef"), [4, 1])
        assert s.__getitems__([0, 1]) == [("batched", "e"), ("batched", "b")]

        class ListIndexed(list):
            def __getitem__(self, i):
                return [list.__getitem__(self, j) for j in i] if isinstance(i, list) else \
                    list.__getitem__(self, i)

        s = d.Subset(ListIndexed("abcdef"), [4, 1, 2])
        assert s[[0, 2]] == ["e", "c"]

    def bad_subclass(d, lib):
        class Mine(d.Subset):
            def __getitem__(self, idx):
                return 0

        return Mine([1, 2], [0])

    errors_alike(bad_subclass)


# ------------------------------------------------------------------------------ random_split
@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                                       (7, [0.1, 0.1, 0.8]), (5, [1.0]), (4, [0.25] * 4)])
def test_random_split_lengths(n, lengths):
    t = T.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    e = E.random_split(range(n), lengths, generator=ember.Generator().manual_seed(0))
    assert [len(s) for s in e] == [len(s) for s in t]
    items = sorted(x for s in e for x in [s[i] for i in range(len(s))])
    assert items == list(range(n))
    assert all(isinstance(s, E.Subset) for s in e)


def test_random_split_generator_and_default():
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    a = [s.indices for s in E.random_split(range(20), [5, 15], generator=g1)]
    b = [s.indices for s in E.random_split(range(20), [5, 15], generator=g2)]
    assert a == b
    ember.manual_seed(9)
    c = [s.indices for s in E.random_split(range(20), [5, 15])]
    ember.manual_seed(9)
    assert c == [s.indices for s in E.random_split(range(20), [5, 15])]
    assert all(isinstance(i, int) for s in c for i in s)


def test_random_split_errors_and_warnings():
    errors_alike(lambda d, lib: d.random_split(range(10), [3, 3]))
    errors_alike(lambda d, lib: d.random_split(range(10), [0.5, 0.6]))
    errors_alike(lambda d, lib: d.random_split(range(10), [-0.5, 1.5]))
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        e = E.random_split(range(2), [0.9, 0.05, 0.05])
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        t = T.random_split(range(2), [0.9, 0.05, 0.05])
    assert [len(x) for x in e] == [len(x) for x in t] == [2, 0, 0]
    assert len(we) == 2 and all(w.category is UserWarning for w in we)
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]


# ------------------------------------------------------------------------------ samplers
def test_sequential_sampler():
    s = E.SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5
    errors_alike(lambda d, lib: len(d.Sampler()))
    errors_alike(lambda d, lib: iter(d.Sampler()))


def test_random_sampler_permutation_and_seed():
    s = E.RandomSampler(range(50))
    p = list(s)
    assert sorted(p) == list(range(50)) and p != list(range(50)) and len(s) == 50
    assert all(type(i) is int for i in p)
    ember.manual_seed(5)
    a = list(s)
    ember.manual_seed(5)
    assert list(s) == a  # each epoch seeds a private generator from the default one
    assert list(s) != a
    g = ember.Generator().manual_seed(1)
    s = E.RandomSampler(range(50), generator=g)
    a = list(s)
    g.manual_seed(1)
    assert list(s) == a


def test_random_sampler_num_samples_and_replacement():
    s = E.RandomSampler(range(5), num_samples=12)
    out = list(s)
    assert len(out) == 12 == len(s)
    assert sorted(out[:5]) == sorted(out[5:10]) == list(range(5)) and len(set(out[10:])) == 2
    s = E.RandomSampler(range(7), replacement=True, num_samples=70)
    out = list(s)
    assert len(out) == 70 and set(out) <= set(range(7)) and len(set(out)) > 3
    assert len(list(E.RandomSampler(range(7), replacement=True))) == 7
    s = E.RandomSampler(range(3), num_samples=2)
    assert len(list(s)) == 2 and len(set(s)) == 2
    errors_alike(lambda d, lib: d.RandomSampler(range(0)))
    errors_alike(lambda d, lib: d.RandomSampler(range(5), num_samples=0))
    errors_alike(lambda d, lib: d.RandomSampler(range(5), num_samples=2.5))
    errors_alike(lambda d, lib: d.RandomSampler(range(5), replacement=1))


def test_random_sampler_reads_length_lazily():
    data = list(range(4))
    s = E.RandomSampler(data)
    data.extend([4, 5])
    assert len(s) == 6 and sorted(s) == list(range(6))


def test_subset_random_sampler():
    s = E.SubsetRandomSampler([10, 20, 30, 40])
    out = list(s)
    assert sorted(out) == [10, 20, 30, 40] and len(s) == 4
    g = ember.Generator().manual_seed(2)
    a = list(E.SubsetRandomSampler(list("abcdef"), generator=g))
    g.manual_seed(2)
    assert list(E.SubsetRandomSampler(list("abcdef"), generator=g)) == a


def test_weighted_random_sampler():
    s = E.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200)
    out = list(s)
    assert len(out) == 200 == len(s) and set(out) == {1, 3}
    assert out.count(3) > out.count(1)
    s = E.WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5, replacement=False)
    out = list(s)
    assert len(set(out)) == 5
    assert s.weights.dtype == ember.float64 and s.weights.shape == (6,)
    g = ember.Generator().manual_seed(4)
    a = list(E.WeightedRandomSampler([1, 2, 3], 10, generator=g))
    g.manual_seed(4)
    assert list(E.WeightedRandomSampler([1, 2, 3], 10, generator=g)) == a
    errors_alike(lambda d, lib: d.WeightedRandomSampler([1.0, 2.0], 0))
    errors_alike(lambda d, lib: d.WeightedRandomSampler([1.0, 2.0], True))
    errors_alike(lambda d, lib: d.WeightedRandomSampler([1.0, 2.0], 3, replacement=0))
    errors_alike(lambda d, lib: d.WeightedRandomSampler([[1.0, 2.0]], 3))


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                                       (2, 5, True), (0, 2, False)])
def test_batch_sampler(n, bs, drop):
    t = T.BatchSampler(T.SequentialSampler(range(n)), bs, drop)
    e = E.BatchSampler(E.SequentialSampler(range(n)), bs, drop)
    assert list(e) == list(t) and len(e) == len(t)
    assert list(E.BatchSampler(range(n), bs, drop)) == list(t)  # any iterable


def test_batch_sampler_errors():
    errors_alike(lambda d, lib: d.BatchSampler(range(3), 0, False))
    errors_alike(lambda d, lib: d.BatchSampler(range(3), True, False))
    errors_alike(lambda d, lib: d.BatchSampler(range(3), 2.0, False))
    errors_alike(lambda d, lib: d.BatchSampler(range(3), 2, 0))
    errors_alike(lambda d, lib: len(d.BatchSampler(iter(range(3)), 2, False)))


# ------------------------------------------------------------------------------ distributed
@pytest.mark.parametrize("n,replicas,drop", [(10, 3, False), (10, 3, True), (9, 3, False),
                                             (2, 4, False), (2, 4, True), (11, 4, True)])
def test_distributed_sampler_unshuffled_matches_pytorch(n, replicas, drop):
    for rank in range(replicas):
        t = T.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop)
        e = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop)
        assert list(e) == list(t)
        assert len(e) == len(t) == e.num_samples == t.num_samples
        assert e.total_size == t.total_size


def test_distributed_sampler_shuffle_and_epochs():
    n, r = 23, 4
    parts = [list(DistributedSampler(range(n), r, k, seed=7)) for k in range(r)]
    flat = [i for p in parts for i in p]
    assert all(len(p) == 6 for p in parts) and len(flat) == 24
    assert set(flat) == set(range(n))  # one index repeated as padding
    again = [list(DistributedSampler(range(n), r, k, seed=7)) for k in range(r)]
    assert again == parts
    s = DistributedSampler(range(n), r, 0, seed=7)
    s.set_epoch(1)
    assert s.epoch == 1 and list(s) != parts[0]
    assert list(DistributedSampler(range(n), r, 0, seed=8)) != parts[0]
    # the shuffle is randperm(n) from a generator seeded with seed + epoch
    perm = ember.randperm(n, generator=ember.Generator().manual_seed(7 + 1)).tolist()
    assert list(s) == (perm + perm[:1])[0:24:4]
    short = DistributedSampler(range(2), 5, 4, shuffle=False)
    assert list(short) == [0]  # padding repeats the list as often as needed


def test_distributed_sampler_errors():
    errors_alike(lambda d, lib: d.DistributedSampler(range(4), 2, 2))
    errors_alike(lambda d, lib: d.DistributedSampler(range(4), 2, -1))
    # without a process group: PyTorch's error from torch.distributed (or, where ember's
    # distributed package cannot run, the sampler's own)
    import ember.distributed as dist

    if dist.is_available():
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            DistributedSampler(range(4))
    else:
        with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
            DistributedSampler(range(4))
    assert E.DistributedSampler is DistributedSampler


@needs_torch
def test_public_names():
    names = {n for n in T.__all__ if "DataPipe" not in n and "datapipe" not in n
             and "runtime_validation" not in n and n not in (
                 "DataChunk", "argument_validation", "non_deterministic")}
    assert names <= set(E.__all__)
    for n in E.__all__:
        assert hasattr(E, n)
