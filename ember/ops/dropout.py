"""Dropout: ``dropout``, ``dropout1d/2d/3d``, ``alpha_dropout``, ``feature_alpha_dropout``
(``torch.nn.functional``).

These follow PyTorch's CPU implementation: a noise tensor (one value per element, or per
(sample, channel) for the feature variants) drawn from ember's generator, then ``input * noise``
(``MulBackward0``; backward multiplies by the same noise) or, for alpha dropout,
``input * noise + b`` (``AddBackward0``). Outside training, with ``p == 0`` or on an empty
input the input itself is returned; ``p == 1`` multiplies by zero (so NaN stays NaN).

The keep mask is drawn as float32 uniforms and turned into the scaled noise in place
(``floor(u + 1 - p) / (1 - p)``), so a float32 input costs one float32 temporary and no float64
ones. The RNG stream is ember's own: masks are reproducible under ``ember.manual_seed`` but are
not PyTorch's bit patterns.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _backend, _dtype
from .._backend import array_module, rng_for
from .._tensor import Tensor, _legacy_scalar_name
from . import _util
from . import shape as _shape

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_F32 = np.dtype(np.float32)
# -SELU saturation value (scale * alpha of SELU), PyTorch's constant for alpha dropout
_ALPHA = 1.7580993408473766


def _check_input(input, fname: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def _check_p(p) -> float:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _keep_mask(input: Tensor, shape, p: float):
    """A 0/1 float32 array of ``shape``: 1 with probability ``1 - p``."""
    rng = rng_for(input.device, None)
    xp = array_module(input._data)
    with _backend.on_device(input.device):
        u = rng.random(shape, dtype=_F32)
        # floor(u + 1 - p) is 1 exactly when u >= p, computed in the uniforms' own buffer
        u += xp.float32(1.0 - p)
        xp.floor(u, out=u)
    return u


def _noise_shape(input: Tensor, feature: bool) -> tuple:
    shape = input._data.shape
    if not feature:
        return shape
    if len(shape) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _check_noise_dtype(input: Tensor) -> None:
    npd = input._data.dtype
    if npd.kind == "c":
        raise NotImplementedError(f"\"bernoulli_scalar_cpu_\" not implemented for "
                                  f"'{_legacy_scalar_name(input.dtype)}'")
    if npd.kind not in "f" and npd != _dtype._BF16_NP:
        # PyTorch divides the (input-typed) noise by 1 - p in place
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_legacy_scalar_name(input.dtype)}")


def _dropout_impl(input: Tensor, p: float, train: bool, feature: bool, alpha: bool,
                  inplace: bool) -> Tensor:
    if p == 0 or not train or input.numel() == 0:
        return input
    xp = array_module(input._data)
    if p == 1:
        zero = Tensor._make(xp.zeros((), dtype=input._data.dtype))
        return input.mul_(zero) if inplace else input * zero
    shape = _noise_shape(input, feature)
    _check_noise_dtype(input)
    if inplace:
        _util.check_inplace(input)
    npd = input._data.dtype
    keep = _keep_mask(input, shape, p)
    # arithmetic in float64 for float64 input, else float32 (PyTorch's scalar math type)
    work = npd.type if npd == np.float64 else np.float32
    if npd == np.float64:
        keep = keep.astype(npd)
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = keep - work(1)
        b *= work(_ALPHA * a)
        b += work(_ALPHA * a * p)
        keep *= work(a)
        noise = Tensor._make(keep.astype(npd, copy=False))
        bias = Tensor._make(b.astype(npd, copy=False))
        if inplace:
            return input.mul_(noise).add_(bias)
        return input * noise + bias
    keep /= work(1.0 - p)
    noise = Tensor._make(keep.astype(npd, copy=False))
    return input.mul_(noise) if inplace else input * noise


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """``torch.nn.functional.dropout``: zero each element with probability ``p`` and scale the
    rest by ``1 / (1 - p)`` (only when ``training``)."""
    _check_input(input, "dropout")
    p = _check_p(p)
    return _dropout_impl(input, p, bool(training), False, False, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """``torch.nn.functional.alpha_dropout``: dropout that keeps zero mean and unit variance
    of SELU activations (dropped elements take the SELU saturation value, then an affine
    correction)."""
    _check_input(input, "alpha_dropout")
    p = _check_p(p)
    return _dropout_impl(input, p, bool(training), False, True, inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``torch.nn.functional.feature_alpha_dropout``: alpha dropout of whole channels."""
    _check_input(input, "feature_alpha_dropout")
    p = _check_p(p)
    return _dropout_impl(input, p, bool(training), True, True, inplace)


def _feature_dropout_unbatched(input: Tensor, p: float, training: bool, inplace: bool,
                               batched: bool) -> Tensor:
    if not batched:
        input = _shape.unsqueeze_(input, 0) if inplace else _shape.unsqueeze(input, 0)
    result = _dropout_impl(input, p, bool(training), True, False, inplace)
    if not batched:
        result = _shape.squeeze_(result, 0) if inplace else _shape.squeeze(result, 0)
    return result


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """``torch.nn.functional.dropout1d``: zero whole channels of (N, C, L) or (C, L) input."""
    _check_input(input, "dropout1d")
    p = _check_p(p)
    d = input.ndim
    if d not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {d}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on inputs "
                           "with 1 spatial dimension, a channel dimension, and an optional batch "
                           "dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout_unbatched(input, p, training, inplace, d == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """``torch.nn.functional.dropout2d``: zero whole channels of (N, C, H, W) input.

    As in PyTorch, 3-D input is treated as (N, C, L) with a warning, and other ranks warn that
    they are deprecated.
    """
    _check_input(input, "dropout2d")
    p = _check_p(p)
    d = input.ndim
    if d not in (3, 4):
        warnings.warn(f"dropout2d: Received a {d}-D input to dropout2d, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior and "
                      "silence this warning, please use dropout instead. Note that dropout2d "
                      "exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
                      "or 4D inputs).", stacklevel=2)
    if d == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", stacklevel=2)
    return _dropout_impl(input, p, bool(training), True, False, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """``torch.nn.functional.dropout3d``: zero whole channels of (N, C, D, H, W) or
    (C, D, H, W) input."""
    _check_input(input, "dropout3d")
    p = _check_p(p)
    d = input.ndim
    if d not in (4, 5):
        warnings.warn(f"dropout3d: Received a {d}-D input to dropout3d, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior and "
                      "silence this warning, please use dropout instead. Note that dropout3d "
                      "exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
                      "or 5D inputs).", stacklevel=2)
    return _feature_dropout_unbatched(input, p, training, inplace, d == 5)
