"""nn.init: formulas, distributions (moments over thousands of samples), structure and errors,
compared with PyTorch and with the distributions' exact moments."""

import math
import warnings

import numpy as np
import pytest

import ember
from ember.nn import init
from tests.oracle import needs_torch, same_message, to_numpy, torch

pytestmark = needs_torch


def empty(*shape, dtype=ember.float32):
    return ember.empty(shape, dtype=dtype)


def stats(t):
    a = to_numpy(t).astype(np.float64).ravel()
    return a.mean(), a.std(), a.min(), a.max()


def assert_uniform(t, lo, hi):
    """Samples look like U(lo, hi): bounds, mean and std within sampling error."""
    a = to_numpy(t).astype(np.float64).ravel()
    n = a.size
    assert a.min() >= lo and a.max() <= hi
    width = hi - lo
    assert a.min() < lo + width * 0.01 and a.max() > hi - width * 0.01
    sd = width / math.sqrt(12)
    assert abs(a.mean() - (lo + hi) / 2) < 5 * sd / math.sqrt(n)
    assert abs(a.std() - sd) < 0.05 * sd


def assert_normal(t, mean, std):
    a = to_numpy(t).astype(np.float64).ravel()
    n = a.size
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(a.std() - std) < 0.05 * std
    # roughly 68% within one std, as for a normal distribution
    assert abs(np.mean(np.abs(a - mean) < std) - 0.6827) < 0.03


# ------------------------------------------------------------------------------ default Linear


def _linear_weights(lib, n_models, fan_in, fan_out):
    ws, bs = [], []
    for _ in range(n_models):
        m = lib.nn.Linear(fan_in, fan_out)
        ws.append(to_numpy(m.weight).ravel())
        bs.append(to_numpy(m.bias).ravel())
    return np.concatenate(ws), np.concatenate(bs)


