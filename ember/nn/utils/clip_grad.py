"""Gradient clipping (``torch.nn.utils.clip_grad``): ``clip_grad_norm_``, ``clip_grad_value_``,
``get_total_norm`` and ``clip_grads_with_norm_``, with PyTorch's arithmetic (per-tensor norms,
then the norm of the norms; scale ``max_norm / (total + 1e-6)`` clamped to 1)."""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Iterable

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]


def _no_grad(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with no_grad():
            return fn(*args, **kwargs)
    return wrapper


def _as_list(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


@_no_grad
def _get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """``torch.nn.utils.get_total_norm``: the ``norm_type`` norm of the per-tensor norms of
    ``tensors`` (a 0-d tensor on the first tensor's device; 0. for no tensors). ``foreach``
    is accepted; ember computes the same norms either way."""
    from ...ops.creation import tensor
    from ...ops.linalg import linalg_vector_norm
    from ...ops.shape import stack

    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return tensor(0.0)
    first = tensors[0].device
    norms = [linalg_vector_norm(g, norm_type) for g in tensors]
    norms = [n if n.device == first else n.to(first) for n in norms]
    total = linalg_vector_norm(stack(norms), norm_type)
    if error_if_nonfinite and bool((total.isnan() | total.isinf()).item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return total


@_no_grad
def _clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                           total_norm: Tensor, foreach: bool | None = None) -> None:
    """``torch.nn.utils.clip_grads_with_norm_``: scale every ``.grad`` in place by
    ``min(max_norm / (total_norm + 1e-6), 1)``."""
    from ...ops.pointwise import clamp

    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    coef = clamp(max_norm / (total_norm + 1e-6), max=1.0)
    per_device: dict = {}
    for g in grads:
        dev = g.device
        if dev not in per_device:
            per_device[dev] = coef if coef.device == dev else coef.to(dev)
        g.mul_(per_device[dev])


@_no_grad
def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """``torch.nn.utils.clip_grad_norm_``: clip the gradients of ``parameters`` so that their
    total ``norm_type`` norm (``inf`` for the max-norm) is at most ``max_norm``; returns the
    total norm before clipping. ``error_if_nonfinite`` raises on a nan/inf total."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = _get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    _clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """``torch.nn.utils.clip_grad_norm`` (deprecated; warns): ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """``torch.nn.utils.clip_grad_value_``: clamp every ``.grad`` in place to
    ``[-clip_value, clip_value]``."""
    parameters = _as_list(parameters)
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)

