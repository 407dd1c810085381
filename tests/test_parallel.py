import threading

import numpy as np
import pytest

import ember
from ember import _parallel


def test_num_threads_round_trip_and_errors():
    torch = pytest.importorskip("torch")
    n = ember.get_num_threads()
    assert n >= 1
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
    finally:
        ember.set_num_threads(n)
    for name in ("set_num_threads", "set_num_interop_threads"):
        msgs = []
        for lib in (ember, torch):
            with pytest.raises(RuntimeError) as info:
                getattr(lib, name)(0)
            msgs.append(str(info.value))
        assert msgs[0] == msgs[1]


def test_split_covers_range():
    for n in range(0, 20):
        for parts in range(1, 5):
            blocks = _parallel.split(n, parts)
            assert [i for s, e in blocks for i in range(s, e)] == list(range(n))
            sizes = [e - s for s, e in blocks]
            assert max(sizes, default=0) - min(sizes, default=0) <= 1


def test_parallel_for_runs_every_block_and_raises_worker_errors():
    seen = []
    lock = threading.Lock()

    def fn(s, e):
        with lock:
            seen.extend(range(s, e))

    _parallel.parallel_for(fn, 101)
    assert sorted(seen) == list(range(101))

    def bad(s, e):
        if s > 0 or ember.get_num_threads() == 1:
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _parallel.parallel_for(bad, 10)


@pytest.fixture
def three_threads():
    n = ember.get_num_threads()
    ember.set_num_threads(3)  # a team of two workers, whatever the machine
    yield
    ember.set_num_threads(n)


def _collect(n, calls=None):
    seen, lock = [], threading.Lock()

    def fn(s, e):
        with lock:
            seen.extend(range(s, e))
            if calls is not None:
                calls.append(threading.current_thread().name)

    return seen, fn


def test_parallel_for_uses_the_team_and_nests_serially(three_threads):
    names = []
    seen, fn = _collect(30, names)
    _parallel.parallel_for(fn, 30)
    assert sorted(seen) == list(range(30))
    assert sum(n.startswith("ember-intraop") for n in names) == 2  # two workers + the caller
    inner_seen, inner = _collect(12)

    def outer(s, e):  # a parallel_for inside a block runs on that block's thread alone
        _parallel.parallel_for(inner, 4)

    _parallel.parallel_for(outer, 3)
    assert sorted(inner_seen) == sorted(list(range(4)) * 3)


def test_parallel_for_from_two_user_threads(three_threads):
    # the second caller finds the team busy and runs its blocks itself; both get every block
    results, errors = [], []

    def user():
        try:
            for _ in range(50):
                seen, fn = _collect(40)
                _parallel.parallel_for(fn, 40)
                results.append(sorted(seen) == list(range(40)))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=user) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 100 and all(results)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_parallel_for_in_forked_child(three_threads):
    import os

    seen, fn = _collect(10)
    _parallel.parallel_for(fn, 10)  # the parent's team exists before the fork
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's worker threads are gone; a new team must serve
        ok = 0
        try:
            seen, fn = _collect(10)
            _parallel.parallel_for(fn, 10)
            ok = int(sorted(seen) == list(range(10)))
        finally:
            os.write(w, bytes([ok]))
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)
    assert got == b"\x01"


def test_workspace_reuses_and_grows():
    ws = _parallel.workspace(np)
    a = ws.get("t", (4, 5), np.float32)
    b = ws.get("t", (2, 3), np.float64)
    assert a.shape == (4, 5) and b.shape == (2, 3) and b.dtype == np.float64
    assert np.shares_memory(a, b)
    c = ws.get("t", (1000,), np.float32)
    assert c.shape == (1000,)


def test_one_thread_gives_same_conv():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((6, 3, 9, 9)).astype(np.float32), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    outs = []
    n = ember.get_num_threads()
    for threads in (n, 1):
        ember.set_num_threads(threads)
        try:
            y = ember.nn.functional.conv2d(x, w, padding=1)
            y.square().sum().backward()
            outs.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
            x.grad = w.grad = None
        finally:
            ember.set_num_threads(n)
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 4, 5), (64, 1, 50), (700, 300, 60), (40, 300, 900),
                                   (1, 784, 128)])
def test_matmul_blocks_match_numpy(shape, monkeypatch):
    # large products are split into row/column blocks on the pool, K=1 ones are outer
    # products, small ones go to BLAS whole: all give NumPy's result
    monkeypatch.setattr(_parallel, "SMALL_GEMM", 1 << 14)
    m, k, n = shape
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64, np.complex64):
        a = (rng.standard_normal((m, k)) + (1j if dt == np.complex64 else 0)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        for aa, bb in ((a, b), (np.asfortranarray(a), b[:, ::-1])):
            got = _parallel.matmul(aa, bb)
            assert got.dtype == np.result_type(aa, bb) and got.shape == (m, n)
            np.testing.assert_allclose(got, aa @ bb, rtol=2e-5, atol=1e-4)


def test_parked_workers_hold_no_job(three_threads):
    # a parked worker must not keep the last job's closure (and the op's arrays) alive
    import gc
    import weakref

    class Big:
        pass

    big = Big()
    ref = weakref.ref(big)

    def fn(s, e, big=big):
        pass

    _parallel.parallel_for(fn, 9)
    del fn, big
    gc.collect()
    assert ref() is None
