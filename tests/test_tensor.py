"""The Tensor object against PyTorch: metadata, strides, conversions to Python and NumPy,
dunder protocols, pickling and deepcopy."""

import copy
import operator
import pickle
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import check_raises, needs_torch, same_message, torch

pytestmark = needs_torch


def _x(lib):
    return lib.arange(6.0).reshape(2, 3)


def _norm(v):
    """Comparable form of a result: tensors by value/dtype/shape, sizes/devices as tuples/str."""
    if torch is not None and isinstance(v, torch.Tensor):
        return ("T", tuple(v.shape), str(v.dtype), v.detach().tolist() if v.dtype !=
                torch.bfloat16 else v.detach().float().tolist())
    if isinstance(v, ember.Tensor):
        return ("T", tuple(v.shape), str(v.dtype), v.detach().tolist())
    if torch is not None and isinstance(v, (torch.Size, torch.device, torch.dtype)):
        return str(v).replace("torch.Size", "S")
    if isinstance(v, (ember.Size, ember.device, ember.dtype)):
        return str(v).replace("torch.Size", "S")
    if isinstance(v, (list, tuple)):
        return type(v).__name__, [_norm(i) for i in v]
    if isinstance(v, np.ndarray):
        return ("A", v.dtype.str, v.tolist())
    return v


META = [
    lambda lib, x: x.shape,
    lambda lib, x: x.size(),
    lambda lib, x: x.size(1),
    lambda lib, x: x.size(-1),
    lambda lib, x: x.size(dim=0),
    lambda lib, x: x.size(lib.tensor(1)),
    lambda lib, x: lib.tensor(1.0).size(),
    lambda lib, x: x.dim(),
    lambda lib, x: x.ndim,
    lambda lib, x: x.ndimension(),
    lambda lib, x: x.numel(),
    lambda lib, x: x.nelement(),
    lambda lib, x: x.T.shape,
    lambda lib, x: x.mT.shape,
    lambda lib, x: x.itemsize,
    lambda lib, x: x.element_size(),
    lambda lib, x: x.nbytes,
    lambda lib, x: lib.zeros(2, dtype=lib.complex64).element_size(),
    lambda lib, x: lib.zeros(2, dtype=lib.bfloat16).nbytes,
    lambda lib, x: x.stride(),
    lambda lib, x: x.stride(1),
    lambda lib, x: x.stride(-2),
    lambda lib, x: x.t().stride(),
    lambda lib, x: x[:, 1:].stride(),
    lambda lib, x: x[:, 1:].storage_offset(),
    lambda lib, x: x[1].storage_offset(),
    lambda lib, x: x[1, 2:].storage_offset(),
    lambda lib, x: x.t()[1:].storage_offset(),
    lambda lib, x: x.storage_offset(),
    lambda lib, x: lib.zeros(3, 0).stride(),
    lambda lib, x: lib.zeros(0, 3).stride(),
    lambda lib, x: lib.zeros(3, 1).stride(),
    lambda lib, x: lib.tensor(1.0).stride(),
    lambda lib, x: x.is_contiguous(),
    lambda lib, x: x.t().is_contiguous(),
    lambda lib, x: x[:, :1].is_contiguous(),
    lambda lib, x: x[:1].is_contiguous(),
    lambda lib, x: x.data_ptr() == x.data.data_ptr(),
    lambda lib, x: x[1].data_ptr() - x.data_ptr(),
    lambda lib, x: x.data is x,
    lambda lib, x: x.data.requires_grad,
    lambda lib, x: x.device,
    lambda lib, x: x.dtype,
    lambda lib, x: x.get_device(),
    lambda lib, x: (x.is_cuda, x.is_cpu, x.is_sparse, x.is_quantized, x.is_meta),
    lambda lib, x: str(x.layout),
    lambda lib, x: x.is_leaf,
    lambda lib, x: (x * 2).is_leaf,
    lambda lib, x: x.requires_grad,
    lambda lib, x: x.grad_fn,
    lambda lib, x: x.grad,
    lambda lib, x: x.requires_grad_(False) is x,
    lambda lib, x: (x.is_floating_point(), x.is_complex(), x.is_signed()),
    lambda lib, x: lib.zeros(2, dtype=lib.uint8).is_signed(),
    lambda lib, x: lib.zeros(2, dtype=lib.bool).is_signed(),
    lambda lib, x: lib.zeros(2, dtype=lib.complex64).is_complex(),
    lambda lib, x: lib.zeros(2, dtype=lib.bfloat16).is_floating_point(),
    lambda lib, x: x.is_inference(),
    lambda lib, x: x.type(),
    lambda lib, x: lib.is_tensor(x),
    lambda lib, x: lib.is_tensor([1]),
    lambda lib, x: len(x),
    lambda lib, x: x.output_nr,
    lambda lib, x: x.retains_grad,
]


