"""Normalization layers against PyTorch: F.batch_norm/instance_norm/layer_norm/group_norm/
rms_norm/local_response_norm, BatchNorm*, InstanceNorm*, LayerNorm, GroupNorm, RMSNorm,
LocalResponseNorm, CrossMapLRN2d (values, gradients, running statistics, state dicts, reprs,
errors) and double backward in float64."""

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import (
    DEVICE,
    Const,
    Sliced,
    Transposed,
    check,
    check_raises,
    needs_torch,
    rand,
    same_message,
    to_numpy,
    torch,
)

pytestmark = needs_torch


def _f(lib):
    return lib.nn.functional


def _et(a, grad=False):
    t = ember.tensor(np.array(a, copy=True))
    if DEVICE != "cpu":
        t = t.to(DEVICE)
    return t.requires_grad_(grad) if grad else t


def _tt(a, grad=False):
    return torch.tensor(np.array(a, copy=True), requires_grad=grad)


def _close(e, t, atol=1e-5, rtol=1e-5, what=""):
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), atol=atol, rtol=rtol, err_msg=what)


# ------------------------------------------------------------------------------ F.batch_norm


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    params = [rand(3), rand(3)] if affine else []
    check(lambda lib, x, *wb: _f(lib).batch_norm(x, None, None, *wb, training=True),
          rand(*shape), *params, atol=1e-5, grad_atol=1e-4, grad_rtol=1e-4)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_eval(shape):
    rm, rv = rand(3), rand(3, low=0.5, high=2.0)
    check(lambda lib, x, w, b: _f(lib).batch_norm(x, lib.tensor(rm), lib.tensor(rv), w, b,
                                                  training=False, eps=1e-3),
          rand(*shape), rand(3), rand(3))
    check(lambda lib, x: _f(lib).batch_norm(x, lib.tensor(rm), lib.tensor(rv)), rand(*shape))


def test_batch_norm_only_weight_or_bias():
    check(lambda lib, x, w: _f(lib).batch_norm(x, None, None, w, training=True),
          rand(4, 3, 5), rand(3), grad_atol=1e-4)
    check(lambda lib, x, b: _f(lib).batch_norm(x, None, None, None, b, training=True),
          rand(4, 3, 5), rand(3), grad_atol=1e-4)
    check(lambda lib, x, b: _f(lib).batch_norm(x, None, None, None, b, training=True),
          rand(4, 3, 5), Const(rand(3)), grad_atol=1e-4)
    check(lambda lib, x, w: _f(lib).batch_norm(x, None, None, w, training=True),
          Const(rand(4, 3, 5)), rand(3), grad_atol=1e-4)


def test_batch_norm_noncontiguous():
    check(lambda lib, x, w, b: _f(lib).batch_norm(x, None, None, w, b, training=True),
          Transposed(rand(4, 3, 5)), rand(3), rand(3), grad_atol=1e-4)
    check(lambda lib, x: _f(lib).batch_norm(x, None, None, training=True),
          Sliced(rand(6, 3, 4)), grad_atol=1e-4)


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
def test_batch_norm_running_stats_update(momentum):
    x = rand(8, 3, 5)
    rm0, rv0 = rand(3), rand(3, low=0.5, high=2.0)
    t_rm, t_rv = _tt(rm0), _tt(rv0)
    e_rm, e_rv = _et(rm0), _et(rv0)
    t_y = torch.nn.functional.batch_norm(_tt(x), t_rm, t_rv, training=True, momentum=momentum)
    e_y = ember.nn.functional.batch_norm(_et(x), e_rm, e_rv, training=True, momentum=momentum)
    _close(e_y, t_y)
    _close(e_rm, t_rm, what="running_mean")
    _close(e_rv, t_rv, what="running_var (unbiased)")
    assert e_rm._version > 0


