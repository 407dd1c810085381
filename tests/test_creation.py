"""Tensor creation and conversion against PyTorch: ``tensor``/``as_tensor``/``asarray``/
``from_numpy``, legacy constructors, factories, ranges (exact values), ``new_*``, ``to``,
``type``, ``clone``/``contiguous`` layouts and ``copy_``."""

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import check, check_raises, needs_torch, rand, same_message, to_numpy, torch

pytestmark = needs_torch


def _same(e, t, exact=True):
    """ember tensor ``e`` equals torch tensor ``t``: shape, dtype, requires_grad, values (bit
    for bit unless ``exact`` is False)."""
    assert isinstance(e, ember.Tensor), type(e)
    assert tuple(e.shape) == tuple(t.shape), (tuple(e.shape), tuple(t.shape))
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    assert e.requires_grad == t.requires_grad
    ea, ta = to_numpy(e), to_numpy(t)
    if exact:
        np.testing.assert_array_equal(ea, ta)
    else:
        np.testing.assert_allclose(ea, ta, rtol=1e-6, atol=0)


def both(fn, exact=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(fn(ember), fn(torch), exact)


# ---------------------------------------------------------------------------------------------
# tensor(): dtype inference and conversions
# ---------------------------------------------------------------------------------------------

TENSOR_CASES = [
    lambda lib: lib.tensor([1, 2, 3]),
    lambda lib: lib.tensor([1.0, 2]),
    lambda lib: lib.tensor([[1, 2], [3, 4]]),
    lambda lib: lib.tensor([True, 1]),
    lambda lib: lib.tensor([True, 1.5]),
    lambda lib: lib.tensor([True, False]),
    lambda lib: lib.tensor([1, 2 + 1j]),
    lambda lib: lib.tensor(3),
    lambda lib: lib.tensor(3.5),
    lambda lib: lib.tensor(True),
    lambda lib: lib.tensor(1 + 2j),
    lambda lib: lib.tensor(-2 ** 63),
    lambda lib: lib.tensor(1e400),
    lambda lib: lib.tensor([]),
    lambda lib: lib.tensor([[]]),
    lambda lib: lib.tensor([[], []]),
    lambda lib: lib.tensor(()),
    lambda lib: lib.tensor((1, 2)),
    lambda lib: lib.tensor(range(3)),
    lambda lib: lib.tensor([[1, 2], (3, 4)]),
    lambda lib: lib.tensor(np.float64(1.5)),
    lambda lib: lib.tensor(np.float32(1.5)),
    lambda lib: lib.tensor(np.int32(7)),
    lambda lib: lib.tensor(np.bool_(True)),
    lambda lib: lib.tensor([np.float64(1.5), 2.0]),
    lambda lib: lib.tensor([np.float32(1.5), 2.0]),
    lambda lib: lib.tensor([np.int32(1), 2]),
    lambda lib: lib.tensor([np.float16(1.5), 2]),
    lambda lib: lib.tensor(np.array([1, 2], dtype=np.int32)),
    lambda lib: lib.tensor(np.array([[1.5, 2]], dtype=np.float16)),
    lambda lib: lib.tensor(np.array(5)),
    lambda lib: lib.tensor(np.zeros((2, 3))[:, ::2]),
    lambda lib: lib.tensor([np.array([1, 2]), np.array([3, 4])]),
    lambda lib: lib.tensor([lib.tensor(1.0), lib.tensor(2.0)]),
    lambda lib: lib.tensor([lib.tensor(1), 2.5]),
    lambda lib: lib.tensor([lib.tensor(1.5, dtype=lib.float64), 2]),
    lambda lib: lib.tensor([lib.tensor([1.5])]),
    lambda lib: lib.tensor([[1], [lib.tensor(2)]]),
    lambda lib: lib.tensor(bytearray(b"ab")),
    lambda lib: lib.tensor([1, 2], dtype=lib.uint8),
    lambda lib: lib.tensor([-1], dtype=lib.uint8),
    lambda lib: lib.tensor([-255], dtype=lib.uint8),
    lambda lib: lib.tensor([1.5, -1.5], dtype=lib.int64),
    lambda lib: lib.tensor(3.5, dtype=lib.int64),
    lambda lib: lib.tensor([True, 2], dtype=lib.bool),
    lambda lib: lib.tensor([0.5], dtype=lib.bool),
    lambda lib: lib.tensor(3, dtype=lib.bool),
    lambda lib: lib.tensor([1e39], dtype=lib.float32),
    lambda lib: lib.tensor([2 ** 63 - 1], dtype=lib.float32),
    lambda lib: lib.tensor([2 ** 40], dtype=lib.float16),
    lambda lib: lib.tensor(1.5, dtype=lib.bfloat16),
    lambda lib: lib.tensor([[1, 2], [3, 4]], dtype=lib.complex64),
    lambda lib: lib.tensor(np.array([300]), dtype=lib.uint8),
    lambda lib: lib.tensor(np.array([1.5 + 1j]), dtype=lib.float32),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True),
    lambda lib: lib.tensor(lib.tensor([1.0, 2.0], requires_grad=True)),
    lambda lib: lib.tensor(lib.tensor([1, 2]), dtype=lib.float32),
]


