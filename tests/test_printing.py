"""``repr``/``str`` of tensors must be identical to PyTorch's, over hand-picked edge cases and
many generated ones, and under every ``set_printoptions`` setting."""

import math

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch

pytestmark = needs_torch

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
          "bool", "complex64", "complex128"]


@pytest.fixture(autouse=True)
def _default_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def same_repr(fn):
    e, t = fn(ember), fn(torch)
    assert repr(e) == repr(t), f"\nember:\n{e!r}\ntorch:\n{t!r}"
    assert str(e) == str(t)


def _cast(a, dt):
    return np.asarray(_cast_values(a, dt))


def _cast_values(a, dt):
    if dt == "bool":
        return a != 0
    if dt in ("int64", "int32", "int16", "int8"):
        return np.round(np.clip(np.nan_to_num(a), -100, 100))
    if dt == "uint8":
        return np.round(np.clip(np.abs(np.nan_to_num(a)), 0, 255))
    if dt.startswith("complex"):
        return a + 1j * a[::-1] if a.ndim else a + 0.5j
    return a


def make(a, dt):
    return lambda lib: lib.tensor(_cast(np.asarray(a, dtype=np.float64), dt),
                                  dtype=getattr(lib, dt))


VALUES = [
    [1.0, 2.0, 3.0], [0.1, 2.5, -3.0], [1e-5, 1.0, 1e5], [1e10, 1.0], [-0.0, 0.0, 1.0],
    [math.inf, -math.inf, math.nan, 1.5], [math.nan], [math.inf, 1.0], [1e-10], [123456789.0],
    [0.0], [-0.0], [1e8, 1.0], [1e8], [1e9], [0.0001], [0.00012345], [1000.5, 0.5],
    [1.23456789], 3.5, -0.0, math.nan, 1e20, [100.0, 0.1], [65504.0, -1.0], [0.5, 1000.0],
    [0.999, 1001.0], [[1.0, -2.5], [300.0, 4.0]], [[[1.0]]], [-1.0, -10.0, -100.0],
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("vals", VALUES, ids=range(len(VALUES)))
def test_values(vals, dt):
    same_repr(make(vals, dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4), (1, 1, 1), (0,), (0, 3), (3, 0),
                                   (2, 0, 2), (), (1,), (5, 1), (1, 5), (2, 1, 2, 1)])
def test_shapes(shape, dt):
    rng = np.random.default_rng(hash(shape) % 1000)
    same_repr(make(rng.standard_normal(shape) * 10, dt))


@pytest.mark.parametrize("dt", ["float32", "int64", "bool", "complex64", "float16"])
@pytest.mark.parametrize("shape", [(999,), (1000,), (1001,), (1002,), (10000,), (40, 25),
                                   (40, 26), (1001, 1), (1, 1001), (10, 10, 11), (7, 7, 7, 7),
                                   (3, 400), (400, 3), (100, 100), (2, 1000), (7, 7, 21)])
def test_summarized(shape, dt):
    rng = np.random.default_rng(sum(shape))
    same_repr(make(rng.standard_normal(shape) * 100, dt))


@pytest.mark.parametrize("seed", range(120))
def test_random_magnitudes(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 6, size=rng.integers(1, 4)))
    a = rng.standard_normal(shape) * 10.0 ** int(rng.integers(-12, 12))
    if rng.random() < 0.3:
        a = np.round(a)
    if rng.random() < 0.15:
        a.flat[0] = np.nan
    if rng.random() < 0.15:
        a.flat[-1] = -np.inf
    if rng.random() < 0.1:
        a.flat[int(rng.integers(a.size))] = 0.0
    same_repr(make(a, ["float32", "float64", "float16", "complex64", "complex128",
                       "bfloat16"][seed % 6]))