def test_batch_norm_grad_fn_and_dtypes():
    x = ember.ones(4, 3, requires_grad=True)
    y = ember.nn.functional.batch_norm(x + 0, None, None, training=True)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    check(lambda lib, x, w, b: _f(lib).batch_norm(x, None, None, w, b, training=True),
          rand(4, 3, 5, dtype=np.float64), rand(3, dtype=np.float64),
          rand(3, dtype=np.float64), atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("dt", [np.float16, "bfloat16"])
def test_batch_norm_half_inputs(dt):
    """16-bit inputs: float32 statistics; float32 or same-dtype parameters."""
    def mk(a):
        return a.astype(np.float16) if dt == np.float16 else a

    def run(lib, x, w, b, rm, rv):
        if dt != np.float16:
            x = x.to(lib.bfloat16)
        return _f(lib).batch_norm(x, rm, rv, w, b, training=True)
    check(run, mk(rand(4, 3, 5)), rand(3), rand(3), Const(rand(3)), Const(rand(3) + 2),
          atol=1e-2, rtol=1e-2, grad_atol=3e-2, grad_rtol=3e-2)


@pytest.mark.parametrize("fn", [
    lambda lib, x: _f(lib).batch_norm(x, None, None, lib.ones(4), training=True),
    lambda lib, x: _f(lib).batch_norm(x, None, None, lib.ones(3), lib.zeros(4), training=True),
    lambda lib, x: _f(lib).batch_norm(x, lib.zeros(4), lib.ones(3), training=True),
    lambda lib, x: _f(lib).batch_norm(x, lib.zeros(3), lib.ones(4), training=False),
    lambda lib, x: _f(lib).batch_norm(x, None, None, training=False),
    lambda lib, x: _f(lib).batch_norm(x, lib.zeros(3), None, training=True),
    lambda lib, x: _f(lib).batch_norm(x, None, None, training=True, eps=0),
    lambda lib, x: _f(lib).batch_norm(x, lib.zeros(3), lib.ones(3), eps=-1),
    lambda lib, x: _f(lib).batch_norm(x.long(), None, None, training=True),
    lambda lib, x: _f(lib).batch_norm(x, None, None, lib.ones(3, dtype=lib.float64),
                                      training=True),
    lambda lib, x: _f(lib).batch_norm(x.double(), None, None, lib.ones(3), training=True),
    lambda lib, x: _f(lib).batch_norm(x, None, None, lib.ones(3), lib.ones(3).half(),
                                      training=True),
    lambda lib, x: _f(lib).batch_norm(x.half(), None, None, lib.ones(3), lib.ones(3).half(),
                                      training=True),
    lambda lib, x: _f(lib).batch_norm(x[:1, :, :1], None, None, training=True),
    lambda lib, x: _f(lib).batch_norm(x[0, 0], None, None, training=True),
    lambda lib, x: _f(lib).batch_norm(x, None, None, training=True, momentum=None),
    lambda lib, x: _f(lib).batch_norm(x, lib.zeros(3), lib.ones(3), training=True,
                                      momentum="0.1"),
])
def test_batch_norm_errors(fn):
    same_message(fn, Const(rand(4, 3, 5)))


def test_batch_norm_one_value_per_channel_message():
    msg, _ = check_raises(lambda lib, x: _f(lib).batch_norm(x, None, None, training=True),
                          Const(rand(1, 10)))
    assert msg == ("Expected more than 1 value per channel when training, got input size "
                   "torch.Size([1, 10])")


def test_batch_norm_empty_batch():
    check(lambda lib, x, w, b: _f(lib).batch_norm(x, lib.zeros(3), lib.ones(3), w, b,
                                                  training=True),
          rand(0, 3), rand(3), rand(3))


def test_batch_norm_double_backward():
    x = ember.tensor(rand(4, 3, 5, dtype=np.float64), requires_grad=True)
    w = ember.tensor(rand(3, dtype=np.float64), requires_grad=True)
    b = ember.tensor(rand(3, dtype=np.float64), requires_grad=True)
    rm = ember.tensor(rand(3, dtype=np.float64))
    rv = ember.tensor(rand(3, dtype=np.float64, low=0.5, high=2.0))
    F = ember.nn.functional
    train = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    evalm = lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False)  # noqa: E731
    for fn in (train, evalm):
        assert ember.autograd.gradcheck(fn, (x, w, b))
        assert ember.autograd.gradgradcheck(fn, (x, w, b))
    assert ember.autograd.gradgradcheck(
        lambda x: F.batch_norm(x, None, None, training=True), (x,))


