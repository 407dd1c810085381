"""ember.vision.transforms: geometry as torchvision documents it, tensor paths against
torch-based references, PIL paths against Pillow/NumPy, randomness from ember's RNG, errors."""

from __future__ import annotations

import colorsys
import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F
from ember.vision.transforms.functional import InterpolationMode as IM

PIL = pytest.importorskip("PIL")
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

try:
    import torch

    from tests.vision import _reference as ref
except ImportError:  # pragma: no cover - the oracle is installed in CI
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")

RNG = np.random.default_rng(0)


def rgb(h=17, w=23, rng=None):
    return (rng or RNG).integers(0, 256, (h, w, 3), dtype=np.uint8)


def pil(arr):
    return Image.fromarray(arr)


def chw(arr):
    """uint8 HWC -> ember uint8 CHW."""
    return ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def hwc(t):
    return t.numpy().transpose(1, 2, 0)


# -- conversions ---------------------------------------------------------------------------
def test_to_tensor_modes():
    a = rgb()
    t = F.to_tensor(pil(a))
    assert t.shape == (3, 17, 23) and t.dtype == ember.float32
    np.testing.assert_array_equal(t.numpy(), a.transpose(2, 0, 1).astype(np.float32) / 255)
    gray = F.to_tensor(pil(a[:, :, 0]))
    assert gray.shape == (1, 17, 23)
    bw = F.to_tensor(pil(a[:, :, 0] > 128).convert("1"))
    assert set(np.unique(bw.numpy())) <= {0.0, 1.0}
    f = np.float32(RNG.random((4, 5)))
    tf = F.to_tensor(Image.fromarray(f, mode="F"))
    assert tf.dtype == ember.float32 and np.array_equal(tf.numpy()[0], f)
    ti = F.to_tensor(Image.fromarray(np.arange(20, dtype=np.int32).reshape(4, 5), mode="I"))
    assert ti.dtype == ember.int32 and ti.numpy()[0, 3, 4] == 19
    # ndarrays: HWC; uint8 scaled, other types kept.
    np.testing.assert_array_equal(F.to_tensor(a).numpy(), t.numpy())
    d = RNG.random((4, 5, 2))
    assert F.to_tensor(d).dtype == ember.float64
    np.testing.assert_array_equal(F.to_tensor(d).numpy(), d.transpose(2, 0, 1))
    ember.set_default_dtype(ember.float64)
    try:
        assert F.to_tensor(pil(a)).dtype == ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'list'>"):
        T.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        F.to_tensor(np.zeros((1, 2, 3, 4), np.uint8))


@pytest.mark.parametrize("mode", ["L", "P", "LA", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr",
                                  "LAB", "HSV", "I;16", "1"])
def test_to_tensor_every_mode_matches_numpy_view(mode):
    # torchvision: np.array(pic, int16 for I;16, else uint8) reshaped to (H, W, bands),
    # channels first, mode "1" times 255, uint8 / 255
    a = rgb(6, 9)
    img = Image.frombytes(mode, (9, 6), a.tobytes()) if mode in ("LAB", "HSV") else \
        pil(a).convert(mode)
    bands = len(img.getbands())
    ref = np.array(img, np.int16 if mode == "I;16" else np.uint8, copy=True)
    ref = ref.reshape(6, 9, bands).transpose(2, 0, 1)
    if mode == "1":
        ref = ref * np.uint8(255)
    if ref.dtype == np.uint8:
        ref = ref.astype(np.float32) / np.float32(255)
    t = F.to_tensor(img)
    assert t.shape == (bands, 6, 9) and t.numpy().dtype == ref.dtype
    np.testing.assert_array_equal(t.numpy(), ref)
    assert t.is_contiguous()


def test_pil_to_tensor_and_back():
    a = rgb()
    t = T.PILToTensor()(pil(a))
    assert t.dtype == ember.uint8 and t.shape == (3, 17, 23)
    np.testing.assert_array_equal(hwc(t), a)
    back = T.ToPILImage()(t)
    assert back.mode == "RGB" and np.array_equal(np.asarray(back), a)
    # Floats are scaled by 255 (and truncated) unless mode 'F'.
    fl = T.ToPILImage()(F.to_tensor(pil(a)))
    np.testing.assert_array_equal(np.asarray(fl), a)
    g = T.ToPILImage()(ember.tensor([[0.5, 1.0]]))
    assert g.mode == "L" and np.asarray(g).tolist() == [[127, 255]]
    assert T.ToPILImage()(ember.zeros(2, 3, 4, dtype=ember.uint8)).mode == "LA"
    assert T.ToPILImage()(ember.zeros(4, 3, 4, dtype=ember.uint8)).mode == "RGBA"
    assert T.ToPILImage(mode="F")(ember.rand(1, 3, 4)).mode == "F"
    assert repr(T.ToPILImage(mode="RGB")) == "ToPILImage(mode=RGB)"
    with pytest.raises(ValueError, match=r"Only modes \['RGB', 'YCbCr', 'HSV'\] are supported "
                                         "for 3D inputs"):
        F.to_pil_image(ember.zeros(3, 2, 2, dtype=ember.uint8), mode="RGBA")
    with pytest.raises(ValueError, match="pic should not have > 4 channels. Got 5 channels."):
        F.to_pil_image(ember.zeros(5, 2, 2, dtype=ember.uint8))
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray. Got <class 'list'>."):
        F.to_pil_image([1])
    with pytest.raises(TypeError, match="pic should be PIL Image. Got"):
        F.pil_to_tensor(np.zeros((2, 2)))


