"""LBFGS against PyTorch's on the Rosenbrock function and a small model: the same iterates,
function-evaluation counts and final point, with and without the strong-Wolfe line search."""

import numpy as np
import pytest

import ember
from tests.optim.common import MLP, assert_params_close, make_params, weights
from tests.oracle import needs_torch, to_numpy, torch

pytestmark = needs_torch


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def _closure(opt, x):
    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("kw", [
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 7},
    # (a fixed step without line search is chaotic on Rosenbrock for larger lr and many
    # iterations: PyTorch itself then turns a 1-ulp change of x0 into 1e-9 differences)
    {"lr": 0.02, "history_size": 5},
    {"lr": 0.1, "history_size": 5, "max_iter": 5},
    {"lr": 0.5, "max_iter": 3, "max_eval": 4, "tolerance_change": 1e-6},
])
def test_rosenbrock(kw):
    x0 = np.array([-1.5, 2.0, 0.5, -0.3])
    (xt,), (xe,) = make_params(torch, [x0]), make_params(ember, [x0])
    topt, eopt = torch.optim.LBFGS([xt], **kw), ember.optim.LBFGS([xe], **kw)
    for _ in range(15):
        lt = topt.step(_closure(topt, xt))
        le = eopt.step(_closure(eopt, xe))
        assert le.item() == pytest.approx(lt.item(), rel=1e-8, abs=1e-14)
        assert_params_close([xe], [xt], rtol=1e-6, atol=1e-9)
        ts, es = topt.state[xt], eopt.state[xe]
        assert es["func_evals"] == ts["func_evals"] and es["n_iter"] == ts["n_iter"]


def test_strong_wolfe_reaches_the_minimum():
    x0 = np.array([-1.2, 1.0])
    (xt,), (xe,) = make_params(torch, [x0]), make_params(ember, [x0])
    kw = {"line_search_fn": "strong_wolfe", "max_iter": 50}
    topt, eopt = torch.optim.LBFGS([xt], **kw), ember.optim.LBFGS([xe], **kw)
    for _ in range(3):
        topt.step(_closure(topt, xt))
        eopt.step(_closure(eopt, xe))
    np.testing.assert_allclose(to_numpy(xe), to_numpy(xt), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(to_numpy(xe), [1.0, 1.0], atol=1e-4)
    assert eopt.state[xe]["func_evals"] == topt.state[xt]["func_evals"]


def test_small_model_float32():
    ws = weights(0, np.float32)
    tp, ep = make_params(torch, ws), make_params(ember, ws)
    kw = {"lr": 1, "max_iter": 10, "line_search_fn": "strong_wolfe"}
    topt, eopt = torch.optim.LBFGS(tp, **kw), ember.optim.LBFGS(ep, **kw)
    tm, em = MLP(torch, tp), MLP(ember, ep)
    for _ in range(3):
        topt.step(tm.closure(topt))
        eopt.step(em.closure(eopt))
    assert_params_close(ep, tp, rtol=1e-3, atol=1e-4)
    assert em.loss().item() == pytest.approx(tm.loss().item(), rel=1e-3)
    st = eopt.state[ep[0]]
    assert st["d"].dtype is ember.float32 and st["prev_flat_grad"].shape == (51,)


def test_converged_start_returns_immediately():
    x = ember.tensor([1.0, 1.0], dtype=ember.float64, requires_grad=True)
    opt = ember.optim.LBFGS([x])
    loss = opt.step(_closure(opt, x))
    assert loss.item() == 0.0
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 0
    assert "d" not in opt.state[x]


def test_parameters_without_gradient_and_complex():
    # a parameter that gets no gradient counts as zero gradient
    a = np.array([0.5, -0.2])
    b = np.array([3.0])
    ta, tb = make_params(torch, [a, b])
    ea, eb = make_params(ember, [a, b])
    topt, eopt = torch.optim.LBFGS([ta, tb]), ember.optim.LBFGS([ea, eb])
    for opt, x in ((topt, ta), (eopt, ea)):
        opt.step(_closure(opt, x))
    assert_params_close([ea, eb], [ta, tb])

    z0 = np.array([0.3 + 0.2j, -0.1 + 0.5j])
    (tz,), (ez,) = make_params(torch, [z0]), make_params(ember, [z0])

    def closure_for(lib, opt, z):
        def closure():
            opt.zero_grad()
            loss = lib.real(z * z.conj()).sum() + (lib.real(z) * lib.imag(z)).sum()
            loss.backward()
            return loss
        return closure

    topt, eopt = torch.optim.LBFGS([tz], max_iter=5), ember.optim.LBFGS([ez], max_iter=5)
    topt.step(closure_for(torch, topt, tz))
    eopt.step(closure_for(ember, eopt, ez))
    np.testing.assert_allclose(to_numpy(ez), to_numpy(tz), rtol=1e-6, atol=1e-9)


def test_errors():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([1.0], requires_grad=True)
    opt = ember.optim.LBFGS([x])
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'closure'"):
        opt.step()
    with pytest.raises(TypeError, match="not callable"):
        opt.step(None)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        ember.optim.LBFGS([{"params": [x]}, {"params": [y]}])
    bad = ember.optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        bad.step(_closure(bad, x))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ember.optim.LBFGS([x], lr=-1)
