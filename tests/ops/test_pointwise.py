"""Pointwise ops against PyTorch: values, dtypes, gradients, errors, in-place variants, out=."""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np
import pytest

import ember
from ember.ops import pointwise
from tests.oracle import Const, Sliced, Transposed, check, check_raises, same_message, torch

pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")

RNG = np.random.default_rng(7)


def arr(*shape, lo=-1.0, hi=1.0, dtype=np.float32):
    """Uniform array (0-d included) in [lo, hi); ints for integer dtypes, bools for bool."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return np.asarray(RNG.random(shape) > 0.5)
    if dt.kind in "iu":
        return np.asarray(RNG.integers(int(lo), int(hi), size=shape)).astype(dt)
    return np.asarray(RNG.random(shape) * (hi - lo) + lo).astype(dt)


def layouts(lo, hi, dtype=np.float32):
    """Inputs covering 2-d, 0-d, empty, 1-element and non-contiguous layouts."""
    return [arr(3, 4, lo=lo, hi=hi, dtype=dtype), arr(lo=lo, hi=hi, dtype=dtype),
            arr(0, 3, lo=lo, hi=hi, dtype=dtype), arr(1, lo=lo, hi=hi, dtype=dtype),
            Transposed(arr(4, 3, lo=lo, hi=hi, dtype=dtype)),
            Sliced(arr(3, 5, lo=lo, hi=hi, dtype=dtype))]


def gradcheck(fn, *arrays, **kw):
    inputs = [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, inputs, **kw)


def gradgradcheck(fn, *arrays, **kw):
    inputs = [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrays]
    assert ember.autograd.gradgradcheck(fn, inputs, **kw)


# ---------------------------------------------------------------------------------------------
# unary functions
# ---------------------------------------------------------------------------------------------

# name -> domain where the function is smooth (for values, gradients and gradcheck)
UNARY_FLOAT = {
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.1, 3), "log2": (0.1, 3),
    "log10": (0.1, 3), "log1p": (-0.5, 2), "sqrt": (0.1, 3), "rsqrt": (0.1, 3),
    "reciprocal": (0.2, 2), "sigmoid": (-4, 4), "tanh": (-2, 2), "sin": (-3, 3),
    "cos": (-3, 3), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
    "atan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2), "asinh": (-3, 3), "acosh": (1.2, 4),
    "atanh": (-0.9, 0.9), "deg2rad": (-90, 90), "rad2deg": (-3, 3), "sinc": (-2, 2),
    "erf": (-2, 2), "erfc": (-2, 2), "erfinv": (-0.9, 0.9), "lgamma": (0.2, 5),
    "digamma": (0.3, 5), "i0": (-4, 4), "logit": (0.05, 0.95), "arcsin": (-0.9, 0.9),
    "arccos": (-0.9, 0.9), "arctan": (-3, 3), "arcsinh": (-3, 3), "arccosh": (1.2, 4),
    "arctanh": (-0.9, 0.9),
}
# ops that keep integer dtypes
UNARY_KEEP = {"abs": (-3, 3), "absolute": (-3, 3), "neg": (-3, 3), "negative": (-3, 3),
              "sign": (-3, 3), "sgn": (-3, 3), "square": (-3, 3), "floor": (-3, 3),
              "ceil": (-3, 3), "round": (-3, 3), "trunc": (-3, 3), "fix": (-3, 3),
              "relu": (-3, 3), "positive": (-3, 3), "nan_to_num": (-3, 3)}
FLOAT_ONLY = {"frac": (-3, 3)}
ALL_UNARY = {**UNARY_FLOAT, **UNARY_KEEP, **FLOAT_ONLY}


@pytest.mark.parametrize("name", sorted(ALL_UNARY))
@pytest.mark.parametrize("layout", range(6))
def test_unary_float32(name, layout):
    lo, hi = ALL_UNARY[name]
    x = layouts(lo, hi)[layout]
    check(lambda lib, a: getattr(lib, name)(a), x, atol=1e-5, rtol=2e-6)


@pytest.mark.parametrize("name", sorted(ALL_UNARY))
def test_unary_float64_tight(name):
    lo, hi = ALL_UNARY[name]
    # digamma's gradient is trigamma, which PyTorch computes to only ~1e-9
    grad_rtol = 1e-8 if name == "digamma" else None
    check(lambda lib, a: getattr(lib, name)(a), arr(40, lo=lo, hi=hi, dtype=np.float64),
          atol=1e-13, rtol=1e-12, grad_rtol=grad_rtol)


@pytest.mark.parametrize("name", sorted(UNARY_FLOAT) + sorted(UNARY_KEEP))
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_unary_integer_inputs(name, dtype):
    """Float functions compute integers in the default float dtype; the others keep them."""
    x = arr(3, 4, lo=0 if dtype == np.uint8 else -3, hi=4, dtype=dtype)
    if dtype == np.bool_ and name in ("abs", "absolute", "neg", "negative", "floor", "ceil",
                                      "round", "trunc", "fix", "relu", "positive"):
        check_raises(lambda lib, a: getattr(lib, name)(a), x)
        return
    check(lambda lib, a: getattr(lib, name)(a), x, grad=False)


@pytest.mark.parametrize("name", sorted(ALL_UNARY))
def test_unary_half_precision(name):
    lo, hi = ALL_UNARY[name]
    x = arr(3, 5, lo=lo, hi=hi)
    check(lambda lib, a: getattr(lib, name)(a.half()), x, grad=False)
    check(lambda lib, a: getattr(lib, name)(a.to(lib.bfloat16)), x, grad=False, atol=2e-2,
          rtol=2e-2)


def test_default_dtype_for_integer_inputs():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        check(lambda lib, a: lib.sqrt(a), arr(4, lo=0, hi=9, dtype=np.int64), grad=False)
        check(lambda lib, a: lib.pow(a, 0.5), arr(4, lo=0, hi=9, dtype=np.int64), grad=False)
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", sorted(n for n in ALL_UNARY if n != "positive"))
def test_unary_gradcheck(name):
    lo, hi = ALL_UNARY[name]
    fn = getattr(ember, name)
    gradcheck(fn, arr(2, 3, lo=lo, hi=hi, dtype=np.float64))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "sqrt", "log", "erf", "erfinv", "lgamma",
                                  "digamma", "i0", "sinc", "atan", "logit", "rsqrt", "acosh",
                                  "reciprocal", "sin", "expm1"])
def test_unary_gradgradcheck(name):
    lo, hi = ALL_UNARY[name]
    gradgradcheck(getattr(ember, name), arr(2, 3, lo=lo, hi=hi, dtype=np.float64))


@pytest.mark.parametrize("name", sorted(n for n in ALL_UNARY if n not in ("positive",)))
def test_unary_grad_fn_names(name):
    lo, hi = ALL_UNARY[name]
    x = arr(3, lo=lo, hi=hi)
    te = getattr(torch, name)(torch.tensor(x, requires_grad=True))
    ee = getattr(ember, name)(ember.tensor(x, requires_grad=True))
    assert type(ee.grad_fn).__name__ == type(te.grad_fn).__name__


def test_special_values():
    vals = np.array([0.0, -0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan, 1e-30, 50.0, -50.0])
    for name in ["exp", "log", "sqrt", "sign", "sgn", "sigmoid", "tanh", "erf", "erfc",
                 "lgamma", "digamma", "i0", "floor", "round", "frac", "relu", "abs",
                 "nan_to_num", "sinc", "signbit", "isnan", "isinf", "isfinite", "isposinf",
                 "isneginf", "isreal", "logit", "erfinv", "angle", "reciprocal", "rsqrt",
                 "expm1", "log1p"]:
        for dt in (np.float32, np.float64):
            check(lambda lib, a, name=name: getattr(lib, name)(a), vals.astype(dt), grad=False)


def test_round_half_even_and_decimals():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 1.2345, 0.125, 1254.5, 1e20], dtype=np.float32)
    check(lambda lib, a: lib.round(a), x)
    for d in (0, 1, 2, 3, -1, -2):
        check(lambda lib, a, d=d: lib.round(a, decimals=d), x)
        check(lambda lib, a, d=d: lib.round(a, decimals=d), x.astype(np.float64))
    r = ember.round(ember.tensor([1.5], requires_grad=True), decimals=1)
    assert type(r.grad_fn).__name__ == "RoundBackward1"
    check_raises(lambda lib, a: lib.round(a, decimals=1), np.array([15, 25]))


def test_logit_eps_and_nan_outside():
    x = np.array([0.0, 0.05, 0.1, 0.5, 0.9, 1.0, -0.1, 1.1], dtype=np.float32)
    check(lambda lib, a: lib.logit(a, eps=0.1), x)
    check(lambda lib, a: lib.logit(a), x)
    check(lambda lib, a: lib.logit(a, 1e-6), arr(2, 3, lo=0, hi=1))


def test_nan_to_num_arguments():
    x = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=np.float32)
    check(lambda lib, a: lib.nan_to_num(a), x)
    check(lambda lib, a: lib.nan_to_num(a, 1.0, 2.0, -3.0), x)
    check(lambda lib, a: lib.nan_to_num(a, nan=4.0, neginf=-1.0), x.astype(np.float16),
          grad=False)
    check(lambda lib, a: lib.nan_to_num(a, 1.5), np.array([1, 2]), grad=False)


def test_polygamma():
    x = arr(3, 4, lo=0.3, hi=6, dtype=np.float64)
    for n in range(5):
        check(lambda lib, a, n=n: lib.polygamma(n, a), x, atol=1e-12, rtol=1e-8)
        check(lambda lib, a, n=n: a.polygamma(n), x.astype(np.float32), rtol=1e-5)
    gradcheck(lambda t: ember.polygamma(2, t), arr(5, lo=0.5, hi=4, dtype=np.float64))
    gradgradcheck(lambda t: ember.polygamma(1, t), arr(5, lo=0.5, hi=4, dtype=np.float64))
    neg = np.array([-0.5, -1.5, -2.25, -3.7], dtype=np.float64)
    for n in range(4):
        check(lambda lib, a, n=n: lib.polygamma(n, a), neg, rtol=1e-8, grad=False)
    check_raises(lambda lib, a: lib.polygamma(-1, a), x, match="negative n")
    check(lambda lib, a: lib.polygamma(1, a), np.array([1, 2, 3]), grad=False, rtol=1e-6)
    check(lambda lib, a: a.clone().polygamma_(1), x)


# float64 accuracy of the special functions, against PyTorch (which calls libm/cephes)
@pytest.mark.parametrize("name,lo,hi,rtol,atol", [
    ("erf", -6, 6, 1e-14, 0), ("erfc", -6, 27, 1e-13, 0), ("erfinv", -1, 1, 1e-13, 0),
    ("lgamma", -30, 60, 1e-12, 1e-14), ("digamma", -10, 40, 1e-11, 1e-13),
    ("i0", -50, 50, 1e-13, 0),
])
def test_special_float64_accuracy(name, lo, hi, rtol, atol):
    x = np.concatenate([arr(400, lo=lo, hi=hi, dtype=np.float64),
                        arr(100, lo=-1, hi=1, dtype=np.float64) * 1e-3,
                        arr(100, lo=0.9, hi=2.1, dtype=np.float64)])
    if name == "erfinv":
        x = np.clip(x / max(abs(lo), abs(hi)), -1, 1)
        x = np.concatenate([x, 1 - 10.0 ** -arr(50, lo=1, hi=15.9, dtype=np.float64)])
    check(lambda lib, a: getattr(lib, name)(a), x, rtol=rtol, atol=atol, grad=False)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "lgamma", "digamma", "i0"])
def test_special_float32(name):
    lo, hi = {"erf": (-5, 5), "erfc": (-5, 9), "erfinv": (-0.999, 0.999), "lgamma": (-8, 30),
              "digamma": (-8, 30), "i0": (-20, 20)}[name]
    check(lambda lib, a: getattr(lib, name)(a), arr(500, lo=lo, hi=hi), rtol=5e-6, atol=1e-6,
          grad=False)


def test_special_against_mpmath():
    """Tighter than PyTorch's own trigamma: checked against arbitrary precision."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-6, 6, 60), rng.uniform(0.9, 2.1, 40)])
    cases = [
        ("erf", ember.erf, mpmath.erf, x), ("erfc", ember.erfc, mpmath.erfc, x),
        ("lgamma", ember.lgamma, lambda v: mpmath.log(abs(mpmath.gamma(v))), x),
        ("trigamma", lambda t: ember.polygamma(1, t), lambda v: mpmath.polygamma(1, v), x),
        ("polygamma3", lambda t: ember.polygamma(3, t), lambda v: mpmath.polygamma(3, v), x),
        ("erfinv", ember.erfinv, mpmath.erfinv, np.tanh(x)),
        ("i0", ember.i0, lambda v: mpmath.besseli(0, v), x * 5),
    ]
    for name, fn, ref, pts in cases:
        got = fn(ember.tensor(pts, dtype=ember.float64)).numpy()
        want = np.array([float(ref(mpmath.mpf(float(p)))) for p in pts])
        np.testing.assert_allclose(got, want, rtol=2e-13, atol=1e-300, err_msg=name)


