"""Every non-convolution layer class against PyTorch with PyTorch's weights (state dict): repr,
state-dict keys, outputs, input/parameter gradients and buffers in train and eval mode, over the
constructor arguments (convolution and pooling: test_conv_pool_modules.py)."""

import numpy as np
import pytest

import ember
from tests.nn.layer_parity import check_layer, pair, run
from tests.oracle import needs_torch, torch

pytestmark = needs_torch

CASES = [
    ("Identity", (), {}, [(2, 3)]), ("Identity", (3, 4), {"foo": 1}, [(2, 3)]),
    ("Linear", (3, 4), {}, [(2, 3)]), ("Linear", (3, 4), {"bias": False}, [(5, 2, 3)]),
    ("Linear", (3, 4), {}, [(3,)]), ("Bilinear", (3, 4, 5), {}, [(2, 3), (2, 4)]),
    ("Bilinear", (3, 4, 5), {"bias": False}, [(6, 2, 3), (6, 2, 4)]),
    ("Flatten", (), {}, [(2, 3, 4, 5)]), ("Flatten", (0, -2), {}, [(2, 3, 4, 5)]),
    ("Unflatten", (1, (2, 3)), {}, [(2, 6, 4)]), ("Unflatten", (-1, (2, -1)), {}, [(2, 6, 4)]),
    ("LayerNorm", ((4, 5),), {}, [(3, 4, 5)]), ("LayerNorm", (5,), {"bias": False}, [(2, 3, 5)]),
    ("LayerNorm", (5,), {"elementwise_affine": False, "eps": 1e-3}, [(2, 3, 4, 5)]),
    ("GroupNorm", (2, 6), {}, [(3, 6, 4, 5)]), ("GroupNorm", (3, 6), {"affine": False}, [(3, 6)]),
    ("GroupNorm", (6, 6), {"eps": 1e-3}, [(3, 6, 7)]),
    ("LocalResponseNorm", (3,), {}, [(2, 6, 4, 5)]),
    ("LocalResponseNorm", (2,), {"alpha": 1e-2, "beta": 0.5, "k": 2.0}, [(2, 6, 7)]),
    ("LocalResponseNorm", (4,), {}, [(2, 6, 3, 4, 5)]),
    ("RMSNorm", ((4, 5),), {}, [(3, 4, 5)]), ("RMSNorm", (5,), {"eps": 1e-3}, [(3, 4, 5)]),
    ("RMSNorm", (5,), {"elementwise_affine": False}, [(3, 4, 5)]),
    ("PixelShuffle", (2,), {}, [(2, 8, 3, 4)]), ("PixelUnshuffle", (2,), {}, [(2, 2, 4, 6)]),
    ("ChannelShuffle", (2,), {}, [(2, 6, 3, 4)]),
    ("Upsample", (), {"scale_factor": 2}, [(2, 3, 4, 5)]),
    ("Upsample", (), {"size": (7, 3), "mode": "bilinear"}, [(2, 3, 4, 5)]),
    ("Upsample", (), {"scale_factor": 1.5, "mode": "bicubic", "align_corners": True},
     [(2, 3, 4, 5)]),
    ("Upsample", (), {"scale_factor": (2, 1.5, 0.5), "mode": "trilinear"}, [(1, 2, 3, 4, 6)]),
    ("Upsample", (), {"scale_factor": 1.7, "mode": "linear", "recompute_scale_factor": True},
     [(2, 3, 4)]),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}, [(2, 3, 4, 5)]),
    ("UpsamplingBilinear2d", (), {"size": (5, 7)}, [(2, 3, 4, 5)]),
    ("ConstantPad1d", (2, 1.0), {}, [(2, 3, 5)]), ("ConstantPad2d", ((1, 2, 0, 2), 3.5), {},
                                                     [(2, 3, 5, 4)]),
    ("ConstantPad3d", (1, -1.0), {}, [(2, 3, 5, 4, 3)]),
    ("CosineSimilarity", (), {}, [(3, 5), (3, 5)]),
    ("CosineSimilarity", (0, 1e-3), {}, [(3, 5), (3, 5)]),
    ("PairwiseDistance", (), {"p": 1.0, "keepdim": True}, [(3, 5), (3, 5)]),
    ("PairwiseDistance", (3.0, 1e-4), {}, [(3, 5), (5,)]),
]
for _nd, _shape in ((1, (2, 3, 5)), (2, (2, 3, 5, 4)), (3, (2, 3, 5, 4, 3))):
    for _kind in ("Reflection", "Replication", "Zero", "Circular"):
        CASES.append((f"{_kind}Pad{_nd}d", ((1, 2) * _nd,), {}, [_shape]))
        CASES.append((f"{_kind}Pad{_nd}d", (1,), {}, [_shape[1:]]))


