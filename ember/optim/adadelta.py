"""``torch.optim.Adadelta``: Adadelta with weight decay and ``maximize``, in PyTorch's operation
order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import Workspace, add_, addcmul_, grad_of, mul_, scalar_type, update
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

__all__ = ["Adadelta", "adadelta"]


def _adadelta_kernel(p, g, square_avg, acc_delta, out, delta, std, lr, rho, eps, weight_decay,
                     maximize):
    xp = array_module(p)
    e = scalar_type(p.dtype)(eps)
    g = grad_of(p, g, out, maximize, weight_decay, delta)
    mul_(square_avg, rho)
    addcmul_(square_avg, g, g, 1 - rho, delta)
    xp.add(square_avg, e, out=std)
    xp.sqrt(std, out=std)
    xp.add(acc_delta, e, out=delta)
    xp.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    mul_(acc_delta, rho)
    addcmul_(acc_delta, delta, delta, 1 - rho, std)
    add_(p, delta, -lr, std)


def adadelta(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor],
             acc_deltas: list[Tensor], state_steps: list[Tensor], capturable: bool = False,
             foreach: bool | None = None, differentiable: bool = False,
             has_complex: bool = False, *, lr: float | Tensor, rho: float, eps: float,
             weight_decay: float, maximize: bool, _workspace: Workspace | None = None,
             _key=None) -> None:
    """Functional Adadelta (``torch.optim.adadelta.adadelta``), in place."""
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    for step in state_steps:
        _bump_step(step)
    rows = [[s, d] for s, d in zip(square_avgs, acc_deltas)]
    args = [(lr, rho, eps, weight_decay, maximize)] * len(params)
    update(_adadelta_kernel, ws, 3, params, grads, rows, args, _key)


class Adadelta(Optimizer):
    """``torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None,
    *, capturable=False, maximize=False, differentiable=False)``.

    ``foreach`` is accepted and changes nothing; ``capturable`` (CUDA only, as in PyTorch)
    places ``step`` next to the parameter; ``differentiable=True`` raises NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_eps(eps)
        _check_weight_decay(weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"foreach": None, "maximize": False, "differentiable": False,
                               "capturable": False})

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            params, grads, square_avgs, acc_deltas, state_steps = [], [], [], [], []
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
                    state["acc_delta"] = _zeros_like(p)
                square_avgs.append(state["square_avg"])
                acc_deltas.append(state["acc_delta"])
                state_steps.append(state["step"])
            adadelta(params, grads, square_avgs, acc_deltas, state_steps, lr=group["lr"],
                     rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
                     maximize=group["maximize"], _workspace=ws, _key=id(group))
        return loss
