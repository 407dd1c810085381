import numpy as np
import pytest

import ember
from tests.oracle import assert_close, needs_torch, rand, torch


def _pair(ctor, *args, **kwargs):
    """The same module in torch and ember, with ember holding torch's weights."""
    t = getattr(torch.nn, ctor)(*args, **kwargs)
    e = getattr(ember.nn, ctor)(*args, **kwargs)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def _run(t, e, x, *extra, **kw):
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt = t(xt, *extra, **kw)
    ye = e(xe, *extra, **kw)
    yt0 = yt[0] if isinstance(yt, tuple) else yt
    ye0 = ye[0] if isinstance(ye, tuple) else ye
    assert_close(ye0, yt0, atol=1e-4, rtol=1e-4)
    g = np.random.default_rng(1).standard_normal(tuple(yt0.shape)).astype(np.float32)
    yt0.backward(torch.tensor(g))
    ye0.backward(ember.tensor(g))
    assert_close(xe.grad, xt.grad, atol=1e-4, rtol=1e-4, what="input grad")
    for (n, pt), (m, pe) in zip(t.named_parameters(), e.named_parameters()):
        assert n == m
        assert_close(pe.grad, pt.grad, atol=1e-4, rtol=1e-4, what=f"grad of {n}")


CONV_CASES = [
    ("Conv2d", (3, 8, 3), {}, (2, 3, 9, 9)),
    ("Conv2d", (4, 8, (3, 2)), {"stride": 2, "padding": 1, "groups": 2, "bias": False},
     (2, 4, 9, 8)),
    ("Conv2d", (3, 4, 3), {"padding": "same", "dilation": 2}, (2, 3, 7, 7)),
    ("Conv1d", (4, 6, 5), {"stride": 2, "padding": 1}, (2, 4, 13)),
    ("Conv3d", (2, 3, 2), {"padding": 1}, (1, 2, 4, 5, 3)),
    ("ConvTranspose2d", (3, 5, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5, 4)),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 3, "padding": 1}, (2, 3, 6)),
    ("ConvTranspose3d", (2, 2, 2), {"stride": 2}, (1, 2, 3, 2, 2)),
]


@needs_torch
@pytest.mark.parametrize("ctor,args,kw,shape", CONV_CASES)
def test_conv_modules_match_torch(ctor, args, kw, shape):
    t, e = _pair(ctor, *args, **kw)
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    _run(t, e, rand(*shape))


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes(mode):
    t, e = _pair("Conv2d", 3, 4, 3, padding=1, padding_mode=mode)
    assert repr(e) == repr(t)
    _run(t, e, rand(2, 3, 6, 5))
    t, e = _pair("Conv2d", 3, 4, 4, padding="same", padding_mode=mode)
    _run(t, e, rand(2, 3, 6, 5))


@needs_torch
def test_conv_transpose_output_size():
    t, e = _pair("ConvTranspose2d", 3, 8, 3, stride=2)
    _run(t, e, rand(1, 3, 5, 5), output_size=[12, 12])
    with pytest.raises(ValueError):
        e(ember.ones(1, 3, 5, 5), output_size=[20, 20])


@needs_torch
def test_conv_constructor_errors():
    for kw in [{"groups": 0}, {"groups": 2}, {"padding": "foo"}, {"padding": "same", "stride": 2},
               {"padding_mode": "x"}]:
        with pytest.raises(ValueError) as te:
            torch.nn.Conv2d(3, 8, 3, **kw)
        with pytest.raises(ValueError) as ee:
            ember.nn.Conv2d(3, 8, 3, **kw)
        if kw.get("padding") != "foo" and "padding_mode" not in kw:  # PyTorch prints a set
            assert str(ee.value) == str(te.value)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        ember.nn.ConvTranspose2d(3, 8, 3, padding_mode="reflect")


@needs_torch
def test_conv_default_init_statistics():
    w = ember.nn.Conv2d(64, 64, 3).weight.detach().numpy()
    bound = 1 / np.sqrt(64 * 9)  # kaiming_uniform_(a=sqrt(5)) on fan_in = 576
    assert np.abs(w).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.02 * bound


POOL_CASES = [
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", (3, 2, 1), {"ceil_mode": True, "return_indices": True}, (2, 3, 9, 8)),
    ("MaxPool1d", (2,), {}, (2, 3, 9)),
    ("MaxPool3d", (2,), {"stride": 1}, (1, 2, 4, 4, 3)),
    ("AvgPool2d", (3,), {"count_include_pad": False, "padding": 1}, (2, 3, 8, 7)),
    ("AvgPool1d", (2,), {}, (2, 3, 9)),
    ("AvgPool3d", (2,), {}, (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool2d", ((1, 1),), {}, (2, 3, 7, 7)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (2,), {"return_indices": True}, (2, 3, 7, 7)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 7)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 4, 5, 3)),
    ("LPPool2d", (2, 2), {}, (2, 3, 6, 6)),
]


@needs_torch
@pytest.mark.parametrize("ctor,args,kw,shape", POOL_CASES)
def test_pool_modules_match_torch(ctor, args, kw, shape):
    t, e = _pair(ctor, *args, **kw)
    assert repr(e) == repr(t)
    x = rand(*shape, low=0.1) if ctor.startswith("LP") else rand(*shape)
    _run(t, e, x)


@needs_torch
def test_max_unpool_module():
    t, e = _pair("MaxUnpool2d", 2)
    assert repr(e) == repr(t)
    x = rand(1, 2, 6, 6)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    ye, ie = ember.nn.functional.max_pool2d(ember.tensor(x), 2, return_indices=True)
    assert_close(e(ye, ie), t(yt, it))
    assert_close(e(ye, ie, output_size=(7, 7)), t(yt, it, output_size=(7, 7)))