def test_unary_methods_and_inplace():
    x = arr(3, 4, lo=0.1, hi=0.9)
    for name in ["exp", "sqrt", "sin", "sigmoid", "tanh", "abs", "floor", "erf", "lgamma",
                 "reciprocal", "relu", "logit", "nan_to_num", "sign", "frac", "arcsin",
                 "digamma", "square", "i0"]:
        check(lambda lib, a, name=name: getattr(a, name)(), x)
        # in place on a non-leaf: same values, gradient through the rebased graph
        check(lambda lib, a, name=name: getattr(a * 1, name + "_")(), x)
        t = ember.tensor(x)
        v = t._version
        r = getattr(t, name + "_")()
        assert r is t and t._version == v + 1
        np.testing.assert_allclose(t.numpy(), getattr(torch, name)(torch.tensor(x)).numpy(),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["sqrt_", "exp_", "sin_", "relu_", "abs_", "sigmoid_",
                                  "clamp_", "round_", "floor_", "erf_", "nan_to_num_"])
def test_torch_namespace_inplace(name):
    kw = {"min": 0.0} if name == "clamp_" else {}
    check(lambda lib, a: getattr(lib, name)(a * 1, **kw), arr(3, 4, lo=0.1, hi=2))


def test_inplace_errors():
    check_raises(lambda lib, a: a.requires_grad_().sin_(), arr(3), match="leaf Variable")
    check_raises(lambda lib, a: a.sqrt_(), arr(3, lo=1, hi=5, dtype=np.int64),
                 match="can't be cast")
    check_raises(lambda lib, a: a.abs_(), arr(3, dtype=np.bool_), match="abs_cpu")
    check_raises(lambda lib, a: a.clamp_(min=0.5), arr(3, lo=0, hi=5, dtype=np.int64),
                 match="can't be cast")
    check_raises(lambda lib, a, b: a.add_(b), arr(3), arr(2, 3), match="doesn't match")
    check_raises(lambda lib, a, b: a.lerp_(b, 0.5), arr(3), arr(2, 3))


def test_out_argument():
    x = arr(3, 4, lo=0.1, hi=2)
    check(lambda lib, a: lib.sqrt(a, out=lib.empty(3, 4)), x, grad=False)
    check(lambda lib, a: lib.exp(a, out=lib.empty(3, 4, dtype=lib.float64)), x, grad=False)
    check(lambda lib, a: lib.exp(a, out=lib.empty(3, 4, dtype=lib.float64)),
          arr(3, 4, lo=0, hi=3, dtype=np.int64), grad=False)
    check(lambda lib, a: lib.pow(a, 2, out=lib.empty(3, 4)), x, grad=False)
    check(lambda lib, a, b: lib.maximum(a, b, out=lib.empty(0)), x, arr(4), grad=False)
    check(lambda lib, a, b: lib.eq(a, b, out=lib.empty(3, 4)), x, x, grad=False)
    check(lambda lib, a, b: lib.where(a > 1, a, b, out=lib.empty(3, 4)), x, arr(4), grad=False)
    check(lambda lib, a: lib.clamp(a, 0.5, 1.5, out=lib.empty(3, 4)), x, grad=False)
    check(lambda lib, a, b: lib.logical_and(a, b, out=lib.empty(3, 4, dtype=lib.int64)), x,
          arr(4), grad=False)
    check_raises(lambda lib, a: lib.exp(a, out=lib.empty(3, 4, dtype=lib.int64)), x,
                 match="can't be cast")
    check_raises(lambda lib, a: lib.sin(a.requires_grad_(), out=lib.empty(3, 4)), x,
                 match="don't support automatic differentiation")


def test_unary_errors():
    c = np.array([1 + 2j, -1j], dtype=np.complex64)
    check_raises(lambda lib, a: lib.frac(a), np.array([1, 2]), match="frac_cpu")
    check_raises(lambda lib, a: lib.floor(a), np.array([True]), match="floor_vml_cpu")
    check_raises(lambda lib, a: lib.sign(a), c, match="torch.sgn")
    check_raises(lambda lib, a: lib.relu(a), np.array([True]), match="Boolean inputs")
    check_raises(lambda lib, a: lib.erf(a), c, match="erf_vml_cpu")
    check_raises(lambda lib, a: lib.positive(a), np.array([True]), match="bool tensor")
    check_raises(lambda lib, a: lib.imag(a), arr(3), match="non-complex")
    check_raises(lambda lib, a: lib.signbit(a), c)
    check_raises(lambda lib, a: lib.deg2rad(a), c)
    check_raises(lambda lib, a: lib.isposinf(a), c)
    check_raises(lambda lib: lib.sin([1.0]), match="must be Tensor")
    check_raises(lambda lib: lib.abs(1.0), match="must be Tensor")