@pytest.mark.parametrize("fn", TENSOR_CASES)
def test_tensor_inference(fn):
    both(fn)


def test_tensor_default_dtype_float64():
    for lib in (ember, torch):
        lib.set_default_dtype(lib.float64)
    try:
        both(lambda lib: lib.tensor([1.5, 2]))
        both(lambda lib: lib.tensor(1j))
        both(lambda lib: lib.tensor([np.float32(1.0), 2.0]))
        both(lambda lib: lib.tensor([]))
    finally:
        for lib in (ember, torch):
            lib.set_default_dtype(lib.float32)


def test_tensor_copies():
    a = np.array([1.0, 2.0])
    t = ember.tensor(a)
    a[0] = 5
    assert t.tolist() == [1.0, 2.0]
    src = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        c = ember.tensor(src)
    assert not c.requires_grad and c.data_ptr() != src.data_ptr()


TENSOR_ERRORS = [
    lambda lib: lib.tensor([[1, 2], [3]]),
    lambda lib: lib.tensor([[1, 2], 3]),
    lambda lib: lib.tensor([1, [2]]),
    lambda lib: lib.tensor([1.5, [2]]),
    lambda lib: lib.tensor([[1], 2.5]),
    lambda lib: lib.tensor("a"),
    lambda lib: lib.tensor(["a"]),
    lambda lib: lib.tensor([1, "a"]),
    lambda lib: lib.tensor(b"ab"),
    lambda lib: lib.tensor(None),
    lambda lib: lib.tensor([None]),
    lambda lib: lib.tensor({1: 2}),
    lambda lib: lib.tensor(2 ** 63),
    lambda lib: lib.tensor([2 ** 63]),
    lambda lib: lib.tensor([1.5, 2 ** 63], dtype=lib.int64),
    lambda lib: lib.tensor([256], dtype=lib.uint8),
    lambda lib: lib.tensor([-256], dtype=lib.uint8),
    lambda lib: lib.tensor([-129], dtype=lib.int8),
    lambda lib: lib.tensor([1e10], dtype=lib.int32),
    lambda lib: lib.tensor([1e19], dtype=lib.int64),
    lambda lib: lib.tensor([float("nan")], dtype=lib.int32),
    lambda lib: lib.tensor([1 + 2j], dtype=lib.float32),
    lambda lib: lib.tensor([1, 2], requires_grad=True),
    lambda lib: lib.tensor([lib.tensor([1.0, 2.0]), lib.tensor([2.0, 3.0])]),
    lambda lib: lib.tensor(np.array(["a"])),
    lambda lib: lib.tensor(np.array([[1, 2], [3, 4]], dtype=object)),
    lambda lib: lib.tensor(np.zeros((2, 3))[:, ::-1]),
]


@pytest.mark.parametrize("fn", TENSOR_ERRORS)
def test_tensor_errors(fn):
    e, t = check_raises(fn)
    if "only supported types" in t:
        assert e.startswith(t.split(" The only")[0])  # ember's dtype list is shorter
    else:
        assert e == t


# ---------------------------------------------------------------------------------------------
# as_tensor / asarray / from_numpy
# ---------------------------------------------------------------------------------------------

def test_as_tensor_shares_memory():
    a = np.array([1.0, 2.0])
    t = ember.as_tensor(a)
    a[0] = 5
    assert t.tolist() == [5.0, 2.0] and t.dtype is ember.float64
    c = ember.as_tensor(a, dtype=ember.float32)
    a[1] = 7
    assert c.tolist() == [5.0, 2.0]
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    assert ember.as_tensor(x) is x
    y = ember.as_tensor(x, dtype=ember.float64)
    assert y.dtype is ember.float64 and y.grad_fn is not None
    both(lambda lib: lib.as_tensor([1, 2]))
    both(lambda lib: lib.as_tensor(3))
    both(lambda lib: lib.as_tensor(np.array([1, 2], dtype=np.int32)))
    both(lambda lib: lib.as_tensor(np.array([1, 2]), dtype=lib.float32))
    both(lambda lib: lib.as_tensor(lib.tensor([1, 2]), dtype=lib.float32))
    same_message(lambda lib: lib.as_tensor("a"))


def test_asarray():
    a = np.array([1.0, 2.0])
    t = ember.asarray(a)
    a[0] = 5
    assert t.tolist() == [5.0, 2.0]
    c = ember.asarray(a, copy=True)
    a[0] = 6
    assert c.tolist() == [5.0, 2.0]
    both(lambda lib: lib.asarray([1, 2]))
    both(lambda lib: lib.asarray(3.5))
    both(lambda lib: lib.asarray([1.5], dtype=lib.float64))
    both(lambda lib: lib.asarray([1.0, 2.0], requires_grad=True))
    same_message(lambda lib: lib.asarray(np.array([1.0, 2.0]), dtype=lib.float32, copy=False))
    x = ember.tensor([1.0, 2.0])
    assert ember.asarray(x) is x
    y = ember.asarray(x, copy=True)
    assert y is not x and y.data_ptr() != x.data_ptr() and y.tolist() == x.tolist()
    m = memoryview(np.array([1, 2], dtype=np.int32))
    both(lambda lib: lib.asarray(m))


