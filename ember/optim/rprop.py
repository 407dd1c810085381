"""``torch.optim.Rprop``: resilient backpropagation (sign-based step sizes), as PyTorch
computes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import array_module
from .._tensor import Tensor
from ._kernels import Workspace, grad_of, update
from .optimizer import (
    Optimizer,
    ParamsT,
    _bump_step,
    _call_closure,
    _check_capturable,
    _check_lr,
    _check_not_differentiable,
    _full_like,
    _no_grad_step,
    _scalar_state,
    _to_scalar,
    _value,
    _zeros_like,
)

__all__ = ["Rprop", "rprop"]


def _rprop_kernel(p, g, prev, step_size, out, sign, etaminus, etaplus, step_size_min,
                  step_size_max, maximize):
    xp = array_module(p)
    dt = p.dtype.type
    g = grad_of(p, g, out, maximize, 0)
    xp.multiply(g, prev, out=sign)
    xp.sign(sign, out=sign)
    # masks first: the values written (etaplus, etaminus, 1) are all positive, so PyTorch's
    # sequential masked writes select the same elements
    pos, neg, zero = sign > 0, sign < 0, sign == 0
    xp.copyto(sign, dt(etaplus), where=pos)
    xp.copyto(sign, dt(etaminus), where=neg)
    xp.copyto(sign, dt(1), where=zero)
    step_size *= sign
    xp.clip(step_size, dt(step_size_min), dt(step_size_max), out=step_size)
    # where the gradient changed sign, it counts as zero (no step, and no sign next time)
    if g is not out:
        out[...] = g
    xp.copyto(out, dt(0), where=(sign == dt(etaminus)))
    prev[...] = out
    xp.sign(out, out=out)
    out *= step_size
    p -= out


def rprop(params: list[Tensor], grads: list[Tensor], prevs: list[Tensor],
          step_sizes: list[Tensor], state_steps: list[Tensor], foreach: bool | None = None,
          capturable: bool = False, maximize: bool = False, differentiable: bool = False,
          has_complex: bool = False, *, step_size_min: float, step_size_max: float,
          etaminus: float, etaplus: float, _workspace: Workspace | None = None,
          _key=None) -> None:
    """Functional Rprop (``torch.optim.rprop.rprop``), in place."""
    _check_not_differentiable(differentiable)
    _check_capturable(params, capturable)
    ws = _workspace if _workspace is not None else Workspace()
    for step in state_steps:
        _bump_step(step)
    args = [(etaminus, etaplus, step_size_min, step_size_max, maximize)] * len(params)
    update(_rprop_kernel, ws, 2, params, grads, [[a, b] for a, b in zip(prevs, step_sizes)],
           args, _key)


class Rprop(Optimizer):
    """``torch.optim.Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
    capturable=False, foreach=None, maximize=False, differentiable=False)``.

    ``foreach`` is accepted and changes nothing; ``capturable`` (CUDA only, as in PyTorch)
    places ``step`` next to the parameter; ``differentiable=True`` raises NotImplementedError.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
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
            params, grads, prevs, step_sizes, state_steps = [], [], [], [], []
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                params.append(p)
                grads.append(grad)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0, p if group["capturable"] else None)
                    state["prev"] = _zeros_like(p)
                    lr = _value(_to_scalar(group["lr"]))
                    state["step_size"] = _full_like(grad, complex(lr, lr) if p.is_complex()
                                                    else lr)
                prevs.append(state["prev"])
                step_sizes.append(state["step_size"])
                state_steps.append(state["step"])
            rprop(params, grads, prevs, step_sizes, state_steps, step_size_min=step_size_min,
                  step_size_max=step_size_max, etaminus=etaminus, etaplus=etaplus,
                  maximize=group["maximize"], _workspace=ws, _key=id(group))
        return loss