def test_complex_unary():
    z = np.array([[1 + 2j, -3 + 0.5j], [0.25 - 1j, 2 + 0.1j]], dtype=np.complex64)
    for name in ["exp", "sin", "cos", "tanh", "sigmoid", "sqrt", "log", "reciprocal", "abs",
                 "angle", "sgn", "neg", "square", "tan", "sinh", "atan"]:
        check(lambda lib, a, name=name: getattr(lib, name)(a), z, atol=1e-5, rtol=1e-5)
    check(lambda lib, a: lib.real(a) * 2 + lib.imag(a), z)
    check(lambda lib, a: lib.isreal(a), np.array([1 + 0j, 1j]), grad=False)
    check(lambda lib, a: lib.nan_to_num(a), np.array([complex(np.nan, np.inf), 1j]),
          grad=False)
    check(lambda lib, a: lib.angle(a), np.array([-1.0, 0.0, 2.0, -0.0], dtype=np.float32))
    check(lambda lib, a: lib.angle(a), np.array([-1, 0, 2]), grad=False)
    check(lambda lib, a, b: lib.logaddexp(a, b), z, z[::-1].copy(), atol=1e-5, rtol=1e-5)
    check_raises(lambda lib, a: lib.nan_to_num(a.requires_grad_()), z, match="complex dtype")


# ---------------------------------------------------------------------------------------------
# binary functions
# ---------------------------------------------------------------------------------------------

SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((3,), ()),
               ((0, 3), (3,)), ((1,), (2, 2))]

# name -> (domain of input, domain of other)
BINARY_FLOAT = {
    "add": ((-2, 2), (-2, 2)), "sub": ((-2, 2), (-2, 2)), "mul": ((-2, 2), (-2, 2)),
    "div": ((-2, 2), (0.5, 2)), "pow": ((0.2, 2), (-2, 2)),
    "float_power": ((0.2, 2), (-2, 2)), "fmod": ((-5, 5), (0.5, 2)),
    "remainder": ((-5, 5), (-2, -0.5)), "maximum": ((-2, 2), (-2, 2)),
    "minimum": ((-2, 2), (-2, 2)), "fmax": ((-2, 2), (-2, 2)), "fmin": ((-2, 2), (-2, 2)),
    "hypot": ((-2, 2), (-2, 2)), "atan2": ((-2, 2), (-2, 2)), "arctan2": ((-2, 2), (-2, 2)),
    "copysign": ((-2, 2), (-2, 2)), "xlogy": ((-2, 2), (0.2, 3)),
    "logaddexp": ((-3, 3), (-3, 3)), "logaddexp2": ((-3, 3), (-3, 3)),
}
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
           "less_equal", "not_equal"]


@pytest.mark.parametrize("name", sorted(BINARY_FLOAT))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_binary_broadcast(name, shapes):
    (lo1, hi1), (lo2, hi2) = BINARY_FLOAT[name]
    a = arr(*shapes[0], lo=lo1, hi=hi1)
    b = arr(*shapes[1], lo=lo2, hi=hi2)
    check(lambda lib, x, y: getattr(lib, name)(x, y), a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(BINARY_FLOAT))
def test_binary_noncontiguous_and_float64(name):
    (lo1, hi1), (lo2, hi2) = BINARY_FLOAT[name]
    check(lambda lib, x, y: getattr(lib, name)(x, y), Transposed(arr(3, 4, lo=lo1, hi=hi1)),
          Sliced(arr(3, 4, lo=lo2, hi=hi2)), atol=1e-5, rtol=1e-5)
    check(lambda lib, x, y: getattr(lib, name)(x, y), arr(3, 4, lo=lo1, hi=hi1,
                                                           dtype=np.float64),
          arr(4, lo=lo2, hi=hi2, dtype=np.float64), atol=1e-12, rtol=1e-12)
    check(lambda lib, x, y: getattr(lib, name)(x, y), arr(3, 4, lo=lo1, hi=hi1),
          Const(arr(4, lo=lo2, hi=hi2)))


@pytest.mark.parametrize("name", sorted(BINARY_FLOAT))
def test_binary_gradcheck(name):
    (lo1, hi1), (lo2, hi2) = BINARY_FLOAT[name]
    fn = getattr(ember, name)
    gradcheck(fn, arr(2, 3, lo=lo1, hi=hi1, dtype=np.float64),
              arr(3, lo=lo2, hi=hi2, dtype=np.float64))


@pytest.mark.parametrize("name", ["pow", "div", "atan2", "hypot", "maximum", "xlogy",
                                  "logaddexp", "copysign", "remainder", "float_power"])
def test_binary_gradgradcheck(name):
    (lo1, hi1), (lo2, hi2) = BINARY_FLOAT[name]
    gradgradcheck(getattr(ember, name), arr(2, 3, lo=lo1, hi=hi1, dtype=np.float64),
                  arr(3, lo=lo2, hi=hi2, dtype=np.float64))


DTYPE_PAIRS = [(np.float32, np.float64), (np.int64, np.float32), (np.int32, np.int64),
               (np.bool_, np.int64), (np.float16, np.float32), (np.uint8, np.int8),
               (np.int16, np.float16), (np.bool_, np.bool_), (np.int64, np.int64),
               (np.uint8, np.uint8)]


def _lo(dt):
    return 0 if np.dtype(dt).kind in "ub" else -4


@pytest.mark.parametrize("name", ["add", "mul", "maximum", "minimum", "fmax", "fmin", "pow",
                                  "atan2", "copysign", "xlogy", "fmod", "remainder",
                                  "floor_divide", "hypot", "logaddexp"] + COMPARE)
@pytest.mark.parametrize("dts", DTYPE_PAIRS)
def test_binary_type_promotion(name, dts):
    a = arr(3, 4, lo=_lo(dts[0]), hi=5, dtype=dts[0])
    b = arr(4, lo=1, hi=5, dtype=dts[1])  # positive: no integer division by zero
    fn = lambda lib, x, y: getattr(lib, name)(x, y)  # noqa: E731
    try:
        torch_ok = True
        fn(torch, torch.tensor(a), torch.tensor(b))
    except (RuntimeError, NotImplementedError, TypeError):
        torch_ok = False
    if torch_ok:
        check(fn, a, b, grad=False, atol=1e-3 if np.float16 in dts else 1e-5,
              rtol=1e-3 if np.float16 in dts else 1e-5)
    else:
        check_raises(fn, a, b)


SCALARS = [2, -3, 2.5, True, 0.5]


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "fmod", "remainder",
                                  "copysign", "xlogy", "floor_divide", "float_power"] + COMPARE)
@pytest.mark.parametrize("s", SCALARS)
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_, np.float16])
def test_tensor_scalar(name, s, dt):
    a = arr(3, 4, lo=1, hi=6, dtype=dt)
    fn = lambda lib, x: getattr(lib, name)(x, s)  # noqa: E731
    try:
        fn(torch, torch.tensor(a))
    except (RuntimeError, NotImplementedError, TypeError):
        check_raises(fn, a)
        return
    tol = 1e-3 if dt == np.float16 else 1e-5
    check(fn, a, atol=tol, rtol=tol, grad=name != "floor_divide")


@pytest.mark.parametrize("name", ["add", "mul", "pow", "fmod", "remainder", "copysign", "xlogy",
                                  "floor_divide", "float_power", "lt", "eq"])
@pytest.mark.parametrize("s", [2, 2.5, -1.5])
def test_bfloat16_with_scalar(name, s):
    """bfloat16 results keep their dtype (computed through float32, like PyTorch)."""
    a = arr(3, 4, lo=0.5, hi=4)
    check(lambda lib, x: getattr(lib, name)(x.to(lib.bfloat16), s), a, grad=False, atol=3e-2,
          rtol=2e-2)


def test_bfloat16_misc():
    a, b = arr(3, 4, lo=-2, hi=2), arr(4, lo=-2, hi=2)
    bf = lambda lib, t: t.to(lib.bfloat16)  # noqa: E731
    check(lambda lib, x, y: lib.maximum(bf(lib, x), bf(lib, y)), a, b, grad=False)
    check(lambda lib, x, y: lib.atan2(bf(lib, x), bf(lib, y)), a, b, grad=False, atol=3e-2)
    check(lambda lib, x: lib.clamp(bf(lib, x), -0.5, 0.5), a, grad=False)
    check(lambda lib, x, y: lib.where(x > 0, bf(lib, x), 0.25), a, b, grad=False)
    check(lambda lib, x, y: lib.lerp(bf(lib, x), bf(lib, y), 0.3), a, b, grad=False,
          atol=3e-2)
    x = ember.tensor(a).to(ember.bfloat16).requires_grad_()
    assert type(ember.pow(x, 2.5).grad_fn).__name__ == "PowBackward0"


@pytest.mark.parametrize("name", ["pow", "remainder", "xlogy", "floor_divide", "float_power",
                                  "bitwise_and", "bitwise_left_shift", "bitwise_xor"])