@pytest.mark.parametrize("fan_in, fan_out", [(100, 40), (7, 300), (784, 10)])
def test_default_linear_init_matches_torch(fan_in, fan_out):
    n_models = max(1, 4000 // (fan_in * fan_out)) + 2
    ew, eb = _linear_weights(ember, n_models, fan_in, fan_out)
    tw, tb = _linear_weights(torch, n_models, fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    for e, t in ((ew, tw), (eb, tb)):
        assert np.abs(e).max() <= bound
        sd = bound / math.sqrt(3)
        n = e.size
        assert abs(e.std() - t.std()) < 6 * sd / math.sqrt(n) + 0.02 * sd
        assert abs(e.mean() - t.mean()) < 8 * sd / math.sqrt(n)
        assert abs(e.std() - sd) < 6 * sd / math.sqrt(n) + 0.02 * sd
    assert np.abs(ew).max() > bound * 0.98


def test_default_init_differs_between_layers_and_seeds():
    a, b = ember.nn.Linear(8, 8), ember.nn.Linear(8, 8)
    assert not np.array_equal(to_numpy(a.weight), to_numpy(b.weight))
    g = ember.Generator().manual_seed(3)
    w1 = init.kaiming_uniform_(empty(4, 5), a=math.sqrt(5), generator=g)
    g.manual_seed(3)
    w2 = init.kaiming_uniform_(empty(4, 5), a=math.sqrt(5), generator=g)
    np.testing.assert_array_equal(to_numpy(w1), to_numpy(w2))


# ------------------------------------------------------------------------------ gains and fans


@pytest.mark.parametrize("args", [
    ("linear",), ("conv1d",), ("conv2d",), ("conv3d",), ("conv_transpose1d",),
    ("conv_transpose2d",), ("conv_transpose3d",), ("sigmoid",), ("tanh",), ("relu",),
    ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", math.sqrt(5)),
    ("selu",),
])
def test_calculate_gain(args):
    e, t = init.calculate_gain(*args), torch.nn.init.calculate_gain(*args)
    assert e == t and type(e) is type(t)


@pytest.mark.parametrize("args", [("leaky_relu", "x"), ("leaky_relu", True), ("softplus",),
                                  ("Relu",)])
def test_calculate_gain_errors(args):
    same_message(lambda lib: lib.nn.init.calculate_gain(*args))


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (2, 3, 1, 1, 4), (0, 3)])
def test_fan_in_fan_out(shape):
    assert init._calculate_fan_in_and_fan_out(empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fan_error():
    same_message(lambda lib: lib.nn.init._calculate_fan_in_and_fan_out(lib.empty(3)))


# ------------------------------------------------------------------------------ distributions


def test_uniform_and_normal():
    assert_uniform(init.uniform_(empty(100, 60)), 0.0, 1.0)
    assert_uniform(init.uniform_(empty(100, 60), -3.0, 0.5), -3.0, 0.5)
    assert_normal(init.normal_(empty(100, 60)), 0.0, 1.0)
    assert_normal(init.normal_(empty(100, 60), mean=2.0, std=0.3), 2.0, 0.3)


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    shape = (80, 30, 3)
    fan_in, fan_out = 90, 240
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    assert_uniform(init.xavier_uniform_(empty(*shape), gain=gain), -std * math.sqrt(3),
                   std * math.sqrt(3))
    assert_normal(init.xavier_normal_(empty(*shape), gain=gain), 0.0, std)


@pytest.mark.parametrize("a, mode, nonlinearity", [
    (0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
    (0, "fan_out", "relu"), (0.1, "FAN_OUT", "leaky_relu"), (0, "fan_in", "tanh"),
])
def test_kaiming(a, mode, nonlinearity):
    shape = (60, 40, 2)
    fan = 80 if mode == "fan_in" else 120
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3) * std
    assert_uniform(init.kaiming_uniform_(empty(*shape), a=a, mode=mode,
                                         nonlinearity=nonlinearity), -bound, bound)
    assert_normal(init.kaiming_normal_(empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity),
                  0.0, std)


def _truncnorm_moments(mean, std, a, b):
    def pdf(x):
        return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    def cdf(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    al, be = (a - mean) / std, (b - mean) / std
    z = cdf(be) - cdf(al)
    m = mean + std * (pdf(al) - pdf(be)) / z
    var = std ** 2 * (1 + (al * pdf(al) - be * pdf(be)) / z - ((pdf(al) - pdf(be)) / z) ** 2)
    return m, math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),    # mostly normal proposals
    (0.0, 0.02, -0.04, 0.04),  # the ViT-style call
    (0.0, 1.0, 1.0, 3.0),     # tail interval: uniform proposals with rejection
    (0.5, 2.0, -1.0, 0.0),
])
def test_trunc_normal_exact_moments(mean, std, a, b):
    t = init.trunc_normal_(empty(200, 100), mean, std, a, b)
    x = to_numpy(t).astype(np.float64).ravel()
    assert x.min() >= a and x.max() <= b
    m, s = _truncnorm_moments(mean, std, a, b)
    assert abs(x.mean() - m) < 5 * s / math.sqrt(x.size)
    assert abs(x.std() - s) < 0.03 * s
    # a few quantiles against PyTorch's samples (same distribution, independent draws)
    y = torch.nn.init.trunc_normal_(torch.empty(200, 100), mean, std, a, b).numpy().ravel()
    for q in (0.1, 0.5, 0.9):
        assert abs(np.quantile(x, q) - np.quantile(y, q)) < 0.05 * (b - a)


def test_trunc_normal_far_mean_warns():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        t = init.trunc_normal_(empty(50), mean=10.0, std=1.0, a=-2.0, b=2.0)
    x = to_numpy(t)
    assert x.min() >= -2 and x.max() <= 2


@pytest.mark.parametrize("shape, gain", [((30, 30), 1.0), ((40, 10), 2.0), ((10, 40), 1.0),
                                         ((6, 3, 2, 2), 0.5)])
def test_orthogonal(shape, gain):
    t = to_numpy(init.orthogonal_(empty(*shape), gain=gain)).astype(np.float64)
    q = t.reshape(shape[0], -1)
    rows, cols = q.shape
    if rows >= cols:
        np.testing.assert_allclose(q.T @ q, gain ** 2 * np.eye(cols), atol=1e-5)
    else:
        np.testing.assert_allclose(q @ q.T, gain ** 2 * np.eye(rows), atol=1e-5)


def test_orthogonal_is_haar_distributed():
    # With the sign correction Q is uniform on O(n): the mean of Q over many draws is 0
    # (without it the diagonal would be biased positive).
    g = ember.Generator().manual_seed(1)
    diag = [np.diag(to_numpy(init.orthogonal_(empty(4, 4), generator=g))) for _ in range(400)]
    assert abs(np.mean(diag)) < 0.05


def test_sparse():
    t = init.sparse_(empty(200, 30), sparsity=0.25, std=0.5)
    x = to_numpy(t)
    zeros_per_col = (x == 0).sum(axis=0)
    assert np.all(zeros_per_col == math.ceil(0.25 * 200))
    nz = x[x != 0]
    assert abs(nz.std() - 0.5) < 0.03
    # the zero rows differ between columns
    assert len({tuple(np.nonzero(x[:, j] == 0)[0]) for j in range(30)}) > 25


