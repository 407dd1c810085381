"""Shared pieces of the optimizer tests: identical parameters in both libraries, a small model
whose loss both libraries differentiate, and state-dict conversion between the libraries."""

from __future__ import annotations

import numpy as np

import ember
from tests.oracle import DEVICE, to_numpy, torch

SHAPES = [(6, 4), (6,), (3, 6), (3,)]


def weights(seed: int = 0, dtype=np.float64, shapes=SHAPES) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * 0.5).astype(dtype) for s in shapes]


def make_params(lib, arrays) -> list:
    """Leaf tensors requiring grad (ember's on the test device)."""
    out = []
    for a in arrays:
        t = lib.tensor(np.array(a, copy=True))
        if lib is ember and DEVICE != "cpu":
            t = t.to(DEVICE)
        out.append(t.requires_grad_(True))
    return out


class MLP:
    """``loss = mean((tanh(x W1^T + b1) W2^T + b2 - y)^2)`` on fixed data, in either library."""

    def __init__(self, lib, params, seed: int = 1, batch: int = 8):
        rng = np.random.default_rng(seed)
        dtype = to_numpy(params[0]).dtype
        self.lib = lib
        self.params = params
        self.x = self._t(rng.standard_normal((batch, 4)).astype(dtype))
        self.y = self._t(rng.standard_normal((batch, 3)).astype(dtype))

    def _t(self, a):
        t = self.lib.tensor(a)
        if self.lib is ember and DEVICE != "cpu":
            t = t.to(DEVICE)
        return t

    def loss(self):
        w1, b1, w2, b2 = self.params[:4]
        h = self.lib.tanh(self.x @ w1.t() + b1)
        out = h @ w2.t() + b2
        return ((out - self.y) ** 2).mean()

    def closure(self, opt):
        def closure():
            opt.zero_grad()
            loss = self.loss()
            loss.backward()
            return loss

        return closure


def values(params) -> list[np.ndarray]:
    return [to_numpy(p) for p in params]


def assert_params_close(e_params, t_params, rtol=1e-6, atol=1e-9, what="") -> None:
    """Elementwise ``rtol``, plus ``atol`` and ``rtol`` times the tensor's largest value."""
    for i, (e, t) in enumerate(zip(values(e_params), values(t_params))):
        scale = float(np.abs(t).max(initial=0.0))
        np.testing.assert_allclose(e, t, rtol=rtol, atol=atol + rtol * scale,
                                   err_msg=f"{what} param {i}")


def to_ember(obj):
    """A PyTorch state dict (or any nested value) with every tensor made an ember tensor."""
    if isinstance(obj, torch.Tensor):
        t = ember.tensor(obj.detach().numpy().copy())
        return t.to(DEVICE) if DEVICE != "cpu" and t.dim() > 0 else t
    if isinstance(obj, dict):
        return type(obj)((k, to_ember(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_ember(v) for v in obj)
    return obj


def to_torch(obj):
    """An ember state dict (or any nested value) with every tensor made a PyTorch tensor."""
    if isinstance(obj, ember.Tensor):
        return torch.tensor(to_numpy(obj))
    if isinstance(obj, dict):
        return type(obj)((k, to_torch(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v) for v in obj)
    return obj


def assert_same_structure(e, t, path="state_dict", rtol=1e-6) -> None:
    """Same nested layout, keys (in order), Python values, tensor dtypes/shapes and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: ember {type(e).__name__}, torch Tensor"
        assert str(e.dtype) == str(t.dtype), f"{path}: dtype {e.dtype} != {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {tuple(e.shape)}"
        ta = to_numpy(t)
        # relative to the tensor's scale: single elements near zero of a large buffer carry
        # the rounding of their large neighbours
        scale = float(np.abs(ta).max(initial=0.0))
        np.testing.assert_allclose(to_numpy(e), ta, rtol=rtol, atol=1e-9 + rtol * scale,
                                   err_msg=path)
    elif isinstance(t, dict):
        assert isinstance(e, dict), path
        assert list(e.keys()) == list(t.keys()), f"{path}: keys {list(e)} != {list(t)}"
        for k in t:
            assert_same_structure(e[k], t[k], f"{path}[{k!r}]", rtol)
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), f"{path}: {e!r} != {t!r}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same_structure(a, b, f"{path}[{i}]", rtol)
    elif isinstance(t, float):
        assert isinstance(e, (float, int)) and abs(e - t) <= rtol * max(1.0, abs(t)), \
            f"{path}: {e!r} != {t!r}"
    else:
        assert e == t and type(e) is type(t), f"{path}: {e!r} != {t!r}"
