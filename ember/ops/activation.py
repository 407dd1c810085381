"""Activation functions (``torch.nn.functional``): relu family, elu/selu/celu, gelu, silu, mish,
hard* and shrink functions, softplus, glu, prelu/rrelu, logsigmoid and the softmax family.

Elementwise activations are fused ops (``_Act``): one array pass forward, and a backward that
computes ``g * f'(x)`` in one array pass as well. A fused op is a design exception to
"composites from primitives"; ``benchmarks/activation.py`` measured forward+backward of each fused
op against the same function as a chain of ember ops on a 1024x1024 float32 input (same run,
ratio of times): gelu 0.25, gelu(tanh) 0.38, hardswish 0.46, hardsigmoid 0.26, leaky_relu 0.21,
elu 0.24, logsigmoid 0.24, hardtanh 0.21, silu 0.89, mish 0.89, softplus 0.98 (the last three
also keep one saved array instead of the composite's several).

The fused backward runs on arrays only when no graph is being recorded (``create_graph=False``,
the common case). Under ``create_graph=True`` the same derivative is built from ember ops, so
double backward works with no hand-written second derivative. Masks that only select (relu,
hardtanh, shrinks, thresholds) are constants of the graph, as in PyTorch.

Half and bfloat16 inputs are computed in float32 and rounded back (PyTorch's opmath). Names of
the backward nodes are PyTorch's (``GeluBackward0``, ``EluBackward0``, ...).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _backend, _dtype
from .._backend import array_module, rng_for
from .._tensor import Tensor, _legacy_scalar_name
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _special, _util
from . import pointwise as _pw
from . import reduction as _red
from . import shape as _shape
from ._util import check_inplace
from ._util import inplace as _inplace
from .pointwise import _HALF, _arr, _not_impl, _opmath, _opmath2, _where_const

__all__ = [
    "threshold", "threshold_", "relu", "relu_", "hardtanh", "hardtanh_", "relu6", "elu", "elu_",
    "selu", "selu_", "celu", "celu_", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_",
    "glu", "gelu", "logsigmoid", "hardshrink", "tanhshrink", "softsign", "softplus", "softmin",
    "softmax", "gumbel_softmax", "log_softmax", "softshrink", "tanh", "sigmoid", "hardsigmoid",
    "silu", "mish", "hardswish",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------

def _check(x, fname: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _is_real_float(npd) -> bool:
    return npd.kind == "f" or npd == _dtype._BF16_NP


def _float_input(input, fname: str, kernel: str, complex_ok: bool = False) -> Tensor:
    """``input`` for an activation defined only for floating dtypes; PyTorch's dispatch error
    (``"elu_cpu" not implemented for 'Long'``) otherwise."""
    x = _check(input, fname)
    npd = x._data.dtype
    if not (_is_real_float(npd) or (complex_ok and npd.kind == "c")):
        raise _not_impl(kernel, npd, x._data)
    return x


def _clamp_input(input, fname: str, what: str) -> Tensor:
    """Inputs of the clamp-based activations (hardtanh, relu6): any real dtype but bool."""
    x = _check(input, fname)
    npd = x._data.dtype
    if npd == np.bool_:
        raise RuntimeError(f"Bool inputs not supported for {what}")
    if npd.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    return x


def _run(cls, x: Tensor, inplace: bool, name: str, *params) -> Tensor:
    """Apply activation op ``cls``; in place: PyTorch's checks first, then write back."""
    if inplace:
        check_inplace(x)
        return _inplace(x, _INPLACE_NODE.get(cls, cls).apply(x, *params), name)
    return cls.apply(x, *params)


# ---------------------------------------------------------------------------------------------
# the fused elementwise activation
# ---------------------------------------------------------------------------------------------