# ------------------------------------------------------------------------------ deterministic fills


@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((4, 2, 3), 2), ((3, 5, 3, 3), 1),
                                           ((6, 2, 3, 4), 3), ((2, 2, 3, 3, 3), 1),
                                           ((8, 3, 2, 2, 1), 2)])
def test_dirac_matches_torch(shape, groups):
    e = init.dirac_(empty(*shape), groups=groups)
    t = torch.nn.init.dirac_(torch.empty(shape), groups=groups)
    np.testing.assert_array_equal(to_numpy(e), t.numpy())


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye_matches_torch(shape):
    np.testing.assert_array_equal(to_numpy(init.eye_(empty(*shape))),
                                  torch.nn.init.eye_(torch.empty(shape)).numpy())
    np.testing.assert_array_equal(
        to_numpy(init.eye_(empty(*shape, dtype=ember.int64))),
        torch.nn.init.eye_(torch.empty(shape, dtype=torch.int64)).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_constant_ones_zeros(dtype):
    e = empty(2, 3, dtype=getattr(ember, dtype))
    t = torch.empty(2, 3, dtype=getattr(torch, dtype))
    for ef, tf, args in ((init.constant_, torch.nn.init.constant_, (2.7,)),
                         (init.ones_, torch.nn.init.ones_, ()),
                         (init.zeros_, torch.nn.init.zeros_, ())):
        np.testing.assert_array_equal(to_numpy(ef(e, *args)), tf(t, *args).numpy())


# ------------------------------------------------------------------------------ in-place semantics


def test_inplace_on_parameter_without_graph():
    p = ember.nn.Parameter(ember.zeros(3, 4))
    v0 = p._version
    out = init.normal_(p)
    assert out is p and p.grad_fn is None and p.requires_grad and p.is_leaf
    assert p._version > v0
    init.constant_(p, 1.5)
    assert np.all(to_numpy(p) == 1.5)


def test_writes_through_views():
    base = ember.zeros(4, 6)
    view = base.t()
    init.ones_(view)
    assert np.all(to_numpy(base) == 1)
    init.xavier_uniform_(view)
    assert float(np.abs(to_numpy(base)).min()) < 1 and not np.all(to_numpy(base) == 1)


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float64])
def test_other_float_dtypes(dtype):
    t = init.kaiming_uniform_(empty(50, 40, dtype=dtype))
    assert t.dtype is dtype
    bound = math.sqrt(2.0 / (1 + 0.0)) * math.sqrt(3.0 / 40)
    x = to_numpy(t)
    assert np.abs(x).max() <= bound * 1.01 and x.std() > bound / 3


def test_zero_element_warning():
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            fn(empty(0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert init.orthogonal_(empty(0, 3)).shape == (0, 3)


def test_deprecated_aliases():
    with pytest.warns(FutureWarning, match="`nn.init.uniform` is now deprecated in favor of "
                                           "`nn.init.uniform_`"):
        init.uniform(empty(3))
    assert init.xavier_normal.__name__ == "xavier_normal"


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("action", [
    lambda lib: lib.nn.init.uniform_(lib.zeros(3, dtype=lib.int64)),
    lambda lib: lib.nn.init.normal_(lib.zeros(3, dtype=lib.int64)),
    lambda lib: lib.nn.init.uniform_(lib.zeros(3), 1.0, 0.0),
    lambda lib: lib.nn.init.normal_(lib.zeros(3), 0.0, -1.0),
    lambda lib: lib.nn.init.trunc_normal_(lib.zeros(3, dtype=lib.int64)),
    lambda lib: lib.nn.init.xavier_uniform_(lib.zeros(3)),
    lambda lib: lib.nn.init.kaiming_uniform_(lib.zeros(3, 2), mode="bad"),
    lambda lib: lib.nn.init.kaiming_normal_(lib.zeros(3, 2), nonlinearity="bad"),
    lambda lib: lib.nn.init.eye_(lib.zeros(2)),
    lambda lib: lib.nn.init.dirac_(lib.zeros(2, 3)),
    lambda lib: lib.nn.init.dirac_(lib.zeros(3, 3, 3), groups=2),
    lambda lib: lib.nn.init.orthogonal_(lib.zeros(3)),
    lambda lib: lib.nn.init.sparse_(lib.zeros(3), 0.1),
    lambda lib: lib.nn.init.trunc_normal_(lib.zeros(3), a=2.0, b=1.0),
    lambda lib: lib.nn.init.trunc_normal_(lib.zeros(3), a=0.5, b=-0.5),
])
def test_error_messages(action):
    same_message(action)

