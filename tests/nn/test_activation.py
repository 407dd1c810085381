"""Activations against PyTorch: every F.<activation> (values, dtypes, gradients incl. the points
where the derivative switches, non-contiguous inputs, half precision, in-place forms, grad_fn
names), the softmax family (implicit-dim warning), prelu/rrelu/glu, stability at +-1e4, the
activation modules (outputs, reprs, state dicts), PyTorch's errors, and gradcheck/gradgradcheck in
float64."""

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import (
    DEVICE,
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

F = ember.nn.functional


def _et(a, grad=False):
    t = ember.tensor(np.array(a, copy=True))
    if DEVICE != "cpu":
        t = t.to(DEVICE)
    return t.requires_grad_(grad) if grad else t


# Each entry: name -> fn(lib, x). Inputs include the kinks and switch points of each function.
ACTS = {
    "relu": lambda lib, x: lib.nn.functional.relu(x),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.5, -2.0),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -1.5, 2.0),
    "hardtanh_default": lambda lib, x: lib.nn.functional.hardtanh(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x),
    "leaky_relu_0.2": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2),
    "leaky_relu_neg": lambda lib, x: lib.nn.functional.leaky_relu(x, -0.3),
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "elu_alpha": lambda lib, x: lib.nn.functional.elu(x, 0.7),
    "selu": lambda lib, x: lib.nn.functional.selu(x),
    "celu": lambda lib, x: lib.nn.functional.celu(x),
    "celu_alpha": lambda lib, x: lib.nn.functional.celu(x, 2.5),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "gelu_tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "mish": lambda lib, x: lib.nn.functional.mish(x),
    "sigmoid": lambda lib, x: lib.nn.functional.sigmoid(x),
    "tanh": lambda lib, x: lib.nn.functional.tanh(x),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "softplus_beta": lambda lib, x: lib.nn.functional.softplus(x, beta=2.0, threshold=3.0),
    "softplus_negbeta": lambda lib, x: lib.nn.functional.softplus(x, beta=-1.5),
    "softsign": lambda lib, x: lib.nn.functional.softsign(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
    "softshrink_1": lambda lib, x: lib.nn.functional.softshrink(x, 1.0),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "hardshrink_neg": lambda lib, x: lib.nn.functional.hardshrink(x, -0.5),
    "tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
    "rrelu_eval": lambda lib, x: lib.nn.functional.rrelu(x),
    "prelu_shared": lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.3], dtype=x.dtype)),
}

# the switch points of the activations above, so the gradient conventions there are compared
_KINKS = np.array([0.0, 0.5, -0.5, 1.0, -1.0, -1.5, 2.0, 3.0, -3.0, 6.0, 20.0, 1.5, -2.0],
                  dtype=np.float32)


def _with_kinks(shape, dtype=np.float32, scale=4.0):
    a = rand(*shape, dtype=np.float64) * scale
    flat = a.reshape(-1)
    k = min(flat.size, _KINKS.size)
    flat[:k] = _KINKS[:k]
    return a.astype(dtype)


@pytest.mark.parametrize("name", list(ACTS))
def test_activation_float32_matches_torch(name):
    check(ACTS[name], _with_kinks((6, 7)))


@pytest.mark.parametrize("name", list(ACTS))
def test_activation_float64_and_shapes(name):
    fn = ACTS[name]
    check(fn, _with_kinks((2, 3, 5), np.float64))
    check(fn, np.array(0.75))  # 0-d
    check(fn, rand(0, 3))  # empty
    check(fn, Transposed(_with_kinks((5, 4))))
    check(fn, Sliced(_with_kinks((4, 6))))


