"""F.pad / interpolate / grid_sample / affine_grid / pixel_shuffle / channel_shuffle and their
modules, against PyTorch (values, input and grid gradients, errors, reprs) and gradcheck."""

import itertools
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import (
    Const,
    Sliced,
    Transposed,
    assert_close,
    check,
    check_raises,
    needs_torch,
    rand,
    same_message,
    torch,
)

RNG = np.random.default_rng(0)


def gradcheck(fn, *arrays, **kw):
    inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, inputs, **kw)


def gradgradcheck(fn, *arrays, **kw):
    inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradgradcheck(fn, inputs, **kw)


def F(lib):
    return lib.nn.functional


# ---------------------------------------------------------------------------------------------
# pad
# ---------------------------------------------------------------------------------------------

CONSTANT_CASES = [
    ((3, 4), (1, 2)),
    ((3, 4), (1, 2, 0, 3)),
    ((2, 3, 4), (1, 1, 2, 2, 1, 0)),
    ((2, 3, 4, 5), (-1, 2, 0, -2)),
    ((5,), (-2, -3)),
    ((2, 3), (0, -3)),
    ((2, 3, 3), (1, 1, 1, 1, 1, 1)),
    ((2, 3), ()),
]


@needs_torch
@pytest.mark.parametrize("shape,pads", CONSTANT_CASES)
@pytest.mark.parametrize("value", [None, 0.5, -2.0])
def test_pad_constant(shape, pads, value):
    check(lambda lib, x: F(lib).pad(x, pads, value=value), rand(*shape))


@needs_torch
def test_pad_constant_layouts_dtypes_and_scalars():
    check(lambda lib, x: F(lib).pad(x, (1, 2, 2, 1), value=3.0), Transposed(rand(3, 4)))
    check(lambda lib, x: F(lib).pad(x, (1, 2), value=3.0), Sliced(rand(3, 4)))
    check(lambda lib, x: F(lib).pad(x, (1, 2), value=1.5), rand(3, 4, dtype=np.int64))
    check(lambda lib, x: F(lib).pad(x, (1, 2), value=True), rand(3, 4, dtype=np.int32))
    check(lambda lib, x: F(lib).pad(x, (1, 1), value=3), rand(3, 4, dtype=np.bool_))
    check(lambda lib, x: F(lib).pad(x, (1, 1), value=float("nan")), rand(2, 3))
    check(lambda lib, x: F(lib).pad(x, (2, 1)), rand(3, dtype=np.float64))
    check(lambda lib, x: F(lib).pad(x, ()), np.array(2.0, dtype=np.float32))
    check(lambda lib, x: F(lib).pad(x, [lib.tensor(1), 2]), rand(2, 3))


