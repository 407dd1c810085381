"""The one helper that compares ember with PyTorch.

``check(fn, *inputs)`` runs ``fn(lib, *tensors)`` with ``lib`` = ``torch`` and ``lib`` = ``ember``
on identical inputs and compares every output (type, shape, dtype, values) and, by default, the
gradients of every float input under the same random upstream gradient.

Inputs are NumPy arrays (made into tensors by each library; float ones require grad) or plain
Python values passed through as they are. Wrap an array to control its layout:
``Transposed(a)`` (a transposed view of a contiguous buffer), ``Sliced(a)`` (every other row of
a larger buffer), ``Const(a)`` (a tensor that does not require grad).

With ``EMBER_TEST_DEVICE=cuda`` ember's tensors live on the GPU; PyTorch stays on the CPU.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import ember

try:
    import torch
except ImportError:  # pragma: no cover - CI always installs the oracle
    torch = None

DEVICE = os.environ.get("EMBER_TEST_DEVICE", "cpu")

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")

RNG = np.random.default_rng(1234)


def rand(*shape, dtype=np.float32, low=-1.0, high=1.0, rng=None):
    """Uniform random array (ints for integer dtypes, bools for bool)."""
    r = rng or RNG
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return r.random(shape) > 0.5
    if dt.kind in "iu":
        lo = int(low) if low != -1.0 else (0 if dt.kind == "u" else -5)
        hi = int(high) if high != 1.0 else 10
        return r.integers(lo, hi, size=shape).astype(dt)
    return (r.random(shape) * (high - low) + low).astype(dt)


def positive(*shape, dtype=np.float32, low=0.1, high=2.0):
    return rand(*shape, dtype=dtype, low=low, high=high)


class Transposed:
    """A transposed (non-contiguous) view over contiguous storage, for 2-D+ arrays."""

    def __init__(self, a):
        self.a = np.asarray(a)

    def build(self, lib, device):
        base = np.ascontiguousarray(np.swapaxes(self.a, -1, -2))
        return _to_lib(lib, base, device).transpose(-1, -2)


class Sliced:
    """Every other row of a buffer twice as tall: non-contiguous along dim 0."""

    def __init__(self, a):
        self.a = np.asarray(a)

    def build(self, lib, device):
        big = np.zeros((self.a.shape[0] * 2,) + self.a.shape[1:], dtype=self.a.dtype)
        big[::2] = self.a
        return _to_lib(lib, big, device)[::2]


class Const:
    """An array input that must not require grad."""

    def __init__(self, a):
        self.a = a


def _to_lib(lib, arr, device):
    t = lib.tensor(np.array(arr, copy=True))
    if lib is ember and device != "cpu":
        t = t.to(device)
    return t


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind in "fc"


def make_inputs(lib, inputs, grad: bool, device: str = DEVICE):
    """Tensors for ``lib`` from the test's input specs; returns (args, leaves needing grad)."""
    args, leaves = [], []
    for spec in inputs:
        if isinstance(spec, Const):
            args.append(_to_lib(lib, spec.a, device))
        elif isinstance(spec, (Transposed, Sliced)):
            want = grad and spec.a.dtype.kind in "fc"
            t = spec.build(lib, device)
            if want:
                # the non-contiguous tensor itself becomes the leaf, keeping its strides
                t = t.detach().requires_grad_(True)
                leaves.append(t)
            args.append(t)
        elif isinstance(spec, np.ndarray):
            t = _to_lib(lib, spec, device)
            if grad and _is_float_array(spec):
                t.requires_grad_(True)
                leaves.append(t)
            args.append(t)
        else:
            args.append(spec)
    return args, leaves


def _flatten(out):
    """Outputs as a flat list; sizes become plain tuples, named tuples are unpacked."""
    if isinstance(out, ember.Size) or (torch is not None and isinstance(out, torch.Size)):
        return [tuple(out)]
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


def to_numpy(t):
    """NumPy copy of a torch or ember tensor (bfloat16 as float32)."""
    if torch is not None and isinstance(t, torch.Tensor):
        t = t.detach().resolve_conj().resolve_neg()  # lazy conj/neg views
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.cpu().numpy(force=True)  # force: autograd may return a ZeroTensor
    t = t.detach().cpu()
    a = np.asarray(t._data)
    if a.dtype == ember._dtype._BF16_NP:
        a = a.astype(np.float32)
    return a


def dtype_name(d) -> str:
    return str(d).replace("torch.", "")


