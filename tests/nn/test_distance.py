"""normalize / cosine_similarity / pairwise_distance / pdist / cdist and the distance modules,
against PyTorch (values, gradients, errors) and gradcheck."""

import math

import numpy as np
import pytest

import ember
from tests.oracle import Transposed, check, check_raises, needs_torch, rand, same_message, torch

RNG = np.random.default_rng(0)
INF = math.inf


def F(lib):
    return lib.nn.functional


def gradcheck(fn, *arrays, **kw):
    inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, inputs, **kw)


def gradgradcheck(fn, *arrays, **kw):
    inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradgradcheck(fn, inputs, **kw)


def _dup_rows(a):
    """Rows with exact repeats and shared components (zero distances/differences)."""
    a = a.copy()
    a[3] = a[1]
    a[4, 0] = a[0, 0]
    return a


# ---------------------------------------------------------------------------------------------
# normalize / cosine_similarity / pairwise_distance
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("p", [1, 2, 3.5, INF, 0.5])
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)])
def test_normalize(p, dim):
    x = rand(4, 5)
    x[1] = 0
    check(lambda lib, t: F(lib).normalize(t, p, dim), x)
    check(lambda lib, t: F(lib).normalize(t, p, dim, eps=0.5), rand(4, 5, dtype=np.float64))


@needs_torch
def test_normalize_out_and_shapes():
    check(lambda lib, t: F(lib).normalize(t, out=lib.empty(3, 4)), rand(3, 4), grad=False)
    check(lambda lib, t: F(lib).normalize(t, dim=0), rand(5))
    check(lambda lib, t: F(lib).normalize(t, dim=0), np.array(3.0, dtype=np.float32))
    check(lambda lib, t: F(lib).normalize(t), Transposed(rand(3, 4)))
    same_message(lambda lib, t: F(lib).normalize(t), rand(5))
    same_message(lambda lib, t: F(lib).normalize(t), rand(3, 4, dtype=np.int64))


@needs_torch
@pytest.mark.parametrize("s1,s2,dim", [((4, 5), (4, 5), 1), ((4, 5), (1, 5), 1),
                                       ((3, 1, 5), (1, 4, 5), -1), ((3,), (3,), 0),
                                       ((2, 3, 4), (2, 3, 4), 0)])
def test_cosine_similarity(s1, s2, dim):
    check(lambda lib, a, b: F(lib).cosine_similarity(a, b, dim), rand(*s1), rand(*s2))
    check(lambda lib, a, b: F(lib).cosine_similarity(a, b, dim, eps=0.1), rand(*s1),
          rand(*s2, dtype=np.float64))


@needs_torch
def test_cosine_similarity_eps_semantics():
    # a zero vector: its norm is clamped to eps in value, the gradient flows through the norm
    a, b = rand(3, 5, dtype=np.float64), rand(3, 5, dtype=np.float64)
    b[1] = 0
    check(lambda lib, x, y: F(lib).cosine_similarity(x, y), a, b, rtol=1e-9, grad_rtol=1e-7)
    small = rand(3, 5, dtype=np.float64) * 1e-3
    check(lambda lib, x, y: F(lib).cosine_similarity(x, y, eps=1e-2), small, b)
    check(lambda lib, x, y: F(lib).cosine_similarity(x, y), rand(3, 4, dtype=np.int64),
          rand(3, 4))
    check(lambda lib, x, y: F(lib).cosine_similarity(x, y), rand(3, 4, dtype=np.float16),
          rand(3, 4, dtype=np.float16))
    check(lambda lib, x, y: F(lib).cosine_similarity(x, y, 0), np.array(2.0, dtype=np.float32),
          np.array(-3.0, dtype=np.float32))


COS_ERRORS = [
    (lambda lib, a, b: F(lib).cosine_similarity(a.long(), b.long()), (3, 4), (3, 4)),
    (lambda lib, a, b: F(lib).cosine_similarity(a, b, eps=-1), (3, 4), (3, 4)),
    (lambda lib, a, b: F(lib).cosine_similarity(a, b), (2, 3), (3, 3)),
    (lambda lib, a, b: F(lib).cosine_similarity(a, b, dim=2), (2, 3), (2, 3)),
]