@pytest.mark.parametrize("s", [2, 3.5, True])
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_])
def test_scalar_tensor(name, s, dt):
    if name == "pow" and s is True:
        pytest.skip("PyTorch hits an internal assert for a bool base")
    a = arr(3, 4, lo=1, hi=4, dtype=dt)
    fn = lambda lib, x: getattr(lib, name)(s, x)  # noqa: E731
    try:
        fn(torch, torch.tensor(a))
    except (RuntimeError, NotImplementedError, TypeError):
        check_raises(fn, a)
        return
    check(fn, a, grad=name not in ("floor_divide", "remainder"))


def test_grad_fn_names_binary():
    a, b = arr(3, lo=0.5, hi=2), arr(3, lo=0.5, hi=2)
    cases = [
        lambda lib, x, y: lib.pow(x, 2), lambda lib, x, y: lib.pow(x, y),
        lambda lib, x, y: lib.pow(2.5, x), lambda lib, x, y: x ** y, lambda lib, x, y: 2 ** x,
        lambda lib, x, y: lib.fmod(x, y), lambda lib, x, y: lib.fmod(x, 1.5),
        lambda lib, x, y: lib.remainder(x, y), lambda lib, x, y: lib.remainder(x, 1.5),
        lambda lib, x, y: lib.remainder(1.5, x), lambda lib, x, y: lib.floor_divide(x, y),
        lambda lib, x, y: lib.copysign(x, y), lambda lib, x, y: lib.copysign(x, -1.0),
        lambda lib, x, y: lib.xlogy(x, y), lambda lib, x, y: lib.xlogy(2.0, y),
        lambda lib, x, y: lib.xlogy(x, 2.0), lambda lib, x, y: lib.clamp(x, 0.6, 1.5),
        lambda lib, x, y: lib.clamp(x, y), lambda lib, x, y: lib.clamp(x, max=y),
        lambda lib, x, y: lib.clamp_min(x, 1.0), lambda lib, x, y: lib.clamp_min(x, y),
        lambda lib, x, y: lib.clamp_max(x, 1.0), lambda lib, x, y: lib.clamp_max(x, y),
        lambda lib, x, y: lib.lerp(x, y, 0.3), lambda lib, x, y: lib.lerp(x, y, y),
        lambda lib, x, y: lib.addcmul(x, x, y), lambda lib, x, y: lib.addcdiv(x, x, y),
        lambda lib, x, y: lib.where(x > 1, x, y), lambda lib, x, y: lib.maximum(x, y),
        lambda lib, x, y: lib.fmin(x, y), lambda lib, x, y: lib.hypot(x, y),
        lambda lib, x, y: lib.atan2(x, y), lambda lib, x, y: lib.logaddexp2(x, y),
        lambda lib, x, y: lib.heaviside(x, y), lambda lib, x, y: lib.float_power(x, y),
        lambda lib, x, y: lib.polygamma(1, x), lambda lib, x, y: lib.square(x),
        lambda lib, x, y: x.clone().clamp_(0.6, 1.5), lambda lib, x, y: x.clone().pow_(y),
        lambda lib, x, y: lib.rsub(x, 2),
    ]
    for fn in cases:
        te = fn(torch, torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True))
        ee = fn(ember, ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True))
        assert type(ee.grad_fn).__name__ == type(te.grad_fn).__name__


@pytest.mark.filterwarnings("ignore:Casting complex values to real")
def test_pow_rules():
    i = np.array([[-2, -1, 0, 1, 2, 3]])
    check(lambda lib, a: lib.pow(a, 3), i, grad=False)
    check(lambda lib, a: lib.pow(a, 2.5), np.abs(i), grad=False)
    check(lambda lib, a, b: lib.pow(a, b), i, np.array([[-3], [-2], [0], [2]]), grad=False)
    check(lambda lib, a: lib.pow(2, a), i, grad=False)
    check(lambda lib, a: lib.pow(a, True), np.array([True, False]), grad=False)
    check(lambda lib, a: lib.pow(a, 2), np.array([True, False]), grad=False)
    check(lambda lib, a: lib.pow(a, 5), np.array([3, -7], dtype=np.int8), grad=False)
    check(lambda lib, a: lib.pow(a, 2), np.array([30, 7], dtype=np.uint8), grad=False)
    check_raises(lambda lib, a: lib.pow(a, -1), i, match="negative integer powers")
    check_raises(lambda lib, a: a ** -2, i, match="negative integer powers")
    check_raises(lambda lib: lib.pow(2, 3), match="invalid combination")
    # derivative corner cases: 0 ** 0, x ** 0, 0 ** y, negative base
    a = np.array([0.0, 1.0, 2.0, 0.0, -2.0])
    b = np.array([0.0, 0.0, 2.0, 0.5, 3.0])
    check(lambda lib, x, y: lib.pow(x, y), a, b)
    check(lambda lib, x: lib.pow(x, 0.0), a)
    check(lambda lib, x: lib.pow(x, 0.5), a)
    check(lambda lib, x: lib.pow(0.0, x), b - 1)
    check(lambda lib, x: lib.pow(-2.0, x), b)
    check(lambda lib, x: lib.pow(x, 1.5 + 0.5j), np.array([1.0, 2.0]))
    check(lambda lib, x: lib.float_power(x, 2), np.array([1, 2, 3]), grad=False)
    check(lambda lib, x: lib.float_power(x, 1j), np.array([1.0, 2.0]), grad=False)
    check(lambda lib, x: x.float_power_(2), np.array([1.5, 2.0]), grad=False)
    check_raises(lambda lib, x: x.float_power_(2), np.array([1.5, 2.0], dtype=np.float32),
                 match="float_power_")
    gradgradcheck(lambda t: ember.pow(t, 3), arr(4, dtype=np.float64))
    gradgradcheck(lambda t: ember.pow(1.7, t), arr(4, dtype=np.float64))


