"""``torch.optim.Adam``: Adam with AMSGrad, L2 or decoupled weight decay and ``maximize``,
computed in PyTorch's single-tensor operation order."""

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
    _check_capturable,
    _check_eps,
    _check_fused,
    _check_not_differentiable,
    _check_weight_decay,
    _no_grad_step,
    _scalar_state,
    _to_scalar,
    _value,
    _zeros_like,
)

__all__ = ["Adam", "adam"]


def _adam_kernel(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, out, tmp, beta1, beta2, lr,
                 weight_decay, eps, maximize, decoupled, step_size, bias_correction2_sqrt):
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
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = out  # the gradient is no longer needed
    xp.sqrt(second, out=denom)
    denom /= st(bias_correction2_sqrt)
    denom += st(eps)
    addcdiv_(p, exp_avg, denom, -step_size, tmp)


def adam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
         exp_avg_sqs: list[Tensor], max_exp_avg_sqs: list[Tensor], state_steps: list[Tensor],
         foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
         fused: bool | None = None, grad_scale=None, found_inf=None, has_complex: bool = False,
         decoupled_weight_decay: bool = False, *, amsgrad: bool, beta1: float, beta2: float,
         lr: float | Tensor, weight_decay: float, eps: float, maximize: bool,
         _workspace: Workspace | None = None, _key=None) -> None:
    """Functional Adam (``torch.optim.adam.adam``): increments each ``state_steps`` tensor and
    updates parameters and moments in place."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("grad_scale/found_inf (AMP gradient scaling) are not "
                                  "supported by ember's Adam")
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    beta1 = _value(_to_scalar(beta1))
    beta2 = _value(_to_scalar(beta2))
    rows, args = [], []
    for i in range(len(params)):
        step = _bump_step(state_steps[i])
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        rows.append([exp_avgs[i], exp_avg_sqs[i], max_exp_avg_sqs[i] if amsgrad else None])
        args.append((beta1, beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay,
                     step_size, bias_correction2_sqrt))
    update(_adam_kernel, ws, 2, params, grads, rows, args, _key)


class Adam(Optimizer):
    """``torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    amsgrad=False, *, foreach=None, maximize=False, capturable=False, differentiable=False,
    fused=None, decoupled_weight_decay=False)``.

    PyTorch's single-tensor update. ``foreach``/``fused`` are accepted and change nothing;
    ``capturable``/``fused`` only place the ``step`` tensor next to the parameter (as PyTorch
    does; ``capturable`` is for CUDA parameters only, as in PyTorch), the arithmetic is the same;
    ``differentiable=True`` raises NotImplementedError.
    Complex parameters are updated through their real view, as in PyTorch.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and "
                                 "foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        _check_eps(eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_weight_decay(weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(_to_scalar(b) for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        _check_fused(fused, foreach, differentiable)
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"amsgrad": False, "maximize": False, "foreach": None,
                               "capturable": False, "differentiable": False,
                               "decoupled_weight_decay": False, "fused": None})

    def _init_group(self, group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                    state_steps) -> bool:
        has_complex = False
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            has_complex |= p.is_complex()
            params.append(p)
            grads.append(grad)
            state = self.state[p]
            if len(state) == 0:
                on_device = group["capturable"] or group["fused"]
                state["step"] = _scalar_state(0.0, p if on_device else None, group["fused"])
                state["exp_avg"] = _zeros_like(p)
                state["exp_avg_sq"] = _zeros_like(p)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = _zeros_like(p)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if group["amsgrad"]:
                max_exp_avg_sqs.append(state["max_exp_avg_sq"])
            state_steps.append(state["step"])
        return has_complex

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps = (
                [], [], [], [], [], [])
            beta1, beta2 = group["betas"]
            has_complex = self._init_group(group, params, grads, exp_avgs, exp_avg_sqs,
                                           max_exp_avg_sqs, state_steps)
            adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                 amsgrad=group["amsgrad"], has_complex=has_complex, beta1=beta1, beta2=beta2,
                 lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                 maximize=group["maximize"], decoupled_weight_decay=group[
                     "decoupled_weight_decay"], _workspace=ws, _key=id(group))
        return loss
