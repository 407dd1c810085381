"""``torch.nn.functional``: the functional forms of the layers in ``ember.nn``.

A plain module of functions; each follows the PyTorch function of the same name.
"""

from __future__ import annotations

from importlib import import_module as _import_module

import numpy as np

from .._tensor import Tensor, _c_name, _legacy_scalar_name, legacy_type_name
from ..autograd.function import Op
from ..autograd.grad_mode import state as _grad_state
from ..ops import _util
from ..ops import linalg as _linalg
from ..ops import pointwise as _pointwise
from ..ops import reduction as _reduction
from ..ops import shape as _shape


def _check_tensor(x, fname: str, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class Addmm(Op, name="AddmmBackward0"):
    """``bias + x @ weight.T`` in one op: the product's output buffer takes the bias in place,
    and the backward node is PyTorch's (``AddmmBackward0``).

    A fused exception to "composites from primitives": ``benchmarks/linear.py`` measured
    forward+backward 0.74-0.81x the time of matmul + add (256x512 -> 1024 and 64x784 -> 128).
    """

    @staticmethod
    def forward(ctx, bias, x, w):
        e = ctx._edges
        if e is not None:
            # grad of x needs w, grad of w needs x; save only those
            ctx.save_for_backward(x if e[2] else None, w if e[1] else None)
        out = _linalg._mm(x, w.T)
        out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        e = ctx._edges
        ga = g._data
        if not _grad_state.enabled and ga.dtype.kind == "f" and ga.ndim == 2:
            # no graph of the backward is recorded: plain array products, and the bias
            # gradient reduced here rather than by the engine's differentiable sum_to
            gb = None
            if e[0]:
                gb = g
                if e[0][2] == ga.shape[1:]:
                    acc = np.float32 if ga.dtype.itemsize < 4 else None
                    gb = Tensor._make(ga.sum(axis=0, dtype=acc).astype(ga.dtype, copy=False))
            gx = Tensor._make(_linalg._mm(ga, w._data)) if e[1] else None
            gw = Tensor._make(_linalg._mm(ga.T, x._data)) if e[2] else None
            return gb, gx, gw
        gb = g if e[0] else None  # the engine sums it down to the bias' shape
        gx = gw = None
        if e[1]:
            gx = _linalg.Mm.apply(g, w.conj() if w.is_complex() else w)
        if e[2]:
            gw = _linalg.Mm.apply(_shape.t(g), x.conj() if x.is_complex() else x)
        return gb, gx, gw


def _expand_error(bias: Tensor, target) -> RuntimeError | None:
    """PyTorch's message when ``bias`` cannot be expanded to ``target`` (None if it can)."""
    shape = bias._data.shape
    if len(shape) > len(target):
        return RuntimeError(f"expand({legacy_type_name(bias)}{{{list(shape)}}}, size="
                            f"{list(target)}): the number of sizes provided ({len(target)}) must "
                            f"be greater or equal to the number of dimensions in the tensor "
                            f"({len(shape)})")
    off = len(target) - len(shape)
    for i in range(len(shape) - 1, -1, -1):
        s, t = shape[i], target[i + off]
        if s != t and s != 1:
            return RuntimeError(f"The expanded size of the tensor ({t}) must match the existing "
                                f"size ({s}) at non-singleton dimension {i + off}.  Target sizes: "
                                f"{list(target)}.  Tensor sizes: {list(shape)}")
    return None


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``torch.nn.functional.linear``: ``input @ weight.T + bias``.

    Leading dims of ``input`` are folded into one, so the product is a single matmul with the
    transposed weight view; with a bias (2-D input or 1-D bias) it is one fused ``addmm`` op.
    Errors (shapes, dtypes, bias sizes) use PyTorch's messages and numbers.
    """
    if isinstance(input, Tensor) and isinstance(weight, Tensor) and isinstance(bias, Tensor):
        # the common case (CPU, 2-D input, one dtype, a full bias), checked in a few
        # comparisons: the general checks below cost about a fifth of a small layer's time
        ia, wa, ba = input._data, weight._data, bias._data
        if type(ia) is np.ndarray and type(wa) is np.ndarray and type(ba) is np.ndarray \
                and ia.ndim == 2 and wa.ndim == 2 and ba.ndim == 1 \
                and ia.shape[1] == wa.shape[1] and ba.shape[0] == wa.shape[0] \
                and ia.dtype == wa.dtype == ba.dtype and ia.dtype.kind == "f":
            return Addmm.apply(bias, input, weight)
    _check_tensor(input, "linear", "input", 1)
    _check_tensor(weight, "linear", "weight", 2)
    if bias is not None:
        _check_tensor(bias, "linear", "bias", 3)
    di, dw = input._data.ndim, weight._data.ndim
    if di == 0 or dw == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {di}D "
                           f"and {dw}D")
    if dw > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {dw}D")
    _util.check_same_device(input, weight, bias)
    if dw == 1:
        if bias is not None and di >= 2:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        out = _linalg.matmul(input, weight)
        return out if bias is None else _pointwise.add(out, bias)

    in_shape = input._data.shape
    k = in_shape[-1]
    n_out, n_in = weight._data.shape
    lead = in_shape[:-1]
    n = _prod(lead)
    fused = bias is not None and (di == 2 or bias._data.ndim == 1)
    if fused:
        if bias.dtype is not weight.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                               f"{_legacy_scalar_name(bias.dtype)} and "
                               f"{_legacy_scalar_name(weight.dtype)}")
        if input.dtype is not weight.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{_legacy_scalar_name(input.dtype)} and "
                               f"{_legacy_scalar_name(weight.dtype)}")
    elif input.dtype is not weight.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_c_name(input.dtype)} != {_c_name(weight.dtype)}")
    if k != n_in:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and "
                           f"{n_in}x{n_out})")
    out_shape = lead + (n_out,)
    if fused:
        err = _expand_error(bias, (n, n_out))
        if err is not None:
            raise err
    elif bias is not None:
        bshape = _util.broadcast_shapes_or_raise(out_shape, bias._data.shape)
        if bshape != out_shape:
            raise RuntimeError(f"output with shape {list(out_shape)} doesn't match the broadcast "
                               f"shape {list(bshape)}")
        # the output has weight's dtype and at least one dim, like weight itself
        rt = _util.result_type(weight, bias)
        if rt is not weight.dtype:
            raise RuntimeError(f"result type {_legacy_scalar_name(rt)} can't be cast to the "
                               f"desired output type {_legacy_scalar_name(weight.dtype)}")

    x2 = input if di == 2 else _shape.reshape(input, (n, k))
    if fused:
        out = Addmm.apply(bias, x2, weight)
    else:
        out = _linalg.Mm.apply(x2, _shape.t(weight))
    if di != 2:
        out = _shape.reshape(out, out_shape)
    if bias is not None and not fused:
        out = _util.cast(_pointwise.add(out, bias), weight.dtype)
    return out


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``torch.nn.functional.bilinear``: ``y[..., o] = input1 @ weight[o] @ input2 + bias[o]``.

    Built from primitives: one matmul of ``input2`` with ``weight`` viewed as
    ``(out * in1, in2)``, then a product with ``input1`` summed over ``in1``.
    """
    _check_tensor(input1, "bilinear", "input1", 1)
    _check_tensor(input2, "bilinear", "input2", 2)
    _check_tensor(weight, "bilinear", "weight", 3)
    tensors = [input1, input2, weight] + ([bias] if bias is not None else [])
    if any(t.dtype is not input1.dtype for t in tensors):
        names = ["input1", "input2", "weight", "bias"]
        got = ", ".join(f"{nm}: {_c_name(t.dtype)}" for nm, t in zip(names, tensors))
        raise RuntimeError(f"All tensors must have the same dtype, got {got}")
    _util.check_same_device(*tensors)
    s1, s2 = input1._data.shape, input2._data.shape
    if len(s1) != len(s2):
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {len(s1)} and "
                           f"{len(s2)}")
    for i in range(len(s1) - 1):
        if s1[i] != s2[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {s1[i]} and {s2[i]}")
    if s1[-1] != weight.size(1):
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {s1[-1]} "
                           f"but expected {weight.size(1)}")
    if s2[-1] != weight.size(2):
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {s2[-1]} "
                           f"but expected {weight.size(2)}")
    if bias is not None and bias.size(0) != weight.size(0):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.size(0)} but expected {weight.size(0)}")
    n_out, in1, in2 = weight._data.shape
    lead = s1[:-1]
    n = _prod(lead)
    x1 = _shape.reshape(input1, (n, in1))
    x2 = _shape.reshape(input2, (n, in2))
    # u[b, o, i] = sum_j weight[o, i, j] * x2[b, j]
    w2 = _shape.reshape(weight, (n_out * in1, in2))
    u = _shape.reshape(_linalg.Mm.apply(x2, _shape.t(w2)), (n, n_out, in1))
    y = _reduction.sum(_pointwise.mul(u, _shape.unsqueeze(x1, 1)), -1)
    y = _shape.reshape(y, lead + (n_out,))
    if bias is not None:
        y = _pointwise.add(y, bias)
    return y