class _Act(Op):
    """``y = f(x; *params)`` elementwise, with ``g * f'(s)`` where ``s`` is the saved input (or
    the output when ``_save_out``).

    Subclasses define ``_f(xp, a, *p)`` and ``_df(xp, g, s, *p)`` on arrays (the latter returns
    ``g * f'(s)``), and ``_df_t(g, s, *p)``: the same with ember ops, used when the backward
    itself is recorded (double backward)."""

    _save_out = False

    @staticmethod
    def forward(ctx, a, *p):
        cls = type(ctx)
        r = _opmath(lambda xp, v: cls._f(xp, v, *p), a)
        if ctx._edges:
            ctx.save_for_backward(r if cls._save_out else a)
            ctx.p = p
        return r

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        cls = type(ctx)
        p = ctx.p
        if _state.enabled:
            return cls._df_t(g, s, *p)
        return Tensor._make(_opmath2(lambda xp, gg, ss: cls._df(xp, gg, ss, *p), g._data,
                                     s._data))


def _const(cond) -> Tensor:
    """A constant boolean tensor (not part of the graph) from a mask array."""
    return Tensor._make(_arr(cond))


def _where(xp, m, a, b):
    """``where(m, a, b)`` for arrays (at least one of ``a``, ``b``) and Python numbers.

    NumPy's ``where`` runs about 10x slower than a multiply on float32 data (measured: 270 us
    against 12 us for 256x256), so on NumPy finite operands are blended as ``a*m + b*~m``,
    which is exact because one of the two terms is 0; a non-finite result is recomputed with
    ``where`` (0 * inf would be nan). CuPy's ``where`` is already fast."""
    if xp is not np:
        return xp.where(m, a, b)
    arrays = (np.ndarray, np.generic)  # (ufuncs on 0-d arrays give NumPy scalars)
    dt = (a if isinstance(a, arrays) else b).dtype
    r = None
    for v, mask in ((a, m), (b, None)):
        if not isinstance(v, arrays) and v == 0:
            continue
        if mask is None:
            mask = ~m
        t = v * mask if isinstance(v, arrays) else np.multiply(mask, v, dtype=dt)
        r = t if r is None else r + t
    if r is None:
        return np.zeros(np.broadcast_shapes(m.shape, np.shape(a), np.shape(b)), dtype=dt)
    if not np.isfinite(r).all():
        r = np.where(m, a, b)
    return np.asarray(r).astype(dt, copy=False)


def _erfc32(z):
    """erfc(z) for z >= 0 in float32: the Chebyshev fit of Numerical Recipes (fractional error
    1.2e-7; about 4e-7 absolute evaluated in float32), 15x faster than the float64 erf of
    ``_special``. Used for float32/16 GELU, whose PyTorch kernel also computes in float32."""
    t = 1 / (1 + 0.5 * z)
    p = t * 0.17087277 - 0.82215223
    for c in (1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
              1.00002368, -1.26551223):
        p *= t
        p += c
    p -= z * z
    return t * array_module(z).exp(p)


def _normal_cdf(xp, a):
    """Phi(a), the standard normal CDF, in the dtype of ``a`` (float32 or float64)."""
    if a.dtype == np.float64:
        r = _special.erf(a * _SQRT1_2)
        r += 1
        r *= 0.5
        return r
    # 0.5 * erfc(-x / sqrt 2), from the tail that keeps relative accuracy on each side
    h = 0.5 * _erfc32(xp.abs(a) * np.float32(_SQRT1_2))
    return _where(xp, a < 0, h, 1 - h)


class Threshold(_Act, name="ThresholdBackward0"):
    @staticmethod
    def _f(xp, a, th, value):
        if a.dtype.kind in "iub":
            return xp.where(a <= th, value, a).astype(a.dtype, copy=False)
        return _where(xp, a <= th, value, a)

    @staticmethod
    def _df(xp, g, s, th, value):
        return _where(xp, s <= th, 0, g)

    @staticmethod
    def _df_t(g, s, th, value):
        return _where_const(~(s._data <= th), g)