def test_convert_image_dtype():
    u = ember.tensor([[[0, 1, 128, 255]]], dtype=ember.uint8)
    f = F.convert_image_dtype(u, ember.float32)
    np.testing.assert_array_equal(f.numpy(), np.array([[[0, 1, 128, 255]]], np.float32) / 255)
    np.testing.assert_array_equal(T.ConvertImageDtype(ember.uint8)(f).numpy(), u.numpy())
    fl = ember.tensor([[[0.0, 0.5, 0.999, 1.0]]])
    assert F.convert_image_dtype(fl, ember.uint8).tolist() == [[[0, 127, 255, 255]]]
    assert F.convert_image_dtype(u, ember.int32).tolist() == [[[0, 2 ** 23, 2 ** 30,
                                                                 255 * 2 ** 23]]]
    i32 = ember.tensor([[[2 ** 31 - 1, 2 ** 24]]], dtype=ember.int32)
    assert F.convert_image_dtype(i32, ember.uint8).tolist() == [[[255, 2]]]  # // 2 ** 23
    with pytest.raises(RuntimeError, match="The cast from torch.float32 to torch.int32 cannot "
                                           "be performed safely."):
        F.convert_image_dtype(fl, ember.int32)
    with pytest.raises(TypeError, match="Input img should be Tensor Image"):
        F.convert_image_dtype(np.zeros(3), ember.float32)


# -- normalize -----------------------------------------------------------------------------
@needs_torch
def test_normalize_against_pytorch_ops():
    x = RNG.random((2, 3, 5, 4)).astype(np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = T.Normalize(mean, std)(ember.from_numpy(x.copy()))
    expected = (torch.from_numpy(x) - torch.tensor(mean).view(-1, 1, 1)) / \
        torch.tensor(std).view(-1, 1, 1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    # inplace writes into the input; the default leaves it alone.
    inp = ember.from_numpy(x[0].copy())
    res = F.normalize(inp, mean, std, inplace=True)
    assert res is inp and np.allclose(inp.numpy(), expected[0].numpy(), atol=1e-6)
    keep = ember.from_numpy(x[0].copy())
    F.normalize(keep, mean, std)
    np.testing.assert_array_equal(keep.numpy(), x[0])
    # Autograd flows through (the op is built from ember ops).
    g = ember.from_numpy(x[0].copy()).requires_grad_()
    F.normalize(g, mean, std).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), np.broadcast_to(
        1 / np.array(std, np.float32)[:, None, None], (3, 5, 4)), rtol=1e-6)
    assert repr(T.Normalize(mean, std)) == f"Normalize(mean={mean}, std={std})"
    # mean/std given as tensors, a grayscale mean broadcast over channels, inference mode
    t_mean = ember.tensor(mean)
    np.testing.assert_allclose(F.normalize(ember.from_numpy(x), t_mean, ember.tensor(std))
                               .numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(F.normalize(ember.from_numpy(x), [0.5], [0.25]).numpy(),
                               (x - np.float32(0.5)) / np.float32(0.25), rtol=1e-6)
    with ember.inference_mode():
        assert F.normalize(ember.from_numpy(x), mean, std).is_inference()
    assert not F.normalize(ember.from_numpy(x), mean, std).requires_grad


@needs_torch
def test_normalize_errors():
    x = ember.rand(3, 4, 4)
    # A mean of the wrong length fails like PyTorch's broadcasting in sub_.
    with pytest.raises(RuntimeError) as e_ember:
        F.normalize(x, [0.5, 0.5], [0.5, 0.5, 0.5])
    with pytest.raises(RuntimeError) as e_torch:
        torch.rand(3, 4, 4).sub_(torch.tensor([0.5, 0.5]).view(-1, 1, 1))
    assert str(e_ember.value) == str(e_torch.value)
    with pytest.raises(RuntimeError, match="The size of tensor a"):
        F.normalize(x, [0.5] * 3, [0.5] * 4)
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to "
                                         "torch.float32, leading to division by zero."):
        F.normalize(x, [0.5] * 3, [1.0, 0.0, 1.0])
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got torch.uint8"):
        F.normalize(ember.zeros(3, 2, 2, dtype=ember.uint8), [0], [1])
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size "
                                         r"\(..., C, H, W\). Got tensor.size\(\) = "
                                         r"torch.Size\(\[4, 4\]\)"):
        F.normalize(ember.rand(4, 4), [0], [1])
    with pytest.raises(TypeError, match="img should be Tensor Image. Got <class"):
        T.Normalize([0.5], [0.5])(pil(rgb()))


# -- resize --------------------------------------------------------------------------------
@pytest.mark.parametrize("h,w,size,max_size,expected", [
    (17, 23, 10, None, (10, 13)),       # shorter edge 17 -> 10, long = int(10 * 23 / 17)
    (23, 17, 10, None, (13, 10)),
    (20, 20, 7, None, (7, 7)),
    (17, 23, [10], None, (10, 13)),
    (17, 23, (8, 30), None, (8, 30)),
    (100, 400, 50, 120, (30, 120)),     # long edge capped: short = int(120 * 50 / 200)
    (100, 400, 50, 300, (50, 200)),
])
def test_resize_output_size(h, w, size, max_size, expected):
    img = pil(rgb(h, w))
    out = T.Resize(size, max_size=max_size)(img)
    assert out.size == (expected[1], expected[0])
    t = T.Resize(size, max_size=max_size)(chw(rgb(h, w)))
    assert tuple(t.shape[-2:]) == expected


def test_resize_pil_matches_pillow():
    a = rgb(40, 30)
    for mode, pil_filter in [(IM.BILINEAR, Image.BILINEAR), (IM.NEAREST, Image.NEAREST),
                             (IM.BICUBIC, Image.BICUBIC), (IM.LANCZOS, Image.LANCZOS),
                             (IM.BOX, Image.BOX), (IM.HAMMING, Image.HAMMING)]:
        out = F.resize(pil(a), [15, 11], interpolation=mode)
        assert np.array_equal(np.asarray(out), np.asarray(pil(a).resize((11, 15), pil_filter)))
    # Pillow integer constants are accepted; same-size resizes return the input.
    img = pil(a)
    assert F.resize(img, [40, 30], interpolation=3) is img
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image"):
        F.resize(img, 10, antialias=False)


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(9, 31), (40, 12), (17, 23)])
def test_resize_tensor_against_interpolate(mode, antialias, size):
    x = RNG.random((2, 3, 17, 23)).astype(np.float32)
    out = F.resize(ember.from_numpy(x), list(size), interpolation=IM(mode), antialias=antialias)
    aa = antialias and mode in ("bilinear", "bicubic")
    ac = False if mode in ("bilinear", "bicubic") else None
    if list(size) == [17, 23]:
        expected = torch.from_numpy(x)  # same size: returned as is
    else:
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode,
                                                   align_corners=ac, antialias=aa)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


