"""Random sampling: shapes, dtypes, ranges, seeds and generators, distribution moments, PyTorch's
errors and autograd behaviour. Values are compared with PyTorch only where they are not random
(ember's streams differ from PyTorch's by design)."""

import copy
import math
import pickle
import tracemalloc
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import check_raises, needs_torch, same_message, torch

DEVICE = "cpu"


def _meta(t):
    return tuple(t.shape), str(t.dtype).replace("torch.", ""), bool(t.requires_grad)


def both_meta(fn):
    """Shape, dtype and requires_grad of fn(lib) agree between ember and PyTorch."""
    if torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")
    assert _meta(fn(ember)) == _meta(fn(torch))


# ---------------------------------------------------------------------------------------------
# factories: shapes and dtypes
# ---------------------------------------------------------------------------------------------

FACTORY_CASES = [
    lambda lib: lib.rand(2, 3),
    lambda lib: lib.rand((2, 3)),
    lambda lib: lib.rand([2, 3]),
    lambda lib: lib.rand(lib.Size([4])),
    lambda lib: lib.rand(()),
    lambda lib: lib.rand(size=(2, 1)),
    lambda lib: lib.rand(0, 3),
    lambda lib: lib.rand(2, dtype=lib.float64),
    lambda lib: lib.rand(2, dtype=lib.float16),
    lambda lib: lib.rand(2, dtype=lib.bfloat16),
    lambda lib: lib.rand(2, dtype=lib.complex64),
    lambda lib: lib.rand(2, requires_grad=True),
    lambda lib: lib.rand(lib.tensor(3), 2),
    lambda lib: lib.randn(3, 4),
    lambda lib: lib.randn(3, dtype=lib.complex128),
    lambda lib: lib.randn(2, 2, dtype=lib.float64, requires_grad=True),
    lambda lib: lib.randint(5, (3,)),
    lambda lib: lib.randint(2, 5, (3, 2)),
    lambda lib: lib.randint(5, size=(3,)),
    lambda lib: lib.randint(low=2, high=5, size=(3,)),
    lambda lib: lib.randint(high=5, size=(3,)),
    lambda lib: lib.randint(0, 2, (4,), dtype=lib.bool),
    lambda lib: lib.randint(0, 256, (4,), dtype=lib.uint8),
    lambda lib: lib.randint(3, (2,), dtype=lib.float16),
    lambda lib: lib.randint(3, (2,), dtype=lib.float32, requires_grad=True),
    lambda lib: lib.randint(-2 ** 63, 2 ** 63 - 1, (3,)),
    lambda lib: lib.randperm(5),
    lambda lib: lib.randperm(0),
    lambda lib: lib.randperm(5, dtype=lib.float32),
    lambda lib: lib.randperm(256, dtype=lib.uint8),
    lambda lib: lib.randperm(5, dtype=lib.float64, requires_grad=True),
    lambda lib: lib.rand_like(lib.zeros(2, 3, dtype=lib.float64)),
    lambda lib: lib.rand_like(lib.zeros(2), dtype=lib.float16),
    lambda lib: lib.rand_like(lib.zeros(2, requires_grad=True)),
    lambda lib: lib.randn_like(lib.zeros(4, 1)),
    lambda lib: lib.randn_like(lib.zeros(4, 1), requires_grad=True),
    lambda lib: lib.randint_like(lib.zeros(2), 5),
    lambda lib: lib.randint_like(lib.zeros(2), 2, 5),
    lambda lib: lib.randint_like(lib.zeros(2), high=5),
    lambda lib: lib.randint_like(lib.zeros(2, dtype=lib.int32), 5),
    lambda lib: lib.normal(0.0, 1.0, (2, 3)),
    lambda lib: lib.normal(0, 1, size=(2,)),
    lambda lib: lib.normal(mean=0.0, std=1.0, size=(3,)),
    lambda lib: lib.normal(0.0, 1.0, (2,), dtype=lib.float64, requires_grad=True),
    lambda lib: lib.normal(lib.zeros(3)),
    lambda lib: lib.normal(lib.zeros(3), 2.0),
    lambda lib: lib.normal(0.0, lib.ones(3, dtype=lib.float64)),
    lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(3)),
    lambda lib: lib.normal(lib.zeros(3), lib.ones(3, dtype=lib.float64)),
    lambda lib: lib.normal(lib.zeros(3, dtype=lib.float64), lib.ones(3)),
    lambda lib: lib.normal(lib.zeros(()), lib.ones(())),
    lambda lib: lib.normal(lib.zeros(0), 1.0),
    lambda lib: lib.normal(lib.zeros(3, requires_grad=True), 1.0),
    lambda lib: lib.normal(lib.zeros(3), lib.ones(3, requires_grad=True)),
    lambda lib: lib.bernoulli(lib.full((3,), 0.5)),
    lambda lib: lib.bernoulli(lib.full((3,), 0.5, dtype=lib.float64)),
    lambda lib: lib.bernoulli(lib.full((3,), 0.5), 0.2),
    lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.int64), 0.5),
    lambda lib: lib.bernoulli(lib.full((3,), 0.5, requires_grad=True)),
    lambda lib: lib.full((3,), 0.5).bernoulli(),
    lambda lib: lib.full((3,), 0.5).bernoulli(0.3),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.3, 0.5]), 2),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.3, 0.5]), 7, True),
    lambda lib: lib.multinomial(lib.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]), 2),
    lambda lib: lib.multinomial(lib.empty(0, 3), 1),
    lambda lib: lib.multinomial(lib.tensor([1.0, 2.0], dtype=lib.float64), 1),
    lambda lib: lib.tensor([1.0, 2.0]).multinomial(2),
    lambda lib: lib.poisson(lib.tensor([1.0, 2.0])),
    lambda lib: lib.poisson(lib.tensor([1.0, 2.0], dtype=lib.float16)),
    lambda lib: lib.poisson(lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)),
]


