"""``torch.optim.Adamax``: the infinity-norm variant of Adam, in PyTorch's operation order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import Workspace, addcdiv_, grad_of, lerp_, mul_, scalar_type, update
from .optimizer import (
    Optimizer,
    ParamsT,
    _bump_step,
    _call_closure,
    _check_betas,
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

__all__ = ["Adamax", "adamax"]


def _adamax_kernel(p, g, exp_avg, exp_inf, out, tmp, beta1, beta2, eps, weight_decay,
                   maximize, clr):
    xp = array_module(p)
    g = grad_of(p, g, out, maximize, weight_decay, tmp)
    lerp_(exp_avg, g, 1 - beta1, tmp)
    # exp_inf = max(beta2 * exp_inf, |g| + eps)
    mul_(exp_inf, beta2)
    xp.abs(g, out=tmp)
    tmp += scalar_type(p.dtype)(eps)
    xp.maximum(exp_inf, tmp, out=exp_inf)
    addcdiv_(p, exp_avg, exp_inf, -clr, tmp)


def adamax(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
           exp_infs: list[Tensor], state_steps: list[Tensor], foreach: bool | None = None,
           maximize: bool = False, differentiable: bool = False, capturable: bool = False,
           has_complex: bool = False, *, eps: float, beta1: float, beta2: float,
           lr: float | Tensor, weight_decay: float,
           _workspace: Workspace | None = None, _key=None) -> None:
    """Functional Adamax (``torch.optim.adamax.adamax``), in place."""
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    rows, args = [], []
    for i in range(len(params)):
        step = _bump_step(state_steps[i])
        clr = lr / (1 - beta1 ** step)
        rows.append([exp_avgs[i], exp_infs[i]])
        args.append((beta1, beta2, eps, weight_decay, maximize, clr))
    update(_adamax_kernel, ws, 2, params, grads, rows, args, _key)


class Adamax(Optimizer):
    """``torch.optim.Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    foreach=None, *, maximize=False, differentiable=False, capturable=False)``.

    ``foreach`` is accepted and changes nothing; ``capturable`` (CUDA only, as in PyTorch)
    places ``step`` next to the parameter; ``differentiable=True`` raises NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
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
            params, grads, exp_avgs, exp_infs, state_steps = [], [], [], [], []
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                params.append(p)
                grads.append(grad)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                exp_avgs.append(state["exp_avg"])
                exp_infs.append(state["exp_inf"])
                state_steps.append(state["step"])
            beta1, beta2 = group["betas"]
            adamax(params, grads, exp_avgs, exp_infs, state_steps, eps=group["eps"],
                   beta1=beta1, beta2=beta2, lr=group["lr"],
                   weight_decay=group["weight_decay"], maximize=group["maximize"],
                   _workspace=ws, _key=id(group))
        return loss