@pytest.mark.parametrize("name", [n for n in ACTS if n != "prelu_shared"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_activation_half_precision(name, dtype):
    fn = ACTS[name]

    def run(lib, x):
        return fn(lib, x.to(getattr(lib, dtype)))

    check(run, _with_kinks((4, 5)), atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("name", list(ACTS))
def test_activation_grad_fn_names(name):
    fn = ACTS[name]
    xt = torch.tensor(_with_kinks((3, 4)), requires_grad=True)
    xe = _et(_with_kinks((3, 4)), grad=True)
    assert fn(ember, xe).grad_fn.name() == fn(torch, xt).grad_fn.name()


# float64 gradchecks away from the kinks; the smooth ones also gradgradcheck
SMOOTH = ["elu", "elu_alpha", "selu", "celu", "celu_alpha", "gelu", "gelu_tanh", "silu", "mish",
          "softplus", "softplus_beta", "softplus_negbeta", "softsign", "tanhshrink",
          "logsigmoid", "sigmoid", "tanh", "hardswish", "hardsigmoid", "leaky_relu_0.2", "relu"]


def _away_from_kinks(shape):
    a = rand(*shape, dtype=np.float64) * 4
    near = np.abs(a[..., None] - _KINKS.astype(np.float64)).min(-1) < 0.05
    a[near] += 0.1
    return a


@pytest.mark.parametrize("name", list(ACTS))
def test_activation_gradcheck(name):
    x = _et(_away_from_kinks((3, 4)), grad=True)
    assert ember.autograd.gradcheck(lambda t: ACTS[name](ember, t), (x,))


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_gradgradcheck(name):
    x = _et(_away_from_kinks((3, 4)), grad=True)
    assert ember.autograd.gradgradcheck(lambda t: ACTS[name](ember, t), (x,))


@pytest.mark.parametrize("name", ["relu", "hardtanh", "threshold", "softshrink", "hardshrink",
                                  "leaky_relu_0.2", "elu", "hardswish", "gelu",
                                  "softplus_negbeta", "silu", "mish", "logsigmoid"])
def test_activation_double_backward_matches_torch(name):
    # (softplus with beta * x exactly at the threshold is left out: PyTorch's second derivative
    # there uses the linear branch while its first derivative uses the smooth one)
    fn = ACTS[name]

    def second(lib, x):
        y = fn(lib, x)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        return g

    check(second, _with_kinks((4, 5), np.float64), atol=1e-7, rtol=1e-6)


STABLE = ["gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid", "elu", "selu", "celu",
          "sigmoid", "tanh", "softsign", "hardswish", "leaky_relu", "tanhshrink"]


@pytest.mark.parametrize("name", STABLE)
def test_activation_stable_at_large_inputs(name):
    a = np.array([-1e4, -1e3, -100.0, -30.0, 30.0, 100.0, 1e3, 1e4], dtype=np.float32)
    out = check(ACTS[name], a)
    assert np.all(np.isfinite(to_numpy(out)))


def test_nan_propagates_like_torch():
    a = np.array([np.nan, -1.0, 0.0, 2.0], dtype=np.float32)
    for name in ["relu", "hardtanh", "relu6", "softshrink", "hardshrink", "elu", "gelu",
                 "leaky_relu", "threshold", "softplus", "mish", "silu", "hardswish"]:
        check(ACTS[name], a)


# ------------------------------------------------------------------------------ in-place forms

INPLACE = {
    "relu": (lambda F_, x: F_.relu(x, inplace=True), lambda F_, x: F_.relu_(x)),
    "relu6": (lambda F_, x: F_.relu6(x, inplace=True), None),
    "hardtanh": (lambda F_, x: F_.hardtanh(x, -0.5, 0.5, inplace=True),
                 lambda F_, x: F_.hardtanh_(x, -0.5, 0.5)),
    "threshold": (lambda F_, x: F_.threshold(x, 0.1, 5.0, inplace=True),
                  lambda F_, x: F_.threshold_(x, 0.1, 5.0)),
    "elu": (lambda F_, x: F_.elu(x, 0.5, inplace=True), lambda F_, x: F_.elu_(x, 0.5)),
    "selu": (lambda F_, x: F_.selu(x, inplace=True), lambda F_, x: F_.selu_(x)),
    "celu": (lambda F_, x: F_.celu(x, 1.5, inplace=True), lambda F_, x: F_.celu_(x, 1.5)),
    "leaky_relu": (lambda F_, x: F_.leaky_relu(x, 0.1, inplace=True),
                   lambda F_, x: F_.leaky_relu_(x, 0.1)),
    "silu": (lambda F_, x: F_.silu(x, inplace=True), None),
    "mish": (lambda F_, x: F_.mish(x, inplace=True), None),
    "hardsigmoid": (lambda F_, x: F_.hardsigmoid(x, inplace=True), None),
    "hardswish": (lambda F_, x: F_.hardswish(x, inplace=True), None),
    "rrelu_eval": (lambda F_, x: F_.rrelu(x, inplace=True), lambda F_, x: F_.rrelu_(x)),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_match_torch(name):
    for fn in INPLACE[name]:
        if fn is None:
            continue

        names = []

        def run(lib, x, fn=fn, names=names):
            y = x * 1.0  # a non-leaf, so the in-place write is recorded
            r = fn(lib.nn.functional, y)
            assert r is y
            names.append(r.grad_fn.name() if lib is ember else type(r.grad_fn).__name__)
            return r

        check(run, _with_kinks((4, 5)))
        assert names[1] == names[0]  # PyTorch's in-place nodes: LeakyReluBackward1, ...


def test_inplace_on_leaf_requiring_grad_raises():
    for fn in (lambda F_, x: F_.relu(x, inplace=True), lambda F_, x: F_.elu_(x),
               lambda F_, x: F_.hardtanh_(x), lambda F_, x: F_.rrelu_(x, training=True)):
        with pytest.raises(RuntimeError) as te:
            fn(torch.nn.functional, torch.tensor(rand(3), requires_grad=True))
        x = _et(rand(3), grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fn(F, x)
        assert "leaf Variable that requires grad" in str(te.value)


def test_inplace_without_grad_writes_storage():
    x = _et(np.array([-1.0, 2.0, -3.0], dtype=np.float32))
    v = x.view(3)
    F.leaky_relu_(x, 0.5)
    np.testing.assert_allclose(to_numpy(v), [-0.5, 2.0, -1.5])
    F.hardtanh_(x, -1.0, 1.0)
    np.testing.assert_allclose(to_numpy(x), [-0.5, 1.0, -1.0])


def test_inplace_saved_value_version_error_like_torch():
    # sigmoid saves its output: changing it in place must make backward fail, as in PyTorch
    def run(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = lib.nn.functional.sigmoid(x * 1)
        lib.nn.functional.relu_(y)
        y.sum().backward()

    with pytest.raises(RuntimeError) as te:
        run(torch)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(ember)
    assert "modified by an inplace operation" in str(te.value)


# ------------------------------------------------------------------------------ integer inputs

@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.relu(x),
    lambda lib, x: lib.nn.functional.relu6(x),
    lambda lib, x: lib.nn.functional.hardtanh(x, -2, 3),
    lambda lib, x: lib.nn.functional.threshold(x, 1.5, 0.5),
    lambda lib, x: lib.nn.functional.threshold(x, 2, -7),
    lambda lib, x: lib.nn.functional.softsign(x),
    lambda lib, x: lib.nn.functional.tanhshrink(x),
])
def test_integer_inputs_like_torch(fn):
    check(fn, np.array([-5, -1, 0, 1, 2, 3, 9], dtype=np.int64))


_FLOAT_ONLY = ["leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "hardsigmoid",
               "hardswish", "softplus", "softshrink", "hardshrink", "logsigmoid", "rrelu_eval"]


@pytest.mark.parametrize("name", _FLOAT_ONLY)
@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_float_only_activations_reject_integers(name, dtype):
    same_message(ACTS[name], Const(np.array([1, 0, 1], dtype=dtype)))


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.relu(x),
    lambda lib, x: lib.nn.functional.relu6(x),
    lambda lib, x: lib.nn.functional.hardtanh(x),
    lambda lib, x: lib.nn.functional.threshold(x, 0, 1),
    lambda lib, x: lib.nn.functional.glu(x.reshape(2, 1), 0),
    lambda lib, x: lib.nn.functional.rrelu(x, training=True),
])
def test_bool_and_complex_errors(fn):
    same_message(fn, Const(np.array([True, False])))


def test_complex_inputs():
    z = (rand(3, 4) + 1j * rand(3, 4)).astype(np.complex64)
    check(lambda lib, x: lib.nn.functional.silu(x), Const(z))
    same_message(lambda lib, x: lib.nn.functional.silu(x.requires_grad_()), Const(z))
    check(lambda lib, x: lib.nn.functional.softsign(x), z)
    for name in ["relu", "elu", "gelu", "hardtanh", "softplus"]:
        same_message(ACTS[name], Const(z))


# ------------------------------------------------------------------------------ glu

@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((6,), 0),
                                       ((2, 3, 2), -1)])