NONCONST_CASES = [
    ((2, 5), (2, 3)),
    ((2, 3, 5), (1, 4)),
    ((2, 3, 5), (-1, 2)),
    ((2, 3, 5), (2, -2)),
    ((3, 4, 5), (1, 2, 3, 0)),
    ((2, 3, 4, 5), (2, 1, 1, 3)),
    ((2, 3, 4, 5), (-1, 2, 1, -1)),
    ((3, 4, 5, 3), (1, 2, 0, 3, 2, 1)),
    ((2, 2, 4, 3, 4), (1, 1, 2, 1, 3, 2)),
    ((2, 2, 4, 3, 4), (1, -1, 0, 2, -2, 1)),
]


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads", NONCONST_CASES)
def test_pad_nonconstant(mode, shape, pads):
    # reflection needs every pad amount smaller than its dim
    if mode == "reflect":
        sp = shape[len(shape) - len(pads) // 2:]
        if any(p >= sp[len(sp) - 1 - i // 2] for i, p in enumerate(pads)):
            pytest.skip("not a valid reflection")
    check(lambda lib, x: F(lib).pad(x, pads, mode=mode), rand(*shape))


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_nonconstant_layouts_dtypes_and_nodes(mode):
    check(lambda lib, x: F(lib).pad(x, (1, 2, 2, 1), mode=mode), Transposed(rand(2, 4, 5)))
    check(lambda lib, x: F(lib).pad(x, (2, 1), mode=mode), Sliced(rand(3, 4, 5)))
    check(lambda lib, x: F(lib).pad(x, (2, 1), mode=mode), rand(3, 4, 5, dtype=np.int64))
    check(lambda lib, x: F(lib).pad(x, (2, 1), mode=mode), rand(3, 4, 5, dtype=np.float16))
    check(lambda lib, x: F(lib).pad(x, (2, 1), mode=mode, value=0), rand(3, 4, 5))
    check(lambda lib, x: F(lib).pad(x, (2, 1), mode=mode), rand(0, 4, 5))
    x = ember.tensor(rand(2, 3, 4), requires_grad=True)
    t = torch.tensor(rand(2, 3, 4), requires_grad=True)
    for pads in [(1, 1), (1, 1, 1, 1)]:
        e_name = type(F(ember).pad(x, pads, mode=mode).grad_fn).__name__
        t_name = type(F(torch).pad(t, pads, mode=mode).grad_fn).__name__
        assert e_name == t_name
    assert type(F(ember).pad(x, (1, 1)).grad_fn).__name__ == "ConstantPadNdBackward0"


@needs_torch
def test_pad_circular_bool_and_wrapped_crop():
    check(lambda lib, x: F(lib).pad(x, (2, 3), mode="circular"), rand(2, 3, 4, dtype=np.bool_))
    check(lambda lib, x: F(lib).pad(x, (5, 5), mode="circular"), rand(1, 2, 5))
    check(lambda lib, x: F(lib).pad(x, (2, -3, -1, 2), mode="circular"), rand(1, 3, 5))


PAD_ERRORS = [
    ((1, 3, 3), (3, 3), "reflect", None),
    ((2, 3, 3, 4), (1, 1, 3, 3), "reflect", None),
    ((2, 3, 3, 4), (4, 1, 1, 1), "reflect", None),
    ((3, 3, 4), (4, 1, 1, 1), "reflect", None),
    ((1, 2, 3, 3, 4), (1, 1, 1, 1, 3, 1), "reflect", None),
    ((1, 3, 3), (1, 2, 3), "constant", None),
    ((1, 3, 3), (1, 2, 3), "reflect", None),
    ((1, 3, 3), (1, 1) * 4, "constant", None),
    ((1, 3, 3), (1, 1), "reflect", 2.0),
    ((1, 3, 3), (1, 1), "foo", None),
    ((3,), (1, 1), "reflect", None),
    ((3,), (1, 1), "replicate", None),
    ((2, 3), (1, 1, 1, 1), "circular", None),
    ((2, 2, 2, 3, 3, 3), (1, 1), "replicate", None),
    ((2, 3), (), "reflect", None),
    ((2, 3, 0), (1, 1), "replicate", None),
    ((2, 3, 0), (1, 1), "reflect", None),
    ((2, 0, 3, 4), (1, 1, 1, 1), "reflect", None),
    ((2, 3, 0, 4, 2), (1, 1, 1, 1, 1, 1), "replicate", None),
    ((1, 3, 3), (4, 2), "circular", None),
    ((2, 3, 3, 4), (1, 1, -3, -1), "circular", None),
    ((2, 3, 3), (1, -4), "replicate", None),
    ((2, 3, 3), (-3, -1), "reflect", None),
    ((2, 3, 3), (-2, -2), "constant", None),
    ((2, 3), (1, 1), "constant", 1 + 2j),
]


@needs_torch
@pytest.mark.parametrize("shape,pads,mode,value", PAD_ERRORS)
def test_pad_errors_as_torch(shape, pads, mode, value):
    same_message(lambda lib, x: F(lib).pad(x, pads, mode=mode, value=value), rand(*shape))


@needs_torch
def test_pad_errors_types_and_bool():
    same_message(lambda lib, x: F(lib).pad(x, 1), rand(2, 3))
    same_message(lambda lib, x: F(lib).pad(x, (1.5, 1)), rand(2, 3))
    same_message(lambda lib, x: F(lib).pad(x, (1, 1), mode=None), rand(2, 3))
    same_message(lambda lib, x: F(lib).pad(x, (1, 1), mode="reflect"),
                 rand(2, 3, 4, dtype=np.bool_))
    same_message(lambda lib, x: F(lib).pad(x, (1, 1), mode="replicate"),
                 rand(2, 3, 4, dtype=np.bool_))
    same_message(lambda lib, x: F(lib).pad(x, (1, 1), value=300),
                 rand(2, 3, dtype=np.uint8))
    check_raises(lambda lib, x: F(lib).pad(x, (1, 1), mode="replicate"),
                 rand(2, 3, 3, 4), exc=RuntimeError)  # negative sizes in a 2-D replicate
    check_raises(lambda lib, x: F(lib).pad(x, (1, 1, -3, -1), mode="replicate"),
                 rand(2, 3, 3, 4), match="negative dimension")
    with pytest.raises(TypeError, match="must be Tensor"):
        F(ember).pad([1.0, 2.0], (0, 0))


def test_pad_gradcheck():
    x = RNG.standard_normal((2, 3, 4))
    for mode in ["constant", "reflect", "replicate", "circular"]:
        gradcheck(lambda t, m=mode: F(ember).pad(t, (2, 1, 1, 2), mode=m), x)
        gradcheck(lambda t, m=mode: F(ember).pad(t, (-1, 2), mode=m), x)
    gradgradcheck(lambda t: F(ember).pad(t, (2, 1), mode="reflect"), x)
    gradgradcheck(lambda t: F(ember).pad(t, (2, -1), value=1.5), x)


# ---------------------------------------------------------------------------------------------
# interpolate
# ---------------------------------------------------------------------------------------------

def _interp(**kw):
    return lambda lib, x: F(lib).interpolate(x, **kw)


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "area"])
@pytest.mark.parametrize("n,m", [(1, 4), (5, 3), (4, 11), (7, 7), (8, 2), (13, 31)])
def test_interpolate_1d_sizes(mode, n, m):
    check(_interp(size=m, mode=mode), rand(2, 3, n))
    if mode == "linear":
        check(_interp(size=m, mode=mode, align_corners=True), rand(2, 3, n))


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
@pytest.mark.parametrize("scale", [0.3, 0.5, 1 / 3, 1.2, 1.99, 2.0, 2.5, 3.3])
@pytest.mark.parametrize("recompute", [None, False, True])
def test_interpolate_1d_scales(mode, scale, recompute):
    # a user scale drives the source index formula unless it is recomputed from the size
    check(_interp(scale_factor=scale, mode=mode, recompute_scale_factor=recompute),
          rand(1, 2, 7))
    check(_interp(scale_factor=scale, mode=mode, recompute_scale_factor=recompute),
          rand(1, 2, 4 if scale > 0.4 else 5, dtype=np.float64))
    if scale > 0.5:
        # equal sizes: PyTorch's nearest backward takes a shortcut its forward does not
        check(_interp(scale_factor=scale, mode=mode, recompute_scale_factor=recompute),
              rand(1, 2, 2, dtype=np.float64))


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
@pytest.mark.parametrize("size", [(5, 3), (12, 10), (2, 2), (7, 1)])
def test_interpolate_2d(mode, size):
    acs = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    for ac in acs:
        kw = {"size": size} if ac is None else {"size": size, "align_corners": ac}
        check(_interp(mode=mode, **kw), rand(2, 3, 3, 5), atol=3e-5, grad_atol=1e-4)
        check(_interp(mode=mode, **kw), rand(1, 2, 6, 4, dtype=np.float64))


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("scale", [(0.5, 0.75), (2.0, 1.5), (1.3, 2.7)])
def test_interpolate_2d_scales(mode, scale):
    for rc in [None, True]:
        kw = {"scale_factor": scale, "recompute_scale_factor": rc}
        if mode != "nearest":
            kw["align_corners"] = False
        check(_interp(mode=mode, **kw), rand(1, 2, 5, 6), atol=3e-5, grad_atol=1e-4)


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "trilinear", "area"])
def test_interpolate_3d(mode):
    for s in [(0.5, 0.75, 2.0), (1.3, 2.7, 0.6)]:
        kw = {"scale_factor": s}
        check(_interp(mode=mode, **kw), rand(1, 2, 4, 5, 6), atol=3e-5, grad_atol=1e-4)
    check(_interp(mode=mode, size=(3, 7, 2)), rand(2, 1, 4, 5, 6), atol=3e-5, grad_atol=1e-4)
    if mode == "trilinear":
        check(_interp(mode=mode, size=(3, 7, 2), align_corners=True), rand(2, 1, 4, 5, 6),
              atol=3e-5, grad_atol=1e-4)


