"""Pointwise ops: arithmetic, comparisons, logical/bitwise ops and elementwise math.

Binary ops share one dispatcher (``_binary``) that applies PyTorch's promotion (Python numbers
are weak, 0-d tensors rank below dimensioned ones), device checks and PyTorch's broadcasting
error, then calls the op. Unary float functions compute integer inputs in the default float
dtype; float16/bfloat16 are computed in float32 and rounded back (PyTorch's "opmath").
Backward formulas are written with ember ops, so double backward works; masks that only select
(clamp, relu, where) are constants of the graph. Special functions (erf, lgamma, digamma, ...)
come from ``_special.py``.
"""

from __future__ import annotations

import builtins
import cmath
import math
import mmap
import numbers
import warnings

import numpy as np

from .. import _dtype, _parallel
from .._backend import array_module
from .._tensor import Tensor, _c_name, as_array
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _special, _util
from ._util import cast, check_inplace, inplace, result_type, write_out

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
    "negative", "rsub", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logit",
    "sqrt", "rsqrt", "reciprocal", "square", "sigmoid", "tanh", "relu", "sin", "cos", "tan",
    "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "asinh", "acosh",
    "atanh", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2", "deg2rad", "rad2deg", "sinc",
    "erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0", "abs", "absolute", "sign",
    "sgn", "signbit", "positive", "floor", "ceil", "round", "trunc", "fix", "frac",
    "nan_to_num", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "conj",
    "real", "imag", "angle", "pow", "float_power", "fmod", "remainder", "floor_divide",
    "maximum", "minimum", "fmax", "fmin", "hypot", "copysign", "xlogy", "logaddexp",
    "logaddexp2", "heaviside", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal",
    "less", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift", "where", "clamp", "clip", "clamp_min",
    "clamp_max", "lerp", "addcmul", "addcdiv", "isclose", "allclose", "equal", "ldexp",
    "nextafter", "gcd", "lcm", "frexp", "mvlgamma", "conj_physical", "resolve_conj",
    "resolve_neg", "is_conj", "is_neg",
]

_ndarray = np.ndarray
_Number = (int, float, bool, complex)
_FLOAT_KINDS = "fc"


def _is_float_np(npd) -> bool:
    return npd.kind in _FLOAT_KINDS or npd == _dtype._BF16_NP


def _scalar(v):
    """Python number for ``v`` if it is one (NumPy scalars included); else None."""
    if isinstance(v, _Number):
        return v
    if isinstance(v, np.generic):
        return v.item()
    return None


def _other_tensor(v, like: Tensor, fname: str):
    """Non-number operands: tensors pass, NumPy arrays become tensors, others are refused."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, np.ndarray):
        from .creation import as_tensor

        return as_tensor(v, device=like.device)
    raise TypeError(f"{fname}(): argument 'other' (position 2) must be Tensor, not "
                    f"{type(v).__name__}")


def _wrap_int(s, npd):
    """Python int that overflows an integer dtype wraps around, as PyTorch's cast does."""
    bits = npd.itemsize * 8
    s = int(s) & ((1 << bits) - 1)
    if npd.kind == "i" and s >= 1 << (bits - 1):
        s -= 1 << bits
    return s


def _binary(cls, x, y, fname: str, floating: bool = False, extra=()):
    """Promote, check and apply binary op ``cls`` to tensors/numbers ``x`` and ``y``.

    ``floating``: integer results are computed in the default float dtype (true division).
    """
    if isinstance(x, Tensor):
        xt = True
    else:
        sx = _scalar(x)
        if sx is None:
            x = _other_tensor(x, y, fname)
            xt = True
        else:
            x, xt = sx, False
    if isinstance(y, Tensor):
        yt = True
    else:
        sy = _scalar(y)
        if sy is None:
            y = _other_tensor(y, x, fname)
            yt = True
        else:
            y, yt = sy, False

    if xt and yt:
        xa, ya = x._data, y._data
        npd = xa.dtype
        if npd != ya.dtype or (floating and not _is_float_np(npd)):
            rdt = result_type(x, y)
            if floating and not (rdt.is_floating_point or rdt.is_complex):
                rdt = _dtype.get_default_dtype()
            x, y = cast(x, rdt), cast(y, rdt)
            xa, ya = x._data, y._data
        if type(xa) is not _ndarray or type(ya) is not _ndarray:
            x, y = _util.same_device(x, y)
            xa, ya = x._data, y._data
        if xa.shape != ya.shape:
            _check_broadcast(xa.shape, ya.shape)
        return cls.apply(x, y, *extra)

    # one operand is a Python number
    t, s = (x, y) if xt else (y, x)
    npd = t._data.dtype
    if isinstance(s, float):
        ok = _is_float_np(npd)
    elif isinstance(s, bool):
        ok = not floating or _is_float_np(npd)
    elif isinstance(s, int):
        if not -(1 << 63) <= s < 1 << 64:  # PyTorch reads Python ints as int64 or uint64
            raise OverflowError("int too big to convert" if s > 0 else
                                "can't convert negative int to unsigned")
        ok = npd.kind != "b" and (not floating or _is_float_np(npd))
        if ok and npd.kind in "iu":
            info = np.iinfo(npd)
            if not info.min <= s <= info.max:
                s = _wrap_int(s, npd)
    else:
        ok = npd.kind == "c"
    if not ok:
        rdt = result_type(t, s)
        if floating and not (rdt.is_floating_point or rdt.is_complex):
            rdt = _dtype.get_default_dtype()
        t = cast(t, rdt)
        if isinstance(s, int) and not isinstance(s, bool) and rdt.is_signed and \
                not rdt.is_floating_point and not rdt.is_complex:
            info = np.iinfo(_dtype.to_numpy_dtype(rdt))
            if not info.min <= s <= info.max:
                s = _wrap_int(s, _dtype.to_numpy_dtype(rdt))
    if isinstance(s, float) and t._data.dtype == _dtype._BF16_NP and \
            not getattr(cls, "_bf16_safe", False):
        # ml_dtypes promotes bfloat16 with a Python float to float32: compute there (PyTorch's
        # opmath for bfloat16 is float32 too) and round back.
        t32 = cast(t, _dtype.float32)
        r = cls.apply(t32, s, *extra) if xt else cls.apply(s, t32, *extra)
        return cast(r, _dtype.bfloat16) if r._data.dtype == np.float32 else r
    return cls.apply(t, s, *extra) if xt else cls.apply(s, t, *extra)


def _check_broadcast(sa, sb) -> None:
    na, nb = len(sa), len(sb)
    for i in range(1, min(na, nb) + 1):
        a, b = sa[-i], sb[-i]
        if a != b and a != 1 and b != 1:
            _util.broadcast_shapes_or_raise(sa, sb)


def _ret(result: Tensor, out, fname: str) -> Tensor:
    return result if out is None else write_out(out, result, fname)


# ---------------------------------------------------------------------------------------------
# in-place binary ops
# ---------------------------------------------------------------------------------------------

def _inplace_binary(ufunc, fn, self: Tensor, other, fname: str, **kw) -> Tensor:
    """``self op= other``: straight into self's storage when no graph is recorded and no cast
    is needed; otherwise out of place, then written back with autograd rebasing."""
    check_inplace(self)
    td = self._data
    if ufunc is np.subtract and td.dtype == np.bool_:
        ufunc = None  # sub() raises PyTorch's bool error (NumPy's own would escape)
    if fname.startswith("bitwise_") and (isinstance(other, Tensor) or _scalar(other) is not None):
        # PyTorch checks the output's shape and dtype before the kernel's dtype support
        if isinstance(other, Tensor) and other._data.shape != td.shape:
            shape = _util.broadcast_shapes_or_raise(td.shape, other._data.shape)
            if tuple(shape) != td.shape:
                raise RuntimeError(f"output with shape {list(td.shape)} doesn't match the "
                                   f"broadcast shape {list(shape)}")
        rdt = result_type(self, other)
        if not _util.can_cast(rdt, self.dtype):
            raise RuntimeError(f"result type {_util.dtype_name(rdt)} can't be cast to the "
                               f"desired output type {_util.dtype_name(self.dtype)}")
    if ufunc is not None and not kw:
        grad = _state.enabled and (self._rg or (isinstance(other, Tensor) and other._rg))
        if not grad:
            if isinstance(other, Tensor):
                oa = other._data
                if oa.dtype == td.dtype and type(oa) is type(td) and \
                        (oa.shape == td.shape or _fits_into(oa.shape, td.shape)):
                    if _is_float_np(td.dtype) or ufunc is not np.true_divide:
                        ufunc(td, oa, out=td)
                        self._bump_version()
                        return self
            else:
                s = _scalar(other)
                if s is not None and not isinstance(s, complex) and (
                        _is_float_np(td.dtype)
                        or (td.dtype.kind in "iu" and type(s) is int and ufunc is not np.true_divide
                            and np.iinfo(td.dtype).min <= s <= np.iinfo(td.dtype).max)):
                    ufunc(td, s, out=td)
                    self._bump_version()
                    return self
    return inplace(self, fn(self, other, **kw), fname)


def _fits_into(small, big) -> bool:
    if len(small) > len(big):
        return False
    for s, b in zip(reversed(small), reversed(big)):
        if s != b and s != 1:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# arithmetic
# ---------------------------------------------------------------------------------------------

class Add(Op, name="AddBackward0"):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        if alpha == 1:
            return a + b
        ctx.alpha = alpha
        return a + b * alpha

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        gb = None
        if e[1]:
            alpha = ctx.__dict__.get("alpha", 1)
            gb = g if alpha == 1 else g * alpha
        return (g if e[0] else None), gb, None


def _check_alpha(x, y, alpha) -> None:
    if alpha != 1 and isinstance(alpha, float):
        for t in (x, y):
            if isinstance(t, Tensor) and t._data.dtype.kind in "iub":
                raise RuntimeError("For integral input tensors, argument alpha must not be a "
                                   "floating point number.")


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """``torch.add``: ``input + alpha * other`` with PyTorch's type promotion."""
    if alpha != 1:
        _check_alpha(input, other, alpha)
        r = _binary(Add, input, other, "add", extra=(alpha,))
    else:
        r = _binary(Add, input, other, "add")
    return r if out is None else write_out(out, r, "add")


class Sub(Op, name="SubBackward0"):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        if alpha == 1:
            return a - b
        ctx.alpha = alpha
        return a - b * alpha

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        gb = None
        if e[1]:
            alpha = ctx.__dict__.get("alpha", 1)
            gb = -g if alpha == 1 else g * (-alpha)
        return (g if e[0] else None), gb, None


def _is_bool(v) -> bool:
    return isinstance(v, (bool, np.bool_)) or (isinstance(v, Tensor) and
                                                 v._data.dtype == np.bool_)


def _check_bool_sub(x, y) -> None:
    """PyTorch refuses subtraction with a bool operand (tensor or number)."""
    xb, yb = _is_bool(x), _is_bool(y)
    if xb and yb:  # (a Python bool counts as a bool tensor, as PyTorch wraps it)
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if xb or yb:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """``torch.sub``: ``input - alpha * other``; bool operands are refused, like PyTorch."""
    _check_bool_sub(input, other)
    if alpha != 1:
        _check_alpha(input, other, alpha)
        r = _binary(Sub, input, other, "sub", extra=(alpha,))
    else:
        r = _binary(Sub, input, other, "sub")
    return r if out is None else write_out(out, r, "sub")


subtract = sub


class Rsub(Op, name="RsubBackward1"):
    @staticmethod
    def forward(ctx, a, b):
        return b - a

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        return (-g if e[0] else None), (g if e[1] else None)


def rsub(input, other, alpha=1) -> Tensor:
    """``torch.rsub``: ``other - alpha * input``."""
    _check_bool_sub(input, other)
    if alpha != 1:
        return sub(other, input, alpha=alpha)
    return _binary(Rsub, input, other, "rsub")