def test_division_family():
    x = np.array([5, -5, 7, -7, 0])
    y = np.array([2, 3, -2, -3, 4])
    for name in ["floor_divide", "fmod", "remainder"]:
        check(lambda lib, a, b, name=name: getattr(lib, name)(a, b), x, y, grad=False)
        check(lambda lib, a, b, name=name: getattr(lib, name)(a, b), x.astype(np.float32) + 0.5,
              y.astype(np.float32), grad=False)
        check_raises(lambda lib, a, name=name: getattr(lib, name)(a, 0), x,
                     match="ZeroDivisionError")
        check_raises(lambda lib, a, b, name=name: getattr(lib, name)(a, b), x, y * 0,
                     match="ZeroDivisionError")
    f = np.array([-0.5, 0.5, 1.0, -1.0, 3.0], dtype=np.float32)
    g = np.array([1.0, -1.0, 0.0, 0.0, -0.0], dtype=np.float32)
    for name in ["floor_divide", "fmod", "remainder"]:
        check(lambda lib, a, b, name=name: getattr(lib, name)(a, b), f, g, grad=False)
    check(lambda lib, a: 5 // a, y, grad=False)
    check(lambda lib, a: 5.5 % a, y.astype(np.float32), grad=False)
    check_raises(lambda lib, a: lib.fmod(2, a), x, match="invalid combination")
    check_raises(lambda lib, a: lib.remainder(a, a), np.array([True]), match="remainder_cpu")
    for mode in ("floor", "trunc"):
        check_raises(lambda lib, a, mode=mode: lib.div(a, a, rounding_mode=mode),
                     np.array([True]), match=f"div_{mode}_cpu")
    check_raises(lambda lib, a: lib.floor_divide(a, True), np.array([True]),
                 match="div_floor_cpu")


def _backward_raises(fn, *arrays, match):
    for lib in (torch, ember):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        with pytest.raises(RuntimeError, match=match):
            fn(lib, *ts).sum().backward()


def test_no_derivative_ops():
    _backward_raises(lambda lib, a: lib.floor_divide(a, 2.0), arr(3), match="floor_divide")
    _backward_raises(lambda lib, a, b: lib.heaviside(a, b), arr(3), arr(3), match="heaviside")
    _backward_raises(lambda lib, a: lib.remainder(2.5, a), arr(3, lo=1, hi=2),
                     match="remainder")


def test_maximum_minimum_ties_and_nan():
    a = np.array([1.0, np.nan, 3.0, np.nan, 2.0, -0.0], dtype=np.float32)
    b = np.array([np.nan, 3.0, 2.0, np.nan, 2.0, 0.0], dtype=np.float32)
    for name in ["maximum", "minimum", "fmax", "fmin"]:
        check(lambda lib, x, y, name=name: getattr(lib, name)(x, y), a, b)
    check(lambda lib, x, y: lib.maximum(x, y), np.array([1, 5]), np.array([3, 2]), grad=False)
    check(lambda lib, x, y: lib.maximum(x, y), np.array([True, False]),
          np.array([False, False]), grad=False)
    check_raises(lambda lib, x: lib.maximum(x, 1), a, match="must be Tensor")
    check_raises(lambda lib, x: lib.maximum(x, x), np.array([1j]), match="complex")


def test_special_binary_cases():
    x = np.array([0.0, 0.0, 1.0, 2.0, -1.0, 0.0], dtype=np.float32)
    y = np.array([0.0, -1.0, 0.0, 3.0, 2.0, np.nan], dtype=np.float32)
    check(lambda lib, a, b: lib.xlogy(a, b), x, y)
    check(lambda lib, a, b: lib.copysign(a, b), np.array([0.0, -0.0, 1.0, -2.0]),
          np.array([1.0, -1.0, -0.0, 3.0]))
    check(lambda lib, a, b: lib.logaddexp(a, b), np.array([-np.inf, np.inf, 1000.0, -1000.0]),
          np.array([-np.inf, np.inf, 1000.0, 1.0]), grad=False)
    check(lambda lib, a, b: lib.hypot(a, b), np.array([3.0, 1e200]), np.array([4.0, 1e200]),
          grad=False)
    check(lambda lib, a, b: lib.heaviside(a, b), np.array([-1.0, 0.0, 2.0, np.nan]),
          np.array([0.5]), grad=False)
    check(lambda lib, a, b: lib.heaviside(a, b), np.array([-1, 0, 2]), np.array([5]))
    check(lambda lib, a, b: lib.heaviside(a, b), np.array([True, False]),
          np.array([True, True]))
    check_raises(lambda lib, a, b: lib.heaviside(a, b), np.array([-1, 0]), np.array([0.5]),
                 match="different dtypes")
    check_raises(lambda lib, a, b: lib.hypot(a, b), np.array([1, 2]), np.array([1, 2]),
                 match="hypot_cpu")
    check_raises(lambda lib, a, b: lib.logaddexp(a, b), np.array([1, 2]), np.array([1, 2]),
                 match="logaddexp_cpu")
    check_raises(lambda lib, a, b: lib.logaddexp2(a, b), np.array([1j]), np.array([1j]),
                 match="logaddexp2_cpu")
    check_raises(lambda lib, a, b: lib.atan2(a, b), np.array([1j]), np.array([1j]))


def test_binary_broadcast_errors():
    for name in ["add", "pow", "maximum", "hypot", "eq", "logical_and", "bitwise_and",
                 "atan2", "fmod", "xlogy"]:
        a, b = arr(3), arr(4)
        if name == "bitwise_and":
            a, b = a.astype(np.int64), b.astype(np.int64)
        check_raises(lambda lib, x, y, name=name: getattr(lib, name)(x, y), a, b,
                     match="must match the size of tensor b")


# ---------------------------------------------------------------------------------------------
# comparisons, logical and bitwise
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", COMPARE)
def test_comparisons(name):
    a = np.array([[1.0, 2.0, np.nan, -np.inf], [0.0, -0.0, 3.0, 2.0]], dtype=np.float32)
    b = np.array([2.0, 2.0, np.nan, -np.inf], dtype=np.float32)
    check(lambda lib, x, y: getattr(lib, name)(x, y), a, b, grad=False)
    check(lambda lib, x: getattr(lib, name)(x, 2), a, grad=False)
    check(lambda lib, x: getattr(lib, name)(x, 2.5), np.array([1, 2, 3]), grad=False)
    check(lambda lib, x: getattr(lib, name)(x, -1), np.array([1, 200], dtype=np.uint8),
          grad=False)
    check(lambda lib, x: getattr(lib, name)(x, 456), np.array([1, 200], dtype=np.uint8),
          grad=False)
    check(lambda lib, x: getattr(lib, name)(x, 2), np.array([True, False]), grad=False)
    check(lambda lib, x: getattr(x, name + "_")(1.5), np.array([1.0, 2.0]), grad=False)
    check(lambda lib, x, y: getattr(lib, name)(x, y), arr(), arr(3), grad=False)
    check_raises(lambda lib, x: getattr(lib, name)(1, x), a, match="invalid combination")


def test_comparison_operators_and_hash():
    a, b = arr(3, 4), arr(4)
    for op in [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]:
        check(lambda lib, x, y, op=op: op(x, y), a, b, grad=False)
        check(lambda lib, x, op=op: op(x, 0.5), a, grad=False)
        check(lambda lib, x, op=op: op(0.5, x), a, grad=False)
    t = ember.tensor([1.0])
    assert (t == None) is False and (t != "a") is True  # noqa: E711
    assert len({t, ember.tensor([1.0]), t}) == 2
    check_raises(lambda lib, x: x < [1.0], a)
    check_raises(lambda lib, x: lib.lt(x, x), np.array([1j]), match="lt_cpu")
    check(lambda lib, x: lib.eq(x, x), np.array([1 + 1j, 2j]), grad=False)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical(name):
    a = np.array([[0.0, 1.5, -2.0, np.nan]], dtype=np.float32)
    b = np.array([[0], [3]])
    check(lambda lib, x, y: getattr(lib, name)(x, y), a, b, grad=False)
    check(lambda lib, x, y: getattr(lib, name)(x, y), np.array([True, False]),
          np.array([0.0, 0.0]), grad=False)
    check(lambda lib, x, y: getattr(x, name + "_")(y), np.array([1.0, 0.0]),
          np.array([1, 1]), grad=False)
    check_raises(lambda lib, x: getattr(lib, name)(x, 1), a, match="must be Tensor")


def test_logical_not():
    check(lambda lib, x: lib.logical_not(x), np.array([0.0, 1.5, np.nan]), grad=False)
    check(lambda lib, x: lib.logical_not(x), np.array([0, 3]), grad=False)
    check(lambda lib, x: x.logical_not_(), np.array([0, 3]), grad=False)
    check(lambda lib, x: lib.logical_not(x, out=lib.empty(3)), np.array([0.0, 1.5, 2.0]),
          grad=False)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor",
                                  "bitwise_left_shift", "bitwise_right_shift"])
@pytest.mark.parametrize("dts", [(np.int64, np.int64), (np.int8, np.int64), (np.uint8,
                                                                             np.uint8),
                                 (np.int32, np.bool_), (np.bool_, np.bool_),
                                 (np.float32, np.int64), (np.int16, np.int16)])
def test_bitwise(name, dts):
    a = arr(3, 4, lo=0 if dts[0] == np.uint8 else -20, hi=20, dtype=dts[0])
    b = arr(4, lo=0, hi=5, dtype=dts[1])
    fn = lambda lib, x, y: getattr(lib, name)(x, y)  # noqa: E731
    try:
        fn(torch, torch.tensor(a), torch.tensor(b))
    except (RuntimeError, NotImplementedError):
        msg = check_raises(fn, a, b)[1]
        assert "not implemented for" in msg
        return
    check(fn, a, b, grad=False)
    check(lambda lib, x: getattr(lib, name)(x, 3), a, grad=False) if dts[0] != np.bool_ \
        else None


def test_shift_out_of_range_and_operators():
    a = np.array([1, -8, 5, 0, -1])
    for s in [0, 1, 63, 64, 70, -1]:
        check(lambda lib, x, s=s: x << s, a, grad=False)
        check(lambda lib, x, s=s: x >> s, a, grad=False)
    i8 = np.array([1, -2, 100], dtype=np.int8)
    u8 = np.array([1, 200, 255], dtype=np.uint8)
    for s in [7, 8, 9]:
        check(lambda lib, x, s=s: (x << s, x >> s), i8, grad=False)
        check(lambda lib, x, s=s: (x << s, x >> s), u8, grad=False)
    check(lambda lib, x, y: x << y, i8, np.array([1, 2, 9]), grad=False)
    check(lambda lib, x: (3 << x, 100 >> x, 6 & x, 6 | x, 6 ^ x), np.array([1, 2, 3]),
          grad=False)
    check_raises(lambda lib, x: x << 1, arr(3), match="lshift_cpu")
    check_raises(lambda lib, x: x & 1.5, np.array([1, 2]), match="bitwise_and_cpu")
    check_raises(lambda lib, x: x << True, np.array([True]), match="lshift_cpu")
    check(lambda lib, x: (~x, lib.bitwise_not(x)), np.array([0, 5, -3]), grad=False)
    check(lambda lib, x: ~x, np.array([True, False]), grad=False)
    check_raises(lambda lib, x: ~x, arr(3), match="operator.invert")
    check_raises(lambda lib, x: lib.bitwise_not(x), arr(3), match="bitwise_not_cpu")


def test_inplace_operators():
    x = np.array([5, -6, 7])
    for op in [operator.ipow, operator.ifloordiv, operator.imod, operator.iand, operator.ior,
               operator.ixor, operator.ilshift, operator.irshift]:
        check(lambda lib, t, op=op: op(t, 2), x, grad=False)
    for op in [operator.ipow, operator.ifloordiv, operator.imod]:
        check(lambda lib, t, op=op: op(t * 1, 1.5), x.astype(np.float32) + 0.25,
              grad=op is not operator.ifloordiv)
    t = ember.tensor([1.0, 2.0])
    r = t
    r **= 2
    assert r is t and t.tolist() == [1.0, 4.0]


