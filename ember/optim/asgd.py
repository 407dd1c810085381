"""``torch.optim.ASGD``: averaged stochastic gradient descent, in PyTorch's operation order
(``eta`` and ``mu`` are float32 scalar tensors, like PyTorch's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import Workspace, add_, grad_of, mul_, scalar_type, update
from .optimizer import (
    Optimizer,
    ParamsT,
    _bump_step,
    _call_closure,
    _check_capturable,
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

__all__ = ["ASGD", "asgd"]


def _asgd_kernel(p, g, ax, out, tmp, weight_decay, maximize, eta, lambd, mu):
    g = grad_of(p, g, out, maximize, weight_decay, tmp)
    mul_(p, 1 - lambd * eta)  # decay term
    add_(p, g, -eta, tmp)
    if mu != 1:  # averaging
        array_module(p).subtract(p, ax, out=tmp)
        tmp *= scalar_type(p.dtype)(mu)
        ax += tmp
    else:
        ax[...] = p


def asgd(params: list[Tensor], grads: list[Tensor], axs: list[Tensor], mus: list[Tensor],
         etas: list[Tensor], state_steps: list[Tensor], foreach: bool | None = None,
         maximize: bool = False, differentiable: bool = False, capturable: bool = False,
         has_complex: bool = False, *, lambd: float, lr: float | Tensor, t0: float,
         alpha: float, weight_decay: float, _workspace: Workspace | None = None,
         _key=None) -> None:
    """Functional ASGD (``torch.optim.asgd.asgd``), in place."""
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    args = []
    for i in range(len(params)):
        step = _bump_step(state_steps[i])
        eta, mu = etas[i], mus[i]
        # the update uses eta and mu from before this step; their new values follow
        args.append((weight_decay, maximize, float(eta._data), lambd, float(mu._data)))
        _set_scalar(eta, lr / ((1 + lambd * lr * step) ** alpha))
        _set_scalar(mu, 1 / max(1, step - t0))
    update(_asgd_kernel, ws, 2, params, grads, [[a] for a in axs], args, _key)


class ASGD(Optimizer):
    """``torch.optim.ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
    foreach=None, maximize=False, differentiable=False, capturable=False)``.

    ``step``, ``eta`` and ``mu`` are 0-d tensors on the parameter's device, as in PyTorch.
    ``foreach`` and ``capturable`` (CUDA only, as in PyTorch) change nothing;
    ``differentiable=True`` raises NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        _check_weight_decay(weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"foreach": None, "maximize": False, "differentiable": False,
                               "capturable": False}, ("step", "eta", "mu"), device_keys=True)

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            params, grads, mus, axs, etas, state_steps = [], [], [], [], [], []
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                params.append(p)
                grads.append(grad)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p)
                    state["eta"] = _scalar_state(_value(_to_scalar(group["lr"])), p)
                    state["mu"] = _scalar_state(1.0, p)
                    state["ax"] = _zeros_like(p)
                mus.append(state["mu"])
                axs.append(state["ax"])
                etas.append(state["eta"])
                state_steps.append(state["step"])
            asgd(params, grads, axs, mus, etas, state_steps, lambd=group["lambd"],
                 lr=group["lr"], t0=group["t0"], alpha=group["alpha"],
                 weight_decay=group["weight_decay"], maximize=group["maximize"],
                 _workspace=ws, _key=id(group))
        return loss