def test_batch_norm_double_backward_matches_torch():
    x = rand(4, 3, 5, dtype=np.float64)
    w = rand(3, dtype=np.float64)
    res = []
    for lib, mk in ((torch, _tt), (ember, _et)):
        xt, wt = mk(x, True), mk(w, True)
        y = lib.nn.functional.batch_norm(xt, None, None, wt, training=True)
        (gx,) = lib.autograd.grad((y * y * y).sum(), xt, create_graph=True)
        res.append(lib.autograd.grad((gx * gx).sum(), (xt, wt)))
    for e, t in zip(res[1], res[0]):
        _close(e, t, atol=1e-9, rtol=1e-7)


# ------------------------------------------------------------------------------ BatchNorm modules


def _copy_from_torch(e_mod, t_mod):
    sd = {k: to_numpy(v) for k, v in t_mod.state_dict().items()}
    e_mod.load_state_dict(sd)


def _step(e_mod, t_mod, x, tol=1e-5):
    """One forward/backward of both modules: outputs, input and parameter gradients."""
    t_in, e_in = _tt(x, True), _et(x, True)
    t_out, e_out = t_mod(t_in), e_mod(e_in)
    _close(e_out, t_out, atol=tol, rtol=tol, what="output")
    up = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(x.dtype)
    t_out.backward(_tt(up))
    e_out.backward(_et(up))
    _close(e_in.grad, t_in.grad, atol=10 * tol, rtol=10 * tol, what="input grad")
    t_grads = dict(t_mod.named_parameters())
    for n, p in e_mod.named_parameters():
        tp = t_grads[n]
        assert (p.grad is None) == (tp.grad is None), n
        if tp.grad is not None:
            _close(p.grad, tp.grad, atol=10 * tol, rtol=10 * tol, what=f"grad of {n}")


def _same_state(e_mod, t_mod, tol=1e-5):
    te = e_mod.state_dict()
    tt = t_mod.state_dict()
    assert list(te.keys()) == list(tt.keys())
    for k in tt:
        assert str(te[k].dtype) == str(tt[k].dtype), k
        _close(te[k], tt[k], atol=tol, rtol=tol, what=k)


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)),
                                        ("BatchNorm2d", (3, 4, 3, 2)),
                                        ("BatchNorm3d", (2, 4, 2, 3, 2))])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3},
                                {"affine": False}, {"bias": False},
                                {"track_running_stats": False}])
def test_batchnorm_module_training_steps(cls, shape, kw):
    t_mod = getattr(torch.nn, cls)(4, **kw)
    e_mod = getattr(ember.nn, cls)(4, **kw)
    if DEVICE != "cpu":
        e_mod = e_mod.to(DEVICE)
    assert repr(e_mod) == repr(t_mod)
    with torch.no_grad():
        if t_mod.weight is not None:
            t_mod.weight.uniform_(0.5, 1.5)
        if t_mod.bias is not None:
            t_mod.bias.uniform_(-0.5, 0.5)
    _copy_from_torch(e_mod, t_mod)
    rng = np.random.default_rng(7)
    for _ in range(4):
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
        _step(e_mod, t_mod, x)
        for p in list(e_mod.parameters()) + list(t_mod.parameters()):
            p.grad = None
    _same_state(e_mod, t_mod)
    if t_mod.track_running_stats:
        assert int(e_mod.num_batches_tracked) == 4
    t_mod.eval()
    e_mod.eval()
    _step(e_mod, t_mod, rng.standard_normal(shape).astype(np.float32))
    _same_state(e_mod, t_mod)


def test_batchnorm_state_dict_and_buffers():
    m = ember.nn.BatchNorm2d(3)
    t = torch.nn.BatchNorm2d(3)
    assert list(m.state_dict()) == list(t.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert m.num_batches_tracked.dtype is ember.int64 and m.num_batches_tracked.ndim == 0
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    m2 = ember.nn.BatchNorm2d(3, track_running_stats=False)
    assert m2.running_mean is None and list(m2.state_dict()) == ["weight", "bias"]
    d = ember.nn.BatchNorm1d(3, dtype=ember.float64)
    assert d.weight.dtype is ember.float64 and d.running_var.dtype is ember.float64
    assert d.num_batches_tracked.dtype is ember.int64


def test_batchnorm_loads_torch_checkpoint_and_old_versions():
    t = torch.nn.BatchNorm1d(3)
    t(torch.randn(5, 3))
    e = ember.nn.BatchNorm1d(3)
    e.load_state_dict({k: to_numpy(v) for k, v in t.state_dict().items()})
    assert int(e.num_batches_tracked) == 1
    _close(e.running_mean, t.running_mean)
    # a checkpoint from before num_batches_tracked existed (no version metadata)
    old = {k: to_numpy(v) for k, v in t.state_dict().items() if k != "num_batches_tracked"}
    e2 = ember.nn.BatchNorm1d(3)
    e2.load_state_dict(old)
    assert int(e2.num_batches_tracked) == 0
    # and back: ember's state dict loads into torch
    t2 = torch.nn.BatchNorm1d(3)
    t2.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in e.state_dict().items()})
    assert int(t2.num_batches_tracked) == 1


