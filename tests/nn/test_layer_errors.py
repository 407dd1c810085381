"""Bad input to layers against PyTorch: every layer class fed inputs of each rank (0-6) and a
wrong channel count, the pooling functions over ranks and empty dims, nll_loss/cross_entropy
over input/target shapes and dtypes, and the order of batch_norm's checks. For each case both
libraries must succeed with the same output shape or raise the same exception type with the
same message."""

import itertools
import warnings

import pytest

import ember
from tests.oracle import needs_torch, torch

pytestmark = needs_torch


def _outcome(lib, fn):
    """``("ok", shape)`` or ``(exception type name, message)`` of ``fn(lib)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(lib)
        except Exception as exc:  # noqa: BLE001 - the exception itself is what is compared
            return type(exc).__name__, str(exc)
    out = out[0] if isinstance(out, tuple) else out
    return "ok", tuple(out.shape)


def _same(fn, what=""):
    e, t = _outcome(ember, fn), _outcome(torch, fn)
    assert e == t, f"{what}\nember: {e}\ntorch: {t}"


def _shapes(channels):
    """Input shapes of rank 0 to 6 (batch 2, the given channel count, spatial size 4)."""
    return [(), (channels,), (2, channels)] + [(2, channels) + (4,) * k for k in range(1, 5)]


# (class, args, kwargs); each takes 3 channels where it has channels
LAYERS = [
    ("Conv1d", (3, 4, 2), {}), ("Conv2d", (3, 4, 2), {}), ("Conv3d", (3, 4, 2), {}),
    ("Conv2d", (3, 4, 2), {"padding": 1, "padding_mode": "reflect"}),
    ("Conv3d", (3, 4, 3), {"padding": "same", "padding_mode": "circular"}),
    ("ConvTranspose1d", (3, 4, 2), {}), ("ConvTranspose2d", (3, 4, 2), {}),
    ("ConvTranspose3d", (3, 4, 2), {}),
    ("MaxPool1d", (2,), {}), ("MaxPool2d", (2,), {}), ("MaxPool3d", (2,), {}),
    ("MaxPool2d", (2,), {"return_indices": True}),
    ("AvgPool1d", (2,), {}), ("AvgPool2d", (2,), {}), ("AvgPool3d", (2,), {}),
    ("AdaptiveAvgPool1d", (2,), {}), ("AdaptiveAvgPool2d", (2,), {}),
    ("AdaptiveAvgPool3d", (2,), {}), ("AdaptiveMaxPool1d", (2,), {}),
    ("AdaptiveMaxPool2d", (2,), {}), ("AdaptiveMaxPool3d", (2,), {}),
    ("LPPool1d", (2, 2), {}), ("LPPool2d", (2, 2), {}), ("LPPool3d", (2, 2), {}),
    ("MaxUnpool1d", (2,), {}), ("MaxUnpool2d", (2,), {}), ("MaxUnpool3d", (2,), {}),
    ("BatchNorm1d", (3,), {}), ("BatchNorm2d", (3,), {}), ("BatchNorm3d", (3,), {}),
    ("InstanceNorm1d", (3,), {}), ("InstanceNorm2d", (3,), {}), ("InstanceNorm3d", (3,), {}),
    ("InstanceNorm2d", (3,), {"affine": True}), ("GroupNorm", (1, 3), {}),
    ("LocalResponseNorm", (2,), {}), ("LayerNorm", (3,), {}), ("RMSNorm", (3,), {}),
    ("Dropout1d", (), {}), ("Dropout2d", (), {}), ("Dropout3d", (), {}),
    ("PixelShuffle", (1,), {}), ("PixelUnshuffle", (1,), {}), ("ChannelShuffle", (3,), {}),
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear"}),
    ("Linear", (3, 2), {}), ("Flatten", (), {}), ("Softmax2d", (), {}), ("PReLU", (3,), {}),
    ("ReflectionPad1d", (1,), {}), ("ReflectionPad2d", (1,), {}), ("ReflectionPad3d", (1,), {}),
    ("ReplicationPad1d", (1,), {}), ("ReplicationPad2d", (1,), {}),
    ("ReplicationPad3d", (1,), {}), ("CircularPad2d", (1,), {}), ("ZeroPad2d", (1,), {}),
    ("ConstantPad3d", (1, 1.0), {}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS, ids=lambda v: str(v))
def test_layer_rank_and_channel_errors(name, args, kwargs):
    for shape in _shapes(3) + _shapes(1):
        def fn(lib, shape=shape):
            m = getattr(lib.nn, name)(*args, **kwargs)
            extra = ()
            if name.startswith("MaxUnpool"):
                extra = (lib.zeros(shape, dtype=lib.long),)
            return m(lib.ones(shape), *extra)

        _same(fn, f"{name}{args}{kwargs} on input of shape {shape}")


POOL_SHAPES = [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 4), (2, 3, 4, 4, 4), (0, 3, 4), (2, 0, 4),
               (3, 0), (0, 3, 4, 4), (3, 0, 4), (0, 3, 4, 4, 4), (3, 0, 4, 4), (2, 3, 0, 4),
               (2, 3, 4, 0, 4), (2, 0, 4, 4, 4)]
POOL_FNS = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
            "lp_pool1d", "lp_pool2d", "lp_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
            "adaptive_max_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
            "adaptive_avg_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d"]


@pytest.mark.parametrize("fname", POOL_FNS)
def test_pooling_ranks_and_empty_dims(fname):
    """Each pooling function words its rank and empty-size errors its own way; batch-size-0
    inputs work forward and backward."""
    for shape in POOL_SHAPES:
        def fn(lib, shape=shape):
            f = getattr(lib.nn.functional, fname)
            x = lib.zeros(shape, requires_grad=True)
            if fname.startswith("lp"):
                out = f(x, 2, 2)
            elif fname.startswith("max_unpool"):
                out = f(x, lib.zeros(shape, dtype=lib.long), 2)
            else:
                out = f(x, 2)
            out = out[0] if isinstance(out, tuple) else out
            if x.numel() or shape[0] == 0:  # (PyTorch's backward rejects empty channels)
                out.sum().backward()
                assert x.grad.shape == x.shape
            return out

        _same(fn, f"{fname} on input of shape {shape}")


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_pooling_output_too_small(nd):
    """Too-small inputs: max_pool1d's own message, avg_pool1d's (C, 1, L) view, avg_pool3d's
    input-smaller-than-kernel check (padding not counted), and LP pooling's avg_pool errors."""
    shapes = [(2, 3) + (1,) * nd, (3,) + (1,) * nd, (2, 3) + (3,) * (nd - 1) + (1,),
              (2, 3) + (5,) * nd]
    calls = [lambda F, x: getattr(F, f"max_pool{nd}d")(x, 2),
             lambda F, x: getattr(F, f"max_pool{nd}d")(x, 5, padding=1, stride=1),
             lambda F, x: getattr(F, f"avg_pool{nd}d")(x, 2),
             lambda F, x: getattr(F, f"avg_pool{nd}d")(x, 6, padding=1, stride=1),
             lambda F, x: getattr(F, f"lp_pool{nd}d")(x, 2, 2)]
    for shape, call in itertools.product(shapes, calls):
        _same(lambda lib, shape=shape, call=call: call(lib.nn.functional, lib.ones(shape)),
              f"shape {shape}")


