"""Linear, Bilinear, Identity, Flatten, Unflatten and F.linear/F.bilinear against PyTorch."""

import numpy as np
import pytest

import ember
from tests.oracle import (
    Const,
    Sliced,
    Transposed,
    check,
    check_raises,
    needs_torch,
    rand,
    same_message,
    to_numpy,
    torch,
)

pytestmark = needs_torch

def _f(lib):
    return lib.nn.functional


# ------------------------------------------------------------------------------ F.linear


@pytest.mark.parametrize("xshape", [(5, 4), (4,), (2, 3, 4), (2, 1, 3, 4), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_shapes(xshape, bias):
    args = [rand(*xshape), rand(3, 4)] + ([rand(3)] if bias else [])
    check(lambda lib, *a: _f(lib).linear(*a), *args)


def test_linear_grad_fn_names():
    x = ember.ones(2, 4, requires_grad=True)
    w = ember.ones(3, 4, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    assert ember.nn.functional.linear(x, w, b).grad_fn.name() == "AddmmBackward0"
    assert ember.nn.functional.linear(x, w).grad_fn.name() == "MmBackward0"


def test_linear_noncontiguous_inputs():
    check(lambda lib, x, w, b: _f(lib).linear(x, w, b), Transposed(rand(4, 6)),
          Transposed(rand(3, 6)), rand(3))
    check(lambda lib, x, w, b: _f(lib).linear(x, w, b), Sliced(rand(5, 4)), Sliced(rand(3, 4)),
          Const(rand(3)))
    check(lambda lib, x, w: _f(lib).linear(x.transpose(0, 1), w), rand(3, 2, 4), rand(5, 4))


@pytest.mark.parametrize("bshape", [(1,), (), (6, 3), (6, 1), (1, 3)])
def test_linear_broadcast_bias(bshape):
    check(lambda lib, x, w, b: _f(lib).linear(x, w, b), rand(6, 4), rand(3, 4),
          np.asarray(rand(*bshape)))


@pytest.mark.parametrize("bshape", [(2, 1, 3), (5, 3), ()])
def test_linear_nd_broadcast_bias(bshape):
    check(lambda lib, x, w, b: _f(lib).linear(x, w, b), rand(2, 5, 4), rand(3, 4),
          np.asarray(rand(*bshape)))


def test_linear_vector_weight():
    check(lambda lib, x, w: _f(lib).linear(x, w), rand(3, 4), rand(4))
    check(lambda lib, x, w, b: _f(lib).linear(x, w, b), rand(4), rand(4), np.asarray(rand()))


def test_linear_dtypes():
    check(lambda lib, x, w, b: _f(lib).linear(x, w, b), rand(3, 4, dtype=np.float64),
          rand(2, 4, dtype=np.float64), rand(2, dtype=np.float64))
    check(lambda lib, x, w, b: _f(lib).linear(x, w, b), Const(rand(3, 4, dtype=np.int64)),
          Const(rand(2, 4, dtype=np.int64)), Const(rand(2, dtype=np.int64)))
    check(lambda lib, x, w: _f(lib).linear(x, w), rand(3, 4, dtype=np.float16),
          rand(2, 4, dtype=np.float16), atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("case", [
    ((64, 784), (10, 128), None),
    ((2, 3, 784), (10, 128), (10,)),
    ((784,), (10, 128), (10,)),
    ((3, 4), (5, 4), (3,)),
    ((2, 3, 4), (5, 4), (3,)),
    ((4,), (5, 4), (3,)),
    ((3, 4), (5, 4), (5, 5)),
    ((3, 4), (5, 4), (1, 3, 5)),
    ((2, 3, 4), (5, 4), (2, 5)),
    ((2, 3, 4), (5, 4), (1, 2, 3, 5)),
    ((3, 4), (4,), (3,)),
    ((), (5, 4), None),
    ((3, 4), (2, 5, 4), None),
])
def test_linear_shape_errors(case):
    xs, ws, bs = case
    args = [Const(rand(*xs)), Const(rand(*ws))] + ([Const(rand(*bs))] if bs else [])
    same_message(lambda lib, *a: _f(lib).linear(*a), *args)


@pytest.mark.parametrize("dts", [
    (np.float64, np.float32, np.float32), (np.float32, np.float64, np.float64),
    (np.float64, np.float64, np.float32), (np.float32, np.float64, None),
])
def test_linear_dtype_errors(dts):
    args = [Const(rand(3, 4, dtype=dts[0])), Const(rand(5, 4, dtype=dts[1]))]
    if dts[2] is not None:
        args.append(Const(rand(5, dtype=dts[2])))
    same_message(lambda lib, *a: _f(lib).linear(*a), *args)


def test_linear_bad_argument_type():
    check_raises(lambda lib, w: _f(lib).linear(np.ones((2, 4), np.float32), w),
                 Const(rand(3, 4)), exc=TypeError)


def test_linear_double_backward():
    x = ember.tensor(rand(3, 4, dtype=np.float64), requires_grad=True)
    w = ember.tensor(rand(2, 4, dtype=np.float64), requires_grad=True)
    b = ember.tensor(rand(2, dtype=np.float64), requires_grad=True)
    fn = ember.nn.functional.linear
    assert ember.autograd.gradcheck(fn, (x, w, b))
    assert ember.autograd.gradgradcheck(fn, (x, w, b))
    x3 = ember.tensor(rand(2, 3, 4, dtype=np.float64), requires_grad=True)
    assert ember.autograd.gradgradcheck(fn, (x3, w))


# ------------------------------------------------------------------------------ F.bilinear


@pytest.mark.parametrize("shapes", [((6, 3), (6, 4)), ((2, 6, 3), (2, 6, 4)), ((3,), (4,))])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear(shapes, bias):
    args = [rand(*shapes[0]), rand(*shapes[1]), rand(5, 3, 4)] + ([rand(5)] if bias else [])
    check(lambda lib, *a: _f(lib).bilinear(*a), *args)


@pytest.mark.parametrize("case", [
    ((6, 3), (5, 4), (5, 3, 4), (5,)),
    ((6, 3), (6, 4), (5, 2, 4), (5,)),
    ((6, 3), (6, 4), (5, 3, 2), (5,)),
    ((6, 3), (6, 4), (5, 3, 4), (4,)),
    ((6, 3), (2, 6, 4), (5, 3, 4), (5,)),
    ((6, 3), (6, 4), (5, 3, 4), (6, 5)),
    ((6, 3), (6, 4), (5, 3, 4), (5, 1)),
])
def test_bilinear_errors(case):
    same_message(lambda lib, *a: _f(lib).bilinear(*a), *[Const(rand(*s)) for s in case])


def test_bilinear_dtype_error():
    same_message(lambda lib, a, b, w, c: _f(lib).bilinear(a, b, w, c), Const(rand(6, 3)),
                 Const(rand(6, 4, dtype=np.float64)), Const(rand(5, 3, 4)), Const(rand(5)))


def test_bilinear_double_backward():
    mk = [rand(4, 2, dtype=np.float64), rand(4, 3, dtype=np.float64),
          rand(5, 2, 3, dtype=np.float64), rand(5, dtype=np.float64)]
    args = tuple(ember.tensor(a, requires_grad=True) for a in mk)
    assert ember.autograd.gradcheck(ember.nn.functional.bilinear, args)
    assert ember.autograd.gradgradcheck(ember.nn.functional.bilinear, args)


# ------------------------------------------------------------------------------ modules


def _copy_from_torch(e_mod, t_mod):
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})


def _compare_module(e_mod, t_mod, *inputs):
    """Same outputs, input grads and parameter grads as torch for the same weights."""
    _copy_from_torch(e_mod, t_mod)
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    e_in = [ember.tensor(a, requires_grad=True) for a in inputs]
    t_out, e_out = t_mod(*t_in), e_mod(*e_in)
    np.testing.assert_allclose(to_numpy(e_out), to_numpy(t_out), rtol=1e-5, atol=1e-6)
    up = np.random.default_rng(0).standard_normal(tuple(t_out.shape)).astype(np.float32)
    t_out.backward(torch.tensor(up))
    e_out.backward(ember.tensor(up))
    for te, ee in zip(t_in, e_in):
        np.testing.assert_allclose(to_numpy(ee.grad), to_numpy(te.grad), rtol=1e-5, atol=1e-6)
    t_grads = {n: p.grad for n, p in t_mod.named_parameters()}
    for n, p in e_mod.named_parameters():
        np.testing.assert_allclose(to_numpy(p.grad), to_numpy(t_grads[n]), rtol=1e-5,
                                   atol=1e-6, err_msg=n)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_module_matches_torch(bias):
    t_mod = torch.nn.Linear(6, 4, bias=bias)
    e_mod = ember.nn.Linear(6, 4, bias=bias)
    assert repr(e_mod) == repr(t_mod)
    assert [(n, tuple(p.shape)) for n, p in e_mod.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t_mod.named_parameters()]
    _compare_module(e_mod, t_mod, rand(5, 6))
    _compare_module(e_mod, t_mod, rand(2, 3, 6))


def test_linear_module_dtype_device_args():
    m = ember.nn.Linear(3, 2, dtype=ember.float64, device="cpu")
    assert m.weight.dtype is ember.float64 and m.bias.dtype is ember.float64
    assert m.weight.device == ember.device("cpu")
    assert m.weight.requires_grad and m.weight.is_leaf
    assert isinstance(m.weight, ember.nn.Parameter)
    assert m.bias is not None and ember.nn.Linear(3, 2, bias=False).bias is None


def test_linear_zero_in_features():
    m = ember.nn.Linear(0, 3)
    t = torch.nn.Linear(0, 3)
    assert m.weight.shape == (3, 0)
    assert np.all(to_numpy(m.bias) == 0) and np.all(to_numpy(t.bias) == 0)


def test_bilinear_module_matches_torch():
    t_mod = torch.nn.Bilinear(3, 4, 5)
    e_mod = ember.nn.Bilinear(3, 4, 5)
    assert repr(e_mod) == repr(t_mod)
    _compare_module(e_mod, t_mod, rand(6, 3), rand(6, 4))
    with pytest.raises(ValueError, match=r"in1_features must be > 0, but got \(in1_features=0"):
        ember.nn.Bilinear(0, 4, 5)


def test_bilinear_init_bounds():
    m = ember.nn.Bilinear(16, 4, 200)
    w = to_numpy(m.weight)
    assert np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.24
    assert np.abs(to_numpy(m.bias)).max() <= 0.25


def test_identity():
    m = ember.nn.Identity(54, unused="x")
    x = ember.ones(2, 3)
    assert m(x) is x
    assert repr(m) == repr(torch.nn.Identity()) == "Identity()"


@pytest.mark.parametrize("args", [(), (0,), (1, 2), (-3, -2), (2, -1)])
def test_flatten(args):
    t_mod, e_mod = torch.nn.Flatten(*args), ember.nn.Flatten(*args)
    assert repr(e_mod) == repr(t_mod)
    check(lambda lib, x: (t_mod if lib is torch else e_mod)(x), rand(2, 3, 4, 5))


def test_flatten_error():
    check_raises(lambda lib, x: lib.nn.Flatten(3, 1)(x), Const(rand(2, 3, 4, 5)))


@pytest.mark.parametrize("dim, sizes", [(1, (2, 6)), (-1, [3, -1]), (0, (1, 2))])
def test_unflatten(dim, sizes):
    t_mod, e_mod = torch.nn.Unflatten(dim, sizes), ember.nn.Unflatten(dim, sizes)
    assert repr(e_mod) == repr(t_mod)
    check(lambda lib, x: (t_mod if lib is torch else e_mod)(x), rand(2, 12))


@pytest.mark.parametrize("sizes", [(2, 2.0), 4, "ab"])
def test_unflatten_errors(sizes):
    with pytest.raises(TypeError) as te:
        torch.nn.Unflatten(1, sizes)
    with pytest.raises(TypeError) as ee:
        ember.nn.Unflatten(1, sizes)
    assert str(ee.value) == str(te.value)


def test_lazy_linear():
    m = ember.nn.LazyLinear(4)
    t = torch.nn.LazyLinear(4)
    assert repr(m) == repr(t)
    assert isinstance(m.weight, ember.nn.UninitializedParameter)
    assert repr(m.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        _ = m.weight.shape
    y = m(ember.ones(2, 7))
    assert type(m) is ember.nn.Linear
    assert m.in_features == 7 and tuple(y.shape) == (2, 4)
    assert type(m.weight) is ember.nn.Parameter and tuple(m.weight.shape) == (4, 7)
    assert repr(m) == "Linear(in_features=7, out_features=4, bias=True)"
    assert float(np.abs(to_numpy(m.weight)).max()) <= 1 / np.sqrt(7)
    y.sum().backward()
    assert tuple(m.weight.grad.shape) == (4, 7)


def test_lazy_linear_from_state_dict():
    t = torch.nn.Linear(5, 3)
    m = ember.nn.LazyLinear(3)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(to_numpy(m.weight), t.weight.detach().numpy())
    x = rand(2, 5)
    np.testing.assert_allclose(to_numpy(m(ember.tensor(x))),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert type(m) is ember.nn.Linear
