"""Convolution and pooling modules against PyTorch (weights copied through the state dict):
outputs, input/parameter gradients and reprs over the argument grid, in train and eval mode;
constructor errors; default initialisation."""

import itertools

import numpy as np
import pytest

import ember
from tests.nn.layer_parity import check_layer, run
from tests.nn.layer_parity import pair as _pair
from tests.oracle import assert_close, needs_torch, rand, torch


def _run(t, e, x, *extra, **kw):
    run(t, e, [x], *extra, **kw)


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


# ---------------------------------------------------------------------------------------------
# the full argument grid, module by module (weights from PyTorch's state dict, train and eval)
# ---------------------------------------------------------------------------------------------

_SPATIAL = {1: (11,), 2: (9, 8), 3: (5, 6, 4)}
_CONV_KW = [{}, {"stride": 2}, {"padding": 1}, {"padding": "same"}, {"padding": "valid"},
            {"dilation": 2, "padding": 2}, {"groups": 2}, {"bias": False},
            {"padding": 2, "padding_mode": "reflect"}, {"padding": 1, "padding_mode": "replicate"},
            {"padding": 1, "padding_mode": "circular"},
            {"padding": "same", "padding_mode": "circular", "dilation": 2},
            {"padding": "same", "padding_mode": "reflect"}, {"padding": "same", "bias": False},
            {"stride": 3, "padding": 1, "dilation": 2, "groups": 2}]


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", _CONV_KW, ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_conv_argument_grid(nd, kw, batched):
    """Every padding form and padding_mode for Conv1d/2d/3d, batched and unbatched."""
    shape = ((2, 4) if batched else (4,)) + _SPATIAL[nd]
    check_layer(f"Conv{nd}d", (4, 6, 3), kw, [shape])


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_same_padding_even_kernel(nd):
    """'same' with an even kernel pads one more on the right, as PyTorch does."""
    check_layer(f"Conv{nd}d", (4, 6, 2), {"padding": "same"}, [(2, 4) + _SPATIAL[nd]])
    check_layer(f"Conv{nd}d", (4, 6, 4), {"padding": "same", "padding_mode": "reflect"},
                [(2, 4) + _SPATIAL[nd]])


_CONVT_KW = [{}, {"stride": 2}, {"stride": 2, "output_padding": 1}, {"padding": 1},
             {"dilation": 2}, {"groups": 2}, {"bias": False},
             {"stride": 3, "padding": 1, "output_padding": 2},
             {"stride": 2, "dilation": 2, "output_padding": 1, "groups": 2}]


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", _CONVT_KW, ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_conv_transpose_argument_grid(nd, kw, batched):
    shape = ((2, 4) if batched else (4,)) + _SPATIAL[nd]
    check_layer(f"ConvTranspose{nd}d", (4, 6, 3), kw, [shape])


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_output_size_every_rank(nd):
    """output_size picks the output_padding, with or without the batch/channel dims, per dim."""
    stride = (2, 3, 2)[:nd]
    t, e = _pair(f"ConvTranspose{nd}d", 3, 4, 3, stride=stride, padding=1)
    spatial = (5, 4, 3)[:nd]
    lo = [(n - 1) * s - 2 + 3 for n, s in zip(spatial, stride)]
    for size in itertools.product(*[range(m, m + s) for m, s in zip(lo, stride)]):
        _run(t, e, rand(2, 3, *spatial), output_size=list(size))
        _run(t, e, rand(3, *spatial), output_size=(4,) + tuple(size))
    _run(t, e, rand(2, 3, *spatial), output_size=[2, 4] + lo)


_MAXPOOL_KW = [{}, {"stride": 1}, {"padding": 1}, {"ceil_mode": True},
               {"ceil_mode": True, "stride": 2, "padding": 1}, {"dilation": 2},
               {"return_indices": True}, {"ceil_mode": True, "dilation": 2, "stride": 3},
               {"return_indices": True, "ceil_mode": True, "padding": 1, "stride": 2}]
_AVGPOOL_KW = [{}, {"stride": 1}, {"padding": 1}, {"ceil_mode": True},
               {"ceil_mode": True, "stride": 2, "padding": 1},
               {"count_include_pad": False, "padding": 1},
               {"count_include_pad": False, "padding": 1, "ceil_mode": True, "stride": 2}]


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", _MAXPOOL_KW, ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_max_pool_argument_grid(nd, kw, batched):
    shape = ((2, 3) if batched else (3,)) + (11, 9, 7)[:nd]
    check_layer(f"MaxPool{nd}d", (3,), kw, [shape])


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", _AVGPOOL_KW + [{"divisor_override": 2}], ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_avg_pool_argument_grid(nd, kw, batched):
    if nd == 1 and "divisor_override" in kw:
        pytest.skip("AvgPool1d has no divisor_override")
    shape = ((2, 3) if batched else (3,)) + (11, 9, 7)[:nd]
    check_layer(f"AvgPool{nd}d", (3,), kw, [shape])