@needs_torch
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@pytest.mark.parametrize("size", [(5, 3), (4, 4), (12, 10), (2, 2), (8, 9)])
def test_interpolate_antialias(mode, size):
    for ac in ([False] if mode == "lanczos" else [False, True]):
        check(_interp(size=size, mode=mode, align_corners=ac, antialias=True), rand(2, 3, 8, 9),
              atol=3e-5, grad_atol=1e-4)
    check(_interp(scale_factor=(0.41, 0.77), mode=mode, antialias=True), rand(1, 2, 17, 19),
          atol=3e-5, grad_atol=1e-4)


@needs_torch
def test_interpolate_dtypes_layouts():
    check(_interp(scale_factor=2, mode="nearest"), rand(1, 3, 4, 5, dtype=np.uint8))
    check(_interp(size=(7, 3), mode="nearest-exact"), rand(1, 3, 4, 5, dtype=np.uint8))
    check(_interp(scale_factor=2, mode="bilinear"), rand(2, 3, 4, 5, dtype=np.float16))
    check(_interp(size=(5, 9), mode="bicubic"), rand(2, 3, 4, 5, dtype=np.float16))
    check(_interp(size=(5, 9), mode="bilinear"), Transposed(rand(2, 3, 4, 5)), atol=3e-5,
          grad_atol=1e-4)
    check(_interp(size=7, mode="linear"), Sliced(rand(2, 3, 4)))
    check(_interp(size=(7, 3), mode="bilinear"), rand(0, 3, 4, 5))
    # uint8 linear modes round the float result: within one of PyTorch's fixed-point kernel
    x = rand(1, 3, 9, 8, dtype=np.uint8, low=0, high=255)
    for mode, aa in [("bilinear", False), ("bicubic", False), ("bilinear", True)]:
        t = F(torch).interpolate(torch.tensor(x), size=(5, 11), mode=mode, antialias=aa)
        e = F(ember).interpolate(ember.tensor(x), size=(5, 11), mode=mode, antialias=aa)
        assert e.dtype == ember.uint8
        assert np.abs(e.numpy().astype(int) - t.numpy().astype(int)).max() <= 1


