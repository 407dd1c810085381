"""``torch.optim.SGD``: stochastic gradient descent with momentum, dampening, Nesterov momentum,
weight decay and ``maximize``, with PyTorch's update order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import Workspace, add_, grad_of, mul_, scalar_type, update
from .optimizer import (
    Optimizer,
    ParamsT,
    _call_closure,
    _check_fused,
    _check_not_differentiable,
    _no_grad_step,
    _value,
)

__all__ = ["SGD", "sgd"]


def _sgd_kernel(p, g, buf, out, tmp, lr, weight_decay, momentum, dampening, nesterov,
                maximize, first):
    xp = array_module(p)
    g = grad_of(p, g, out, maximize, weight_decay, tmp)
    upd = g
    if momentum != 0:
        if first:  # the first buffer is a copy of the (decayed) gradient
            buf[...] = g
        else:
            mul_(buf, momentum)
            add_(buf, g, 1 - dampening, tmp)
        if nesterov:
            xp.multiply(buf, scalar_type(p.dtype)(momentum), out=tmp)
            tmp += g
            upd = tmp
        else:
            upd = buf
    add_(p, upd, -lr, tmp)


def sgd(params: list[Tensor], d_p_list: list[Tensor], momentum_buffer_list: list,
        has_sparse_grad: bool = False, foreach: bool | None = None, fused: bool | None = None,
        grad_scale=None, found_inf=None, *, weight_decay: float, momentum: float, lr: float,
        dampening: float, nesterov: bool, maximize: bool, _workspace: Workspace | None = None,
        _key=None) -> None:
    """Functional SGD (``torch.optim.sgd.sgd``): updates ``params`` in place and fills
    ``momentum_buffer_list`` entries that are None with new buffers."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("grad_scale/found_inf (AMP gradient scaling) are not "
                                  "supported by ember's SGD")
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(lr)
    rows, args = [], []
    for i, param in enumerate(params):
        buf = None
        first = False
        if momentum != 0:
            buf = momentum_buffer_list[i]
            if buf is None:
                buf = momentum_buffer_list[i] = Tensor._make(
                    array_module(param._data).empty_like(param._data))
                first = True
        rows.append([buf])
        args.append((lr, weight_decay, momentum, dampening, nesterov, maximize, first))
    update(_sgd_kernel, ws, 2, params, d_p_list, rows, args, _key)


class SGD(Optimizer):
    """``torch.optim.SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
    nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None)``.

    Same update as PyTorch's single-tensor implementation (the momentum buffer starts as a copy
    of the gradient). ``foreach`` and ``fused`` are accepted and change nothing (ember has one
    implementation); ``differentiable=True`` raises NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float | Tensor = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_fused(fused, foreach, differentiable)
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"nesterov": False, "maximize": False, "foreach": None,
                               "differentiable": False, "fused": False}, ())

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            momentum = group["momentum"]
            params, grads, bufs = [], [], []
            for p in group["params"]:
                if p.grad is not None:
                    params.append(p)
                    grads.append(p.grad)
                    if momentum != 0:
                        bufs.append(self.state[p].get("momentum_buffer"))
            sgd(params, grads, bufs, weight_decay=_value(group["weight_decay"]),
                momentum=momentum, lr=group["lr"], dampening=group["dampening"],
                nesterov=group["nesterov"], maximize=group["maximize"], _workspace=ws,
                _key=id(group))
            if momentum != 0:
                for p, buf in zip(params, bufs):
                    self.state[p]["momentum_buffer"] = buf
        return loss