@pytest.mark.parametrize("ctor,args,kw,shapes", CASES, ids=str)
def test_layer_matches_torch(ctor, args, kw, shapes):
    check_layer(ctor, args, kw, shapes)


_NORM_KW = [{}, {"momentum": None}, {"momentum": 0.3}, {"affine": False},
            {"track_running_stats": False}, {"eps": 1e-2},
            {"affine": False, "track_running_stats": False, "momentum": None}]


@pytest.mark.parametrize("nd,shape", [(1, (5, 4)), (1, (3, 4, 7)), (2, (3, 4, 5, 4)),
                                      (3, (3, 4, 3, 4, 2))])
@pytest.mark.parametrize("kw", _NORM_KW, ids=str)
def test_batch_norm_modules(nd, shape, kw):
    """Running statistics over several batches (momentum None is the cumulative average, with
    num_batches_tracked counting), then eval mode using them (or the batch without them)."""
    check_layer(f"BatchNorm{nd}d", (4,), kw, [shape], steps=3)


@pytest.mark.parametrize("nd,shape", [(1, (3, 4, 7)), (2, (3, 4, 5, 4)), (3, (3, 4, 3, 4, 2))])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True, "momentum": 0.2},
                                {"momentum": None, "track_running_stats": True}], ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_instance_norm_modules(nd, shape, kw, batched):
    check_layer(f"InstanceNorm{nd}d", (4,), kw, [shape if batched else shape[1:]], steps=2)


ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}), ("ELU", (), {"alpha": 0.5}),
    ("SELU", (), {}), ("CELU", (0.7,), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}), ("Mish", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-0.5, 0.7), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
    ("Softplus", (), {}), ("Softplus", (2.0, 0.5), {}), ("Softsign", (), {}), ("Softmax", (1,), {}),
    ("Softmax", (), {"dim": -1}), ("LogSoftmax", (1,), {}), ("Softmin", (1,), {}),
    ("Threshold", (0.1, 20.0), {}), ("GLU", (), {}), ("GLU", (1,), {}), ("LogSigmoid", (), {}),
    ("Tanhshrink", (), {}), ("Hardshrink", (), {}), ("Softshrink", (0.3,), {}),
    ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("ctor,args,kw", ACTIVATIONS, ids=str)
def test_activation_modules(ctor, args, kw):
    check_layer(ctor, args, kw, [(3, 4, 6, 2)])


_SHAPES = {"Dropout1d": (4, 6, 5), "Dropout3d": (4, 6, 5, 3, 2)}


@pytest.mark.parametrize("ctor,args", [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.1,)), ("ELU", ()), ("SELU", ()), ("CELU", ()),
    ("SiLU", ()), ("Mish", ()), ("Hardtanh", ()), ("Hardsigmoid", ()), ("Hardswish", ()),
    ("Threshold", (0.1, 2.0)), ("RReLU", ()), ("Dropout", ()), ("AlphaDropout", ()),
    ("Dropout1d", ()), ("Dropout2d", ()), ("Dropout3d", ()), ("FeatureAlphaDropout", ())])