@needs_torch
@pytest.mark.parametrize("fn", FACTORY_CASES)
def test_factory_shape_dtype(fn):
    both_meta(fn)


@needs_torch
@pytest.mark.parametrize("method,args", [
    ("uniform_", ()), ("uniform_", (2, 3)), ("normal_", ()), ("normal_", (2.0, 3.0)),
    ("random_", ()), ("random_", (5,)), ("random_", (2, 5)), ("bernoulli_", ()),
    ("bernoulli_", (0.3,)), ("exponential_", ()), ("geometric_", (0.5,)), ("cauchy_", ()),
    ("log_normal_", ()), ("fill_", (2,)), ("zero_", ()),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_inplace_returns_self(method, args, dtype):
    for lib in (ember, torch):
        t = lib.empty(2, 3, dtype=getattr(lib, dtype))
        v = t._version
        r = getattr(t, method)(*args)
        assert r is t and t._version == v + 1 and t.dtype is getattr(lib, dtype)


def test_float32_drawn_without_float64_temporaries():
    n = 1 << 20
    ember.rand(16)  # warm up
    target = ember.empty(n)
    for fn in (lambda: ember.rand(n), lambda: ember.randn(n), lambda: ember.rand_like(target),
               lambda: ember.normal(0.0, 2.0, (n,)), lambda: target.uniform_(-1.0, 1.0),
               lambda: target.normal_(2.0, 3.0), lambda: target.exponential_(),
               lambda: target.log_normal_(), lambda: target.cauchy_()):
        tracemalloc.start()
        t = fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert t.dtype is ember.float32
        # one float32 array of 4 MiB (the result, or the sample written into the target); a
        # float64 temporary would need 8 MiB more
        assert peak < 4 * n + (1 << 20), peak


# ---------------------------------------------------------------------------------------------
# ranges
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_rand_in_unit_interval(dtype):
    x = ember.rand(20000, dtype=getattr(ember, dtype)).float().numpy()
    assert x.min() >= 0.0 and x.max() < 1.0
    assert len(np.unique(x)) > 100


def test_uniform_bounds_and_degenerate_range():
    x = ember.empty(10000).uniform_(-2.0, 3.0).numpy()
    assert x.min() >= -2.0 and x.max() < 3.0
    assert (ember.empty(5).uniform_(2, 2).numpy() == 2).all()
    c = ember.empty(1000, dtype=ember.complex64).uniform_(-1, 1).numpy()
    assert (np.abs(c.real) <= 1).all() and (np.abs(c.imag) <= 1).all()
    assert c.real.std() > 0.3 and c.imag.std() > 0.3


@pytest.mark.parametrize("dtype,lo,hi", [
    ("uint8", 0, 255), ("int8", 0, 127), ("int16", 0, 2 ** 15 - 1), ("int32", 0, 2 ** 31 - 1),
    ("int64", 0, 2 ** 63 - 1), ("bool", 0, 1), ("float16", 0, 2 ** 11), ("bfloat16", 0, 2 ** 8),
    ("float32", 0, 2 ** 24), ("float64", 0, 2 ** 53),
])
def test_random_default_range(dtype, lo, hi):
    t = ember.empty(4000, dtype=getattr(ember, dtype)).random_()
    vals = [int(v) for v in t.tolist()]
    assert min(vals) >= lo and max(vals) <= hi
    assert max(vals) > hi // 4  # the whole range is used


def test_random_forms():
    x = ember.empty(3000, dtype=ember.int64)
    assert set(x.random_(5).tolist()) == set(range(5))
    assert set(x.random_(-3, 2).tolist()) == set(range(-3, 2))
    assert set(x.random_(to=3).tolist()) == {0, 1, 2}
    big = x.random_(2 ** 62, None).numpy()
    assert big.min() >= 2 ** 62
    assert set(ember.empty(1000).random_(0, 4).tolist()) == {0.0, 1.0, 2.0, 3.0}


def test_randint_values():
    x = ember.randint(-3, 4, (5000,)).numpy()
    assert x.dtype == np.int64 and set(x.tolist()) == set(range(-3, 4))
    counts = np.bincount(x + 3)
    assert counts.min() > 600  # ~714 each
    b = ember.randint(0, 2, (100,), dtype=ember.bool).numpy()
    assert b.dtype == np.bool_ and b.any() and not b.all()


def test_randperm_is_a_permutation():
    for n, dt in [(1, ember.int64), (10, ember.int64), (1000, ember.int32), (300, ember.float32),
                  (256, ember.uint8)]:
        p = ember.randperm(n, dtype=dt)
        assert p.dtype is dt
        assert sorted(int(v) for v in p.tolist()) == list(range(n))
    assert ember.randperm(100).tolist() != list(range(100))


def test_geometric_is_positive_integral():
    g = ember.empty(5000).geometric_(0.3).numpy()
    assert (g >= 1).all() and (g == np.round(g)).all()
    gi = ember.empty(100, dtype=ember.int32).geometric_(0.9)
    assert gi.dtype is ember.int32 and (gi.numpy() >= 1).all()


def test_bernoulli_extremes_and_broadcast_p():
    assert ember.bernoulli(ember.zeros(100)).sum().item() == 0
    assert ember.bernoulli(ember.ones(100)).sum().item() == 100
    p = ember.tensor([0.0, 1.0])
    x = ember.empty(50, 2).bernoulli_(p).numpy()
    assert (x[:, 0] == 0).all() and (x[:, 1] == 1).all()
    xi = ember.zeros(100, dtype=ember.int64).bernoulli_(1.0)
    assert xi.dtype is ember.int64 and (xi.numpy() == 1).all()
    xb = ember.zeros(100, dtype=ember.bool).bernoulli_(0.5)
    assert xb.dtype is ember.bool and xb.numpy().any() and not xb.numpy().all()


def test_multinomial_respects_zero_weights():
    w = ember.tensor([[0.0, 1.0, 0.0, 3.0], [5.0, 0.0, 0.0, 0.0]])
    s = ember.multinomial(w, 500, replacement=True).numpy()
    assert set(s[0].tolist()) == {1, 3} and set(s[1].tolist()) == {0}
    s2 = ember.multinomial(w[0], 2).numpy()
    assert sorted(s2.tolist()) == [1, 3]
    # more samples than positive weights without replacement: zeros come last (as PyTorch)
    s3 = ember.multinomial(ember.tensor([0.2, 0.0, 0.0]), 2).tolist()
    assert s3[0] == 0 and s3[1] in (1, 2)
    # trailing zero weight never picked even when rounding pushes a draw to the end
    s4 = ember.multinomial(ember.tensor([1e-30, 1.0, 0.0]), 2000, True).numpy()
    assert set(s4.tolist()) <= {0, 1} and (s4 == 1).sum() > 1990


def test_multinomial_without_replacement_distinct_rows():
    w = ember.rand(50, 20) + 0.01
    s = ember.multinomial(w, 20).numpy()
    assert all(sorted(r) == list(range(20)) for r in s.tolist())
    s = ember.multinomial(w, 7).numpy()
    assert s.shape == (50, 7) and all(len(set(r)) == 7 for r in s.tolist())


# ---------------------------------------------------------------------------------------------
# reproducibility: seeds, generators, states
# ---------------------------------------------------------------------------------------------

SAMPLERS = [
    lambda g: ember.rand(5, generator=g),
    lambda g: ember.randn(5, dtype=ember.float64, generator=g),
    lambda g: ember.randint(0, 100, (5,), generator=g),
    lambda g: ember.randperm(10, generator=g),
    lambda g: ember.normal(0.0, 1.0, (5,), generator=g),
    lambda g: ember.normal(ember.zeros(5), ember.ones(5), generator=g),
    lambda g: ember.bernoulli(ember.full((20,), 0.5), generator=g),
    lambda g: ember.multinomial(ember.ones(10), 5, generator=g),
    lambda g: ember.multinomial(ember.ones(10), 5, True, generator=g),
    lambda g: ember.poisson(ember.full((5,), 3.0), generator=g),
    lambda g: ember.empty(5).uniform_(generator=g),
    lambda g: ember.empty(5).normal_(generator=g),
    lambda g: ember.empty(5).random_(generator=g),
    lambda g: ember.empty(5).bernoulli_(generator=g),
    lambda g: ember.empty(5).exponential_(generator=g),
    lambda g: ember.empty(5).geometric_(0.3, generator=g),
    lambda g: ember.empty(5).cauchy_(generator=g),
    lambda g: ember.empty(5).log_normal_(generator=g),
    lambda g: ember.rand_like(ember.zeros(5), generator=g),
    lambda g: ember.randint_like(ember.zeros(5), 10, generator=g),
]


@pytest.mark.parametrize("sample", SAMPLERS)
def test_same_seed_same_numbers(sample):
    g1 = ember.Generator().manual_seed(123)
    g2 = ember.Generator().manual_seed(123)
    a, b = sample(g1), sample(g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = sample(g1)  # the stream moves on
    g3 = ember.Generator().manual_seed(124)
    assert not (np.array_equal(a.numpy(), c.numpy()) and
                np.array_equal(a.numpy(), sample(g3).numpy()))
    ember.manual_seed(7)
    x = sample(None)
    ember.manual_seed(7)
    np.testing.assert_array_equal(x.numpy(), sample(None).numpy())


def test_manual_seed_returns_default_generator():
    g = ember.manual_seed(5)
    assert g is ember.default_generator and ember.initial_seed() == 5
    assert isinstance(g, ember.Generator) and g.device == ember.device("cpu")
    assert ember.random.default_generator is ember.default_generator


@needs_torch
@pytest.mark.parametrize("seed", [0, 1, 2 ** 64 - 1, -1, -2 ** 63, 2 ** 63, 12.7, "3"])
def test_seed_range_like_pytorch(seed):
    assert ember.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
    assert ember.Generator().manual_seed(int(seed)).initial_seed() == \
        torch.Generator().manual_seed(int(seed)).initial_seed()


@needs_torch
@pytest.mark.parametrize("seed", [2 ** 64, -2 ** 63 - 1])
def test_seed_overflow(seed):
    same_message(lambda lib: lib.manual_seed(seed))
    same_message(lambda lib: lib.Generator().manual_seed(seed))


def test_new_generator_has_pytorch_default_seed():
    assert ember.Generator().initial_seed() == 67280421310721
    assert ember.Generator("cpu").device == ember.device("cpu")
    assert str(ember.Generator("cpu:0").device) == "cpu"  # PyTorch drops the index


def test_seed_is_random_and_applied():
    s1 = ember.seed()
    assert ember.initial_seed() == s1
    x = ember.rand(3)
    ember.manual_seed(s1)
    np.testing.assert_array_equal(x.numpy(), ember.rand(3).numpy())
    assert ember.seed() != s1
    g = ember.Generator()
    assert g.seed() == g.initial_seed()


def test_get_set_state_round_trip():
    ember.manual_seed(3)
    ember.rand(10)
    st = ember.get_rng_state()
    assert st.dtype is ember.uint8 and st.ndim == 1
    a = ember.randn(8)
    ember.rand(100)
    ember.set_rng_state(st)
    np.testing.assert_array_equal(a.numpy(), ember.randn(8).numpy())
    g = ember.Generator().manual_seed(11)
    g.normal = None  # unrelated attribute does not matter
    s = g.get_state()
    x = ember.rand(4, generator=g)
    assert g.set_state(s) is g
    np.testing.assert_array_equal(x.numpy(), ember.rand(4, generator=g).numpy())
    assert g.initial_seed() == 11


def test_clone_state_pickle_deepcopy_generator():
    g = ember.Generator().manual_seed(9)
    ember.rand(3, generator=g)
    for h in (g.clone_state(), pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert h is not g
        np.testing.assert_array_equal(ember.rand(5, generator=h).numpy(),
                                      ember.rand(5, generator=g.clone_state()).numpy())


@needs_torch
def test_set_state_errors():
    same_message(lambda lib: lib.Generator().set_state([1]))
    check_raises(lambda lib: lib.Generator().set_state(lib.zeros(3)), match="ByteTensor")
    check_raises(lambda lib: lib.set_rng_state(lib.zeros(3)), match="ByteTensor")
    check_raises(lambda lib: lib.Generator().set_state(lib.zeros(3, dtype=lib.uint8)))
    g = ember.Generator()
    before = ember.rand(3, generator=g.clone_state())
    with pytest.raises(RuntimeError):
        g.set_state(ember.tensor(list(b'{"device": "cpu", "seed": 1, "state": 5}'),
                                 dtype=ember.uint8))
    np.testing.assert_array_equal(before.numpy(), ember.rand(3, generator=g).numpy())


def test_generator_argument_checks():
    with pytest.raises(TypeError):
        ember.rand(2, generator=5)
    with pytest.raises(RuntimeError, match="CUDA generator"):
        if not ember.cuda.is_available():
            ember.Generator("cuda")
        else:
            raise RuntimeError("CUDA generator test needs a machine without CUDA")


def test_fork_rng_restores_state():
    ember.manual_seed(1)
    with ember.random.fork_rng():
        ember.rand(10)
    a = ember.rand(3)
    ember.manual_seed(1)
    np.testing.assert_array_equal(a.numpy(), ember.rand(3).numpy())
    ember.manual_seed(1)
    with ember.random.fork_rng(enabled=False):
        ember.rand(10)
    assert not np.array_equal(a.numpy(), ember.rand(3).numpy())
    with ember.random.fork_rng(devices=[], device_type="cuda"):
        pass
    with pytest.raises(RuntimeError):
        with ember.random.fork_rng(device_type="xpu"):
            pass


def test_generators_are_independent_of_the_default():
    ember.manual_seed(0)
    a, b = ember.rand(5), ember.rand(5)
    ember.manual_seed(0)
    g = ember.Generator().manual_seed(0)
    ember.rand(5, generator=g)  # drawing from g leaves the default stream alone
    np.testing.assert_array_equal(a.numpy(), ember.rand(5).numpy())
    ember.rand(7, generator=g)
    np.testing.assert_array_equal(b.numpy(), ember.rand(5).numpy())


# ---------------------------------------------------------------------------------------------
# distributions: moments
# ---------------------------------------------------------------------------------------------

N = 200_000


def _mean_var(t):
    a = t.double().numpy()
    return a.mean(), a.var()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_uniform_and_normal_moments(dtype):
    d = getattr(ember, dtype)
    tol = 0.02 if dtype in ("float16", "bfloat16") else 0.01
    m, v = _mean_var(ember.rand(N, dtype=d))
    assert abs(m - 0.5) < tol and abs(v - 1 / 12) < tol
    m, v = _mean_var(ember.randn(N, dtype=d))
    assert abs(m) < tol and abs(v - 1) < 2 * tol
    m, v = _mean_var(ember.empty(N, dtype=d).normal_(3.0, 2.0))
    assert abs(m - 3) < 3 * tol and abs(v - 4) < 0.1
    m, v = _mean_var(ember.empty(N, dtype=d).uniform_(-1.0, 3.0))
    assert abs(m - 1) < 3 * tol and abs(v - 16 / 12) < 0.05


def test_complex_normal_has_unit_variance():
    z = ember.randn(N, dtype=ember.complex64).numpy()
    assert abs(np.mean(np.abs(z) ** 2) - 1) < 0.02
    assert abs(z.real.var() - 0.5) < 0.01 and abs(z.imag.var() - 0.5) < 0.01
    z = ember.empty(N, dtype=ember.complex128).normal_(5.0, 2.0).numpy()
    assert abs(z.real.mean() - 5) < 0.02 and abs(z.imag.mean() - 5) < 0.02
    assert abs(z.real.var() - 2) < 0.05
    u = ember.rand(N, dtype=ember.complex64).numpy()
    assert abs(u.real.mean() - 0.5) < 0.01 and abs(u.imag.mean() - 0.5) < 0.01


def test_normal_tensor_overloads_moments():
    mean = ember.tensor([[-5.0], [5.0]])
    std = ember.tensor([0.5, 1.0, 2.0])
    x = ember.normal(mean.expand(2, 3).repeat(1, 1).reshape(2, 3, 1).expand(2, 3, 20000),
                     std.reshape(1, 3, 1).expand(2, 3, 20000)).numpy()
    np.testing.assert_allclose(x.mean(-1), [[-5] * 3, [5] * 3], atol=0.05)
    np.testing.assert_allclose(x.std(-1), [[0.5, 1.0, 2.0]] * 2, rtol=0.03)
    y = ember.normal(ember.full((N,), 2.0), 3.0).numpy()
    assert abs(y.mean() - 2) < 0.03 and abs(y.std() - 3) < 0.03
    y = ember.normal(-1.0, ember.full((N,), 0.5)).numpy()
    assert abs(y.mean() + 1) < 0.01 and abs(y.std() - 0.5) < 0.01


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_other_continuous_moments(dtype):
    d = getattr(ember, dtype)
    e = ember.empty(N, dtype=d).exponential_(2.0).double().numpy()
    assert abs(e.mean() - 0.5) < 0.01 and abs(e.var() - 0.25) < 0.01 and e.min() >= 0
    ln = ember.empty(N, dtype=d).log_normal_(0.5, 0.25).double().numpy()
    assert abs(np.log(ln).mean() - 0.5) < 0.01 and abs(np.log(ln).std() - 0.25) < 0.01
    c = ember.empty(N, dtype=d).cauchy_(1.0, 2.0).double().numpy()
    assert abs(np.median(c) - 1) < 0.05
    q1, q3 = np.percentile(c, [25, 75])
    assert abs((q3 - q1) / 2 - 2) < 0.1  # half the interquartile range is sigma
    g = ember.empty(N, dtype=d).geometric_(0.25).double().numpy()
    assert abs(g.mean() - 4) < 0.05 and abs(g.var() - 12) < 0.5


def test_discrete_moments():
    p = ember.poisson(ember.full((N,), 4.5)).numpy()
    assert abs(p.mean() - 4.5) < 0.05 and abs(p.var() - 4.5) < 0.1
    big = ember.poisson(ember.tensor([1e18, 0.0], dtype=ember.float64)).numpy()
    assert abs(big[0] / 1e18 - 1) < 1e-6 and big[1] == 0
    b = ember.bernoulli(ember.full((N,), 0.3)).numpy()
    assert abs(b.mean() - 0.3) < 0.01
    b = ember.empty(N).bernoulli_(0.7).numpy()
    assert abs(b.mean() - 0.7) < 0.01
    r = ember.randint(0, 10, (N,)).double().numpy()
    assert abs(r.mean() - 4.5) < 0.05 and abs(r.var() - 8.25) < 0.1


def test_multinomial_frequencies():
    w = ember.tensor([[1.0, 2.0, 3.0, 4.0], [4.0, 0.0, 0.0, 1.0]])
    s = ember.multinomial(w, 40000, replacement=True).numpy()
    f0 = np.bincount(s[0], minlength=4) / 40000
    f1 = np.bincount(s[1], minlength=4) / 40000
    np.testing.assert_allclose(f0, [0.1, 0.2, 0.3, 0.4], atol=0.01)
    np.testing.assert_allclose(f1, [0.8, 0.0, 0.0, 0.2], atol=0.01)


def test_multinomial_without_replacement_is_sequential_drawing():
    # P(first=i, second=j) = p_i * p_j / (1 - p_i) for draws without replacement
    p = np.array([0.1, 0.2, 0.3, 0.4])
    w = ember.tensor(p, dtype=ember.float32).expand(40000, 4)
    s = ember.multinomial(w, 2).numpy()
    pairs = np.zeros((4, 4))
    np.add.at(pairs, (s[:, 0], s[:, 1]), 1)
    expected = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(pairs / 40000, expected, atol=0.01)


# ---------------------------------------------------------------------------------------------
# errors: PyTorch's exception types and messages
# ---------------------------------------------------------------------------------------------

ERRORS = [
    lambda lib: lib.rand(-1),
    lambda lib: lib.rand(2, -3),
    lambda lib: lib.rand(2.5),
    lambda lib: lib.rand(2, 2.5),
    lambda lib: lib.rand(None),
    lambda lib: lib.rand(size=3),
    lambda lib: lib.rand(2, dtype=lib.int64),
    lambda lib: lib.rand(2, dtype=lib.bool),
    lambda lib: lib.randn(2, dtype=lib.int32),
    lambda lib: lib.rand(2, dtype=lib.float32, out=lib.empty(2, dtype=lib.float64)),
    lambda lib: lib.rand(3, out=lib.empty(3, dtype=lib.int64)),
    lambda lib: lib.randint(5, 2, (3,)),
    lambda lib: lib.randint(5, 5, (3,)),
    lambda lib: lib.randint(0, (3,)),
    lambda lib: lib.randint(5, 3),
    lambda lib: lib.randint(0, 300, (3,), dtype=lib.uint8),
    lambda lib: lib.randint(-1, 3, (3,), dtype=lib.uint8),
    lambda lib: lib.randint(0, 3, (3,), dtype=lib.bool),
    lambda lib: lib.randint(0, 2 ** 63, (3,)),
    lambda lib: lib.randint(5, (3,), requires_grad=True),
    lambda lib: lib.randint(3, (2,), dtype=lib.complex64),
    lambda lib: lib.randint(0, 2 ** 30, (2,), dtype=lib.float16),
    lambda lib: lib.randint(2.5, 5.5, (3,)),
    lambda lib: lib.randperm(-1),
    lambda lib: lib.randperm(257, dtype=lib.uint8),
    lambda lib: lib.randperm(129, dtype=lib.int8),
    lambda lib: lib.randperm(5, dtype=lib.bool),
    lambda lib: lib.randperm(5, dtype=lib.complex64),
    lambda lib: lib.randperm(3000, dtype=lib.float16),
    lambda lib: lib.randperm(5, requires_grad=True),
    lambda lib: lib.rand_like([1.0]),
    lambda lib: lib.rand_like(lib.zeros(2, dtype=lib.int64)),
    lambda lib: lib.randn_like(lib.zeros(2, dtype=lib.int64)),
    lambda lib: lib.normal(0.0, -1.0, (2,)),
    lambda lib: lib.normal(0.0, 1.0, (2,), dtype=lib.int64),
    lambda lib: lib.normal(lib.zeros(3), -2.0),
    lambda lib: lib.normal(lib.zeros(3), float("nan")),
    lambda lib: lib.normal(0.0, -lib.ones(3)),
    lambda lib: lib.normal(lib.zeros(3), -lib.ones(3)),
    lambda lib: lib.normal(lib.zeros(2), lib.ones(3)),
    lambda lib: lib.normal(lib.zeros(3, dtype=lib.int64), 1.0),
    lambda lib: lib.normal(0.0, 1.0),
    lambda lib: lib.normal(lib.zeros(3), 1.0, (3,)),
    lambda lib: lib.bernoulli(lib.full((3,), 1.5)),
    lambda lib: lib.bernoulli(lib.full((3,), -0.5)),
    lambda lib: lib.bernoulli(lib.full((3,), float("nan"))),
    lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.int64)),
    lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.complex64)),
    lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.complex64), 0.5),
    lambda lib: lib.bernoulli(lib.full((3,), 0.5), 1.5),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.3, 0.5]), 4),
    lambda lib: lib.multinomial(lib.tensor([0.0, 0.0, 0.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([0.0, 0.0, 0.0]), 1, True),
    lambda lib: lib.multinomial(lib.tensor([-1.0, 2.0, 0.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([float("inf"), 2.0, 0.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([float("nan"), 2.0, 0.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.3, 0.5]), 0),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.3, 0.5]), -1),
    lambda lib: lib.multinomial(lib.tensor(0.5), 1),
    lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    lambda lib: lib.multinomial(lib.ones(3, dtype=lib.complex64), 1),
    lambda lib: lib.multinomial(lib.empty(0), 1),
    lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 1, out=lib.empty(1)),
    lambda lib: lib.multinomial(lib.ones(2 ** 24 + 1), 1),
    lambda lib: lib.poisson(lib.tensor([-1.0, 2.0])),
    lambda lib: lib.poisson(lib.tensor([float("nan"), 2.0])),
    lambda lib: lib.poisson(lib.tensor([1, 2])),
    lambda lib: lib.poisson(lib.ones(3, dtype=lib.complex64)),
    lambda lib: lib.empty(3).uniform_(3, 2),
    lambda lib: lib.empty(3, dtype=lib.int64).uniform_(),
    lambda lib: lib.empty(3, dtype=lib.float64).uniform_(0, 1e309),
    lambda lib: lib.empty(3, dtype=lib.float32).uniform_(-3.4e38, 3.4e38),
    lambda lib: lib.empty(3, dtype=lib.float16).uniform_(-65504, 65504),
    lambda lib: lib.empty(3, dtype=lib.float32).uniform_(0, 1e39),
    lambda lib: lib.empty(3, dtype=lib.float16).uniform_(0, 70000),
    lambda lib: lib.empty(3).uniform_(float("nan"), 1),
    lambda lib: lib.empty(3).uniform_(0, float("nan")),
    lambda lib: lib.empty(3).uniform_(float("-inf"), 1),
    lambda lib: lib.empty(3).normal_(2, -3),
    lambda lib: lib.empty(3).normal_(0, float("nan")),
    lambda lib: lib.empty(3, dtype=lib.int64).normal_(),
    lambda lib: lib.empty(3).random_(5, 2),
    lambda lib: lib.empty(3).random_(0),
    lambda lib: lib.empty(3, dtype=lib.uint8).random_(300),
    lambda lib: lib.empty(3, dtype=lib.uint8).random_(-1, 3),
    lambda lib: lib.empty(3, dtype=lib.int8).random_(-2 ** 62, 3),
    lambda lib: lib.empty(3, dtype=lib.int16).random_(0, 2 ** 62),
    lambda lib: lib.empty(3, dtype=lib.int32).random_(0, 2 ** 62),
    lambda lib: lib.empty(3, dtype=lib.float16).random_(0, 2 ** 20),
    lambda lib: lib.empty(3, dtype=lib.bool).random_(3),
    lambda lib: lib.empty(3, dtype=lib.complex64).random_(),
    lambda lib: lib.empty(3, dtype=lib.complex64).random_(0, 3),
    lambda lib: lib.empty(3).exponential_(0.0),
    lambda lib: lib.empty(3).exponential_(-1.0),
    lambda lib: lib.empty(3).exponential_(float("nan")),
    lambda lib: lib.empty(3, dtype=lib.int64).exponential_(),
    lambda lib: lib.empty(3, dtype=lib.complex64).exponential_(),
    lambda lib: lib.empty(3).geometric_(0),
    lambda lib: lib.empty(3).geometric_(1),
    lambda lib: lib.empty(3).geometric_(1.5),
    lambda lib: lib.empty(3).geometric_(float("nan")),
    lambda lib: lib.empty(3, dtype=lib.bool).geometric_(0.5),
    lambda lib: lib.empty(3, dtype=lib.complex64).geometric_(0.3),
    lambda lib: lib.empty(3).cauchy_(1.0, -2.0),
    lambda lib: lib.empty(3, dtype=lib.int64).cauchy_(),
    lambda lib: lib.empty(3, dtype=lib.complex64).cauchy_(),
    lambda lib: lib.empty(3).log_normal_(1.0, -2.0),
    lambda lib: lib.empty(3).log_normal_(1.0, 0.0),
    lambda lib: lib.empty(3, dtype=lib.int64).log_normal_(),
    lambda lib: lib.empty(3, dtype=lib.complex64).log_normal_(),
    lambda lib: lib.empty(3).bernoulli_(1.5),
    lambda lib: lib.empty(3).bernoulli_(float("nan")),
    lambda lib: lib.empty(3).bernoulli_(lib.full((3,), 1.5)),
    lambda lib: lib.empty(3).bernoulli_(lib.ones(2)),
    lambda lib: lib.empty(3, dtype=lib.complex64).bernoulli_(),
    lambda lib: lib.empty(3).fill_(lib.tensor([2.0])),
    lambda lib: lib.empty(3, dtype=lib.uint8).fill_(300),
    lambda lib: lib.empty(3, dtype=lib.uint8).fill_(-256),
    lambda lib: lib.empty(3, dtype=lib.int8).fill_(-129),
    lambda lib: lib.empty(3, dtype=lib.int16).fill_(70000),
    lambda lib: lib.empty(3, dtype=lib.int32).fill_(2 ** 40),
    lambda lib: lib.empty(3, dtype=lib.int64).fill_(1e39),
    lambda lib: lib.empty(3, dtype=lib.int32).fill_(float("nan")),
    lambda lib: lib.empty(3, dtype=lib.int32).fill_(float("inf")),
    lambda lib: lib.empty(3, dtype=lib.float32).fill_(1e39),
    lambda lib: lib.empty(3, dtype=lib.float16).fill_(70000.0),
    lambda lib: lib.empty(3, dtype=lib.bfloat16).fill_(1e39),
    lambda lib: lib.empty(3, dtype=lib.float32).fill_(1 + 2j),
    lambda lib: lib.empty(3).fill_(2 ** 70),
    lambda lib: lib.zeros(3, requires_grad=True).uniform_(),
    lambda lib: lib.zeros(3, requires_grad=True).normal_(),
    lambda lib: lib.zeros(3, requires_grad=True).fill_(1.0),
    lambda lib: lib.zeros(3, requires_grad=True).zero_(),
    lambda lib: lib.zeros(3, requires_grad=True).bernoulli_(0.5),
    lambda lib: lib.zeros(3, requires_grad=True)[1:].random_(),
]

# PyTorch's argument-parser messages list every overload; ember says the gist
TYPE_ONLY = {22, 41, 42}


@needs_torch
@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_pytorch(i):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if i in TYPE_ONLY:
            check_raises(ERRORS[i])
        else:
            same_message(ERRORS[i])


@needs_torch
def test_errors_leave_rng_state_alone():
    st = ember.get_rng_state()
    for fn in ERRORS:
        try:
            fn(ember)
        except Exception:
            pass
    ember.set_rng_state(st)
    a = ember.rand(3)
    ember.set_rng_state(st)
    for fn in ERRORS:
        try:
            fn(ember)
        except Exception:
            pass
    np.testing.assert_array_equal(a.numpy(), ember.rand(3).numpy())


@needs_torch
def test_float_range_warnings():
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
        ember.empty(3).random_(0, 2 ** 30)
    with pytest.warns(UserWarning, match=r"from is out of bounds \[-\(2\^8\), 2\^8\]"):
        ember.empty(3, dtype=ember.bfloat16).random_(-2 ** 10, 3)


# ---------------------------------------------------------------------------------------------
# out=, fill_/zero_ values
# ---------------------------------------------------------------------------------------------

def test_out_arguments():
    o = ember.empty(2, dtype=ember.float64)
    r = ember.rand(3, out=o)
    assert r is o and o.shape == (3,) and o.dtype is ember.float64
    o = ember.empty(3, dtype=ember.float64)
    assert ember.randint(3, (3,), out=o) is o and set(o.tolist()) <= {0.0, 1.0, 2.0}
    o = ember.empty(0, dtype=ember.int32)
    assert sorted(ember.randperm(4, out=o).tolist()) == [0, 1, 2, 3] and o.dtype is ember.int32
    o = ember.empty(0)
    assert ember.normal(ember.zeros(2, 1), ember.ones(3), out=o).shape == (2, 3)
    o = ember.empty(3, dtype=ember.int64)
    assert ember.bernoulli(ember.full((3,), 1.0), out=o).tolist() == [1, 1, 1]
    o = ember.empty(2, dtype=ember.int64)
    assert ember.multinomial(ember.tensor([1.0, 0.0]), 2, True, out=o).tolist() == [0, 0]
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        ember.rand(3, out=ember.empty(3, requires_grad=True))


@needs_torch
@pytest.mark.parametrize("dtype,value", [
    ("float32", 2), ("float32", 2.5), ("int64", 2.7), ("int64", -2.7), ("uint8", -1),
    ("uint8", -255), ("bool", 2), ("bool", 0.5), ("bool", 0), ("int32", True),
    ("float16", float("inf")), ("float16", 65504.0), ("bfloat16", 1e30), ("float64", 1e300),
    ("complex64", 1 + 2j),
    ("int8", -128), ("float32", -0.0),
])
def test_fill_values(dtype, value):
    e = ember.empty(3, dtype=getattr(ember, dtype)).fill_(value)
    t = torch.empty(3, dtype=getattr(torch, dtype)).fill_(value)
    assert e.tolist() == t.tolist()
    e = ember.empty(2, 2, dtype=getattr(ember, dtype)).t().fill_(ember.tensor(value))
    t = torch.empty(2, 2, dtype=getattr(torch, dtype)).t().fill_(torch.tensor(value))
    assert e.tolist() == t.tolist()


def test_fill_zero_through_views():
    x = ember.zeros(3, 4)
    x[:, 1].fill_(5.0)
    x[0].zero_()
    assert x.tolist() == [[0, 0, 0, 0], [0, 5, 0, 0], [0, 5, 0, 0]]
    x.t()[2].uniform_(7.0, 8.0)
    assert (x.numpy()[:, 2] >= 7).all()
    s = ember.zeros(())
    assert s.fill_(3).item() == 3 and s.zero_().item() == 0
    assert ember.zeros(()).normal_().ndim == 0


# ---------------------------------------------------------------------------------------------
# autograd
# ---------------------------------------------------------------------------------------------

INPLACE_GRAD = [
    "uniform_()", "normal_()", "random_()", "random_(5)", "random_(1, 5)", "bernoulli_()",
    "bernoulli_(0.5)", "bernoulli_(lib.ones(3) * 0.5)", "exponential_()", "geometric_(0.5)",
    "cauchy_()", "log_normal_()", "fill_(2)", "fill_(lib.tensor(2.))", "zero_()",
]


@needs_torch
@pytest.mark.parametrize("code", INPLACE_GRAD)
def test_inplace_samplers_record_zero_gradient(code):
    names, grads = [], []
    for lib in (torch, ember):
        a = lib.ones(3, requires_grad=True)
        x = a * 2
        y = eval("x." + code, {"x": x, "lib": lib})
        assert y is x and x._version == 1
        names.append(type(x.grad_fn).__name__ if lib is torch else x.grad_fn.name())
        (x * lib.arange(3.0)).sum().backward()
        grads.append(a.grad.tolist())
    assert names[0] == names[1]
    assert grads[0] == grads[1] == [0.0, 0.0, 0.0]


@needs_torch
def test_fill_with_tensor_value_gradient():
    for lib in (torch, ember):
        a = lib.ones(3, requires_grad=True)
        v = lib.tensor(2.0, requires_grad=True)
        x = a * 2
        x.fill_(v)
        (x * lib.arange(3.0)).sum().backward()
        assert v.grad.item() == 3.0 and a.grad.tolist() == [0.0, 0.0, 0.0]


def test_inplace_sampler_on_view_of_non_leaf():
    a = ember.ones(4, requires_grad=True)
    x = a * 2
    x[1:].uniform_()
    assert x.grad_fn.name() == "torch::autograd::CopySlices"  # as PyTorch names it
    x.sum().backward()
    assert a.grad.tolist() == [2.0, 0.0, 0.0, 0.0]


@needs_torch
@pytest.mark.parametrize("code,name", [
    ("lib.normal(m, 1.)", "NormalBackward1"), ("lib.normal(0., s)", "NormalBackward2"),
    ("lib.normal(m, s)", "NormalBackward3"), ("lib.bernoulli(p)", "BernoulliBackward0"),
    ("lib.poisson(s)", "PoissonBackward0"),
])
def test_sampling_ops_have_zero_gradients(code, name):
    for lib in (torch, ember):
        m = lib.zeros(3, requires_grad=True)
        s = lib.ones(3, requires_grad=True)
        p = lib.full((3,), 0.5, requires_grad=True)
        y = eval(code, {"lib": lib, "m": m, "s": s, "p": p})
        got = type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name()
        assert got == name
        y.sum().backward()
        for leaf in (m, s, p):
            assert leaf.grad is None or leaf.grad.tolist() == [0.0, 0.0, 0.0]


def test_normal_broadcast_gradient_shapes():
    m = ember.zeros(2, 1, requires_grad=True)
    s = ember.ones(3, requires_grad=True)
    ember.normal(m, s).sum().backward()
    assert m.grad.shape == (2, 1) and s.grad.shape == (3,)


@needs_torch
def test_bernoulli_scalar_p_has_no_derivative():
    for lib in (torch, ember):
        p = lib.full((3,), 0.5, requires_grad=True)
        y = lib.bernoulli(p, 0.3)
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::bernoulli is not "
                                               "implemented"):
            y.sum().backward()


