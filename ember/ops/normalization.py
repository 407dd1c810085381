"""Normalization: ``batch_norm``, ``instance_norm``, ``layer_norm``, ``group_norm``,
``rms_norm`` and ``local_response_norm`` (``torch.nn.functional``).

Batch, layer and group norm share one fused op (``_Normalize``): the input is viewed as a
small-rank array, statistics are taken over some of its axes and the affine parameters broadcast
over others. Forward keeps only the input, the per-group mean and 1/std (as PyTorch's native
kernels do) and backward uses the closed-form gradient

    dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = g * weight,

computed on raw arrays (sums of products by einsum, without full-size temporaries). When a
graph of the backward is wanted (``create_graph=True``) the same formula runs as ember ops
instead, with mean and invstd recomputed from ``x`` so that double backward is exact.
``benchmarks/normalization.py`` measures the fused op against the same math as a composite of
ember ops (mean, sub, mul, rsqrt, ...): forward+backward of batch_norm on (64, 64, 32, 32)
float32 takes about 0.4x the composite's time and layer_norm on (64, 128, 256) about 0.6x; the
graph of batch_norm keeps 16 MiB for backward (the input) where the composite keeps 64 MiB.

float16/bfloat16 inputs compute statistics (and the whole normalization) in float32, like
PyTorch's CPU kernels; the output has the input's dtype. Parameters may then be float32.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Size, Tensor, _legacy_scalar_name
from ..autograd.function import Op
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _state
from . import _util
from . import pointwise as _pw
from . import reduction as _red
from . import shape as _shape

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm"]

_F32 = np.dtype(np.float32)
_REDUCED = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _REDUCED.add(_dtype._BF16_NP)


def _work(npd: np.dtype) -> np.dtype:
    """The dtype the arithmetic runs in: float32 for 16-bit floats (PyTorch's opmath type)."""
    return _F32 if npd in _REDUCED else npd


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _const(arr) -> Tensor:
    return Tensor._make(arr)


# ---------------------------------------------------------------------------------------------
# the fused op
# ---------------------------------------------------------------------------------------------

class _Normalize(Op, name="NativeBatchNormBackward0"):
    """``y = (x - mean) * invstd * weight + bias`` on ``x`` viewed as ``view``.

    Arguments after the tensors: ``view`` (shape to view ``x`` as), ``red`` (axes of the view
    the statistics are taken over), ``pshape`` (view-rank shape of weight/bias), ``eps``,
    ``stats`` (None: compute from ``x``; else given ``(mean, invstd)`` arrays of the keepdims
    shape, e.g. running statistics in eval mode) and ``update`` (called with the batch mean, the
    biased variance and the count, to update running statistics).
    """

    @staticmethod
    def forward(ctx, x, w, b, view, red, pshape, eps, stats, update):
        xp = array_module(x)
        work = _work(x.dtype)
        xv = x.reshape(view)
        if xv.dtype != work:
            xv = xv.astype(work)
        e = ctx._edges
        ctx.meta = (view, red, pshape, eps, stats is None, x.shape)
        if e is not None:
            ctx.save_for_backward(x if (e[0] or e[1]) else None, w if e[0] else None)
        if xv.size == 0:
            ctx.empty = True
            return x.copy()
        ctx.empty = False
        wv = None if w is None else w.reshape(pshape).astype(work, copy=False)
        bv = None if b is None else b.reshape(pshape).astype(work, copy=False)
        if stats is None:
            # the mean accumulates in float64 (no full-size float64 copy: NumPy/CuPy cast
            # blockwise); a float32 running sum loses the centre of offset data (x ~ 1e3 with
            # std ~ 1e-2), which PyTorch's double accumulator keeps
            acc = np.float64 if work != np.float64 else None
            mean = xv.mean(axis=red, keepdims=True, dtype=acc).astype(work, copy=False)
            xc = xv - mean
            n = _prod(view[a] for a in red)
            var = _sum_prod(xp, xc, xc, red) / n
            invstd = 1.0 / xp.sqrt(var + eps)
            if update is not None:
                update(mean, var, n)
            # the centred copy becomes the output, scaled in place
            if wv is not None and all(pshape[a] == 1 for a in red):
                xc *= invstd * wv
            else:
                xc *= invstd
                if wv is not None:
                    xc *= wv
            if bv is not None:
                xc += bv
            y = xc
        else:
            mean, invstd = stats
            # x * scale + shift: one pass, the way PyTorch's inference kernel evaluates it
            scale = invstd if wv is None else invstd * wv
            shift = -mean * scale
            if bv is not None:
                shift = shift + bv
            y = xv * scale
            y += shift
        ctx.mean, ctx.invstd = mean, invstd
        return y.astype(x.dtype, copy=False).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        e = ctx._edges
        view, red, pshape, eps, training, xshape = ctx.meta
        if ctx.empty:
            return (_zeros_like(x, xshape) if e[0] else None,
                    _zeros_param(g, e[1]), _zeros_param(g, e[2]))
        nonaff = tuple(a for a in range(len(view)) if pshape is None or pshape[a] == 1)
        if _state.enabled:
            return _backward_graph(ctx, x, w, g, view, red, pshape, nonaff, eps, training)
        return _backward_arrays(ctx, x, w, g, view, red, pshape, nonaff, training)


class _LayerNorm(_Normalize, name="NativeLayerNormBackward0"):
    pass


class _GroupNorm(_Normalize, name="NativeGroupNormBackward0"):
    pass


def _zeros_like(x: Tensor, shape) -> Tensor:
    xp = array_module(x._data)
    return _const(xp.zeros(shape, dtype=x._data.dtype))


def _zeros_param(g: Tensor, edge):
    if not edge:
        return None
    shape, npd = edge[2], edge[3]
    xp = array_module(g._data)
    return _const(xp.zeros(shape, dtype=npd))


def _sum_prod(xp, a, b, axes):
    """``(a * b).sum(axes, keepdims=True)`` without the full-size product (one einsum)."""
    letters = "abcdefgh"[:a.ndim]
    kept = "".join(c for i, c in enumerate(letters) if i not in axes)
    r = xp.einsum(f"{letters},{letters}->{kept}", a, b)
    return r.reshape(tuple(1 if i in axes else s for i, s in enumerate(a.shape)))


def _backward_arrays(ctx, x, w, g, view, red, pshape, nonaff, training):
    """The closed-form gradients on raw arrays (no graph is recorded for them)."""
    e = ctx._edges
    xp = array_module(g._data)
    work = _work(g._data.dtype)
    mean, invstd = ctx.mean, ctx.invstd
    gv = g._data.reshape(view).astype(work, copy=False)
    wv = None if w is None else w._data.reshape(pshape).astype(work, copy=False)
    gx = gw = gb = None
    if not (e[0] or e[1]):
        return gx, gw, _const(gv.sum(axis=nonaff).reshape(e[2][2]).astype(e[2][3], copy=False))
    xc = x._data.reshape(view).astype(work, copy=False) - mean  # a private array
    n = _prod(view[a] for a in red)
    if red == nonaff:
        # batch norm: statistics and parameters live on complementary axes, so the gradient
        # is gv * k1 + xc * k2 + k3 with per-channel constants (three full passes)
        sg = gv.sum(axis=red, keepdims=True)
        sgx = _sum_prod(xp, gv, xc, red)
        if e[2]:
            gb = sg
        if e[1]:
            gw = sgx * invstd
        if e[0]:
            k1 = invstd if wv is None else invstd * wv
            gxa = gv * k1
            if training:
                xc *= -k1 * invstd * invstd * sgx / n
                gxa += xc
                gxa -= k1 * sg / n
    else:
        xc *= invstd  # now xhat
        if e[2]:
            gb = gv.sum(axis=nonaff, keepdims=True)
        if e[1]:
            gw = _sum_prod(xp, gv, xc, nonaff)
        if e[0]:
            gxa = gv * wv if wv is not None else gv.copy()
            s1 = gxa.mean(axis=red, keepdims=True)
            s2 = _sum_prod(xp, gxa, xc, red) / n
            xc *= s2
            gxa -= xc
            gxa -= s1
            gxa *= invstd
    if e[0]:
        gx = _const(gxa.astype(x._data.dtype, copy=False).reshape(x._data.shape))
    if e[1]:
        gw = _const(gw.reshape(e[1][2]).astype(e[1][3], copy=False))
    if e[2]:
        gb = _const(gb.reshape(e[2][2]).astype(e[2][3], copy=False))
    return gx, gw, gb


def _backward_graph(ctx, x, w, g, view, red, pshape, nonaff, eps, training):
    """The same gradients as ember ops, so that they can be differentiated again."""
    e = ctx._edges
    work = _work(g._data.dtype)
    gv = _util.cast(_shape.reshape(g, view), work)
    gx = gw = gb = None
    if e[2]:
        gb = _shape.reshape(_red.sum(gv, nonaff), e[2][2])
    if not (e[0] or e[1]):
        return gx, gw, gb
    xv = _util.cast(_shape.reshape(x, view), work)
    if training:
        mean = _red.mean(xv, red, keepdim=True)
        xc = xv - mean
        invstd = _pw.rsqrt(_red.mean(xc * xc, red, keepdim=True) + eps)
    else:
        xc = xv - _const(ctx.mean)
        invstd = _const(ctx.invstd)
    xhat = xc * invstd
    if e[1]:
        gw = _shape.reshape(_red.sum(gv * xhat, nonaff), e[1][2])
    if e[0]:
        gxhat = gv if w is None else gv * _util.cast(_shape.reshape(w, pshape), work)
        if training:
            gxa = invstd * (gxhat - _red.mean(gxhat, red, keepdim=True)
                            - xhat * _red.mean(gxhat * xhat, red, keepdim=True))
        else:
            gxa = gxhat * invstd
        gx = _shape.reshape(gxa, x._data.shape)
    return gx, gw, gb


# ---------------------------------------------------------------------------------------------
# argument checks shared by the functions
# ---------------------------------------------------------------------------------------------

def _need_tensor(x, fname: str, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _opt_tensor(x, fname: str, arg: str, pos: int) -> None:
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _check_float(x: Tensor, kernel: str) -> None:
    if x._data.dtype.kind != "f" and x._data.dtype != _dtype._BF16_NP:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_legacy_scalar_name(x.dtype)}'")


def _check_param_dtypes(x: Tensor, *params) -> None:
    """PyTorch's CPU mixed-dtype rule: parameters all of the input's dtype, or all float32 with
    a float16/bfloat16 input."""
    ps = [p for p in params if p is not None]
    if not ps:
        return
    xd = x.dtype
    first = ps[0].dtype
    if first is xd:
        for p in ps[1:]:
            if p.dtype is not xd:
                raise RuntimeError(f"expected scalar type {_legacy_scalar_name(xd)} but found "
                                   f"{_legacy_scalar_name(p.dtype)}")
        return
    if any(p.dtype is not _dtype.float32 for p in ps):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if x._data.dtype not in _REDUCED:
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _float_arg(v, fname: str, name: str, pos: int) -> float:
    if isinstance(v, Tensor) and v.numel() == 1:
        return float(v.item())
    if not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be float, not "
                        f"{type(v).__name__}")
    return float(v)