@needs_torch
def test_resize_uint8_tensor_rounds_and_matches_pil_closely():
    a = rgb(40, 50)
    t = F.resize(chw(a), [20, 25])
    expected = torch.nn.functional.interpolate(torch.from_numpy(a.transpose(2, 0, 1)).float()[None],
                                               size=(20, 25), mode="bilinear",
                                               antialias=True)[0].round().to(torch.uint8)
    assert t.dtype == ember.uint8
    np.testing.assert_array_equal(t.numpy(), expected.numpy())
    # Antialiased tensor resizing follows Pillow's filter: within one level of the PIL path.
    p = np.asarray(F.resize(pil(a), [20, 25]))
    assert np.abs(hwc(t).astype(int) - p.astype(int)).max() <= 1


def test_resize_errors():
    with pytest.raises(TypeError, match="Size should be int or sequence. Got <class 'float'>"):
        T.Resize(3.5)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies"):
        F.resize(pil(rgb()), [10, 10], max_size=20)
    with pytest.raises(ValueError, match=r"max_size = 10 must be strictly greater than the "
                                         r"requested size for the smaller edge size = \[10\]"):
        F.resize(pil(rgb()), 10, max_size=10)
    with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode"):
        F.resize(pil(rgb()), 10, interpolation="bilinear")
    with pytest.raises(TypeError, match="Unexpected type <class 'numpy.ndarray'>"):
        F.resize(rgb(), 10)
    with pytest.raises(ValueError, match="Interpolation mode 'lanczos' is unsupported with "
                                         "Tensor input"):
        F.resize(chw(rgb()), 10, interpolation=IM.LANCZOS)
    assert repr(T.Resize(10)) == ("Resize(size=10, interpolation=bilinear, max_size=None, "
                                  "antialias=True)")


# -- crops ---------------------------------------------------------------------------------
@pytest.mark.parametrize("h,w,th,tw", [(17, 23, 10, 10), (17, 23, 4, 9), (10, 10, 3, 3),
                                       (17, 23, 17, 23), (9, 8, 12, 15)])
def test_center_crop_offsets(h, w, th, tw):
    a = rgb(h, w)
    out_pil = np.asarray(T.CenterCrop((th, tw))(pil(a)))
    out_t = hwc(T.CenterCrop((th, tw))(chw(a)))
    if th <= h and tw <= w:
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        expected = a[top:top + th, left:left + tw]
    else:  # zero padding first, as documented, then the crop
        pt, pl = (th - h) // 2, (tw - w) // 2
        expected = np.zeros((th, tw, 3), np.uint8)
        expected[pt:pt + h, pl:pl + w] = a
    np.testing.assert_array_equal(out_pil, expected)
    np.testing.assert_array_equal(out_t, expected)
    assert T.CenterCrop(5).size == (5, 5) and T.CenterCrop([5]).size == (5, 5)


def test_crop_outside_pads_with_zeros():
    a = rgb(6, 7)
    out = F.crop(chw(a), -2, 3, 5, 6)
    expected = np.zeros((5, 6, 3), np.uint8)
    expected[2:, :4] = a[:3, 3:]
    np.testing.assert_array_equal(hwc(out), expected)
    np.testing.assert_array_equal(np.asarray(F.crop(pil(a), -2, 3, 5, 6)), expected)


def test_five_and_ten_crop():
    a = rgb(17, 23)
    crops = T.FiveCrop((6, 8))(pil(a))
    boxes = [(0, 0), (0, 15), (11, 0), (11, 15), (int(round(11 / 2)), int(round(15 / 2)))]
    for c, (i, j) in zip(crops, boxes):
        np.testing.assert_array_equal(np.asarray(c), a[i:i + 6, j:j + 8])
    tensor_crops = T.FiveCrop((6, 8))(chw(a))
    for c, (i, j) in zip(tensor_crops, boxes):
        np.testing.assert_array_equal(hwc(c), a[i:i + 6, j:j + 8])
    ten = T.TenCrop(6)(pil(a))
    assert len(ten) == 10
    flipped = a[:, ::-1]
    np.testing.assert_array_equal(np.asarray(ten[5]), flipped[0:6, 0:6])
    ten_v = T.TenCrop(6, vertical_flip=True)(chw(a))
    np.testing.assert_array_equal(hwc(ten_v[8]), a[::-1][11:, 17:])
    with pytest.raises(ValueError, match=r"Requested crop size \(20, 8\) is bigger than input "
                                         r"size \(17, 23\)"):
        F.five_crop(pil(a), (20, 8))
    with pytest.raises(ValueError, match="Please provide only two dimensions"):
        T.FiveCrop((1, 2, 3))