class Hardtanh(_Act, name="HardtanhBackward0"):
    @staticmethod
    def _f(xp, a, lo, hi):
        # clip propagates NaN like PyTorch's clamp
        return xp.clip(a, lo, hi).astype(a.dtype, copy=False)

    @staticmethod
    def _df(xp, g, s, lo, hi):
        return _where(xp, (s <= lo) | (s >= hi), 0, g)

    @staticmethod
    def _df_t(g, s, lo, hi):
        a = s._data
        return _where_const(~((a <= lo) | (a >= hi)), g)


class LeakyRelu(_Act, name="LeakyReluBackward0"):
    @staticmethod
    def _f(xp, a, slope):
        return _where(xp, a > 0, a, a * slope)

    @staticmethod
    def _df(xp, g, s, slope):
        return _where(xp, s > 0, g, g * slope)

    @staticmethod
    def _df_t(g, s, slope):
        return _pw.where(_const(s._data > 0), g, g * slope)


class Elu(_Act, name="EluBackward0"):
    """elu/selu/celu: ``x > 0 ? scale * x : alpha * scale * (exp(x * input_scale) - 1)``."""

    @staticmethod
    def _f(xp, a, alpha, scale, iscale):
        neg = xp.expm1(xp.minimum(a, 0) * iscale)
        neg *= alpha * scale
        return _where(xp, a <= 0, neg, a * scale if scale != 1 else a)

    @staticmethod
    def _df(xp, g, s, alpha, scale, iscale):
        d = xp.exp(xp.minimum(s, 0) * iscale)
        d *= iscale * alpha * scale
        return g * _where(xp, s <= 0, d, scale)

    @staticmethod
    def _df_t(g, s, alpha, scale, iscale):
        d = _pw.exp(_pw.clamp_max(s, 0.0) * iscale) * (iscale * alpha * scale)
        return g * _pw.where(_const(s._data <= 0), d, scale)


class Celu(Elu, name="CeluBackward0"):
    pass


class Gelu(_Act, name="GeluBackward0"):
    """GELU; the exact form uses ``_special.erf`` in float64 and a float32 erfc otherwise."""

    @staticmethod
    def _f(xp, a, tanh_approx):
        if tanh_approx:
            inner = a * a
            inner *= _GELU_C
            inner += 1
            inner *= a
            inner *= _SQRT_2_PI
            t = xp.tanh(inner)
            t += 1
            t *= a
            t *= 0.5
            return t
        r = _normal_cdf(xp, a)
        r *= a
        return r

    @staticmethod
    def _df(xp, g, s, tanh_approx):
        if tanh_approx:
            x2 = s * s
            t = xp.tanh(_SQRT_2_PI * s * (1 + _GELU_C * x2))
            d = 0.5 * s * (1 - t * t) * (_SQRT_2_PI * (1 + 3 * _GELU_C * x2))
            d += 0.5 * (1 + t)
            return g * d
        pdf = xp.exp(s * s * -0.5)
        pdf *= _INV_SQRT_2PI
        pdf *= s
        pdf += _normal_cdf(xp, s)
        return g * pdf

    @staticmethod
    def _df_t(g, s, tanh_approx):
        if tanh_approx:
            x2 = s * s
            t = _pw.tanh(s * (1 + _GELU_C * x2) * _SQRT_2_PI)
            d = 0.5 * s * (1 - t * t) * ((1 + 3 * _GELU_C * x2) * _SQRT_2_PI) + 0.5 * (1 + t)
            return g * d
        cdf = 0.5 * (1 + _pw.erf(s * _SQRT1_2))
        return g * (cdf + s * _pw.exp(s * s * -0.5) * _INV_SQRT_2PI)