@pytest.mark.parametrize("ishape", [(2, 3), (3,), (2, 3, 4), (2, 3, 4, 5), ()])
@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
def test_class_target_shape_and_dtype_errors(ishape, fname):
    """Target rank/size checks come before the dtype check, the 1-D and 4-D kernels' own size
    checks after it; K-dim inputs take int64 targets only."""
    for tshape, tdt in itertools.product(
            [(2,), (), (2, 4), (2, 3), (3,), (2, 4, 5), (2, 3, 4), (1,), (4,), (2, 5)],
            ["long", "float", "int32", "uint8"]):
        def fn(lib, tshape=tshape, tdt=tdt):
            target = lib.zeros(tshape, dtype=getattr(lib, tdt))
            return getattr(lib.nn.functional, fname)(lib.zeros(ishape), target)

        _same(fn, f"{fname} input {ishape} target {tshape} {tdt}")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_check_order(training):
    """running_mean, running_var, weight, bias in that order; in eval mode each running buffer
    must exist before its size is checked."""
    for sizes in itertools.product([None, 4, 3], repeat=4):
        def fn(lib, sizes=sizes):
            rm, rv, w, b = (None if n is None else lib.ones(n) for n in sizes)
            return lib.nn.functional.batch_norm(lib.zeros(2, 4, 5), rm, rv, w, b,
                                                training=training)

        _same(fn, f"sizes {sizes}")


