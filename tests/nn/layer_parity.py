"""One layer built in PyTorch and in ember, ember holding PyTorch's weights via the state dict,
run on the same inputs in train and eval mode: outputs, input and parameter gradients, buffers
(running statistics) and ``repr`` must agree."""

from __future__ import annotations

import numpy as np

import ember
from tests.oracle import assert_close, torch


def pair(ctor: str, *args, **kwargs):
    """``torch.nn.<ctor>`` and ``ember.nn.<ctor>``, ember loaded with torch's state dict."""
    t = getattr(torch.nn, ctor)(*args, **kwargs)
    e = getattr(ember.nn, ctor)(*args, **kwargs)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def run(t, e, inputs, *extra, atol=1e-4, rtol=1e-4, seed=1, **call_kwargs):
    """Call both modules on ``inputs`` (NumPy arrays; float ones require grad) and ``extra``
    (NumPy arrays become constant tensors, anything else is passed as it is), compare the
    outputs, then backpropagate one random upstream gradient through the first output and
    compare the gradients of every float input and every parameter, and the buffers."""
    ti = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    ei = [ember.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    torch.manual_seed(seed)
    ember.manual_seed(seed)
    yt = t(*ti, *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in extra],
           **call_kwargs)
    ye = e(*ei, *[ember.tensor(a) if isinstance(a, np.ndarray) else a for a in extra],
           **call_kwargs)
    yts = yt if isinstance(yt, tuple) else (yt,)
    yes = ye if isinstance(ye, tuple) else (ye,)
    assert len(yes) == len(yts)
    for i, (a, b) in enumerate(zip(yes, yts)):
        assert_close(a, b, atol=atol, rtol=rtol, what=f"output {i}")
    if yts[0].requires_grad:
        g = np.random.default_rng(seed).standard_normal(tuple(yts[0].shape)).astype(np.float32)
        yts[0].backward(torch.tensor(g))
        yes[0].backward(ember.tensor(g))
        for i, (a, b) in enumerate(zip(ei, ti)):
            if b.requires_grad:
                assert_close(a.grad, b.grad, atol=atol, rtol=rtol, what=f"grad of input {i}")
        for (n, pt), (m, pe) in zip(t.named_parameters(), e.named_parameters()):
            assert n == m
            if pt.grad is None:
                assert pe.grad is None, f"grad of {n}: torch None"
            else:
                assert_close(pe.grad, pt.grad, atol=atol, rtol=rtol, what=f"grad of {n}")
        t.zero_grad()
        e.zero_grad()
    for (n, bt), (m, be) in zip(t.named_buffers(), e.named_buffers()):
        assert n == m
        assert_close(be, bt, atol=atol, rtol=rtol, what=f"buffer {n}")
    return ye


def check_layer(ctor: str, args, kwargs, shapes, *, positive: bool = False, modes=("train", "eval"),
                steps: int = 1, **run_kw):
    """``pair`` + equal ``repr``/state-dict keys + ``run`` on random inputs of ``shapes``
    (``steps`` batches per mode, so running statistics accumulate)."""
    t, e = pair(ctor, *args, **kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    rng = np.random.default_rng(0)
    for mode in modes:
        getattr(t, mode)()
        getattr(e, mode)()
        for step in range(steps):
            xs = [rng.standard_normal(s).astype(np.float32) * (step + 1) + step for s in shapes]
            if positive:
                xs = [np.abs(x) + 0.1 for x in xs]
            run(t, e, xs, **run_kw)
    return t, e
