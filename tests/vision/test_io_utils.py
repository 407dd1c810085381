"""ember.vision.io (read/decode/encode/write on Pillow) and ember.vision.utils (make_grid,
save_image, draw_bounding_boxes) against torchvision's documented behaviour."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest

import ember
from ember.vision import io as vio
from ember.vision import utils as vutils
from ember.vision.io import ImageReadMode

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

RNG = np.random.default_rng(0)


def img_u8(c, h=9, w=11):
    return ember.from_numpy(RNG.integers(0, 256, (c, h, w), dtype=np.uint8))


# -- io --------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", [1, 2, 3, 4])
def test_png_round_trip(tmp_path, c):
    x = img_u8(c)
    path = tmp_path / "a.png"
    vio.write_png(x, str(path), compression_level=9)
    back = vio.read_image(str(path))
    assert back.dtype == ember.uint8 and back.shape == x.shape
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temporary file left
    data = vio.read_file(str(path))
    assert data.dtype == ember.uint8 and data.ndim == 1 and bytes(data.numpy()[:4]) == b"\x89PNG"
    np.testing.assert_array_equal(vio.decode_image(data).numpy(), x.numpy())
    np.testing.assert_array_equal(vio.decode_png(data).numpy(), x.numpy())
    np.testing.assert_array_equal(vio.decode_png(vio.encode_png(x)).numpy(), x.numpy())


def test_read_modes(tmp_path):
    x = img_u8(3)
    path = tmp_path / "rgb.png"
    vio.write_png(x, path)
    pil = Image.fromarray(x.numpy().transpose(1, 2, 0))
    gray = vio.read_image(path, ImageReadMode.GRAY)
    assert gray.shape == (1, 9, 11)
    np.testing.assert_array_equal(gray.numpy()[0], np.asarray(pil.convert("L")))
    rgba = vio.read_image(path, ImageReadMode.RGB_ALPHA)
    assert rgba.shape == (4, 9, 11) and (rgba.numpy()[3] == 255).all()
    assert vio.read_image(path, "GRAY_ALPHA").shape == (2, 9, 11)
    assert ImageReadMode.RGBA is ImageReadMode.RGB_ALPHA and ImageReadMode.RGB.value == 3
    g = tmp_path / "g.png"
    vio.write_png(img_u8(1), g)
    rgb = vio.read_image(g, ImageReadMode.RGB)
    assert rgb.shape == (3, 9, 11) and np.array_equal(rgb.numpy()[0], rgb.numpy()[2])
    # A palette image with transparency decodes to RGBA; 16-bit PNGs keep their values.
    pal = Image.new("P", (4, 3))
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    pal.info["transparency"] = 0
    pal.save(tmp_path / "p.png", transparency=0)
    assert vio.read_image(tmp_path / "p.png").shape == (4, 3, 4)
    sixteen = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    Image.fromarray(sixteen).save(tmp_path / "16.png")
    t16 = vio.read_image(tmp_path / "16.png")
    assert t16.dtype == ember.int32 and t16.numpy()[0].tolist() == sixteen.tolist()
    with pytest.raises(ValueError, match="Invalid mode 'CMYK'"):
        vio.read_image(path, "CMYK")


def test_jpeg(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 16, dtype=np.uint8), (3, 12, 1))
    x = ember.from_numpy(smooth)
    vio.write_jpeg(x, tmp_path / "a.jpg", quality=95)
    back = vio.read_image(tmp_path / "a.jpg")
    assert back.shape == (3, 12, 16)
    assert np.abs(back.numpy().astype(int) - smooth.astype(int)).mean() < 3
    small = vio.encode_jpeg(x, quality=5)
    big = vio.encode_jpeg(x, quality=100)
    assert small.numel() < big.numel()
    assert vio.decode_jpeg(big).shape == (3, 12, 16)
    with pytest.raises(RuntimeError, match="not a JPEG image"):
        vio.decode_jpeg(vio.encode_png(x))
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1 "
                                         "and 100"):
        vio.encode_jpeg(x, quality=0)
    with pytest.raises(RuntimeError, match="The number of channels should be 1 or 3 to encode a "
                                           "JPEG, got 4"):
        vio.encode_jpeg(img_u8(4))


def test_exif_orientation(tmp_path):
    a = RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    im.save(tmp_path / "o.jpg", exif=exif, quality=100)
    assert vio.read_image(tmp_path / "o.jpg").shape == (3, 4, 6)
    assert vio.read_image(tmp_path / "o.jpg", apply_exif_orientation=True).shape == (3, 6, 4)


def test_io_errors(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(RuntimeError, match="broken.png"):
        vio.read_image(bad)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello")
    with pytest.raises(RuntimeError, match="junk.bin"):
        vio.read_image(str(junk))
    with pytest.raises(FileNotFoundError):
        vio.read_image(tmp_path / "missing.png")
    with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8, got torch.float32"):
        vio.encode_png(ember.rand(3, 4, 4))
    with pytest.raises(RuntimeError, match="3-dimensional"):
        vio.write_png(ember.zeros(4, 4, dtype=ember.uint8), tmp_path / "x.png")
    with pytest.raises(RuntimeError, match="1-dimensional uint8 tensor"):
        vio.decode_image(ember.zeros(2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="Compression level should be between 0 and 9"):
        vio.encode_png(img_u8(3), compression_level=10)
    assert not any(p.name.startswith(".tmp") for p in tmp_path.iterdir())


# -- make_grid / save_image ------------------------------------------------------------------
def reference_grid(batch: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """torchvision's documented layout, one image at a time: cell (y, x) holds image
    k = y * xmaps + x at rows y*(H+p)+p .. and columns x*(W+p)+p .."""
    n, c, h, w = batch.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    hh, ww = h + padding, w + padding
    grid = np.full((c, hh * ymaps + padding, ww * xmaps + padding), pad_value, batch.dtype)
    for k in range(n):
        y, x = divmod(k, xmaps)
        grid[:, y * hh + padding:y * hh + padding + h, x * ww + padding:x * ww + padding + w] = \
            batch[k]
    return grid


@pytest.mark.parametrize("n,nrow,padding,pad_value", [(5, 2, 1, 0.5), (8, 8, 2, 0.0),
                                                      (3, 8, 0, 1.0), (7, 3, 4, 0.25)])
def test_make_grid_layout(n, nrow, padding, pad_value):
    x = RNG.random((n, 3, 5, 6)).astype(np.float32)
    g = vutils.make_grid(ember.from_numpy(x), nrow=nrow, padding=padding, pad_value=pad_value)
    np.testing.assert_array_equal(g.numpy(), reference_grid(x, nrow, padding, pad_value))
    # A list of images is stacked first.
    g2 = vutils.make_grid([ember.from_numpy(a) for a in x], nrow=nrow, padding=padding,
                          pad_value=pad_value)
    np.testing.assert_array_equal(g2.numpy(), g.numpy())


def test_make_grid_channels_and_single_image():
    x = RNG.random((4, 1, 5, 5)).astype(np.float32)
    g = vutils.make_grid(ember.from_numpy(x), nrow=2)
    assert g.shape == (3, 16, 16)  # one channel repeated to three
    np.testing.assert_array_equal(g.numpy()[0], g.numpy()[2])
    one = vutils.make_grid(ember.from_numpy(x[0]))
    assert one.shape == (3, 5, 5)  # a single image is returned without padding
    two_d = vutils.make_grid(ember.from_numpy(x[0, 0]))
    assert two_d.shape == (3, 5, 5)
    rgba = vutils.make_grid(ember.rand(3, 4, 5, 5))
    assert rgba.shape[0] == 4


def test_make_grid_normalize():
    x = (RNG.random((3, 3, 4, 4)) * 10 - 5).astype(np.float32)
    g = vutils.make_grid(ember.from_numpy(x), normalize=True, padding=0)
    flat = (x - x.min()) / (x.max() - x.min())
    np.testing.assert_allclose(g.numpy(), reference_grid(flat, 8, 0, 0.0), rtol=1e-6, atol=1e-6)
    each = vutils.make_grid(ember.from_numpy(x), normalize=True, scale_each=True, padding=0)
    per = np.stack([(a - a.min()) / (a.max() - a.min()) for a in x])
    np.testing.assert_allclose(each.numpy(), reference_grid(per, 8, 0, 0.0), atol=1e-6)
    ranged = vutils.make_grid(ember.from_numpy(x), normalize=True, value_range=(-2, 2),
                              padding=0)
    np.testing.assert_allclose(ranged.numpy(),
                               reference_grid((np.clip(x, -2, 2) + 2) / 4, 8, 0, 0.0), atol=1e-6)
    # The input is left alone.
    t = ember.from_numpy(x.copy())
    vutils.make_grid(t, normalize=True)
    np.testing.assert_array_equal(t.numpy(), x)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        vutils.make_grid(t, normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'str'>"):
        vutils.make_grid("x")
    with pytest.raises(TypeError, match="got a list containing <class 'int'>"):
        vutils.make_grid([ember.rand(3, 2, 2), 3])


def test_save_image(tmp_path):
    x = RNG.random((5, 3, 6, 7)).astype(np.float32)
    path = tmp_path / "grid.png"
    vutils.save_image(ember.from_numpy(x), str(path), nrow=3, padding=1)
    saved = np.asarray(Image.open(path))
    grid = reference_grid(x, 3, 1, 0.0)
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(saved, expected)
    buf = io.BytesIO()
    vutils.save_image(ember.from_numpy(x[0]), buf, format="PNG")
    assert np.asarray(Image.open(io.BytesIO(buf.getvalue()))).shape == (6, 7, 3)
    vutils.save_image(ember.from_numpy(x), tmp_path / "grid.jpg")
    assert Image.open(tmp_path / "grid.jpg").format == "JPEG"
    with pytest.raises(ValueError, match="unknown file extension"):
        vutils.save_image(ember.from_numpy(x), tmp_path / "grid.nope")
    assert sorted(os.listdir(tmp_path)) == ["grid.jpg", "grid.png"]


# -- draw_bounding_boxes ---------------------------------------------------------------------
def test_draw_bounding_boxes():
    img = ember.zeros(3, 20, 30, dtype=ember.uint8)
    boxes = ember.tensor([[2, 3, 10, 12], [15, 5, 28, 18]], dtype=ember.float32)
    out = vutils.draw_bounding_boxes(img, boxes, colors=["red", (0, 255, 0)], width=1)
    a = out.numpy()
    assert out.dtype == ember.uint8 and out.shape == (3, 20, 30)
    assert a[:, 3, 5].tolist() == [255, 0, 0] and a[:, 12, 2].tolist() == [255, 0, 0]
    assert a[:, 7, 6].tolist() == [0, 0, 0]  # inside, not filled
    assert a[:, 5, 20].tolist() == [0, 255, 0]
    assert float(img.sum()) == 0  # a new image
    filled = vutils.draw_bounding_boxes(img, boxes[:1], fill=True, colors="blue")
    assert filled.numpy()[:, 7, 6].tolist()[2] > 0
    labelled = vutils.draw_bounding_boxes(img, boxes, labels=["a", "b"])
    assert labelled.shape == (3, 20, 30)
    gray = vutils.draw_bounding_boxes(ember.zeros(1, 20, 30, dtype=ember.uint8), boxes)
    assert gray.shape == (3, 20, 30)
    f = vutils.draw_bounding_boxes(ember.zeros(3, 20, 30), boxes, colors="white")
    assert f.dtype == ember.float32 and float(f.max()) == 1.0
    with pytest.warns(UserWarning, match="boxes doesn't contain any box. No box was drawn"):
        vutils.draw_bounding_boxes(img, ember.zeros(0, 4))
    with pytest.raises(ValueError, match=r"Number of boxes \(2\) and labels \(1\) mismatch"):
        vutils.draw_bounding_boxes(img, boxes, labels=["a"])
    with pytest.raises(ValueError, match=r"Boxes need to be in \(xmin, ymin, xmax, ymax\) "
                                         "format"):
        vutils.draw_bounding_boxes(img, ember.tensor([[5.0, 5, 2, 8]]))
    with pytest.raises(ValueError, match="Pass individual images, not batches"):
        vutils.draw_bounding_boxes(ember.zeros(1, 3, 4, 4, dtype=ember.uint8), boxes)
    with pytest.raises(ValueError, match="Only grayscale and RGB images are supported"):
        vutils.draw_bounding_boxes(ember.zeros(4, 4, 4, dtype=ember.uint8), boxes)
    with pytest.raises(ValueError, match="The image dtype must be uint8 or float, got "
                                         "torch.int32"):
        vutils.draw_bounding_boxes(ember.zeros(3, 4, 4, dtype=ember.int32), boxes)
    with pytest.raises(ValueError, match=r"Number of colors must be equal or larger than the "
                                         r"number of objects, but got 1 < 2."):
        vutils.draw_bounding_boxes(img, boxes, colors=["red"])
    with pytest.raises(TypeError, match="Tensor expected, got <class 'numpy.ndarray'>"):
        vutils.draw_bounding_boxes(np.zeros((3, 4, 4)), boxes)