def test_glu_matches_torch(shape, dim):
    check(lambda lib, x: lib.nn.functional.glu(x, dim), rand(*shape))
    check(lambda lib, x: lib.nn.functional.glu(x, dim), Transposed(rand(*shape)) if
          len(shape) > 1 else rand(*shape))


def test_glu_half_gradcheck_and_grad_fn():
    check(lambda lib, x: lib.nn.functional.glu(x.half(), 1), rand(3, 4), atol=1e-2, rtol=1e-2)
    x = _et(rand(3, 4, dtype=np.float64), grad=True)
    assert ember.autograd.gradcheck(lambda t: F.glu(t, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda t: F.glu(t, 0), (x[:2],))
    assert F.glu(x).grad_fn.name() == "GluBackward0"


def test_glu_errors():
    same_message(lambda lib, x: lib.nn.functional.glu(x, 1), rand(2, 3))
    same_message(lambda lib, x: lib.nn.functional.glu(x), np.array(1.0, dtype=np.float32))
    same_message(lambda lib, x: lib.nn.functional.glu(x, 2), rand(2, 4))


# ------------------------------------------------------------------------------ prelu

@pytest.mark.parametrize("shape,nw", [((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 4, 4), 3),
                                      ((2, 3, 4, 4), 1), ((5,), 1), ((), 1),
                                      ((2, 3, 2, 2, 2), 3)])
def test_prelu_matches_torch(shape, nw):
    w = rand(nw) * 0.5
    check(lambda lib, x, w: lib.nn.functional.prelu(x, w), _with_kinks(shape) if shape else
          np.array(-1.5, dtype=np.float32), w)


def test_prelu_zero_dim_weight_and_no_weight_grad():
    check(lambda lib, x, w: lib.nn.functional.prelu(x, w), rand(3, 4), np.array(0.2,
                                                                               dtype=np.float32))
    check(lambda lib, x, w: lib.nn.functional.prelu(x, w), rand(3, 4), Const(rand(4)))
    check(lambda lib, x, w: lib.nn.functional.prelu(x, w), Const(rand(3, 4)), rand(4))


def test_prelu_gradcheck_and_gradgradcheck():
    x = _et(_away_from_kinks((2, 3, 4)), grad=True)
    w = _et(rand(3, dtype=np.float64), grad=True)
    assert ember.autograd.gradcheck(F.prelu, (x, w))
    assert ember.autograd.gradgradcheck(F.prelu, (x, w))


def test_prelu_errors():
    same_message(lambda lib, x, w: lib.nn.functional.prelu(x, w), rand(2, 3, 4), Const(rand(4)))
    same_message(lambda lib, x, w: lib.nn.functional.prelu(x, w), rand(4), Const(rand(4)))
    same_message(lambda lib, x, w: lib.nn.functional.prelu(x, w), rand(2, 3),
                 Const(rand(1, 3)))
    same_message(lambda lib, x, w: lib.nn.functional.prelu(x, w), rand(2, 3),
                 Const(rand(3, dtype=np.float64)))
    same_message(lambda lib, x, w: lib.nn.functional.prelu(x, w),
                 Const(np.ones((2, 3), dtype=np.int64)), Const(np.ones(3, dtype=np.int64)))


def test_prelu_module_matches_torch():
    tm = torch.nn.PReLU(3, init=0.1)
    em = ember.nn.PReLU(3, init=0.1)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(to_numpy(em.weight), 0.1)
    x = _with_kinks((2, 3, 4))
    yt = tm(torch.tensor(x, requires_grad=True))
    ye = em(_et(x, grad=True))
    np.testing.assert_allclose(to_numpy(ye), to_numpy(yt), rtol=1e-6)
    yt.sum().backward()
    ye.sum().backward()
    np.testing.assert_allclose(to_numpy(em.weight.grad), to_numpy(tm.weight.grad), rtol=1e-5)
    em2 = ember.nn.PReLU(dtype=ember.float64)
    assert em2.weight.dtype == ember.float64 and tuple(em2.weight.shape) == (1,)
    em2.weight.data.fill_(3.0)
    em2.reset_parameters()
    np.testing.assert_allclose(to_numpy(em2.weight), 0.25)


# ------------------------------------------------------------------------------ rrelu

def test_rrelu_training_slopes_in_range_and_backward_reuses_noise():
    ember.manual_seed(0)
    a = rand(200, 50)
    x = _et(a, grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    ya = to_numpy(y)
    pos = a > 0
    np.testing.assert_array_equal(ya[pos], a[pos])
    slopes = ya[~pos] / a[~pos]
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6
    assert abs(slopes.mean() - 0.2) < 0.01 and slopes.std() > 0.04
    y.backward(_et(np.ones_like(a)))
    g = to_numpy(x.grad)
    np.testing.assert_allclose(g[pos], 1.0)
    np.testing.assert_allclose(g[~pos], slopes, rtol=1e-5)
    assert y.grad_fn.name() == "RreluWithNoiseBackward0"


def test_rrelu_reproducible_and_eval_mean_slope():
    x = _et(rand(64))
    ember.manual_seed(5)
    a = to_numpy(F.rrelu(x, training=True))
    ember.manual_seed(5)
    b = to_numpy(F.rrelu(x, training=True))
    np.testing.assert_array_equal(a, b)
    check(lambda lib, x: lib.nn.functional.rrelu(x, 0.2, 0.4), _with_kinks((3, 5)))
    check(lambda lib, x: lib.nn.functional.rrelu(x, 0.25, 0.25, training=True),
          _with_kinks((3, 5)))


def test_rrelu_inplace_training_and_errors():
    ember.manual_seed(1)
    x = _et(np.array([-1.0, 2.0, -4.0], dtype=np.float32))
    r = F.rrelu_(x, 0.5, 0.5, training=True)
    assert r is x
    np.testing.assert_allclose(to_numpy(x), [-0.5, 2.0, -2.0])
    same_message(lambda lib, x: lib.nn.functional.rrelu(x, 0.5, 0.1), rand(3))
    same_message(lambda lib, x: lib.nn.functional.rrelu(x, 0.5, 0.1, training=True), rand(3))


def test_rrelu_module_train_eval():
    m = ember.nn.RReLU(0.1, 0.3)
    assert repr(m) == repr(torch.nn.RReLU(0.1, 0.3)) == "RReLU(lower=0.1, upper=0.3)"
    x = _et(-np.ones(1000, dtype=np.float32))
    ytr = to_numpy(m(x))
    assert len(np.unique(ytr)) > 100
    m.eval()
    np.testing.assert_allclose(to_numpy(m(x)), -0.2, rtol=1e-6)


# ------------------------------------------------------------------------------ softmax family

@pytest.mark.parametrize("fname", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(fname, dim):
    check(lambda lib, x: getattr(lib.nn.functional, fname)(x, dim), rand(3, 4, 5) * 5)
    check(lambda lib, x: getattr(lib.nn.functional, fname)(x, dim=dim, dtype=lib.float64),
          rand(3, 4))


@pytest.mark.parametrize("fname", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_implicit_dim_warns_and_picks_torchs_dim(fname, shape):
    a = rand(*shape) if shape else np.array(0.3, dtype=np.float32)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        t = getattr(torch.nn.functional, fname)(torch.tensor(a))
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        e = getattr(F, fname)(_et(a))
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-5, atol=1e-6)
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]
    assert we[0].filename == __file__  # stacklevel points at the caller, as in PyTorch


@pytest.mark.parametrize("fname", ["softmax", "log_softmax", "softmin"])
def test_softmax_family_stable_at_1e4(fname):
    a = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4 - 1]], dtype=np.float32)
    out = check(lambda lib, x: getattr(lib.nn.functional, fname)(x, 1), a)
    assert np.all(np.isfinite(to_numpy(out)))