def test_operators():
    a, b = arr(3, 4, lo=0.5, hi=2), arr(4, lo=0.5, hi=2)
    i, j = arr(3, 4, lo=1, hi=9, dtype=np.int64), arr(4, lo=1, hi=5, dtype=np.int64)
    for op in [operator.pow, operator.floordiv, operator.mod]:
        check(lambda lib, x, y, op=op: op(x, y), a, b) if op is operator.pow else \
            check(lambda lib, x, y, op=op: op(x, y), a, b, grad=False)
        check(lambda lib, x, y, op=op: op(x, y), i, j, grad=False)
        check(lambda lib, x, op=op: op(x, 2), a, grad=op is operator.pow)
        check(lambda lib, x, op=op: op(3, x), a, grad=op is operator.pow)
    for op in [operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift]:
        check(lambda lib, x, y, op=op: op(x, y), i, j, grad=False)
        check(lambda lib, x, op=op: op(x, 2), i, grad=False)
    check(lambda lib, x: (abs(x), -x, +x), arr(3, 4))
    check_raises(lambda lib, x: +x, np.array([True]))
    check_raises(lambda lib, x: x ** "a", a)
    check_raises(lambda lib, x: x % [1], a)


# ---------------------------------------------------------------------------------------------
# where, clamp, lerp, addcmul, addcdiv
# ---------------------------------------------------------------------------------------------

def test_where():
    c = arr(3, 4, dtype=np.bool_)
    check(lambda lib, k, x, y: lib.where(k, x, y), Const(c), arr(3, 4), arr(4))
    check(lambda lib, k, x, y: lib.where(k, x, y), Const(arr(3, 1, dtype=np.bool_)), arr(4),
          arr(3, 4, dtype=np.float64))
    check(lambda lib, k, x: lib.where(k, x, 0.0), Const(c), arr(3, 4))
    check(lambda lib, k, x: lib.where(k, 1.5, x), Const(c), arr(3, 4))
    check(lambda lib, k, x: lib.where(k, x, 2.5), Const(c), arr(3, 4, lo=0, hi=5,
                                                                dtype=np.int64), grad=False)
    check(lambda lib, k: lib.where(k, 1, 0), Const(c), grad=False)
    check(lambda lib, k: lib.where(k, 1.0, 0), Const(c), grad=False)
    check(lambda lib, k, x: lib.where(k, x, 2), Const(c), arr(4, lo=0, hi=5, dtype=np.int32),
          grad=False)
    check(lambda lib, k, x, y: lib.where(k, x, y), Const(c), arr(dtype=np.float64),
          arr(4, lo=0, hi=5, dtype=np.int32))
    check(lambda lib, k, x: x.where(k, 0.0), Const(c), Transposed(arr(3, 4)))
    with pytest.warns(UserWarning):  # PyTorch deprecates uint8 conditions
        torch.where(torch.tensor([1], dtype=torch.uint8), 1.0, 0.0)
    with pytest.warns(UserWarning, match="uint8 condition"):
        ember_r = ember.where(ember.tensor([1, 0], dtype=ember.uint8), 1.0, 0.0)
    assert ember_r.tolist() == [1.0, 0.0]
    check(lambda lib, k, x, y: lib.where(k, x, y), Const(arr(0, 4, dtype=np.bool_)), arr(4),
          arr(1, 4))
    check_raises(lambda lib, x: lib.where(x, x, x), arr(3), match="boolean tensor")
    check_raises(lambda lib, k, x, y: lib.where(k, x, y), c, arr(3), arr(4),
                 match="must match the size")
    gradgradcheck(lambda x, y: ember.where(x > y, x * x, y * x), arr(3, 4, dtype=np.float64),
                  arr(4, dtype=np.float64))


def test_where_one_argument_form():
    # where(condition) is nonzero(condition, as_tuple=True), provided by the indexing family
    if not hasattr(ember.ops.indexing, "nonzero"):
        pytest.skip("ember.ops.indexing.nonzero not available yet")
    check(lambda lib, k: lib.where(k), arr(3, 4, dtype=np.bool_), grad=False)


def test_clamp():
    x = arr(3, 4, lo=-2, hi=2)
    check(lambda lib, a: lib.clamp(a, -0.5, 0.7), x)
    check(lambda lib, a: lib.clamp(a, min=-0.5), x)
    check(lambda lib, a: lib.clamp(a, max=0.3), x)
    check(lambda lib, a: lib.clip(a, 0.7, -0.5), x)  # min > max: everything is max
    check(lambda lib, a, lo, hi: lib.clamp(a, lo, hi), x, arr(4, lo=-1, hi=0), arr(3, 1, lo=0,
                                                                                     hi=1))
    check(lambda lib, a, lo: lib.clamp(a, lo), x, arr(4, lo=-1, hi=0))
    check(lambda lib, a, hi: lib.clamp(a, max=hi), x, Sliced(arr(3, 4, lo=0, hi=1)))
    check(lambda lib, a, lo: lib.clamp_min(a, lo), x, arr(4))
    check(lambda lib, a, hi: lib.clamp_max(a, hi), x, arr(4))
    check(lambda lib, a: (lib.clamp_min(a, 0.1), lib.clamp_max(a, 0.1)), x)
    check(lambda lib, a: a.clamp(-1, 1), x)
    # ties and reversed bounds route the gradient like PyTorch
    a = np.array([2.0, 3.0, 4.0, 5.0, 1.0, 3.0, np.nan], dtype=np.float32)
    lo = np.array([3.0, 3.0, 3.0, 3.0, 2.0, np.nan, 3.0], dtype=np.float32)
    hi = np.array([3.0, 3.0, 3.0, 3.0, 1.5, 4.0, 4.0], dtype=np.float32)
    check(lambda lib, x, y, z: lib.clamp(x, y, z), a, lo, hi)
    check(lambda lib, x: lib.clamp(x, 3.0, 3.5), a)
    check(lambda lib, x: lib.clamp(x, float("nan")), a)
    # promotion
    i = np.array([1, 2, 3])
    check(lambda lib, x: lib.clamp(x, min=1.5), i, grad=False)
    check(lambda lib, x: lib.clamp(x, min=2), i, grad=False)
    check(lambda lib, x: lib.clamp(x, min=0), np.array([True, False]), grad=False)
    check(lambda lib, x: lib.clamp(x, min=1.5), x.astype(np.float16), grad=False)
    check(lambda lib, x, y: lib.clamp(x, y), i, np.array(1.5, dtype=np.float64), grad=False)
    check(lambda lib, x: lib.clamp(x, min=3, max=100), np.array([0, 200], dtype=np.uint8),
          grad=False)
    check(lambda lib, x: lib.clamp(x, min=-1), np.array([0, 200], dtype=np.uint8),
          grad=False)
    check_raises(lambda lib, x: lib.clamp(x, max=300), np.array([0, 200], dtype=np.uint8),
                 match="without overflow")
    check_raises(lambda lib, x: lib.clamp(x, min=-200), np.array([0, 100], dtype=np.int8),
                 match="without overflow")
    check(lambda lib, x: x.clamp_(min=0.0), x * 1, grad=False)
    check_raises(lambda lib, x: lib.clamp(x), x, match="At least one")
    check_raises(lambda lib, x: lib.clamp(x, 0.5, x), x, match="invalid combination")
    check_raises(lambda lib, x: lib.clamp(x, 0), np.array([1j]), match="complex")
    check_raises(lambda lib, x: x.clamp_(min=0.5), i, match="can't be cast")
    for fn in [lambda t, lo, hi: ember.clamp(t, lo, hi),
               lambda t, lo, hi: ember.clamp(t, -0.3, 0.4) + lo * hi]:
        gradcheck(fn, arr(3, 4, dtype=np.float64), arr(4, lo=-1, hi=0, dtype=np.float64),
                  arr(4, lo=0, hi=1, dtype=np.float64))
        gradgradcheck(fn, arr(3, 4, dtype=np.float64), arr(4, lo=-1, hi=0, dtype=np.float64),
                      arr(4, lo=0, hi=1, dtype=np.float64))


def test_lerp():
    a, b, w = arr(3, 4), arr(4), arr(3, 1, lo=-0.5, hi=1.5)
    check(lambda lib, x, y: lib.lerp(x, y, 0.3), a, b)
    check(lambda lib, x, y: lib.lerp(x, y, 0.8), a, b)
    check(lambda lib, x, y, z: lib.lerp(x, y, z), a, b, w)
    check(lambda lib, x, y, z: x.lerp(y, z), Transposed(arr(3, 4)), b, w)
    check(lambda lib, x, y: lib.lerp(x, y, y.new_tensor(0.25, dtype=lib.float64)), a, b)
    check(lambda lib, x, y: lib.lerp(x, y, 1), a, b)
    check(lambda lib, x, y: (x * 1).lerp_(y, 0.4), a, b)
    check(lambda lib, x, y: lib.lerp(x.half(), y.half(), 0.3), a, b, grad=False)
    check(lambda lib, x, y: lib.lerp(x, y, 0.5 + 0.5j), a.astype(np.complex64),
          b.astype(np.complex64))
    check_raises(lambda lib, x, y: lib.lerp(x, y, 0.5), a, b.astype(np.float64),
                 match="expected dtype float for `end`")
    check_raises(lambda lib, x, y, z: lib.lerp(x, y, z), a, b, w.astype(np.float64),
                 match="for `weight`")
    check_raises(lambda lib, x: lib.lerp(x, x, 0.5), np.array([1, 2]),
                 match="lerp_kernel_scalar")
    check_raises(lambda lib, x: lib.lerp(x, x, 0.5j), a, match="without overflow")
    gradgradcheck(lambda x, y, z: ember.lerp(x, y, z), arr(3, 4, dtype=np.float64),
                  arr(4, dtype=np.float64), arr(3, 1, dtype=np.float64))
    gradgradcheck(lambda x, y: ember.lerp(x, y, 0.7), arr(3, 4, dtype=np.float64),
                  arr(4, dtype=np.float64))