@pytest.mark.parametrize("i", range(len(META)))
def test_metadata(i):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _norm(META[i](ember, _x(ember))) == _norm(META[i](torch, _x(torch)))


META_ERRORS = [
    lambda lib: _x(lib).size(2),
    lambda lib: _x(lib).size(-3),
    lambda lib: _x(lib).size(1.5),
    lambda lib: _x(lib).size("a"),
    lambda lib: _x(lib).size(True),
    lambda lib: lib.tensor(1.0).size(0),
    lambda lib: lib.tensor(1.0).size(-1),
    lambda lib: lib.tensor(1.0).stride(0),
    lambda lib: _x(lib).stride(5),
    lambda lib: lib.zeros(2, dtype=lib.int64).requires_grad_(),
    lambda lib: setattr(lib.zeros(2, dtype=lib.int64), "requires_grad", True),
    lambda lib: (_x(lib).requires_grad_() * 2).requires_grad_(False),
    lambda lib: len(lib.tensor(1.0)),
    lambda lib: iter(lib.tensor(1.0)),
]


@pytest.mark.parametrize("fn", META_ERRORS)
def test_metadata_errors(fn):
    same_message(fn)


def test_grad_attribute():
    for lib in (ember, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        (a * 3).sum().backward()
        assert a.grad.tolist() == [3.0, 3.0]
        a.grad = None
        assert a.grad is None
        a.grad = lib.ones(2)
        del a.grad
        assert a.grad is None
    check_raises(lambda lib: setattr(lib.zeros(2, requires_grad=True), "grad", lib.ones(3)))
    check_raises(lambda lib: setattr(lib.zeros(2, requires_grad=True), "grad",
                                     lib.ones(2, dtype=lib.float64)))
    check_raises(lambda lib: setattr(lib.zeros(2, requires_grad=True), "grad", [1.0, 2.0]))
    b = ember.tensor([1.0], requires_grad=True) * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert b.grad is None


def test_data_property():
    for lib in (ember, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        d = a.data
        assert not d.requires_grad and d.data_ptr() == a.data_ptr()
        d[0] = 5
        assert a[0].item() == 5
        a.data = lib.tensor([7.0, 8.0])
        assert a.tolist() == [7.0, 8.0] and a.requires_grad


# ---------------------------------------------------------------------------------------------
# Python conversions
# ---------------------------------------------------------------------------------------------

SCALARS = [
    lambda lib: lib.tensor(2.5).item(),
    lambda lib: lib.tensor([[3.0]]).item(),
    lambda lib: lib.tensor(7).item(),
    lambda lib: lib.tensor(True).item(),
    lambda lib: lib.tensor(1 + 2j).item(),
    lambda lib: lib.tensor(1.5, dtype=lib.bfloat16).item(),
    lambda lib: type(lib.tensor(1.5, dtype=lib.float16).item()),
    lambda lib: type(lib.tensor(3, dtype=lib.uint8).item()),
    lambda lib: float(lib.tensor(2.5)),
    lambda lib: float(lib.tensor([2.5])),
    lambda lib: float(lib.tensor(1 + 0j)),
    lambda lib: int(lib.tensor(2.7)),
    lambda lib: int(lib.tensor(-2.7)),
    lambda lib: int(lib.tensor([[5]])),
    lambda lib: complex(lib.tensor(1.5)),
    lambda lib: bool(lib.tensor([0.0])),
    lambda lib: bool(lib.tensor(3)),
    lambda lib: bool(lib.tensor(float("nan"))),
    lambda lib: [0, 1, 2][lib.tensor(1)],
    lambda lib: [0, 1, 2][lib.tensor([1])],
    lambda lib: [0, 1, 2][lib.tensor(True)],
    lambda lib: operator.index(lib.tensor(2, dtype=lib.int8)),
    lambda lib: _x(lib).tolist(),
    lambda lib: lib.tensor(2.5).tolist(),
    lambda lib: lib.tensor([1.5], dtype=lib.float16).tolist(),
    lambda lib: lib.tensor([1.5], dtype=lib.bfloat16).tolist(),
    lambda lib: lib.tensor([1 + 2j]).tolist(),
    lambda lib: lib.tensor([True]).tolist(),
    lambda lib: lib.zeros(2, 0).tolist(),
    lambda lib: list(_x(lib)),
    lambda lib: list(lib.tensor([1, 2])),
    lambda lib: [t.shape for t in lib.zeros(3, 2, 1)],
    lambda lib: 2 in lib.tensor([1, 2]),
    lambda lib: 5 in lib.tensor([1, 2]),
    lambda lib: 1.0 in lib.tensor([1, 2]),
    lambda lib: lib.tensor([1, 2]) in lib.tensor([1, 2]),
    lambda lib: f"{lib.tensor(1.5):.2f}",
    lambda lib: f"{lib.tensor(3):5d}",
    lambda lib: f"{lib.tensor([1.5])}",
    lambda lib: format(lib.tensor([1, 2]), ""),
    lambda lib: str(lib.tensor(2.0)),
    lambda lib: (lambda t: hash(t) == id(t))(lib.tensor(1.0)),
]


@pytest.mark.parametrize("i", range(len(SCALARS)))
def test_python_conversions(i):
    assert _norm(SCALARS[i](ember)) == _norm(SCALARS[i](torch))


CONVERSION_ERRORS = [
    lambda lib: lib.tensor([1.0, 2.0]).item(),
    lambda lib: lib.tensor([]).item(),
    lambda lib: float(lib.tensor([1.0, 2.0])),
    lambda lib: int(lib.tensor([1.0, 2.0])),
    lambda lib: float(lib.tensor([])),
    lambda lib: float(lib.tensor(1 + 2j)),
    lambda lib: bool(lib.tensor([])),
    lambda lib: bool(lib.tensor([1.0, 2.0])),
    lambda lib: [0, 1, 2][lib.tensor(1.0)],
    lambda lib: [0, 1, 2][lib.tensor([1, 2])],
    lambda lib: list(lib.tensor(1.0)),
    lambda lib: "a" in lib.tensor([1, 2]),
    lambda lib: f"{lib.tensor([1.5]):.2f}",
]


@pytest.mark.parametrize("fn", CONVERSION_ERRORS)
def test_python_conversion_errors(fn):
    same_message(fn)


def test_iteration_yields_views():
    x = ember.zeros(2, 3)
    rows = list(x)
    rows[1][0] = 5
    assert x[1, 0].item() == 5
    a = ember.ones(2, 2, requires_grad=True)
    parts = list(a * 1)
    assert parts[0].grad_fn is not None
    (parts[0] * 2 + parts[1]).sum().backward()
    assert a.grad.tolist() == [[2.0, 2.0], [1.0, 1.0]]


# ---------------------------------------------------------------------------------------------
# NumPy interop
# ---------------------------------------------------------------------------------------------

def test_numpy_shares_memory():
    x = _x(ember)
    a = x.numpy()
    a[0, 0] = 42
    assert x[0, 0].item() == 42
    x[1, 1] = -1
    assert a[1, 1] == -1
    assert x.t().numpy().strides == a.T.strides
    assert ember.tensor(2.5).numpy().shape == ()
    r = ember.tensor([1.0], requires_grad=True)
    f = r.numpy(force=True)
    assert f.tolist() == [1.0]


NUMPY_CASES = [
    lambda lib: _x(lib).numpy(),
    lambda lib: lib.tensor([1, 2], dtype=lib.int16).numpy(),
    lambda lib: lib.tensor([True]).numpy(),
    lambda lib: np.asarray(_x(lib)),
    lambda lib: np.array(_x(lib)),
    lambda lib: np.asarray(_x(lib), dtype=np.int64),
    lambda lib: np.asarray(lib.tensor(3.5)),
    lambda lib: np.add(_x(lib), 1),
    lambda lib: np.sqrt(_x(lib)),
    lambda lib: np.greater(_x(lib), 1),
    lambda lib: lib.tensor([1.0], requires_grad=True).numpy(force=True),
]


@pytest.mark.parametrize("fn", NUMPY_CASES)
def test_numpy_interop(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _norm(fn(ember)) == _norm(fn(torch))


@pytest.mark.parametrize("fn", [
    lambda lib: lib.tensor([1.0], requires_grad=True).numpy(),
    lambda lib: np.asarray(lib.tensor([1.0], requires_grad=True)),
    lambda lib: lib.tensor([1.0], dtype=lib.bfloat16).numpy(),
    lambda lib: np.asarray(lib.tensor([1.0], dtype=lib.bfloat16)),
])
def test_numpy_errors(fn):
    same_message(fn)


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_numpy_of_cuda_tensor():
    t = ember.zeros(2, device="cuda")
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        t.numpy()
    assert t.numpy(force=True).tolist() == [0.0, 0.0]
    assert t.cpu().numpy().tolist() == [0.0, 0.0]
    assert pickle.loads(pickle.dumps(t)).device == t.device


# ---------------------------------------------------------------------------------------------
# pickling and deepcopy
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    lambda lib: lib.tensor([1, 2], dtype=lib.int16),
    lambda lib: lib.tensor(1.5, dtype=lib.bfloat16),
    lambda lib: lib.tensor([1 + 2j]),
    lambda lib: _x(lib).t(),
    lambda lib: _x(lib)[:, 1:],
    lambda lib: lib.zeros(0, 3),
    lambda lib: lib.zeros(2, 3, 4, 5).contiguous(memory_format=lib.channels_last),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda lib: lib.tensor(True),
])
def test_pickle_round_trip(make):
    e = pickle.loads(pickle.dumps(make(ember)))
    t = pickle.loads(pickle.dumps(make(torch)))
    assert _norm(e) == _norm(t)
    assert e.stride() == t.stride() and e.requires_grad == t.requires_grad and e.is_leaf


def test_pickle_keeps_shared_storage_and_attributes():
    x = ember.zeros(3, 4)
    v = x[1]
    x2, v2 = pickle.loads(pickle.dumps([x, v]))
    v2[0] = 9
    assert x2[1, 0].item() == 9
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    a.grad = ember.tensor([3.0, 4.0])
    a.note = "hello"
    b = pickle.loads(pickle.dumps(a))
    assert b.note == "hello" and b.grad is None and b.requires_grad


def test_deepcopy():
    for lib in (ember, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        a.grad = lib.tensor([3.0, 4.0])
        a.foo = [1, 2]
        b = copy.deepcopy(a)
        assert b.grad.tolist() == [3.0, 4.0] and b.foo == [1, 2] and b.foo is not a.foo
        assert b.requires_grad and b.is_leaf and b.data_ptr() != a.data_ptr()
        x = lib.arange(12.0).reshape(3, 4)
        y, v = copy.deepcopy([x, x[1]])
        v[0] = 100
        assert y[1, 0].item() == 100 and x[1, 0].item() == 4
        assert copy.deepcopy(x.t()).stride() == x.t().stride()
        same = copy.deepcopy([x, x])
        assert same[0] is same[1]
    same_message(lambda lib: copy.deepcopy(lib.tensor([1.0], requires_grad=True) * 2))


def test_copy_copy_shares():
    for lib in (ember, torch):
        x = _x(lib)
        c = copy.copy(x)
        assert c is not x and c.data_ptr() == x.data_ptr()


# ---------------------------------------------------------------------------------------------
# Size and misc
# ---------------------------------------------------------------------------------------------

def test_size_behaves_like_torch_size():
    for lib in (ember, torch):
        s = lib.zeros(2, 3, 4).shape
        assert isinstance(s, tuple) and s == (2, 3, 4)
        assert repr(s) == "torch.Size([2, 3, 4])" and str(s[1:]) == "torch.Size([3, 4])"
        assert isinstance(s[1:], lib.Size) and s.numel() == 24
        assert isinstance(s + (5,), lib.Size)
        assert pickle.loads(pickle.dumps(s)) == s
        assert repr(lib.Size([])) == "torch.Size([])"


def test_memory_format_objects():
    for name in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"):
        e, t = getattr(ember, name), getattr(torch, name)
        assert repr(e) == repr(t)
        assert pickle.loads(pickle.dumps(e)) is e
    assert ember.zeros(2, 3, 4, 5).is_contiguous(memory_format=ember.contiguous_format)


def test_legacy_constructor_via_tensor_class():
    assert ember.Tensor(2, 3).shape == (2, 3)
    assert ember.Tensor([1, 2]).dtype is ember.float32