@needs_torch
def test_interpolate_grad_fn_names():
    x = ember.tensor(rand(1, 1, 3, 3), requires_grad=True)
    t = torch.tensor(rand(1, 1, 3, 3), requires_grad=True)
    cases = [({"size": 5, "mode": m}, 4) for m in
             ["nearest", "nearest-exact", "bilinear", "bicubic"]]
    cases += [({"size": 2, "mode": m, "antialias": True}, 4) for m in
              ["bilinear", "bicubic", "lanczos"]]
    cases += [({"size": 2, "mode": m}, 3) for m in ["linear", "nearest"]]
    cases += [({"size": 2, "mode": m}, 5) for m in ["trilinear", "nearest-exact"]]
    for kw, nd in cases:
        xe = x.reshape((1,) * (nd - 3) + (1, 3, 3)) if nd >= 4 else x[0]
        xt = t.reshape((1,) * (nd - 3) + (1, 3, 3)) if nd >= 4 else t[0]
        assert type(F(ember).interpolate(xe, **kw).grad_fn).__name__ == \
            type(F(torch).interpolate(xt, **kw).grad_fn).__name__


INTERP_ERRORS = [
    ((2, 3, 5), {"size": 0}),
    ((2, 3, 5), {"scale_factor": 0.1}),
    ((2, 3, 5), {"scale_factor": -1.0}),
    ((2, 0, 5), {"size": 4}),
    ((2, 3, 0), {"size": 4, "mode": "linear"}),
    ((1, 3, 5, 5), {"size": (0, 3), "mode": "bilinear"}),
    ((1, 3, 5, 5, 5), {"size": (0, 3, 2), "mode": "trilinear"}),
    ((3, 5), {"size": 3}),
    ((1, 1, 1, 1, 3, 5), {"size": 3}),
    ((2, 3, 5), {"size": 3, "scale_factor": 2}),
    ((2, 3, 5), {}),
    ((2, 3, 5), {"size": 3, "mode": "foo"}),
    ((2, 3, 5), {"size": 3, "align_corners": False}),
    ((2, 3, 5), {"size": (3, 3)}),
    ((2, 3, 5), {"scale_factor": (3, 3)}),
    ((2, 3, 5), {"size": (3.0,)}),
    ((2, 3, 5), {"size": 3, "recompute_scale_factor": True}),
    ((2, 3, 5), {"size": 3, "mode": "linear", "antialias": True}),
    ((1, 1, 3, 3), {"size": 3, "mode": "linear"}),
    ((2, 3, 5), {"size": 3, "mode": "bicubic"}),
    ((2, 3, 5), {"size": 3, "mode": "bilinear"}),
    ((1, 1, 3, 3), {"size": 3, "mode": "trilinear"}),
    ((1, 1, 3, 3, 3), {"size": 3, "mode": "bicubic"}),
    ((1, 1, 3, 3), {"size": 3, "mode": "lanczos", "antialias": True, "align_corners": True}),
    ((1, 1, 3, 3), {"size": 3, "mode": "lanczos"}),
]