@needs_torch
@pytest.mark.parametrize("size,k,s,p,d", [
    (n, k, s, p, d) for n, k, s, p, d in itertools.product([4, 5, 6, 7], [2, 3], [2, 3], [0, 1],
                                                           [1, 2])
    if p <= (d * (k - 1) + 1) // 2 and d * (k - 1) + 1 <= n + 2 * p])
def test_ceil_mode_edges(size, k, s, p, d):
    """ceil_mode where the last window would start in the right padding (dropped) or overhang
    the input (kept, partial): max with indices, avg counting and not counting the padding."""
    check_layer("MaxPool1d", (k, s, p, d), {"ceil_mode": True, "return_indices": True},
                [(2, 3, size)], modes=("train",))
    if d == 1:
        for cip in (True, False):
            check_layer("AvgPool1d", (k, s, p), {"ceil_mode": True, "count_include_pad": cip},
                        [(2, 3, size)], modes=("train",))
    check_layer("MaxPool2d", ((k, 2), (s, 1), (p, 0), (d, 1)), {"ceil_mode": True},
                [(1, 2, size, 3)], modes=("train",))


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("osz", [1, 3, 4, "none"])
@pytest.mark.parametrize("kind", ["Avg", "Max", "MaxIdx"])
@pytest.mark.parametrize("batched", [True, False])
def test_adaptive_pool_grid(nd, osz, kind, batched):
    """Adaptive pools (output sizes dividing the input or not, None keeping a dim), with
    return_indices for max."""
    if osz == "none":
        osz = (None,) + (3,) * (nd - 1) if nd > 1 else 2
    kw = {"return_indices": True} if kind == "MaxIdx" else {}
    cls = f"Adaptive{kind[:3]}Pool{nd}d"
    shape = ((2, 3) if batched else (3,)) + (11, 9, 7)[:nd]
    check_layer(cls, (osz,), kw, [shape])


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("p", [1, 2, 3.0])
@pytest.mark.parametrize("kw", [{}, {"stride": 1}, {"ceil_mode": True}], ids=str)
def test_lp_pool_grid(nd, p, kw):
    check_layer(f"LPPool{nd}d", (p, 2), kw, [(2, 3) + (11, 9, 7)[:nd]], positive=True)


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", [{}, {"stride": 1}, {"padding": 1, "stride": 2}], ids=str)
def test_max_unpool_modules_every_rank(nd, kw):
    """MaxUnpool{1,2,3}d invert MaxPool with the same arguments (default and explicit
    output_size), gradients included."""
    t, e = _pair(f"MaxUnpool{nd}d", 2, **kw)
    assert repr(e) == repr(t)
    x = rand(2, 3, *(8, 6, 4)[:nd])
    yt, it = getattr(torch.nn.functional, f"max_pool{nd}d")(torch.tensor(x), 2, **kw,
                                                           return_indices=True)
    for output_size in (None, list(x.shape[2:])):
        run(t, e, [yt.numpy()], it.numpy(), output_size=output_size)
    with pytest.raises(ValueError):
        e(ember.tensor(yt.numpy()), ember.tensor(it.numpy()), output_size=[40] * nd)


@needs_torch
def test_fold_unfold_modules():
    for args, kw, shape in [((2,), {}, (2, 3, 5, 6)), ((3,), {"dilation": 2, "padding": 1,
                                                             "stride": 2}, (2, 3, 7, 6)),
                            (((2, 3),), {}, (3, 5, 6))]:
        check_layer("Unfold", args, kw, [shape])
    check_layer("Fold", ((4, 5), 2), {}, [(2, 12, 12)])
    check_layer("Fold", ((5, 6), (2, 3)), {"stride": (1, 2), "padding": 1}, [(12, 18)])


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_with_indices_functions(nd):
    """F.max_pool*_with_indices and F.adaptive_max_pool*_with_indices return both tensors,
    whatever return_indices says."""
    from tests.oracle import check

    x = rand(2, 3, *(7, 6, 5)[:nd])
    for ri in (False, True):
        for name, arg in ((f"max_pool{nd}d_with_indices", 2),
                          (f"adaptive_max_pool{nd}d_with_indices", 3)):
            check(lambda lib, a, name=name, arg=arg, ri=ri: getattr(lib.nn.functional, name)(
                a, arg, return_indices=ri), x)