def test_batchnorm_reset():
    m = ember.nn.BatchNorm1d(3)
    m(ember.randn(4, 3) * 3 + 1)
    m.reset_running_stats()
    assert to_numpy(m.running_mean).tolist() == [0, 0, 0]
    assert to_numpy(m.running_var).tolist() == [1, 1, 1]
    assert int(m.num_batches_tracked) == 0


def test_batchnorm_eval_without_running_stats_uses_batch():
    t = torch.nn.BatchNorm1d(3, track_running_stats=False).eval()
    e = ember.nn.BatchNorm1d(3, track_running_stats=False).eval()
    _step(e, t, rand(5, 3))


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (2, 3, 4, 5)), ("BatchNorm1d", (3,)),
                                        ("BatchNorm2d", (2, 3, 4)), ("BatchNorm3d", (2, 3, 4, 5))])
def test_batchnorm_module_dim_errors(cls, shape):
    msg, tmsg = check_raises(lambda lib, x: getattr(lib.nn, cls)(3)(x), Const(rand(*shape)))
    assert msg == tmsg


def test_batchnorm_one_value_per_channel_module():
    same_message(lambda lib, x: lib.nn.BatchNorm1d(10)(x), Const(rand(1, 10)))
    # eval mode has no such restriction
    check(lambda lib, x: lib.nn.BatchNorm1d(10).eval()(x), Const(rand(1, 10)))


@pytest.mark.parametrize("cls, shape", [("LazyBatchNorm1d", (4, 3)),
                                        ("LazyBatchNorm2d", (2, 3, 2, 2)),
                                        ("LazyBatchNorm3d", (2, 3, 2, 2, 2))])
def test_lazy_batchnorm(cls, shape):
    e = getattr(ember.nn, cls)()
    t = getattr(torch.nn, cls)()
    assert repr(e) == repr(t)
    x = rand(*shape)
    _close(e(_et(x)), t(_tt(x)))
    assert type(e).__name__ == type(t).__name__
    assert repr(e) == repr(t)
    _same_state(e, t)


def test_sync_batchnorm_single_process():
    t = torch.nn.SyncBatchNorm(3)
    e = ember.nn.SyncBatchNorm(3)
    assert repr(e) == repr(t)
    _step(e, t, rand(4, 3, 5))
    _same_state(e, t)
    same_message(lambda lib, x: lib.nn.SyncBatchNorm(3)(x), Const(rand(3)))
    conv = ember.nn.SyncBatchNorm.convert_sync_batchnorm(
        ember.nn.Sequential(ember.nn.BatchNorm2d(3), ember.nn.ReLU()
                            if hasattr(ember.nn, "ReLU") else ember.nn.Identity()))
    assert type(conv[0]).__name__ == "SyncBatchNorm"


# ------------------------------------------------------------------------------ instance norm


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm(shape, affine):
    params = [rand(3), rand(3)] if affine else []
    check(lambda lib, x, *wb: _f(lib).instance_norm(x, None, None, *wb), rand(*shape), *params,
          grad_atol=1e-4, grad_rtol=1e-4)


def test_instance_norm_running_stats():
    x = rand(4, 3, 6)
    rm0, rv0 = rand(3), rand(3, low=0.5, high=2.0)
    t_rm, t_rv, e_rm, e_rv = _tt(rm0), _tt(rv0), _et(rm0), _et(rv0)
    t_y = torch.nn.functional.instance_norm(_tt(x), t_rm, t_rv, momentum=0.2)
    e_y = ember.nn.functional.instance_norm(_et(x), e_rm, e_rv, momentum=0.2)
    _close(e_y, t_y)
    _close(e_rm, t_rm)
    _close(e_rv, t_rv)
    check(lambda lib, x: _f(lib).instance_norm(x, lib.tensor(rm0), lib.tensor(rv0),
                                               use_input_stats=False), rand(4, 3, 6))


