"""Dropout against PyTorch: F.dropout/dropout1d/2d/3d/alpha_dropout/feature_alpha_dropout and
the Dropout modules (statistics of the masks, scaling, the mask reused by backward, in-place
forms, eval mode, reproducibility under ember.manual_seed, warnings and errors). Masks come from
ember's generator, so values are compared through the kept/dropped pattern, not bit for bit."""

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import (
    DEVICE,
    Const,
    check,
    check_raises,
    needs_torch,
    rand,
    same_message,
    to_numpy,
    torch,
)

pytestmark = needs_torch

F = ember.nn.functional
_ALPHA = 1.7580993408473766


def _et(a, grad=False):
    t = ember.tensor(np.array(a, copy=True))
    if DEVICE != "cpu":
        t = t.to(DEVICE)
    return t.requires_grad_(grad) if grad else t


# ------------------------------------------------------------------------------ F.dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_statistics_and_scaling(p):
    ember.manual_seed(0)
    x = ember.ones(400, 500)
    y = to_numpy(F.dropout(x, p))
    dropped = (y == 0).mean()
    # binomial std of the fraction is sqrt(p(1-p)/n) ~ 1e-3
    assert abs(dropped - p) < 6e-3, dropped
    kept = y[y != 0]
    np.testing.assert_allclose(kept, np.float32(1) / np.float32(1 - p), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02


def test_dropout_backward_uses_the_same_mask():
    ember.manual_seed(3)
    x = _et(rand(50, 40), grad=True)
    y = F.dropout(x, 0.3)
    g = _et(rand(50, 40))
    y.backward(g)
    mask = to_numpy(y) / to_numpy(x.detach())
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(g) * mask, rtol=1e-5, atol=1e-6)
    assert y.grad_fn.name() == "MulBackward0"


