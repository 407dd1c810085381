"""``optim.swa_utils`` against PyTorch's: AveragedModel (SWA, EMA, custom functions, buffers),
update_bn, and the averaging functions."""

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, to_numpy, torch

pytestmark = needs_torch


def _model(lib, seed=0):
    lib.manual_seed(seed)
    m = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.BatchNorm1d(5), lib.nn.ReLU(),
                          lib.nn.Linear(5, 2))
    return m.double()


def _copy_weights(src_torch, dst_ember):
    dst_ember.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                               for k, v in src_torch.state_dict().items()})


def _perturb(t_model, e_model, rng):
    for (_, tp), (_, ep) in zip(t_model.named_parameters(), e_model.named_parameters()):
        d = rng.standard_normal(tuple(tp.shape)) * 0.1
        with torch.no_grad():
            tp.add_(torch.tensor(d))
        with ember.no_grad():
            ep.add_(ember.tensor(d))


def _assert_models_close(e, t):
    esd, tsd = e.state_dict(), t.state_dict()
    assert list(esd) == list(tsd)
    for k in tsd:
        np.testing.assert_allclose(to_numpy(esd[k]), to_numpy(tsd[k]), rtol=1e-12, atol=1e-14,
                                   err_msg=k)


@pytest.mark.parametrize("kind", ["swa", "ema", "ema-multi", "swa-multi", "custom",
                                  "buffers"])
def test_averaged_model(kind):
    rng = np.random.default_rng(0)
    t_model = _model(torch)
    e_model = _model(ember)
    _copy_weights(t_model, e_model)

    def make(lib):
        m = lib.optim.swa_utils
        kw = {}
        if kind == "ema":
            kw["avg_fn"] = m.get_ema_avg_fn(0.9)
        elif kind == "ema-multi":
            kw["multi_avg_fn"] = m.get_ema_multi_avg_fn(0.8)
        elif kind == "swa-multi":
            kw["multi_avg_fn"] = m.get_swa_multi_avg_fn()
        elif kind == "custom":
            kw["avg_fn"] = lambda avg, new, n: 0.5 * avg + 0.5 * new
        elif kind == "buffers":
            kw["use_buffers"] = True
        return kw

    t_avg = torch.optim.swa_utils.AveragedModel(t_model, **make(torch))
    e_avg = ember.optim.swa_utils.AveragedModel(e_model, **make(ember))
    x = rng.standard_normal((6, 4))
    for _ in range(5):
        _perturb(t_model, e_model, rng)
        t_model(torch.tensor(x))  # moves the batch-norm statistics
        e_model(ember.tensor(x))
        t_avg.update_parameters(t_model)
        e_avg.update_parameters(e_model)
        _assert_models_close(e_avg, t_avg)
    assert int(e_avg.n_averaged) == 5 and e_avg.n_averaged.dtype is ember.int64
    np.testing.assert_allclose(to_numpy(e_avg(ember.tensor(x))),
                               t_avg(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_update_bn():
    rng = np.random.default_rng(1)
    t_model, e_model = _model(torch), _model(ember)
    _copy_weights(t_model, e_model)
    data = [rng.standard_normal((8, 4)) for _ in range(4)]
    t_loader = [(torch.tensor(d), 0) for d in data]
    e_loader = [(ember.tensor(d), 0) for d in data]
    t_model.eval()
    e_model.eval()
    torch.optim.swa_utils.update_bn(t_loader, t_model)
    ember.optim.swa_utils.update_bn(e_loader, e_model)
    _assert_models_close(e_model, t_model)
    assert not e_model.training and e_model[1].momentum == 0.1
    # a model without batch norm is left alone
    lin = ember.nn.Linear(2, 2)
    ember.optim.swa_utils.update_bn([ember.ones(1, 2)], lin)


def test_avg_functions_and_errors():
    a, b = ember.tensor([1.0, 2.0]), ember.tensor([3.0, 6.0])
    m = ember.optim.swa_utils
    np.testing.assert_allclose(to_numpy(m.get_swa_avg_fn()(a, b, 1)), [2.0, 4.0])
    np.testing.assert_allclose(to_numpy(m.get_ema_avg_fn(0.5)(a, b, 1)), [2.0, 4.0])
    for fn in (m.get_ema_avg_fn, m.get_ema_multi_avg_fn):
        with pytest.raises(ValueError, match="Invalid decay value 1.5"):
            fn(1.5)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        m.AveragedModel(ember.nn.Linear(2, 2), avg_fn=m.get_swa_avg_fn(),
                        multi_avg_fn=m.get_swa_multi_avg_fn())
    # integer tensors take the add path, which PyTorch rejects for a float alpha
    ia, ib = ember.tensor([2, 4]), ember.tensor([4, 8])
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
        m.get_swa_multi_avg_fn()([ia], [ib], 1)
    ema = m.get_ema_multi_avg_fn(0.5)
    fa = ember.tensor([1.0, 2.0])
    ema([fa], [ember.tensor([3.0, 4.0])], 0)
    np.testing.assert_allclose(to_numpy(fa), [2.0, 3.0])