@pytest.mark.parametrize("fn", [
    lambda lib, x: _f(lib).instance_norm(x[:, :, :1]),
    lambda lib, x: _f(lib).instance_norm(x, lib.zeros(4), lib.ones(4)),
    lambda lib, x: _f(lib).instance_norm(x, None, None, use_input_stats=False),
    lambda lib, x: _f(lib).instance_norm(x, None, None, lib.ones(4)),
    lambda lib, x: _f(lib).instance_norm(x, None, None, momentum=None),
])
def test_instance_norm_errors(fn):
    same_message(fn, Const(rand(4, 3, 5)))


@pytest.mark.parametrize("cls, shape", [("InstanceNorm1d", (3, 4, 5)), ("InstanceNorm1d", (4, 5)),
                                        ("InstanceNorm2d", (2, 4, 3, 3)),
                                        ("InstanceNorm2d", (4, 3, 3)),
                                        ("InstanceNorm3d", (2, 4, 2, 3, 2))])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True, "momentum": 0.3}])
def test_instancenorm_modules(cls, shape, kw):
    t_mod = getattr(torch.nn, cls)(4, **kw)
    e_mod = getattr(ember.nn, cls)(4, **kw)
    assert repr(e_mod) == repr(t_mod)
    if t_mod.weight is not None:
        with torch.no_grad():
            t_mod.weight.uniform_(0.5, 1.5)
            t_mod.bias.uniform_(-0.5, 0.5)
    _copy_from_torch(e_mod, t_mod)
    rng = np.random.default_rng(3)
    for _ in range(3):
        _step(e_mod, t_mod, (rng.standard_normal(shape) + 1).astype(np.float32), tol=2e-5)
        for p in list(e_mod.parameters()) + list(t_mod.parameters()):
            p.grad = None
    _same_state(e_mod, t_mod)
    e_mod.eval()
    t_mod.eval()
    _step(e_mod, t_mod, rng.standard_normal(shape).astype(np.float32), tol=2e-5)


def test_instancenorm_num_features_mismatch():
    with pytest.warns(UserWarning, match="does not match num_features"):
        ember.nn.InstanceNorm1d(5)(ember.randn(2, 3, 4))
    msg, tmsg = check_raises(lambda lib, x: lib.nn.InstanceNorm1d(5, affine=True)(x),
                             Const(rand(2, 3, 4)))
    assert msg == tmsg
    same_message(lambda lib, x: lib.nn.InstanceNorm2d(3)(x), Const(rand(2, 3)))


def test_instancenorm_old_checkpoint_with_running_stats():
    m = ember.nn.InstanceNorm1d(3)
    with pytest.raises(RuntimeError, match="Unexpected running stats buffer"):
        m.load_state_dict({"running_mean": np.zeros(3, np.float32),
                           "running_var": np.ones(3, np.float32)})


def test_lazy_instancenorm():
    e, t = ember.nn.LazyInstanceNorm2d(), torch.nn.LazyInstanceNorm2d()
    assert repr(e) == repr(t)
    x = rand(2, 3, 4, 4)
    _close(e(_et(x)), t(_tt(x)))
    assert repr(e) == repr(t) and type(e).__name__ == "InstanceNorm2d"


def test_instance_norm_double_backward():
    x = ember.tensor(rand(2, 3, 5, dtype=np.float64), requires_grad=True)
    w = ember.tensor(rand(3, dtype=np.float64), requires_grad=True)
    b = ember.tensor(rand(3, dtype=np.float64), requires_grad=True)
    fn = lambda x, w, b: ember.nn.functional.instance_norm(x, None, None, w, b)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, w, b))
    assert ember.autograd.gradgradcheck(fn, (x, w, b))


# ------------------------------------------------------------------------------ layer norm