def test_addcmul_addcdiv():
    a, b, c = arr(3, 4), arr(4), arr(3, 1, lo=0.5, hi=2)
    for name in ["addcmul", "addcdiv"]:
        check(lambda lib, x, y, z, name=name: getattr(lib, name)(x, y, z), a, b, c)
        check(lambda lib, x, y, z, name=name: getattr(lib, name)(x, y, z, value=-0.5), a, b, c)
        check(lambda lib, x, y, z, name=name: getattr(x * 1, name + "_")(y, z, value=2),
              a, b, c)
        check(lambda lib, x, y, z, name=name: getattr(lib, name)(x, y, z,
                                                                 value=lib.tensor(2.0)),
              a, b, c)
        check(lambda lib, x, y, z, name=name: getattr(lib, name)(x.half(), y.half(), z.half()),
              a, b, c, grad=False)
        # (PyTorch's own backward fails for an integer tensor2, so values only)
        check(lambda lib, x, y, z, name=name: getattr(lib, name)(x, y, z), a.astype(np.float64), b,
              np.array([1, 2, 3, 4]), grad=False)
        gradgradcheck(lambda x, y, z, name=name: getattr(ember, name)(x, y, z, value=0.7),
                      arr(3, 4, dtype=np.float64), arr(4, dtype=np.float64),
                      arr(3, 1, lo=0.5, hi=2, dtype=np.float64))
    i = np.array([1, 2])
    check(lambda lib, x: lib.addcmul(x, x, x, value=2.5), i, grad=False)
    check_raises(lambda lib, x: lib.addcmul(x, x, x), np.array([True]), match="addcmul_cpu_out")
    check_raises(lambda lib, x, y: lib.addcdiv(y, x, x), i, a[0, :2], match="Integer division")
    check(lambda lib, x, y: lib.addcdiv(x, y, y), i, a[0, :2], grad=False)
    check_raises(lambda lib, x, y: lib.addcmul(x, y, y), a, arr(3))


# ---------------------------------------------------------------------------------------------
# closeness and equality
# ---------------------------------------------------------------------------------------------

def test_isclose_allclose_equal():
    a = np.array([1.0, np.nan, np.inf, 1.0, -np.inf, 1e-9], dtype=np.float32)
    b = np.array([1.0 + 1e-7, np.nan, np.inf, 2.0, np.inf, 0.0], dtype=np.float32)
    check(lambda lib, x, y: lib.isclose(x, y), a, b, grad=False)
    check(lambda lib, x, y: lib.isclose(x, y, equal_nan=True), a, b, grad=False)
    check(lambda lib, x, y: lib.isclose(x, y, rtol=0.6, atol=0), a, b, grad=False)
    check(lambda lib, x, y: x.isclose(y), np.array([1, 2]), np.array([1, 3]), grad=False)
    check(lambda lib, x, y: lib.isclose(x, y, rtol=0.5), np.array([1, 2]), np.array([1, 3]),
          grad=False)
    check(lambda lib, x, y: lib.isclose(x, y), np.array([True]), np.array([False]), grad=False)
    check(lambda lib, x, y: lib.isclose(x, y), np.array([1 + 1j]), np.array([1 + 1.000001j]),
          grad=False)
    check(lambda lib, x, y: lib.isclose(x, y), arr(2, 3), arr(3), grad=False)
    for eq_nan in (False, True):
        assert ember.allclose(ember.tensor(a), ember.tensor(a), equal_nan=eq_nan) == \
            torch.allclose(torch.tensor(a), torch.tensor(a), equal_nan=eq_nan)
    assert ember.allclose(ember.tensor([[1.5, 2.0]]), ember.tensor([1.5, 2.0])) is True
    assert ember.tensor([1.0]).allclose(ember.tensor([1.1])) is False
    f32 = np.array([1.0], dtype=np.float32)
    check_raises(lambda lib, x, y: lib.isclose(x, y), np.array([1]), f32,
                 match="Long did not match Float")
    check_raises(lambda lib, x, y: lib.allclose(x, y), np.array([1]), f32)
    check_raises(lambda lib, x: lib.isclose(x, x, rtol=-1), a, match="rtol must be greater")
    for x, y in [([1.0, 2.0], [1.0, 2.0]), ([1, 2], [1.0, 2.0]), ([1.0], [1.0, 2.0]),
                 ([[1.0]], [1.0]), ([np.nan], [np.nan]), ([True], [1])]:
        got = ember.equal(ember.tensor(x), ember.tensor(y))
        assert got is torch.equal(torch.tensor(x), torch.tensor(y))
    assert ember.tensor([1, 2]).equal(ember.tensor([1, 2])) is True


# ---------------------------------------------------------------------------------------------
# the rest of PyTorch's pointwise namespace
# ---------------------------------------------------------------------------------------------

def test_ldexp_nextafter_gcd_lcm():
    check(lambda lib, x, e: lib.ldexp(x, e), arr(3, 4), arr(4, lo=-3, hi=3))
    # PyTorch's own gradient is 0 for negative integer exponents (it forms 2 ** e in integers);
    # ember's is 2 ** e
    e = arr(4, lo=-3, hi=3, dtype=np.int64)
    check(lambda lib, x, e: lib.ldexp(x, e), arr(3, 4), e, grad=False)
    x = ember.tensor(arr(3, 4), requires_grad=True)
    ember.ldexp(x, ember.tensor(e)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(2.0 ** e, (3, 4)))
    check(lambda lib, x, e: lib.ldexp(x, e), arr(3, lo=-3, hi=3, dtype=np.int64),
          arr(3, lo=-3, hi=3, dtype=np.int64), grad=False)
    check(lambda lib, x, e: (x * 1).ldexp_(e), arr(3, 4), arr(4, lo=-3, hi=3))
    check_raises(lambda lib, x: lib.ldexp(x, 2), arr(3), match="must be Tensor")
    gradgradcheck(ember.ldexp, arr(3, dtype=np.float64), arr(3, dtype=np.float64))
    special = np.array([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, 1e-40], dtype=np.float32)
    check(lambda lib, x, y: lib.nextafter(x, y), special, special[::-1].copy())
    check(lambda lib, x, y: lib.nextafter(x, y), arr(3), arr(3, dtype=np.float64), grad=False)
    check_raises(lambda lib, x: lib.nextafter(x, x), np.array([1, 2]), match="nextafter_cpu")
    a = np.array([[12, -4, 0, 7]])
    b = np.array([[18], [6], [0]])
    for name in ["gcd", "lcm"]:
        check(lambda lib, x, y, name=name: getattr(lib, name)(x, y), a, b, grad=False)
        check(lambda lib, x, y, name=name: getattr(x, name + "_")(y), a.astype(np.int8),
              np.array([100, 3, 5, 9], dtype=np.int8), grad=False)
        check_raises(lambda lib, x, name=name: getattr(lib, name)(x, x), arr(3),
                     match=f"{name}_cpu")


def test_frexp():
    x = np.array([0.0, -0.0, 1.5, -3.0, 0.3, 1e-40, np.inf, np.nan], dtype=np.float32)
    check(lambda lib, t: lib.frexp(t), x)
    check(lambda lib, t: t.frexp(), arr(3, 4, lo=-50, hi=50, dtype=np.float64))
    check(lambda lib, t: lib.frexp(t.half()), arr(5, lo=-50, hi=50), grad=False)
    check(lambda lib, t: lib.frexp(t, out=(lib.empty(8), lib.empty(8, dtype=lib.int32))), x,
          grad=False)
    r = ember.frexp(ember.tensor([1.0]))
    assert r.mantissa.item() == 0.5 and r.exponent.dtype is ember.int32
    check_raises(lambda lib, t: lib.frexp(t), np.array([1, 2]), match="floating-point")


def test_mvlgamma():
    x = arr(3, 4, lo=2.0, hi=6.0)
    for p in (1, 2, 3, 5):
        check(lambda lib, t, p=p: lib.mvlgamma(t, p), x)
        check(lambda lib, t, p=p: t.mvlgamma(p), x.astype(np.float64), rtol=1e-12, atol=1e-12,
              grad_rtol=1e-8)
    check(lambda lib, t: (t * 1).mvlgamma_(2), x)
    check(lambda lib, t: lib.mvlgamma(t, 2), np.array([2, 3]), grad=False)
    check_raises(lambda lib, t: lib.mvlgamma(t, 0), x, match="greater than or equal to 1")
    gradgradcheck(lambda t: ember.mvlgamma(t, 3), arr(4, lo=2, hi=5, dtype=np.float64))