OPTIONS = [
    dict(precision=2), dict(precision=8), dict(precision=0), dict(threshold=5),
    dict(threshold=0), dict(edgeitems=1, threshold=10), dict(edgeitems=0, threshold=10),
    dict(linewidth=40), dict(linewidth=200), dict(linewidth=10), dict(sci_mode=True),
    dict(sci_mode=False), dict(profile="short"), dict(profile="full"), dict(profile="default"),
    dict(profile="short", precision=6), dict(precision=3, sci_mode=True, linewidth=50),
]


@pytest.mark.parametrize("opts", OPTIONS, ids=[str(o) for o in OPTIONS])
@pytest.mark.parametrize("dt", ["float32", "float64", "int64", "complex64"])
@pytest.mark.parametrize("shape,scale", [((5,), 1e-3), ((3, 4), 1.0), ((2, 3, 4), 1e3),
                                         ((30,), 10.0), ((12, 12), 1e-6), ((1100,), 1.0),
                                         ((40, 40), 1e5)])
def test_printoptions(opts, dt, shape, scale):
    rng = np.random.default_rng(len(shape) * 7 + shape[0])
    a = rng.standard_normal(shape) * scale
    ember.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    same_repr(make(a, dt))


def test_get_printoptions_and_context():
    ember.set_printoptions(precision=3, linewidth=60)
    assert ember._tensor_str.get_printoptions() == dict(
        precision=3, threshold=1000, edgeitems=3, linewidth=60, sci_mode=None)
    ember.set_printoptions(profile="default")
    with ember._tensor_str.printoptions(precision=1):
        assert repr(ember.tensor([1.2345])) == "tensor([1.2])"
    assert repr(ember.tensor([1.2345])) == "tensor([1.2345])"
    ember.set_printoptions(sci_mode=True)
    ember.set_printoptions(precision=4)  # sci_mode resets to None, as in PyTorch
    assert ember._tensor_str.get_printoptions()["sci_mode"] is None


AUTOGRAD = [
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) + 2,
    lambda lib: (lib.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).exp(),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True) * 2,
    lambda lib: lib.arange(100.0).reshape(4, 25).requires_grad_(),
    lambda lib: lib.arange(100.0, dtype=lib.float64).reshape(4, 25).requires_grad_() * 1,
    lambda lib: lib.zeros(0, 3, dtype=lib.float64, requires_grad=True),
    lambda lib: lib.tensor(3.0, requires_grad=True) * 1,
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).detach(),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).clone(),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True)[0],
    lambda lib: lib.arange(1200.0).requires_grad_() * 3,
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).to(lib.float64),
]


@pytest.mark.parametrize("fn", AUTOGRAD)
def test_autograd_suffixes(fn):
    same_repr(fn)


EDGE = [
    lambda lib: lib.zeros(0, dtype=lib.int32),
    lambda lib: lib.zeros(2, 0, dtype=lib.int64),
    lambda lib: lib.zeros(0),
    lambda lib: lib.zeros(0, dtype=lib.bool),
    lambda lib: lib.zeros(0, 2, 0, dtype=lib.complex64),
    lambda lib: lib.tensor(5, dtype=lib.int16),
    lambda lib: lib.tensor(True),
    lambda lib: lib.tensor([-0.0, 0.0]),
    lambda lib: lib.tensor([1 + 0j, -0 - 0j, 1e-5j, complex(math.nan, 1),
                            complex(math.inf, -1)]),
    lambda lib: lib.tensor([0.0001, 0.001]),
    lambda lib: lib.tensor([1.5], dtype=lib.bfloat16),
    lambda lib: lib.tensor([70000.0], dtype=lib.float32).half(),
    lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]]).t(),
    lambda lib: lib.arange(12.0).reshape(3, 4)[:, ::2],
    lambda lib: lib.ones(10, 10, 10, 2),
    lambda lib: lib.arange(1000),
    lambda lib: lib.arange(1001),
    lambda lib: lib.ones(1001, 1),
    lambda lib: lib.ones(1, 1001) * 1.5,
    lambda lib: lib.tensor([2 ** 62, -1]),
    lambda lib: lib.tensor([255, 0], dtype=lib.uint8),
    lambda lib: lib.tensor([-128, 127], dtype=lib.int8),
    lambda lib: lib.full((3,), math.nan),
    lambda lib: lib.full((3,), math.inf, dtype=lib.float64),
    lambda lib: lib.tensor([1e-300, 1e300], dtype=lib.float64),
    lambda lib: lib.tensor([1.0, 1e-20]),
    lambda lib: lib.tensor([12345678.0, 0.5]),
    lambda lib: lib.eye(3, dtype=lib.bool),
    lambda lib: lib.tensor([[1 + 2j, 3 - 4j], [-5.5j, 6]], dtype=lib.complex128),
]


