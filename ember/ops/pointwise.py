"""Pointwise ops: arithmetic, comparisons, logical/bitwise ops and elementwise math.

Binary ops share one dispatcher (``_binary``) that applies PyTorch's promotion (Python numbers
are weak, 0-d tensors rank below dimensioned ones), device checks and PyTorch's broadcasting
error, then calls the op. Backward formulas are written with ember ops.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _util
from ._util import cast, check_inplace, inplace, result_type, write_out

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
    "negative", "exp", "rsub",
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
    if isinstance(s, float) and t._data.dtype == _dtype._BF16_NP:
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


def _unary_check_tensor(x, fname: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


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


def _bool_sub():
    raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                       "Use the `^` or `logical_xor()` operator instead.")


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """``torch.sub``: ``input - alpha * other``."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and \
            input._data.dtype == np.bool_ and other._data.dtype == np.bool_:
        _bool_sub()
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
        ga = g * _conj(b) if e[0] else None
        gb = g * _conj(a) if e[1] else None
        return ga, gb


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
        xp = array_module(b if isinstance(a, _Number) else a)
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
    return _ret(Neg.apply(_unary_check_tensor(input, "neg")), out, "neg")


negative = neg


class Conj(Op, name="ConjBackward0"):
    @staticmethod
    def forward(ctx, a):
        return a.conj()

    @staticmethod
    def backward(ctx, g):
        return conj(g)


def conj(input) -> Tensor:
    if input._data.dtype.kind != "c":
        return input
    return Conj.apply(input)


class Exp(Op, name="ExpBackward0"):
    @staticmethod
    def forward(ctx, a):
        r = array_module(a).exp(a)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * _conj(r)


def _float_unary(cls, x, fname):
    """Unary float op: integer inputs are computed in the default float dtype (PyTorch)."""
    x = _unary_check_tensor(x, fname)
    if not _is_float_np(x._data.dtype):
        x = cast(x, _dtype.get_default_dtype())
    return cls.apply(x)


def exp(input, *, out=None) -> Tensor:
    """``torch.exp``."""
    return _ret(_float_unary(Exp, input, "exp"), out, "exp")


# ---------------------------------------------------------------------------------------------
# Tensor methods and operators
# ---------------------------------------------------------------------------------------------

def _op_or_notimpl(fn):
    def op(self, other):
        if not isinstance(other, (Tensor, numbers.Number, np.generic, np.ndarray)):
            return NotImplemented
        return fn(self, other)

    return op


def _rop(fn):
    def op(self, other):
        if not isinstance(other, (Tensor, numbers.Number, np.generic, np.ndarray)):
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


def neg_(self) -> Tensor:
    check_inplace(self)
    return inplace(self, neg(self), "neg_")


def exp_(self) -> Tensor:
    check_inplace(self)
    return inplace(self, exp(self), "exp_")


METHODS = {
    "add": add, "add_": add_, "sub": sub, "sub_": sub_, "subtract": sub, "subtract_": sub_,
    "mul": mul, "mul_": mul_, "multiply": mul, "multiply_": mul_, "div": div, "div_": div_,
    "divide": div, "divide_": div_, "true_divide": true_divide, "true_divide_": div_,
    "neg": neg, "neg_": neg_, "negative": neg, "negative_": neg_, "exp": exp, "exp_": exp_,
    "conj": conj,
    "__add__": _op_or_notimpl(add), "__radd__": _rop(add), "__iadd__": _iop(np.add, add, "add_"),
    "__sub__": _op_or_notimpl(sub), "__rsub__": _op_or_notimpl(rsub),
    "__isub__": _iop(np.subtract, sub, "sub_"),
    "__mul__": _op_or_notimpl(mul), "__rmul__": _rop(mul),
    "__imul__": _iop(np.multiply, mul, "mul_"),
    "__truediv__": _op_or_notimpl(div), "__rtruediv__": _rop(div),
    "__itruediv__": _iop(np.true_divide, div, "div_"),
    "__neg__": neg, "__pos__": lambda self: self,
}