def test_dropout_reproducible_with_manual_seed():
    x = ember.ones(64, 64)
    ember.manual_seed(1234)
    a = to_numpy(F.dropout(x, 0.5))
    b = to_numpy(F.dropout(x, 0.5))
    ember.manual_seed(1234)
    c = to_numpy(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_eval_p0_empty_return_input():
    x = ember.ones(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    e = ember.ones(0, 3)
    assert F.dropout(e, 0.5) is e
    assert F.alpha_dropout(x, 0.5) is x  # alpha_dropout defaults to training=False
    assert F.feature_alpha_dropout(x, 0.5, False) is x


def test_dropout_p1_multiplies_by_zero():
    check(lambda lib, x: lib.nn.functional.dropout(x, 1.0), rand(3, 4))
    x = ember.tensor([float("nan"), 1.0])
    out = to_numpy(F.dropout(x, 1.0))
    assert np.isnan(out[0]) and out[1] == 0
    check(lambda lib, x: lib.nn.functional.alpha_dropout(x, 1.0, True), rand(3, 4))
    check(lambda lib, x: lib.nn.functional.dropout(x, 1.0), Const(rand(3, 4, dtype=np.int64)))


@pytest.mark.parametrize("dt", [np.float64, np.float16, "bfloat16"])
def test_dropout_dtypes(dt):
    ember.manual_seed(0)
    x = ember.ones(200, 100)
    x = x.to(ember.bfloat16) if dt == "bfloat16" else x.to(getattr(ember, np.dtype(dt).name))
    y = F.dropout(x, 0.25)
    assert y.dtype is x.dtype
    vals = np.unique(to_numpy(y))
    assert len(vals) == 2 and vals[0] == 0
    np.testing.assert_allclose(vals[1], 1 / 0.75, rtol=1e-2 if dt != np.float64 else 1e-12)


def test_dropout_mask_generated_in_float32(monkeypatch):
    """The mask is drawn as float32 uniforms (no float64 temporaries for float32 input)."""
    from ember.ops import dropout as dropout_mod

    real = dropout_mod.rng_for
    seen = []

    class Recorder:
        def __init__(self, rng):
            self.rng = rng

        def random(self, shape, dtype=np.float64):
            seen.append(np.dtype(dtype))
            return self.rng.random(shape, dtype=dtype)

    monkeypatch.setattr(dropout_mod, "rng_for", lambda d, g: Recorder(real(d, g)))
    F.dropout(ember.ones(8, 8), 0.5)
    F.alpha_dropout(ember.ones(8, 8, dtype=ember.float16), 0.5, True)
    F.dropout2d(ember.ones(2, 3, 4, 4), 0.5)
    assert seen == [np.dtype(np.float32)] * 3


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.dropout(x, 1.5),
    lambda lib, x: lib.nn.functional.dropout(x, -0.1),
    lambda lib, x: lib.nn.functional.dropout(x, 1.5, training=False),
    lambda lib, x: lib.nn.functional.alpha_dropout(x, 2.0),
    lambda lib, x: lib.nn.functional.feature_alpha_dropout(x, -1.0),
    lambda lib, x: lib.nn.functional.dropout1d(x, 1.5),
    lambda lib, x: lib.nn.functional.dropout2d(x, 1.5),
    lambda lib, x: lib.nn.functional.dropout3d(x, 1.5),
    lambda lib, x: lib.nn.functional.dropout(x.long(), 0.5),
    lambda lib, x: lib.nn.functional.dropout(x.bool(), 0.5),
    lambda lib, x: lib.nn.functional.alpha_dropout(x.long(), 0.5, True),
    lambda lib, x: lib.nn.functional.dropout(x.to(lib.complex64), 0.5),
    lambda lib, x: lib.nn.functional.dropout1d(x[None], 0.5),
    lambda lib, x: lib.nn.functional.dropout2d(x[0, 0], 0.5),
    lambda lib, x: lib.nn.functional.feature_alpha_dropout(x[0, 0], 0.5, True),
])
def test_dropout_errors(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_message(fn, Const(rand(2, 3, 4)))


def test_dropout_message_text():
    msg, _ = check_raises(lambda lib, x: lib.nn.functional.dropout(x, 1.5), Const(rand(2)))
    assert msg == "dropout probability has to be between 0 and 1, but got 1.5"
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        ember.nn.Dropout(1.5)


# ------------------------------------------------------------------------------ in place


def test_dropout_inplace():
    ember.manual_seed(0)
    x = _et(rand(30, 20), grad=True)
    y = x * 1
    out = F.dropout(y, 0.4, inplace=True)
    assert out is y and y._version > 0
    assert y.grad_fn.name() == "MulBackward0"
    g = _et(rand(30, 20))
    out.backward(g)
    mask = to_numpy(out) / to_numpy(x.detach())
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(g) * mask, rtol=1e-5, atol=1e-6)
    z = x * 1
    assert F.dropout(z, 0.4, training=False, inplace=True) is z
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.dropout(x, 0.5, inplace=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        torch.nn.functional.dropout(torch.ones(3, requires_grad=True), 0.5, inplace=True)


def test_alpha_dropout_inplace_and_unbatched_feature_inplace():
    ember.manual_seed(2)
    x = ember.randn(10, 8)
    y = x.clone()
    out = F.alpha_dropout(y, 0.3, True, True)
    assert out is y and out.shape == (10, 8)
    v = ember.randn(4, 6)
    out = F.dropout1d(v, 0.5, True, True)
    assert out is v and tuple(v.shape) == (4, 6)
    w = ember.randn(3, 2, 2, 2)
    out = F.dropout3d(w, 0.5, True, True)
    assert out is w and tuple(w.shape) == (3, 2, 2, 2)


# ------------------------------------------------------------------------------ alpha dropout


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_values_and_moments(p):
    ember.manual_seed(0)
    x = ember.randn(400, 500)
    y = to_numpy(F.alpha_dropout(x, p, True))
    xs = to_numpy(x)
    a = 1.0 / np.sqrt((_ALPHA ** 2 * p + 1) * (1 - p))
    b_drop = -_ALPHA * a + _ALPHA * a * p
    dropped = np.isclose(y, b_drop, atol=1e-6)
    kept = np.isclose(y, xs * a + _ALPHA * a * p, atol=1e-5)
    assert np.all(dropped | kept)
    assert abs(dropped.mean() - p) < 6e-3
    # self-normalizing: zero mean, unit variance preserved for standard normal input
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_alpha_dropout_grad():
    ember.manual_seed(0)
    x = _et(rand(40, 30), grad=True)
    y = F.alpha_dropout(x, 0.3, True)
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    p = 0.3
    a = 1.0 / np.sqrt((_ALPHA ** 2 * p + 1) * (1 - p))
    g = to_numpy(x.grad)
    assert np.all(np.isclose(g, 0) | np.isclose(g, a, rtol=1e-6))


def test_feature_alpha_dropout_channels():
    ember.manual_seed(4)
    x = ember.randn(50, 40, 6)
    y = to_numpy(F.feature_alpha_dropout(x, 0.5, True))
    p = 0.5
    a = 1.0 / np.sqrt((_ALPHA ** 2 * p + 1) * (1 - p))
    b_drop = -_ALPHA * a + _ALPHA * a * p
    dropped = np.all(np.isclose(y, b_drop, atol=1e-6), axis=2)
    kept = np.all(np.isclose(y, to_numpy(x) * a + _ALPHA * a * p, atol=1e-5), axis=2)
    assert np.all(dropped | kept)
    assert 0.4 < dropped.mean() < 0.6


# ------------------------------------------------------------------------------ feature dropout


@pytest.mark.parametrize("fname, shape, ch_axes", [
    ("dropout1d", (40, 30, 7), 2), ("dropout1d", (50, 7), 1), ("dropout2d", (20, 30, 3, 4), 2),
    ("dropout3d", (10, 30, 2, 3, 2), 2), ("dropout3d", (60, 2, 3, 2), 1)])
def test_feature_dropout_zeroes_whole_channels(fname, shape, ch_axes):
    ember.manual_seed(11)
    x = ember.ones(*shape)
    y = to_numpy(getattr(F, fname)(x, 0.3))
    flat = y.reshape(y.shape[:ch_axes] + (-1,))
    zero = np.all(flat == 0, axis=-1)
    full = np.all(np.isclose(flat, 1 / 0.7), axis=-1)
    assert np.all(zero | full)
    assert abs(zero.mean() - 0.3) < 0.08


def test_dropout2d_warnings():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(ember.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d, which is deprecated"):
        F.dropout2d(ember.ones(3, 4))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d, which is deprecated"):
        F.dropout3d(ember.ones(3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        ember.nn.Dropout2d()(ember.ones(2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(ember.ones(2, 3, 4, 4))
        F.dropout1d(ember.ones(3, 4))


def test_feature_dropout_grad():
    ember.manual_seed(0)
    x = _et(rand(6, 8, 5), grad=True)
    y = F.dropout1d(x, 0.5)
    y.sum().backward()
    g = to_numpy(x.grad)
    assert np.all(np.ptp(g, axis=2) == 0)  # one factor per channel
    assert set(np.unique(g)) <= {0.0, np.float32(2.0)}


# ------------------------------------------------------------------------------ modules


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                 "FeatureAlphaDropout"])
def test_dropout_modules(cls):
    for kw in ({}, {"p": 0.2}, {"p": 0.7, "inplace": True}):
        assert repr(getattr(ember.nn, cls)(**kw)) == repr(getattr(torch.nn, cls)(**kw))
    m = getattr(ember.nn, cls)(0.4)
    shape = {"Dropout1d": (8, 6, 5), "Dropout3d": (4, 6, 2, 2, 2)}.get(cls, (4, 6, 3, 3))
    x = ember.ones(*shape)
    ember.manual_seed(0)
    y = m(x)
    assert y is not x and not ember.equal(y, x)
    m.eval()
    assert m(x) is x
    # eval mode matches PyTorch exactly (identity)
    t = getattr(torch.nn, cls)(0.4).eval()
    check(lambda lib, a: (t if lib is torch else m)(a), rand(*shape))


def test_dropout_module_inplace():
    m = ember.nn.Dropout(0.5, inplace=True)
    x = ember.ones(10, 10)
    y = m(x)
    assert y is x and bool((x == 0).any())


@pytest.mark.parametrize("fname", ["dropout", "alpha_dropout", "feature_alpha_dropout",
                                   "dropout1d", "dropout2d"])
def test_dropout_gradcheck_with_fixed_mask(fname):
    """Re-seeding inside the function fixes the mask, so gradients can be checked
    numerically (float64), twice over."""
    x = ember.tensor(rand(3, 4, 5, dtype=np.float64), requires_grad=True)

    def fn(x):
        ember.manual_seed(7)
        return getattr(F, fname)(x, 0.4, True) ** 2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ember.autograd.gradcheck(fn, (x,))
        assert ember.autograd.gradgradcheck(fn, (x,))