# The functional forms of the other layer families live with their ops in ember/ops/<family>.py;
# each module's __all__ lists exactly the torch.nn.functional names it provides.
from ..ops.activation import *  # noqa: E402,F401,F403
from ..ops.attention import *  # noqa: E402,F401,F403
from ..ops.conv import *  # noqa: E402,F401,F403
from ..ops.distance import *  # noqa: E402,F401,F403
from ..ops.dropout import *  # noqa: E402,F401,F403
from ..ops.embedding import *  # noqa: E402,F401,F403
from ..ops.loss import *  # noqa: E402,F401,F403
from ..ops.normalization import *  # noqa: E402,F401,F403
from ..ops.pooling import *  # noqa: E402,F401,F403
from ..ops.spatial import *  # noqa: E402,F401,F403
from ._mha import multi_head_attention_forward  # noqa: E402,F401 (builds on linear)

# ``from torch.nn.functional import *`` gives every public function (PyTorch's module has no
# ``__all__``): the two defined here, multi_head_attention_forward and each family's names.
__all__ = ["linear", "bilinear", "multi_head_attention_forward"] + [
    name for family in ("activation", "attention", "conv", "distance", "dropout", "embedding",
                        "loss", "normalization", "pooling", "spatial")
    for name in _import_module(f"ember.ops.{family}").__all__]
