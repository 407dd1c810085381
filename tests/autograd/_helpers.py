"""Shared helpers for the autograd tests: run one program on PyTorch and on ember and compare
everything it returns plus the ``.grad`` of every leaf."""

from __future__ import annotations

import numpy as np

import ember
from tests.oracle import DEVICE, assert_close, torch


def leaves(lib, *arrays, requires_grad: bool = True):
    """Leaf tensors of ``lib`` holding copies of ``arrays`` (float ones require grad)."""
    out = []
    for a in arrays:
        t = lib.tensor(np.array(a, copy=True))
        if lib is ember and DEVICE != "cpu":
            t = t.to(DEVICE)
        if requires_grad and np.asarray(a).dtype.kind in "fc":
            t.requires_grad_(True)
        out.append(t)
    return out


def same(e, t, what: str = "result", atol: float = 1e-5, rtol: float = 1.3e-6) -> None:
    """Compare nested results: tensors (values, shape, dtype, requires_grad), None, numbers."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"{what}: ember {type(e).__name__}, torch a sequence"
        assert len(e) == len(t), f"{what}: length {len(e)} != torch {len(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            same(a, b, f"{what}[{i}]", atol, rtol)
        return
    if t is None:
        assert e is None, f"{what}: ember {e!r}, torch None"
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: ember {type(e).__name__}, torch a Tensor"
        assert e.requires_grad == t.requires_grad, \
            f"{what}: requires_grad {e.requires_grad} != torch {t.requires_grad}"
    assert_close(e, t, atol, rtol, what=what)


def both(fn, *arrays, requires_grad: bool = True, atol: float = 1e-5, rtol: float = 1.3e-6):
    """Run ``fn(lib, *leaves)`` on both libraries; compare results and leaf gradients."""
    t_in = leaves(torch, *arrays, requires_grad=requires_grad)
    e_in = leaves(ember, *arrays, requires_grad=requires_grad)
    t_out = fn(torch, *t_in)
    e_out = fn(ember, *e_in)
    same(e_out, t_out, atol=atol, rtol=rtol)
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        same(e.grad, t.grad, f"leaf {i} .grad", atol, rtol)
    return e_out, e_in


def raises_like(fn, *arrays, requires_grad: bool = True, match: str | None = None):
    """Both libraries raise the same exception type from ``fn(lib, *leaves)``; returns the two
    messages (ember's, torch's). ``match`` must appear in ember's message."""
    import pytest

    t_in = leaves(torch, *arrays, requires_grad=requires_grad)
    e_in = leaves(ember, *arrays, requires_grad=requires_grad)
    with pytest.raises(Exception) as te:
        fn(torch, *t_in)
    with pytest.raises(type(te.value)) as ee:
        fn(ember, *e_in)
    if match is not None:
        assert match in str(ee.value), f"{str(ee.value)!r} does not contain {match!r}"
    return str(ee.value), str(te.value)