@pytest.mark.parametrize("fn", EDGE)
def test_edge_cases(fn):
    same_repr(fn)


def test_default_dtype_float64():
    for lib in (ember, torch):
        lib.set_default_dtype(lib.float64)
    try:
        for fn in [lambda lib: lib.tensor([1.5, 2]), lambda lib: lib.tensor([1.5],
                                                                            dtype=lib.float32),
                   lambda lib: lib.tensor([1j]), lambda lib: lib.tensor([1j], dtype=lib.complex64),
                   lambda lib: lib.zeros(0, dtype=lib.float32), lambda lib: lib.zeros(0),
                   lambda lib: lib.zeros(2, 0), lambda lib: lib.tensor(2.5)]:
            same_repr(fn)
    finally:
        for lib in (ember, torch):
            lib.set_default_dtype(lib.float32)


def test_suffix_wrapping_at_linewidth():
    for n in range(1, 14):
        same_repr(lambda lib, n=n: lib.arange(float(n), dtype=lib.float64).requires_grad_())
        same_repr(lambda lib, n=n: lib.arange(n, dtype=lib.int16) * 1000)
    for lw in (30, 45, 60):
        ember.set_printoptions(linewidth=lw)
        torch.set_printoptions(linewidth=lw)
        same_repr(lambda lib: lib.arange(6.0, dtype=lib.float64).requires_grad_() * 1)
        same_repr(lambda lib: lib.ones(3, 3, dtype=lib.int8))


def test_edgeitems_zero_adds_size():
    ember.set_printoptions(edgeitems=0, threshold=2)
    torch.set_printoptions(edgeitems=0, threshold=2)
    same_repr(lambda lib: lib.arange(10.0).reshape(2, 5))
    same_repr(lambda lib: lib.arange(10))


def test_subclass_prefix():
    reprs = []
    for lib in (ember, torch):
        class MyTensor(lib.Tensor):
            pass

        reprs.append(repr(MyTensor([1.0, 2.0])))
    assert reprs[0] == reprs[1] == "MyTensor([1., 2.])"


class _HostedFake:
    """Stand-in for a CuPy array on cuda:0 that can be copied to the host (``get``)."""

    def __init__(self, a):
        self._a = np.asarray(a)
        self.shape, self.ndim, self.dtype, self.size = (self._a.shape, self._a.ndim,
                                                        self._a.dtype, self._a.size)
        self.device = type("Device", (), {"id": 0})()

    def get(self):
        return self._a


@pytest.mark.parametrize("arr,rg,expected", [
    (np.ones(2, np.float32), False, "tensor([1., 1.], device='cuda:0')"),
    (np.ones((0, 3), np.int32), False,
     "tensor([], device='cuda:0', size=(0, 3), dtype=torch.int32)"),
    (np.ones((), np.float64), True,
     "tensor(1., device='cuda:0', dtype=torch.float64, requires_grad=True)"),
    (np.arange(3), False, "tensor([0, 1, 2], device='cuda:0')"),
])
def test_cuda_device_suffix(arr, rg, expected):
    """PyTorch's format for CUDA tensors (checked without a GPU through a stand-in array)."""
    t = ember.Tensor._make(_HostedFake(arr))
    t._rg = rg
    assert repr(t) == expected
