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