@pytest.mark.parametrize("kwargs", [{}, {"mode": "sum"}, {"mode": "max"}, {"padding_idx": 1},
                                    {"mode": "sum", "per_sample_weights": True}])
def test_embedding_bag_index_out_of_range(kwargs):
    """The fast kernels report the index's position, the generic one (max mode, padding_idx)
    only its value."""
    for idx in [[1, 2, 10], [1, -1, 2]]:
        def fn(lib, idx=idx):
            kw = dict(kwargs)
            if kw.get("per_sample_weights"):
                kw["per_sample_weights"] = lib.ones(3)
            return lib.nn.functional.embedding_bag(lib.tensor(idx), lib.zeros(10, 3),
                                                   lib.tensor([0]), **kw)

        _same(fn, f"indices {idx}")


@pytest.mark.parametrize("wshape", [(1,), (3,), (), (1, 3), (1, 1)])
@pytest.mark.parametrize("xshape", [(), (3,), (2, 3)])
def test_prelu_weight_and_input_checks(wshape, xshape):
    _same(lambda lib: lib.nn.functional.prelu(lib.ones(xshape), lib.ones(wshape)))


@pytest.mark.parametrize("shape", [(), (3,), (3, 3), (1, 3, 3, 3, 3), (0, 4, 3, 3),
                                   (1, 0, 3, 3), (4, 0, 3), (0, 3, 3), (1, 4, 0, 3)])
def test_unfold_input_checks(shape):
    _same(lambda lib: lib.nn.functional.unfold(lib.zeros(shape), 2))


@pytest.mark.parametrize("shape", [(), (3,), (3, 3), (5, 4), (1, 3, 3, 3, 3), (0, 4, 4),
                                   (1, 0, 4), (1, 4, 0), (0, 4), (4, 0), (1, 5, 4)])
def test_fold_input_checks(shape):
    _same(lambda lib: lib.nn.functional.fold(lib.zeros(shape), (3, 3), 2))


@pytest.mark.parametrize("size", [[1, 1, 3], (1, 1, 0, 3), [1, 1, 0, 3], "Size"])
def test_affine_grid_messages_show_size_as_given(size):
    for theta in [(1, 2, 3), (1, 2, 2)]:
        def fn(lib, theta=theta):
            sz = lib.Size([1, 2, 3]) if size == "Size" else size
            return lib.nn.functional.affine_grid(lib.zeros(theta), sz, align_corners=False)

        _same(fn, f"size {size} theta {theta}")


@pytest.mark.parametrize("dims", [(0, -1), (1, -1), (0, 0), (-1, -1), (1, 0), (2, 3), (-2, -1)])
def test_flatten_zero_dim(dims):
    _same(lambda lib: lib.zeros(()).flatten(*dims))
    _same(lambda lib: lib.nn.Flatten(*dims)(lib.zeros(())))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_output_size_errors(nd):
    """Valid ranges listed per dim, sizes printed as given, batched and unbatched lengths."""
    sizes = [[9] * nd, [12] * nd, [11] * nd, (10,) * nd, [1, 4] + [12] * nd, [4] + [12] * nd,
             [1, 1, 4] + [12] * nd, list(range(9, 9 + nd)), [3] * nd]
    for size, batched in itertools.product(sizes, [True, False]):
        def fn(lib, size=size, batched=batched):
            m = getattr(lib.nn, f"ConvTranspose{nd}d")(4, 2, 3, stride=(2, 3, 2)[:nd],
                                                       padding=(0, 1, 0)[:nd])
            spatial = (5, 4, 3)[:nd]
            x = lib.zeros((1, 4) + spatial if batched else (4,) + spatial)
            return m(x, output_size=size)

        _same(fn, f"output_size {size} batched {batched}")
