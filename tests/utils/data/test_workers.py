"""DataLoader with worker processes: results, ordering, sharding, seeding, shared-memory
transport, error propagation, dead workers, timeouts and shutdown without leftovers."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import ember
from ember.utils import data as E
from ember.utils.data._utils import shared
from tests.utils.data import _helpers as H
from tests.utils.data._helpers import same

torch = pytest.importorskip("torch")
T = torch.utils.data

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX worker tests")


def child_pids() -> set:
    """Live (non-zombie) children of this process, read from /proc."""
    me, kids = os.getpid(), set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == me and fields[0] != "Z":
            kids.add(int(d))
    return kids


def service_pids() -> set:
    """multiprocessing's own long-lived helpers (spawn's resource tracker, the fork server)."""
    import multiprocessing.forkserver
    import multiprocessing.resource_tracker

    pids = {getattr(multiprocessing.resource_tracker._resource_tracker, "_pid", None),
            getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)}
    return {p for p in pids if p}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def our_segments() -> list:
    return segments_of(os.getpid())


def segments_of(pid: int) -> list:
    if not os.path.isdir("/dev/shm"):
        return []
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"edl{pid:x}_")]


@pytest.fixture(autouse=True)
def no_leftovers():
    """Every test ends without worker processes or shared-memory segments of ours."""
    before = child_pids()
    yield
    gc.collect()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (child_pids() - before - service_pids()):
        time.sleep(0.05)
    assert not (child_pids() - before - service_pids()), "worker processes left behind"
    assert not multiprocessing.active_children()
    assert our_segments() == []


def run_iter(loader):
    """Consume a loader, closing its iterator even when it raises."""
    it = iter(loader)
    try:
        return list(it)
    finally:
        del it


# ------------------------------------------------------------------------------ results
@pytest.mark.parametrize("bs,drop,prefetch", [(2, False, 2), (3, True, 1), (4, False, 5),
                                              (None, False, 2)])
def test_same_batches_as_single_process(bs, drop, prefetch):
    for ds in (H.Squares(11), E.TensorDataset(ember.randn(11, 3), ember.arange(11))):
        ref = list(E.DataLoader(ds, batch_size=bs, drop_last=drop))
        got = run_iter(E.DataLoader(ds, batch_size=bs, drop_last=drop, num_workers=2,
                                    prefetch_factor=prefetch))
        assert len(got) == len(ref)
        for r, g in zip(ref, got):
            same_ember(r, g)


def same_ember(a, b):
    if isinstance(a, ember.Tensor):
        assert isinstance(b, ember.Tensor) and a.dtype == b.dtype and a.shape == b.shape
        assert bool((a == b).all())
    elif isinstance(a, dict):
        assert type(a) is type(b) and list(a) == list(b)
        for k in a:
            same_ember(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            same_ember(x, y)
    else:
        assert a == b


def test_matches_pytorch_with_workers():
    t = list(T.DataLoader(H.Squares(9), batch_size=4, num_workers=2))
    e = run_iter(E.DataLoader(H.Squares(9), batch_size=4, num_workers=2))
    same(t, e)


def test_shuffle_with_workers_follows_the_generator():
    def run(nw):
        g = ember.Generator().manual_seed(11)
        dl = E.DataLoader(H.Squares(20), batch_size=3, shuffle=True, num_workers=nw, generator=g)
        return [b["y"].tolist() for b in run_iter(dl)] if nw else [b["y"].tolist() for b in dl]

    # the base seed is drawn from the generator before the sampler's seed in both cases
    assert run(2) == run(0)


@pytest.mark.parametrize("lib", ["torch", "ember"])
def test_persistent_workers_draw_the_base_seed_once(lib):
    # PyTorch's scheme, checked on PyTorch itself and on ember: a persistent iterator draws its
    # workers' base seed from the generator once, then each epoch only the sampler's seed, so
    # epochs after the first differ from those of a loader that starts new workers each epoch
    L = torch if lib == "torch" else ember
    D = T if lib == "torch" else E
    ds = H.Squares(12)

    def expected():
        g = L.Generator().manual_seed(5)
        L.empty((), dtype=L.int64).random_(generator=g)  # the base seed
        out = []
        for _ in range(3):
            order = list(D.RandomSampler(ds, generator=g))
            out.append([order[i:i + 4] for i in range(0, 12, 4)])
        return out

    g = L.Generator().manual_seed(5)
    dl = D.DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, persistent_workers=True,
                      generator=g)
    got = [[b["y"].tolist() for b in dl] for _ in range(3)]
    assert got == expected()


class TorchRange(T.IterableDataset):
    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        import math

        info = T.get_worker_info()
        lo, hi = self.start, self.end
        if info is not None:
            per = int(math.ceil((hi - lo) / info.num_workers))
            lo = lo + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


@pytest.mark.parametrize("bs,drop", [(2, False), (2, True), (None, False), (3, False)])
def test_iterable_sharding_matches_pytorch(bs, drop):
    t = list(T.DataLoader(TorchRange(3, 17), batch_size=bs, drop_last=drop, num_workers=2))
    e = run_iter(E.DataLoader(H.Range(3, 17), batch_size=bs, drop_last=drop, num_workers=2))
    same(t, e)


def test_iterable_without_sharding_duplicates_like_pytorch():
    class TIt(T.IterableDataset):
        def __iter__(self):
            return iter(range(5))

    class EIt(E.IterableDataset):
        def __iter__(self):
            return iter(range(5))

    t = list(T.DataLoader(TIt(), batch_size=2, num_workers=2))
    e = run_iter(E.DataLoader(EIt(), batch_size=2, num_workers=2))
    same(t, e)


def test_iterable_length_warning_with_workers():
    dl = E.DataLoader(H.Range(0, 6), batch_size=None, num_workers=2)
    dl.dataset.__class__.__len__ = lambda self: 4
    try:
        assert len(dl) == 4
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert sorted(run_iter(dl)) == list(range(6))
    finally:
        dl.dataset.__class__.__len__ = lambda self: self.end - self.start
    assert len(w) == 2 and "For multiprocessing data-loading" in str(w[0].message)


def test_in_order_false_returns_ready_batches_first():
    dl = E.DataLoader(H.SlowFor(slow=0, delay=0.8, n=8), batch_size=1, num_workers=2,
                      in_order=False)
    got = [b.item() for b in run_iter(dl)]
    assert got[0] != 0 and sorted(got) == list(range(8))
    dl = E.DataLoader(H.SlowFor(slow=0, delay=0.2, n=8), batch_size=1, num_workers=2)
    assert [b.item() for b in run_iter(dl)] == list(range(8))


def test_len_with_workers():
    dl = E.DataLoader(H.Squares(10), batch_size=3, num_workers=2)
    assert len(dl) == 4
    it = iter(dl)
    assert len(it) == 4
    del it


# ------------------------------------------------------------------------------ worker info
def test_get_worker_info_in_workers():
    g = ember.Generator().manual_seed(5)
    base = ember.empty((), dtype=ember.int64).random_(generator=g).item()
    g.manual_seed(5)
    dl = E.DataLoader(H.WorkerInfoDataset(), batch_size=None, num_workers=2, generator=g)
    rows = run_iter(dl)
    assert [r[0] for r in rows] == [0, 1, 0, 1]
    for wid, nw, seed, name, pid, is_same in rows:
        assert nw == 2 and seed == base + wid and name == "WorkerInfoDataset"
        assert pid != os.getpid() and is_same  # the worker's own copy of the dataset
    assert len({r[4] for r in rows}) == 2


def test_worker_info_is_frozen_and_shaped_like_pytorch():
    from ember.utils.data._utils.worker import WorkerInfo

    info = WorkerInfo(id=0, num_workers=2, seed=3, dataset=None)
    with pytest.raises(AttributeError):
        info.id = 1
    tinfo = T._utils.worker.WorkerInfo(id=0, num_workers=2, seed=3, dataset=None)
    assert repr(info) == repr(tinfo)


def test_worker_init_fn_gets_worker_id():
    rows = run_iter(E.DataLoader(H.InitDataset(), batch_size=None, num_workers=2,
                                 worker_init_fn=H.record_init))
    assert rows == [[0, 0], [1, 1], [0, 0], [1, 1], [0, 0], [1, 1]]


# ------------------------------------------------------------------------------ seeding
def draws(nw, seed=None):
    g = None if seed is None else ember.Generator().manual_seed(seed)
    dl = E.DataLoader(H.RandomDraws(), batch_size=2, num_workers=nw, generator=g)
    return [[list(t.tolist()) for t in b] for b in run_iter(dl)]


def test_workers_seeded_reproducibly_and_distinctly():
    a, b, c = draws(2, 0), draws(2, 0), draws(2, 1)
    assert a == b and a != c
    # batches 0 and 1 come from workers 0 and 1: their first draws differ in every RNG
    for k in (1, 2, 3):
        assert a[0][k][0] != a[1][k][0]
    ember.manual_seed(42)
    d = draws(2)
    ember.manual_seed(42)
    assert draws(2) == d


def test_worker_seeds_follow_pytorch_scheme():
    from torch.utils.data._utils.worker import _generate_state

    from ember.utils.data._utils.worker import _numpy_seed

    g = ember.Generator().manual_seed(7)
    base = ember.empty((), dtype=ember.int64).random_(generator=g).item()
    out = draws(2, 7)
    for wid, batch in ((0, out[0]), (1, out[1])):
        seed = base + wid
        assert batch[0][0] == wid
        assert batch[1][0] == ember.rand((), generator=ember.Generator().manual_seed(seed)).item()
        assert list(_numpy_seed(base, wid)) == _generate_state(base, wid)
        np.random.seed(_generate_state(base, wid))
        assert batch[2][0] == np.random.rand()
        assert batch[3][0] == random.Random(seed).random()


# ------------------------------------------------------------------------------ transport
def segment_of(t):
    base = t._data if isinstance(t, ember.Tensor) else t
    while isinstance(base, np.ndarray):
        base = base.base
    return base if isinstance(base, shared._Segment) else None


@pytest.mark.skipif(not shared.available(), reason="no POSIX shared memory")
def test_large_batches_arrive_in_shared_memory():
    it = iter(E.DataLoader(H.Big(16, 8192), batch_size=8, num_workers=2))
    batches = list(it)
    del it
    for k, (x, y) in enumerate(batches):
        assert segment_of(x) is not None and segment_of(y) is None  # labels are tiny
        assert x.shape == (8, 8192) and x.dtype == ember.float32
        assert bool((x == ember.arange(8 * k, 8 * k + 8).float()[:, None]).all())
        assert x.is_contiguous()
        x[0, 0] = -1.0  # writable memory of our own
    small = run_iter(E.DataLoader(H.Squares(4), batch_size=2, num_workers=2))
    assert segment_of(small[0]["x"]) is None


@pytest.mark.skipif(not shared.available(), reason="no POSIX shared memory")
def test_shared_memory_slots_are_reused_only_when_free():
    dl = E.DataLoader(H.Big(480, 8192), batch_size=4, num_workers=2)
    it = iter(dl)
    kept_view = None
    names = set()
    for k, (x, _y) in enumerate(it):
        # every batch is intact while we hold it, although the workers keep writing
        assert bool((x == ember.arange(4 * k, 4 * k + 4).float()[:, None]).all())
        names.add(segment_of(x).name)
        if k == 0:
            kept_view = x[1, :10]  # a view keeps batch 0's memory (and slot) taken
        if k % 10 == 0:
            assert len(our_segments()) <= 2 * it._prefetch_factor * 4 + 4
    del it
    assert len(names) <= 16  # the 120 batches cycled through a few slots
    assert kept_view.tolist() == [1.0] * 10


@pytest.mark.skipif(not shared.available(), reason="no POSIX shared memory")
def test_batches_kept_alive_are_never_overwritten():
    # more live batches than pool slots: later batches go to one-off segments
    batches = run_iter(E.DataLoader(H.Big(200, 8192), batch_size=2, num_workers=2))
    assert len(batches) == 100
    for k, (x, y) in enumerate(batches):
        assert segment_of(x) is not None and y.tolist() == [2 * k, 2 * k + 1]
        assert bool((x == ember.tensor([2.0 * k, 2.0 * k + 1])[:, None]).all())


def big_numpy_collate(batch):
    return np.stack([np.full(20000, b, np.float64) for b in batch]), batch


class CachingCollate:
    """Returns the first collated batch every time (a shared batch sent again)."""

    def __init__(self):
        self.first = None

    def __call__(self, batch):
        if self.first is None:
            self.first = E.default_collate(batch)
        return self.first


def views_collate(batch):
    x = E.default_collate(batch)[0]
    return x, x[1], x[::2]


@pytest.mark.skipif(not shared.available(), reason="no POSIX shared memory")
def test_shared_memory_with_custom_collate_functions():
    out = run_iter(E.DataLoader(list(range(6)), batch_size=2, num_workers=2,
                                collate_fn=big_numpy_collate))
    for k, (arr, idx) in enumerate(out):
        assert idx == [2 * k, 2 * k + 1]
        assert type(arr) is np.ndarray and segment_of(arr) is not None
        assert arr.shape == (2, 20000) and (arr[:, 0] == [2 * k, 2 * k + 1]).all()
    out = run_iter(E.DataLoader(H.Big(16, 8192), batch_size=4, num_workers=1,
                                collate_fn=CachingCollate()))
    assert len(out) == 4 and all(bool((b[0] == out[0][0]).all()) for b in out)
    out = run_iter(E.DataLoader(H.Big(8, 8192), batch_size=4, num_workers=2,
                                collate_fn=views_collate))
    for k, (x, row, every_other) in enumerate(out):
        assert segment_of(x) is segment_of(row) is segment_of(every_other) is not None
        assert row.data_ptr() == x[1].data_ptr() and every_other.stride() == (16384, 1)
        assert bool((row == 4 * k + 1).all()) and every_other[:, 0].tolist() == [4 * k, 4 * k + 2]


def test_sample_views_do_not_drag_their_storage():
    x = ember.randn(300, 1000)
    ds = E.TensorDataset(x)
    out = run_iter(E.DataLoader(ds, batch_size=None, num_workers=2))
    for i in (0, 1, 299):
        (row,) = out[i]
        root = row._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        assert root.nbytes == 4000 and bool((row == x[i]).all())


def test_tensor_attributes_survive_transport():
    p = ember.nn.Parameter(ember.ones(3))
    out = run_iter(E.DataLoader([p, p], batch_size=None, num_workers=1))
    assert all(type(t) is ember.nn.Parameter and t.requires_grad for t in out)


# ------------------------------------------------------------------------------ errors
def test_worker_exception_reraised_with_traceback():
    it = iter(E.DataLoader(H.Failing(bad=5), batch_size=2, num_workers=2))
    got = [next(it).tolist(), next(it).tolist()]
    with pytest.raises(ValueError) as ei:
        next(it)
    msg = str(ei.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 0.\nOriginal "
                          "Traceback (most recent call last):\n")
    assert "_helpers.py" in msg and "ValueError: sample 5 is broken" in msg
    got += [b.tolist() for b in it]  # later batches still arrive, as in PyTorch
    assert got == [[0, 1], [2, 3], [6, 7], [8, 9]]
    del it


def test_worker_exception_types():
    with pytest.raises(KeyError) as ei:
        run_iter(E.DataLoader(H.KeyFailing(), batch_size=2, num_workers=1))
    assert repr(ei.value).startswith("KeyError(Caught KeyError in DataLoader worker process 0.")
    with pytest.raises(RuntimeError, match="Caught MultiArgError in DataLoader worker process"):
        run_iter(E.DataLoader(H.FailingMultiArg(), batch_size=2, num_workers=1))
    with pytest.raises(RuntimeError, match=r"(?s)Caught RuntimeError in DataLoader worker "
                                           r"process 0\..*init of worker 0 failed"):
        run_iter(E.DataLoader(H.Squares(6), batch_size=2, num_workers=2,
                              worker_init_fn=H.failing_init))


def test_unpicklable_batch_is_reported():
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError),
                       match="Caught .* in DataLoader worker process 0"):
        run_iter(E.DataLoader(H.Squares(4), batch_size=2, num_workers=1,
                              collate_fn=H.unpicklable_collate))


@pytest.mark.parametrize("how", ["kill", "exit", "segfault"])
def test_dead_worker_raises(how):
    ds = {"kill": H.Suicide(at=6), "exit": H.Suicide(at=6, code=3),
          "segfault": H.Segfault(at=6)}[how]
    it = iter(E.DataLoader(ds, batch_size=2, num_workers=2))
    pids = [w.pid for w in it._workers]
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as ei:
        for _ in it:
            pass
    assert time.monotonic() - t0 < 4  # noticed at once (SIGCHLD), not after a poll interval
    assert str(ei.value) == f"DataLoader worker (pid(s) {pids[1]}) exited unexpectedly"
    cause = str(ei.value.__cause__)
    if how == "kill":
        assert cause == f"DataLoader worker (pid {pids[1]}) is killed by signal: Killed. "
    elif how == "segfault":
        assert cause == (f"DataLoader worker (pid {pids[1]}) is killed by signal: "
                         "Segmentation fault. ")
    else:
        assert cause.startswith(f"DataLoader worker (pid {pids[1]}) exited unexpectedly with "
                                "exit code 3. Details are lost due to multiprocessing.")
    del it


def test_timeout():
    it = iter(E.DataLoader(H.Slow(0.6, 8), batch_size=1, num_workers=1, timeout=0.1))
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.1 seconds$"):
        next(it)
    del it
    dl = E.DataLoader(H.Slow(0.01, 4), batch_size=2, num_workers=1, timeout=5)
    assert [b.tolist() for b in run_iter(dl)] == [[0, 1], [2, 3]]


# ------------------------------------------------------------------------------ shutdown
def test_exhausted_iterator_stops_workers():
    it = iter(E.DataLoader(H.Squares(6), batch_size=2, num_workers=2))
    pids = [w.pid for w in it._workers]
    assert all(alive(p) for p in pids)
    assert len(list(it)) == 3
    assert not any(alive(p) for p in pids) and not multiprocessing.active_children()


def test_garbage_collected_iterator_stops_workers():
    it = iter(E.DataLoader(H.Big(32, 8192), batch_size=4, num_workers=2, prefetch_factor=3))
    next(it)
    time.sleep(0.2)  # let the workers fill the pipe with prefetched shared-memory batches
    pids = [w.pid for w in it._workers]
    del it
    gc.collect()
    assert not any(alive(p) for p in pids)
    assert our_segments() == []


def test_persistent_workers():
    dl = E.DataLoader(H.PidDataset(), batch_size=4, num_workers=2, persistent_workers=True)
    it1 = iter(dl)
    first = [b.tolist() for b in it1]
    it2 = iter(dl)
    assert it2 is it1
    second = [b.tolist() for b in it2]
    assert len(first) == len(second) == 4
    assert {p for b in first for p in b} == {p for b in second for p in b}
    # an epoch abandoned half-way, then a fresh one: stale batches are dropped
    dl2 = E.DataLoader(H.Squares(10), batch_size=2, num_workers=2, persistent_workers=True)
    it = iter(dl2)
    next(it)
    assert [b["y"].tolist() for b in iter(dl2)] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    pids = [w.pid for w in it._workers]
    del it, it1, it2, dl, dl2
    gc.collect()
    assert not any(alive(p) for p in pids)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_other_start_methods(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} unavailable")
    ds = E.TensorDataset(ember.arange(12.0).reshape(6, 2), ember.arange(6))
    dl = E.DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context=method)
    got = run_iter(dl)
    assert [b[1].tolist() for b in got] == [[0, 1, 2, 3], [4, 5]]
    assert got[0][0].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]
    # large batches: the shared-memory pool works with these start methods too
    big = run_iter(E.DataLoader(H.Big(12, 8192), batch_size=4, num_workers=2,
                                multiprocessing_context=method, worker_init_fn=H.record_init))
    for k, (x, y) in enumerate(big):
        assert y.tolist() == [4 * k + j for j in range(4)]
        assert bool((x == y.float()[:, None]).all())
        assert not shared.available() or segment_of(x) is not None


def test_spawn_with_unpicklable_arguments_warns_and_raises():
    dl = E.DataLoader(H.Squares(4), num_workers=1, collate_fn=lambda b: b,
                      multiprocessing_context="spawn")
    with pytest.warns(UserWarning, match="Got pickle error when attempting to start a worker"):
        with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
            iter(dl)


def test_pin_memory_with_workers():
    if ember.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.warns(UserWarning, match="no accelerator is found"):
        out = run_iter(E.DataLoader(H.Squares(4), batch_size=2, num_workers=1,
                                    pin_memory=True))
    assert [b["y"].tolist() for b in out] == [[0, 1], [2, 3]]


class FakePinnedMemory:
    """Stands in for CuPy when CUDA is absent: pinned memory is plain host memory."""

    def __init__(self):
        self.calls = 0
        outer = self

        class Device:
            def __init__(self, i):
                pass

            def use(self):
                pass

        class Cuda:
            @staticmethod
            def alloc_pinned_memory(n):
                outer.calls += 1
                return bytearray(n)

        Cuda.Device = Device
        self.cuda = Cuda


def test_pin_memory_thread_with_fake_cuda(monkeypatch):
    from ember import _backend
    from ember.utils.data import dataloader

    fake = FakePinnedMemory()
    monkeypatch.setattr(_backend, "cupy_module", lambda: fake)
    monkeypatch.setattr(dataloader, "_cuda_available", lambda: True)
    monkeypatch.setattr(ember.cuda, "current_device", lambda: 0)
    for nw in (0, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "no accelerator" warning now
            out = run_iter(E.DataLoader(H.Squares(6), batch_size=4, num_workers=nw,
                                        pin_memory=True))
        assert [b["y"].tolist() for b in out] == [[0, 1, 2, 3], [4, 5]]
        assert out[1]["name"] == ["s04", "s05"] and out[1]["x"].tolist() == [[4, 16], [5, 25]]
        assert isinstance(out[0]["x"]._data.base, bytearray)  # copied into "pinned" memory
    assert fake.calls == 8
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process"):
        run_iter(E.DataLoader(H.Failing(bad=1), batch_size=2, num_workers=1, pin_memory=True))


EXIT_SCRIPT = textwrap.dedent("""
    from ember.utils.data import DataLoader
    from tests.utils.data._helpers import Big
    dl = DataLoader(Big(64, 8192), batch_size=4, num_workers=2, persistent_workers=True)
    for b in dl:
        pass
    it = iter(DataLoader(Big(64, 8192), batch_size=4, num_workers=2))
    next(it)
    print(" ".join(str(w.pid) for w in dl._iterator._workers + it._workers), flush=True)
""")


def test_interpreter_exit_with_live_iterators_cleans_up():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", EXIT_SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err == "", err
    pids = [int(p) for p in out.split()]
    assert len(pids) == 4 and not any(alive(p) for p in pids)
    assert segments_of(proc.pid) == []  # the pools of both loaders are gone


CTRL_C_SCRIPT = textwrap.dedent("""
    import sys
    from ember.utils.data import DataLoader
    from tests.utils.data._helpers import Slow
    it = iter(DataLoader(Slow(0.2, 400), batch_size=2, num_workers=2))
    next(it)
    print(" ".join(str(w.pid) for w in it._workers), flush=True)
    try:
        for _ in it:
            pass
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        raise
""")


@pytest.mark.parametrize("target", ["group", "main"])
def test_ctrl_c_leaves_no_workers(target):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C_SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
                            start_new_session=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) or True for p in pids)
        time.sleep(0.3)
        if target == "group":  # what a terminal's Ctrl-C does
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "interrupted" in out and "KeyboardInterrupt" in err
    # well before the workers' 5 s parent watchdog could have ended them
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.02)
    assert not any(alive(p) for p in pids)