def test_softmax_family_gradgradcheck():
    x = _et(rand(3, 4, dtype=np.float64), grad=True)
    for fn in (F.softmax, F.log_softmax, F.softmin):
        assert ember.autograd.gradcheck(lambda t, fn=fn: fn(t, 1), (x,))
        assert ember.autograd.gradgradcheck(lambda t, fn=fn: fn(t, 0), (x,))


def test_softmax_errors():
    same_message(lambda lib, x: lib.nn.functional.softmax(x, 0), Const(np.arange(3)))
    same_message(lambda lib, x: lib.nn.functional.log_softmax(x, 2), rand(3, 4))
    same_message(lambda lib, x: lib.nn.functional.softmin(x, 0), Const(np.array([True])))
    check_raises(lambda lib, x: lib.nn.functional.softmax(x.numpy(), 0), Const(rand(3)),
                 exc=TypeError)


def test_softmax2d_module():
    check(lambda lib, x: lib.nn.Softmax2d()(x), rand(2, 3, 4, 5))
    check(lambda lib, x: lib.nn.Softmax2d()(x), rand(3, 4, 5))
    same_message(lambda lib, x: lib.nn.Softmax2d()(x), rand(3, 4))
    assert repr(ember.nn.Softmax2d()) == "Softmax2d()"