def test_from_numpy():
    a = np.arange(6.0).reshape(2, 3)
    t = ember.from_numpy(a)
    t[0, 0] = 10
    assert a[0, 0] == 10
    a[1, 2] = -1
    assert t[1, 2].item() == -1
    assert t.dtype is ember.float64 and t.shape == (2, 3)
    assert ember.from_numpy(a[:, 1:]).stride() == (3, 1)
    both(lambda lib: lib.from_numpy(np.array(1.5)))
    both(lambda lib: lib.from_numpy(np.array([True, False])))
    same_message(lambda lib: lib.from_numpy([1, 2]))
    same_message(lambda lib: lib.from_numpy(np.float64(1.5)))
    same_message(lambda lib: lib.from_numpy(np.zeros(3)[::-1]))
    e, t = check_raises(lambda lib: lib.from_numpy(np.array(["a"])))
    assert e.startswith(t.split(" The only")[0])
    ro = np.array([1.0, 2.0])
    ro.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        ember.from_numpy(ro)


def test_unsigned_numpy_dtypes_widen():
    # PyTorch has barely-usable uint16/uint32 "shell" dtypes; ember copies them into int64
    for dt in (np.uint16, np.uint32):
        a = np.array([1, 65535], dtype=dt)
        assert ember.tensor(a).dtype is ember.int64 and ember.tensor(a).tolist() == [1, 65535]
        assert ember.as_tensor(a).dtype is ember.int64
        with pytest.raises(TypeError, match="int64"):
            ember.from_numpy(a)  # cannot share memory
    with pytest.raises(TypeError):
        ember.tensor(np.array([1, 2], dtype=np.uint64))


# ---------------------------------------------------------------------------------------------
# legacy constructors
# ---------------------------------------------------------------------------------------------

LEGACY = [
    lambda lib: lib.Tensor(2, 3).shape,
    lambda lib: lib.Tensor([1, 2]),
    lambda lib: lib.Tensor([[1, 2]]),
    lambda lib: lib.Tensor(),
    lambda lib: lib.Tensor(lib.Size([2, 3])).shape,
    lambda lib: lib.Tensor(lib.tensor([1, 2])),
    lambda lib: lib.Tensor(np.array([1, 2])),
    lambda lib: lib.Tensor([1, 2], device="cpu"),
    lambda lib: lib.FloatTensor([1, 2]),
    lambda lib: lib.LongTensor([1.7, 2]),
    lambda lib: lib.LongTensor(2).shape,
    lambda lib: lib.IntTensor(lib.tensor([1, 2], dtype=lib.int32)),
    lambda lib: lib.BoolTensor([1, 0]),
    lambda lib: lib.ByteTensor([255]),
    lambda lib: lib.ByteTensor([-1]),
    lambda lib: lib.DoubleTensor(np.array([1, 2], dtype=np.float32)),
    lambda lib: lib.HalfTensor([1.5]),
    lambda lib: lib.CharTensor([-3]),
    lambda lib: lib.ShortTensor(2, 2).shape,
    lambda lib: lib.BFloat16Tensor([1.5]),
    lambda lib: lib.zeros(2).new(2, 3).shape,
    lambda lib: lib.zeros(2).new([1, 2]),
    lambda lib: lib.zeros(2).new().shape,
    lambda lib: lib.zeros(2, dtype=lib.int64).new([1.5, 2]),
]


@pytest.mark.parametrize("fn", LEGACY)
def test_legacy_constructors(fn):
    e, t = fn(ember), fn(torch)
    if isinstance(t, torch.Tensor):
        _same(e, t)
    else:
        assert tuple(e) == tuple(t)


LEGACY_ERRORS = [
    lambda lib: lib.Tensor(2.5),
    lambda lib: lib.Tensor("a"),
    lambda lib: lib.Tensor(2, 3.5),
    lambda lib: lib.Tensor(-1),
    lambda lib: lib.FloatTensor([[1, 2], [3]]),
    lambda lib: lib.ByteTensor([256]),
]


@pytest.mark.parametrize("fn", LEGACY_ERRORS)
def test_legacy_errors(fn):
    same_message(fn)


def test_legacy_type_checks():
    assert isinstance(ember.zeros(2), ember.FloatTensor)
    assert not isinstance(ember.zeros(2, dtype=ember.int64), ember.FloatTensor)
    assert isinstance(ember.zeros(2, dtype=ember.int64), ember.LongTensor)
    assert isinstance(ember.zeros(2), ember.Tensor)
    assert ember.FloatTensor.dtype is ember.float32 and ember.LongTensor.__name__ == "LongTensor"
    assert type(ember.FloatTensor([1])) is ember.Tensor
    assert not issubclass(ember.FloatTensor, ember.Tensor)
    assert ember.zeros(2).type(ember.LongTensor).dtype is ember.int64
    check_raises(lambda lib: lib.IntTensor(lib.tensor([1, 2])), exc=TypeError)
    check_raises(lambda lib: lib.Tensor(2, 3, dtype=lib.int64), exc=TypeError)
    check_raises(lambda lib: lib.zeros(2).new(lib.tensor([1, 2])), exc=TypeError)