class Silu(_Act, name="SiluBackward0"):
    @staticmethod
    def _f(xp, a):
        return a / (1 + xp.exp(-a))

    @staticmethod
    def _df(xp, g, s):
        sig = 1 / (1 + xp.exp(-s))
        d = 1 - sig
        d *= s
        d += 1
        d *= sig
        return g * d

    @staticmethod
    def _df_t(g, s):
        sig = _pw.sigmoid(s)
        return g * (sig * (1 + s * (1 - sig)))


def _softplus_arr(xp, a):
    """log(1 + exp(a)) without overflow (NumPy's logaddexp is 50x slower than this)."""
    r = xp.log1p(xp.exp(-xp.abs(a)))
    r += xp.maximum(a, 0)
    return r


class Mish(_Act, name="MishBackward0"):
    @staticmethod
    def _f(xp, a):
        return a * xp.tanh(_softplus_arr(xp, a))

    @staticmethod
    def _df(xp, g, s):
        t = xp.tanh(_softplus_arr(xp, s))
        sig = 1 / (1 + xp.exp(-s))
        d = 1 - t * t
        d *= sig
        d *= s
        d += t
        return g * d

    @staticmethod
    def _df_t(g, s):
        t = _pw.tanh(softplus(s))
        return g * (t + s * _pw.sigmoid(s) * (1 - t * t))


class Hardsigmoid(_Act, name="HardsigmoidBackward0"):
    @staticmethod
    def _f(xp, a):
        r = xp.clip(a + 3, 0, 6)
        r /= 6
        return r

    @staticmethod
    def _df(xp, g, s):
        return _where(xp, (s > -3) & (s < 3), g / 6, 0)

    @staticmethod
    def _df_t(g, s):
        a = s._data
        return _where_const((a > -3) & (a < 3), g / 6)


class Hardswish(_Act, name="HardswishBackward0"):
    @staticmethod
    def _f(xp, a):
        r = xp.clip(a + 3, 0, 6)
        r *= a
        r /= 6
        return r

    @staticmethod
    def _df(xp, g, s):
        # PyTorch: 0 at and below -3, g at and above 3, g * (x / 3 + 1/2) between
        d = s / 3 + 0.5
        d = _where(xp, s < 3, _where(xp, s <= -3, 0, d), 1)
        return g * d

    @staticmethod
    def _df_t(g, s):
        a = s._data
        mid = g * (s / 3 + 0.5)
        return _where_const(~(a <= -3), _pw.where(_const(a < 3), mid, g))


class Softplus(_Act, name="SoftplusBackward0"):
    @staticmethod
    def _f(xp, a, beta, th):
        z = a * beta
        # exp of the clamped argument: the linear branch is taken beyond the threshold anyway
        r = xp.log1p(xp.exp(xp.minimum(z, th)))
        r /= beta
        return _where(xp, z > th, a, r)

    @staticmethod
    def _df(xp, g, s, beta, th):
        z = s * beta
        return _where(xp, z > th, g, g / (1 + xp.exp(-z)))

    @staticmethod
    def _df_t(g, s, beta, th):
        return _pw.where(_const(s._data * beta > th), g, g * _pw.sigmoid(s * beta))


class Softshrink(_Act, name="SoftshrinkBackward0"):
    @staticmethod
    def _f(xp, a, lambd):
        # x - clamp(x, -l, l): 0 inside the band, x -+ l outside, NaN stays NaN
        return a - xp.clip(a, -lambd, lambd)

    @staticmethod
    def _df(xp, g, s, lambd):
        return _where(xp, (s >= -lambd) & (s <= lambd), 0, g)

    @staticmethod
    def _df_t(g, s, lambd):
        a = s._data
        return _where_const(~((a >= -lambd) & (a <= lambd)), g)


class Hardshrink(_Act, name="HardshrinkBackward0"):
    @staticmethod
    def _f(xp, a, lambd):
        # the zeroed band is finite, so a plain multiply by the mask is exact
        return a * ~((a >= -lambd) & (a <= lambd))

    _df = Softshrink._df
    _df_t = Softshrink._df_t