def test_gumbel_softmax():
    ember.manual_seed(0)
    logits = _et(np.log(np.array([[0.1, 0.6, 0.3]] * 4000, dtype=np.float32)), grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(to_numpy(y).sum(1), 1.0, rtol=1e-5)
    yh = F.gumbel_softmax(logits, hard=True)
    h = to_numpy(yh)
    assert set(np.unique(h)) <= {0.0, 1.0} and np.all(h.sum(1) == 1)
    freq = h.mean(0)
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.03)
    yh.sum().backward()
    assert logits.grad is not None and tuple(logits.grad.shape) == (4000, 3)
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(logits, eps=1e-5)


# ------------------------------------------------------------------------------ argument errors

def test_argument_errors_like_torch():
    x = rand(2, 3)
    same_message(lambda lib, x: lib.nn.functional.hardtanh(x, 2.0, 1.0), x)
    same_message(lambda lib, x: lib.nn.functional.celu(x, 0.0), x)
    same_message(lambda lib, x: lib.nn.functional.gelu(x, approximate="foo"), x)
    same_message(lambda lib, x: lib.nn.functional.softshrink(x, -0.5), x)
    same_message(lambda lib, x: lib.nn.functional.softshrink(x.double(), -1.0), x)
    check_raises(lambda lib: lib.nn.Hardtanh(1.0, 1.0), exc=AssertionError)
    check_raises(lambda lib: lib.nn.functional.relu([1.0]), exc=TypeError)
    check_raises(lambda lib: lib.nn.functional.gelu(3.0), exc=TypeError)