@pytest.mark.parametrize("shape, ns", [((4, 5), (5,)), ((2, 3, 5), (5,)), ((2, 3, 5), (3, 5)),
                                       ((2, 3, 4, 5), (4, 5)), ((5,), (5,)), ((2, 3), [2, 3])])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm(shape, ns, affine):
    ps = tuple(ns)
    params = {"both": [rand(*ps), rand(*ps)], "weight": [rand(*ps)], "none": []}[affine]
    check(lambda lib, x, *wb: _f(lib).layer_norm(x, ns, *wb, eps=1e-4), rand(*shape), *params,
          grad_atol=1e-4, grad_rtol=1e-4)


def test_layer_norm_bias_only_and_noncontiguous():
    check(lambda lib, x, b: _f(lib).layer_norm(x, (4,), None, b), rand(3, 4), rand(4))
    check(lambda lib, x, w, b: _f(lib).layer_norm(x, (3,), w, b), Transposed(rand(4, 5, 3)),
          rand(3), rand(3), grad_atol=1e-4)
    check(lambda lib, x, w: _f(lib).layer_norm(x, (4,), w), Sliced(rand(6, 4)), Const(rand(4)))


def test_layer_norm_grad_fn_and_large_values():
    x = ember.ones(2, 3, requires_grad=True)
    assert ember.nn.functional.layer_norm(x, (3,)).grad_fn.name() == "NativeLayerNormBackward0"


@pytest.mark.parametrize("fname", ["layer_norm", "batch_norm"])
def test_norm_of_offset_data_is_accurate(fname):
    """x ~ 1000 +- 0.005: statistics must not lose the centre (PyTorch accumulates in double);
    ember's error against a float64 reference is at most PyTorch's (plus a little)."""
    x = (np.random.default_rng(0).random((64, 16)) * 0.01 + 1000).astype(np.float32)
    x64 = x.astype(np.float64)
    if fname == "layer_norm":
        ref = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
        run = lambda lib, a: _f(lib).layer_norm(a, (16,))  # noqa: E731
    else:
        ref = (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-5)
        run = lambda lib, a: _f(lib).batch_norm(a, None, None, training=True)  # noqa: E731
    err_t = np.abs(to_numpy(run(torch, _tt(x))) - ref).max()
    err_e = np.abs(to_numpy(run(ember, _et(x))) - ref).max()
    assert err_e <= 1.5 * err_t + 1e-3, (err_e, err_t)


@pytest.mark.parametrize("dt", [np.float16, "bfloat16"])
def test_layer_norm_half(dt):
    def run(lib, x, w, b):
        x = x.to(lib.bfloat16) if dt == "bfloat16" else x.half()
        return _f(lib).layer_norm(x, (5,), w, b)
    check(run, rand(3, 5), rand(5), rand(5), grad_atol=3e-2, grad_rtol=3e-2)

    def run_same(lib, x, w):
        d = lib.bfloat16 if dt == "bfloat16" else lib.float16
        return _f(lib).layer_norm(x.to(d), (5,), w.to(d))
    check(run_same, rand(3, 5), rand(5), grad_atol=3e-2, grad_rtol=3e-2)


@pytest.mark.parametrize("fn", [
    lambda lib, x: _f(lib).layer_norm(x, (4,)),
    lambda lib, x: _f(lib).layer_norm(x, (3, 4)),
    lambda lib, x: _f(lib).layer_norm(x, (2, 4, 3, 5)),
    lambda lib, x: _f(lib).layer_norm(x, (5,), lib.ones(4)),
    lambda lib, x: _f(lib).layer_norm(x, (5,), lib.ones(5), lib.ones(4)),
    lambda lib, x: _f(lib).layer_norm(x, ()),
    lambda lib, x: _f(lib).layer_norm(x.long(), (5,)),
    lambda lib, x: _f(lib).layer_norm(x, 5),
    lambda lib, x: _f(lib).layer_norm(x, (5,), lib.ones(5, dtype=lib.float64)),
    lambda lib, x: _f(lib).layer_norm(x.double(), (5,), lib.ones(5)),
])
def test_layer_norm_errors(fn):
    same_message(fn, Const(rand(4, 3, 5)))


def test_layer_norm_empty():
    check(lambda lib, x, w: _f(lib).layer_norm(x, (4,), w), rand(0, 4), rand(4))