class LogSigmoid(_Act, name="LogSigmoidBackward0"):
    @staticmethod
    def _f(xp, a):
        r = xp.minimum(a, 0)
        r -= xp.log1p(xp.exp(-xp.abs(a)))
        return r

    @staticmethod
    def _df(xp, g, s):
        return g / (1 + xp.exp(s))

    @staticmethod
    def _df_t(g, s):
        return g * _pw.sigmoid(-s)


# ---------------------------------------------------------------------------------------------
# public elementwise activations
# ---------------------------------------------------------------------------------------------

def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``F.threshold``: ``x`` where ``x > threshold``, else ``value`` (integer inputs too)."""
    x = _check(input, "threshold")
    npd = x._data.dtype
    if npd == np.bool_ or npd.kind == "c":
        raise _not_impl("threshold_{dev}", npd, x._data)
    return _run(Threshold, x, inplace, "threshold_", float(threshold), float(value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """``F.threshold_``: in-place :func:`threshold`."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``F.relu``: ``max(x, 0)`` (the fused ``torch.relu`` op, ``ReluBackward0``)."""
    return _pw.relu_(input) if inplace else _pw.relu(input)


def relu_(input: Tensor) -> Tensor:
    """``F.relu_``: in-place relu."""
    return _pw.relu_(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``F.hardtanh``: clamp to ``[min_val, max_val]``; gradient 0 at and beyond the bounds."""
    x = _clamp_input(input, "hardtanh", "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _run(Hardtanh, x, inplace, "hardtanh_", min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``F.hardtanh_``: in-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``F.relu6``: ``hardtanh(x, 0, 6)`` (``HardtanhBackward0`` as in PyTorch)."""
    x = _clamp_input(input, "relu6", "hardtanh")
    return _run(Hardtanh, x, inplace, "relu6_", 0, 6)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``F.elu``: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = _float_input(input, "elu", "elu_{dev}")
    return _run(Elu, x, inplace, "elu_", float(alpha), 1.0, 1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``F.elu_``: in-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``F.selu``: ``scale * elu(x, alpha)`` with PyTorch's self-normalising constants."""
    x = _float_input(input, "selu", "elu_{dev}")
    return _run(Elu, x, inplace, "selu_", _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input: Tensor) -> Tensor:
    """``F.selu_``: in-place :func:`selu`."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``F.celu``: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    x = _float_input(input, "celu", "elu_{dev}")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _run(Celu, x, inplace, "celu_", float(alpha), 1.0, 1.0 / alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``F.celu_``: in-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``F.leaky_relu``: ``x`` for ``x > 0``, else ``negative_slope * x``."""
    x = _float_input(input, "leaky_relu", "leaky_relu_{dev}")
    return _run(LeakyRelu, x, inplace, "leaky_relu_", float(negative_slope))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``F.leaky_relu_``: in-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``F.gelu``: ``x * Phi(x)`` (exact, through erf) or PyTorch's tanh approximation."""
    x = _check(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    npd = x._data.dtype
    if not _is_real_float(npd):
        raise _not_impl("GeluKernelImpl", npd, x._data)
    return Gelu.apply(x, approximate == "tanh")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``F.silu``: ``x * sigmoid(x)`` (complex inputs too, without autograd, as in PyTorch)."""
    x = _float_input(input, "silu", "silu_{dev}", complex_ok=True)
    if x._data.dtype.kind == "c" and x._rg and _state.enabled:
        raise RuntimeError("silu does not support automatic differentiation for outputs with "
                           "complex dtype.")
    return _run(Silu, x, inplace, "silu_")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``F.mish``: ``x * tanh(softplus(x))``."""
    x = _float_input(input, "mish", "mish_{dev}")
    return _run(Mish, x, inplace, "mish_")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``F.hardsigmoid``: ``relu6(x + 3) / 6``; gradient 1/6 strictly inside (-3, 3)."""
    x = _float_input(input, "hardsigmoid", "hardsigmoid_{dev}")
    return _run(Hardsigmoid, x, inplace, "hardsigmoid_")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``F.hardswish``: ``x * relu6(x + 3) / 6``."""
    x = _float_input(input, "hardswish", "hardswish_{dev}")
    return _run(Hardswish, x, inplace, "hardswish_")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``F.softplus``: ``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``
    (PyTorch's reversion for numerical stability)."""
    x = _float_input(input, "softplus", "softplus_{dev}")
    return Softplus.apply(x, float(beta), float(threshold))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``F.softshrink``: shrink towards 0 by ``lambd`` (0 inside ``[-lambd, lambd]``)."""
    x = _float_input(input, "softshrink", "softshrink_check")
    if lambd < 0 or lambd > _dtype.finfo(x.dtype).max:
        fmax = _dtype.finfo(x.dtype).max
        raise RuntimeError(f"lambda must be in range [0, {fmax:g}] for input dtype "
                           f"{_legacy_scalar_name(x.dtype)}, but found {lambd:g}")
    return Softshrink.apply(x, float(lambd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``F.hardshrink``: ``x`` outside ``[-lambd, lambd]``, else 0."""
    x = _float_input(input, "hardshrink", "hardshrink_{dev}")
    return Hardshrink.apply(x, float(lambd))


def logsigmoid(input: Tensor) -> Tensor:
    """``F.logsigmoid``: ``log(sigmoid(x))``, computed stably as
    ``min(x, 0) - log1p(exp(-|x|))``."""
    x = _float_input(input, "log_sigmoid", "log_sigmoid_{dev}")
    return LogSigmoid.apply(x)


def tanhshrink(input: Tensor) -> Tensor:
    """``F.tanhshrink``: ``x - tanh(x)`` (a composite, as in PyTorch)."""
    return input - _pw.tanh(input)


def softsign(input: Tensor) -> Tensor:
    """``F.softsign``: ``x / (1 + |x|)`` (a composite, as in PyTorch)."""
    return input / (_pw.abs(input) + 1)


def tanh(input: Tensor) -> Tensor:
    """``F.tanh``: ``torch.tanh``."""
    return _pw.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """``F.sigmoid``: ``torch.sigmoid``."""
    return _pw.sigmoid(input)


# ---------------------------------------------------------------------------------------------
# glu, prelu, rrelu
# ---------------------------------------------------------------------------------------------

class Glu(Op, name="GluBackward0"):
    """``a * sigmoid(b)`` for the two halves of the input along ``dim``."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        h = x.shape[dim] // 2
        a = x[(slice(None),) * dim + (slice(0, h),)]
        b = x[(slice(None),) * dim + (slice(h, None),)]
        if ctx._edges:
            ctx.save_for_backward(x)
        return _opmath2(lambda xp, u, v: u / (1 + xp.exp(-v)), a, b)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = ctx.dim
        h = x._data.shape[d] // 2
        if _state.enabled:
            a = _shape.narrow(x, d, 0, h)
            sig = _pw.sigmoid(_shape.narrow(x, d, h, h))
            ga = g * sig
            return _shape.cat([ga, ga * a * (1 - sig)], d)
        xd = x._data
        lo = (slice(None),) * d + (slice(0, h),)
        hi = (slice(None),) * d + (slice(h, None),)

        def f(xp, gg, xx):
            sig = 1 / (1 + xp.exp(-xx[hi]))
            out = xp.empty_like(xx)
            out[lo] = gg * sig
            out[hi] = out[lo] * xx[lo] * (1 - sig)
            return out

        return Tensor._make(_opmath2(f, g._data, xd))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``F.glu``: the gated linear unit ``a * sigmoid(b)``, ``(a, b)`` the halves of ``input``
    along ``dim``."""
    x = _check(input, "glu")
    a = x._data
    if a.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _util.wrap_dim(dim, a.ndim)
    if a.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{a.shape[d]}")
    if not (_is_real_float(a.dtype)):
        raise _not_impl("glu_{dev}", a.dtype, a)
    return Glu.apply(x, d)


class PreluKernel(Op, name="PreluKernelBackward0"):
    """``x > 0 ? x : w * x`` with ``w`` broadcast along the channel dim (``bshape``)."""

    @staticmethod
    def forward(ctx, x, w, bshape):
        ctx.bshape = bshape
        if ctx._edges:
            e = ctx._edges
            ctx.save_for_backward(x, w if e[0] else None)
        return _opmath2(lambda xp, a, b: xp.where(a > 0, a, a * b.reshape(bshape)), x, w)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        e = ctx._edges
        bshape = ctx.bshape
        a = x._data
        wshape = ctx._edges[1][2] if e[1] else None
        # the channel dim (1) is kept, every other dim is summed for the weight's gradient
        axes = tuple(i for i in range(a.ndim) if not (len(bshape) and i == 1))
        if _state.enabled:
            pos = _const(a > 0)
            gx = _pw.where(pos, g, g * _shape.reshape(w, bshape)) if e[0] else None
            gw = None
            if e[1]:
                t = _pw.where(pos, 0.0, x * g)
                gw = _shape.reshape(_red.sum(t, axes) if axes else t, wshape)
            return gx, gw
        gd = g._data
        xp = array_module(gd)
        gx = gw = None
        if e[0]:
            gx = Tensor._make(_opmath2(lambda xp_, gg, b: xp.where(a > 0, gg, gg * b.reshape(
                bshape)), gd, w._data))
        if e[1]:
            t = _opmath2(lambda xp_, gg, aa: xp.where(aa > 0, 0, aa * gg), gd, a)
            acc = np.float32 if t.dtype in _HALF else t.dtype
            s = t.sum(axis=axes, dtype=acc) if axes else t
            gw = Tensor._make(_arr(xp.asarray(s).astype(t.dtype).reshape(wshape)))
        return gx, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``F.prelu``: ``max(0, x) + weight * min(0, x)``; a 1-D ``weight`` of more than one element
    applies per channel (dim 1 of ``input``), as in PyTorch."""
    x = _check(input, "prelu")
    w = _check(weight, "prelu", "weight", 2)
    if x.dtype is not w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got "
                           f"{_legacy_scalar_name(x.dtype)} and {_legacy_scalar_name(w.dtype)}")
    npd = x._data.dtype
    if not _is_real_float(npd):
        raise _not_impl("prelu_{dev}", npd, x._data)
    _util.check_same_device(x, w)
    n = w._data.size
    nd = x._data.ndim
    if n != 1:
        if nd == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = x._data.shape[1] if nd >= 2 else 1
        if n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
    if w._data.ndim > 1:  # checked after the channels, as PyTorch does
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w._data.ndim}")
    bshape = (1, n) + (1,) * (nd - 2) if n != 1 else ()
    return PreluKernel.apply(x, w, bshape)


class RreluWithNoise(Op, name="RreluWithNoiseBackward0"):
    """``x * noise`` in training (``noise`` drawn where ``x <= 0``, else 1); in evaluation a
    leaky relu with the mean slope."""

    @staticmethod
    def forward(ctx, x, noise, slope):
        ctx.noise, ctx.slope = noise, slope
        if noise is not None:
            return _opmath2(lambda xp, a, n: a * n, x, noise)
        if ctx._edges:
            ctx.save_for_backward(x)
        return _opmath(lambda xp, a: xp.where(a > 0, a, a * slope), x)

    @staticmethod
    def backward(ctx, g):
        if ctx.noise is not None:
            return g * Tensor._make(ctx.noise)
        (x,) = ctx.saved_tensors
        return LeakyRelu._df_t(g, x, ctx.slope)


# PyTorch's in-place forms of these record a second node kind (``LeakyReluBackward1``, ...):
# the same gradient, computed from the result because the input was overwritten
_INPLACE_NODE = {cls: type(cls.__name__, (cls,), {}, name=cls.__name__[:-1] + "1")
                 for cls in (Threshold, LeakyRelu, Elu, Celu, RreluWithNoise)}


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """``F.rrelu``: in training, negative inputs are scaled by a slope drawn uniformly from
    ``[lower, upper]`` (from ember's generator, so not PyTorch's bit pattern); in evaluation
    by the mean slope ``(lower + upper) / 2``."""
    x = _check(input, "rrelu")
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    npd = x._data.dtype
    if not _is_real_float(npd):
        kernel = "rrelu_with_noise_out_{dev}" if training else "leaky_relu_{dev}"
        raise _not_impl(kernel, npd, x._data)
    if inplace:
        check_inplace(x)
    noise = None
    if training:
        a = x._data
        xp = array_module(a)
        work = np.float64 if npd == np.float64 else np.float32
        with _backend.on_device(x.device):
            u = rng_for(x.device, None).random(a.shape, dtype=work)
            u *= work(upper - lower)
            u += work(lower)
            noise = _arr(xp.where(a <= 0, u, work(1)).astype(npd, copy=False))
    if inplace:
        return _inplace(x, _INPLACE_NODE[RreluWithNoise].apply(x, noise, (lower + upper) / 2),
                        "rrelu_")
    return RreluWithNoise.apply(x, noise, (lower + upper) / 2)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """``F.rrelu_``: in-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


# ---------------------------------------------------------------------------------------------
# softmax family
# ---------------------------------------------------------------------------------------------

def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy implicit dim (0 for 0-, 1- and 3-d inputs, else 1), with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``F.softmax`` along ``dim`` (``None``: PyTorch's deprecated implicit dim, with its
    warning); ``dtype`` casts the input first. The fused ``torch.softmax`` op."""
    x = _check(input, "softmax")
    if dim is None:
        dim = _get_softmax_dim("softmax", x.dim(), _stacklevel)
    return _red.softmax(x, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``F.softmin``: ``softmax(-input)``."""
    x = _check(input, "softmin")
    if dim is None:
        dim = _get_softmax_dim("softmin", x.dim(), _stacklevel)
    return _red.softmax(_pw.neg(x), dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``F.log_softmax``: the fused, overflow-free ``x - logsumexp(x)`` of ``torch.log_softmax``
    (its backward is ``g - softmax * sum(g)``)."""
    x = _check(input, "log_softmax")
    if dim is None:
        dim = _get_softmax_dim("log_softmax", x.dim(), _stacklevel)
    return _red.log_softmax(x, dim, dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """``F.gumbel_softmax``: ``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g`` from
    ember's generator; ``hard`` returns one-hot samples with the soft sample's gradient."""
    x = _check(logits, "gumbel_softmax", "logits")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    a = x._data
    xp = array_module(a)
    work = np.float64 if a.dtype == np.float64 else np.float32
    with _backend.on_device(x.device):
        e = rng_for(x.device, None).standard_exponential(a.shape, dtype=work)
    gumbels = Tensor._make(_arr((-xp.log(e)).astype(a.dtype, copy=False)))
    y_soft = _red.softmax((x + gumbels) / tau, dim)
    if not hard:
        return y_soft
    ys = y_soft._data
    if a.ndim:
        d = _util.wrap_dim(dim, a.ndim)
        idx = xp.expand_dims(ys.argmax(axis=d), d)
        pos = xp.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - 1 - d))
        hard_arr = (pos == idx).astype(ys.dtype)
    else:
        hard_arr = xp.ones_like(ys)
    return Tensor._make(hard_arr) - y_soft.detach() + y_soft


# Tensor methods PyTorch has for these (relu, sigmoid, tanh, softmax live with their families)
METHODS = {"hardshrink": hardshrink, "prelu": prelu}