def _verify_batch_size(size) -> None:
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{size}")


def _normalized_shape(normalized_shape, fname: str) -> tuple:
    if isinstance(normalized_shape, Tensor):
        normalized_shape = normalized_shape.tolist()
    if isinstance(normalized_shape, (int, np.integer)) or not isinstance(
            normalized_shape, (tuple, list, Size)):
        raise TypeError(f"{fname}(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not {type(normalized_shape).__name__}")
    try:
        return tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise TypeError(f"{fname}(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not {type(normalized_shape).__name__}") from None


# ---------------------------------------------------------------------------------------------
# batch / instance norm
# ---------------------------------------------------------------------------------------------

def _running_update(rm: Tensor | None, rv: Tensor | None, momentum: float, groups: int = 1):
    """Return the callback that folds a batch's statistics into the running buffers:
    ``running = (1 - momentum) * running + momentum * stat`` with the unbiased variance.
    ``groups > 1`` (instance norm) averages the per-instance statistics first."""
    if rm is None and rv is None:
        return None

    def update(mean, var, n):
        m = float(momentum)
        with no_grad():
            for buf, stat in ((rm, mean), (rv, var)):
                if buf is None:
                    continue
                s = stat.reshape(-1)
                if stat is var:
                    s = s * (n / (n - 1)) if n > 1 else s / 0.0  # PyTorch: var_sum / (n - 1)
                if groups > 1:
                    s = s.reshape(groups, -1).mean(axis=0)
                a = buf._data
                a[...] = (m * s + (1.0 - m) * a.astype(s.dtype, copy=False)).reshape(a.shape)
                buf._bump_version()
    return update