def test_layer_norm_double_backward():
    x = ember.tensor(rand(3, 2, 4, dtype=np.float64), requires_grad=True)
    w = ember.tensor(rand(2, 4, dtype=np.float64), requires_grad=True)
    b = ember.tensor(rand(2, 4, dtype=np.float64), requires_grad=True)
    fn = lambda x, w, b: ember.nn.functional.layer_norm(x, (2, 4), w, b)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, w, b))
    assert ember.autograd.gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False},
                                {"eps": 1e-3}])
@pytest.mark.parametrize("ns, shape", [(5, (3, 5)), ((2, 5), (4, 2, 5)), ([5], (2, 3, 5))])
def test_layernorm_module(kw, ns, shape):
    t_mod, e_mod = torch.nn.LayerNorm(ns, **kw), ember.nn.LayerNorm(ns, **kw)
    assert repr(e_mod) == repr(t_mod)
    assert e_mod.normalized_shape == t_mod.normalized_shape
    with torch.no_grad():
        for p in t_mod.parameters():
            p.uniform_(-1, 1)
    _copy_from_torch(e_mod, t_mod)
    _step(e_mod, t_mod, rand(*shape))


# ------------------------------------------------------------------------------ group norm


@pytest.mark.parametrize("shape, groups", [((2, 6, 5), 3), ((2, 6, 5), 1), ((2, 6, 5), 6),
                                           ((3, 4), 2), ((2, 4, 3, 3), 2), ((2, 4, 2, 2, 2), 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm(shape, groups, affine):
    c = shape[1]
    params = [rand(c), rand(c)] if affine else []
    check(lambda lib, x, *wb: _f(lib).group_norm(x, groups, *wb), rand(*shape), *params,
          grad_atol=1e-4, grad_rtol=1e-4)


def test_group_norm_grad_fn_weight_only_half():
    x = ember.ones(2, 4, 3, requires_grad=True)
    assert ember.nn.functional.group_norm(x, 2).grad_fn.name() == "NativeGroupNormBackward0"
    check(lambda lib, x, w: _f(lib).group_norm(x, 2, w), rand(2, 4, 3), rand(4),
          grad_atol=1e-4)
    check(lambda lib, x, w, b: _f(lib).group_norm(x.half(), 2, w, b), rand(2, 4, 3), rand(4),
          rand(4), grad_atol=3e-2, grad_rtol=3e-2)


@pytest.mark.parametrize("fn", [
    lambda lib, x: _f(lib).group_norm(x, 2),
    lambda lib, x: _f(lib).group_norm(x[0, 0], 1),
    lambda lib, x: _f(lib).group_norm(x, 3, lib.ones(4)),
    lambda lib, x: _f(lib).group_norm(x, 3, lib.ones(3), lib.ones(4)),
    lambda lib, x: _f(lib).group_norm(x[:1, :, 0], 3),
    lambda lib, x: _f(lib).group_norm(x.long(), 3),
])
def test_group_norm_errors(fn):
    same_message(fn, Const(rand(4, 3, 5)))


def test_group_norm_double_backward():
    x = ember.tensor(rand(2, 4, 3, dtype=np.float64), requires_grad=True)
    w = ember.tensor(rand(4, dtype=np.float64), requires_grad=True)
    b = ember.tensor(rand(4, dtype=np.float64), requires_grad=True)
    fn = lambda x, w, b: ember.nn.functional.group_norm(x, 2, w, b)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, w, b))
    assert ember.autograd.gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_groupnorm_module(kw):
    t_mod, e_mod = torch.nn.GroupNorm(2, 6, **kw), ember.nn.GroupNorm(2, 6, **kw)
    assert repr(e_mod) == repr(t_mod)
    with torch.no_grad():
        for p in t_mod.parameters():
            p.uniform_(-1, 1)
    _copy_from_torch(e_mod, t_mod)
    _step(e_mod, t_mod, rand(3, 6, 4))


def test_groupnorm_module_errors():
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        ember.nn.GroupNorm(2, 5)


# ------------------------------------------------------------------------------ rms norm


@pytest.mark.parametrize("shape, ns", [((3, 5), (5,)), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm(shape, ns, eps, affine):
    params = [rand(*ns)] if affine else []
    check(lambda lib, x, *w: _f(lib).rms_norm(x, ns, *w, eps=eps), rand(*shape), *params)


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "float64"])
def test_rms_norm_dtypes_and_default_eps(dt):
    # tiny inputs make eps visible: float16/bfloat16 use float32's epsilon, like PyTorch
    def run(lib, x, w):
        d = getattr(lib, dt)
        return _f(lib).rms_norm(x.to(d), (4,), w.to(d))
    check(run, rand(3, 4) * 1e-3, rand(4), grad_atol=3e-2, grad_rtol=3e-2)


def test_rms_norm_mixed_dtype_warns():
    x, w = ember.ones(2, 4, dtype=ember.float16), ember.ones(4)
    with pytest.warns(UserWarning, match="Mismatch dtype between input and weight"):
        y = ember.nn.functional.rms_norm(x, (4,), w)
    assert y.dtype is ember.float16


@pytest.mark.parametrize("fn", [
    lambda lib, x: _f(lib).rms_norm(x, (4,)),
    lambda lib, x: _f(lib).rms_norm(x, (3, 4)),
    lambda lib, x: _f(lib).rms_norm(x[0, 0], (3, 5)),
    lambda lib, x: _f(lib).rms_norm(x, (5,), lib.ones(4)),
    lambda lib, x: _f(lib).rms_norm(x.long(), (5,)),
])
def test_rms_norm_errors(fn):
    same_message(fn, Const(rand(4, 3, 5)))


def test_rms_norm_double_backward_and_module():
    x = ember.tensor(rand(3, 4, dtype=np.float64), requires_grad=True)
    w = ember.tensor(rand(4, dtype=np.float64), requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda x, w: ember.nn.functional.rms_norm(x, (4,), w), (x, w))
    for kw in ({}, {"eps": 1e-4}, {"elementwise_affine": False}):
        t_mod, e_mod = torch.nn.RMSNorm([2, 4], **kw), ember.nn.RMSNorm([2, 4], **kw)
        assert repr(e_mod) == repr(t_mod)
        _copy_from_torch(e_mod, t_mod)
        _step(e_mod, t_mod, rand(3, 2, 4))


# ------------------------------------------------------------------------------ local response norm


@pytest.mark.parametrize("shape", [(2, 6, 5), (2, 6, 3, 4), (1, 5, 2, 2, 3)])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_local_response_norm(shape, size):
    check(lambda lib, x: _f(lib).local_response_norm(x, size, alpha=0.1, beta=0.6, k=2.0),
          rand(*shape))


def test_local_response_norm_module_and_errors():
    t_mod, e_mod = torch.nn.LocalResponseNorm(3), ember.nn.LocalResponseNorm(3)
    assert repr(e_mod) == repr(t_mod)
    _step(e_mod, t_mod, rand(2, 5, 4))
    same_message(lambda lib, x: _f(lib).local_response_norm(x, 2), Const(rand(3, 4)))
    check_raises(lambda lib, x: _f(lib).local_response_norm(x, 0), Const(rand(2, 3, 4)))
    x = ember.ones(0, 3, 2)
    assert ember.nn.functional.local_response_norm(x, 2) is x
    xd = ember.tensor(rand(2, 4, 3, dtype=np.float64), requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda x: ember.nn.functional.local_response_norm(x, 3), (xd,))


@pytest.mark.parametrize("size", [2, 3, 4, 5, 8])
def test_cross_map_lrn2d(size):
    t_mod, e_mod = torch.nn.CrossMapLRN2d(size, 0.1, 0.7, 1.5), \
        ember.nn.CrossMapLRN2d(size, 0.1, 0.7, 1.5)
    assert repr(e_mod) == repr(t_mod)
    _step(e_mod, t_mod, rand(2, 6, 3, 2))


def test_cross_map_lrn2d_errors():
    same_message(lambda lib, x: lib.nn.CrossMapLRN2d(3)(x), Const(rand(2, 3, 4)))


# ------------------------------------------------------------------------------ exports


def test_functional_and_module_names():
    for name in ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
                 "local_response_norm"]:
        assert hasattr(ember.nn.functional, name), name
    for name in ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "SyncBatchNorm",
                 "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm3d",
                 "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d"]:
        assert hasattr(ember.nn, name), name


def test_no_warnings_on_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.BatchNorm2d(3)(ember.randn(2, 3, 4, 4)).sum().backward()
        ember.nn.LayerNorm(4)(ember.randn(2, 4)).sum().backward()
