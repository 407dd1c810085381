"""``torch.autograd.gradcheck``/``gradgradcheck``: compare autograd with finite differences.

Numerical Jacobians use central differences on each input element; analytical ones use one
backward pass per output element. Use float64 inputs, as PyTorch recommends.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._backend import array_module
from .._tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when a check fails (``torch.autograd.GradcheckError``)."""


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def _outputs(func, inputs):
    from . import grad_mode

    with grad_mode.enable_grad():
        out = _as_tuple(func(*inputs))
    return out


def _numerical_jacobian(func, inputs, diff_idx, out_idx, eps):
    """list over diff inputs of arrays (n_in, n_out_total) for the selected outputs."""
    from . import grad_mode

    jacs = []
    for i in diff_idx:
        x = inputs[i]
        a = x._data
        flat_n = a.size
        cols = []
        for j in range(flat_n):
            idx = np.unravel_index(j, a.shape) if a.ndim else ()
            orig = a[idx].item() if a.ndim else a.item()
            with grad_mode.enable_grad():
                a[idx] = orig + eps
                plus = [_host(o._data).astype(np.complex128 if o.is_complex() else np.float64,
                                              copy=True).reshape(-1)
                        for k, o in enumerate(_as_tuple(func(*inputs))) if k in out_idx]
                a[idx] = orig - eps
                minus = [_host(o._data).astype(np.complex128 if o.is_complex() else np.float64,
                                               copy=True).reshape(-1)
                         for k, o in enumerate(_as_tuple(func(*inputs))) if k in out_idx]
                a[idx] = orig
            cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                        if plus else np.zeros(0))
        jacs.append(np.stack(cols) if cols else np.zeros((0, 0)))
    return jacs


def _analytical_jacobian(outputs, inputs, diff_idx, out_idx):
    from . import grad as autograd_grad

    diff_inputs = [inputs[i] for i in diff_idx]
    n_out = sum(outputs[k]._data.size for k in out_idx)
    jacs = [np.zeros((inputs[i]._data.size, n_out)) for i in diff_idx]
    col = 0
    for k in out_idx:
        o = outputs[k]
        xp = array_module(o._data)
        for j in range(o._data.size):
            g = xp.zeros(o._data.shape, dtype=o._data.dtype)
            if o._data.ndim:
                g[np.unravel_index(j, o._data.shape)] = 1
            else:
                g[()] = 1
            grads = autograd_grad((o,), diff_inputs, (Tensor._make(g),), retain_graph=True,
                                  allow_unused=True)
            for m, gr in enumerate(grads):
                if gr is not None:
                    jacs[m][:, col] = _host(gr._data).reshape(-1).real
            col += 1
    return jacs


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked=None) -> bool:
    """True when autograd's Jacobian of ``func`` at ``inputs`` matches finite differences."""
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i].dtype.itemsize < 8 and not inputs[i].is_complex():
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are not "
                          "of double precision floating point or complex. ", stacklevel=2)
    outputs = _outputs(func, inputs)
    out_idx = [k for k, o in enumerate(outputs)
               if isinstance(o, Tensor) and o.requires_grad]
    if not out_idx:
        # outputs that do not depend on the inputs must have zero numerical gradient
        num = _numerical_jacobian(func, inputs, diff_idx,
                                  [k for k, o in enumerate(outputs) if isinstance(o, Tensor)],
                                  eps)
        for j in num:
            if j.size and not np.allclose(j, 0, atol=atol):
                return _fail(raise_exception, "Numerical gradient for function expected to be "
                             "zero")
        return True
    num = _numerical_jacobian(func, inputs, diff_idx, out_idx, eps)
    ana = _analytical_jacobian(outputs, inputs, diff_idx, out_idx)
    for m, (n, a) in enumerate(zip(num, ana)):
        n = n.real if np.iscomplexobj(n) else n
        if n.shape != a.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
            return _fail(raise_exception,
                         f"Jacobian mismatch for output {out_idx[0]} with respect to input "
                         f"{diff_idx[m]},\nnumerical:{n}\nanalytical:{a}\n")
    return True


def _fail(raise_exception: bool, msg: str) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked=None) -> bool:
    """Check second derivatives: gradcheck of the gradient function built with create_graph."""
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = _outputs(func, inputs)
    outs = [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outs:
            xp = array_module(o._data)
            g = xp.asarray(rng.standard_normal(o._data.shape)).astype(o._data.dtype)
            grad_outputs.append(Tensor._make(g).requires_grad_(True))
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def new_func(*args):
        inp = args[:n_in]
        gos = args[n_in:]
        outs2 = [o for o in _as_tuple(func(*inp)) if isinstance(o, Tensor) and o.requires_grad]
        grads = autograd_grad(outs2, [inp[i] for i in diff_idx], gos, create_graph=True,
                              allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(new_func, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
