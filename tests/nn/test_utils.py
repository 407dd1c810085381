"""ember.nn.utils against torch.nn.utils: gradient clipping, parameter vectors, weight and
spectral normalisation (hooks and parametrizations), parametrize."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import assert_close, needs_torch, rand, torch

RNG = np.random.default_rng(0)


def _pair(ctor, *args, **kwargs):
    t = getattr(torch.nn, ctor)(*args, **kwargs)
    e = getattr(ember.nn, ctor)(*args, **kwargs)
    _copy(t, e)
    return t, e


def _copy(t, e):
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})


def _grads_like(shapes, scale=1.0, dtype=np.float32):
    return [(RNG.standard_normal(s) * scale).astype(dtype) for s in shapes]


def _params(lib, arrays, grads):
    ps = []
    for a, g in zip(arrays, grads):
        p = lib.nn.Parameter(lib.tensor(a))
        p.grad = None if g is None else lib.tensor(g)
        ps.append(p)
    return ps


def _run(t, e, x, atol=1e-5):
    """Forward both modules on ``x`` and backward a random upstream gradient; compare."""
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt, ye = t(xt), e(xe)
    assert_close(ye, yt, atol=atol, rtol=1e-5)
    g = RNG.standard_normal(tuple(yt.shape)).astype(x.dtype)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    assert_close(xe.grad, xt.grad, atol=atol, rtol=1e-5, what="input grad")
    tp, ep = dict(t.named_parameters()), dict(e.named_parameters())
    assert sorted(tp) == sorted(ep)
    for name, p in tp.items():
        assert_close(ep[name].grad, p.grad, atol=atol, rtol=1e-5, what=f"grad of {name}")


# ---------------------------------------------------------------------------------------------
# clip_grad
# ---------------------------------------------------------------------------------------------

SHAPES = [(3, 4), (5,), (2, 2, 2)]


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, -math.inf, 0, 0.5, 3, "inf"])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e4])
@pytest.mark.parametrize("foreach", [None, False, True])
@pytest.mark.parametrize("scale", [1.0, 1e30])
def test_clip_grad_norm(norm_type, max_norm, foreach, scale):
    """Every norm type (0 counts non-zeros, -inf is the smallest magnitude), with and without
    foreach; float32 gradients near overflow (1e30) as PyTorch computes them."""
    arrays = [rand(*s) for s in SHAPES]
    grads = [g * np.float32(scale) for g in _grads_like(SHAPES)] + [None]
    arrays.append(rand(2))
    pt, pe = _params(torch, arrays, grads), _params(ember, arrays, grads)
    nt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type, foreach=foreach)
    ne = ember.nn.utils.clip_grad_norm_(pe, max_norm, norm_type, foreach=foreach)
    assert_close(ne, nt)
    for a, b in zip(pe, pt):
        if b.grad is None:
            assert a.grad is None
        else:
            assert_close(a.grad, b.grad, what="clipped grad")


@needs_torch
def test_clip_grad_norm_inputs():
    g = _grads_like([(4, 3)], 10)
    pt, pe = _params(torch, [rand(4, 3)], g), _params(ember, [rand(4, 3)], g)
    # a single tensor, a generator, mixed dtypes
    assert_close(ember.nn.utils.clip_grad_norm_(pe[0], 1.0),
                 torch.nn.utils.clip_grad_norm_(pt[0], 1.0))
    assert_close(pe[0].grad, pt[0].grad)
    g2 = _grads_like([(3,)], 5, np.float64)
    pt2, pe2 = _params(torch, [rand(3, dtype=np.float64)], g2), \
        _params(ember, [rand(3, dtype=np.float64)], g2)
    nt = torch.nn.utils.clip_grad_norm_((p for p in pt + pt2), 0.5)
    ne = ember.nn.utils.clip_grad_norm_((p for p in pe + pe2), 0.5)
    assert_close(ne, nt)
    assert_close(pe2[0].grad, pt2[0].grad)
    # no gradients at all: a zero norm, nothing touched
    assert_close(ember.nn.utils.clip_grad_norm_([ember.nn.Parameter(ember.ones(2))], 1.0),
                 torch.nn.utils.clip_grad_norm_([torch.nn.Parameter(torch.ones(2))], 1.0))
    with pytest.warns(UserWarning, match="empty generator"):
        ember.nn.utils.clip_grad_norm_((p for p in []), 1.0)


@needs_torch
@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_nonfinite(bad):
    g = _grads_like([(3, 2), (4,)])
    g[1][2] = bad
    pt, pe = _params(torch, [rand(3, 2), rand(4)], g), _params(ember, [rand(3, 2), rand(4)], g)
    with pytest.raises(RuntimeError) as te:
        torch.nn.utils.clip_grad_norm_(pt, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as ee:
        ember.nn.utils.clip_grad_norm_(pe, 1.0, error_if_nonfinite=True)
    assert str(ee.value) == str(te.value)
    assert_close(pe[0].grad, pt[0].grad)  # nothing changed before the error
    nt = torch.nn.utils.clip_grad_norm_(pt, 1.0)
    ne = ember.nn.utils.clip_grad_norm_(pe, 1.0)
    assert_close(ne, nt)
    for a, b in zip(pe, pt):
        assert_close(a.grad, b.grad)


@needs_torch
def test_total_norm_and_clip_with_norm_and_deprecated():
    g = _grads_like(SHAPES, 3)
    pt, pe = _params(torch, [rand(*s) for s in SHAPES], g), \
        _params(ember, [rand(*s) for s in SHAPES], g)
    for nt in [2, 1, math.inf]:
        assert_close(ember.nn.utils.get_total_norm([p.grad for p in pe], nt),
                     torch.nn.utils.get_total_norm([p.grad for p in pt], nt))
    tn = torch.nn.utils.get_total_norm([p.grad for p in pt])
    en = ember.nn.utils.get_total_norm([p.grad for p in pe])
    torch.nn.utils.clip_grads_with_norm_(pt, 0.7, tn)
    ember.nn.utils.clip_grads_with_norm_(pe, 0.7, en)
    for a, b in zip(pe, pt):
        assert_close(a.grad, b.grad)
    assert_close(ember.nn.utils.get_total_norm([]), torch.nn.utils.get_total_norm([]))
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        ember.nn.utils.clip_grad_norm(pe, 1.0)


@needs_torch
@pytest.mark.parametrize("clip", [0.1, 1, 5.0])
def test_clip_grad_value(clip):
    g = _grads_like(SHAPES, 2) + [None]
    arrays = [rand(*s) for s in SHAPES] + [rand(2)]
    pt, pe = _params(torch, arrays, g), _params(ember, arrays, g)
    assert torch.nn.utils.clip_grad_value_(pt, clip) is None
    assert ember.nn.utils.clip_grad_value_(pe, clip, foreach=True) is None
    for a, b in zip(pe, pt):
        if b.grad is not None:
            assert_close(a.grad, b.grad)
    ember.nn.utils.clip_grad_value_(pe[0], 0.01)
    assert float(pe[0].grad.abs().max()) <= 0.01


def test_clipping_does_not_record_graph():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.tensor([3.0, 4.0, 0.0], requires_grad=True)
    n = ember.nn.utils.clip_grad_norm_([p], 1.0)
    assert not n.requires_grad


# ---------------------------------------------------------------------------------------------
# convert_parameters
# ---------------------------------------------------------------------------------------------

@needs_torch
def test_parameters_vector_round_trip():
    t, e = _pair("Linear", 4, 3)
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    ve = ember.nn.utils.parameters_to_vector(e.parameters())
    assert_close(ve, vt)
    ve.sum().backward()
    assert np.array_equal(e.weight.grad.numpy(), np.ones((3, 4), np.float32))
    new = rand(15)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), t.parameters())
    ember.nn.utils.vector_to_parameters(ember.tensor(new), e.parameters())
    assert_close(e.weight, t.weight)
    assert_close(e.bias, t.bias)
    assert isinstance(e.weight, ember.nn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        ember.nn.utils.vector_to_parameters([1.0], e.parameters())


# ---------------------------------------------------------------------------------------------
# weight_norm / spectral_norm (hooks)
# ---------------------------------------------------------------------------------------------

WN_CASES = [("Linear", (4, 3), (2, 4), 0), ("Linear", (4, 3), (2, 4), 1),
            ("Linear", (4, 3), (2, 4), None), ("Conv2d", (2, 3, 3), (2, 2, 5, 5), 0),
            ("Conv1d", (2, 3, 2), (2, 2, 6), 2), ("Conv2d", (2, 3, 3), (1, 2, 4, 4), -1)]


@needs_torch
@pytest.mark.parametrize("ctor,args,xshape,dim", WN_CASES)
def test_weight_norm_hook(ctor, args, xshape, dim):
    t, e = _pair(ctor, *args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(t, dim=dim)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        ember.nn.utils.weight_norm(e, dim=dim)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight_g, t.weight_g)
    _run(t, e, rand(*xshape))
    torch.nn.utils.remove_weight_norm(t)
    ember.nn.utils.remove_weight_norm(e)
    assert list(e.state_dict()) == list(t.state_dict())
    assert isinstance(e.weight, ember.nn.Parameter)
    assert_close(e.weight, t.weight)


def test_weight_norm_hook_errors():
    m = ember.nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ember.nn.utils.weight_norm(m)
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
            ember.nn.utils.weight_norm(m)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
        ember.nn.utils.remove_weight_norm(m, "bias")


SN_CASES = [("Linear", (4, 3), (2, 4), {}), ("Conv2d", (2, 3, 3), (2, 2, 5, 5), {}),
            ("ConvTranspose2d", (2, 3, 3), (2, 2, 4, 4), {}),
            ("Linear", (5, 3), (2, 5), {"n_power_iterations": 3, "dim": 1})]


@needs_torch
@pytest.mark.parametrize("ctor,args,xshape,kw", SN_CASES)
def test_spectral_norm_hook(ctor, args, xshape, kw):
    t, e = _pair(ctor, *args)
    torch.nn.utils.spectral_norm(t, **kw)
    ember.nn.utils.spectral_norm(e, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    _copy(t, e)  # the same random power-iteration start
    for _ in range(2):  # training mode advances u and v at every forward
        _run(t, e, rand(*xshape))
        assert_close(e.weight_u, t.weight_u, atol=1e-5)
        assert_close(e.weight_v, t.weight_v, atol=1e-5)
    t.eval()
    e.eval()
    u = e.weight_u.clone()
    _run(t, e, rand(*xshape))
    assert np.array_equal(u.numpy(), e.weight_u.numpy())
    sd_t, sd_e = t.state_dict(), e.state_dict()
    assert sd_e._metadata[""]["spectral_norm"] == sd_t._metadata[""]["spectral_norm"]
    torch.nn.utils.remove_spectral_norm(t)
    ember.nn.utils.remove_spectral_norm(e)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight, atol=1e-5)


@needs_torch
def test_spectral_norm_hook_state_dict_and_errors():
    t, e = _pair("Linear", 4, 3)
    torch.nn.utils.spectral_norm(t)
    ember.nn.utils.spectral_norm(e)
    _copy(t, e)
    e2 = ember.nn.utils.spectral_norm(ember.nn.Linear(4, 3))
    e2.load_state_dict(e.state_dict())
    e.eval()
    e2.eval()
    x = ember.tensor(rand(2, 4))
    assert np.allclose(e(x).detach().numpy(), e2(x).detach().numpy())
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        ember.nn.utils.spectral_norm(e)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
        ember.nn.utils.spectral_norm(ember.nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        ember.nn.utils.remove_spectral_norm(ember.nn.Linear(2, 2))


# ---------------------------------------------------------------------------------------------
# parametrizations
# ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrized_weight_norm(dim):
    t, e = _pair("Linear", 4, 3)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    ember.nn.utils.parametrizations.weight_norm(e, dim=dim)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    assert type(e).__name__ == "ParametrizedLinear"
    _run(t, e, rand(2, 4))
    # checkpoints of the hook-based weight_norm (weight_g / weight_v) still load
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3), dim=0 if dim is None else dim)
    if dim is not None:
        e.load_state_dict({k: ember.tensor(v.detach().numpy())
                           for k, v in old.state_dict().items()})
        assert_close(e.weight, old.weight, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("ctor,args,xshape", [("Linear", (4, 3), (2, 4)),
                                              ("Conv2d", (2, 3, 3), (1, 2, 4, 4)),
                                              ("ConvTranspose1d", (2, 3, 3), (1, 2, 5))])
def test_parametrized_spectral_norm(ctor, args, xshape):
    t, e = _pair(ctor, *args)
    torch.nn.utils.parametrizations.spectral_norm(t)
    ember.nn.utils.parametrizations.spectral_norm(e)
    assert list(e.state_dict()) == list(t.state_dict())
    _copy(t, e)
    for _ in range(2):
        _run(t, e, rand(*xshape))
    e.eval()
    t.eval()
    _run(t, e, rand(*xshape))
    assert_close(e.parametrizations.weight[0]._u, t.parametrizations.weight[0]._u, atol=1e-5)


@needs_torch
def test_parametrized_spectral_norm_vector_and_errors():
    t = torch.nn.Module()
    e = ember.nn.Module()
    v = rand(5)
    t.w = torch.nn.Parameter(torch.tensor(v))
    e.w = ember.nn.Parameter(ember.tensor(v))
    torch.nn.utils.parametrizations.spectral_norm(t, "w")
    ember.nn.utils.parametrizations.spectral_norm(e, "w")
    assert_close(e.w, t.w)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.nn.utils.parametrizations.spectral_norm(ember.nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'foo'"):
        ember.nn.utils.parametrizations.spectral_norm(ember.nn.Linear(2, 2), "foo")


@needs_torch
@pytest.mark.parametrize("orth_map", ["matrix_exp", "cayley", "householder", None])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_parametrized_orthogonal(orth_map, shape):
    t, e = _pair("Linear", shape[1], shape[0])
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=orth_map)
    ember.nn.utils.parametrizations.orthogonal(e, orthogonal_map=orth_map)
    assert list(e.state_dict()) == list(t.state_dict())
    w = e.weight.detach().numpy()
    k = min(shape)
    gram = w @ w.T if shape[0] < shape[1] else w.T @ w
    assert np.allclose(gram, np.eye(k), atol=1e-5)
    _copy(t, e)
    assert_close(e.weight, t.weight, atol=1e-5)
    _run(t, e, rand(2, shape[1]), atol=1e-4)


@needs_torch
def test_orthogonal_without_trivialization():
    t, e = _pair("Linear", 3, 5)
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map="householder",
                                               use_trivialization=False)
    ember.nn.utils.parametrizations.orthogonal(e, orthogonal_map="householder",
                                               use_trivialization=False)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.parametrizations.weight.original, t.parametrizations.weight.original,
                 atol=1e-5)
    assert_close(e.weight, t.weight, atol=1e-5)
    m = ember.nn.utils.parametrizations.orthogonal(ember.nn.Linear(3, 3), orthogonal_map="cayley",
                                                   use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m.weight = ember.eye(3)
    with pytest.raises(ValueError, match='orthogonal_map has to be one of'):
        ember.nn.utils.parametrizations.orthogonal(ember.nn.Linear(3, 3), orthogonal_map="foo")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        ember.nn.utils.parametrizations.orthogonal(ember.nn.Linear(3, 3), "bias")


# ---------------------------------------------------------------------------------------------
# parametrize
# ---------------------------------------------------------------------------------------------

def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()

    return Symmetric()


def _scale(lib, k):
    class Scale(lib.nn.Module):
        def forward(self, x):
            return x * k

    return Scale()


def _scale_inv(lib, k):
    class ScaleInv(lib.nn.Module):
        def forward(self, x):
            return x * k

        def right_inverse(self, x):
            return x / k

    return ScaleInv()


@needs_torch
def test_register_parametrization_chain_and_remove():
    t, e = _pair("Linear", 3, 3)
    P = {torch: torch.nn.utils.parametrize, ember: ember.nn.utils.parametrize}
    for lib, m in ((torch, t), (ember, e)):
        P[lib].register_parametrization(m, "weight", _symmetric(lib))
        P[lib].register_parametrization(m, "weight", _scale_inv(lib, 2.0))
        assert P[lib].is_parametrized(m) and P[lib].is_parametrized(m, "weight")
        assert not P[lib].is_parametrized(m, "bias")
        assert P[lib].type_before_parametrizations(m) is lib.nn.Linear
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight)
    _run(t, e, rand(2, 3))
    # assignment goes through right_inverse
    new = rand(3, 3)
    with torch.no_grad():
        t.weight = torch.tensor(new)
    e.weight = ember.tensor(new)
    assert_close(e.parametrizations.weight.original, t.parametrizations.weight.original)
    with P[ember].cached():
        assert e.weight is e.weight
    assert e.weight is not e.weight
    for leave in (True,):
        P[torch].remove_parametrizations(t, "weight", leave_parametrized=leave)
        P[ember].remove_parametrizations(e, "weight", leave_parametrized=leave)
    assert type(e) is ember.nn.Linear
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight)
    assert isinstance(e.weight, ember.nn.Parameter)


@needs_torch
def test_remove_parametrization_back_to_original():
    m = ember.nn.Linear(3, 3)
    w = m.weight.detach().clone()
    ember.nn.utils.parametrize.register_parametrization(m, "weight", _scale(ember, 3.0))
    assert np.allclose(m.weight.detach().numpy(), 3 * w.numpy())
    ember.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert np.allclose(m.weight.detach().numpy(), w.numpy())


def test_parametrize_errors_and_copies():
    P = ember.nn.utils.parametrize
    m = ember.nn.Linear(3, 2)

    class Bad(ember.nn.Module):
        def forward(self, x):
            return x[0]

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(m, "weight", Bad())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(m, "foo", _scale(ember, 2.0))
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(m, "weight")
    P.register_parametrization(m, "weight", _scale(ember, 2.0))
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = ember.zeros(2, 3)
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)
    c = copy.deepcopy(m)
    assert np.allclose(c.weight.detach().numpy(), m.weight.detach().numpy())
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    n = ember.nn.Linear(3, 2)
    P.transfer_parametrizations_and_params(m, n)
    assert P.is_parametrized(n, "weight")
    assert np.allclose(n.weight.detach().numpy(), m.weight.detach().numpy())


def test_parametrized_buffer_and_multi_tensor_right_inverse():
    P = ember.nn.utils.parametrize
    m = ember.nn.Module()
    m.register_buffer("b", ember.tensor([1.0, 2.0]))
    P.register_parametrization(m, "b", _scale(ember, 2.0))
    assert "parametrizations.b.original" in m.state_dict()
    assert np.allclose(m.b.numpy(), [2.0, 4.0])

    class Split(ember.nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, x):
            return x / 2, x / 2

    lin = ember.nn.Linear(2, 2)
    w = lin.weight.detach().clone()
    P.register_parametrization(lin, "weight", Split())
    assert {"parametrizations.weight.original0", "parametrizations.weight.original1"} <= \
        set(lin.state_dict())
    assert np.allclose(lin.weight.detach().numpy(), w.numpy())
    lin.weight.sum().backward()
    assert lin.parametrizations.weight.original0.grad is not None
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(lin, "weight", leave_parametrized=False)
    P.remove_parametrizations(lin, "weight")
    assert np.allclose(lin.weight.detach().numpy(), w.numpy())


def test_gradcheck_weight_norm():
    from ember.nn.utils.weight_norm import _weight_norm

    v = ember.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    g = ember.tensor(RNG.standard_normal((3, 1)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: _weight_norm(a, b, 0), [v, g])
    assert ember.autograd.gradgradcheck(lambda a, b: _weight_norm(a, b, 0), [v, g])