def test_tensor_of_tensor_aliases():
    t = ember.tensor([1.0, 2.0])
    u = ember.Tensor(t)
    assert u.data_ptr() == t.data_ptr() and u is not t
    u[0] = 5
    assert t[0].item() == 5 and t._version == u._version
    g = ember.tensor([1.0, 2.0], requires_grad=True)
    a = ember.Tensor(g)
    assert a.requires_grad and a.grad_fn.name() == "AliasBackward0"


# ---------------------------------------------------------------------------------------------
# factories
# ---------------------------------------------------------------------------------------------

FACTORIES = [
    lambda lib: lib.zeros(2, 3),
    lambda lib: lib.zeros((2, 3)),
    lambda lib: lib.zeros([2, 3]),
    lambda lib: lib.zeros(lib.Size([2])),
    lambda lib: lib.zeros(()),
    lambda lib: lib.zeros([]),
    lambda lib: lib.zeros(size=(2, 3)),
    lambda lib: lib.zeros(lib.tensor(2), 3),
    lambda lib: lib.zeros(np.int64(2), 3),
    lambda lib: lib.zeros(0, 3),
    lambda lib: lib.zeros(2, dtype=lib.int64),
    lambda lib: lib.zeros(2, dtype=lib.bool),
    lambda lib: lib.zeros(2, requires_grad=True),
    lambda lib: lib.ones(2, 2, dtype=lib.complex64),
    lambda lib: lib.ones(3, dtype=lib.bfloat16),
    lambda lib: lib.empty(2, 3).shape,
    lambda lib: lib.full((2, 3), 1.5),
    lambda lib: lib.full((2,), 7),
    lambda lib: lib.full([2], True),
    lambda lib: lib.full((2,), 1 + 1j),
    lambda lib: lib.full((2,), lib.tensor(2)),
    lambda lib: lib.full((2,), lib.tensor(2.5, dtype=lib.float64)),
    lambda lib: lib.full((), 2),
    lambda lib: lib.full(lib.Size([2]), 2.0),
    lambda lib: lib.full((2,), 2.5, dtype=lib.int64),
    lambda lib: lib.full((2,), -1, dtype=lib.uint8),
    lambda lib: lib.full((2,), 3, dtype=lib.bool),
    lambda lib: lib.full((2,), 1.0, requires_grad=True),
    lambda lib: lib.zeros_like(lib.zeros(2, 3, dtype=lib.int32)),
    lambda lib: lib.zeros_like(lib.zeros(2), dtype=lib.int64),
    lambda lib: lib.ones_like(lib.zeros(2, requires_grad=True)),
    lambda lib: lib.ones_like(lib.zeros(2), requires_grad=True),
    lambda lib: lib.full_like(lib.zeros(2, 2), 7),
    lambda lib: lib.full_like(lib.zeros(2, dtype=lib.int64), 2.7),
    lambda lib: lib.full_like(lib.zeros(2), lib.tensor(3.0)),
    lambda lib: lib.empty_like(lib.zeros(2, 3)).shape,
    lambda lib: lib.eye(3),
    lambda lib: lib.eye(2, 3, dtype=lib.int64),
    lambda lib: lib.eye(0),
    lambda lib: lib.eye(3, dtype=lib.bool),
    lambda lib: lib.eye(n=2, m=1),
    lambda lib: lib.scalar_tensor(3),
    lambda lib: lib.scalar_tensor(3, dtype=lib.int64),
]


@pytest.mark.parametrize("fn", FACTORIES)
def test_factories(fn):
    e, t = fn(ember), fn(torch)
    if isinstance(t, torch.Tensor):
        _same(e, t)
    else:
        assert tuple(e) == tuple(t)


FACTORY_ERRORS = [
    lambda lib: lib.zeros(-1),
    lambda lib: lib.zeros((2, -1)),
    lambda lib: lib.ones(-1),
    lambda lib: lib.empty((2, -1)),
    lambda lib: lib.full((-1,), 1),
    lambda lib: lib.zeros(2.5),
    lambda lib: lib.zeros((2, 2.5)),
    lambda lib: lib.zeros(2, "3"),
    lambda lib: lib.zeros(lib.tensor([2, 3])),
    lambda lib: lib.zeros(lib.tensor(2.0)),
    lambda lib: lib.ones(True),
    lambda lib: lib.zeros(2, size=(2, 3)),
    lambda lib: lib.zeros(3, foo=3),
    lambda lib: lib.full(3, 1.0),
    lambda lib: lib.full((2.5,), 1),
    lambda lib: lib.full((2,), lib.tensor([2])),
    lambda lib: lib.full((2,), None),
    lambda lib: lib.full((2,), "a"),
    lambda lib: lib.full((2,), 300, dtype=lib.uint8),
    lambda lib: lib.full((2,), 1e39),
    lambda lib: lib.full((2,), float("nan"), dtype=lib.int32),
    lambda lib: lib.full((2,), 1, requires_grad=True),
    lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True),
    lambda lib: lib.empty(2, dtype=lib.long, requires_grad=True),
    lambda lib: lib.full_like(lib.zeros(2, dtype=lib.uint8), 300),
    lambda lib: lib.zeros_like(2),
    lambda lib: lib.zeros_like(lib.zeros(2, dtype=lib.long), requires_grad=True),
    lambda lib: lib.zeros(3, out=lib.empty(2, dtype=lib.int64), dtype=lib.float32),
    lambda lib: lib.eye(-1),
    lambda lib: lib.eye(2, -1),
    lambda lib: lib.eye(2.5),
    lambda lib: lib.eye(2, dtype=lib.long, requires_grad=True),
]


