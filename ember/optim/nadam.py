"""``torch.optim.NAdam``: Adam with Nesterov momentum (momentum decay, optional decoupled weight
decay), in PyTorch's operation order; ``mu_product`` is kept in float32 like PyTorch's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import (
    Workspace,
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
    _check_betas,
    _check_capturable,
    _check_eps,
    _check_lr,
    _check_not_differentiable,
    _check_weight_decay,
    _no_grad_step,
    _scalar_state,
    _set_scalar,
    _to_scalar,
    _value,
    _zeros_like,
)

__all__ = ["NAdam", "nadam"]


def _nadam_kernel(p, g, exp_avg, exp_avg_sq, out, tmp, denom, beta1, beta2, lr, weight_decay,
                  eps, maximize, decoupled, bias_correction2, grad_coef, avg_coef):
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
    xp.divide(exp_avg_sq, st(bias_correction2), out=denom)
    xp.sqrt(denom, out=denom)
    denom += st(eps)
    addcdiv_(p, g, denom, grad_coef, tmp)
    addcdiv_(p, exp_avg, denom, avg_coef, tmp)


def nadam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
          exp_avg_sqs: list[Tensor], mu_products: list[Tensor], state_steps: list[Tensor],
          decoupled_weight_decay: bool = False, foreach: bool | None = None,
          capturable: bool = False, differentiable: bool = False, has_complex: bool = False,
          maximize: bool = False, *, beta1: float, beta2: float, lr: float | Tensor,
          weight_decay: float, momentum_decay: float, eps: float,
          _workspace: Workspace | None = None, _key=None) -> None:
    """Functional NAdam (``torch.optim.nadam.nadam``), in place."""
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    rows, args = [], []
    for i in range(len(params)):
        step = _bump_step(state_steps[i])
        bias_correction2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # mu_product is a 0-d tensor of the scalar dtype: the product is rounded to it
        mp_t = mu_products[i]
        mp_type = mp_t._data.dtype.type
        _set_scalar(mp_t, mp_type(float(mp_t._data)) * mp_type(mu))
        mu_product = float(mp_t._data)
        mu_product_next = mu_product * mu_next
        grad_coef = -lr * (1.0 - mu) / (1.0 - mu_product)
        avg_coef = (-lr * mu_next) / (1.0 - mu_product_next)
        rows.append([exp_avgs[i], exp_avg_sqs[i]])
        args.append((beta1, beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay,
                     bias_correction2, grad_coef, avg_coef))
    update(_nadam_kernel, ws, 3, params, grads, rows, args, _key)


class NAdam(Optimizer):
    """``torch.optim.NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
    capturable=False, differentiable=False)``.

    ``foreach`` is accepted and changes nothing; ``capturable`` (CUDA only, as in PyTorch)
    places the scalar state next to the parameter; ``differentiable=True`` raises
    NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"maximize": False, "foreach": None, "capturable": False,
                               "differentiable": False, "decoupled_weight_decay": False},
                              ("step", "mu_product"))

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps = (
                [], [], [], [], [], [])
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                params.append(p)
                grads.append(grad)
                state = self.state[p]
                if len(state) == 0:
                    where = p if group["capturable"] else None
                    state["step"] = _scalar_state(0.0, where)
                    state["mu_product"] = _scalar_state(1.0, where)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                mu_products.append(state["mu_product"])
                state_steps.append(state["step"])
            beta1, beta2 = group["betas"]
            nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps,
                  beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                  momentum_decay=group["momentum_decay"], eps=group["eps"],
                  maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"], _workspace=ws,
                  _key=id(group))
        return loss