def test_inplace_modules(ctor, args):
    """inplace=True writes into its (non-leaf) input and returns it; gradients flow through
    (random layers in eval mode, where they are deterministic)."""
    t, e = pair(ctor, *args, inplace=True)
    assert repr(e) == repr(t)
    t.eval()
    e.eval()
    x = np.random.default_rng(0).standard_normal(_SHAPES.get(ctor, (3, 4, 5, 2))
                                                 ).astype(np.float32)
    outs = []
    for lib, m in ((torch, t), (ember, e)):
        leaf = lib.tensor(x, requires_grad=True)
        h = leaf * 1
        y = m(h)
        assert y is h
        y.backward(lib.ones_like(y))
        outs.append((y.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ctor,args", [("Dropout", ()), ("Dropout", (0.3,)), ("Dropout1d", ()),
                                       ("Dropout2d", ()), ("Dropout3d", ()),
                                       ("AlphaDropout", (0.2,)), ("FeatureAlphaDropout", ()),
                                       ("RReLU", (0.1, 0.3))])
def test_random_layers_train_and_eval(ctor, args):
    """Random layers: repr as PyTorch, identity (or the mean slope) in eval mode; in training
    mode the gradient is the mask the forward used (outputs differ from PyTorch's RNG)."""
    t, e = pair(ctor, *args)
    assert repr(e) == repr(t)
    x = np.random.default_rng(0).standard_normal(_SHAPES.get(ctor, (4, 6, 5, 3))
                                                 ).astype(np.float32)
    t.eval()
    e.eval()
    run(t, e, [x])
    e.train()
    xe = ember.tensor(x, requires_grad=True)
    y = e(xe)
    y.backward(ember.ones_like(y))
    ratio = y.detach().numpy() / x  # the multiplier each element got
    assert not np.allclose(ratio, ratio.flat[0])  # something was dropped / randomised
    if ctor.startswith(("Dropout", "RReLU")):  # y = x * m, so dy/dx = m
        np.testing.assert_allclose(xe.grad.numpy(), ratio, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 0}, {"padding_idx": -1, "max_norm": 0.5},
                                {"scale_grad_by_freq": True}, {"max_norm": 1.0, "norm_type": 1.0}],
                         ids=str)
def test_embedding_module(kw):
    t, e = pair("Embedding", 10, 3, **kw)
    assert repr(e) == repr(t)
    idx = np.array([[1, 2, 0, 9], [9, 9, 3, 0]])
    for mode in ("train", "eval"):
        getattr(t, mode)()
        getattr(e, mode)()
        run(t, e, [], idx)
        np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(),
                                   rtol=1e-6, atol=1e-6)  # max_norm renormalises in place


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"include_last_offset": True},
                                {"max_norm": 1.0}, {"scale_grad_by_freq": True}], ids=str)
def test_embedding_bag_module(mode, kw):
    if mode == "max" and "scale_grad_by_freq" in kw:
        pytest.skip("max mode does not support scale_grad_by_freq (error tested elsewhere)")
    t, e = pair("EmbeddingBag", 10, 3, mode=mode, **kw)
    assert repr(e) == repr(t)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 1])
    offsets = np.array([0, 2, 2, 7, 10] if kw.get("include_last_offset") else [0, 2, 2, 7])
    run(t, e, [], idx, offsets)
    run(t, e, [], idx.reshape(2, 5))
    if mode == "sum":  # per-sample weights: output and both gradients
        w = np.linspace(-1, 1, 10).astype(np.float32)
        grads = []
        for lib, m in ((torch, t), (ember, e)):
            m.zero_grad()
            psw = lib.tensor(w, requires_grad=True)
            y = m(lib.tensor(idx), lib.tensor(offsets), per_sample_weights=psw)
            y.backward(lib.ones_like(y))
            grads.append([y.detach().numpy(), psw.grad.numpy(), m.weight.grad.numpy()])
        for a, b in zip(grads[1], grads[0]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