@pytest.mark.parametrize("fn", FACTORY_ERRORS)
def test_factory_errors(fn):
    e, t = check_raises(fn)
    if "invalid combination of arguments" in t or "unexpected keyword" in t or \
            "multiple values" in t:
        return  # PyTorch's argument parser lists every overload; the type is what matters
    assert e == t


def test_out_arguments():
    o = ember.empty(2, dtype=ember.int64)
    r = ember.zeros(3, out=o)
    assert r is o and o.tolist() == [0, 0, 0] and o.dtype is ember.int64
    o = ember.empty(3, 3)
    assert ember.eye(2, out=o).tolist() == [[1, 0], [0, 1]]
    o = ember.empty(3)
    assert ember.full((3,), 2.0, out=o) is o and o.tolist() == [2, 2, 2]
    with pytest.warns(UserWarning, match="will be resized"):
        ember.arange(3, out=ember.empty(2))
    o = ember.empty(5, dtype=ember.int32)
    assert ember.arange(0, 5, out=o).tolist() == [0, 1, 2, 3, 4] and o.dtype is ember.int32
    same_message(lambda lib: lib.arange(0, 5, out=lib.empty(5, dtype=lib.int32),
                                        dtype=lib.int64))
    o = ember.empty(0)
    assert ember.linspace(0, 1, 3, out=o) is o and o.shape == (3,)


def test_empty_strided():
    for lib in (ember, torch):
        t = lib.empty_strided((2, 3), (1, 2))
        assert t.stride() == (1, 2) and t.shape == (2, 3)
        assert lib.empty_strided((2, 3), (3, 1), dtype=lib.int64).dtype == lib.int64
        assert lib.zeros(2).new_empty_strided((2, 3), (1, 2)).stride() == (1, 2)


def test_like_preserves_layout():
    for lib in (ember, torch):
        x = lib.zeros(3, 4).t()
        assert lib.zeros_like(x).stride() == (1, 4)
        assert lib.empty_like(x).stride() == (1, 4)
        assert lib.full_like(x, 2).stride() == (1, 4)
        assert lib.rand_like(x).stride() == (1, 4)
        assert lib.zeros_like(lib.zeros(4, 6)[::2]).stride() == (6, 1)
        assert lib.zeros_like(lib.zeros(4, 6)[:, ::2].t()).stride() == (1, 3)
        assert lib.zeros_like(x, memory_format=lib.contiguous_format).stride() == (3, 1)


# ---------------------------------------------------------------------------------------------
# ranges: exact values
# ---------------------------------------------------------------------------------------------

ARANGE = [
    (0, 1, 0.1), (1, 2.5, 0.5), (-1, 1, 0.3), (0.1, 0.7, 0.2), (10, 0, -3), (0, 1, 1 / 3),
    (1e10, 1e10 + 5, 1), (-3.5, 7.25, 0.75), (5, 5, 1), (0, 300, 7), (2, -7.5, -0.37),
    (0.5, 3, 1), (1e-7, 1e-6, 1e-7), (0, 100, 0.001),
]


@pytest.mark.parametrize("start,end,step", ARANGE)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "float16", "bfloat16", "int64",
                                   "int32", "uint8"])
def test_arange_exact(start, end, step, dtype):
    def f(lib):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        return lib.arange(start, end, step, **kw)

    try:
        t = f(torch)
    except Exception:
        check_raises(f)
        return
    _same(f(ember), t)


def test_arange_forms():
    both(lambda lib: lib.arange(5))
    both(lambda lib: lib.arange(5.0))
    both(lambda lib: lib.arange(start=1, end=4))
    both(lambda lib: lib.arange(end=4))
    both(lambda lib: lib.arange(1, 4, step=2))
    both(lambda lib: lib.arange(lib.tensor(5)))
    both(lambda lib: lib.arange(lib.tensor(5.0)))
    both(lambda lib: lib.arange(lib.tensor(5, dtype=lib.int32)))
    both(lambda lib: lib.arange(True))
    both(lambda lib: lib.arange(0, 4, True))
    both(lambda lib: lib.arange(5.0, requires_grad=True))
    both(lambda lib: lib.arange(-2.5, 3, 1.5, dtype=lib.int64))


@pytest.mark.parametrize("fn", [
    lambda lib: lib.arange(0, 1, 0),
    lambda lib: lib.arange(0, 10, -1),
    lambda lib: lib.arange(0, float("inf")),
    lambda lib: lib.arange(0, float("nan")),
    lambda lib: lib.arange(0, 5, dtype=lib.bool),
    lambda lib: lib.arange(0, 3, 1, dtype=lib.complex64),
    lambda lib: lib.arange(0, 2.5, 0.5, dtype=lib.int64),
    lambda lib: lib.arange(5, requires_grad=True),
    lambda lib: lib.arange("a"),
    lambda lib: lib.arange(1 + 2j),
    lambda lib: lib.arange(1e20, 1e20 + 1, dtype=lib.int64),
])
def test_arange_errors(fn):
    same_message(fn)


