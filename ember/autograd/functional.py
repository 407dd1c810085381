"""``torch.autograd.functional``: Jacobians, Hessians and vector products of whole functions.

Everything here is built on ``autograd.grad``: ``vjp`` is one backward pass, ``jvp`` and ``hvp``
use the double-backward trick (differentiate a backward pass with respect to its seed), and
``jacobian``/``hessian`` take one backward pass per output element. Input/output structure,
``strict`` and ``create_graph`` semantics and the error messages follow PyTorch.

Differences from PyTorch: ``vectorize=True`` is accepted but computes row by row (ember has no
vmap/batched gradients; the results are the same). ``strategy="forward-mode"`` (which PyTorch
only allows with ``vectorize=True``) is computed in reverse mode, with the result cast to the
output's dtype as PyTorch's forward mode gives.
"""

from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

Tensors = Tensor | tuple  # a Tensor or a tuple of Tensors (or, for results, nested tuples)

_STRATEGY_MSG = ('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                 'function has more outputs than inputs, "forward-mode" tends to be more '
                 'performant. Otherwise, prefer to use "reverse-mode".')


# ------------------------------------------------------------------------------------- helpers

def _tupled(value, what: str, fname: str) -> tuple[bool, tuple]:
    """(was it a tuple, the tensors as a tuple), with PyTorch's TypeError for non-tensors."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = (f"the value at index {i} has type {type(el)}." if is_tuple
                     else f"the given {what} has type {type(el)}.")
            raise TypeError(f"The {what} given to {fname} must be either a Tensor or a tuple of "
                            f"Tensors but {where}")
    return is_tuple, items


def _untuple(res, is_tuple: bool):
    return res if is_tuple else res[0]


def _untuple2(res, is_outer_tuple: bool, is_inner_tuple: bool):
    if not is_inner_tuple:
        res = tuple(r[0] for r in res)
    return res if is_outer_tuple else res[0]


def _fresh_inputs(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New tensor objects for the user function: a differentiable alias when the caller wants a
    graph back to its own inputs, else a detached leaf. A new object is always made, so that
    the inputs we differentiate are told apart from the same tensors captured by closure."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(tensors: tuple, create_graph: bool) -> tuple:
    """Detach results (recursively through nested tuples) unless a graph was asked for."""
    if create_graph:
        return tensors
    return tuple(_finish(t, False) if isinstance(t, tuple) else t.detach() for t in tensors)


def _check_v(v: tuple, ref: tuple, ref_is_tuple: bool) -> None:
    if len(v) != len(ref):
        if ref_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(ref)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, ref)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if ref_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}.")


def _strict_requires_grad(tensors, kind: str, strict: bool) -> None:
    """In strict mode, every tensor of ``tensors`` must take part in the graph."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs.")
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).")
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                "user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs "
            "must be computed in a differentiable manner from the input when running in strict "
            "mode.")


def _grad(outputs: tuple, inputs: tuple, grad_outputs=None, create_graph: bool = False,
          retain_graph: bool | None = None) -> tuple:
    """``autograd.grad`` that skips outputs which are None or need no gradient, and gives None
    for every input when nothing is differentiable."""
    from . import grad as autograd_grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    keep = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not keep:
        return (None,) * len(inputs)
    return autograd_grad(tuple(o for o, _ in keep), inputs, tuple(g for _, g in keep),
                         retain_graph=retain_graph, create_graph=create_graph,
                         allow_unused=True)


_MISSING = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward mode "
                         "AD.",
}


def _zeros_for_none(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                    stage: str) -> tuple:
    """Replace missing gradients by zeros (the mathematical value), or raise in strict mode."""
    from ..ops.creation import zeros_like

    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        out.append(g)
    return tuple(out)


def _no_v_error(subject: str) -> RuntimeError:
    return RuntimeError(f"The vector v can only be None if the {subject} is a single Tensor "
                        "with a single element.")


# ------------------------------------------------------------------------------------ public API

def vjp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``v^T J`` of ``func`` at ``inputs``; returns ``(func_output, vjp)``
    (``torch.autograd.functional.vjp``)."""
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "vjp")
        inputs = _fresh_inputs(inputs, create_graph, True)
        out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                     "vjp")
        _strict_requires_grad(outputs, "outputs", strict)
        if v is not None:
            v = _fresh_inputs(_tupled(v, "v", "vjp")[1], create_graph, False)
            _check_v(v, outputs, out_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _grad(outputs, inputs, v, create_graph=create_graph)
        res = _zeros_for_none(res, inputs, strict, create_graph, "back")
    return (_untuple(_finish(outputs, create_graph), out_tuple),
            _untuple(_finish(res, create_graph), in_tuple))


def jvp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``J v`` of ``func`` at ``inputs``; returns ``(func_output, jvp)``. Computed, as in
    PyTorch, by differentiating a backward pass with respect to its seed (double backward)."""
    from ..ops.creation import zeros_like

    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "jvp")
        inputs = _fresh_inputs(inputs, create_graph, True)
        if v is not None:
            v = _fresh_inputs(_tupled(v, "v", "jvp")[1], create_graph, False)
            _check_v(v, inputs, in_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise _no_v_error("input to the user-provided function")
        out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                     "jvp")
        _strict_requires_grad(outputs, "outputs", strict)
        # The backward pass is linear in its seed, so the seed's value does not matter; zeros
        # keep NaN/inf out of the double-backward graph.
        seeds = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, seeds, create_graph=True)
        _strict_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _grad(grad_inputs, seeds, v, create_graph=create_graph)
        res = _zeros_for_none(res, outputs, strict, create_graph, "back_trick")
    return (_untuple(_finish(outputs, create_graph), out_tuple),
            _untuple(_finish(res, create_graph), out_tuple))


