"""``torch.nn.init``: in-place parameter initialisation with PyTorch's formulas.

Every function writes into ``tensor`` under ``no_grad`` and returns it. Random values are
drawn from the stream of ``generator`` (or of the tensor device's default generator), in float64
and rounded to the tensor's dtype; ember's streams are not PyTorch's, so the numbers differ
from PyTorch's while their distributions are the same.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable

from .. import _backend
from .._backend import Generator, array_module
from .._tensor import Tensor, _legacy_scalar_name
from ..autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye",
           "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "sparse"]


# ---------------------------------------------------------------------------------------------
# helpers: drawing and writing
# ---------------------------------------------------------------------------------------------

def _write(tensor: Tensor, arr) -> Tensor:
    """Copy ``arr`` (broadcast, cast to the tensor's dtype) into ``tensor`` in place."""
    with no_grad():
        tensor.copy_(Tensor._make(arr))
    return tensor


def _check_float(tensor: Tensor, kernel: str) -> None:
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_legacy_scalar_name(tensor.dtype)}'")


def _rng(tensor: Tensor, generator: Generator | None):
    return _backend.rng_for(tensor.device, generator)


def _uniform(tensor: Tensor, shape, a: float, b: float, generator):
    """float64 samples in [a, b) on the tensor's device."""
    rng = _rng(tensor, generator)
    with _backend.on_device(tensor.device):
        return rng.uniform(a, b, shape)


def _normal(tensor: Tensor, shape, mean: float, std: float, generator):
    rng = _rng(tensor, generator)
    with _backend.on_device(tensor.device):
        z = rng.standard_normal(shape)
    return z * std + mean


def _on_tensor_device(fn: Callable) -> Callable:
    """Run ``fn(tensor, ...)`` with the tensor's device current, so that every intermediate
    array (CuPy allocates on the current device) lives where the tensor does."""

    @functools.wraps(fn)
    def wrapper(tensor: Tensor, *args, **kwargs):
        with _backend.on_device(tensor.device):
            return fn(tensor, *args, **kwargs)

    return wrapper


def _fill_uniform(tensor: Tensor, a: float, b: float, generator) -> Tensor:
    _check_float(tensor, "check_uniform_bounds")
    if a > b:
        # numbers printed as C++ streams print doubles (PyTorch's text): 1, 0.5, 1e-07
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} "
                           f"> to={b:g}")
    return _write(tensor, _uniform(tensor, tensor._data.shape, a, b, generator))


def _fill_normal(tensor: Tensor, mean: float, std: float, generator) -> Tensor:
    _check_float(tensor, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _write(tensor, _normal(tensor, tensor._data.shape, mean, std, generator))


def _fill_value(tensor: Tensor, val) -> Tensor:
    xp = array_module(tensor._data)
    with _backend.on_device(tensor.device):
        arr = xp.asarray(val).astype(tensor._data.dtype)
    return _write(tensor, arr)


# ---------------------------------------------------------------------------------------------
# gain and fans
# ---------------------------------------------------------------------------------------------

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table: 1 for linear/conv/sigmoid,
    5/3 tanh, sqrt(2) relu, sqrt(2 / (1 + slope^2)) leaky_relu (slope 0.01 by default),
    3/4 selu)."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or \
                isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        # 3/4 keeps the variance of SELU's input stable (PyTorch's choice, not the paper's 1)
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)``: ``size(1)`` and ``size(0)`` times the receptive field size."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    shape = tensor._data.shape
    receptive_field_size = 1
    for s in shape[2:]:
        receptive_field_size *= s
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ---------------------------------------------------------------------------------------------
# initialisers
# ---------------------------------------------------------------------------------------------