def test_arange_argument_types():
    check_raises(lambda lib: lib.arange(0, "a"), exc=TypeError,
                 match="invalid combination of arguments")
    both(lambda lib: lib.arange(0, 1e39, 1e38, dtype=lib.float16))


LINSPACE = [(0, 1, 5), (0, 10, 5), (-1, 10, 7), (0, 1, 1), (0, 1, 0), (3, -3, 7), (0.1, 0.9, 7),
            (-1e3, 1e-3, 11), (0, 255, 4), (1, 2, 100), (-7.3, 12.9, 33), (5, 5, 4),
            (0, 1e-6, 10), (2, 3, 2)]


@pytest.mark.parametrize("start,end,steps", LINSPACE)
@pytest.mark.parametrize("dtype", [None, "float64", "float16", "bfloat16", "int64", "uint8",
                                   "complex64"])
def test_linspace_exact(start, end, steps, dtype):
    def f(lib):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        return lib.linspace(start, end, steps, **kw)

    try:
        t = f(torch)
    except Exception:
        check_raises(f)
        return
    _same(f(ember), t)


@pytest.mark.parametrize("start,end,steps", LINSPACE)
@pytest.mark.parametrize("base", [10.0, 2.0, 0.5])
@pytest.mark.parametrize("dtype", [None, "float64", "int64"])
def test_logspace(start, end, steps, base, dtype):
    if abs(start) > 100 or abs(end) > 100:
        return

    def f(lib):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        return lib.logspace(start, end, steps, base, **kw)

    both(f, exact=dtype == "int64")


def test_linspace_logspace_forms_and_errors():
    both(lambda lib: lib.linspace(lib.tensor(0.0), lib.tensor(1.0), 3))
    both(lambda lib: lib.linspace(0, 1 + 1j, 3))
    both(lambda lib: lib.linspace(0, 1, 5, requires_grad=True))
    both(lambda lib: lib.logspace(0, 3, 4, base=-2))
    both(lambda lib: lib.logspace(0, 2, 3, 2))
    same_message(lambda lib: lib.linspace(0, 1, -1))
    same_message(lambda lib: lib.linspace(lib.tensor([0.0]), lib.tensor(1.0), 3))
    same_message(lambda lib: lib.linspace(0, 1, 5, dtype=lib.bool))
    check_raises(lambda lib: lib.linspace(0, 1, 2.5), exc=TypeError)
    check_raises(lambda lib: lib.linspace(0, 1), exc=TypeError)