@needs_torch
@pytest.mark.parametrize("case", range(len(COS_ERRORS)))
def test_cosine_similarity_errors(case):
    fn, s1, s2 = COS_ERRORS[case]
    same_message(fn, rand(*s1), rand(*s2))


@needs_torch
@pytest.mark.parametrize("p", [2, 1, 0, 3, INF, -1, 0.5])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim):
    check(lambda lib, a, b: F(lib).pairwise_distance(a, b, p, keepdim=keepdim), rand(4, 5),
          rand(4, 5))
    check(lambda lib, a, b: F(lib).pairwise_distance(a, b, p, 1e-3, keepdim), rand(2, 3, 4),
          rand(4, dtype=np.float64))


@needs_torch
def test_pairwise_distance_shapes_dtypes():
    check(lambda lib, a, b: F(lib).pairwise_distance(a, b), rand(5), rand(5))
    check(lambda lib, a, b: F(lib).pairwise_distance(a, b), rand(5), rand(3, 5))
    check(lambda lib, a, b: F(lib).pairwise_distance(a, b), np.array(1.0, dtype=np.float32),
          np.array(3.0, dtype=np.float32))
    check(lambda lib, a, b: F(lib).pairwise_distance(a, b), rand(2, 3, dtype=np.int64),
          rand(2, 3, dtype=np.int64))
    same_message(lambda lib, a, b: F(lib).pairwise_distance(a, b), rand(2, 3), rand(3, 3))


# ---------------------------------------------------------------------------------------------
# pdist / cdist
# ---------------------------------------------------------------------------------------------

PS = [0, 0.5, 1, 1.5, 2, 3, INF]


@needs_torch
@pytest.mark.parametrize("p", PS)
def test_pdist(p):
    check(lambda lib, x: F(lib).pdist(x, p), _dup_rows(rand(6, 4, dtype=np.float64)))
    check(lambda lib, x: F(lib).pdist(x, p), rand(5, 3), atol=2e-5, grad_atol=2e-4)
    check(lambda lib, x: lib.pdist(x, p), Transposed(rand(4, 3)), atol=2e-5, grad_atol=2e-4)


@needs_torch
def test_pdist_edges():
    check(lambda lib, x: F(lib).pdist(x), rand(1, 4))
    # (PyTorch's own backward crashes on these empty inputs: compare values only)
    check(lambda lib, x: F(lib).pdist(x), rand(3, 0), grad=False)
    check(lambda lib, x: F(lib).pdist(x), rand(0, 3), grad=False)
    x = ember.tensor(rand(3, 0), requires_grad=True)
    F(ember).pdist(x).sum().backward()
    assert x.grad.shape == (3, 0)


PDIST_ERRORS = [
    (lambda lib, x: F(lib).pdist(x), (3,), np.float32),
    (lambda lib, x: F(lib).pdist(x), (3, 2), np.int64),
    (lambda lib, x: F(lib).pdist(x, -1), (3, 2), np.float32),
    (lambda lib, x: F(lib).pdist(x), (3, 2), np.float16),
]


@needs_torch
@pytest.mark.parametrize("case", range(len(PDIST_ERRORS)))
def test_pdist_errors(case):
    fn, shape, dt = PDIST_ERRORS[case]
    same_message(fn, rand(*shape, dtype=dt))


MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
         "donot_use_mm_for_euclid_dist"]


@needs_torch
@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("mode", MODES)
def test_cdist(p, mode):
    a = rand(2, 5, 4, dtype=np.float64)
    b = rand(6, 4, dtype=np.float64)
    b[0] = a[0, 1]
    b[1, 2] = a[1, 0, 2]
    check(lambda lib, x, y: lib.cdist(x, y, p, mode), a, b)
    check(lambda lib, x, y: lib.cdist(x, y, p, mode), rand(3, 4), rand(5, 4), atol=2e-5,
          grad_atol=2e-4)


@needs_torch
@pytest.mark.parametrize("p", [2, 1, INF])
def test_cdist_many_rows(p):
    # more than 25 rows: p = 2 switches to PyTorch's matrix-product formula (same rounding)
    check(lambda lib, x, y: lib.cdist(x, y, p), rand(30, 6), rand(4, 6), atol=3e-5,
          grad_atol=3e-4)
    check(lambda lib, x, y: lib.cdist(x, y, p), rand(3, 30, 6, dtype=np.float64),
          rand(1, 27, 6, dtype=np.float64), atol=1e-9)