@needs_torch
@pytest.mark.parametrize("shape,kw", INTERP_ERRORS)
def test_interpolate_errors_as_torch(shape, kw):
    same_message(lambda lib, x: F(lib).interpolate(x, **kw), rand(*shape))


@needs_torch
def test_interpolate_dtype_errors():
    for dt in (np.int32, np.int64, np.bool_):
        check_raises(_interp(size=(3, 3), mode="bilinear"), rand(2, 3, 4, 4, dtype=dt))
    check_raises(_interp(size=(3, 3), mode="bilinear", antialias=True),
                 rand(2, 3, 4, 4, dtype=np.float16))
    check_raises(_interp(size=3, mode="linear"), rand(2, 3, 4, dtype=np.uint8))


def test_interpolate_deprecated_wrappers_warn():
    x = ember.tensor(rand(1, 1, 3, 3))
    with pytest.warns(UserWarning, match="upsample` is deprecated"):
        y = F(ember).upsample(x, scale_factor=2)
    assert y.shape == (1, 1, 6, 6)
    with pytest.warns(UserWarning, match="upsample_nearest` is deprecated"):
        F(ember).upsample_nearest(x, size=4)
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        y = F(ember).upsample_bilinear(x, size=5)
    expect = F(ember).interpolate(x, size=5, mode="bilinear", align_corners=True)
    assert np.array_equal(y.numpy(), expect.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F(ember).interpolate(x, size=5, mode="bilinear")  # no align_corners warning in 2.x


def test_interpolate_gradcheck():
    x = RNG.standard_normal((1, 2, 4, 5))
    for kw in [{"mode": "nearest", "scale_factor": 1.7}, {"mode": "bilinear", "size": (3, 7)},
               {"mode": "bicubic", "size": (6, 3), "align_corners": True},
               {"mode": "bilinear", "size": (2, 3), "antialias": True},
               {"mode": "area", "size": (3, 2)}]:
        gradcheck(lambda t, kw=kw: F(ember).interpolate(t, **kw), x)
    gradgradcheck(lambda t: F(ember).interpolate(t, size=(3, 7), mode="bilinear"), x)
    gradcheck(lambda t: F(ember).interpolate(t, size=4, mode="trilinear"),
              RNG.standard_normal((1, 1, 2, 3, 3)))


# ---------------------------------------------------------------------------------------------
# grid_sample / affine_grid
# ---------------------------------------------------------------------------------------------

def _gs(mode, pm, ac):
    return lambda lib, x, g: F(lib).grid_sample(x, g, mode=mode, padding_mode=pm,
                                                align_corners=ac)


def _identity_grid(shape, ac):
    n, nd = shape[0], len(shape) - 2
    theta = torch.zeros(n, nd, nd + 1, dtype=torch.float64)
    theta[:, range(nd), range(nd)] = 1
    return F(torch).affine_grid(theta, shape, align_corners=ac).numpy()


@needs_torch
@pytest.mark.parametrize("mode,pm,ac", list(itertools.product(
    ["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"], [False, True])))
def test_grid_sample_2d(mode, pm, ac):
    x = rand(2, 3, 5, 7, dtype=np.float64)
    check(_gs(mode, pm, ac), x, rand(2, 4, 6, 2, dtype=np.float64, low=-1.4, high=1.4))
    check(_gs(mode, pm, ac), x, rand(2, 4, 6, 2, dtype=np.float64, low=-4, high=4))
    # exact pixel positions: PyTorch's rounding decides which cell the gradient comes from
    check(_gs(mode, pm, ac), x, _identity_grid((2, 3, 5, 7), ac))
    check(_gs(mode, pm, ac), rand(2, 3, 5, 7), rand(2, 4, 6, 2, low=-1.2, high=1.2), atol=2e-5,
          grad_atol=2e-4)


@needs_torch
@pytest.mark.parametrize("mode,pm,ac", list(itertools.product(
    ["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True])))
def test_grid_sample_3d(mode, pm, ac):
    x = rand(2, 2, 4, 5, 6, dtype=np.float64)
    check(_gs(mode, pm, ac), x, rand(2, 3, 4, 2, 3, dtype=np.float64, low=-1.4, high=1.4))
    check(_gs(mode, pm, ac), x, _identity_grid((2, 2, 4, 5, 6), ac))


@needs_torch
def test_grid_sample_edge_shapes_and_layouts():
    check(_gs("bilinear", "zeros", False), rand(0, 3, 4, 5), rand(0, 6, 7, 2))
    check(_gs("bilinear", "zeros", False), rand(2, 0, 4, 5), rand(2, 6, 7, 2))
    check(_gs("bilinear", "zeros", False), rand(2, 3, 4, 5), rand(2, 0, 7, 2))
    check(_gs("bilinear", "border", True), rand(2, 3, 1, 5), rand(2, 3, 2, 2))
    check(_gs("bicubic", "reflection", False), Transposed(rand(2, 3, 4, 5)),
          Sliced(rand(2, 3, 2, 2)), atol=2e-5, grad_atol=2e-4)
    check(_gs("bilinear", "zeros", False), rand(2, 3, 4, 5), Const(rand(2, 3, 2, 2)))
    check(_gs("bilinear", "zeros", False), rand(2, 3, 4, 5, dtype=np.float16),
          rand(2, 3, 2, 2, dtype=np.float16))
    x = ember.tensor(rand(1, 1, 3, 3), requires_grad=True)
    assert ember.autograd.grad(
        F(ember).grid_sample(x, ember.tensor(rand(1, 2, 2, 2)), align_corners=False).sum(),
        x)[0].shape == (1, 1, 3, 3)


GRID_ERRORS = [
    ((2, 3, 4, 5), (6, 7, 2), {}),
    ((1, 2, 3, 4, 5), (2, 6, 7, 2), {}),
    ((2, 3, 4, 5), (1, 6, 7, 2), {}),
    ((2, 3, 4, 5), (2, 6, 7, 3), {}),
    ((2, 3, 0, 5), (2, 6, 7, 2), {}),
    ((1, 1, 2, 3, 4), (1, 2, 2, 2, 3), {"mode": "bicubic"}),
    ((1, 1, 3), (1, 2, 1), {}),
    ((2, 3, 4, 5), (2, 6, 7, 2), {"mode": "foo"}),
    ((2, 3, 4, 5), (2, 6, 7, 2), {"padding_mode": "foo"}),
]


@needs_torch
@pytest.mark.parametrize("xs,gs,kw", GRID_ERRORS)
def test_grid_sample_errors_as_torch(xs, gs, kw):
    same_message(lambda lib, x, g: F(lib).grid_sample(x, g, align_corners=False, **kw),
                 rand(*xs), rand(*gs))


@needs_torch
def test_grid_sample_dtype_errors_and_warning():
    same_message(lambda lib, x, g: F(lib).grid_sample(x, g, align_corners=False),
                 rand(2, 3, 4, 5), rand(2, 6, 7, 2, dtype=np.float64))
    check_raises(lambda lib, x, g: F(lib).grid_sample(x, g, align_corners=False),
                 rand(2, 3, 4, 5, dtype=np.int64), rand(2, 6, 7, 2, dtype=np.int64))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F(ember).grid_sample(ember.tensor(rand(1, 1, 3, 3)), ember.tensor(rand(1, 2, 2, 2)))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F(ember).affine_grid(ember.tensor(rand(1, 2, 3)), (1, 1, 3, 3))


def test_grid_sample_gradcheck():
    x = RNG.standard_normal((1, 2, 4, 5))
    g = RNG.uniform(-1.1, 1.1, (1, 3, 2, 2))
    for mode, pm in [("bilinear", "zeros"), ("bilinear", "reflection"), ("bicubic", "border"),
                     ("bicubic", "zeros")]:
        gradcheck(lambda a, b, m=mode, p=pm: F(ember).grid_sample(a, b, mode=m, padding_mode=p,
                                                                  align_corners=False), x, g)
    gradgradcheck(lambda a: F(ember).grid_sample(a, ember.tensor(g), align_corners=True), x)


@needs_torch
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 3, 1, 5), (2, 1, 3, 4, 5)])
@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid(size, ac):
    nd = len(size) - 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners warn in both
        check(lambda lib, th: F(lib).affine_grid(th, size, align_corners=ac),
              rand(2, nd, nd + 1, dtype=np.float64))
        check(lambda lib, th: F(lib).affine_grid(th, size, align_corners=ac),
              rand(2, nd, nd + 1), atol=2e-6)


AFFINE_ERRORS = [
    ((2, 2, 3), (2, 3, 4, 5, 6)),
    ((2, 3), (2, 3, 4, 5)),
    ((2, 2, 3), (2, 3, 4)),
    ((2, 2, 3), (2, 3, 0, 5)),
    ((2, 2, 3), (3, 3, 4, 5)),
]


@needs_torch
@pytest.mark.parametrize("ts,size", AFFINE_ERRORS)
def test_affine_grid_errors(ts, size):
    e_msg, t_msg = check_raises(lambda lib, th: F(lib).affine_grid(th, size, align_corners=False),
                                rand(*ts))
    assert e_msg.replace("ember", "torch") == t_msg
    check_raises(lambda lib, th: F(lib).affine_grid(th, (2, 3, 4, 5), align_corners=False),
                 rand(2, 2, 3, dtype=np.int64), exc=ValueError)


# ---------------------------------------------------------------------------------------------
# pixel_shuffle / pixel_unshuffle / channel_shuffle
# ---------------------------------------------------------------------------------------------

@needs_torch
def test_shuffles():
    check(lambda lib, x: F(lib).pixel_shuffle(x, 2), rand(2, 8, 3, 4))
    check(lambda lib, x: F(lib).pixel_shuffle(x, 3), rand(2, 3, 18, 2, 3))
    check(lambda lib, x: F(lib).pixel_shuffle(x, 2), rand(4, 3, 3, dtype=np.int64))
    check(lambda lib, x: F(lib).pixel_unshuffle(x, 3), rand(2, 2, 6, 9))
    check(lambda lib, x: F(lib).pixel_unshuffle(x, 1), Transposed(rand(2, 2, 6, 9)))
    check(lambda lib, x: F(lib).channel_shuffle(x, 2), rand(2, 8, 3, 3))
    check(lambda lib, x: F(lib).channel_shuffle(x, 3), rand(2, 6, 5))
    check(lambda lib, x: lib.pixel_shuffle(x, 2), rand(1, 4, 2, 2))
    check(lambda lib, x: lib.channel_shuffle(x, 2), rand(1, 4, 2, 2))


SHUFFLE_ERRORS = [
    ("pixel_shuffle", (2, 8, 3, 3), 3),
    ("pixel_shuffle", (2, 8, 3, 3), 0),
    ("pixel_shuffle", (2, 8, 3, 3), -1),
    ("pixel_shuffle", (4, 3), 2),
    ("pixel_shuffle", (2, 8, 3, 3), 2.0),
    ("pixel_unshuffle", (1, 1, 4, 6), 4),
    ("pixel_unshuffle", (1, 1, 6, 4), 4),
    ("pixel_unshuffle", (2, 8, 3, 3), 0),
    ("pixel_unshuffle", (4, 3), 2),
    ("channel_shuffle", (2, 8, 3, 3), 3),
    ("channel_shuffle", (2, 8, 3, 3), 0),
    ("channel_shuffle", (2, 8, 3, 3), -2),
    ("channel_shuffle", (4, 8), 2),
]


@needs_torch
@pytest.mark.parametrize("fn,shape,arg", SHUFFLE_ERRORS)
def test_shuffle_errors(fn, shape, arg):
    same_message(lambda lib, x: getattr(F(lib), fn)(x, arg), rand(*shape))


# ---------------------------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------------------------

MODULES = [
    ("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad2d", ((1, 2, 3, 4),), (2, 3, 4, 5)),
    ("ZeroPad3d", (1,), (1, 2, 3, 4, 5)), ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (3, 4, 5)),
    ("ConstantPad3d", ((1, 2, 3, 4, 5, 6), 1), (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", ((1, 2),), (2, 3, 4)), ("ReflectionPad2d", (2,), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)), ("ReplicationPad1d", (3,), (3, 4)),
    ("ReplicationPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
    ("ReplicationPad3d", (2,), (1, 2, 3, 4, 5)), ("CircularPad1d", (2,), (2, 3, 4)),
    ("CircularPad2d", ((1, 2, 2, 1),), (3, 4, 5)), ("CircularPad3d", (1,), (1, 2, 3, 4, 5)),
    ("Upsample", (), (1, 2, 3, 4), {"scale_factor": 2}),
    ("Upsample", (), (1, 2, 3, 4), {"size": (5, 7), "mode": "bilinear"}),
    ("Upsample", (), (1, 2, 3, 4), {"scale_factor": (1.5, 2), "mode": "bicubic",
                                    "align_corners": True}),
    ("Upsample", (), (1, 2, 3, 4, 2), {"scale_factor": 1.5, "mode": "trilinear",
                                       "recompute_scale_factor": True}),
    ("UpsamplingNearest2d", (), (1, 2, 3, 4), {"scale_factor": (2, 3)}),
    ("UpsamplingBilinear2d", (), (1, 2, 3, 4), {"size": 5}),
    ("PixelShuffle", (2,), (1, 8, 3, 3)), ("PixelUnshuffle", (3,), (1, 2, 6, 3)),
    ("ChannelShuffle", (2,), (2, 4, 3)),
]


@needs_torch
@pytest.mark.parametrize("case", MODULES, ids=lambda c: c[0])
def test_modules_match_torch(case):
    name, args, shape = case[:3]
    kw = case[3] if len(case) > 3 else {}
    t = getattr(torch.nn, name)(*args, **kw)
    e = getattr(ember.nn, name)(*args, **kw)
    assert repr(e) == repr(t)
    check(lambda lib, x: (t if lib is torch else e)(x), rand(*shape), atol=3e-5, grad_atol=1e-4)


@needs_torch
def test_circular_pad_module_checks_dims():
    same_message(lambda lib, x: lib.nn.CircularPad2d(1)(x), rand(2, 3))
    same_message(lambda lib, x: lib.nn.CircularPad1d(1)(x), rand(2, 3, 3, 4))


def test_upsample_setstate_defaults_recompute():
    m = ember.nn.Upsample(scale_factor=2)
    state = dict(m.__dict__)
    del state["recompute_scale_factor"]
    m2 = ember.nn.Upsample.__new__(ember.nn.Upsample)
    m2.__setstate__(state)
    assert m2.recompute_scale_factor is True


def test_conv_padding_modes_use_pad():
    for mode in ["reflect", "replicate", "circular"]:
        conv = ember.nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode)
        assert conv(ember.tensor(rand(1, 2, 5, 4))).shape == (1, 3, 5, 4)


@needs_torch
def test_pad_output_not_aliasing_input():
    x = ember.tensor(rand(2, 3))
    y = F(ember).pad(x, (0, 0))
    y.add_(1)
    assert_close(x, torch.tensor(x.numpy()))
    assert not np.array_equal(x.numpy(), y.numpy())