def assert_close(e, t, atol=1e-5, rtol=1.3e-6, what="output", check_dtype=True):
    """Compare an ember value with a torch value (tensors, numbers, tuples of ints)."""
    if torch is not None and isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: ember gave {type(e).__name__}, torch a Tensor"
        assert tuple(e.shape) == tuple(t.shape), \
            f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
        if check_dtype:
            assert dtype_name(e.dtype) == dtype_name(t.dtype), \
                f"{what}: dtype {e.dtype} != torch {t.dtype}"
        ea, ta = to_numpy(e), to_numpy(t)
        if ta.dtype.kind in "fc":
            if t.dtype in (torch.float16, torch.bfloat16):
                atol, rtol = max(atol, 1e-2), max(rtol, 1e-2)
            np.testing.assert_allclose(ea.astype(ta.dtype) if ea.dtype != ta.dtype else ea, ta,
                                       atol=atol, rtol=rtol, equal_nan=True,
                                       err_msg=f"{what} values differ")
        else:
            np.testing.assert_array_equal(ea, ta, err_msg=f"{what} values differ")
        return
    if isinstance(t, float):
        assert isinstance(e, (float, int)), f"{what}: {type(e).__name__} vs float"
        if math.isnan(t):
            assert math.isnan(e)
        else:
            assert e == pytest.approx(t, rel=rtol * 10, abs=atol), f"{what}: {e} != {t}"
        return
    if torch is not None and isinstance(t, torch.dtype):
        assert dtype_name(e) == dtype_name(t), f"{what}: {e} != {t}"
        return
    if torch is not None and isinstance(t, torch.device):
        assert str(e) == str(t), f"{what}: {e} != {t}"
        return
    assert e == t, f"{what}: ember {e!r} != torch {t!r}"


def check(fn, *inputs, grad: bool = True, atol: float = 1e-5, rtol: float = 1.3e-6,
          grad_atol: float | None = None, grad_rtol: float | None = None,
          check_dtype: bool = True, seed: int = 0):
    """Run ``fn`` on both libraries and compare outputs and input gradients."""
    if torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")
    t_args, t_leaves = make_inputs(torch, inputs, grad, device="cpu")
    e_args, e_leaves = make_inputs(ember, inputs, grad)
    t_out = fn(torch, *t_args)
    e_out = fn(ember, *e_args)
    t_flat, e_flat = _flatten(t_out), _flatten(e_out)
    assert len(t_flat) == len(e_flat), f"number of outputs: ember {len(e_flat)} != torch " \
                                       f"{len(t_flat)}"
    for i, (e, t) in enumerate(zip(e_flat, t_flat)):
        assert_close(e, t, atol, rtol, what=f"output {i}", check_dtype=check_dtype)
    if not grad or not t_leaves:
        return e_out
    rng = np.random.default_rng(seed)
    t_outs, e_outs, ups_t, ups_e = [], [], [], []
    for e, t in zip(e_flat, t_flat):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert isinstance(e, ember.Tensor) and e.requires_grad, \
                "torch output requires grad but ember's does not"
            up = rng.standard_normal(tuple(t.shape)).astype(to_numpy(t).dtype)
            t_outs.append(t)
            e_outs.append(e)
            ups_t.append(torch.tensor(up, dtype=t.dtype))
            ue = ember.tensor(up, dtype=e.dtype)
            ups_e.append(ue.to(DEVICE) if DEVICE != "cpu" else ue)
        elif isinstance(e, ember.Tensor):
            assert not e.requires_grad or not isinstance(t, torch.Tensor), \
                "ember output requires grad but torch's does not"
    if not t_outs:
        return e_out
    t_grads = torch.autograd.grad(t_outs, t_leaves, ups_t, allow_unused=True)
    e_grads = ember.autograd.grad(e_outs, e_leaves, ups_e, allow_unused=True)
    ga = atol if grad_atol is None else grad_atol
    gr = rtol if grad_rtol is None else grad_rtol
    for i, (e, t) in enumerate(zip(e_grads, t_grads)):
        if t is None:
            assert e is None or float(np.abs(to_numpy(e)).max(initial=0)) == 0, \
                f"grad {i}: torch None, ember nonzero"
            continue
        assert e is not None, f"grad {i}: ember None, torch has a gradient"
        assert_close(e, t, ga, gr, what=f"grad of input {i}")
    return e_out


def check_raises(fn, *inputs, match: str | None = None, exc=None):
    """Both libraries raise the same exception type (and ember's message contains ``match``)."""
    if torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")
    t_args, _ = make_inputs(torch, inputs, False, device="cpu")
    e_args, _ = make_inputs(ember, inputs, False)
    with pytest.raises(Exception) as te:
        fn(torch, *t_args)
    expected = exc or type(te.value)
    with pytest.raises(expected) as ee:
        fn(ember, *e_args)
    if match is not None:
        assert match in str(ee.value), f"{str(ee.value)!r} does not contain {match!r}"
    return str(ee.value), str(te.value)


def same_message(fn, *inputs):
    """Both raise the same type with the same message text."""
    e_msg, t_msg = check_raises(fn, *inputs)
    assert e_msg == t_msg, f"ember: {e_msg!r}\ntorch: {t_msg!r}"