def test_random_crop_params_and_reproducibility():
    a = rgb(17, 23)
    ember.manual_seed(3)
    first = [T.RandomCrop.get_params(pil(a), (5, 7)) for _ in range(50)]
    ember.manual_seed(3)
    again = [T.RandomCrop.get_params(pil(a), (5, 7)) for _ in range(50)]
    assert first == again
    tops = {i for i, _, _, _ in first}
    lefts = {j for _, j, _, _ in first}
    assert min(tops) >= 0 and max(tops) <= 12 and min(lefts) >= 0 and max(lefts) <= 16
    assert len(tops) > 5 and len(lefts) > 5
    ember.manual_seed(5)
    i, j, h, w = T.RandomCrop.get_params(chw(a), (5, 7))
    ember.manual_seed(5)
    out = T.RandomCrop((5, 7))(chw(a))
    np.testing.assert_array_equal(hwc(out), a[i:i + 5, j:j + 7])
    assert T.RandomCrop.get_params(pil(a), (17, 23)) == (0, 0, 17, 23)
    with pytest.raises(ValueError, match=r"Required crop size \(18, 5\) is larger than input "
                                         r"image size \(17, 23\)"):
        T.RandomCrop((18, 5))(pil(a))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_modes(mode):
    a = rgb(6, 7)
    np_mode = {"constant": "constant", "edge": "edge", "reflect": "reflect",
               "symmetric": "symmetric"}[mode]
    kwargs = {"constant_values": 9} if mode == "constant" else {}
    expected = np.pad(a, ((2, 4), (1, 3), (0, 0)), np_mode, **kwargs)
    out_pil = np.asarray(T.Pad((1, 2, 3, 4), fill=9, padding_mode=mode)(pil(a)))
    out_t = hwc(T.Pad((1, 2, 3, 4), fill=9, padding_mode=mode)(chw(a)))
    np.testing.assert_array_equal(out_pil, expected)
    np.testing.assert_array_equal(out_t, expected)
    # Two values: left/right and top/bottom; negative padding crops.
    np.testing.assert_array_equal(hwc(F.pad(chw(a), [2, 1], 0, mode)),
                                  np.pad(a, ((1, 1), (2, 2), (0, 0)), np_mode))
    np.testing.assert_array_equal(hwc(F.pad(chw(a), [-1, 0, 0, -2], 0, mode)), a[:-2, 1:])
    np.testing.assert_array_equal(np.asarray(F.pad(pil(a), [-1, 0, 0, -2], 0, mode)), a[:-2, 1:])


def test_pad_fill_per_channel_and_errors():
    a = rgb(3, 3)
    out = np.asarray(F.pad(pil(a), 1, fill=(1, 2, 3)))
    assert out[0, 0].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"The number of elements in 'fill' does not match the "
                                         r"number of channels of the image \(2 != 3\)"):
        F.pad(pil(a), 1, fill=(1, 2))
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, "
                                         "not a 3 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, "
                                         "reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        T.Pad("1")
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding "
                                           "input dimension"):
        F.pad(chw(a), 3, padding_mode="reflect")


def test_random_crop_padding_and_pad_if_needed():
    a = rgb(5, 6)
    out = T.RandomCrop((9, 10), padding=2)(pil(a))
    assert out.size == (10, 9)
    np.testing.assert_array_equal(np.asarray(out), np.pad(a, ((2, 2), (2, 2), (0, 0))))
    out = T.RandomCrop((7, 11), pad_if_needed=True, fill=4)(chw(a))
    assert out.shape == (3, 7, 11)
    # Padding is added on both sides, so the original always sits inside the crop.
    assert (out.numpy() == 4).sum() == 3 * (7 * 11 - 5 * 6)


def test_random_resized_crop_params():
    img = pil(rgb(40, 60))
    ember.manual_seed(0)
    for _ in range(200):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.2, 0.5), (0.5, 2.0))
        assert 0 <= i <= 40 - h and 0 <= j <= 60 - w
        assert 0.2 * 2400 * 0.8 <= h * w <= 0.5 * 2400 * 1.2
        assert 0.5 * 0.8 <= w / h <= 2.0 * 1.25
    # Impossible ratios fall back to the documented center crop.
    assert T.RandomResizedCrop.get_params(img, (0.99, 1.0), (10.0, 20.0)) == (17, 0, 6, 60)
    assert T.RandomResizedCrop.get_params(img, (0.99, 1.0), (0.01, 0.02)) == (0, 29, 40, 1)
    out = T.RandomResizedCrop(12)(img)
    assert out.size == (12, 12)
    t = T.RandomResizedCrop((8, 10), antialias=True)(chw(rgb(40, 60)))
    assert t.shape == (3, 8, 10) and t.dtype == ember.uint8
    with pytest.warns(UserWarning, match="Scale and ratio should be of kind"):
        T.RandomResizedCrop(5, scale=(1.0, 0.5))
    assert repr(T.RandomResizedCrop(5)) == (
        "RandomResizedCrop(size=(5, 5), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)")


def test_random_resized_crop_is_crop_then_resize():
    a = rgb(30, 30)
    ember.manual_seed(11)
    i, j, h, w = T.RandomResizedCrop.get_params(pil(a), (0.08, 1.0), (3 / 4, 4 / 3))
    ember.manual_seed(11)
    out = T.RandomResizedCrop(10)(pil(a))
    expected = pil(a[i:i + h, j:j + w]).resize((10, 10), Image.BILINEAR)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


# -- flips and randomness --------------------------------------------------------------------
def test_flips():
    a = rgb()
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(pil(a))), a[:, ::-1])
    np.testing.assert_array_equal(hwc(T.RandomHorizontalFlip(1.0)(chw(a))), a[:, ::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(1.0)(pil(a))), a[::-1])
    np.testing.assert_array_equal(hwc(T.RandomVerticalFlip(1.0)(chw(a))), a[::-1])
    assert T.RandomHorizontalFlip(0.0)(pil(a)).tobytes() == pil(a).tobytes()
    flips = [T.RandomHorizontalFlip()(chw(a)) for _ in range(200)]
    n = sum(np.array_equal(hwc(f), a[:, ::-1]) for f in flips)
    assert 60 < n < 140
    with pytest.raises(TypeError, match="img should be PIL Image. Got <class 'numpy.ndarray'>"):
        F.hflip(a)