def test_conj_physical_and_lazy_bits():
    z = np.array([1 + 2j, -3j], dtype=np.complex64)
    check(lambda lib, t: lib.conj_physical(t), z)
    check(lambda lib, t: lib.conj_physical(t), arr(3))
    check(lambda lib, t: (t * 1).conj_physical_(), z)
    for lib in (torch, ember):
        t = lib.tensor([1.0])
        assert lib.resolve_conj(t) is t and lib.resolve_neg(t) is t
        assert not lib.is_conj(t) and not t.is_neg()


# ---------------------------------------------------------------------------------------------
# API surface
# ---------------------------------------------------------------------------------------------

def test_names_exist_in_torch():
    for name in pointwise.__all__:
        assert hasattr(torch, name), name
        assert hasattr(ember, name), name
    for name in pointwise.METHODS:
        assert hasattr(torch.Tensor, name), name
        assert hasattr(ember.Tensor, name), name


def test_signatures_keywords():
    x = ember.tensor([0.5, 2.0])
    assert ember.clamp(x, min=1.0).tolist() == [1.0, 2.0]
    assert ember.where(ember.tensor([True, False]), input=x, other=x * 0).tolist() == [0.5, 0.0]
    assert ember.logit(x.clamp(0, 1), eps=0.1).shape == (2,)
    assert ember.isclose(x, x, rtol=0.0, atol=0.0, equal_nan=True).all()
    assert ember.pow(x, exponent=2).tolist() == [0.25, 4.0]
    assert math.isclose(ember.polygamma(1, ember.tensor(1.0, dtype=ember.float64)).item(),
                        math.pi ** 2 / 6, rel_tol=1e-14)


# ---------------------------------------------------------------------------------------------
# audit regressions: properties, complex/bool dispatch errors, signed zeros, None arguments
# ---------------------------------------------------------------------------------------------

def test_real_imag_are_properties_with_setters():
    z = arr(3, 4).astype(np.complex64) + 1j * arr(3, 4).astype(np.complex64)
    check(lambda lib, t: (t.real, t.imag), z)
    check(lambda lib, t: t.real * 2 + t.imag * 3, z)
    check(lambda lib, t: t.real, arr(3))  # a real tensor's .real is the tensor itself
    check_raises(lambda lib, t: t.imag, arr(3))
    for lib in (torch, ember):
        t = lib.tensor([1 + 2j, 3 - 1j])
        t.real = lib.tensor([5.0, 6.0])
        t.imag = lib.tensor(7.0)
        r = lib.ones(2)
        r.real = lib.tensor([3.0, 4.0])
        assert t.tolist() == [5 + 7j, 6 + 7j] and r.tolist() == [3.0, 4.0]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_log1p_accurate_near_zero(dtype):
    z = np.array([1e-6 + 1e-7j, 1e-3, -0.5 + 0.2j, 3 + 4j, -1, -1 + 1e-20j, -2, 1e-30j],
                 dtype=dtype)
    check(lambda lib, t: lib.log1p(t), Const(z), atol=0, rtol=2e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_remainder_keeps_fmod_signed_zero(dtype):
    a = np.array([-2.0, 2.0, -3.5, 3.5, 0.0, -0.0, np.inf, -np.inf, np.nan, 5.0], dtype=dtype)
    b = np.array([2.0, -2.0, 2.0, -2.0, 3.0, -3.0, 3.0, 3.0, 3.0, np.inf], dtype=dtype)
    for fn in (lambda lib, x, y: x % y, lambda lib, x, y: lib.remainder(x, 2.0),
               lambda lib, x, y: lib.remainder(x, -2.0), lambda lib, x, y: 2.0 % y):
        e = fn(ember, ember.tensor(a), ember.tensor(b)).numpy()
        t = fn(torch, torch.tensor(a), torch.tensor(b)).numpy()
        ok = ~np.isnan(t)  # the sign of a NaN means nothing
        np.testing.assert_array_equal(np.signbit(e[ok]), np.signbit(t[ok]))
        check(fn, Const(a), Const(b))


def test_floor_and_trunc_division_of_complex_raise():
    z = np.array([1 + 1j, 2 - 1j], np.complex64)
    for fn in (lambda lib, t: t // 2, lambda lib, t: lib.floor_divide(t, t),
               lambda lib, t: lib.div(t, 2, rounding_mode="trunc"),
               lambda lib, t: lib.div(t, t, rounding_mode="floor"),
               lambda lib, t: lib.tensor([1, 2]) // t):
        same_message(fn, Const(z))


def test_clamp_of_bool_raises_like_pytorch():
    b = np.array([True, False])
    for fn in (lambda lib, t: t.clamp(True), lambda lib, t: t.clamp(max=True),
               lambda lib, t: t.clamp(False, True), lambda lib, t: lib.clamp_min(t, True),
               lambda lib, t: t.clamp(t, t), lambda lib, t: t.clone().clamp_(True)):
        same_message(fn, b)
    # one-sided tensor bounds and promoting bounds work on bool, as in PyTorch
    check(lambda lib, t: t.clamp(t), b)
    check(lambda lib, t: t.clamp(max=t), b)
    check(lambda lib, t: t.clamp(1), b)
    check(lambda lib, t: t.clamp(1.5), b)


def test_nan_to_num_none_and_type_errors():
    x = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    check(lambda lib, t: lib.nan_to_num(t, None), x)
    check(lambda lib, t: lib.nan_to_num(t, None, None, None), x)
    check(lambda lib, t: lib.nan_to_num(t, nan=None, posinf=1), x)
    check(lambda lib, t: lib.nan_to_num(t, 1, posinf=2, neginf=True), x)
    for fn in (lambda lib, t: lib.nan_to_num(t, "x"), lambda lib, t: lib.nan_to_num(t, posinf="a"),
               lambda lib, t: lib.nan_to_num(t, neginf=(1,))):
        check_raises(fn, x, match="must be float")


@pytest.mark.parametrize("value", [2 ** 63, 2 ** 64, -2 ** 63 - 1, 2 ** 64 - 1, 2 ** 65, -2 ** 64])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64", "float32"])
def test_python_int_operand_range(value, dtype):
    """Python ints must fit int64/uint64 (PyTorch's OverflowError); inside that they wrap."""
    x = np.ones(2, dtype=dtype)
    if -2 ** 63 <= value < 2 ** 64:
        check(lambda lib, t: t + value, Const(x), grad=False)
    else:
        same_message(lambda lib, t: t + value, Const(x))


@pytest.mark.parametrize("other", [300, -1, 256, -129, 2 ** 40, 2.5, 1e10])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32"])
def test_where_python_int_overflow(other, dtype):
    """Out-of-range int scalars raise PyTorch's overflow error (unsigned types wrap -max..-1)."""
    cond, x = np.array([True, False]), np.ones(2, dtype=dtype)
    try:
        torch.where(torch.tensor(cond), torch.tensor(x), other)
    except RuntimeError:
        same_message(lambda lib, c, t: lib.where(c, t, other), cond, Const(x))
        same_message(lambda lib, c, t: lib.where(c, other, t), cond, Const(x))
    else:
        check(lambda lib, c, t: lib.where(c, t, other), cond, Const(x), grad=False)


def test_complex_to_real_cast_warns_like_pytorch():
    z = np.array([1 + 2j, 2j, 0j], np.complex64)
    for target in ("float32", "int64", "uint8"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(lambda lib, t, d=target: t.to(getattr(lib, d)), Const(z), grad=False)
        # (PyTorch warns once per process, so only ember's warning is counted)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ember.tensor(z).to(getattr(ember, target))
        assert [(m.category, str(m.message)) for m in w] == \
            [(UserWarning, "Casting complex values to real discards the imaginary part")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(lambda lib, t: t.bool(), Const(z), grad=False)  # a nonzero test: no warning


@pytest.mark.parametrize("fn", [
    lambda lib, b: b - True, lambda lib, b: True - b, lambda lib, b: lib.sub(b, True),
    lambda lib, b: b.clone().sub_(True), lambda lib, b: b - 1, lambda lib, b: 1 - b,
    lambda lib, b: b.float() - True,
])
def test_bool_subtraction_messages(fn):
    same_message(fn, np.array([True, False]))


@pytest.mark.parametrize("fn", [
    lambda lib, t: t.clone().sub_(t), lambda lib, t: t.clone().__isub__(t),
    lambda lib, t: t.float().bitwise_and_(lib.ones(2, 3)),
    lambda lib, t: t.long().bitwise_or_(lib.tensor([2.0, 3.0, 1.0])),
    lambda lib, t: t.long().bitwise_xor_(2.5), lambda lib, t: t.long().__iand__(2.5),
])
def test_inplace_check_order(fn):
    """Errors of in-place ops come from PyTorch's checks, in PyTorch's order (never NumPy's)."""
    same_message(fn, np.array([True, False, True]))
