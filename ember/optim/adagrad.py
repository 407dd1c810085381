"""``torch.optim.Adagrad``: Adagrad with learning-rate decay, an initial accumulator value,
weight decay and ``maximize``, in PyTorch's operation order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import Workspace, addcdiv_, addcmul_, grad_of, scalar_type, update
from .optimizer import (
    Optimizer,
    ParamsT,
    _bump_step,
    _call_closure,
    _check_eps,
    _check_fused,
    _check_lr,
    _check_not_differentiable,
    _check_weight_decay,
    _full_like,
    _no_grad_step,
    _scalar_state,
    _to_scalar,
    _value,
)

__all__ = ["Adagrad", "adagrad"]


def _adagrad_kernel(p, g, state_sum, out, tmp, std, weight_decay, eps, maximize, clr):
    xp = array_module(p)
    g = grad_of(p, g, out, maximize, weight_decay, tmp)
    addcmul_(state_sum, g, g, 1, tmp)
    xp.sqrt(state_sum, out=std)
    std += scalar_type(p.dtype)(eps)
    addcdiv_(p, g, std, -clr, tmp)


def adagrad(params: list[Tensor], grads: list[Tensor], state_sums: list[Tensor],
            state_steps: list[Tensor], fused: bool | None = None, grad_scale=None,
            found_inf=None, has_sparse_grad: bool = False, foreach: bool | None = None,
            differentiable: bool = False, has_complex: bool = False, *, lr: float | Tensor,
            weight_decay: float, lr_decay: float, eps: float, maximize: bool,
            _workspace: Workspace | None = None, _key=None) -> None:
    """Functional Adagrad (``torch.optim.adagrad.adagrad``), in place."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("grad_scale/found_inf (AMP gradient scaling) are not "
                                  "supported by ember's Adagrad")
    _check_not_differentiable(differentiable)
    ws = _workspace if _workspace is not None else Workspace()
    lr = _value(_to_scalar(lr))
    args = []
    for step_t in state_steps:
        step = _bump_step(step_t)
        clr = lr / (1 + (step - 1) * lr_decay)
        args.append((weight_decay, eps, maximize, clr))
    update(_adagrad_kernel, ws, 3, params, grads, [[s] for s in state_sums], args, _key)


def _init_value(p: Tensor, value: float):
    return complex(value, value) if p.is_complex() else value


class Adagrad(Optimizer):
    """``torch.optim.Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0,
    initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
    differentiable=False, fused=None)``.

    State is created for every parameter at construction, as in PyTorch. ``foreach``/``fused``
    are accepted and change nothing (``fused`` makes ``step`` a float32 tensor next to the
    parameter, like PyTorch); ``differentiable=True`` raises NotImplementedError. ember has no
    sparse gradients, so the sparse branch of PyTorch's Adagrad does not arise.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        _check_eps(eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "fused": fused}
        _check_fused(fused, foreach, differentiable)
        _check_not_differentiable(differentiable)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0.0, p if group["fused"] else None,
                                              group["fused"])
                state["sum"] = _full_like(p, _init_value(p, initial_accumulator_value))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setstate_groups({"foreach": None, "maximize": False, "differentiable": False,
                               "fused": None})

    def share_memory(self) -> None:
        """``share_memory_()`` on the accumulators (for Hogwild-style training)."""
        sums = [self.state[p]["sum"] for group in self.param_groups for p in group["params"]]
        if sums and not hasattr(sums[0], "share_memory_"):
            raise NotImplementedError("Adagrad.share_memory(): ember tensors cannot be moved "
                                      "to shared memory (Tensor.share_memory_ is missing)")
        for s in sums:
            s.share_memory_()

    @_no_grad_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            params, grads, state_sums, state_steps = [], [], [], []
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                params.append(p)
                grads.append(grad)
                state = self.state[p]
                if len(state) == 0:  # a parameter added with add_param_group
                    state["step"] = _scalar_state(0.0, p if group["fused"] else None,
                                                  group["fused"])
                    state["sum"] = _full_like(p, _init_value(
                        p, self.defaults["initial_accumulator_value"]))
                state_sums.append(state["sum"])
                state_steps.append(state["step"])
            adagrad(params, grads, state_sums, state_steps, lr=group["lr"],
                    weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                    eps=group["eps"], maximize=group["maximize"], _workspace=ws,
                    _key=id(group))
        return loss