def test_range_is_inclusive_and_warns():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        e = ember.range(1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(e, torch.range(1, 4))
        _same(ember.range(0, 1, 0.25), torch.range(0, 1, 0.25))


# ---------------------------------------------------------------------------------------------
# new_* methods
# ---------------------------------------------------------------------------------------------

NEW = [
    lambda lib: lib.zeros(2, 3).new_zeros(2, 3),
    lambda lib: lib.zeros(2, 3).new_zeros((2, 3)),
    lambda lib: lib.zeros(2, 3).new_zeros(size=(2,)),
    lambda lib: lib.zeros(2, dtype=lib.int32).new_ones(3),
    lambda lib: lib.zeros(2).new_ones(2, dtype=lib.int64),
    lambda lib: lib.zeros(2).new_empty(3).shape,
    lambda lib: lib.zeros(2).new_full((2,), 3),
    lambda lib: lib.zeros(2, dtype=lib.int64).new_full((2,), 3.7),
    lambda lib: lib.zeros(2).new_tensor([1, 2]),
    lambda lib: lib.zeros(2).new_tensor([1, 2], dtype=lib.int64),
    lambda lib: lib.zeros(2).new_tensor(lib.tensor([1, 2])),
    lambda lib: lib.zeros(2).new_zeros(2, requires_grad=True),
    lambda lib: lib.zeros(2).new_tensor([1.0], requires_grad=True),
]


@pytest.mark.parametrize("fn", NEW)
def test_new_methods(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e, t = fn(ember), fn(torch)
    if isinstance(t, torch.Tensor):
        _same(e, t)
    else:
        assert tuple(e) == tuple(t)


def test_new_errors():
    same_message(lambda lib: lib.zeros(2).new_zeros(-1))
    same_message(lambda lib: lib.zeros(2).new_full((2,), 300, dtype=lib.uint8))
    with pytest.warns(UserWarning, match="rather than tensor.new_tensor"):
        ember.zeros(2).new_tensor(ember.tensor([1, 2]))


# ---------------------------------------------------------------------------------------------
# conversions: to / type / dtype methods / cpu / cuda
# ---------------------------------------------------------------------------------------------

def _x(lib):
    return lib.arange(6.0).reshape(2, 3)


TO_SAME = [
    lambda lib, x: x.to("cpu") is x,
    lambda lib, x: x.to(lib.float32) is x,
    lambda lib, x: x.to(lib.float32, copy=True) is x,
    lambda lib, x: x.to(x) is x,
    lambda lib, x: x.to(None) is x,
    lambda lib, x: x.to(lib.float64, True, True) is x,
    lambda lib, x: x.to("cpu", lib.float32, False, True) is x,
    lambda lib, x: x.to(memory_format=lib.contiguous_format) is x,
    lambda lib, x: x.t().to(memory_format=lib.contiguous_format).is_contiguous(),
    lambda lib, x: x.t().to(lib.float64).stride(),
    lambda lib, x: x.float() is x,
    lambda lib, x: x.cpu() is x,
    lambda lib, x: x.contiguous() is x,
    lambda lib, x: x.t().contiguous() is x,
    lambda lib, x: x.t().contiguous().stride(),
    lambda lib, x: x.t().clone().stride(),
    lambda lib, x: x.t().clone(memory_format=lib.contiguous_format).stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).permute(0, 2, 3, 1).clone().stride(),
    lambda lib, x: lib.zeros(2, 3, 4).permute(2, 0, 1).clone().stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).contiguous(memory_format=lib.channels_last).stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).to(memory_format=lib.channels_last).stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5, 6).contiguous(
        memory_format=lib.channels_last_3d).stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).contiguous(
        memory_format=lib.channels_last).is_contiguous(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).contiguous(
        memory_format=lib.channels_last).is_contiguous(memory_format=lib.channels_last),
    lambda lib, x: lib.zeros(1, 3, 1, 1).contiguous(memory_format=lib.channels_last).stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).contiguous(memory_format=lib.channels_last).to(
        memory_format=lib.contiguous_format).stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).contiguous(memory_format=lib.channels_last).to(
        lib.float64).stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).contiguous(memory_format=lib.channels_last)
    .clone().stride(),
    lambda lib, x: lib.zeros(2, 3, 4, 5).contiguous(memory_format=lib.channels_last)
    .contiguous().stride(),
    lambda lib, x: x.contiguous(memory_format=lib.preserve_format) is x,
    lambda lib, x: x.type(),
    lambda lib, x: lib.zeros(2, dtype=lib.int64).type(),
    lambda lib, x: lib.zeros(2, dtype=lib.bool).type(),
    lambda lib, x: str(x.type(lib.int64).dtype),
    lambda lib, x: str(x.type("torch.IntTensor").dtype),
    lambda lib, x: str(x.type(lib.IntTensor).dtype),
    lambda lib, x: str(x.type_as(lib.zeros(1, dtype=lib.int64)).dtype),
    lambda lib, x: [str(getattr(x, m)().dtype) for m in (
        "long", "half", "bool", "double", "int", "short", "char", "byte", "bfloat16",
        "cfloat", "cdouble", "float")],
    lambda lib, x: str(x.to(dtype=lib.int64).dtype),
    lambda lib, x: str(x.to(device="cpu", dtype=lib.int64).dtype),
    lambda lib, x: str(x.to("cpu", lib.int64).dtype),
    lambda lib, x: str(x.to(lib.device("cpu"), lib.int64, copy=True).dtype),
    lambda lib, x: str(x.to(lib.zeros(2, dtype=lib.int32)).dtype),
    lambda lib, x: str(x.to(lib.float64, non_blocking=True).dtype),
]


@pytest.mark.parametrize("fn", TO_SAME)
def test_conversions(fn):
    assert fn(ember, _x(ember)) == fn(torch, _x(torch))


def test_conversion_values_and_grads():
    check(lambda lib, a: a.to(lib.float64), rand(2, 3))
    check(lambda lib, a: a.double().float(), rand(2, 3))
    check(lambda lib, a: a.half(), rand(4))
    check(lambda lib, a: a.to(lib.int64), rand(4, low=-5, high=5), grad=False)
    check(lambda lib, a: a.clone() * 2, rand(2, 3))
    check(lambda lib, a: a.t().contiguous(), rand(2, 3))
    check(lambda lib, a: a.to(memory_format=lib.channels_last), rand(2, 3, 2, 2))
    check(lambda lib, a: a.type_as(lib.zeros(1, dtype=lib.float64)), rand(3))
    check(lambda lib, a: lib.clone(a).sum(), rand(3))
    x = ember.tensor([1.0], requires_grad=True)
    assert x.to(ember.float64).grad_fn.name() == "ToCopyBackward0"
    assert x.clone().grad_fn.name() == "CloneBackward0"
    assert x.to(ember.float32, copy=True).grad_fn.name() == "CloneBackward0"


CONV_ERRORS = [
    lambda lib: _x(lib).to("foo"),
    lambda lib: _x(lib).to(lib.float64, foo=1),
    lambda lib: _x(lib).type("foo"),
    lambda lib: lib.zeros(2, 3, 4).contiguous(memory_format=lib.channels_last),
    lambda lib: lib.zeros(2, 3, 4).transpose(0, 1).contiguous(
        memory_format=lib.preserve_format),
    lambda lib: lib.zeros(2, dtype=lib.int64).requires_grad_(),
]