def test_hardtanh_deprecated_keywords():
    with pytest.warns(FutureWarning, match="min_value"):
        m = ember.nn.Hardtanh(min_value=-2.0)
    assert m.min_val == -2.0
    with pytest.warns(FutureWarning, match="max_value"):
        m = ember.nn.Hardtanh(max_value=3.0)
    assert m.max_val == 3.0


# ------------------------------------------------------------------------------ modules

MODULES = [
    ("Threshold", (0.1, 20.0), {}), ("Threshold", (0.1, 20), {"inplace": True}),
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("RReLU", (), {}), ("RReLU", (0.1, 0.3, True), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 2, True), {}), ("ReLU6", (), {}),
    ("ReLU6", (True,), {}), ("Sigmoid", (), {}), ("Hardsigmoid", (), {}),
    ("Hardsigmoid", (True,), {}), ("Tanh", (), {}), ("SiLU", (), {}), ("SiLU", (True,), {}),
    ("Mish", (), {}), ("Mish", (True,), {}), ("Hardswish", (), {}), ("Hardswish", (True,), {}),
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("CELU", (), {}), ("CELU", (2.0,), {}),
    ("SELU", (), {}), ("SELU", (True,), {}), ("GLU", (), {}), ("GLU", (0,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("Hardshrink", (), {}),
    ("Hardshrink", (0.3,), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("LogSigmoid", (), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}),
    ("Softshrink", (), {}), ("Softshrink", (1.0,), {}), ("PReLU", (), {}),
    ("PReLU", (4,), {"init": 0.5}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Softmin", (1,), {}), ("Softmax", (), {"dim": -1}), ("Softmax", (), {}),
    ("LogSoftmax", (0,), {}), ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("cls,args,kwargs", MODULES)
def test_module_repr_and_forward(cls, args, kwargs):
    tm = getattr(torch.nn, cls)(*args, **kwargs)
    em = getattr(ember.nn, cls)(*args, **kwargs)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    if cls == "RReLU":
        tm.eval()
        em.eval()
    a = _with_kinks((2, 4, 3, 2))

    def run(lib, x):
        m = tm if lib is torch else em
        y = x * 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m(y)

    check(run, a)


def test_modules_in_a_model_train_step():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((8, 5)).astype(np.float32)

    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(5, 6), lib.nn.GELU(), lib.nn.Linear(6, 6),
                                 lib.nn.PReLU(6), lib.nn.Linear(6, 4), lib.nn.SiLU(),
                                 lib.nn.LogSoftmax(dim=1))

    tm = build(torch)
    em = build(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    yt = tm(torch.tensor(xs))
    ye = em(_et(xs))
    np.testing.assert_allclose(to_numpy(ye), to_numpy(yt), rtol=1e-5, atol=1e-6)
    yt.sum().backward()
    ye.sum().backward()
    for (n, pt), (_, pe) in zip(tm.named_parameters(), em.named_parameters()):
        np.testing.assert_allclose(to_numpy(pe.grad), to_numpy(pt.grad), rtol=1e-4, atol=1e-6,
                                   err_msg=n)


def test_torch_level_functions_and_tensor_methods():
    x = _with_kinks((3, 4))
    for name, args in [("selu", ()), ("celu", (1.5,)), ("hardshrink", (0.3,)),
                       ("threshold", (0.5, -1.0)), ("rrelu", (0.1, 0.3))]:
        check(lambda lib, x, n=name, a=args: getattr(lib, n)(x, *a), x)
    for name in ["selu_", "celu_", "threshold_", "rrelu_"]:
        args = (0.5, -1.0) if name == "threshold_" else ()
        check(lambda lib, x, n=name, a=args: getattr(lib, n)(x * 1, *a), x)
    check(lambda lib, x: x.hardshrink(0.4), x)
    check(lambda lib, x, w: x.prelu(w), x, rand(4))
    check(lambda lib, x, w: lib.prelu(x, w), x, rand(4))


def test_relu_large_threaded_path_like_torch():
    # large float inputs go through the blocked, threaded relu kernels; NaN inputs, a zero
    # band, and inf/NaN output gradients follow PyTorch's threshold_backward
    from tests.oracle import check

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 70000)).astype(np.float32)
    x[0, :5] = [np.nan, 0.0, -0.0, np.inf, -np.inf]
    g = rng.standard_normal(x.shape).astype(np.float32)
    g[1, :3] = [np.inf, np.nan, -np.inf]
    g[0, 5] = np.nan
    check(lambda lib, x: lib.relu(x) * lib.tensor(g), x)
    check(lambda lib, x: lib.nn.functional.relu(x.double()).sum(), x)
    # mid-sized (one block against the zeros buffer) and non-contiguous inputs
    check(lambda lib, x: lib.relu(x[:, :3000]) * lib.tensor(g[:, :3000]), x)
    check(lambda lib, x: lib.relu(x[:, :6000].t()).t() * lib.tensor(g[:, :6000]), x)
