"""``torch.autograd``: reverse-mode automatic differentiation over a dynamic graph."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from .._tensor import Tensor
from . import anomaly_mode, engine, function, grad_mode, graph
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "Variable", "gradcheck", "gradgradcheck", "functional", "graph"]

Variable = Tensor  # PyTorch's deprecated alias


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _seed_grads(outputs, grad_outputs, create_graph: bool):
    from ..ops import _util

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            # (an output that needs no grad gets the engine's "does not require grad" error)
            if out._rg and out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._rg and not out.is_floating_point():
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype}")
            g = _util.ones_like_tensor(out)
        else:
            if not isinstance(g, Tensor):
                g = _util.full_like_tensor(out, g)
            if g.device != out.device:
                if g._data.ndim or not g.is_cpu:  # (a 0-d CPU gradient is moved, as in PyTorch)
                    raise RuntimeError(f"invalid gradient at index {i} - expected device "
                                       f"{out.device} but got {g.device}")
                g = g.to(out.device)
            if g._data.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output"
                    f"[{i}] has a shape of {out.shape}.")
            if g.is_complex() != out.is_complex():
                raise RuntimeError(
                    f"For complex Tensors, both grad_output and output are required to have "
                    f"the same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of "
                    f"{g.dtype} and output[{i}] has a dtype of {out.dtype}.")
            if not create_graph:
                g = g.detach()
            if g._data.dtype != out._data.dtype:
                g = _util.cast(g, out.dtype)  # the engine takes seeds in the output's dtype
        seeds.append(g)
    return seeds


_cycle_warned = False


def _warn_create_graph_cycle() -> None:
    """PyTorch warns once per process: a graph-connected .grad refers back to its leaf."""
    global _cycle_warned
    if not _cycle_warned:
        _cycle_warned = True
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the "
            "parameter and its gradient which can cause a memory leak. We recommend using "
            "autograd.grad when creating the graph to avoid this. If you have to use this "
            "function, make sure to reset the .grad fields of your parameters to None after use "
            "to break the cycle and avoid the leak.", UserWarning, stacklevel=3)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """``torch.autograd.backward``: accumulate d(tensors)/d(leaves) into the leaves' ``.grad``."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) if not isinstance(grad_tensors, Tensor) \
        else (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    seeds = _seed_grads(tensors, grad_tensors, create_graph)
    if create_graph:
        _warn_create_graph_cycle()
    results = engine.run_backward(tensors, seeds, retain_graph, create_graph, inputs=inputs,
                                  allow_unused=True, accumulate=True)
    if inputs is not None and results is not None:
        # Non-leaf inputs: their gradient is accumulated into their .grad, as in PyTorch.
        for t, g in zip(inputs, results):
            # (one that retains its grad already got it from its retain_grad hook)
            if t._grad_fn is not None and g is not None and not t._retains_grad:
                t._grad = g.detach() if t._grad is None else t._grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False):
    """``torch.autograd.grad``: gradients of ``outputs`` w.r.t. ``inputs``, without touching
    any ``.grad``."""
    if is_grads_batched:
        return _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    single = isinstance(inputs, Tensor)
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads="
                         "True, but got: allow_unused=False.")
    if isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    elif isinstance(grad_outputs, Sequence):
        grad_outputs = tuple(grad_outputs)
    if not inputs_t:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seed_grads(outputs, grad_outputs, create_graph)
    res = engine.run_backward(outputs, seeds, retain_graph, create_graph, inputs=inputs_t,
                              allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        from ..ops import _util

        res = tuple(_util.zeros_like_tensor(i) if r is None else r
                    for r, i in zip(res, inputs_t))
    if not create_graph:
        res = tuple(None if r is None else (r.detach() if r._grad_fn is not None else r)
                    for r in res)
    return res if not single else res


def _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads) -> tuple:
    """``grad(..., is_grads_batched=True)``: PyTorch vmaps the backward pass over the leading
    dim of every ``grad_outputs`` entry; ember runs one backward per batch entry (the same
    numbers) and stacks the results. Like PyTorch, ``materialize_grads`` gives unbatched zeros
    for an unused input."""
    from ..ops import _util
    from ..ops.shape import stack

    outputs, inputs_t = _as_tuple(outputs), _as_tuple(inputs)
    if grad_outputs is None:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    gos = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    sizes = []
    for g in gos:
        if g is not None:
            if g.dim() == 0:
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                                 "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a "
                                 "number")
            sizes.append(g.shape[0])
    if len(set(sizes)) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    n = sizes[0] if sizes else 1
    if retain_graph is None:
        retain_graph = create_graph
    per = [grad(outputs, inputs_t, [None if g is None else g[b] for g in gos],
                retain_graph=retain_graph if b == n - 1 else True, create_graph=create_graph,
                allow_unused=bool(allow_unused or materialize_grads)) for b in range(n)]
    res = []
    for i, inp in enumerate(inputs_t):
        col = [r[i] for r in per]
        if all(c is None for c in col):
            res.append(_util.zeros_like_tensor(inp) if materialize_grads else None)
            continue
        zero = _util.zeros_like_tensor(inp)
        res.append(stack([zero if c is None else c for c in col]))
    return tuple(res)


from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402
from . import functional  # noqa: E402