@pytest.mark.parametrize("fn", CONV_ERRORS)
def test_conversion_errors(fn):
    check_raises(fn)


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the errors without CUDA")
def test_cuda_conversions_without_cuda():
    for fn in (lambda lib: _x(lib).cuda(), lambda lib: _x(lib).to("cuda"),
               lambda lib: _x(lib).to("cuda:0"), lambda lib: _x(lib).cuda(0)):
        check_raises(fn, exc=AssertionError, match="Torch not compiled with CUDA enabled")


# ---------------------------------------------------------------------------------------------
# copy_
# ---------------------------------------------------------------------------------------------

COPY = [
    lambda lib: lib.zeros(3).copy_(lib.ones(3)),
    lambda lib: lib.zeros(2, 3).copy_(lib.arange(3.0)),
    lambda lib: lib.zeros(2, 3).copy_(lib.tensor(5.0)),
    lambda lib: lib.zeros(3).copy_(5),
    lambda lib: lib.zeros(3, dtype=lib.int64).copy_(lib.tensor([1.7, -2.7, 3])),
    lambda lib: lib.zeros(3, dtype=lib.bool).copy_(lib.tensor([0.5, 0, 2])),
    lambda lib: lib.zeros(3, dtype=lib.uint8).copy_(lib.tensor([-1, 256, 3])),
    lambda lib: lib.zeros(3).copy_(lib.tensor([1 + 2j, 3, 4])),
    lambda lib: lib.zeros(2, 3).t().copy_(lib.arange(6.0).reshape(3, 2)),
    lambda lib: lib.zeros((), dtype=lib.float64).copy_(lib.tensor(2)),
]


@pytest.mark.parametrize("fn", COPY)
def test_copy(fn):
    both(fn)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(3).copy_(lib.ones(2)),
    lambda lib: lib.zeros(2, 3).copy_(lib.ones(2, 2)),
    lambda lib: lib.zeros(3).copy_(lib.ones(2, 3)),
    lambda lib: lib.zeros(3).copy_(lib.ones(1, 3)),
    lambda lib: lib.zeros(3).copy_([1, 2, 3]),
    lambda lib: lib.zeros(3, requires_grad=True).copy_(lib.ones(3)),
])
def test_copy_errors(fn):
    same_message(fn)


def test_copy_gradients_and_versions():
    check(lambda lib, a, b: (a * 1).copy_(b), rand(2, 3), rand(3))
    check(lambda lib, a, b: (a * 1)[0].copy_(b), rand(2, 3), rand(3))
    x = ember.zeros(3)
    v = x._version
    x.copy_(ember.ones(3))
    assert x._version == v + 1
    y = ember.zeros(4)
    y[1:3].copy_(ember.tensor([5.0, 6.0]))
    assert y.tolist() == [0, 5, 6, 0]


def test_legacy_constructor_none_errors():
    same_message(lambda lib: lib.Tensor(None))
    same_message(lambda lib: lib.Tensor([None]))
    same_message(lambda lib: lib.FloatTensor([1.0, None]))


def test_cuda_legacy_types():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor", "HalfTensor"):
        e, t = getattr(ember.cuda, name), getattr(torch.cuda, name)
        assert repr(e) == repr(t) == f"<class 'torch.cuda.{name}'>"
        assert e.dtype is getattr(ember, str(t.dtype).split(".")[1])
        for lib in (ember, torch):
            # CPU tensors are never instances of the CUDA types, and the reverse
            assert not isinstance(lib.ones(1, dtype=t.dtype if lib is torch else e.dtype),
                                  getattr(lib.cuda, name))
    with pytest.raises(AttributeError):
        ember.cuda.ComplexFloatTensor  # noqa: B018 - PyTorch has no such type either
    if not ember.cuda.is_available():
        same_message(lambda lib: lib.cuda.FloatTensor([1.0]))
        same_message(lambda lib: lib.cuda.LongTensor(2, 3))
        with pytest.raises(AssertionError):
            ember.ones(2).type(ember.cuda.FloatTensor)
    else:  # pragma: no cover - GPU machines
        t = ember.cuda.LongTensor([1, 2])
        assert t.is_cuda and t.dtype is ember.int64 and isinstance(t, ember.cuda.LongTensor)
        u = ember.ones(2).type(ember.cuda.HalfTensor)
        assert u.is_cuda and u.dtype is ember.float16 and not isinstance(u, ember.HalfTensor)


def test_numel_is_nonzero_is_storage():
    for fn in (lambda lib: lib.numel(lib.ones(2, 3)), lambda lib: lib.is_nonzero(lib.tensor([1])),
               lambda lib: lib.is_nonzero(lib.tensor(0.0)),
               lambda lib: lib.is_nonzero(lib.tensor(float("nan"))),
               lambda lib: lib.is_storage(lib.ones(1)), lambda lib: lib.is_storage(3)):
        assert fn(ember) == fn(torch)
    for fn in (lambda lib: lib.numel(3), lambda lib: lib.is_nonzero(3),
               lambda lib: lib.is_nonzero(lib.tensor([1, 2])),
               lambda lib: lib.is_nonzero(lib.tensor([]))):
        same_message(fn)