def test_pipeline_reproducible_with_manual_seed():
    tf = T.Compose([T.RandomResizedCrop(16), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4,
                    0.4, 0.1), T.RandomRotation(20), T.ToTensor(), T.RandomErasing(p=0.7)])
    img = pil(rgb(40, 40))
    ember.manual_seed(123)
    a = [tf(img) for _ in range(4)]
    ember.manual_seed(123)
    b = [tf(img) for _ in range(4)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    ember.manual_seed(124)
    c = tf(img)
    assert not np.array_equal(a[0].numpy(), c.numpy())
    # A Generator-driven stream elsewhere does not disturb the pipeline's draws.
    ember.manual_seed(123)
    ember.rand(1, generator=ember.Generator().manual_seed(1))
    np.testing.assert_array_equal(tf(img).numpy(), a[0].numpy())


def test_random_apply_choice_order():
    calls = []
    t1 = T.Lambda(lambda x: calls.append("a") or x + 1)
    t2 = T.Lambda(lambda x: calls.append("b") or x * 2)
    ember.manual_seed(0)
    results = [T.RandomApply([t1, t2], p=0.5)(1) for _ in range(100)]
    assert set(results) == {1, 4} and 25 < results.count(4) < 75
    assert T.RandomApply([t1], p=1.0)(1) == 2 and T.RandomApply([t1], p=0.0)(1) == 1
    choice = T.RandomChoice([t1, t2], p=[0.0, 1.0])
    assert all(choice(3) == 6 for _ in range(20))
    outs = {T.RandomChoice([t1, t2])(3) for _ in range(50)}
    assert outs == {4, 6}
    orders = {T.RandomOrder([t1, t2])(1) for _ in range(50)}
    assert orders == {3, 4}  # (1+1)*2 or 1*2+1
    ember.manual_seed(9)
    seq1 = [T.RandomOrder([t1, t2])(1) for _ in range(20)]
    ember.manual_seed(9)
    assert seq1 == [T.RandomOrder([t1, t2])(1) for _ in range(20)]
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        T.RandomOrder(t1)
    assert repr(T.RandomApply([T.ToTensor()], p=0.3)) == \
        "RandomApply(\n    p=0.3\n    ToTensor()\n)"
    assert repr(T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=[0.5], std=[0.5])\n)")


# -- affine family -------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("center", [None, [3, 4]])
def test_inverse_affine_matrix_is_documented_composition(center):
    args = (33.0, [2.0, -1.0], 1.3, [10.0, -7.0])
    c = center if center is not None else [11.5, 8.5]
    got = F._get_inverse_affine_matrix(c, *args)
    np.testing.assert_allclose(got, ref.inverse_affine(c, *args), atol=1e-10)


def test_affine_pil_uses_inverse_matrix():
    a = rgb(20, 24)
    out = F.affine(pil(a), angle=25.0, translate=[3, -2], scale=0.9, shear=[5.0, 2.0],
                   interpolation=IM.BILINEAR, fill=[7, 8, 9])
    m = F._get_inverse_affine_matrix([12.0, 10.0], 25.0, [3, -2], 0.9, [5.0, 2.0])
    expected = pil(a).transform((24, 20), Image.AFFINE, m, Image.BILINEAR, fillcolor=(7, 8, 9))
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    # 90 degree rotation about the center of an even-sized image is an exact permutation.
    sq = rgb(8, 8)
    np.testing.assert_array_equal(np.asarray(F.affine(pil(sq), 90.0, [0, 0], 1.0, 0.0)),
                                  np.rot90(sq, k=-1))


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("fill", [None, [0.0, 0.0, 0.0], [10.0, 20.0, 30.0]])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_affine_tensor_against_grid_sample(mode, fill, dtype):
    a = (RNG.random((3, 17, 23)) * 255).astype(dtype)
    args = dict(angle=-33.0, translate=[2, -1], scale=1.2, shear=[10.0, 5.0])
    out = F.affine(ember.from_numpy(a), **args, interpolation=IM(mode), fill=fill,
                   center=[5, 9])
    # Tensor grids put the origin at the image center.
    m = F._get_inverse_affine_matrix([5 - 23 * 0.5, 9 - 17 * 0.5], args["angle"],
                                     args["translate"], args["scale"], args["shear"])
    grid = ref.affine_grid(m, 23, 17, 23, 17, torch.float32)
    expected = ref.sample(torch.from_numpy(a), grid, mode, fill)
    np.testing.assert_allclose(out.numpy().astype(float), expected.numpy().astype(float),
                               atol=1e-3 if dtype == np.float32 else 0)


@needs_torch
@pytest.mark.parametrize("expand", [False, True])
def test_rotate_tensor(expand):
    a = (RNG.random((2, 3, 10, 14))).astype(np.float32)
    out = F.rotate(ember.from_numpy(a), 30.0, IM.BILINEAR, expand=expand, fill=[1.0, 2.0, 3.0])
    m = F._get_inverse_affine_matrix([0.0, 0.0], -30.0, [0.0, 0.0], 1.0, [0.0, 0.0])
    if expand:
        # The output holds the rotated corners: Pillow's expand size.
        assert out.shape[-2:] == F.rotate(pil(rgb(10, 14)), 30.0, expand=True).size[::-1]
    oh, ow = out.shape[-2:]
    grid = ref.affine_grid(m, 14, 10, ow, oh, torch.float32)
    expected = ref.sample(torch.from_numpy(a), grid, "bilinear", [1.0, 2.0, 3.0])
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)
    sq = rgb(8, 8)
    np.testing.assert_array_equal(hwc(F.rotate(chw(sq), 90.0)), np.rot90(sq))
    np.testing.assert_array_equal(np.asarray(F.rotate(pil(sq), 90.0)), np.rot90(sq))


def test_random_rotation_and_affine_params():
    ember.manual_seed(0)
    angles = [T.RandomRotation.get_params([-10.0, 30.0]) for _ in range(100)]
    assert -10 <= min(angles) and max(angles) <= 30 and max(angles) - min(angles) > 20
    for _ in range(50):
        angle, (tx, ty), scale, (shx, shy) = T.RandomAffine.get_params(
            [-5.0, 5.0], (0.1, 0.2), (0.8, 1.2), [-3.0, 3.0, -4.0, 4.0], [50, 40])
        assert -5 <= angle <= 5 and abs(tx) <= 5 and abs(ty) <= 8
        assert 0.8 <= scale <= 1.2 and abs(shx) <= 3 and abs(shy) <= 4
    assert T.RandomAffine.get_params([0.0, 0.0], None, None, None, [5, 5]) == \
        (0.0, (0, 0), 1.0, (0.0, 0.0))
    out = T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5)(pil(rgb()))
    assert out.size == (23, 17)
    tout = T.RandomAffine(10, fill=3)(chw(rgb()))
    assert tout.shape == (3, 17, 23) and tout.dtype == ember.uint8
    assert repr(T.RandomAffine(10, shear=5)) == ("RandomAffine(degrees=[-10.0, 10.0], "
                                                 "shear=[-5.0, 5.0])")
    assert repr(T.RandomRotation(10)) == ("RandomRotation(degrees=[-10.0, 10.0], "
                                          "interpolation=nearest, expand=False, fill=0)")
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        T.RandomRotation(-1)
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.1, 2))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4."):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number."):
        T.RandomRotation(3, fill=object())
    with pytest.raises(ValueError, match="Argument scale should be positive"):
        F.affine(pil(rgb()), 0, [0, 0], 0.0, 0)
    with pytest.raises(TypeError, match="Argument angle should be int or float"):
        F.rotate(pil(rgb()), "30")