class Mul(Op, name="MulBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b if e[0] else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        if not _state.enabled and type(g._data) is _ndarray:
            # no graph of the backward is recorded: multiply the arrays (the engine reduces
            # broadcasting), skipping a differentiable op per gradient
            gd = g._data
            ga = Tensor._make(_arr(gd * _conj_value(b))) if e[0] else None
            gb = Tensor._make(_arr(gd * _conj_value(a))) if e[1] else None
            return ga, gb
        ga = g * _conj(b) if e[0] else None
        gb = g * _conj(a) if e[1] else None
        return ga, gb


def _conj_value(v):
    """Array or number of a saved operand, conjugated when complex."""
    if isinstance(v, Tensor):
        v = v._data
        return v.conj() if v.dtype.kind == "c" else v
    return v.conjugate() if isinstance(v, complex) else v


def _conj(v):
    if isinstance(v, Tensor) and v._data.dtype.kind == "c":
        return conj(v)
    return v


def mul(input, other, *, out=None) -> Tensor:
    """``torch.mul``."""
    r = _binary(Mul, input, other, "mul")
    return r if out is None else write_out(out, r, "mul")


multiply = mul


class Div(Op, name="DivBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        ga = gb = None
        if e[0]:
            ga = g / _conj(b)
        if e[1]:
            gb = -g * _conj(a) / _conj(b * b) if isinstance(b, Tensor) else None
        return ga, gb


class DivMode(Op, name="DivBackward1"):
    """Division rounded toward zero (``'trunc'``) or down (``'floor'``); zero gradient."""

    @staticmethod
    def forward(ctx, a, b, mode):
        arr = b if isinstance(a, _Number) else a
        if arr.dtype == np.bool_ or arr.dtype.kind == "c":
            raise _not_impl(f"div_{mode}_{{dev}}", arr.dtype, arr)
        xp = array_module(arr)
        if _is_int(a) and _is_int(b) and _has_zero(b):
            raise RuntimeError("ZeroDivisionError")
        if mode == "floor":
            return xp.floor_divide(a, b)
        if _is_int(a) and _is_int(b):
            q = xp.floor_divide(a, b)
            # floor and truncation differ for negative quotients with a remainder
            fix = ((a - q * b) != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0))
            return q + fix.astype(q.dtype)
        return xp.trunc(xp.true_divide(a, b))

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        z = _util.zeros_like_tensor(g)
        return (z if e[0] else None), (z if e[1] else None), None


def _is_int(v) -> bool:
    if isinstance(v, (bool, int)):
        return True
    if isinstance(v, (float, complex)):
        return False
    return v.dtype.kind in "iub"


def _has_zero(b) -> bool:
    if isinstance(b, (int, bool)):
        return b == 0
    return bool((b == 0).any())


def div(input, other, *, rounding_mode: str | None = None, out=None) -> Tensor:
    """``torch.div``: true division, or ``'trunc'``/``'floor'`` rounding."""
    if rounding_mode is None:
        r = _binary(Div, input, other, "div", floating=True)
    elif rounding_mode in ("trunc", "floor"):
        r = _binary(DivMode, input, other, "div", extra=(rounding_mode,))
    else:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    return r if out is None else write_out(out, r, "div")


divide = div


def true_divide(input, other, *, out=None) -> Tensor:
    return div(input, other, out=out)


class Neg(Op, name="NegBackward0"):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                               "you are trying to invert a mask, use the `~` or `logical_not()` "
                               "operator instead.")
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


def neg(input, *, out=None) -> Tensor:
    """``torch.neg``."""
    return _ret(Neg.apply(_check_tensor(input, "neg")), out, "neg")


negative = neg


# ---------------------------------------------------------------------------------------------
# shared helpers for the op families below
# ---------------------------------------------------------------------------------------------

_HALF = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _HALF.add(_dtype._BF16_NP)
_F32 = np.dtype(np.float32)


def _arr(r):
    """NumPy ufuncs return scalars for 0-d inputs; ops must return (and save) arrays."""
    return r if type(r) is _ndarray else as_array(r)


def _opmath(fn, a):
    """``fn(xp, a)``, through float32 for float16/bfloat16 (PyTorch's opmath), cast back."""
    xp = array_module(a)
    if a.dtype in _HALF:
        return _arr(fn(xp, a.astype(_F32)).astype(a.dtype))
    return _arr(fn(xp, a))


def _opmath2(fn, a, b):
    """Binary ``fn(xp, a, b)`` (either may be a Python number) with opmath for half dtypes."""
    arr = b if isinstance(a, _Number) else a
    xp = array_module(arr)
    if arr.dtype in _HALF:
        a32 = a if isinstance(a, _Number) else a.astype(_F32)
        b32 = b if isinstance(b, _Number) else b.astype(_F32)
        return _arr(fn(xp, a32, b32).astype(arr.dtype))
    return _arr(fn(xp, a, b))


def _dev(a) -> str:
    return "cpu" if isinstance(a, np.ndarray) else "cuda"


def _not_impl(kernel: str, npd, a) -> NotImplementedError:
    """PyTorch's dispatch error, e.g. ``"abs_cpu" not implemented for 'Bool'``; ``{dev}`` in
    ``kernel`` becomes the device type."""
    name = _util.dtype_name(_dtype.from_numpy_dtype(npd))
    return NotImplementedError(f"\"{kernel.format(dev=_dev(a))}\" not implemented for '{name}'")


def _where_const(mask, g: Tensor, other=0.0) -> Tensor:
    """``where(mask, g, other)`` for a constant (non-differentiable) boolean array ``mask``."""
    return where(Tensor._make(_arr(mask)), g, other)


def _zeros(t: Tensor) -> Tensor:
    return _util.zeros_like_tensor(t)