def jacobian(func: Callable, inputs: Tensors, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Tensors:
    """The Jacobian of ``func`` at ``inputs`` (``torch.autograd.functional.jacobian``).

    A Tensor of shape ``output.shape + input.shape`` for one input and one output; a tuple
    when either is a tuple; ``J[i][j]`` (output i, input j) when both are.
    ``vectorize`` is accepted and gives the same result (computed one row at a time).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(_STRATEGY_MSG)
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and `strategy="
                '"forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `strategy="
                '"forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-"
                                      "reverse Hessian isonly implemented for `vectorize=True`.")
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
        inputs = _fresh_inputs(inputs, create_graph, True)
        out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                     "jacobian")
        _strict_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                "not supported together. Please either set `strict=False` or "
                "`vectorize=False`.")
        jac = tuple(_jacobian_of_output(k, out, inputs, create_graph, strict)
                    for k, out in enumerate(outputs))
    if strategy == "forward-mode":
        from ..ops._util import cast

        # forward mode gives tangents in the output's dtype
        jac = tuple(tuple(cast(j, outputs[k].dtype) for j in row) for k, row in enumerate(jac))
    return _untuple2(_finish(jac, create_graph), out_tuple, in_tuple)


def _jacobian_of_output(k: int, out: Tensor, inputs: tuple, create_graph: bool,
                        strict: bool) -> tuple:
    """Rows d out[j] / d inputs for every element j of output ``k``, stacked per input."""
    from .. import _backend
    from ..ops.creation import zeros_like
    from ..ops.shape import reshape, stack

    n = out.numel()
    rows: list = [[] for _ in inputs]
    a = out._data
    xp = _backend.array_module(a)
    for j in range(n):
        if out.requires_grad:
            # Seeding the output with a one-hot gradient is d out.flatten()[j] / d inputs
            # without recording a select op per row.
            seed = xp.zeros(a.size, dtype=a.dtype)
            seed[j] = 1
            grads = _grad((out,), inputs, (Tensor._make(seed.reshape(a.shape)),),
                          create_graph=create_graph, retain_graph=True)
        else:
            grads = (None,) * len(inputs)
        for i, (g, inp) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {k} of the user-provided function is "
                                       f"independent of input {i}. This is not allowed in "
                                       "strict mode.")
                g = zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {k}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            rows[i].append(g)
    res = []
    for i, inp in enumerate(inputs):
        # (an output without elements fails in stack, as in PyTorch)
        res.append(reshape(stack(rows[i], 0), tuple(out.shape) + tuple(inp.shape)))
    return tuple(res)


def hessian(func: Callable, inputs: Tensors, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Tensors:
    """The Hessian of a scalar ``func`` at ``inputs`` (``torch.autograd.functional.hessian``):
    a Tensor of shape ``input.shape * 2``, or ``H[i][j]`` for a tuple of inputs."""
    in_tuple, inputs = _tupled(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        out = func(*inp)
        out_is_tuple, outs = _tupled(out, "outputs of the user-provided function", "hessian")
        _strict_requires_grad(outs, "outputs", strict)
        if out_is_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def gradient(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(scalar_func, inp, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _untuple2(res, in_tuple, in_tuple)


def _scalar_output(func, inputs, fname: str, strict: bool):
    out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function", fname)
    _strict_requires_grad(outputs, "outputs", strict)
    if out_tuple:
        raise RuntimeError(f"The function given to {fname} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fname} should "
                           "contain a single element")
    return out_tuple, outputs


def vhp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``v^T H`` of a scalar ``func``; returns ``(func_output, vhp)``
    (``torch.autograd.functional.vhp``)."""
    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "vhp")
        inputs = _fresh_inputs(inputs, create_graph, True)
        if v is not None:
            v = _fresh_inputs(_tupled(v, "v", "vhp")[1], create_graph, False)
            _check_v(v, inputs, in_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise _no_v_error("input to the user-provided function")
        out_tuple, outputs = _scalar_output(func, inputs, "vhp", strict)
        jac = _grad(outputs, inputs, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _grad(jac, inputs, v, create_graph=create_graph)
        res = _zeros_for_none(res, inputs, strict, create_graph, "double_back")
    return (_untuple(_finish(outputs, create_graph), out_tuple),
            _untuple(_finish(res, create_graph), in_tuple))


def hvp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``H v`` of a scalar ``func``; returns ``(func_output, hvp)``
    (``torch.autograd.functional.hvp``, by the double-backward trick like PyTorch)."""
    from ..ops.creation import zeros_like

    with enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "hvp")
        inputs = _fresh_inputs(inputs, create_graph, True)
        if v is not None:
            v = _fresh_inputs(_tupled(v, "v", "hvp")[1], create_graph, False)
            _check_v(v, inputs, in_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise _no_v_error("input to the user-provided function")
        out_tuple, outputs = _scalar_output(func, inputs, "hvp", strict)
        jac = _grad(outputs, inputs, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
        seeds = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _grad(jac, inputs, seeds, create_graph=True)
        _strict_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _grad(double_back, seeds, v, create_graph=create_graph)
        res = _zeros_for_none(res, inputs, strict, create_graph, "double_back_trick")
    return (_untuple(_finish(outputs, create_graph), out_tuple),
            _untuple(_finish(res, create_graph), in_tuple))