def test_perspective_coeffs_map_endpoints_to_startpoints():
    start = [[0, 0], [22, 0], [22, 16], [0, 16]]
    end = [[2, 1], [20, 3], [21, 15], [1, 14]]
    a, b, c, d, e, f, g, h = F._get_perspective_coeffs(start, end)
    for (x, y), (sx, sy) in zip(end, start):
        den = g * x + h * y + 1
        assert abs((a * x + b * y + c) / den - sx) < 1e-3
        assert abs((d * x + e * y + f) / den - sy) < 1e-3
    with pytest.raises(ValueError, match="Please provide exactly four corners, got 3 "
                                         "startpoints and 4 endpoints."):
        F._get_perspective_coeffs(start[:3], end)


@needs_torch
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_perspective_tensor_and_pil(mode):
    a = rgb(17, 23)
    start = [[0, 0], [22, 0], [22, 16], [0, 16]]
    end = [[2, 1], [20, 3], [21, 15], [1, 14]]
    out = F.perspective(chw(a), start, end, IM(mode), fill=[0.0, 0.0, 0.0])
    coeffs = F._get_perspective_coeffs(start, end)
    grid = ref.perspective_grid(coeffs, 23, 17, torch.float32)
    expected = ref.sample(torch.from_numpy(a.transpose(2, 0, 1).copy()), grid, mode,
                          [0.0, 0.0, 0.0])
    diff = np.abs(out.numpy().astype(int) - expected.numpy().astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    p = F.perspective(pil(a), start, end, IM(mode))
    exp_p = pil(a).transform((23, 17), Image.PERSPECTIVE, coeffs,
                             Image.NEAREST if mode == "nearest" else Image.BILINEAR)
    np.testing.assert_array_equal(np.asarray(p), np.asarray(exp_p))


def test_random_perspective_params():
    ember.manual_seed(1)
    for _ in range(30):
        start, end = T.RandomPerspective.get_params(40, 30, 0.5)
        assert start == [[0, 0], [39, 0], [39, 29], [0, 29]]
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = end
        assert 0 <= x0 <= 10 and 0 <= y0 <= 7 and 29 <= x1 <= 39 and 0 <= y1 <= 7
        assert 29 <= x2 <= 39 and 22 <= y2 <= 29 and 0 <= x3 <= 10 and 22 <= y3 <= 29
    assert T.RandomPerspective(p=1.0)(pil(rgb())).size == (23, 17)
    assert T.RandomPerspective(p=1.0)(chw(rgb())).shape == (3, 17, 23)


@needs_torch
def test_elastic_transform():
    a = RNG.random((3, 12, 10)).astype(np.float32)
    zero = ember.zeros(1, 12, 10, 2)
    np.testing.assert_allclose(F.elastic_transform(ember.from_numpy(a), zero).numpy(), a,
                               atol=1e-6)
    disp = (ember.rand(1, 12, 10, 2) - 0.5) * 0.3
    out = F.elastic_transform(ember.from_numpy(a), disp, IM.BILINEAR)
    h, w = 12, 10
    ys = torch.linspace((-h + 1) / h, (h - 1) / h, h)
    xs = torch.linspace((-w + 1) / w, (w - 1) / w, w)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack([gx, gy], -1)[None] + torch.from_numpy(disp.numpy())
    expected = ref.sample(torch.from_numpy(a), grid, "bilinear", None)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)
    pil_out = T.ElasticTransform(alpha=20.0, sigma=3.0)(pil(rgb()))
    assert pil_out.size == (23, 17) and pil_out.mode == "RGB"
    with pytest.raises(ValueError, match=r"Argument displacement shape should be \(1, 12, 10, "
                                         r"2\)"):
        F.elastic_transform(ember.from_numpy(a), ember.zeros(1, 3, 3, 2))


# -- colour --------------------------------------------------------------------------------
def test_grayscale():
    a = rgb()
    t = F.rgb_to_grayscale(chw(a))
    expected = (0.2989 * a[..., 0].astype(np.float32) + 0.587 * a[..., 1] +
                0.114 * a[..., 2]).astype(np.uint8)
    assert np.abs(t.numpy()[0].astype(int) - expected.astype(int)).max() <= 1
    g3 = T.Grayscale(3)(chw(a))
    assert g3.shape == (3, 17, 23) and np.array_equal(g3.numpy()[0], g3.numpy()[2])
    p = T.Grayscale()(pil(a))
    assert p.mode == "L" and np.array_equal(np.asarray(p), np.asarray(pil(a).convert("L")))
    assert T.Grayscale(3)(pil(a)).mode == "RGB"
    assert T.RandomGrayscale(1.0)(pil(a)).mode == "RGB"  # keeps the number of channels
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.rgb_to_grayscale(chw(a), 2)
    with pytest.raises(TypeError, match=r"Input image tensor permitted channel values are "
                                        r"\[1, 3\], but found 4"):
        F.rgb_to_grayscale(ember.zeros(4, 3, 3))


@pytest.mark.parametrize("fn,factor", [(F.adjust_brightness, 1.4), (F.adjust_contrast, 0.6),
                                       (F.adjust_saturation, 1.7), (F.adjust_sharpness, 2.0)])