def _check_tensor(x, fname: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _to_float(x: Tensor) -> Tensor:
    """Integer and bool inputs of float functions compute in the default float dtype."""
    if _is_float_np(x._data.dtype):
        return x
    return cast(x, _dtype.get_default_dtype())


def _no_complex(x: Tensor, kernel: str) -> None:
    if x._data.dtype.kind == "c":
        raise _not_impl(kernel, x._data.dtype, x._data)


def _ip(fn, name: str):
    """In-place variant of out-of-place ``fn``: PyTorch's checks first, then write back."""
    def method(self, *args, **kwargs):
        check_inplace(self)
        return inplace(self, fn(self, *args, **kwargs), name)

    method.__name__ = name
    method.__doc__ = f"In-place ``Tensor.{name}``."
    return method


# ---------------------------------------------------------------------------------------------
# unary float functions
# ---------------------------------------------------------------------------------------------

class _Unary(Op):
    """Elementwise float function: ``_fn(xp, a)`` computes it; ``_save_in``/``_save_out``
    say what backward needs (saved only when a gradient will be computed)."""

    _fn = None
    _save_in = False
    _save_out = False

    @staticmethod
    def forward(ctx, a):
        cls = type(ctx)
        r = _opmath(cls._fn, a)
        if ctx._edges:
            ctx.save_for_backward(a if cls._save_in else None, r if cls._save_out else None)
        return r


class Exp(_Unary, name="ExpBackward0"):
    _fn = staticmethod(lambda xp, a: xp.exp(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(r)


class Exp2(_Unary, name="Exp2Backward0"):
    _fn = staticmethod(lambda xp, a: xp.exp2(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(r * _LN2)


class Expm1(_Unary, name="Expm1Backward0"):
    _fn = staticmethod(lambda xp, a: xp.expm1(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(r + 1)


class Log(_Unary, name="LogBackward0"):
    _fn = staticmethod(lambda xp, a: xp.log(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g / _conj(x)


class Log2(_Unary, name="Log2Backward0"):
    _fn = staticmethod(lambda xp, a: xp.log2(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g / _conj(x * _LN2)


class Log10(_Unary, name="Log10Backward0"):
    _fn = staticmethod(lambda xp, a: xp.log10(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g / _conj(x * _LN10)


def _log1p(xp, a):
    """``log1p``; NumPy's complex log1p is ``log(1 + z)``, which loses all precision for small
    ``z`` (PyTorch's is accurate there), so complex inputs near 0 use ``log1p(2x + x² + y²) / 2``
    for the real part."""
    if a.dtype.kind != "c":
        return xp.log1p(a)
    x, y = a.real, a.imag
    near0 = xp.abs(a) < 0.5
    re = xp.where(near0, 0.5 * xp.log1p(x * (2 + x) + y * y), xp.log(xp.abs(1 + a)))
    r = xp.empty_like(a)
    r.real, r.imag = re, xp.arctan2(y, 1 + x)
    return r


class Log1p(_Unary, name="Log1PBackward0"):
    _fn = staticmethod(_log1p)
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g / _conj(x + 1)


class Sqrt(_Unary, name="SqrtBackward0"):
    _fn = staticmethod(lambda xp, a: xp.sqrt(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g / _conj(r * 2)


class Rsqrt(_Unary, name="RsqrtBackward0"):
    _fn = staticmethod(lambda xp, a: 1 / xp.sqrt(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(r * r * r * -0.5)


class Reciprocal(_Unary, name="ReciprocalBackward0"):
    _fn = staticmethod(lambda xp, a: xp.reciprocal(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(-(r * r))


class Sigmoid(_Unary, name="SigmoidBackward0"):
    _fn = staticmethod(lambda xp, a: 1 / (1 + xp.exp(-a)))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(r * (1 - r))


class Tanh(_Unary, name="TanhBackward0"):
    _fn = staticmethod(lambda xp, a: xp.tanh(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(1 - r * r)


class Sin(_Unary, name="SinBackward0"):
    _fn = staticmethod(lambda xp, a: xp.sin(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _conj(cos(x))


class Cos(_Unary, name="CosBackward0"):
    _fn = staticmethod(lambda xp, a: xp.cos(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _conj(-sin(x))


class Tan(_Unary, name="TanBackward0"):
    _fn = staticmethod(lambda xp, a: xp.tan(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * _conj(1 + r * r)


class Asin(_Unary, name="AsinBackward0"):
    _fn = staticmethod(lambda xp, a: xp.arcsin(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _conj(rsqrt(1 - x * x))


class Acos(_Unary, name="AcosBackward0"):
    _fn = staticmethod(lambda xp, a: xp.arccos(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _conj(-rsqrt(1 - x * x))


class Atan(_Unary, name="AtanBackward0"):
    _fn = staticmethod(lambda xp, a: xp.arctan(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g / _conj(x * x + 1)


class Sinh(_Unary, name="SinhBackward0"):
    _fn = staticmethod(lambda xp, a: xp.sinh(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _conj(cosh(x))


class Cosh(_Unary, name="CoshBackward0"):
    _fn = staticmethod(lambda xp, a: xp.cosh(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _conj(sinh(x))


class Asinh(_Unary, name="AsinhBackward0"):
    _fn = staticmethod(lambda xp, a: xp.arcsinh(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _conj(rsqrt(x * x + 1))


class Acosh(_Unary, name="AcoshBackward0"):
    _fn = staticmethod(lambda xp, a: xp.arccosh(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        if x._data.dtype.kind == "c":
            return g * _conj(rsqrt(x + 1) * rsqrt(x - 1))
        return g * rsqrt(x * x - 1)


class Atanh(_Unary, name="AtanhBackward0"):
    _fn = staticmethod(lambda xp, a: xp.arctanh(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g / _conj(1 - x * x)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG = math.pi / 180.0


class Deg2Rad(_Unary, name="Deg2RadBackward0"):
    _fn = staticmethod(lambda xp, a: a * _DEG)

    @staticmethod
    def backward(ctx, g):
        return g * _DEG


class Rad2Deg(_Unary, name="Rad2DegBackward0"):
    _fn = staticmethod(lambda xp, a: a * (1.0 / _DEG))

    @staticmethod
    def backward(ctx, g):
        return g * (1.0 / _DEG)


class Sinc(_Unary, name="SincBackward0"):
    _fn = staticmethod(lambda xp, a: xp.sinc(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        zero = x._data == 0
        # d/dx sinc(x) = (cos(pi x) - sinc(x)) / x (no pi x^2 to underflow), 0 at x = 0; the
        # masked points get a harmless x so double backward sees no 0/0
        xs = where(Tensor._make(_arr(zero)), 1.0, x)
        d = (cos(xs * math.pi) - sinc(xs)) / xs
        return _where_const(~zero, g * _conj(d))


def _unary_public(cls, fname: str, *, to_float: bool = True, complex_kernel: str | None = None,
                  real_only: str | None = None):
    """The public function of a unary float op (``torch.<fname>``)."""
    def fn(input, *, out=None) -> Tensor:
        x = _check_tensor(input, fname)
        if complex_kernel is not None:
            _no_complex(x, complex_kernel)
        if real_only is not None and x._data.dtype.kind == "c":
            raise RuntimeError(real_only)
        if to_float:
            x = _to_float(x)
        return _ret(cls.apply(x), out, fname)

    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = (f"``torch.{fname}``: elementwise, integer inputs computed in the default float "
                  "dtype, as PyTorch does.")
    return fn


exp = _unary_public(Exp, "exp")
exp2 = _unary_public(Exp2, "exp2")
expm1 = _unary_public(Expm1, "expm1")
log = _unary_public(Log, "log")
log2 = _unary_public(Log2, "log2")
log10 = _unary_public(Log10, "log10")
log1p = _unary_public(Log1p, "log1p")
sqrt = _unary_public(Sqrt, "sqrt")
rsqrt = _unary_public(Rsqrt, "rsqrt")
reciprocal = _unary_public(Reciprocal, "reciprocal")
sigmoid = _unary_public(Sigmoid, "sigmoid")
tanh = _unary_public(Tanh, "tanh")
sin = _unary_public(Sin, "sin")
cos = _unary_public(Cos, "cos")
tan = _unary_public(Tan, "tan")
asin = arcsin = _unary_public(Asin, "asin")
acos = arccos = _unary_public(Acos, "acos")
atan = arctan = _unary_public(Atan, "atan")
sinh = _unary_public(Sinh, "sinh")
cosh = _unary_public(Cosh, "cosh")
asinh = arcsinh = _unary_public(Asinh, "asinh")
acosh = arccosh = _unary_public(Acosh, "acosh")
atanh = arctanh = _unary_public(Atanh, "atanh")
deg2rad = _unary_public(Deg2Rad, "deg2rad", real_only="deg2rad is not supported for complex "
                        "tensors.")
rad2deg = _unary_public(Rad2Deg, "rad2deg", real_only="rad2deg is not supported for complex "
                        "tensors.")
sinc = _unary_public(Sinc, "sinc")


class Logit(Op, name="LogitBackward0"):
    @staticmethod
    def forward(ctx, a, eps):
        if ctx._edges:
            ctx.save_for_backward(a)
            ctx.eps = eps

        def f(xp, v):
            if eps is not None:
                v = xp.clip(v, eps, 1 - eps)
            return xp.log(v / (1 - v))

        return _opmath(f, a)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        a = x._data
        if eps is None:
            # PyTorch: nan outside [0, 1], g * inf at 0 and 1 whatever the sign of the zero
            # (dividing by a +0 denominator gives that without a 0 * inf in double backward)
            den = where(Tensor._make(_arr((a == 0) | (a == 1))), 0.0, x * (1 - x))
            return _where_const(~((a < 0) | (a > 1)), g / den, math.nan), None
        return _where_const(~((a < eps) | (a > 1 - eps)), g / (x * (1 - x)), 0.0), None


def logit(input, eps: float | None = None, *, out=None) -> Tensor:
    """``torch.logit``: log(p / (1 - p)), with ``p`` clamped to [eps, 1 - eps] when given."""
    x = _check_tensor(input, "logit")
    _no_complex(x, "logit_{dev}")
    return _ret(Logit.apply(_to_float(x), None if eps is None else float(eps)), out, "logit")


# ---------------------------------------------------------------------------------------------
# special functions (array code in _special.py)
# ---------------------------------------------------------------------------------------------

_SQRT_PI = math.sqrt(math.pi)


class Erf(_Unary, name="ErfBackward0"):
    _fn = staticmethod(lambda xp, a: _special.erf(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * (exp(-(x * x)) * (2.0 / _SQRT_PI))


class Erfc(_Unary, name="ErfcBackward0"):
    _fn = staticmethod(lambda xp, a: _special.erfc(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * (exp(-(x * x)) * (-2.0 / _SQRT_PI))


class Erfinv(_Unary, name="ErfinvBackward0"):
    _fn = staticmethod(lambda xp, a: _special.erfinv(a))
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        _, r = ctx.saved_tensors
        return g * (exp(r * r) * (_SQRT_PI / 2.0))


class Lgamma(_Unary, name="LgammaBackward0"):
    _fn = staticmethod(lambda xp, a: _special.lgamma(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * digamma(x)


class Digamma(_Unary, name="DigammaBackward0"):
    _fn = staticmethod(lambda xp, a: _special.digamma(a))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * polygamma(1, x)


class Polygamma(Op, name="PolygammaBackward0"):
    @staticmethod
    def forward(ctx, n, a):
        if ctx._edges:
            ctx.save_for_backward(a)
            ctx.n = n
        return _opmath(lambda xp, v: _special.polygamma(n, v), a)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return None, g * polygamma(ctx.n + 1, x)


class I0(_Unary, name="I0Backward0"):
    # PyTorch's i0 (a Chebyshev expansion) gives NaN at +-inf; so does ember's
    _fn = staticmethod(lambda xp, a: xp.where(xp.isinf(a), a.dtype.type(math.nan),
                                              _special.i0(a)))
    _save_in = True

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * _I1.apply(x)


class _I1(_Unary, name="SpecialI1Backward0"):
    """Modified Bessel function I1 (``torch.special.i1``); i0's derivative."""

    _fn = staticmethod(lambda xp, a: xp.where(xp.isinf(a), a.dtype.type(math.nan),
                                              _special.i1(a)))  # NaN at +-inf, as i0
    _save_in = True
    _save_out = True

    @staticmethod
    def backward(ctx, g):
        x, r = ctx.saved_tensors
        # I1'(x) = I0(x) - I1(x) / x, which is 1/2 at x = 0
        zero = x._data == 0
        xs = where(Tensor._make(_arr(zero)), 1.0, x)
        d = i0(x) - r / xs
        return g * where(Tensor._make(_arr(zero)), 0.5, d)


erf = _unary_public(Erf, "erf", complex_kernel="erf_vml_{dev}")
erfc = _unary_public(Erfc, "erfc", complex_kernel="erfc_vml_{dev}")
erfinv = _unary_public(Erfinv, "erfinv", complex_kernel="erfinv_vml_{dev}")
lgamma = _unary_public(Lgamma, "lgamma", complex_kernel="lgamma_vml_{dev}")
digamma = _unary_public(Digamma, "digamma", complex_kernel="digamma")
i0 = _unary_public(I0, "i0", complex_kernel="i0_vml_{dev}")


def special_i1(input) -> Tensor:
    """``torch.special.i1``: modified Bessel function of the first kind, order 1."""
    x = _check_tensor(input, "special_i1")
    _no_complex(x, "i1_{dev}")
    return _I1.apply(_to_float(x))


def polygamma(n: int, input, *, out=None) -> Tensor:
    """``torch.polygamma``: the n-th derivative of digamma (n = 0 is digamma itself)."""
    if isinstance(n, Tensor):
        n = int(n.item())
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = _check_tensor(input, "polygamma", pos=2)
    _no_complex(x, "polygamma")
    return _ret(Polygamma.apply(int(n), _to_float(x)), out, "polygamma")


def _polygamma_method(self, n: int) -> Tensor:
    return polygamma(n, self)


def _polygamma_(self, n: int) -> Tensor:
    check_inplace(self)
    return inplace(self, polygamma(n, self), "polygamma_")


# ---------------------------------------------------------------------------------------------
# unary ops that keep integer dtypes: abs, sign, sgn, rounding, relu, ...
# ---------------------------------------------------------------------------------------------

class Abs(Op, name="AbsBackward0"):
    @staticmethod
    def forward(ctx, a):
        if ctx._edges:
            ctx.save_for_backward(a)
        return _arr(array_module(a).abs(a))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sgn(x)


def abs(input, *, out=None) -> Tensor:  # noqa: A001
    """``torch.abs``; complex inputs give their (real) magnitude."""
    x = _check_tensor(input, "abs")
    if x._data.dtype == np.bool_:
        raise _not_impl("abs_{dev}", x._data.dtype, x._data)
    return _ret(Abs.apply(x), out, "abs")


absolute = abs


class Sign(Op, name="SignBackward0"):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            return a.copy()
        # NumPy's sign(nan) is nan; PyTorch's is 0
        return _opmath(lambda xp, v: xp.where(v != v, 0, xp.sign(v)), a)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)


def sign(input, *, out=None) -> Tensor:
    """``torch.sign``: -1, 0 or 1 (0 for NaN, like PyTorch); real inputs only."""
    x = _check_tensor(input, "sign")
    if x._data.dtype.kind == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                                  "numbers. Please use torch.sgn instead.")
    return _ret(Sign.apply(x), out, "sign")


class Sgn(Op, name="SgnBackward0"):
    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        if a.dtype.kind != "c":
            return Sign.forward(ctx, a)
        if ctx._edges:
            ctx.save_for_backward(a)
        m = xp.abs(a)
        return _arr(xp.where(m == 0, 0, a / xp.where(m == 0, 1, m)).astype(a.dtype))

    @staticmethod
    def backward(ctx, g):
        if g._data.dtype.kind != "c":
            return _zeros(g)
        (z,) = ctx.saved_tensors
        # Wirtinger calculus: with s = z/|z|, grad = (g - s^2 conj(g)) / (2 |z|), 0 at z = 0
        zero = z._data == 0
        m = where(Tensor._make(_arr(zero)), 1.0, abs(z))
        s = z / m
        return _where_const(~zero, (g - s * s * conj(g)) / (m * 2))


def sgn(input, *, out=None) -> Tensor:
    """``torch.sgn``: ``sign`` for real inputs, ``z / |z|`` (0 at 0) for complex ones."""
    return _ret(Sgn.apply(_check_tensor(input, "sgn")), out, "sgn")


def signbit(input, *, out=None) -> Tensor:
    """``torch.signbit``: True where the sign bit is set (-0.0 included)."""
    x = _check_tensor(input, "signbit")
    a = x._data
    if a.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    xp = array_module(a)
    if a.dtype.kind == "f" or a.dtype in _HALF:
        r = xp.signbit(a.astype(_F32) if a.dtype in _HALF else a)
    else:
        r = a < 0 if a.dtype.kind == "i" else xp.zeros(a.shape, dtype=np.bool_)
    return _ret(Tensor._make(_arr(r)), out, "signbit")


def positive(input) -> Tensor:
    """``torch.positive``: returns ``input`` itself (bool tensors are refused, like PyTorch)."""
    x = _check_tensor(input, "positive")
    if x._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


class _Rounding(Op):
    """floor/ceil/trunc/round: piecewise constant, so the gradient is zero."""

    _fn = None

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind in "iu":
            return a.copy()
        return _opmath(type(ctx)._fn, a)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)


class Floor(_Rounding, name="FloorBackward0"):
    _fn = staticmethod(lambda xp, a: xp.floor(a))


class Ceil(_Rounding, name="CeilBackward0"):
    _fn = staticmethod(lambda xp, a: xp.ceil(a))


class Trunc(_Rounding, name="TruncBackward0"):
    _fn = staticmethod(lambda xp, a: xp.trunc(a))


class Round(_Rounding, name="RoundBackward0"):
    _fn = staticmethod(lambda xp, a: xp.rint(a))  # halves to even, like PyTorch


class RoundDecimals(Op, name="RoundBackward1"):
    @staticmethod
    def forward(ctx, a, decimals):
        # PyTorch's formula (in the input's precision): rint(x * 10^d) / 10^d, or
        # rint(x / 10^-d) * 10^-d for negative d
        def f(xp, v):
            p = v.dtype.type(10.0 ** builtins.abs(decimals))
            if decimals < 0:
                return xp.rint(v / p) * p
            return xp.rint(v * p) / p

        return _opmath(f, a)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g), None


def _rounding_public(cls, fname: str, complex_msg: str | None, kernel: str):
    def fn(input, *, out=None) -> Tensor:
        x = _check_tensor(input, fname)
        npd = x._data.dtype
        if npd == np.bool_:
            raise _not_impl(kernel, npd, x._data)
        if npd.kind == "c":
            if complex_msg is None:
                raise _not_impl(kernel, npd, x._data)
            raise NotImplementedError(complex_msg)
        return _ret(cls.apply(x), out, fname)

    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = (f"``torch.{fname}``: zero gradient; integer inputs are returned as a copy, "
                  "as in PyTorch.")
    return fn


floor = _rounding_public(Floor, "floor", "floor is not supported for complex inputs",
                         "floor_vml_{dev}")
ceil = _rounding_public(Ceil, "ceil", "ceil is not supported for complex inputs",
                        "ceil_vml_{dev}")
trunc = _rounding_public(Trunc, "trunc", "trunc is not supported for complex inputs",
                         "trunc_vml_{dev}")
fix = trunc
_round0 = _rounding_public(Round, "round", None, "round_vml_{dev}")


def round(input, *, decimals: int | None = None, out=None) -> Tensor:  # noqa: A001
    """``torch.round``: halves round to even; ``decimals`` rounds to that many decimal places
    (``RoundBackward1``) with PyTorch's scale-round-unscale formula."""
    if decimals is None:
        return _round0(input, out=out)
    x = _check_tensor(input, "round")
    npd = x._data.dtype
    if not _is_float_np(npd) or npd.kind == "c":
        raise _not_impl("round_{dev}", npd, x._data)
    return _ret(RoundDecimals.apply(x, int(decimals)), out, "round")


def _round_(self, *, decimals: int | None = None) -> Tensor:
    check_inplace(self)
    return inplace(self, round(self, decimals=decimals), "round_")


class Frac(Op, name="FracBackward0"):
    @staticmethod
    def forward(ctx, a):
        return _opmath(lambda xp, v: v - xp.trunc(v), a)

    @staticmethod
    def backward(ctx, g):
        return g  # straight-through: frac(x) = x - trunc(x) and trunc has zero gradient


def frac(input, *, out=None) -> Tensor:
    """``torch.frac``: ``x - trunc(x)``; floating inputs only."""
    x = _check_tensor(input, "frac")
    npd = x._data.dtype
    if not _is_float_np(npd) or npd.kind == "c":
        raise _not_impl("frac_{dev}", npd, x._data)
    return _ret(Frac.apply(x), out, "frac")


_zero_rows: dict = {}


def _zero_buffer(n: int, dtype) -> np.ndarray:
    """A read-only flat array of ``n`` zeros. NumPy's maximum against a 0-d zero runs its
    scalar-broadcast loop at ~2 G elements/s; against an array of zeros the SIMD loop runs 2.2x
    faster. The buffer grows to the largest request and is an anonymous mapping that is never
    written, so its pages stay the kernel's shared zero page (no resident memory; ``np.zeros``
    may instead memset heap memory once glibc serves large blocks from its heap)."""
    buf = _zero_rows.get(dtype)
    if buf is None or buf.size < n:
        size = max(n, 1 << 16)
        buf = np.frombuffer(mmap.mmap(-1, size * np.dtype(dtype).itemsize), dtype=dtype)
        buf.flags.writeable = False
        _zero_rows[dtype] = buf
    return buf[:n]


def _relu_blk(a, r):
    np.maximum(a, _zero_buffer(a.size, a.dtype).reshape(a.shape), out=r)


def _relu_grad_blk(g, r, out):
    # PyTorch's threshold_backward: zero where the output is <= 0 (NaN passes through). The
    # output is never negative, so that is where it equals 0 (one compare, not <= and a not).
    # The multiply by the mask is exact unless g holds inf/NaN, which falls back to a select.
    m = r != 0
    np.multiply(g, m, out=out)
    if not np.isfinite(out).all():
        np.copyto(out, np.where(m, g, out.dtype.type(0)))


class Relu(Op, name="ReluBackward0"):
    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        r = None
        if xp is np and a.size >= 4096 and a.dtype.kind == "f":
            r = np.empty_like(a, order="C")
            if not _parallel.flat_blocks(_relu_blk, a, r):  # (False below PAR_ELEMENTS)
                _relu_blk(a, r)
        if r is None:
            r = _arr(xp.maximum(a, a.dtype.type(0)))
        if ctx._edges:
            ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        ga, ra = g._data, r._data
        if not _state.enabled and type(ga) is np.ndarray and ga.dtype == ra.dtype \
                and ga.dtype.kind == "f" and ga.shape == ra.shape:
            # no graph of the backward is being recorded: one fused pass over blocks
            out = np.empty_like(ra)
            if ga.size < _parallel.PAR_ELEMENTS or \
                    not _parallel.flat_blocks(_relu_grad_blk, ga, ra, out):
                _relu_grad_blk(ga, ra, out)
            return Tensor._make(out)
        return _where_const(~(ra <= 0), g)


def relu(input) -> Tensor:
    """``torch.relu``: ``max(x, 0)`` (NaN propagates); gradient 0 where the output is 0."""
    x = _check_tensor(input, "relu")
    npd = x._data.dtype
    if npd == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    if npd.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    return Relu.apply(x)


def relu_(input) -> Tensor:
    """``torch.relu_``: in-place relu."""
    x = _check_tensor(input, "relu_")
    check_inplace(x)
    return inplace(x, relu(x), "relu_")


class NanToNum(Op, name="NanToNumBackward0"):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        if ctx._edges:
            ctx.save_for_backward(a)
        xp = array_module(a)
        info = _dtype.finfo(_dtype.from_numpy_dtype(a.real.dtype if a.dtype.kind == "c"
                                                    else a.dtype))
        hi = info.max if posinf is None else posinf
        lo = info.min if neginf is None else neginf

        def fix(v):
            t = v.dtype.type
            v = xp.where(xp.isnan(v), t(nan), v)
            return xp.where(xp.isposinf(v), t(hi), xp.where(xp.isneginf(v), t(lo), v))

        if a.dtype.kind == "c":
            return _arr(fix(a.real) + 1j * fix(a.imag)).astype(a.dtype)
        if a.dtype in _HALF:
            return _arr(fix(a.astype(_F32)).astype(a.dtype))
        return _arr(fix(a))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _where_const(array_module(x._data).isfinite(x._data), g), None, None, None


def nan_to_num(input, nan: float | None = 0.0, posinf: float | None = None,
               neginf: float | None = None, *, out=None) -> Tensor:
    """``torch.nan_to_num``: NaN, +inf and -inf replaced (by default with 0 and the dtype's
    largest/lowest finite values); integer and bool tensors come back as a copy."""
    x = _check_tensor(input, "nan_to_num")
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (isinstance(v, (str, bytes)) or not isinstance(v, numbers.Real)):
            raise TypeError(f"nan_to_num(): argument '{name}' must be float, not "
                            f"{type(v).__name__}")
    if nan is None:
        nan = 0.0
    if x._rg and _state.enabled and x._data.dtype.kind == "c":
        raise RuntimeError("nan_to_num does not support automatic differentiation for outputs "
                           "with complex dtype.")
    if not _is_float_np(x._data.dtype):
        return _ret(Tensor._make(x._data.copy()), out, "nan_to_num")
    return _ret(NanToNum.apply(x, float(nan), None if posinf is None else float(posinf),
                               None if neginf is None else float(neginf)), out, "nan_to_num")


def square(input, *, out=None) -> Tensor:
    """``torch.square``: ``pow(input, 2)`` (bool inputs give int64, like PyTorch)."""
    return pow(_check_tensor(input, "square"), 2, out=out)


# ---------------------------------------------------------------------------------------------
# predicates
# ---------------------------------------------------------------------------------------------

def _predicate(fname: str, fn, *, real_only: str | None = None, nonfloat=False):
    """A bool-valued elementwise test; ``nonfloat`` is its value on integer/bool inputs."""
    def pred(input) -> Tensor:
        x = _check_tensor(input, fname)
        a = x._data
        if real_only is not None and a.dtype.kind == "c":
            raise RuntimeError(real_only)
        xp = array_module(a)
        if not _is_float_np(a.dtype):
            r = (xp.ones if nonfloat else xp.zeros)(a.shape, dtype=np.bool_)
        else:
            r = fn(xp, a.astype(_F32) if a.dtype in _HALF else a)
        return Tensor._make(_arr(r))

    pred.__name__ = pred.__qualname__ = fname
    pred.__doc__ = f"``torch.{fname}`` (a bool tensor)."
    return pred


isnan = _predicate("isnan", lambda xp, a: xp.isnan(a))
isinf = _predicate("isinf", lambda xp, a: xp.isinf(a))
isfinite = _predicate("isfinite", lambda xp, a: xp.isfinite(a), nonfloat=True)
isposinf = _predicate("isposinf", lambda xp, a: xp.isposinf(a),
                      real_only="isposinf does not support complex inputs.")
isneginf = _predicate("isneginf", lambda xp, a: xp.isneginf(a),
                      real_only="isneginf does not support complex inputs.")


def isreal(input) -> Tensor:
    """``torch.isreal``: True where the imaginary part is 0 (always for real dtypes)."""
    x = _check_tensor(input, "isreal")
    a = x._data
    xp = array_module(a)
    if a.dtype.kind == "c":
        return Tensor._make(_arr(a.imag == 0))
    return Tensor._make(xp.ones(a.shape, dtype=np.bool_))


# ---------------------------------------------------------------------------------------------
# complex helpers
# ---------------------------------------------------------------------------------------------

class Conj(Op, name="ConjBackward0"):
    @staticmethod
    def forward(ctx, a):
        return a.conj()

    @staticmethod
    def backward(ctx, g):
        return conj(g)


def conj(input) -> Tensor:
    """``torch.conj``: real tensors are returned as they are."""
    if input._data.dtype.kind != "c":
        return input
    return Conj.apply(input)


class _RealPart(Op, name="SelectBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a):
        return a.real

    @staticmethod
    def backward(ctx, g):
        return cast(g, _dtype.from_numpy_dtype(g._data.dtype).to_complex())


class _ImagPart(Op, name="SelectBackward0"):
    is_view = True

    @staticmethod
    def forward(ctx, a):
        return a.imag

    @staticmethod
    def backward(ctx, g):
        return mul(g, 1j)


def real(input) -> Tensor:
    """``torch.real``: a view of the real part; real tensors are returned as they are."""
    x = _check_tensor(input, "real")
    if x._data.dtype.kind != "c":
        return x
    return _RealPart.apply(x)


def imag(input) -> Tensor:
    """``torch.imag``: a view of the imaginary part (complex tensors only)."""
    x = _check_tensor(input, "imag")
    if x._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _ImagPart.apply(x)


class Angle(Op, name="AngleBackward0"):
    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        if a.dtype.kind == "c":
            if ctx._edges:
                ctx.save_for_backward(a)
            return _arr(xp.angle(a))
        return _opmath(lambda xp, v: xp.where(v < 0, v.dtype.type(math.pi),
                                              xp.where(v != v, v, v.dtype.type(0))), a)

    @staticmethod
    def backward(ctx, g):
        if not ctx.saved_tensors:
            return _zeros(g)
        (z,) = ctx.saved_tensors
        # d angle: (-y dx + x dy) / |z|^2, i.e. grad = g * i / conj(z); 0 at z = 0
        zero = z._data == 0
        zs = where(Tensor._make(_arr(zero)), 1.0, z)
        return _where_const(~zero, g * 1j / conj(zs))


def angle(input, *, out=None) -> Tensor:
    """``torch.angle``: the argument of complex values; pi for negative reals, else 0."""
    x = _check_tensor(input, "angle")
    return _ret(Angle.apply(_to_float(x)), out, "angle")


# ---------------------------------------------------------------------------------------------
# binary math: pow, float_power, fmod, remainder, floor_divide, ...
# ---------------------------------------------------------------------------------------------

class _NoDerivative:
    """Mixin for PyTorch's ``NotImplemented`` backward node: the forward records a graph, the
    backward raises."""

    _aten = ""

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{type(ctx)._aten} is not implemented")


def _both_tensors(x, y, fname: str, second: str = "other") -> None:
    _check_tensor(x, fname)
    _check_tensor(y, fname, second, 2)


def _dtype_of(a, b):
    """NumPy dtype of the array operand (binary forwards may get one Python number)."""
    return b.dtype if isinstance(a, _Number) else a.dtype


def _arr_of(a, b):
    return b if isinstance(a, _Number) else a


def _nonneg(a):
    """``a >= 0``, for complex values: real and non-negative (PyTorch's pow rule)."""
    if a.dtype.kind == "c":
        return (a.imag == 0) & (a.real >= 0)
    return a >= 0


def _int_pow(a, b):
    """Integer power with PyTorch's rules for negative exponents (1, +-1 or 0, no error)."""
    xp = array_module(_arr_of(a, b))
    if _dtype_of(a, b) == np.bool_:
        return _arr(xp.logical_or(a, xp.logical_not(b)))  # x**False = True, x**True = x
    if isinstance(b, _Number):
        return _arr(xp.power(a, b))
    neg = b < 0
    r = xp.power(a, xp.where(neg, 0, b).astype(b.dtype))
    if bool(neg.any()):
        odd = (b % 2) != 0
        special = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
        r = xp.where(neg, special, r).astype(r.dtype)
    return _arr(r)


def _pow_arrays(a, b):
    if _is_int(a) and _is_int(b):
        return _int_pow(a, b)
    if isinstance(b, _Number) and not isinstance(a, _Number) and a.dtype.kind != "c":
        # the exponents PyTorch computes with dedicated kernels (which differ from pow at
        # signed zeros and infinities, e.g. pow(-0.0, -0.5) is -inf there)
        if b == 2:
            return _opmath(lambda xp, v: v * v, a)
        if b == 3:
            return _opmath(lambda xp, v: v * v * v, a)
        if b == 0.5:
            return _opmath(lambda xp, v: xp.sqrt(v), a)
        if b == -0.5:
            return _opmath(lambda xp, v: 1 / xp.sqrt(v), a)
        if b == -1:
            return _opmath(lambda xp, v: 1 / v, a)
        if b == -2:
            return _opmath(lambda xp, v: 1 / (v * v), a)
    return _opmath2(lambda xp, u, v: xp.power(u, v), a, b)


class PowScalar(Op, name="PowBackward0"):
    """tensor ** number."""

    _bf16_safe = True

    @staticmethod
    def forward(ctx, a, e):
        if ctx._edges:
            ctx.save_for_backward(a)
            ctx.e = e
        return _pow_arrays(a, e)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        e = ctx.e
        if e == 0:
            return _zeros(g), None
        xa, ga = x._data, g._data
        if not _state.enabled and xa.dtype.kind == "f" and ga.dtype == xa.dtype:
            # no graph of the backward: the same three products on arrays (the squared error's
            # backward took ~30 us as ops)
            return Tensor._make(ga * (_pow_arrays(xa, e - 1) * e)), None
        return g * _conj(pow(x, e - 1) * e), None


class PowTensor(Op, name="PowBackward1"):
    """tensor ** tensor."""

    @staticmethod
    def forward(ctx, a, b):
        r = _pow_arrays(a, b)
        e = ctx._edges
        if e:
            ctx.save_for_backward(a, b, r if e[1] else None)
        return r

    @staticmethod
    def backward(ctx, g):
        x, y, r = ctx.saved_tensors
        e = ctx._edges
        gx = gy = None
        if e[0]:
            gx = _where_const(y._data != 0, g * _conj(y * pow(x, y - 1)))
        if e[1]:
            # 0 ** y has derivative 0 in y for y >= 0 (log(0) would give nan)
            keep = ~((x._data == 0) & _nonneg(y._data))
            gy = _where_const(keep, g * _conj(r * log(x)))
        return gx, gy


class PowScalarBase(Op, name="PowBackward2"):
    """number ** tensor."""

    _bf16_safe = True

    @staticmethod
    def forward(ctx, base, b):
        r = _pow_arrays(base, b)
        if ctx._edges:
            ctx.save_for_backward(r, b if base == 0 else None)
            ctx.base = base
        return r

    @staticmethod
    def backward(ctx, g):
        r, y = ctx.saved_tensors
        base = ctx.base
        if isinstance(base, complex) or r._data.dtype.kind == "c":
            lb = cmath.log(base) if base != 0 else complex(-math.inf)
        else:
            lb = math.log(base) if base > 0 else (-math.inf if base == 0 else math.nan)
        d = g * _conj(r * lb)
        if base == 0:
            d = _where_const(~_nonneg(y._data), d)
        return None, d


def _pow_type_error(input, exponent) -> TypeError:
    return TypeError(f"pow() received an invalid combination of arguments - got "
                     f"({type(input).__name__}, {type(exponent).__name__}), but expected one of:"
                     "\n * (Tensor input, Tensor exponent, *, Tensor out = None)"
                     "\n * (Number self, Tensor exponent, *, Tensor out = None)"
                     "\n * (Tensor input, Number exponent, *, Tensor out = None)")


def pow(input, exponent, *, out=None) -> Tensor:  # noqa: A001
    """``torch.pow``: tensor or number base and exponent (``PowBackward0/1/2``); integer
    tensors to negative integer powers raise, like PyTorch."""
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            if _is_bool(input) and _is_bool(exponent):
                raise _not_impl("pow", np.dtype(np.bool_), input._data)
            r = _binary(PowTensor, input, exponent, "pow")
        else:
            s = _scalar(exponent)
            if s is None:
                raise _pow_type_error(input, exponent)
            if type(s) is int and s < 0 and input._data.dtype.kind in "iub":
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            r = _binary(PowScalar, input, s, "pow")
    else:
        s = _scalar(input)
        if s is None or not isinstance(exponent, Tensor):
            raise _pow_type_error(input, exponent)
        if _is_bool(s) and _is_bool(exponent):
            raise _not_impl("pow", np.dtype(np.bool_), exponent._data)
        r = _binary(PowScalarBase, s, exponent, "pow")
    return _ret(r, out, "pow")


def _float_power_target(input, exponent):
    cplx = any((isinstance(v, Tensor) and v._data.dtype.kind == "c") or isinstance(v, complex)
               for v in (input, exponent))
    return _dtype.complex128 if cplx else _dtype.float64


def float_power(input, exponent, *, out=None) -> Tensor:
    """``torch.float_power``: ``pow`` computed in float64 (complex128 for complex operands)."""
    target = _float_power_target(input, exponent)

    def conv(v):
        if isinstance(v, Tensor):
            return cast(v, target)
        s = _scalar(v)
        if s is None:
            return v
        return complex(s) if target is _dtype.complex128 else float(s)

    return pow(conv(input), conv(exponent), out=out)


def float_power_(self, exponent) -> Tensor:
    """``Tensor.float_power_``: ``self`` must already have the result dtype (float64)."""
    target = _float_power_target(self, exponent)
    if self.dtype is not target:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{_util.dtype_name(self.dtype)} but the operation's result requires "
                           f"dtype {_util.dtype_name(target)}")
    check_inplace(self)
    return inplace(self, float_power(self, exponent), "float_power_")


class _Mod(Op):
    """fmod (sign of the dividend) and remainder (sign of the divisor)."""

    _fn = None
    _kernel = ""
    _rounding = ""
    _bf16_safe = True

    @staticmethod
    def forward(ctx, a, b):
        cls = type(ctx)
        npd = _dtype_of(a, b)
        if npd == np.bool_ or npd.kind == "c":
            raise _not_impl(cls._kernel, npd, _arr_of(a, b))
        if _is_int(a) and _is_int(b) and _has_zero(b):
            raise RuntimeError("ZeroDivisionError")
        e = ctx._edges
        if e and len(e) > 1 and e[1]:
            ctx.save_for_backward(a, b)
        return _opmath2(cls._fn, a, b)

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        gb = None
        if len(e) > 1 and e[1]:
            x, y = ctx.saved_tensors
            gb = -g * div(x, y, rounding_mode=type(ctx)._rounding)
        return (g if e[0] else None), gb


class FmodScalar(_Mod, name="FmodBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.fmod(a, b))
    _kernel = "fmod_{dev}"
    _rounding = "trunc"


class FmodTensor(FmodScalar, name="FmodBackward1"):
    pass


def _remainder(xp, a, b):
    """Python's modulo; for floats PyTorch's formula (fmod, then add the divisor when the signs
    differ), which keeps fmod's signed zero: ``-2. % 2`` is ``-0.`` where NumPy gives ``0.``."""
    if _is_int(a) and _is_int(b):
        return xp.remainder(a, b)
    m = xp.fmod(a, b)
    return xp.where((m != 0) & ((m < 0) != (xp.asarray(b) < 0)), m + b, m)


class RemainderScalar(_Mod, name="RemainderBackward0"):
    _fn = staticmethod(_remainder)
    _kernel = "remainder_{dev}"
    _rounding = "floor"


class RemainderTensor(RemainderScalar, name="RemainderBackward1"):
    pass


class RemainderScalarSelf(_NoDerivative, RemainderScalar, name="NotImplemented"):
    _aten = "remainder"


def _mod_type_error(fname, input, other) -> TypeError:
    return TypeError(f"{fname}() received an invalid combination of arguments - got "
                     f"({type(input).__name__}, {type(other).__name__}), but expected one of:"
                     "\n * (Tensor input, Tensor other, *, Tensor out = None)"
                     "\n * (Tensor input, Number other, *, Tensor out = None)")


def fmod(input, other, *, out=None) -> Tensor:
    """``torch.fmod``: C's fmod (result has the dividend's sign); integer division by zero
    raises ``RuntimeError('ZeroDivisionError')`` like PyTorch."""
    if not isinstance(input, Tensor):
        raise _mod_type_error("fmod", input, other)
    cls = FmodTensor if isinstance(other, Tensor) else FmodScalar
    return _ret(_binary(cls, input, other, "fmod"), out, "fmod")


def remainder(input, other, *, out=None) -> Tensor:
    """``torch.remainder``: Python's modulo (result has the divisor's sign)."""
    if isinstance(input, Tensor):
        cls = RemainderTensor if isinstance(other, Tensor) else RemainderScalar
    elif isinstance(other, Tensor):
        cls = RemainderScalarSelf
    else:
        raise _mod_type_error("remainder", input, other)
    return _ret(_binary(cls, input, other, "remainder"), out, "remainder")


class FloorDivide(_NoDerivative, DivMode, name="NotImplemented"):
    _aten = "floor_divide"


def floor_divide(input, other, *, out=None) -> Tensor:
    """``torch.floor_divide``: division rounded down (its derivative is not implemented, as in
    PyTorch)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise _mod_type_error("floor_divide", input, other)
    return _ret(_binary(FloorDivide, input, other, "floor_divide", extra=("floor",)), out,
                "floor_divide")


class _MinMax(Op):
    """maximum/minimum (NaN propagates, ties split the gradient) and fmax/fmin (NaN ignored)."""

    _fn = None
    _fname = ""

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype.kind == "c":
            raise RuntimeError(f"{type(ctx)._fname} not implemented for complex tensors.")
        if ctx._edges:
            ctx.save_for_backward(a, b)
        return _arr(type(ctx)._fn(array_module(a), a, b))


class Maximum(_MinMax, name="MaximumBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.maximum(a, b))
    _fname = "maximum"

    @staticmethod
    def backward(ctx, g):
        return _minmax_grads(ctx, g, lambda a, b: a < b)


class Minimum(_MinMax, name="MinimumBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.minimum(a, b))
    _fname = "minimum"

    @staticmethod
    def backward(ctx, g):
        return _minmax_grads(ctx, g, lambda a, b: a > b)


def _minmax_grads(ctx, g, loses):
    x, y = ctx.saved_tensors
    a, b = x._data, y._data
    e = ctx._edges
    tie = Tensor._make(_arr(a == b))
    half = where(tie, g * 0.5, g)
    ga = _where_const(~loses(a, b), half) if e[0] else None
    gb = _where_const(~loses(b, a), half) if e[1] else None
    return ga, gb


class Fmax(_MinMax, name="FmaxBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.fmax(a, b))
    _fname = "fmax"

    @staticmethod
    def backward(ctx, g):
        return _fminmax_grads(ctx, g, lambda a, b: a >= b)


class Fmin(_MinMax, name="FminBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.fmin(a, b))
    _fname = "fmin"

    @staticmethod
    def backward(ctx, g):
        return _fminmax_grads(ctx, g, lambda a, b: a <= b)


def _fminmax_grads(ctx, g, wins):
    x, y = ctx.saved_tensors
    a, b = x._data, y._data
    e = ctx._edges
    take_a = wins(a, b) | (b != b)
    return (_where_const(take_a, g) if e[0] else None,
            _where_const(~take_a, g) if e[1] else None)


def _tensor_binary(cls, fname: str, *, floating: bool = False, second: str = "other"):
    """Public function of a binary op defined for tensor operands only."""
    def fn(input, other, *, out=None) -> Tensor:
        _both_tensors(input, other, fname, second)
        return _ret(_binary(cls, input, other, fname, floating=floating), out, fname)

    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"``torch.{fname}`` (tensor operands, PyTorch's type promotion)."
    return fn


maximum = _tensor_binary(Maximum, "maximum")
minimum = _tensor_binary(Minimum, "minimum")
fmax = _tensor_binary(Fmax, "fmax")
fmin = _tensor_binary(Fmin, "fmin")


class _FloatBinary(Op):
    """Binary float function with a dtype whitelist (PyTorch's dispatch error otherwise)."""

    _fn = None
    _kernel = ""
    _ints = False  # computed for integer inputs too (after promotion to float)
    _complex = False
    _bf16_safe = True

    @staticmethod
    def forward(ctx, a, b):
        cls = type(ctx)
        npd = _dtype_of(a, b)
        if (npd.kind == "c" and not cls._complex) or (not _is_float_np(npd) and not cls._ints):
            raise _not_impl(cls._kernel, npd, _arr_of(a, b))
        r = _opmath2(cls._fn, a, b)
        if ctx._edges:
            cls._save(ctx, a, b, r)
        return r

    @staticmethod
    def _save(ctx, a, b, r):
        ctx.save_for_backward(a, b)


class Hypot(_FloatBinary, name="HypotBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.hypot(a, b))
    _kernel = "hypot_{dev}"

    @staticmethod
    def _save(ctx, a, b, r):
        ctx.save_for_backward(a, b, r)

    @staticmethod
    def backward(ctx, g):
        x, y, r = ctx.saved_tensors
        e = ctx._edges
        return (g * x / r if e[0] else None), (g * y / r if e[1] else None)


class Atan2(_FloatBinary, name="Atan2Backward0"):
    _fn = staticmethod(lambda xp, a, b: xp.arctan2(a, b))
    _kernel = "atan2_{dev}"

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = ctx._edges
        den = x * x + y * y
        return (g * y / den if e[0] else None), (g * -x / den if e[1] else None)


def _logaddexp(xp, a, b):
    if a.dtype.kind != "c":
        return xp.logaddexp(a, b)
    # complex: factor out the operand with the larger real part
    first = a.real >= b.real
    m, o = xp.where(first, a, b), xp.where(first, b, a)
    return m + xp.log1p(xp.exp(o - m))


class Logaddexp(_FloatBinary, name="LogaddexpBackward0"):
    _fn = staticmethod(_logaddexp)
    _kernel = "logaddexp_{dev}"
    _complex = True

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = ctx._edges
        return ((g / _conj(exp(y - x) + 1)) if e[0] else None,
                (g / _conj(exp(x - y) + 1)) if e[1] else None)


class Logaddexp2(_FloatBinary, name="Logaddexp2Backward0"):
    _fn = staticmethod(lambda xp, a, b: xp.logaddexp2(a, b))
    _kernel = "logaddexp2_{dev}"

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = ctx._edges
        return ((g / (exp2(y - x) + 1)) if e[0] else None,
                (g / (exp2(x - y) + 1)) if e[1] else None)


class CopysignTensor(_FloatBinary, name="CopysignBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.copysign(a, b))
    _kernel = "copysign_{dev}"

    @staticmethod
    def _save(ctx, a, b, r):
        ctx.save_for_backward(a, r)

    @staticmethod
    def backward(ctx, g):
        x, r = ctx.saved_tensors
        e = ctx._edges
        gx = None
        if e[0]:
            # d copysign(x, y) / dx = sign(result / x); 0 at x = 0
            nz = x._data != 0
            xs = where(Tensor._make(_arr(nz)), x, 1.0)
            gx = _where_const(nz, g * (r / xs))
        gy = _zeros(g) if len(e) > 1 and e[1] else None
        return gx, gy


class CopysignScalar(CopysignTensor, name="CopysignBackward1"):
    pass


class _Xlogy(_FloatBinary):
    """x * log(y), 0 where x == 0 (unless y is NaN), like PyTorch."""

    _kernel = "xlogy_{dev}"

    @staticmethod
    def _fn(xp, a, b):
        with np.errstate(all="ignore"):
            # a Python number stays a Python number (weak in promotion)
            lb = float(np.log(b)) if isinstance(b, _Number) else xp.log(b)
            r = xp.where(xp.asarray(a) == 0, 0, a * lb)
        return xp.where(xp.asarray(b) != b, b, r)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = ctx._edges
        gx = gy = None
        if e[0]:
            # one of x, y may be a Python number: the comparisons then give Python bools
            xa = x._data if isinstance(x, Tensor) else x
            ya = y._data if isinstance(y, Tensor) else y
            gx = _where_const(~((xa == 0) & (ya <= 0)), xlogy(g, y))
        if len(e) > 1 and e[1]:
            gy = g * x / y
        return gx, gy


class XlogyTensor(_Xlogy, name="XlogyBackward0"):
    pass


class XlogySelfScalar(_Xlogy, name="XlogyBackward1"):
    pass


class XlogyOtherScalar(_Xlogy, name="XlogyBackward2"):
    pass


hypot = _tensor_binary(Hypot, "hypot")
atan2 = arctan2 = _tensor_binary(Atan2, "atan2", floating=True)
logaddexp = _tensor_binary(Logaddexp, "logaddexp")
logaddexp2 = _tensor_binary(Logaddexp2, "logaddexp2")


def copysign(input, other, *, out=None) -> Tensor:
    """``torch.copysign``: magnitude of ``input``, sign of ``other`` (integers -> float)."""
    if not isinstance(input, Tensor):
        raise _mod_type_error("copysign", input, other)
    cls = CopysignTensor if isinstance(other, Tensor) else CopysignScalar
    return _ret(_binary(cls, input, other, "copysign", floating=True), out, "copysign")



def xlogy(input, other, *, out=None) -> Tensor:
    """``torch.xlogy``: ``input * log(other)``, 0 where ``input`` is 0 (NaN other stays NaN)."""
    if isinstance(input, Tensor):
        cls = XlogyTensor if isinstance(other, Tensor) else XlogyOtherScalar
    elif isinstance(other, Tensor):
        cls = XlogySelfScalar
    else:
        raise _mod_type_error("xlogy", input, other)
    return _ret(_binary(cls, input, other, "xlogy", floating=True), out, "xlogy")



class Heaviside(_NoDerivative, Op, name="NotImplemented"):
    _aten = "heaviside"

    @staticmethod
    def forward(ctx, a, v):
        xp = array_module(a)
        # PyTorch's definition: values where input == 0, else (input > 0); NaN gives 0
        return _arr(xp.where(a == 0, v, (a > 0).astype(a.dtype)).astype(a.dtype))


def heaviside(input, values, *, out=None) -> Tensor:
    """``torch.heaviside``: both tensors of one dtype (not complex); no derivative."""
    _both_tensors(input, values, "heaviside", "values")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if input._data.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    x, v = _util.same_device(input, values)
    if x._data.shape != v._data.shape:
        _check_broadcast(x._data.shape, v._data.shape)
    return _ret(Heaviside.apply(x, v), out, "heaviside")


class Ldexp(_FloatBinary, name="LdexpBackward0"):
    _fn = staticmethod(lambda xp, a, b: a * xp.exp2(b))
    _kernel = "ldexp_{dev}"
    _complex = True

    @staticmethod
    def _save(ctx, a, b, r):
        ctx.save_for_backward(b, r)

    @staticmethod
    def backward(ctx, g):
        y, r = ctx.saved_tensors
        e = ctx._edges
        return (g * exp2(y) if e[0] else None), (g * _conj(r * _LN2) if e[1] else None)


ldexp = _tensor_binary(Ldexp, "ldexp", floating=True)


class Nextafter(_FloatBinary, name="NextafterBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.nextafter(a, b))
    _kernel = "nextafter_{dev}"

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = ctx._edges
        # PyTorch passes the gradient through except where input == other (result = other)
        return (_where_const(x._data != y._data, g) if e[0] else None), \
            (_zeros(g) if e[1] else None)


nextafter = _tensor_binary(Nextafter, "nextafter")


class _IntBinary(Op):
    _fn = None
    _kernel = ""

    @staticmethod
    def forward(ctx, a, b):
        cls = type(ctx)
        if a.dtype.kind not in "iu":
            raise _not_impl(cls._kernel, a.dtype, a)
        return _arr(cls._fn(array_module(a), a, b))


class Gcd(_IntBinary, name="GcdBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.gcd(a, b))
    _kernel = "gcd_{dev}"


class Lcm(_IntBinary, name="LcmBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.lcm(a, b).astype(a.dtype))
    _kernel = "lcm_{dev}"


gcd = _tensor_binary(Gcd, "gcd")
lcm = _tensor_binary(Lcm, "lcm")


class Frexp(Op, name="FrexpBackward0"):
    @staticmethod
    def forward(ctx, a):
        m, ex = array_module(a).frexp(a)
        ex = _arr(ex).astype(np.int32)
        if ctx._edges:
            ctx.save_for_backward(ex)
            ctx.mark_non_differentiable(ex)
        return _arr(m), ex

    @staticmethod
    def backward(ctx, gm, ge):
        (ex,) = ctx.saved_tensors
        # x = m * 2^e with e piecewise constant: dm/dx = 2^-e
        return gm * exp2(cast(-ex, gm.dtype))


def frexp(input, *, out=None):
    """``torch.frexp``: (mantissa, exponent) with ``input = mantissa * 2 ** exponent``,
    mantissa in [0.5, 1) in magnitude and an int32 exponent."""
    from .. import return_types

    x = _check_tensor(input, "frexp")
    if not _is_float_np(x._data.dtype) or x._data.dtype.kind == "c":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, ex = Frexp.apply(x)
    if out is None:
        return return_types.frexp((m, ex))
    om, oe = out
    return return_types.frexp_out((write_out(om, m, "frexp"), write_out(oe, ex, "frexp")))


class Mvlgamma(Op, name="MvlgammaBackward0"):
    @staticmethod
    def forward(ctx, a, p):
        if ctx._edges:
            ctx.save_for_backward(a)
            ctx.p = p

        def f(xp, v):
            r = xp.zeros_like(v)
            for i in range(p):
                r = r + _special.lgamma(v - 0.5 * i)
            return r + (p * (p - 1) / 4.0) * math.log(math.pi)

        return _opmath(f, a)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = digamma(x)
        for i in range(1, ctx.p):
            d = d + digamma(x - 0.5 * i)
        return g * d, None


def mvlgamma(input, p: int, *, out=None) -> Tensor:
    """``torch.mvlgamma``: log of the multivariate gamma function of dimension ``p``,
    ``sum_i lgamma(x - i/2) + p (p - 1) / 4 log(pi)``."""
    x = _check_tensor(input, "mvlgamma")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    _no_complex(x, "mvlgamma")
    return _ret(Mvlgamma.apply(_to_float(x), int(p)), out, "mvlgamma")


class ConjPhysical(Conj, name="ConjPhysicalBackward0"):
    pass


def conj_physical(input, *, out=None) -> Tensor:
    """``torch.conj_physical``: a conjugated copy (real tensors are returned as they are)."""
    x = _check_tensor(input, "conj_physical")
    if x._data.dtype.kind != "c":
        return _ret(x, out, "conj_physical") if out is not None else x
    return _ret(ConjPhysical.apply(x), out, "conj_physical")


def resolve_conj(input) -> Tensor:
    """``torch.resolve_conj``: ember never defers conjugation, so ``input`` itself."""
    return _check_tensor(input, "resolve_conj")


def resolve_neg(input) -> Tensor:
    """``torch.resolve_neg``: ember never defers negation, so ``input`` itself."""
    return _check_tensor(input, "resolve_neg")


def is_conj(input) -> bool:
    """``torch.is_conj``: always False (ember has no lazy conjugate bit)."""
    return False


def is_neg(input) -> bool:
    """``torch.is_neg``: always False (ember has no lazy negative bit)."""
    return False


# ---------------------------------------------------------------------------------------------
# comparisons, logical and bitwise ops
# ---------------------------------------------------------------------------------------------

class _Compare(Op):
    _fn = None
    _kernel = ""  # set for the ordering comparisons, which refuse complex inputs

    @staticmethod
    def forward(ctx, a, b):
        cls = type(ctx)
        npd = _dtype_of(a, b)
        if cls._kernel and npd.kind == "c":
            raise _not_impl(cls._kernel, npd, _arr_of(a, b))
        return _arr(cls._fn(array_module(_arr_of(a, b)), a, b))


class Eq(_Compare, name="EqBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.equal(a, b))


class Ne(_Compare, name="NeBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.not_equal(a, b))


class Lt(_Compare, name="LtBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.less(a, b))
    _kernel = "lt_{dev}"


class Le(_Compare, name="LeBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.less_equal(a, b))
    _kernel = "le_{dev}"


class Gt(_Compare, name="GtBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.greater(a, b))
    _kernel = "gt_{dev}"


class Ge(_Compare, name="GeBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.greater_equal(a, b))
    _kernel = "ge_{dev}"


def _compare_public(cls, fname: str):
    def fn(input, other, *, out=None) -> Tensor:
        if not isinstance(input, Tensor) or not isinstance(other, (Tensor, _Number, np.generic)):
            raise _mod_type_error(fname, input, other)
        return _ret(_binary(cls, input, other, fname), out, fname)

    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"``torch.{fname}``: elementwise comparison (a bool tensor)."
    return fn


eq = _compare_public(Eq, "eq")
ne = not_equal = _compare_public(Ne, "ne")
lt = less = _compare_public(Lt, "lt")
le = less_equal = _compare_public(Le, "le")
gt = greater = _compare_public(Gt, "gt")
ge = greater_equal = _compare_public(Ge, "ge")


def _truth(a):
    return a if a.dtype == np.bool_ else a != 0


def _logical_public(ufunc_name: str, fname: str):
    def fn(input, other, *, out=None) -> Tensor:
        _both_tensors(input, other, fname)
        x, y = _util.same_device(input, other)
        xa, ya = x._data, y._data
        if xa.shape != ya.shape:
            _check_broadcast(xa.shape, ya.shape)
        xp = array_module(xa)
        r = getattr(xp, ufunc_name)(_truth(xa), _truth(ya))
        return _ret(Tensor._make(_arr(r)), out, fname)

    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"``torch.{fname}``: operands tested for non-zero; a bool tensor."
    return fn


logical_and = _logical_public("logical_and", "logical_and")
logical_or = _logical_public("logical_or", "logical_or")
logical_xor = _logical_public("logical_xor", "logical_xor")


def logical_not(input, *, out=None) -> Tensor:
    """``torch.logical_not``: a bool tensor, True where ``input`` is zero."""
    x = _check_tensor(input, "logical_not")
    return _ret(Tensor._make(_arr(array_module(x._data).logical_not(_truth(x._data)))), out,
                "logical_not")


class _Bitwise(Op):
    _fn = None
    _kernel = ""
    _bools = True

    @staticmethod
    def forward(ctx, a, b):
        cls = type(ctx)
        npd = _dtype_of(a, b)
        if npd.kind not in "iub" or (npd == np.bool_ and not cls._bools):
            raise _not_impl(cls._kernel, npd, _arr_of(a, b))
        return _arr(cls._fn(array_module(_arr_of(a, b)), a, b))


def _shift_operands(xp, a, b):
    npd = _dtype_of(a, b)
    a = xp.asarray(a, dtype=npd)
    b = xp.asarray(b, dtype=npd)
    bits = npd.itemsize * 8
    return a, b, (b < 0) | (b >= bits), bits


def _lshift(xp, a, b):
    # PyTorch defines shifts by a negative amount or by >= the bit width: 0 for left shifts
    a, b, bad, _ = _shift_operands(xp, a, b)
    r = xp.left_shift(a, xp.where(bad, 0, b).astype(b.dtype))
    return xp.where(bad, 0, r).astype(a.dtype)


def _rshift(xp, a, b):
    # ... and the sign fill for right shifts (a >> (bits - 1); 0 for unsigned types)
    a, b, bad, bits = _shift_operands(xp, a, b)
    r = xp.right_shift(a, xp.where(bad, bits - 1, b).astype(b.dtype))
    if a.dtype.kind == "u":
        r = xp.where(bad, 0, r).astype(a.dtype)
    return r


class BitAnd(_Bitwise, name="BitwiseAndBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.bitwise_and(a, b))
    _kernel = "bitwise_and_{dev}"


class BitOr(_Bitwise, name="BitwiseOrBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.bitwise_or(a, b))
    _kernel = "bitwise_or_{dev}"


class BitXor(_Bitwise, name="BitwiseXorBackward0"):
    _fn = staticmethod(lambda xp, a, b: xp.bitwise_xor(a, b))
    _kernel = "bitwise_xor_{dev}"


class LShift(_Bitwise, name="BitwiseLeftShiftBackward0"):
    _fn = staticmethod(_lshift)
    _kernel = "lshift_{dev}"
    _bools = False


class RShift(_Bitwise, name="BitwiseRightShiftBackward0"):
    _fn = staticmethod(_rshift)
    _kernel = "rshift_{dev}"
    _bools = False


def _bitwise_public(cls, fname: str):
    def fn(input, other, *, out=None) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise _mod_type_error(fname, input, other)
        return _ret(_binary(cls, input, other, fname), out, fname)

    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"``torch.{fname}``: integer and bool tensors only, like PyTorch."
    return fn


bitwise_and = _bitwise_public(BitAnd, "bitwise_and")
bitwise_or = _bitwise_public(BitOr, "bitwise_or")
bitwise_xor = _bitwise_public(BitXor, "bitwise_xor")
bitwise_left_shift = _bitwise_public(LShift, "bitwise_left_shift")
bitwise_right_shift = _bitwise_public(RShift, "bitwise_right_shift")


def bitwise_not(input, *, out=None) -> Tensor:
    """``torch.bitwise_not``: ``~x`` for integers, logical not for bools."""
    x = _check_tensor(input, "bitwise_not")
    npd = x._data.dtype
    if npd.kind not in "iub":
        raise _not_impl("bitwise_not_{dev}", npd, x._data)
    return _ret(Tensor._make(_arr(array_module(x._data).invert(x._data))), out, "bitwise_not")


def _invert(self) -> Tensor:
    if self._data.dtype.kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


# ---------------------------------------------------------------------------------------------
# where, clamp, lerp, addcmul, addcdiv
# ---------------------------------------------------------------------------------------------

def _as_operand(v, npd, like) -> object:
    """A Python number becomes a 0-d array of ``npd`` on ``like``'s device; tensors are cast."""
    if isinstance(v, Tensor):
        return cast(v, npd)
    return array_module(like).asarray(_check_int_bound(v, np.dtype(npd)), dtype=npd)


class Where(Op, name="WhereBackward0"):
    @staticmethod
    def forward(ctx, cond, a, b):
        if ctx._edges:
            ctx.save_for_backward(cond)
        xp = array_module(cond)
        c = cond if cond.dtype == np.bool_ else cond != 0
        return _arr(xp.where(c, a, b))

    @staticmethod
    def backward(ctx, g):
        (c,) = ctx.saved_tensors
        e = ctx._edges
        cm = c._data if c._data.dtype == np.bool_ else c._data != 0
        return (None, _where_const(cm, g) if e[1] else None,
                _where_const(~cm, g) if e[2] else None)


def where(condition, input=None, other=None, *, out=None):
    """``torch.where``: elements of ``input`` where ``condition`` holds, else of ``other``
    (tensors or numbers, PyTorch's promotion, three-way broadcasting). ``where(condition)``
    is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    _check_tensor(condition, "where", "condition")
    cd = condition._data.dtype
    if cd != np.bool_:
        if cd != np.uint8:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {_util.dtype_name(condition.dtype)}")
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and "
                      "will be removed in a future version of PyTorch. Use a boolean condition "
                      "instead.", UserWarning, stacklevel=2)
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor) and _scalar(v) is None:
            raise TypeError(f"where(): argument '{name}' must be Tensor or Number, not "
                            f"{type(v).__name__}")
    input = input if isinstance(input, Tensor) else _scalar(input)
    other = other if isinstance(other, Tensor) else _scalar(other)
    it, ot = isinstance(input, Tensor), isinstance(other, Tensor)
    if it and ot and input._data.dtype == other._data.dtype:
        npd = input._data.dtype
    elif it != ot and isinstance(other if it else input, float) and \
            _is_float_np((input if it else other)._data.dtype):
        npd = (input if it else other)._data.dtype  # a Python float is weak
    else:
        npd = _dtype.to_numpy_dtype(result_type(input, other))
    tensors = [t for t in (condition, input, other) if isinstance(t, Tensor)]
    if any(type(t._data) is not _ndarray for t in tensors):
        _util.check_same_device(*tensors)
        gpu = next(t.device for t in tensors if not t.is_cpu)
        # 0-d CPU tensors join the others on the GPU, as PyTorch allows
        from .creation import to_device

        condition, input, other = (to_device(t, gpu) if isinstance(t, Tensor) and t.is_cpu
                                   else t for t in (condition, input, other))
    c = condition
    a = _as_operand(input, npd, c._data)
    b = _as_operand(other, npd, c._data)
    sc = c._data.shape
    sa = a._data.shape if it else a.shape
    sb = b._data.shape if ot else b.shape
    if not (sa == sc or not sa) or not (sb == sc or not sb):
        _util.broadcast_shapes_or_raise(sc, sa, sb)
    return _ret(Where.apply(c, a, b), out, "where")


def _where_method(self, condition, y) -> Tensor:
    return where(condition, self, y)


class _ClampScalar(Op):
    """clamp with number bounds: ``min(max(x, lo), hi)``; NaN propagates."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        if ctx._edges:
            ctx.save_for_backward(a)
            ctx.lo, ctx.hi = lo, hi

        def f(xp, v):
            t = v.dtype.type
            if lo is not None:
                v = xp.maximum(v, t(lo))
            if hi is not None:
                v = xp.minimum(v, t(hi))
            return v

        return _opmath(f, a)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        a = x._data
        lo, hi = ctx.lo, ctx.hi
        keep = None
        if lo is not None:
            keep = a >= lo
        if hi is not None:
            keep = (a <= hi) if keep is None else keep & (a <= hi)
        return _where_const(keep, g), None, None


class ClampScalar(_ClampScalar, name="ClampBackward1"):
    pass


class ClampMinScalar(_ClampScalar, name="ClampMinBackward0"):
    pass


class ClampMaxScalar(_ClampScalar, name="ClampMaxBackward0"):
    pass


class _ClampTensor(Op):
    """clamp with tensor bounds (either may be None)."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        if ctx._edges:
            ctx.save_for_backward(a, lo, hi)

        def f(xp, v, lo_, hi_):
            if lo_ is not None:
                v = xp.maximum(v, lo_)
            if hi_ is not None:
                v = xp.minimum(v, hi_)
            return v

        xp = array_module(a)
        if a.dtype in _HALF:
            up = [None if v is None else v.astype(_F32) for v in (a, lo, hi)]
            return _arr(f(xp, *up).astype(a.dtype))
        return _arr(f(xp, a, lo, hi))

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        e = ctx._edges
        a = x._data
        la = None if lo is None else lo._data
        ha = None if hi is None else hi._data
        gx = glo = ghi = None
        if e[0]:
            keep = np.bool_(True)
            if la is not None:
                keep = a >= la
            if ha is not None:
                keep = keep & (a <= ha)
            gx = _where_const(keep, g)
        if la is not None and len(e) > 1 and e[1]:
            m = a < la
            if ha is not None:
                m = m & (la < ha)  # with min > max the result is max: min gets nothing
            glo = _where_const(m, g)
        if ha is not None and len(e) > 2 and e[2]:
            m = a > ha
            if la is not None:
                m = m | (ha < la)
            ghi = _where_const(m, g)
        return gx, glo, ghi


class ClampTensor(_ClampTensor, name="ClampBackward0"):
    pass


class ClampMinTensor(_ClampTensor, name="ClampMinBackward1"):
    pass


class ClampMaxTensor(_ClampTensor, name="ClampMaxBackward1"):
    pass


_C_INT_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                "int64": "int64_t"}


def _check_int_bound(s, npd):
    """An integer bound must fit the tensor's integer dtype (PyTorch's overflow error)."""
    if npd.kind in "iu" and isinstance(s, int) and not isinstance(s, bool):
        info = np.iinfo(npd)
        # unsigned types also take -max..-1, which wrap around (c10's overflow rule)
        lo = -info.max if npd.kind == "u" else info.min
        if not lo <= s <= info.max:
            raise RuntimeError(f"value cannot be converted to type {_C_INT_NAMES[npd.name]} "
                               "without overflow")
        return _wrap_int(s, npd)
    return s


def _clamp(fname, input, lo, hi, scalar_cls, tensor_cls):
    x = _check_tensor(input, fname)
    if x._data.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    lo_t, hi_t = isinstance(lo, Tensor), isinstance(hi, Tensor)
    if lo_t or hi_t:
        if (lo is not None and not lo_t) or (hi is not None and not hi_t):
            raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                            f"(Tensor, {type(lo).__name__}, {type(hi).__name__}), but expected "
                            "one of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, "
                            "Tensor out = None)\n * (Tensor input, Number min = None, Number max "
                            "= None, *, Tensor out = None)")
        rdt = result_type(x, lo, hi)
        if rdt == _dtype.bool and lo is not None and hi is not None:
            raise _not_impl("clamp_{dev}", np.dtype(np.bool_), x._data)
        ops = [cast(v, rdt) if v is not None else None for v in (x, lo, hi)]
        for v in ops[1:]:
            if v is not None:
                _util.check_same_device(ops[0], v)
        shapes = [v._data.shape for v in ops if v is not None]
        if len(set(shapes)) > 1:
            _util.broadcast_shapes_or_raise(*shapes)
        return tensor_cls.apply(*ops)
    for name, v in (("min", lo), ("max", hi)):
        if v is not None and _scalar(v) is None:
            raise TypeError(f"{fname}(): argument '{name}' must be Number or Tensor, not "
                            f"{type(v).__name__}")
    lo = _scalar(lo) if lo is not None else None
    hi = _scalar(hi) if hi is not None else None
    npd = x._data.dtype
    if not _is_float_np(npd) or isinstance(lo, complex) or isinstance(hi, complex):
        # Python numbers are weak: only non-float tensors can be promoted by them
        x = cast(x, result_type(x, lo, hi))
        npd = x._data.dtype
    if npd == np.bool_:
        which = "clamp" if lo is not None and hi is not None else \
            ("clamp_min" if lo is not None else "clamp_max")
        raise _not_impl(which + "_scalar_{dev}", npd, x._data)
    return scalar_cls.apply(x, _check_int_bound(lo, npd), _check_int_bound(hi, npd))


def clamp(input, min=None, max=None, *, out=None) -> Tensor:  # noqa: A002
    """``torch.clamp``: number bounds (``ClampBackward1``) or tensor bounds
    (``ClampBackward0``), with type promotion; min > max gives max, like PyTorch."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return _ret(_clamp("clamp", input, min, max, ClampScalar, ClampTensor), out, "clamp")


clip = clamp


def clamp_min(input, min, *, out=None) -> Tensor:  # noqa: A002
    """``torch.clamp_min``."""
    return _ret(_clamp("clamp_min", input, min, None, ClampMinScalar, ClampMinTensor), out,
                "clamp_min")


def clamp_max(input, max, *, out=None) -> Tensor:  # noqa: A002
    """``torch.clamp_max``."""
    return _ret(_clamp("clamp_max", input, None, max, ClampMaxScalar, ClampMaxTensor), out,
                "clamp_max")


class LerpScalar(Op, name="LerpBackward0"):
    @staticmethod
    def forward(ctx, a, b, w):
        if ctx._edges:
            ctx.w = w
        up = a.dtype in _HALF
        a2, b2 = (a.astype(_F32), b.astype(_F32)) if up else (a, b)
        d = b2 - a2
        r = a2 + w * d if builtins.abs(w) < 0.5 else b2 - d * (1 - w)
        return _arr(r.astype(a.dtype) if up else r)

    @staticmethod
    def backward(ctx, g):
        w = ctx.w
        e = ctx._edges
        wc = w.conjugate() if isinstance(w, complex) else w
        return (g * (1 - wc) if e[0] else None), (g * wc if e[1] else None), None


class LerpTensor(Op, name="LerpBackward1"):
    @staticmethod
    def forward(ctx, a, b, w):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[2] else None, b if e[2] else None,
                                  w if e[0] or e[1] else None)
        xp = array_module(a)
        up = a.dtype in _HALF
        a2, b2, w2 = (a.astype(_F32), b.astype(_F32), w.astype(_F32)) if up else (a, b, w)
        # PyTorch's two-sided formula: exact at both ends (w = 0 gives a, w = 1 gives b)
        d = b2 - a2
        r = xp.where(xp.abs(w2) < 0.5, a2 + w2 * d, b2 - d * (1 - w2))
        return _arr(r.astype(a.dtype) if up else r)

    @staticmethod
    def backward(ctx, g):
        x, y, w = ctx.saved_tensors
        e = ctx._edges
        return (g * _conj(1 - w) if e[0] else None, g * _conj(w) if e[1] else None,
                g * _conj(y - x) if e[2] else None)


def lerp(input, end, weight, *, out=None) -> Tensor:
    """``torch.lerp``: ``input + weight * (end - input)``; ``end`` (and a dimensioned
    ``weight``) must have ``input``'s dtype, as PyTorch requires."""
    _both_tensors(input, end, "lerp", "end")
    xd, ed = input._data.dtype, end._data.dtype
    if xd != ed:
        raise RuntimeError(f"expected dtype {_c_name(input.dtype)} for `end` but got dtype "
                           f"{_c_name(end.dtype)}")
    w_t = isinstance(weight, Tensor)
    if not _is_float_np(xd):
        raise _not_impl("lerp_kernel_tensor" if w_t else "lerp_kernel_scalar", xd, input._data)
    if w_t:
        if weight._data.dtype != xd:
            if weight._data.ndim:
                raise RuntimeError(f"expected dtype {_c_name(input.dtype)} for `weight` but got "
                                   f"dtype {_c_name(weight.dtype)}")
            weight = cast(weight, input.dtype)
        ops = [input, end, weight]
        for t in ops[1:]:
            _util.check_same_device(input, t)
        shapes = [t._data.shape for t in ops]
        if len(set(shapes)) > 1:
            _util.broadcast_shapes_or_raise(*shapes)
        return _ret(LerpTensor.apply(input, end, weight), out, "lerp")
    w = _scalar(weight)
    if w is None:
        raise TypeError(f"lerp(): argument 'weight' (position 3) must be Number or Tensor, not "
                        f"{type(weight).__name__}")
    if isinstance(w, complex) and xd.kind != "c":
        raise RuntimeError("value cannot be converted to type float without overflow")
    _util.check_same_device(input, end)
    if input._data.shape != end._data.shape:
        _check_broadcast(input._data.shape, end._data.shape)
    return _ret(LerpScalar.apply(input, end, w if isinstance(w, complex) else float(w)), out,
                "lerp")


def _promote3(fname, input, t1, t2):
    for i, (name, v) in enumerate((("input", input), ("tensor1", t1), ("tensor2", t2))):
        _check_tensor(v, fname, name, i + 1)
    rdt = result_type(input, t1, t2)
    ops = [cast(v, rdt) for v in (input, t1, t2)]
    for t in ops[1:]:
        _util.check_same_device(ops[0], t)
    shapes = [t._data.shape for t in ops]
    if len(set(shapes)) > 1:
        _util.broadcast_shapes_or_raise(*shapes)
    return rdt, ops


class Addcmul(Op, name="AddcmulBackward0"):
    @staticmethod
    def forward(ctx, a, b, c, value):
        e = ctx._edges
        if e:
            ctx.save_for_backward(b if e[2] else None, c if e[1] else None)
            ctx.value = value
        xp = array_module(a)
        if a.dtype in _HALF:
            r = a.astype(_F32) + value * b.astype(_F32) * c.astype(_F32)
            return _arr(r.astype(a.dtype))
        return _arr(xp.add(a, value * b * c if value != 1 else b * c))

    @staticmethod
    def backward(ctx, g):
        b, c = ctx.saved_tensors
        e = ctx._edges
        v = ctx.value
        return (g if e[0] else None, g * _conj(c * v) if e[1] else None,
                g * _conj(b * v) if e[2] else None, None)


class Addcdiv(Op, name="AddcdivBackward0"):
    @staticmethod
    def forward(ctx, a, b, c, value):
        e = ctx._edges
        if e:
            ctx.save_for_backward(b if e[2] else None, c if e[1] or e[2] else None)
            ctx.value = value
        if a.dtype in _HALF:
            r = a.astype(_F32) + value * b.astype(_F32) / c.astype(_F32)
            return _arr(r.astype(a.dtype))
        return _arr(a + value * b / c)

    @staticmethod
    def backward(ctx, g):
        b, c = ctx.saved_tensors
        e = ctx._edges
        v = ctx.value
        gb = g * _conj(v / c) if e[1] else None
        gc = -g * _conj(b * v / (c * c)) if e[2] else None
        return (g if e[0] else None), gb, gc, None


def _value(value, rdt):
    v = _util.to_number(value)
    if not (rdt.is_floating_point or rdt.is_complex):
        return int(v.real if isinstance(v, complex) else v)
    return v


def addcmul(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """``torch.addcmul``: ``input + value * tensor1 * tensor2`` (integer tensors truncate a
    float ``value``, as PyTorch does)."""
    rdt, ops = _promote3("addcmul", input, tensor1, tensor2)
    if rdt is _dtype.bool:
        raise _not_impl("addcmul_{dev}_out", np.dtype(np.bool_), input._data)
    return _ret(Addcmul.apply(*ops, _value(value, rdt)), out, "addcmul")


_ADDCDIV_INT_MSG = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
    "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
    "for all dtypes.")


def addcdiv(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """``torch.addcdiv``: ``input + value * tensor1 / tensor2`` (integer tensor1 and tensor2
    are refused, like PyTorch)."""
    if isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor) and \
            not _is_float_np(tensor1._data.dtype) and not _is_float_np(tensor2._data.dtype):
        raise RuntimeError(_ADDCDIV_INT_MSG)
    rdt, ops = _promote3("addcdiv", input, tensor1, tensor2)
    return _ret(Addcdiv.apply(*ops, _value(value, rdt)), out, "addcdiv")


# ---------------------------------------------------------------------------------------------
# closeness and equality
# ---------------------------------------------------------------------------------------------

def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``torch.isclose``: ``|a - b| <= atol + rtol * |b|`` (or equal, or both NaN with
    ``equal_nan``); both tensors must have one dtype, as in PyTorch."""
    _both_tensors(input, other, "isclose")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{_util.dtype_name(input.dtype)} did not match "
                           f"{_util.dtype_name(other.dtype)}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if v < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {v:g}")
    x, y = _util.same_device(input, other)
    a, b = x._data, y._data
    if a.shape != b.shape:
        _check_broadcast(a.shape, b.shape)
    xp = array_module(a)
    if a.dtype == np.bool_:
        return Tensor._make(_arr(a == b))
    if a.dtype in _HALF:
        a, b = a.astype(_F32), b.astype(_F32)
    elif a.dtype.kind in "iu":
        a, b = a.astype(np.float64), b.astype(np.float64)
    close = a == b
    if equal_nan:
        close = close | (xp.isnan(a) & xp.isnan(b))
    err = xp.abs(a - b)
    allowed = atol + xp.abs(rtol * b)
    close = close | (xp.isfinite(err) & (err <= allowed))
    return Tensor._make(_arr(close))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """``torch.allclose``: ``isclose(...).all()`` as a Python bool."""
    r = isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)._data
    return bool(array_module(r).all(r))


def equal(input, other) -> bool:
    """``torch.equal``: same shape and equal elements (after type promotion); NaN != NaN."""
    _both_tensors(input, other, "equal")
    if input._data.shape != other._data.shape:
        return False
    x, y = _util.same_device(input, other)
    if x._data.dtype != y._data.dtype:
        rdt = result_type(x, y)
        x, y = cast(x, rdt), cast(y, rdt)
    a, b = x._data, y._data
    return bool(array_module(a).all(a == b))


# ---------------------------------------------------------------------------------------------
# Tensor methods and operators
# ---------------------------------------------------------------------------------------------

_OPERAND_TYPES = (Tensor, numbers.Number, np.generic, np.ndarray)


# the common operand types, checked by exact type before the (slower) ABC isinstance
_FAST_OPERANDS = frozenset({Tensor, float, int, bool})


def _op_or_notimpl(fn):
    def op(self, other):
        if type(other) not in _FAST_OPERANDS and not isinstance(other, _OPERAND_TYPES):
            return NotImplemented
        return fn(self, other)

    return op


def _rop(fn):
    def op(self, other):
        if type(other) not in _FAST_OPERANDS and not isinstance(other, _OPERAND_TYPES):
            return NotImplemented
        return fn(other, self)

    return op


def _iop(ufunc, fn, fname):
    def op(self, other):
        return _inplace_binary(ufunc, fn, self, other, fname)

    return op


def add_(self, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        return _inplace_binary(None, add, self, other, "add_", alpha=alpha)
    return _inplace_binary(np.add, add, self, other, "add_")


def sub_(self, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        return _inplace_binary(None, sub, self, other, "sub_", alpha=alpha)
    return _inplace_binary(np.subtract, sub, self, other, "sub_")


def mul_(self, other) -> Tensor:
    return _inplace_binary(np.multiply, mul, self, other, "mul_")


def div_(self, other, *, rounding_mode=None) -> Tensor:
    if rounding_mode is not None:
        return _inplace_binary(None, div, self, other, "div_", rounding_mode=rounding_mode)
    return _inplace_binary(np.true_divide, div, self, other, "div_")


def _binary_ip(fn, name: str):
    def method(self, other, **kwargs) -> Tensor:
        return _inplace_binary(None, fn, self, other, name, **kwargs)

    method.__name__ = name
    method.__doc__ = f"In-place ``Tensor.{name}``."
    return method


def _clamp_method(self, min=None, max=None) -> Tensor:  # noqa: A002
    return clamp(self, min, max)


def _clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
    check_inplace(self)
    return inplace(self, clamp(self, min, max), "clamp_")


def _clamp_min_(self, min) -> Tensor:  # noqa: A002
    check_inplace(self)
    return inplace(self, clamp_min(self, min), "clamp_min_")


def _clamp_max_(self, max) -> Tensor:  # noqa: A002
    check_inplace(self)
    return inplace(self, clamp_max(self, max), "clamp_max_")


def _lerp_(self, end, weight) -> Tensor:
    check_inplace(self)
    return inplace(self, lerp(self, end, weight), "lerp_")


def _addcmul_(self, tensor1, tensor2, *, value=1) -> Tensor:
    check_inplace(self)
    return inplace(self, addcmul(self, tensor1, tensor2, value=value), "addcmul_")


def _addcdiv_(self, tensor1, tensor2, *, value=1) -> Tensor:
    check_inplace(self)
    return inplace(self, addcdiv(self, tensor1, tensor2, value=value), "addcdiv_")


def _logit_(self, eps=None) -> Tensor:
    check_inplace(self)
    return inplace(self, logit(self, eps), "logit_")


def _nan_to_num_(self, nan=0.0, posinf=None, neginf=None) -> Tensor:
    check_inplace(self)
    return inplace(self, nan_to_num(self, nan, posinf, neginf), "nan_to_num_")


def _abs_op(self) -> Tensor:
    return abs(self)


def _pos(self) -> Tensor:
    return positive(self)


# Functions that PyTorch also exposes in place in the torch namespace (torch.sqrt_, ...).
_TORCH_INPLACE = [
    "abs", "sqrt", "rsqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sigmoid",
    "tanh", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
    "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg",
    "sinc", "erf", "erfc", "i0", "floor", "ceil", "trunc", "fix", "frac", "neg", "negative",
    "reciprocal", "square",
]
# Unary functions whose in-place Tensor method is ``<name>_``.
_UNARY_INPLACE = _TORCH_INPLACE + [
    "absolute", "erfinv", "lgamma", "digamma", "sign", "sgn", "logical_not", "bitwise_not",
]
# Binary functions with a method and an in-place ``<name>_`` method.
_BINARY_INPLACE = [
    "fmod", "remainder", "floor_divide", "hypot", "atan2", "arctan2", "copysign", "xlogy",
    "heaviside", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
    "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le",
    "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "pow", "ldexp",
    "nextafter", "gcd", "lcm",
]

_g = globals()
for _name in _TORCH_INPLACE:
    _g[_name + "_"] = _ip(_g[_name], _name + "_")
for _name in ("erfinv", "lgamma", "digamma", "sign", "sgn", "logical_not", "bitwise_not",
              "absolute"):
    _g[_name + "_"] = _ip(_g[_name], _name + "_")
round_ = _round_
clamp_ = clip_ = _clamp_
clamp_min_ = _clamp_min_
clamp_max_ = _clamp_max_
logit_ = _logit_
nan_to_num_ = _nan_to_num_
xlogy_ = _binary_ip(xlogy, "xlogy_")
ldexp_ = _binary_ip(ldexp, "ldexp_")
gcd_ = _binary_ip(gcd, "gcd_")
lcm_ = _binary_ip(lcm, "lcm_")
conj_physical_ = _ip(conj_physical, "conj_physical_")

METHODS = {
    "add": add, "add_": add_, "sub": sub, "sub_": sub_, "subtract": sub, "subtract_": sub_,
    "mul": mul, "mul_": mul_, "multiply": mul, "multiply_": mul_, "div": div, "div_": div_,
    "divide": div, "divide_": div_, "true_divide": true_divide, "true_divide_": div_,
    "conj": conj, "relu": relu, "relu_": relu_, "positive": positive,
    "signbit": signbit, "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
    "isposinf": isposinf, "isneginf": isneginf, "isreal": isreal,
    "real": property(real, lambda self, v: real(self).copy_(v)),
    "imag": property(imag, lambda self, v: imag(self).copy_(v)),
    "angle": angle, "round": round, "round_": _round_, "logit": logit, "logit_": _logit_,
    "nan_to_num": nan_to_num, "nan_to_num_": _nan_to_num_, "polygamma": _polygamma_method,
    "polygamma_": _polygamma_, "float_power": float_power, "float_power_": float_power_,
    "clamp": _clamp_method, "clip": _clamp_method, "clamp_": _clamp_, "clip_": _clamp_,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "clamp_min_": _clamp_min_,
    "clamp_max_": _clamp_max_, "maximum": maximum, "minimum": minimum, "fmax": fmax,
    "fmin": fmin, "logaddexp": logaddexp, "logaddexp2": logaddexp2, "lerp": lerp,
    "lerp_": _lerp_, "addcmul": addcmul, "addcmul_": _addcmul_, "addcdiv": addcdiv,
    "addcdiv_": _addcdiv_, "where": _where_method, "isclose": isclose, "allclose": allclose,
    "equal": equal, "i0": i0, "i0_": _g["i0_"], "frexp": frexp, "mvlgamma": mvlgamma,
    "mvlgamma_": _ip(mvlgamma, "mvlgamma_"), "conj_physical": conj_physical,
    "conj_physical_": _ip(conj_physical, "conj_physical_"), "resolve_conj": resolve_conj,
    "resolve_neg": resolve_neg, "is_conj": is_conj, "is_neg": is_neg,
    "__div__": _op_or_notimpl(div),
    "__add__": _op_or_notimpl(add), "__radd__": _rop(add), "__iadd__": _iop(np.add, add, "add_"),
    "__sub__": _op_or_notimpl(sub), "__rsub__": _op_or_notimpl(rsub),
    "__isub__": _iop(np.subtract, sub, "sub_"),
    "__mul__": _op_or_notimpl(mul), "__rmul__": _rop(mul),
    "__imul__": _iop(np.multiply, mul, "mul_"),
    "__truediv__": _op_or_notimpl(div), "__rtruediv__": _rop(div),
    "__itruediv__": _iop(np.true_divide, div, "div_"),
    "__pow__": _op_or_notimpl(pow), "__rpow__": _rop(pow), "__ipow__": _iop(None, pow, "pow_"),
    "__floordiv__": _op_or_notimpl(floor_divide), "__rfloordiv__": _rop(floor_divide),
    "__ifloordiv__": _iop(None, floor_divide, "floor_divide_"),
    "__mod__": _op_or_notimpl(remainder), "__rmod__": _rop(remainder),
    "__imod__": _iop(None, remainder, "remainder_"),
    "__and__": _op_or_notimpl(bitwise_and), "__rand__": _rop(bitwise_and),
    "__iand__": _iop(None, bitwise_and, "bitwise_and_"),
    "__or__": _op_or_notimpl(bitwise_or), "__ror__": _rop(bitwise_or),
    "__ior__": _iop(None, bitwise_or, "bitwise_or_"),
    "__xor__": _op_or_notimpl(bitwise_xor), "__rxor__": _rop(bitwise_xor),
    "__ixor__": _iop(None, bitwise_xor, "bitwise_xor_"),
    "__lshift__": _op_or_notimpl(bitwise_left_shift), "__rlshift__": _rop(bitwise_left_shift),
    "__ilshift__": _iop(None, bitwise_left_shift, "bitwise_left_shift_"),
    "__rshift__": _op_or_notimpl(bitwise_right_shift),
    "__rrshift__": _rop(bitwise_right_shift),
    "__irshift__": _iop(None, bitwise_right_shift, "bitwise_right_shift_"),
    "__eq__": _op_or_notimpl(eq), "__ne__": _op_or_notimpl(ne), "__lt__": _op_or_notimpl(lt),
    "__le__": _op_or_notimpl(le), "__gt__": _op_or_notimpl(gt), "__ge__": _op_or_notimpl(ge),
    "__neg__": neg, "__pos__": _pos, "__abs__": _abs_op, "__invert__": _invert,
}
for _name in _UNARY_INPLACE:
    METHODS[_name] = _g[_name]
    METHODS[_name + "_"] = _g[_name + "_"]
for _name in _BINARY_INPLACE:
    METHODS[_name] = _g[_name]
    METHODS[_name + "_"] = _binary_ip(_g[_name], _name + "_")
del _g, _name

__all__ += [n + "_" for n in _TORCH_INPLACE] + [
    "relu_", "round_", "clamp_", "clip_", "clamp_min_", "clamp_max_", "logit_", "nan_to_num_",
    "xlogy_", "ldexp_", "gcd_", "lcm_", "conj_physical_",
]
