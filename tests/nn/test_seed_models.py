"""The seed articles' models built in PyTorch and in ember: same repr, same state_dict layout,
same default-initialisation distributions, and the same loss curve over 20 SGD steps from equal
weights."""

import math
import warnings

import numpy as np
import pytest

import ember
from tests.nn.seed_models import SEED_MODELS
from tests.oracle import needs_torch, to_numpy, torch

pytestmark = [needs_torch,
              pytest.mark.filterwarnings("ignore:dropout2d:UserWarning")]

NAMES = sorted(SEED_MODELS)


def build(name, lib, seed=0):
    lib.manual_seed(seed)
    return SEED_MODELS[name](lib)


def pair(name):
    """The torch model and an ember model holding the same weights."""
    t, shape = build(name, torch)
    e, _ = build(name, ember)
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return t, e, shape


@pytest.mark.parametrize("name", NAMES)
def test_repr_and_state_dict_layout(name):
    t, _ = build(name, torch)
    e, _ = build(name, ember)
    assert repr(e) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert sum(p.numel() for p in e.parameters()) == sum(p.numel() for p in t.parameters())


def _ks_statistic(a, b):
    """Two-sample Kolmogorov-Smirnov distance between the empirical CDFs of a and b."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return np.abs(np.searchsorted(a, grid, side="right") / a.size
                  - np.searchsorted(b, grid, side="right") / b.size).max()


@pytest.mark.parametrize("name", NAMES)
def test_default_initialisation_matches_torch_distribution(name):
    # Every weight and bias of these layers is U(-1/sqrt(fan_in), 1/sqrt(fan_in)) in PyTorch
    # (kaiming_uniform_ with a=sqrt(5), and the bias bound).
    t, _ = build(name, torch, seed=1)
    e, _ = build(name, ember, seed=2)
    weights = {k: v for k, v in t.state_dict().items() if k.endswith("weight")}
    for k, ev in e.state_dict().items():
        tv = t.state_dict()[k].numpy().ravel()
        ev = to_numpy(ev).ravel()
        w = weights[k[: -len("bias")] + "weight"] if k.endswith("bias") else weights[k]
        fan_in = math.prod(w.shape[1:])
        bound = 1 / math.sqrt(fan_in)
        assert np.abs(ev).max() <= bound * (1 + 1e-6), k
        if ev.size >= 200:
            n = ev.size
            crit = 1.95 * math.sqrt(2 / n)       # KS critical value at alpha = 0.001
            assert _ks_statistic(ev, tv) < crit, k
            assert abs(ev.std() - bound / math.sqrt(3)) < 6 * bound / math.sqrt(n), k


LOSSES = {"mnist_cnn": "nll_loss", "dqn": "mse_loss", "linear_regression": "mse_loss"}


def _batches(name, shape, out_features, steps):
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(shape).astype(np.float32) for _ in range(steps)]
    if LOSSES.get(name) == "mse_loss":
        ys = [rng.standard_normal((shape[0], out_features)).astype(np.float32)
              for _ in range(steps)]
    else:
        ys = [rng.integers(0, out_features, shape[0]) for _ in range(steps)]
    return xs, ys


def _train(lib, model, xs, ys, loss_name, lr):
    model.eval()  # dropout off: both sides must see the same network
    opt = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = getattr(lib.nn.functional, loss_name)
    losses = []
    for x, y in zip(xs, ys):
        opt.zero_grad()
        loss = loss_fn(model(lib.tensor(x)), lib.tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name", NAMES)
def test_training_parity_20_sgd_steps(name):
    t, e, shape = pair(name)
    out_features = list(t.parameters())[-1].shape[0]
    xs, ys = _batches(name, shape, out_features, 20)
    loss_name = LOSSES.get(name, "cross_entropy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lt = _train(torch, t, xs, ys, loss_name, lr=0.01)
        le = _train(ember, e, xs, ys, loss_name, lr=0.01)
    np.testing.assert_allclose(le, lt, rtol=1e-4, atol=1e-6)
    # the loss actually moved: the comparison is over a real trajectory
    assert abs(lt[-1] - lt[0]) > 1e-3
    te = t.state_dict()
    for k, v in e.state_dict().items():
        np.testing.assert_allclose(to_numpy(v), te[k].numpy(), rtol=1e-3, atol=1e-5, err_msg=k)