@needs_torch
def test_cdist_broadcast_and_empty():
    check(lambda lib, x, y: lib.cdist(x, y), rand(2, 1, 3, 5), rand(4, 6, 5))
    check(lambda lib, x, y: lib.cdist(x, y, 1.0), rand(0, 5), rand(4, 5))
    check(lambda lib, x, y: lib.cdist(x, y), rand(3, 0), rand(4, 0))
    check(lambda lib, x, y: lib.cdist(x, y, compute_mode="use_mm_for_euclid_dist"),
          rand(3, 0), rand(4, 0))
    check(lambda lib, x, y: lib.cdist(x, y), Transposed(rand(3, 4)), rand(2, 4))


CDIST_ERRORS = [
    (lambda lib, x, y: lib.cdist(x, y), (5,), (4, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x, y), (4, 5), (5,), np.float32),
    (lambda lib, x, y: lib.cdist(x, y), (3, 4), (4, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x.long(), y), (3, 5), (4, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x, y.long()), (3, 5), (4, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x.double(), y), (3, 5), (4, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x, y, -1), (3, 5), (4, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x, y, compute_mode="foo"), (3, 5), (4, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x, y), (2, 3, 5), (4, 6, 5), np.float32),
    (lambda lib, x, y: lib.cdist(x, y), (3, 5), (4, 5), np.float16),
]


@needs_torch
@pytest.mark.parametrize("case", range(len(CDIST_ERRORS)))
def test_cdist_errors(case):
    fn, s1, s2, dt = CDIST_ERRORS[case]
    same_message(fn, rand(*s1, dtype=dt), rand(*s2, dtype=dt))


def test_distance_gradcheck():
    x = _dup_rows(RNG.standard_normal((5, 3)))
    for p in [1, 1.5, 2, 3, INF]:
        gradcheck(lambda t, p=p: F(ember).pdist(t, p), RNG.standard_normal((5, 3)))
        gradcheck(lambda a, b, p=p: ember.cdist(a, b, p), RNG.standard_normal((2, 3, 4)),
                  RNG.standard_normal((5, 4)))
    gradcheck(lambda a, b: ember.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
              RNG.standard_normal((3, 4)), RNG.standard_normal((5, 4)))
    gradcheck(lambda a, b: F(ember).cosine_similarity(a, b), RNG.standard_normal((3, 4)),
              RNG.standard_normal((1, 4)))
    gradcheck(lambda a, b: F(ember).pairwise_distance(a, b, 3), RNG.standard_normal((3, 4)),
              RNG.standard_normal((3, 4)))
    gradcheck(lambda a: F(ember).normalize(a, 1.5), RNG.standard_normal((3, 4)))
    gradgradcheck(lambda t: F(ember).pdist(t), x[:3] + np.arange(9).reshape(3, 3))
    gradgradcheck(lambda a, b: ember.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                  RNG.standard_normal((3, 4)), RNG.standard_normal((2, 4)))


def test_zero_distance_gradients_are_zero():
    x = ember.tensor(np.ones((3, 2)), requires_grad=True)
    F(ember).pdist(x).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.zeros((3, 2)))
    y = ember.tensor(np.ones((30, 2)), requires_grad=True)
    ember.cdist(y, y.detach()).sum().backward()
    assert np.array_equal(y.grad.numpy(), np.zeros((30, 2)))


# ---------------------------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name,kw", [("CosineSimilarity", {}), ("CosineSimilarity",
                                                                {"dim": 0, "eps": 0.5}),
                                      ("PairwiseDistance", {}),
                                      ("PairwiseDistance", {"p": 1, "eps": 0.1,
                                                            "keepdim": True})])
def test_distance_modules(name, kw):
    t = getattr(torch.nn, name)(**kw)
    e = getattr(ember.nn, name)(**kw)
    assert repr(e) == repr(t)
    check(lambda lib, a, b: (t if lib is torch else e)(a, b), rand(3, 4), rand(3, 4))
    if name == "PairwiseDistance":
        assert e.norm == t.norm and e.eps == t.eps and e.keepdim == t.keepdim


@needs_torch
def test_type_errors():
    check_raises(lambda lib, a: F(lib).pdist(a, "x"), rand(3, 2), exc=TypeError)
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.cdist([[1.0]], ember.ones(1, 1))
