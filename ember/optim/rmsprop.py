"""``torch.optim.RMSprop``: RMSprop with centering, momentum, weight decay and ``maximize``, in
PyTorch's operation order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import (
    Workspace,
    add_,
    addcdiv_,
    addcmul_,
    grad_of,
    lerp_,
    mul_,
    scalar_type,
    update,
)
from .optimizer import (
    Optimizer,
    ParamsT,
    _bump_step,
    _call_closure,
    _check_capturable,
    _check_eps,
    _check_lr,
    _check_not_differentiable,
    _check_weight_decay,
    _no_grad_step,
    _scalar_state,
    _to_scalar,
    _value,
    _zeros_like,
)

__all__ = ["RMSprop", "rmsprop"]


def _rmsprop_kernel(p, g, square_avg, grad_avg, buf, out, tmp, avg, lr, alpha, eps,
                    weight_decay, momentum, maximize):
    xp = array_module(p)
    g = grad_of(p, g, out, maximize, weight_decay, tmp)
    mul_(square_avg, alpha)
    addcmul_(square_avg, g, g, 1 - alpha, tmp)
    if grad_avg is not None:  # centered: sqrt(E[g^2] - E[g]^2)
        lerp_(grad_avg, g, 1 - alpha, tmp)
        xp.negative(grad_avg, out=avg)
        avg *= grad_avg
        avg += square_avg
        xp.sqrt(avg, out=avg)
    else:
        xp.sqrt(square_avg, out=avg)
    avg += scalar_type(p.dtype)(eps)
    if buf is not None:
        mul_(buf, momentum)
        addcdiv_(buf, g, avg, 1, tmp)
        add_(p, buf, -lr, tmp)
    else:
        addcdiv_(p, g, avg, -lr, tmp)


def rmsprop(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor],
            grad_avgs: list[Tensor], momentum_buffer_list: list[Tensor],
            state_steps: list[Tensor], foreach: bool | None = None, maximize: bool = False,
            differentiable: bool = False, capturable: bool = False, has_complex: bool = False,
            *, lr: float | Tensor, alpha: float, eps: float, weight_decay: float,
            momentum: float, centered: bool, _workspace: Workspace | None = None,
            _key=None) -> None:
    """Functional RMSprop (``torch.optim.rmsprop.rmsprop``), in place."""
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    rows = []
    for i in range(len(params)):
        _bump_step(state_steps[i])
        rows.append([square_avgs[i], grad_avgs[i] if centered else None,
                     momentum_buffer_list[i] if momentum > 0 else None])
    args = [(lr, alpha, eps, weight_decay, momentum, maximize)] * len(params)
    update(_rmsprop_kernel, ws, 3, params, grads, rows, args, _key)


class RMSprop(Optimizer):
    """``torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
    momentum=0, centered=False, capturable=False, foreach=None, maximize=False,
    differentiable=False)``.

    ``foreach`` is accepted and changes nothing; ``capturable`` (CUDA only, as in PyTorch)
    places ``step`` next to the parameter; ``differentiable=True`` raises NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_eps(eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"momentum": 0, "centered": False, "foreach": None,
                               "maximize": False, "differentiable": False,
                               "capturable": False})

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            params, grads, square_avgs, grad_avgs, bufs, state_steps = [], [], [], [], [], []
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                params.append(p)
                grads.append(grad)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["square_avg"] = _zeros_like(p)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = _zeros_like(p)
                square_avgs.append(state["square_avg"])
                state_steps.append(state["step"])
                if group["momentum"] > 0:
                    bufs.append(state["momentum_buffer"])
                if group["centered"]:
                    grad_avgs.append(state["grad_avg"])
            rmsprop(params, grads, square_avgs, grad_avgs, bufs, state_steps, lr=group["lr"],
                    alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum=group["momentum"], centered=group["centered"],
                    maximize=group["maximize"], _workspace=ws, _key=id(group))
        return loss