def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with samples of U(a, b)."""
    return _fill_uniform(tensor, a, b, generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    return _fill_normal(tensor, mean, std, generator)


@_on_tensor_device
def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with samples of N(mean, std^2) conditioned on [a, b] (exactly, by rejection).

    Like PyTorch: normal proposals redrawn where they fall outside [a, b] when that interval
    holds more than 30% of the mass, else uniform proposals on [a, b] accepted with the
    normal density relative to its peak on the interval. Only rejected elements are redrawn.
    """
    _check_float(tensor, "normal_kernel_cpu")

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    n = tensor.numel()
    xp = array_module(tensor._data)
    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    if p > 0.3:
        out = _normal(tensor, (n,), mean, std, generator)
        pending = xp.nonzero((out < a) | (out > b))[0]
        while pending.size:
            out[pending] = _normal(tensor, (pending.size,), mean, std, generator)
            sub = out[pending]
            pending = pending[(sub < a) | (sub > b)]
    else:
        if a > b:  # PyTorch's uniform proposals on [a, b] refuse the empty range
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={float(a):g} > to={float(b):g}")
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def rejected(x):
            log_accept = -0.5 * ((x - mean) / std) ** 2 - log_peak
            u = _uniform(tensor, x.shape, 0.0, 1.0, generator)
            return xp.log(u) > log_accept

        out = _uniform(tensor, (n,), a, b, generator)
        pending = xp.nonzero(rejected(out))[0]
        while pending.size:
            cand = _uniform(tensor, (pending.size,), a, b, generator)
            out[pending] = cand
            pending = pending[rejected(cand)]
    return _write(tensor, out.reshape(tensor._data.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val`` (converted to the tensor's dtype)."""
    return _fill_value(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill_value(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill_value(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    xp = array_module(tensor._data)
    with _backend.on_device(tensor.device):
        arr = xp.eye(*tensor._data.shape, dtype=tensor._data.dtype)
    return _write(tensor, arr)


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D tensor with the Dirac delta: a convolution with it keeps the identity of
    as many input channels as possible in each of ``groups`` groups."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor._data.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    xp = array_module(tensor._data)
    with _backend.on_device(tensor.device):
        arr = xp.zeros(sizes, dtype=tensor._data.dtype)
        d = xp.arange(min_dim)
        g = xp.arange(groups)
        rows = (g[:, None] * out_per_group + d[None, :]).reshape(-1)
        cols = xp.tile(d, groups)
        centre = tuple(s // 2 for s in sizes[2:])
        arr[(rows, cols) + centre] = 1
    return _write(tensor, arr)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return _fill_uniform(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill_normal(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform: U(-bound, bound), bound = gain * sqrt(3 / fan), gain from
    ``calculate_gain(nonlinearity, a)``."""
    if 0 in tensor._data.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return _fill_uniform(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal: N(0, std^2), std = gain / sqrt(fan)."""
    if 0 in tensor._data.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return _fill_normal(tensor, 0, std, generator)


@_on_tensor_device
def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix over dims (0, rest), scaled by ``gain``: the Q of the QR
    decomposition of a normal matrix, with column signs fixed by diag(R) so that the result
    is uniformly (Haar) distributed."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    _check_float(tensor, "normal_kernel_cpu")
    rows = tensor._data.shape[0]
    cols = tensor.numel() // rows
    flat = _normal(tensor, (rows, cols), 0.0, 1.0, generator)
    if rows < cols:
        flat = flat.T
    xp = array_module(flat)
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor._data.shape))


@_on_tensor_device
def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """N(0, std^2) values with ``ceil(sparsity * rows)`` zeros at random rows of every column."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    _check_float(tensor, "normal_kernel_cpu")
    rows, cols = tensor._data.shape
    num_zeros = math.ceil(sparsity * rows)
    values = _normal(tensor, (rows, cols), 0.0, std, generator)
    if num_zeros and rows and cols:
        xp = array_module(values)
        # an independent random permutation of the rows for every column, all at once
        keys = _uniform(tensor, (rows, cols), 0.0, 1.0, generator)
        zero_rows = xp.argsort(keys, axis=0)[:num_zeros]
        values[zero_rows, xp.arange(cols)[None, :]] = 0
    return _write(tensor, values)


def _make_deprecate(meth: Callable) -> Callable:
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"Deprecated alias of ``{new_name}``."
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
