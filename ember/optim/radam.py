"""``torch.optim.RAdam``: rectified Adam (optional decoupled weight decay), in PyTorch's
operation order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import Workspace, addcmul_, grad_of, lerp_, mul_, scalar_type, update
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

__all__ = ["RAdam", "radam"]


def _radam_kernel(p, g, exp_avg, exp_avg_sq, out, tmp, beta1, beta2, lr, weight_decay, eps,
                  maximize, decoupled, bias_correction1, bias_correction2, rect):
    xp = array_module(p)
    st = scalar_type(p.dtype)
    if weight_decay != 0 and decoupled:
        mul_(p, 1 - lr * weight_decay)
        g = grad_of(p, g, out, maximize, 0)
    else:
        g = grad_of(p, g, out, maximize, weight_decay, tmp)
    lerp_(exp_avg, g, 1 - beta1, tmp)
    mul_(exp_avg_sq, beta2)
    addcmul_(exp_avg_sq, g, g, 1 - beta2, tmp)
    update = out  # the gradient is no longer needed
    xp.divide(exp_avg, st(bias_correction1), out=update)
    update *= st(lr)
    if rect is not None:
        # adaptive lr = sqrt(bias_correction2) / (sqrt(v) + eps), written as PyTorch's
        # `float / tensor` evaluates it: reciprocal, then multiply
        xp.sqrt(exp_avg_sq, out=tmp)
        tmp += st(eps)
        xp.reciprocal(tmp, out=tmp)
        tmp *= st(bias_correction2 ** 0.5)
        update *= tmp
        update *= st(rect)
    p -= update


def radam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
          exp_avg_sqs: list[Tensor], state_steps: list[Tensor],
          decoupled_weight_decay: bool = False, foreach: bool | None = None,
          differentiable: bool = False, capturable: bool = False, has_complex: bool = False,
          maximize: bool = False, *, beta1: float, beta2: float, lr: float | Tensor,
          weight_decay: float, eps: float, _workspace: Workspace | None = None,
          _key=None) -> None:
    """Functional RAdam (``torch.optim.radam.radam``), in place."""
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    rho_inf = 2 / (1 - beta2) - 1
    rows, args = [], []
    for i in range(len(params)):
        step = _bump_step(state_steps[i])
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rect = None
        if rho_t > 5.0:  # the variance is tractable: rectify
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        rows.append([exp_avgs[i], exp_avg_sqs[i]])
        args.append((beta1, beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay,
                     bias_correction1, bias_correction2, rect))
    update(_radam_kernel, ws, 2, params, grads, rows, args, _key)


class RAdam(Optimizer):
    """``torch.optim.RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
    differentiable=False)``.

    ``foreach`` is accepted and changes nothing; ``capturable`` (CUDA only, as in PyTorch)
    places ``step`` next to the parameter; ``differentiable=True`` raises NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"foreach": None, "maximize": False, "differentiable": False,
                               "decoupled_weight_decay": False, "capturable": False})

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, state_steps = [], [], [], [], []
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
                    state["exp_avg_sq"] = _zeros_like(p)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                state_steps.append(state["step"])
            beta1, beta2 = group["betas"]
            radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, beta1=beta1, beta2=beta2,
                  lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                  maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"], _workspace=ws,
                  _key=id(group))
        return loss