def _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                update=None) -> Tensor:
    """``torch.batch_norm`` after the Python-level checks of ``F.batch_norm``; ``update``
    replaces the default running-statistics update (instance norm averages over the batch)."""
    _check_float(input, "batch_norm")
    c = input.shape[_util.wrap_dim(1, input.ndim)]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):  # PyTorch's order of checks
        if t is None and not training and name.startswith("running"):
            raise RuntimeError(f"{name} must be defined in evaluation mode")
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if training and (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    _check_param_dtypes(input, weight, bias, running_mean, running_var)
    _util.check_same_device(input, weight, bias, running_mean, running_var)
    shape = input._data.shape
    view = (shape[0], c, _prod(shape[2:]))
    pshape = (1, c, 1)
    stats = None
    if training:
        if update is None:
            update = _running_update(running_mean, running_var, momentum)
    else:
        work = _work(input._data.dtype)
        # copies: the buffers may change before backward runs
        rm = running_mean._data.astype(work).reshape(pshape)
        rv = running_var._data.astype(work).reshape(pshape)
        xp = array_module(rv)
        stats = (rm, 1.0 / xp.sqrt(rv + eps))
        update = None
    return _Normalize.apply(input, weight, bias, view, (0, 2), pshape, float(eps), stats, update)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """``torch.nn.functional.batch_norm``: normalize each channel (dim 1) over the batch and
    spatial dims.

    Training uses the batch statistics and, when running buffers are given, updates them in
    place with ``momentum`` (the variance unbiased, as PyTorch does); otherwise the running
    statistics are used. Checks and messages follow PyTorch (``Expected more than 1 value per
    channel when training``, element counts, CPU mixed-dtype rules).
    """
    _need_tensor(input, "batch_norm", "input", 1)
    for i, (nm, t) in enumerate((("running_mean", running_mean), ("running_var", running_var),
                                 ("weight", weight), ("bias", bias))):
        _opt_tensor(t, "batch_norm", nm, i + 2)
    momentum = _float_arg(momentum, "batch_norm", "momentum", 7)
    _float_arg(eps, "batch_norm", "eps", 8)  # (the messages below print eps as given)
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return _batch_norm(input, weight, bias, running_mean, running_var, bool(training),
                       momentum, eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """``torch.nn.functional.instance_norm``: batch norm of each (sample, channel) plane.

    As in PyTorch, the input is viewed as ``(1, N * C, *spatial)`` and batch-normalized with the
    per-channel parameters repeated ``N`` times; running statistics (if given) are updated with
    the average over the batch of the per-instance statistics.
    """
    _need_tensor(input, "instance_norm", "input", 1)
    for i, (nm, t) in enumerate((("running_mean", running_mean), ("running_var", running_var),
                                 ("weight", weight), ("bias", bias))):
        _opt_tensor(t, "instance_norm", nm, i + 2)
    momentum = _float_arg(momentum, "instance_norm", "momentum", 7)
    _float_arg(eps, "instance_norm", "eps", 8)
    if use_input_stats:
        size = input.size()
        n = 1
        for s in size[2:]:
            n *= s
        if n == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {size}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    shape = input._data.shape
    b, c = shape[0], shape[_util.wrap_dim(1, input.ndim)]
    weight_ = None if weight is None else _shape.repeat(weight, b)
    bias_ = None if bias is None else _shape.repeat(bias, b)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {b * c} elements not {b * t.numel()}")
    x = _shape.reshape(input, (1, b * c) + tuple(shape[2:]))
    if use_input_stats:
        _check_param_dtypes(input, weight, bias, running_mean, running_var)
        upd = _running_update(running_mean, running_var, momentum, groups=b)
        out = _batch_norm(x, weight_, bias_, None, None, True, momentum, eps, update=upd)
    else:
        with no_grad():
            rm_ = _shape.repeat(running_mean, b)
            rv_ = _shape.repeat(running_var, b)
        out = _batch_norm(x, weight_, bias_, rm_, rv_, False, momentum, eps)
    return _shape.reshape(out, shape)


# ---------------------------------------------------------------------------------------------
# layer / group / rms norm
# ---------------------------------------------------------------------------------------------

def _check_normalized(input: Tensor, ns: tuple, weight, bias, fname: str) -> None:
    if not ns:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for nm, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != ns:
            raise RuntimeError(f"Expected {nm} to be of same shape as normalized_shape, but got "
                               f"{nm} of shape {list(t._data.shape)} and normalized_shape = "
                               f"{list(ns)}")
    shape = input._data.shape
    k = len(ns)
    if fname == "rms_norm" and len(shape) < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got "
                           f"{len(shape)}")
    if len(shape) < k or tuple(shape[len(shape) - k:]) != ns:
        star = "*" if fname == "rms_norm" else "*, "
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[{star}{', '.join(str(s) for s in ns)}], but got input of size"
                           f"{list(shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """``torch.nn.functional.layer_norm``: normalize over the trailing ``normalized_shape``
    dims, then apply the elementwise ``weight``/``bias`` (fused op, closed-form backward)."""
    _need_tensor(input, "layer_norm", "input", 1)
    ns = _normalized_shape(normalized_shape, "layer_norm")
    _opt_tensor(weight, "layer_norm", "weight", 3)
    _opt_tensor(bias, "layer_norm", "bias", 4)
    _check_normalized(input, ns, weight, bias, "layer_norm")
    _check_float(input, "LayerNormKernelImpl")
    _check_param_dtypes(input, weight, bias)
    _util.check_same_device(input, weight, bias)
    shape = input._data.shape
    d = _prod(ns)
    view = (_prod(shape[:len(shape) - len(ns)]), d)
    return _LayerNorm.apply(input, weight, bias, view, (1,), (1, d), float(eps), None, None)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """``torch.nn.functional.group_norm``: normalize each group of ``C / num_groups`` channels
    of each sample, then apply the per-channel ``weight``/``bias`` (fused op)."""
    _need_tensor(input, "group_norm", "input", 1)
    _opt_tensor(weight, "group_norm", "weight", 3)
    _opt_tensor(bias, "group_norm", "bias", 4)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    shape = input._data.shape
    n, c = shape[0], shape[1]
    g = int(num_groups)
    _verify_batch_size([n * c // g, g] + list(shape[2:]))
    if c % g:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(shape)} and num_groups={g}")
    for nm, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            # PyTorch's bias message prints the weight's shape (when there is a weight)
            shown = weight if weight is not None else t
            raise RuntimeError(f"Expected {nm} to be a vector of size equal to the number of "
                               f"channels in input, but got {nm} of shape "
                               f"{list(shown._data.shape)} and input of shape {list(shape)}")
    _check_float(input, "GroupNormKernelImpl")
    _check_param_dtypes(input, weight, bias)
    _util.check_same_device(input, weight, bias)
    view = (n, g, c // g, _prod(shape[2:]))
    return _GroupNorm.apply(input, weight, bias, view, (2, 3), (1, g, c // g, 1), float(eps),
                            None, None)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``torch.nn.functional.rms_norm``: ``x / sqrt(mean(x**2) + eps) * weight`` over the
    trailing ``normalized_shape`` dims.

    A composite, like PyTorch's: 16-bit inputs are upcast to float32, the result is cast back
    to the input's dtype, and ``eps=None`` means ``finfo`` epsilon of that float32/float64
    computation type.
    """
    _need_tensor(input, "rms_norm", "input", 1)
    ns = _normalized_shape(normalized_shape, "rms_norm")
    _opt_tensor(weight, "rms_norm", "weight", 3)
    _check_normalized(input, ns, weight, None, "rms_norm")
    _check_float(input, "rms_norm")
    _util.check_same_device(input, weight)
    if weight is not None and weight.dtype is not input.dtype:
        warnings.warn(f"Mismatch dtype between input and weight: input dtype = "
                      f"{_c_type(input.dtype)}, weight dtype = {_c_type(weight.dtype)}, Cannot "
                      "dispatch to fused implementation.", UserWarning, stacklevel=2)
    work = _work(input._data.dtype)
    if eps is None:
        eps = float(np.finfo(work).eps)
    x = _util.cast(input, work)
    dims = tuple(range(input.ndim - len(ns), input.ndim))
    r = _pw.rsqrt(_red.mean(_pw.pow(x, 2), dims, keepdim=True) + eps)
    out = x * r
    if weight is not None:
        out = out * weight
    return _util.cast(out, input.dtype)


def _c_type(d) -> str:
    """PyTorch's C++ scalar-type spelling used in its warnings (``float``, ``c10::Half``)."""
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16"}.get(str(d).replace("torch.", ""), str(d))


# ---------------------------------------------------------------------------------------------
# local response norm
# ---------------------------------------------------------------------------------------------

def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """``torch.nn.functional.local_response_norm``: ``x / (k + alpha * mean_window(x**2))**beta``
    over a window of ``size`` neighbouring channels (zero-padded, ``size // 2`` before).

    A composite of ember ops in PyTorch's order (square, average pooling along channels, pow,
    divide), so gradients come from the ops' own backwards.
    """
    from . import pooling as _pool

    _need_tensor(input, "local_response_norm", "input", 1)
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    size = int(size)
    if size <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {size} kW: 1")
    c = input.shape[1]
    div = input * input
    # symmetric padding size // 2 then dropping the last row is PyTorch's asymmetric
    # (size // 2, (size - 1) // 2) zero padding
    if dim == 3:
        div = _shape.unsqueeze(div, 1)
        div = _pool.avg_pool2d(div, (size, 1), stride=1, padding=(size // 2, 0))
        div = _shape.squeeze(div, 1)
        if div.shape[1] != c:
            div = _shape.narrow(div, 1, 0, c)
    else:
        sizes = input.shape
        div = _shape.reshape(div, (sizes[0], 1, sizes[1], sizes[2], -1))
        # (not avg_pool3d itself: its input-smaller-than-kernel check ignores the padding)
        div = _pool._avg_poolnd(3, div, (size, 1, 1), 1, (size // 2, 0, 0), False, True, None,
                                "local_response_norm")
        div = _shape.squeeze(div, 1)
        if div.shape[1] != c:
            div = _shape.narrow(div, 1, 0, c)
        div = _shape.reshape(div, sizes)
    div = _pw.pow(div * alpha + k, beta)
    return input / div



# ---------------------------------------------------------------------------------------------
# legacy cross-channel LRN (nn.CrossMapLRN2d)
# ---------------------------------------------------------------------------------------------

class CrossMapLRN2dOp(Op, name="CrossMapLRN2dBackward"):
    """The legacy Lua-torch LRN of ``nn.CrossMapLRN2d`` on (N, C, H, W), with PyTorch's exact
    channel window (a running sum whose first channel is never dropped) and its hand-written
    backward, both vectorized over channels (a cumulative sum, and one pass per window offset).
    """

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        xp = array_module(x)
        c = x.shape[1]
        sq = x * x
        pre_pad = int((size - 1) / 2 + 1)
        delta = xp.zeros_like(sq)
        delta[:, 0] = sq[:, :min(pre_pad, c)].sum(axis=1)
        hi = c - pre_pad  # channels 1..hi add the channel pre_pad - 1 ahead
        if hi >= 1:
            delta[:, 1:hi + 1] += sq[:, pre_pad:pre_pad + hi]
        if c - 1 >= pre_pad + 1:  # channels past pre_pad drop the one pre_pad behind
            delta[:, pre_pad + 1:] -= sq[:, 1:c - pre_pad]
        scale = xp.cumsum(delta, axis=1, dtype=x.dtype)
        scale *= alpha / size
        scale += k
        out = xp.power(scale, -beta) * x
        ctx.scale = scale
        ctx.args = (size, alpha, beta)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        size, alpha, beta = ctx.args
        n, c = x.shape[0], x.shape[1]
        inv = int(size - (size - 1) / 2)
        if inv + c > c + size - 1:
            raise RuntimeError(f"start ({inv}) + length ({c}) exceeds dimension size "
                               f"({c + size - 1}).")
        scale = _const(ctx.scale)
        gi = g * _pw.pow(scale, -beta)
        ratio = g * out / scale
        xp = array_module(x._data)
        rest = tuple(x._data.shape[2:])
        lo = _const(xp.zeros((n, inv) + rest, dtype=x._data.dtype))
        hi = _const(xp.zeros((n, size - 1 - inv) + rest, dtype=x._data.dtype))
        padded = _shape.cat([lo, ratio, hi], 1)
        accum = None
        for off in range(size):
            part = _shape.narrow(padded, 1, off, c)
            accum = part if accum is None else accum + part
        return gi - x * accum * (2 * alpha * beta / size)


def cross_map_lrn2d(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                    k: float = 1) -> Tensor:
    """The function behind ``nn.CrossMapLRN2d`` (not part of ``torch.nn.functional``)."""
    _need_tensor(input, "CrossMapLRN2d", "input", 1)
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    _check_float(input, "CrossMapLRN2d")
    return CrossMapLRN2dOp.apply(input, int(size), float(alpha), float(beta), float(k))