def test_samplers_do_not_track_without_grad():
    with ember.no_grad():
        a = ember.ones(3, requires_grad=True)
        x = a * 1
        assert x.uniform_().grad_fn is None
        assert ember.normal(a, 1.0).grad_fn is None
    assert not ember.rand(3).requires_grad
    assert ember.multinomial(ember.ones(3, requires_grad=True), 2).grad_fn is None


def test_gradcheck_through_sampled_constant():
    # a sampled mask is a constant for gradients: d/dx (x * mask) = mask
    x = ember.rand(5, dtype=ember.float64, requires_grad=True)
    g = ember.Generator().manual_seed(0)
    mask = ember.bernoulli(ember.full((5,), 0.5, dtype=ember.float64), generator=g)
    assert ember.autograd.gradcheck(lambda t: t * mask, (x,))


# ---------------------------------------------------------------------------------------------
# dtype-specific details
# ---------------------------------------------------------------------------------------------

def test_low_precision_uniform_is_on_the_dtype_grid():
    h = ember.rand(5000, dtype=ember.float16).float().numpy() * 2 ** 11
    assert (h == np.round(h)).all()
    b = ember.rand(5000, dtype=ember.bfloat16).float().numpy() * 2 ** 8
    assert (b == np.round(b)).all()


def test_randint_large_int64_range():
    x = ember.randint(-2 ** 63, 2 ** 63 - 1, (1000,)).numpy()
    assert x.min() < -2 ** 61 and x.max() > 2 ** 61


def test_poisson_infinite_rate():
    p = ember.poisson(ember.tensor([math.inf, 0.0]))
    assert p.tolist()[0] == math.inf and p.tolist()[1] == 0.0
