"""ember.vision.models: torchvision's parameter counts and state-dict names, forward shapes,
initialisation, outputs against torch.nn builds of the same architectures, weights errors."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import ember
from ember.vision import models as M
from ember.vision.models import PretrainedWeightsUnavailable

try:
    import torch

    from tests.vision import _torch_models as TM
except ImportError:  # pragma: no cover - the oracle is installed in CI
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def build(name, **kw):
    if name == "googlenet":
        kw.setdefault("init_weights", True)
    return M.get_model(name, **kw)


@functools.cache
def default_model(name):
    """One default (1000-class) build per architecture: the large ones take seconds."""
    return build(name)


# torchvision's documented parameter counts (1000 classes).
PARAMS = {
    "alexnet": 61_100_840, "resnet18": 11_689_512, "resnet34": 21_797_672,
    "resnet50": 25_557_032, "resnet101": 44_549_160, "resnet152": 60_192_808,
    "resnext50_32x4d": 25_028_904, "wide_resnet50_2": 68_883_240, "vgg16": 138_357_544,
    "mobilenet_v2": 3_504_872, "mobilenet_v3_large": 5_483_032,
    "mobilenet_v3_small": 2_542_856, "squeezenet1_0": 1_248_424, "squeezenet1_1": 1_235_496,
    "densenet121": 7_978_856, "densenet169": 14_149_480, "shufflenet_v2_x1_0": 2_278_604,
    "shufflenet_v2_x0_5": 1_366_792,
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_counts(name):
    assert n_params(default_model(name)) == PARAMS[name]


def test_vgg_bn_features():
    """The _bn variants differ only in their features: BatchNorm after every conv."""
    from ember.vision.models.vgg import cfgs, make_layers

    feats = make_layers(cfgs["A"], batch_norm=True)
    classifier = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert n_params(feats) + classifier == 132_868_840  # vgg11_bn
    keys = list(feats.state_dict())
    assert len(keys) == 8 * 7 and keys[0] == "0.weight" and keys[-1] == "26.num_batches_tracked"
    assert n_params(make_layers(cfgs["E"], batch_norm=True)) + classifier == 143_678_248


def test_googlenet_parameter_count():
    assert n_params(build("googlenet", aux_logits=False)) == 6_624_904


# Names torchvision's checkpoints use (state-dict key count, first key, last key, and keys
# that pin the nesting of blocks).
KEYS = {
    "vgg16": (32, "features.0.weight", "classifier.6.bias", ["features.28.weight"]),
    "mobilenet_v3_large": (312, "features.0.0.weight", "classifier.3.bias",
                           ["features.1.block.0.0.weight", "features.4.block.2.fc1.weight",
                            "features.4.block.2.fc2.bias", "features.16.1.running_mean"]),
    "mobilenet_v3_small": (244, "features.0.0.weight", "classifier.3.bias",
                           ["features.1.block.1.fc1.weight", "features.12.0.weight"]),
    "squeezenet1_0": (52, "features.0.weight", "classifier.1.bias",
                      ["features.3.squeeze.weight", "features.12.expand3x3.weight"]),
    "squeezenet1_1": (52, "features.0.weight", "classifier.1.bias",
                      ["features.3.expand1x1.bias", "features.12.squeeze.weight"]),
    "densenet121": (727, "features.conv0.weight", "classifier.bias",
                    ["features.denseblock1.denselayer1.norm1.weight",
                     "features.denseblock4.denselayer16.conv2.weight",
                     "features.transition3.conv.weight", "features.norm5.running_var"]),
    "shufflenet_v2_x1_0": (338, "conv1.0.weight", "fc.bias",
                           ["stage2.0.branch1.0.weight", "stage2.0.branch2.6.running_mean",
                            "stage4.3.branch2.5.weight", "conv5.1.num_batches_tracked"]),
    "googlenet": (364, "conv1.conv.weight", "fc.bias",
                  ["conv1.bn.running_mean", "inception3a.branch2.1.conv.weight",
                   "inception5b.branch4.1.bn.bias", "aux1.conv.conv.weight", "aux2.fc2.bias"]),
    "resnext50_32x4d": (320, "conv1.weight", "fc.bias", ["layer1.0.downsample.0.weight",
                                                         "layer4.2.bn3.running_var"]),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_state_dict_names(name):
    count, first, last, inside = KEYS[name]
    keys = list(default_model(name).state_dict())
    assert len(keys) == count and keys[0] == first and keys[-1] == last
    for k in inside:
        assert k in keys


@needs_torch
@pytest.mark.parametrize("name,ref", [
    ("resnet18", lambda: TM.ResNet(TM.Basic, [2, 2, 2, 2], 10)),
    ("resnet50", lambda: TM.ResNet(TM.Bottle, [3, 4, 6, 3], 10)),
    ("resnext50_32x4d", lambda: TM.ResNet(TM.Bottle, [3, 4, 6, 3], 10, groups=32, width=4)),
    ("mobilenet_v2", lambda: TM.MobileNetV2(10)),
    ("alexnet", lambda: TM.AlexNet(10)),
    ("vgg11_bn", lambda: TM.VGG("vgg11", batch_norm=True, num_classes=10)),
    ("vgg16", lambda: TM.VGG("vgg16", num_classes=10)),
    ("squeezenet1_0", lambda: TM.SqueezeNet("1_0", 10)),
    ("squeezenet1_1", lambda: TM.SqueezeNet("1_1", 10)),
    ("densenet121", lambda: TM.DenseNet(num_classes=10)),
    ("shufflenet_v2_x1_0", lambda: TM.ShuffleNetV2(num_classes=10)),
    ("mobilenet_v3_large", lambda: TM.MobileNetV3("large", 10)),
    ("mobilenet_v3_small", lambda: TM.MobileNetV3("small", 10)),
    ("googlenet", lambda: TM.GoogLeNet(10)),
])
def test_against_torch_build(name, ref):
    """Same keys, shapes and outputs as the architecture built with torch.nn, with ember's
    weights copied over (a torchvision checkpoint maps onto ember the same way)."""
    model = build(name, num_classes=10).eval()
    tmodel = ref().eval()
    ours = model.state_dict()
    theirs = tmodel.state_dict()
    assert list(ours) == list(theirs)
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    # Make the batch-norm statistics non-trivial before comparing outputs.
    rng = np.random.default_rng(0)
    state = {}
    for k, v in ours.items():
        a = v.numpy().copy()
        if k.endswith("running_var"):
            a = rng.uniform(0.5, 1.5, a.shape).astype(a.dtype)
        elif k.endswith("running_mean") or (k.endswith("bias") and "bn" in k):
            a = rng.uniform(-0.1, 0.1, a.shape).astype(a.dtype)
        state[k] = a
    model.load_state_dict(state)
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    x = rng.standard_normal((2, 3, 64, 64)).astype(np.float32)
    with ember.no_grad():
        out = model(ember.from_numpy(x)).numpy()
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


FORWARD = ["alexnet", "vgg16", "resnet18", "resnet50", "resnext50_32x4d", "mobilenet_v2",
           "mobilenet_v3_small", "mobilenet_v3_large", "squeezenet1_0", "squeezenet1_1",
           "densenet121", "googlenet", "shufflenet_v2_x1_0"]


@pytest.mark.parametrize("name", FORWARD)
def test_forward_and_backward(name):
    # VGG's 100M-parameter classifier is built once (1000 classes); the others with 7.
    model = default_model(name) if name.startswith("vgg") else build(name, num_classes=7)
    classes = 1000 if name.startswith("vgg") else 7
    x = ember.randn(2, 3, 64, 64) if name == "alexnet" else ember.randn(2, 3, 32, 32)
    if name.startswith("vgg"):
        model.eval()  # forward only: a backward through 138M parameters adds nothing
        with ember.no_grad():
            assert model(x).shape == (2, classes)
        return
    out = model(x)
    if name == "googlenet":  # training mode with auxiliary heads
        assert type(out).__name__ == "GoogLeNetOutputs"
        assert out.aux_logits1.shape == (2, classes) and out.aux_logits2.shape == (2, classes)
        (out.aux_logits1.sum() + out.aux_logits2.sum()).backward(retain_graph=True)
        out = out.logits
    assert out.shape == (2, classes) and out.dtype == ember.float32
    out.sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    model.eval()
    with ember.no_grad():
        assert model(x).shape == (2, classes)


def _std(t) -> float:
    return float(t.detach().numpy().std())


def test_initialisation():
    r = M.resnet18()
    w = r.layer1[0].conv1.weight
    assert abs(_std(w) - math.sqrt(2 / (64 * 9))) < 0.1 * math.sqrt(2 / (64 * 9))
    assert r.layer1[0].bn2.weight.tolist() == [1.0] * 64
    z = M.resnet50(zero_init_residual=True)
    assert float(z.layer2[1].bn3.weight.abs().sum()) == 0
    z18 = M.resnet18(zero_init_residual=True)
    assert float(z18.layer3[0].bn2.weight.abs().sum()) == 0
    m = M.mobilenet_v2()
    assert abs(_std(m.classifier[1].weight) - 0.01) < 0.001
    assert float(m.classifier[1].bias.abs().sum()) == 0
    # Depthwise 3x3 with 32 outputs: PyTorch's fan_out ignores groups, 32 * 9.
    c = m.features[1].conv[0][0].weight
    assert abs(_std(c) - math.sqrt(2 / 288)) < 0.15 * math.sqrt(2 / 288)
    s = M.squeezenet1_1()
    assert abs(_std(s.classifier[1].weight) - 0.01) < 0.002
    d = M.densenet121()
    conv0 = d.features.conv0.weight  # kaiming normal, fan_in = 3 * 49
    assert abs(_std(conv0) - math.sqrt(2 / 147)) < 0.1 * math.sqrt(2 / 147)
    assert float(d.classifier.bias.abs().sum()) == 0
    with pytest.warns(FutureWarning, match="The default weight initialization of GoogleNet"):
        g = M.googlenet(aux_logits=False)
    assert abs(_std(g.fc.weight) - 0.01) < 0.001 and g.aux1 is None
    v3 = M.mobilenet_v3_small()
    bn = v3.features[0][1]
    assert bn.eps == 0.001 and bn.momentum == 0.01


def test_model_options():
    r = M.resnet18(num_classes=3, replace_stride_with_dilation=None)
    assert r.fc.out_features == 3
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None or a "
                                         "3-element tuple"):
        M.resnet50(replace_stride_with_dilation=[False])
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        M.resnet18(replace_stride_with_dilation=[False, True, True])
    dil = M.resnet50(replace_stride_with_dilation=[False, True, True], num_classes=4)
    assert dil(ember.randn(1, 3, 64, 64)).shape == (1, 4)
    assert M.mobilenet_v2(width_mult=0.5).features[0][0].out_channels == 16
    assert M.mobilenet_v3_large(reduced_tail=True).classifier[0].out_features == 640
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version 2_0"):
        M.SqueezeNet("2_0")
    with pytest.raises(ValueError, match="expected stages_repeats as list of 3 positive ints"):
        M.ShuffleNetV2([1, 2], [1, 2, 3, 4, 5])
    g = M.googlenet(init_weights=True, transform_input=True, aux_logits=False).eval()
    assert g(ember.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_pretrained_weights_are_refused_with_instructions():
    with pytest.raises(PretrainedWeightsUnavailable) as e:
        M.resnet18(weights="IMAGENET1K_V1")
    msg = str(e.value)
    assert "resnet18-f37072fd.pth" in msg and "load_state_dict(ember.load(" in msg
    assert "ember.vision.models.resnet18()" in msg
    assert isinstance(e.value, RuntimeError)
    with pytest.raises(PretrainedWeightsUnavailable, match="resnet50-11ad3fa6.pth"):
        M.resnet50(weights=M.ResNet50_Weights.DEFAULT)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(PretrainedWeightsUnavailable, match="vgg16"):
            M.vgg16(pretrained=True)
    assert any("'pretrained' is deprecated" in str(x.message) for x in w)
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        assert M.squeezenet1_1(pretrained=False).classifier[1].out_channels == 1000
    with pytest.raises(ValueError, match="Unknown weights 'BOGUS' for mobilenet_v2"):
        M.mobilenet_v2(weights="BOGUS")
    with pytest.raises(TypeError, match="Invalid Weight class provided; expected "
                                        "ResNet18_Weights but received ResNet50_Weights"):
        M.resnet18(weights=M.ResNet50_Weights.IMAGENET1K_V1)
    with pytest.raises(PretrainedWeightsUnavailable):
        M.DenseNet121_Weights.DEFAULT.get_state_dict(progress=False)


def test_weights_enums_and_presets():
    assert M.ResNet50_Weights.DEFAULT is M.ResNet50_Weights.IMAGENET1K_V2
    assert M.ResNet18_Weights.DEFAULT is M.ResNet18_Weights.IMAGENET1K_V1
    assert repr(M.ResNet18_Weights.IMAGENET1K_V1) == "ResNet18_Weights.IMAGENET1K_V1"
    assert M.get_weight("ResNet50_Weights.IMAGENET1K_V1") is M.ResNet50_Weights.IMAGENET1K_V1
    preset = M.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert preset.resize_size == [232] and preset.crop_size == [224]
    from PIL import Image

    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), np.uint8))
    x = preset(img)
    assert x.shape == (3, 224, 224) and x.dtype == ember.float32
    assert "crop_size=[224]" in repr(preset)


def test_registry():
    names = M.list_models()
    for required in ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
                     "vgg19", "vgg19_bn", "resnet18", "resnet34", "resnet50", "resnet101",
                     "resnet152", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v2",
                     "mobilenet_v3_small", "mobilenet_v3_large", "squeezenet1_0",
                     "squeezenet1_1", "densenet121", "googlenet", "shufflenet_v2_x1_0"]:
        assert required in names
    assert M.list_models(include="resnet*") == ["resnet101", "resnet152", "resnet18",
                                                "resnet34", "resnet50"]
    assert "vgg16" not in M.list_models(exclude="vgg*")
    assert M.get_model("squeezenet1_1", num_classes=3).num_classes == 3
    assert M.get_model_weights("resnet50") is M.ResNet50_Weights
    assert M.get_model_builder("densenet121") is M.densenet121
    with pytest.raises(ValueError, match="Unknown model nope"):
        M.get_model("nope")


def test_densenet_loads_old_checkpoint_names():
    model = M.densenet121(num_classes=5)
    state = {k: v.numpy() + 1 for k, v in model.state_dict().items()}
    old = {}
    for k, v in state.items():
        for new, legacy in (("norm1.", "norm.1."), ("norm2.", "norm.2."), ("conv1.", "conv.1."),
                            ("conv2.", "conv.2.")):
            if "denselayer" in k and f".{new}" in k:
                k = k.replace(f".{new}", f".{legacy}")
        old[k] = v
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    fresh = M.densenet121(num_classes=5)
    fresh.load_state_dict(old)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k])