def test_color_adjustments_tensor_vs_pil(fn, factor):
    a = rgb(20, 20)
    t = hwc(fn(chw(a), factor)).astype(int)
    p = np.asarray(fn(pil(a), factor)).astype(int)
    # torchvision's tensor ops reimplement Pillow's enhancers (blend with a degenerate image);
    # they differ only in rounding.
    tol = 1 if fn is not F.adjust_contrast else 2
    assert np.abs(t - p).max() <= tol
    assert np.array_equal(np.asarray(fn(pil(a), factor)),
                          np.asarray(getattr(ImageEnhance, {
                              F.adjust_brightness: "Brightness", F.adjust_contrast: "Contrast",
                              F.adjust_saturation: "Color", F.adjust_sharpness: "Sharpness",
                          }[fn])(pil(a)).enhance(factor)))


def test_adjust_brightness_float_formula():
    x = ember.rand(3, 4, 5)
    np.testing.assert_allclose(F.adjust_brightness(x, 1.5).numpy(),
                               np.clip(1.5 * x.numpy(), 0, 1), rtol=1e-6)
    with pytest.raises(ValueError, match=r"brightness_factor \(-1\) is not non-negative."):
        F.adjust_brightness(x, -1)


@pytest.mark.parametrize("hue", [0.2, -0.35, 0.5])
def test_adjust_hue_against_colorsys(hue):
    a = RNG.random((3, 6, 5)).astype(np.float32)
    out = F.adjust_hue(ember.from_numpy(a), hue).numpy()
    for y in range(6):
        for x in range(5):
            h, s, v = colorsys.rgb_to_hsv(*a[:, y, x])
            expected = colorsys.hsv_to_rgb((h + hue) % 1.0, s, v)
            np.testing.assert_allclose(out[:, y, x], expected, atol=1e-5)
    u8 = rgb(9, 9)
    t = hwc(F.adjust_hue(chw(u8), hue)).astype(int)
    p = np.asarray(F.adjust_hue(pil(u8), hue)).astype(int)
    assert np.abs(t - p).max() <= 16  # Pillow's hue is 8-bit: 1/256 of a turn per step
    assert F.adjust_hue(pil(u8).convert("L"), hue).mode == "L"
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(pil(u8), 0.7)


def test_adjust_gamma():
    a = rgb()
    t = F.adjust_gamma(chw(a), 0.5, gain=1.1)
    expected = np.clip(1.1 * (a.astype(np.float32) / 255) ** 0.5, 0, 1)
    expected = (expected * (255 + 1 - 1e-3)).astype(np.uint8)
    assert np.abs(hwc(t).astype(int) - expected.astype(int)).max() <= 1
    p = np.asarray(F.adjust_gamma(pil(a), 0.5, 1.1))
    assert np.abs(p.astype(int) - expected.astype(int)).max() <= 1
    with pytest.raises(ValueError, match="Gamma should be a non-negative real number"):
        F.adjust_gamma(chw(a), -1)


def test_color_jitter():
    cj = T.ColorJitter(brightness=0.5, contrast=(0.2, 0.3), saturation=0, hue=0.1)
    assert cj.brightness == (0.5, 1.5) and cj.contrast == (0.2, 0.3)
    assert cj.saturation is None and cj.hue == (-0.1, 0.1)
    ember.manual_seed(2)
    for _ in range(20):
        order, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, None, cj.hue)
        assert sorted(order.tolist()) == [0, 1, 2, 3]
        assert 0.5 <= b <= 1.5 and 0.2 <= c <= 0.3 and s is None and -0.1 <= h <= 0.1
    assert cj(pil(rgb())).size == (23, 17)
    assert cj(chw(rgb())).dtype == ember.uint8
    assert repr(T.ColorJitter(0.1)) == ("ColorJitter(brightness=(0.9, 1.1), contrast=None, "
                                        "saturation=None, hue=None)")
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got "
                                         r"\[-0.7, 0.7\]."):
        T.ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non "
                                         "negative."):
        T.ColorJitter(brightness=-1)
    with pytest.raises(TypeError, match="contrast should be a single number or a list/tuple "
                                        "with length 2."):
        T.ColorJitter(contrast=(1, 2, 3))


@pytest.mark.parametrize("name", ["invert", "solarize", "posterize", "autocontrast",
                                  "equalize"])
def test_pil_ops_tensor_vs_pil(name):
    a = rgb(16, 16)
    a[:, :, 2] = np.clip(a[:, :, 2], 40, 200)  # a channel without full range
    args = {"solarize": (128,), "posterize": (3,)}.get(name, ())
    t = hwc(getattr(F, name)(chw(a), *args))
    p = np.asarray(getattr(F, name)(pil(a), *args))
    np.testing.assert_array_equal(p, np.asarray(getattr(ImageOps, name)(pil(a), *args)))
    np.testing.assert_array_equal(t, p)
    batch = getattr(F, name)(ember.stack([chw(a), chw(a[::-1].copy())]), *args)
    np.testing.assert_array_equal(hwc(batch[0]), p)


def test_random_pil_ops_and_errors():
    a = chw(rgb())
    assert T.RandomInvert(1.0)(a).equal(255 - a)
    assert T.RandomPosterize(2, p=0.0)(a) is a
    assert repr(T.RandomPosterize(2)) == "RandomPosterize(bits=2,p=0.5)"
    with pytest.raises(ValueError, match="The number if bits should be between 0 and 8. Got 9"):
        F.posterize(a, 9)
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported, but "
                                        "found torch.float32"):
        F.equalize(ember.rand(3, 4, 4))
    with pytest.raises(TypeError, match="Threshold should be less than bound of img."):
        F.solarize(ember.rand(3, 4, 4), 2.0)


@needs_torch
@pytest.mark.parametrize("ksize,sigma", [((3, 3), (1.0, 1.0)), ((5, 3), (1.5, 0.7)),
                                         ((7, 7), None)])
def test_gaussian_blur(ksize, sigma):
    a = RNG.random((3, 12, 14)).astype(np.float32)
    out = F.gaussian_blur(ember.from_numpy(a), list(ksize), sigma)
    s = sigma if sigma is not None else [0.3 * ((k - 1) * 0.5 - 1) + 0.8 for k in ksize]
    expected = ref.gaussian_blur(torch.from_numpy(a), ksize, s)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-6)
    u = rgb(12, 14)
    tu = F.gaussian_blur(chw(u), list(ksize), sigma)
    exp_u = ref.gaussian_blur(torch.from_numpy(u.transpose(2, 0, 1).copy()), ksize, s)
    assert np.abs(tu.numpy().astype(int) - exp_u.numpy().astype(int)).max() <= 1
    # PIL images go through the same path.
    np.testing.assert_array_equal(np.asarray(F.gaussian_blur(pil(u), list(ksize), sigma)),
                                  hwc(tu))


def test_gaussian_blur_transform_and_errors():
    ember.manual_seed(0)
    gb = T.GaussianBlur(5, sigma=(0.5, 1.5))
    assert all(0.5 <= T.GaussianBlur.get_params(0.5, 1.5) <= 1.5 for _ in range(20))
    assert gb(pil(rgb())).size == (23, 17)
    assert repr(gb) == "GaussianBlur(kernel_size=(5, 5), sigma=(0.5, 1.5))"
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive "
                                         "number."):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive integers. "
                                         r"Got \[2, 2\]"):
        F.gaussian_blur(chw(rgb()), 2)
    with pytest.raises(ValueError, match="sigma should have positive values"):
        F.gaussian_blur(chw(rgb()), 3, -1.0)
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor. Got <class 'list'>"):
        F.gaussian_blur([1], 3)


# -- erasing, linear transformation ----------------------------------------------------------
def test_random_erasing():
    x = ember.rand(3, 20, 30)
    ember.manual_seed(4)
    i, j, h, w, v = T.RandomErasing.get_params(x, (0.02, 0.33), (0.3, 3.3), value=[0.5])
    assert 0.02 * 600 * 0.6 <= h * w <= 0.33 * 600 * 1.4 and i + h <= 20 and j + w <= 30
    out = F.erase(x, i, j, h, w, v)
    expected = x.numpy().copy()
    expected[:, i:i + h, j:j + w] = 0.5
    np.testing.assert_array_equal(out.numpy(), expected)
    assert not np.array_equal(x.numpy(), expected)  # not in place by default
    ember.manual_seed(4)
    er = T.RandomErasing(p=1.0, value=(1.0, 2.0, 3.0), inplace=True)
    y = x.clone()
    assert er(y) is y and set(np.unique(y.numpy()[0])) >= {1.0}
    rnd = T.RandomErasing(p=1.0, value="random")(ember.zeros(3, 20, 30))
    assert float(rnd.abs().sum()) > 0
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.5, 2))
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=2)
    with pytest.raises(ValueError, match=r"If value is a sequence, it should have either a "
                                         r"single value or 3 \(number of input channels\)"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)


def test_linear_transformation():
    d = 2 * 2 * 3
    m = ember.eye(d) * 2
    mean = ember.ones(d)
    x = ember.rand(3, 2, 2)
    out = T.LinearTransformation(m, mean)(x)
    np.testing.assert_allclose(out.numpy(), (x.numpy() - 1) * 2, rtol=1e-6)
    with pytest.raises(ValueError, match=r"transformation_matrix should be square. Got \(3, 4\) "
                                         r"rectangular matrix."):
        T.LinearTransformation(ember.zeros(3, 4), ember.zeros(3))
    with pytest.raises(ValueError, match="Input tensor and transformation matrix have "
                                         "incompatible shape"):
        T.LinearTransformation(m, mean)(ember.rand(3, 3, 3))


# -- policies ------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: T.AutoAugment(T.AutoAugmentPolicy.IMAGENET),
                                  lambda: T.AutoAugment(T.AutoAugmentPolicy.CIFAR10),
                                  lambda: T.AutoAugment(T.AutoAugmentPolicy.SVHN),
                                  lambda: T.RandAugment(), lambda: T.TrivialAugmentWide()])
def test_augment_policies(make):
    aug = make()
    img = pil(rgb(32, 32))
    t = chw(rgb(32, 32))
    ember.manual_seed(0)
    outs = [aug(img) for _ in range(10)]
    assert all(o.size == (32, 32) and o.mode == "RGB" for o in outs)
    ember.manual_seed(0)
    again = [aug(img) for _ in range(10)]
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(outs, again))
    assert len({np.asarray(o).tobytes() for o in outs}) > 1
    for _ in range(10):
        o = aug(t)
        assert o.shape == (3, 32, 32) and o.dtype == ember.uint8
    assert aug(pil(rgb(32, 32)[:, :, 0])).mode == "L"


def test_augment_ops_match_functional():
    from ember.vision.transforms.autoaugment import _apply_op

    img = pil(rgb(20, 20))
    np.testing.assert_array_equal(np.asarray(_apply_op(img, "Posterize", 4.0, IM.NEAREST, None)),
                                  np.asarray(ImageOps.posterize(img, 4)))
    sheared = _apply_op(img, "ShearX", 0.3, IM.NEAREST, None)
    expected = img.transform((20, 20), Image.AFFINE,
                             F._get_inverse_affine_matrix([0, 0], 0.0, [0, 0], 1.0,
                                                          [math.degrees(math.atan(0.3)), 0.0]),
                             Image.NEAREST)
    np.testing.assert_array_equal(np.asarray(sheared), np.asarray(expected))
    with pytest.raises(ValueError, match="The provided operator Blur is not recognized."):
        _apply_op(img, "Blur", 0.0, IM.NEAREST, None)
    assert repr(T.AutoAugment()) == "AutoAugment(policy=AutoAugmentPolicy.IMAGENET, fill=None)"


def test_transforms_are_modules_like_torchvision():
    assert isinstance(T.Normalize([0], [1]), ember.nn.Module)
    assert isinstance(T.RandomCrop(3), ember.nn.Module)
    assert not isinstance(T.ToTensor(), ember.nn.Module)
    seq = ember.nn.Sequential(T.CenterCrop(5), T.RandomHorizontalFlip(1.0))
    a = rgb(9, 9)
    np.testing.assert_array_equal(hwc(seq(chw(a))), a[2:7, 2:7][:, ::-1])
