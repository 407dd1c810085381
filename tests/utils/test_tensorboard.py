"""ember.utils.tensorboard against torch.utils.tensorboard: the same calls are written by both
SummaryWriters and read back with TensorBoard's own EventAccumulator and event-file loader."""

from __future__ import annotations

import glob
import io
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

import ember
from tests.oracle import DEVICE

pytest.importorskip("tensorboard", reason="tensorboard is not installed")
torch = pytest.importorskip("torch")

from tensorboard.backend.event_processing import event_accumulator as ea_mod  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    EventFileLoader,
)
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

from ember.utils.tensorboard import SummaryWriter  # noqa: E402

RNG = np.random.default_rng(0)


def _lib_tensor(lib, arr, **kw):
    if lib is ember:
        return ember.tensor(arr, device=DEVICE, **kw)
    return torch.tensor(arr, **kw)


def write_both(tmp_path, fn, **writer_kw):
    """Run ``fn(writer, lib)`` with ember's writer and ember, then torch's writer and torch;
    return the two log directories."""
    dirs = []
    for name, Writer, lib in (("ember", SummaryWriter, ember), ("torch", TorchWriter, torch)):
        d = str(tmp_path / name)
        w = Writer(d, **writer_kw)
        fn(w, lib)
        w.close()
        dirs.append(d)
    return dirs


def accumulate(path):
    acc = ea_mod.EventAccumulator(path, size_guidance={k: 0 for k in
                                                       ea_mod.DEFAULT_SIZE_GUIDANCE})
    acc.Reload()
    return acc


def raw_events(path):
    """Every event of every event file directly in ``path``, wall times cleared."""
    events = []
    for f in sorted(glob.glob(os.path.join(path, "events.out.tfevents.*"))):
        for e in EventFileLoader(f).Load():
            e.wall_time = 0
            events.append(e)
    return events


def assert_same_events(e_dir, t_dir):
    e, t = raw_events(e_dir), raw_events(t_dir)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        assert a == b, f"{a}\n!=\n{b}"


def assert_same_histogram(a, b):
    """Equal histograms; the sum of squares may differ in its last bits (ember sums pairwise,
    PyTorch with a BLAS dot)."""
    assert (a.min, a.max, a.num, a.sum, list(a.bucket_limit), list(a.bucket)) == \
        (b.min, b.max, b.num, b.sum, list(b.bucket_limit), list(b.bucket))
    assert a.sum_squares == pytest.approx(b.sum_squares, rel=1e-12)


def decode(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)))


@pytest.fixture
def writers(tmp_path):
    """An ember and a torch SummaryWriter, for errors_alike."""
    pair = SummaryWriter(str(tmp_path / "e")), TorchWriter(str(tmp_path / "t"))
    yield pair
    for w in pair:
        w.close()


def errors_alike(writers, fn):
    """fn(writer, lib) raises the same exception type in both libraries, with the same text."""
    with pytest.raises(Exception) as te:
        fn(writers[1], torch)
    with pytest.raises(type(te.value)) as ee:
        fn(writers[0], ember)
    assert " ".join(str(ee.value).split()) == " ".join(str(te.value).split())


# ------------------------------------------------------------------------------ scalars
def test_scalars(tmp_path):
    def log(w, lib):
        w.add_scalar("a/python", 1.5, 0)
        w.add_scalar("a/python", 7, 1)
        w.add_scalar("a/numpy", np.float32(0.25), 2)
        w.add_scalar("a/array", np.array([3.5]), 3)
        x = _lib_tensor(lib, [2.0], requires_grad=True)
        w.add_scalar("grad", (x * 3).sum(), 4)
        w.add_scalar("grad", x, lib.tensor(5))
        w.add_scalar("int", _lib_tensor(lib, [[7]]), 6, walltime=123.5)
        w.add_scalar("new", 0.1, 7, new_style=True)
        w.add_scalar("newd", 0.1, 8, new_style=True, double_precision=True)
        w.add_scalar("half", _lib_tensor(lib, 1.5).half(), 9)
        w.add_scalar("bf16", _lib_tensor(lib, 1.5).to(lib.bfloat16), 10)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Tags()["scalars"] == t.Tags()["scalars"]
    assert set(e.Tags()["scalars"]) >= {"a/python", "grad", "int", "half", "bf16"}
    for tag in e.Tags()["scalars"]:
        assert [(s.step, s.value) for s in e.Scalars(tag)] == \
            [(s.step, s.value) for s in t.Scalars(tag)]
    assert [s.wall_time for s in e.Scalars("int")] == [123.5]
    assert e.Tags()["tensors"] == t.Tags()["tensors"] == ["new", "newd"]
    for tag in ("new", "newd"):
        assert e.Tensors(tag)[0].tensor_proto == t.Tensors(tag)[0].tensor_proto
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)
    assert e.Tensors("newd")[0].tensor_proto.double_val == [0.1]
    assert_same_events(e_dir, t_dir)


def test_scalar_bad_input(writers):
    errors_alike(writers, lambda w, lib: w.add_scalar("x", _lib_tensor(lib, [1.0, 2.0])))
    errors_alike(writers, lambda w, lib: w.add_scalar("x", np.zeros((2, 2))))
    errors_alike(writers, lambda w, lib: w.add_scalar("x", [1.0]))


def test_add_scalars_subdirectories(tmp_path):
    def log(w, lib):
        for step in range(3):
            w.add_scalars("loss/run", {"train": step * 1.0, "val": _lib_tensor(lib, step / 2)},
                          step)
        w.add_scalar("top", 1.0, 0)

    e_dir, t_dir = write_both(tmp_path, log)
    runs = sorted(s for s in os.listdir(e_dir) if os.path.isdir(os.path.join(e_dir, s)))
    assert sorted(s for s in os.listdir(t_dir) if os.path.isdir(os.path.join(t_dir, s))) == runs
    assert runs == ["loss_run_train", "loss_run_val"]
    for run in runs:
        e, t = accumulate(os.path.join(e_dir, run)), accumulate(os.path.join(t_dir, run))
        assert e.Tags()["scalars"] == t.Tags()["scalars"] == ["loss/run"]
        assert [(s.step, s.value) for s in e.Scalars("loss/run")] == \
            [(s.step, s.value) for s in t.Scalars("loss/run")]
        assert_same_events(os.path.join(e_dir, run), os.path.join(t_dir, run))
    # one walltime for all the values of one call, as PyTorch
    a = accumulate(os.path.join(e_dir, runs[0])).Scalars("loss/run")
    b = accumulate(os.path.join(e_dir, runs[1])).Scalars("loss/run")
    assert [s.wall_time for s in a] == [s.wall_time for s in b]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int8", "uint8",
                                   "int16", "int32", "int64", "bool", "complex64",
                                   "complex128"])
def test_add_tensor(tmp_path, dtype):
    data = RNG.standard_normal((2, 3)) * 5
    if dtype == "bool":
        data = data > 0
    if dtype.startswith("complex"):
        data = data + 1j * RNG.standard_normal((2, 3))

    def log(w, lib):
        x = lib.tensor(data).to(getattr(lib, dtype))
        w.add_tensor("t", x, 3)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Tensors("t")[0].tensor_proto == t.Tensors("t")[0].tensor_proto
    assert e.Tensors("t")[0].step == 3
    assert_same_events(e_dir, t_dir)


# ------------------------------------------------------------------------------ histograms
@pytest.mark.parametrize("bins,max_bins", [("tensorflow", None), ("auto", None), ("fd", None),
                                           ("doane", None), ("sturges", None), ("sqrt", None),
                                           ("rice", None), ("scott", None), ("stone", None),
                                           (30, None), (64, 10), ("tensorflow", 50),
                                           ([-1.0, 0.0, 0.5, 2.0], None)])
@pytest.mark.filterwarnings("ignore:The number of bins estimated may be suboptimal")
def test_histogram(tmp_path, bins, max_bins):
    values = RNG.standard_normal((40, 25)).astype(np.float32)

    def log(w, lib):
        w.add_histogram("h", _lib_tensor(lib, values, requires_grad=True) * 2, 1, bins=bins,
                        max_bins=max_bins)
        w.add_histogram("h", values[:3], 2, bins=bins, max_bins=max_bins)
        w.add_histogram("ints", lib.arange(100) % 7, 3, bins=bins, max_bins=max_bins)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Tags()["histograms"] == t.Tags()["histograms"]
    for tag in e.Tags()["histograms"]:
        he, ht = e.Histograms(tag), t.Histograms(tag)
        assert [h.step for h in he] == [h.step for h in ht]
        for a, b in zip(he, ht):
            assert_same_histogram(a.histogram_value, b.histogram_value)
            if not isinstance(bins, list):  # explicit edges may leave values out
                assert sum(a.histogram_value.bucket) == a.histogram_value.num


def test_histogram_raw_and_errors(tmp_path, writers):
    def log(w, lib):
        w.add_histogram_raw("raw", min=-1, max=3, num=6, sum=4.5, sum_squares=12.25,
                            bucket_limits=[0.0, 1.0, 3.0], bucket_counts=[1, 3, 2],
                            global_step=4)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Histograms("raw")[0].histogram_value == t.Histograms("raw")[0].histogram_value
    errors_alike(writers, lambda w, lib: w.add_histogram_raw("r", 0, 1, 2, 1, 1, [0.0, 1.0], [2]))
    errors_alike(writers, lambda w, lib: w.add_histogram("empty", np.zeros(0)))


# ------------------------------------------------------------------------------ images
def test_images(tmp_path):
    chw = RNG.random((3, 17, 23)).astype(np.float32)
    hwc_u8 = RNG.integers(0, 256, (9, 11, 3)).astype(np.uint8)
    hw = RNG.random((8, 5))
    rgba = RNG.random((4, 6, 4)).astype(np.float32)
    batch = RNG.random((11, 3, 6, 7)).astype(np.float32)
    grey_batch = RNG.integers(0, 256, (5, 4, 4, 1)).astype(np.uint8)

    def log(w, lib):
        w.add_image("chw", _lib_tensor(lib, chw, requires_grad=True) * 1.2, 0)
        w.add_image("hwc_u8", lib.from_numpy(hwc_u8), 1, dataformats="HWC")
        w.add_image("hw", hw, 2, dataformats="HW")
        w.add_image("grey_chw", chw[:1], 3)
        w.add_image("rgba", rgba, 4, dataformats="HWC")
        w.add_image("wch", chw.transpose(2, 0, 1), 5, dataformats="wch")
        w.add_images("nchw", _lib_tensor(lib, batch), 6)
        w.add_images("nhwc", lib.from_numpy(grey_batch), 7, dataformats="NHWC")

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Tags()["images"] == t.Tags()["images"]
    assert len(e.Tags()["images"]) == 8
    for tag in e.Tags()["images"]:
        (a,), (b,) = e.Images(tag), t.Images(tag)
        assert (a.step, a.width, a.height) == (b.step, b.width, b.height)
        pa, pb = decode(a.encoded_image_string), decode(b.encoded_image_string)
        assert pa.shape == pb.shape and pa.shape[:2] == (a.height, a.width)
        np.testing.assert_array_equal(pa, pb)
    # 11 images, 8 to a row: 2 rows of 8 cells
    (nchw,) = e.Images("nchw")
    assert (nchw.height, nchw.width) == (12, 56)
    assert not decode(nchw.encoded_image_string)[6:, 21:].any()
    assert_same_events(e_dir, t_dir)


def test_image_bad_input(writers):
    img = RNG.random((3, 4, 5)).astype(np.float32)
    errors_alike(writers, lambda w, lib: w.add_image("x", img, dataformats="HW"))
    errors_alike(writers, lambda w, lib: w.add_image("x", img, dataformats="CCW"))
    errors_alike(writers, lambda w, lib: w.add_image("x", img[None], dataformats="CHW"))
    rgba = RNG.random((2, 4, 3, 3))
    errors_alike(writers, lambda w, lib: w.add_images("x", rgba, dataformats="NCHW"))
    errors_alike(writers, lambda w, lib: w.add_images("x", img))


def test_add_image_with_boxes(tmp_path):
    img = RNG.random((3, 32, 40)).astype(np.float32)
    boxes = np.array([[2.0, 3.0, 20.0, 25.0], [10.0, 1.0, 38.0, 30.0]])

    def log(w, lib):
        w.add_image_with_boxes("b", _lib_tensor(lib, img), lib.tensor(boxes), 0,
                               labels=["cat", "dog"])
        w.add_image_with_boxes("nolabel", img, lib.tensor(boxes), 1, rescale=2)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    for tag in ("b", "nolabel"):
        a, b = e.Images(tag)[0], t.Images(tag)[0]
        np.testing.assert_array_equal(decode(a.encoded_image_string),
                                      decode(b.encoded_image_string))
    assert decode(e.Images("nolabel")[0].encoded_image_string).shape == (64, 80, 3)


def test_add_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure(k):
        fig = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1, 2], [k, 2 * k, k])
        return fig

    figs = {}

    def log(w, lib):
        figs[lib] = figure(1)
        w.add_figure("one", figs[lib], 0)
        w.add_figure("many", [figure(1), figure(2), figure(3)], 1)
        kept = figure(4)
        w.add_figure("kept", kept, 2, close=False)
        assert plt.fignum_exists(kept.number)
        plt.close(kept)

    e_dir, t_dir = write_both(tmp_path, log)
    assert not plt.fignum_exists(figs[ember].number)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Tags()["images"] == t.Tags()["images"] == ["one", "many", "kept"]
    for tag in e.Tags()["images"]:
        a, b = e.Images(tag)[0], t.Images(tag)[0]
        np.testing.assert_array_equal(decode(a.encoded_image_string),
                                      decode(b.encoded_image_string))
    assert (e.Images("many")[0].height, e.Images("many")[0].width) == (75, 300)


def test_add_audio(tmp_path):
    snd = np.sin(np.linspace(0, 40, 800)).astype(np.float32) * 0.5

    def log(w, lib):
        w.add_audio("a", _lib_tensor(lib, snd), 0, sample_rate=8000)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    (a,), (b,) = e.Audio("a"), t.Audio("a")
    assert (a.step, a.encoded_audio_string, a.sample_rate) == \
        (b.step, b.encoded_audio_string, b.sample_rate)
    assert a.length_frames == 800 and a.content_type == "audio/wav"
    assert_same_events(e_dir, t_dir)


# ------------------------------------------------------------------------------ text, layouts
def test_text_custom_scalars_and_mesh(tmp_path):
    layout = {"Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
              "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]],
                      "nasdaq": ["Margin", ["nasdaq/aaa", "nasdaq/bbb", "nasdaq/ccc"]]}}
    verts = RNG.random((1, 4, 3)).astype(np.float32)
    colors = RNG.integers(0, 256, (1, 4, 3))
    faces = np.array([[[0, 1, 2], [1, 2, 3]]])

    def log(w, lib):
        w.add_text("note", "hello **world** ü", 3)
        w.add_text("note", "second", 4)
        w.add_custom_scalars(layout)
        w.add_custom_scalars_multilinechart(["a", "b"], category="c", title="t")
        w.add_custom_scalars_marginchart(["a", "b", "c"])
        w.add_mesh("m", _lib_tensor(lib, verts), colors=lib.tensor(colors),
                   faces=lib.tensor(faces), config_dict={"camera": {"fov": 75}}, global_step=5)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Tags()["tensors"] == t.Tags()["tensors"]
    assert "note/text_summary" in e.Tags()["tensors"]
    for tag in e.Tags()["tensors"]:
        assert [x.tensor_proto for x in e.Tensors(tag)] == [x.tensor_proto for x in t.Tensors(tag)]
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)
    text = e.Tensors("note/text_summary")[0].tensor_proto.string_val[0].decode()
    assert text == "hello **world** ü"
    assert_same_events(e_dir, t_dir)
    with pytest.raises(AssertionError, match="Expected 3 tags, got 2"):
        SummaryWriter(str(tmp_path / "x")).add_custom_scalars_marginchart(["a", "b"])


# ------------------------------------------------------------------------------ hparams
def test_add_hparams(tmp_path):
    def log(w, lib):
        w.add_hparams({"lr": 0.1, "bsize": 16, "opt": "adam", "nesterov": True,
                       "wd": lib.tensor([0.5]), "skip": None},
                      {"hparam/accuracy": 0.9, "hparam/loss": lib.tensor(0.25)},
                      hparam_domain_discrete={"opt": ["adam", "sgd"], "bsize": [16, 32]},
                      run_name="run1", global_step=2)

    e_dir, t_dir = write_both(tmp_path, log)
    assert os.listdir(e_dir).count("run1") == 1
    e, t = accumulate(os.path.join(e_dir, "run1")), accumulate(os.path.join(t_dir, "run1"))
    assert e.Tags()["scalars"] == t.Tags()["scalars"] == ["hparam/accuracy", "hparam/loss"]
    for tag in e.Tags()["scalars"]:
        assert [(s.step, s.value) for s in e.Scalars(tag)] == \
            [(s.step, s.value) for s in t.Scalars(tag)]
    from tensorboard.plugins.hparams import plugin_data_pb2

    e_hp, t_hp = e.PluginTagToContent("hparams"), t.PluginTagToContent("hparams")
    assert sorted(e_hp) == sorted(t_hp) == ["_hparams_/experiment",
                                            "_hparams_/session_end_info",
                                            "_hparams_/session_start_info"]
    for tag, content in e_hp.items():
        parsed = plugin_data_pb2.HParamsPluginData.FromString(content)
        assert parsed == plugin_data_pb2.HParamsPluginData.FromString(t_hp[tag])
    ssi = plugin_data_pb2.HParamsPluginData.FromString(e_hp["_hparams_/session_start_info"])
    assert ssi.session_start_info.hparams["opt"].string_value == "adam"
    assert ssi.session_start_info.hparams["wd"].number_value == 0.5
    assert_same_events(os.path.join(e_dir, "run1"), os.path.join(t_dir, "run1"))


def test_add_hparams_default_run_and_errors(tmp_path, writers):
    w = SummaryWriter(str(tmp_path / "d"))
    w.add_hparams({"a": 1}, {"m": 2.0})
    w.close()
    runs = [d for d in os.listdir(tmp_path / "d") if os.path.isdir(tmp_path / "d" / d)]
    assert len(runs) == 1 and float(runs[0]) > 0
    errors_alike(writers, lambda w, lib: w.add_hparams([("a", 1)], {}))
    errors_alike(writers, lambda w, lib: w.add_hparams({"a": [1, 2]}, {}))
    errors_alike(writers, lambda w, lib: w.add_hparams({"a": 1}, {},
                                                       hparam_domain_discrete={"a": ["x"]}))


# ------------------------------------------------------------------------------ PR curves
def test_pr_curves(tmp_path):
    labels = RNG.integers(0, 2, 100)
    preds = RNG.random(100).astype(np.float32)
    weights = RNG.random(100)
    raw = [RNG.integers(0, 50, 7).astype(np.float64) for _ in range(4)] + \
        [RNG.random(7), RNG.random(7)]

    def log(w, lib):
        w.add_pr_curve("pr", lib.tensor(labels), _lib_tensor(lib, preds, requires_grad=True), 0)
        w.add_pr_curve("pr", labels, preds, 1, num_thresholds=10, weights=weights)
        w.add_pr_curve("big", labels, preds, 2, num_thresholds=500)
        w.add_pr_curve_raw("raw", *raw, global_step=3, num_thresholds=7)

    e_dir, t_dir = write_both(tmp_path, log)
    e, t = accumulate(e_dir), accumulate(t_dir)
    assert e.Tags()["tensors"] == t.Tags()["tensors"] == ["pr", "big", "raw"]
    for tag in e.Tags()["tensors"]:
        for a, b in zip(e.Tensors(tag), t.Tensors(tag), strict=True):
            assert a.step == b.step
            assert a.tensor_proto.tensor_shape == b.tensor_proto.tensor_shape
            np.testing.assert_allclose(a.tensor_proto.float_val, b.tensor_proto.float_val,
                                       rtol=1e-6)
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)
    assert e.Tensors("big")[0].tensor_proto.tensor_shape.dim[1].size == 127


# ------------------------------------------------------------------------------ embeddings
def test_add_embedding(tmp_path):
    mat = RNG.standard_normal((10, 5)).astype(np.float32)
    meta = [f"w{i}" for i in range(10)]
    meta2 = [[i, i % 3] for i in range(10)]
    imgs = RNG.random((10, 3, 4, 4)).astype(np.float32)

    def log(w, lib):
        w.add_embedding(_lib_tensor(lib, mat, requires_grad=True), metadata=meta,
                        label_img=lib.from_numpy(imgs), global_step=3, tag="a/b%c")
        w.add_embedding(lib.from_numpy(mat[:, :2]), metadata=meta2,
                        metadata_header=["idx", "mod"])
        w.add_embedding(mat.astype(np.float64))

    e_dir, t_dir = write_both(tmp_path, log)
    e_files = sorted(os.path.relpath(p, e_dir) for p in glob.glob(f"{e_dir}/**/*",
                                                                  recursive=True))
    t_files = sorted(os.path.relpath(p, t_dir) for p in glob.glob(f"{t_dir}/**/*",
                                                                  recursive=True))
    assert [f for f in e_files if "tfevents" not in f] == \
        [f for f in t_files if "tfevents" not in f]
    assert "00003/a%2fb%25c/sprite.png" in e_files
    for f in e_files:
        if "tfevents" in f or os.path.isdir(os.path.join(e_dir, f)):
            continue
        a = open(os.path.join(e_dir, f), "rb").read()
        b = open(os.path.join(t_dir, f), "rb").read()
        if f.endswith(".png"):
            np.testing.assert_array_equal(decode(a), decode(b))
        else:
            assert a == b, f
    # the embedding directories' names and the projector config match PyTorch's
    assert open(os.path.join(e_dir, "projector_config.pbtxt")).read().count("embeddings") == 3


def test_add_embedding_errors(writers):
    mat = np.zeros((3, 2))
    errors_alike(writers, lambda w, lib: w.add_embedding(mat, metadata=["a"], tag="e1"))
    errors_alike(writers, lambda w, lib: w.add_embedding(mat[:, :, None], tag="e2"))
    errors_alike(writers, lambda w, lib: w.add_embedding(mat[:2], label_img=np.zeros((3, 3, 2, 2)),
                                                         tag="e3"))


# ------------------------------------------------------------------------------ graph
def test_add_graph(tmp_path):
    nn = ember.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 3)
            self.act = nn.ReLU()
            self.block = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
            self.fc2 = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc2(self.block(self.act(self.fc1(x)) * 3)) * 2

    model = Net().to(DEVICE)
    model.train()
    w = SummaryWriter(str(tmp_path))
    w.add_graph(model, ember.randn(5, 4, device=DEVICE))
    w.close()
    assert model.training
    acc = accumulate(str(tmp_path))
    g = acc.Graph()
    nodes = {n.name: n for n in g.node}
    assert "step1" in acc.Tags()["run_metadata"]
    assert nodes["input/x"].op == "IO Node"
    out = nodes["output/output.1"]
    assert [d.size for d in out.attr["_output_shapes"].list.shape[0].dim] == [5, 2]
    fc1 = [n for n in g.node if n.name.startswith("Net/Linear[fc1]/") and n.op != "Parameter"]
    assert len(fc1) == 1 and "input/x" in fc1[0].input
    assert {"Net/Linear[fc1]/weight", "Net/Linear[fc1]/bias"} <= set(fc1[0].input)
    inner = [n for n in g.node if n.name.startswith("Net/Sequential[block]/Linear[0]/")
             and n.op != "Parameter"]
    assert len(inner) == 1
    # the multiplication by 3 runs in Net's own scope, between the ReLU and the block
    (mul,) = [nodes[i] for i in inner[0].input if i.startswith("Net/") and i.count("/") == 1]
    assert any(i.startswith("Net/ReLU[act]/") for i in mul.input)
    # every edge names a node of the graph
    assert all(i.split(":")[0] in nodes for n in g.node for i in n.input)
    # eval mode: the dropout did nothing, so it recorded no op
    assert not [n for n in g.node if "Dropout" in n.name]


# ------------------------------------------------------------------------------ lifetime
def test_flush_without_close_and_context_manager(tmp_path):
    w = SummaryWriter(str(tmp_path / "a"), flush_secs=10_000, max_queue=1000)
    w.add_scalar("s", 1.0, 0)
    w.add_scalars("m", {"x": 2.0}, 0)
    w.flush()
    assert [s.value for s in accumulate(str(tmp_path / "a")).Scalars("s")] == [1.0]
    assert [s.value for s in accumulate(str(tmp_path / "a" / "m_x")).Scalars("m")] == [2.0]
    w.close()
    w.close()  # a second close is harmless

    with SummaryWriter(str(tmp_path / "b"), filename_suffix=".v2") as w2:
        w2.add_text("t", "x", 0)
    assert w2.all_writers is None
    (f,) = os.listdir(tmp_path / "b")
    assert f.endswith(".v2")
    assert accumulate(str(tmp_path / "b")).Tags()["tensors"] == ["t/text_summary"]
    # logging after close opens a new event file, as in PyTorch
    w2.add_scalar("later", 3.0, 1)
    w2.close()
    assert len(os.listdir(tmp_path / "b")) == 2


def test_default_logdir_and_purge_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp")
    w.close()
    host = re.escape(socket.gethostname())
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + host + "_exp",
                        w.get_logdir().replace(os.sep, "/"))
    assert os.path.isdir(w.get_logdir())

    def log(w, lib):
        w.add_scalar("s", 1.0, 12)

    e_dir, t_dir = write_both(tmp_path, log, purge_step=10)
    assert_same_events(e_dir, t_dir)
    assert [e.step for e in raw_events(e_dir)] == [0, 10, 10, 12]


def test_import_error_without_tensorboard():
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "try:\n    import ember.utils.tensorboard\n"
            "except ImportError as e:\n    print('ImportError:', e)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert "ImportError: TensorBoard logging requires TensorBoard" in out
    assert "pip install tensorboard" in out and "ember[tensorboard]" in out


@pytest.mark.parametrize("clips_n", [1, 3, 5, 8])
def test_add_video(tmp_path, clips_n):
    from PIL import Image, ImageSequence
    from torch.utils.tensorboard._utils import _prepare_video

    # clips of 4 frames in 8 colours, so that the GIF palette holds every colour exactly
    clips = RNG.integers(0, 2, (clips_n, 4, 3, 5, 6)).astype(np.float32)
    clips[:, :, 0] = np.arange(4)[None, :, None, None] % 2  # consecutive frames differ
    w = SummaryWriter(str(tmp_path))
    w.add_video("v", ember.tensor(clips, device=DEVICE), 2, fps=5)
    w.add_video("u8", (clips[:1] * 255).astype(np.uint8), 3)
    w.close()
    acc = accumulate(str(tmp_path))
    assert acc.Tags()["images"] == ["v", "u8"]
    expected = (_prepare_video(clips) * 255).clip(0, 255).astype(np.uint8)
    (ev,) = acc.Images("v")
    assert (ev.step, ev.height, ev.width) == (2, *expected.shape[1:3])
    gif = Image.open(io.BytesIO(ev.encoded_image_string))
    assert gif.format == "GIF" and gif.info["duration"] == 200
    frames = np.stack([np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)])
    np.testing.assert_array_equal(frames, expected)
    (eu,) = acc.Images("u8")
    assert (eu.height, eu.width) == (5, 6)


def test_add_video_bad_input(writers):
    errors_alike(writers, lambda w, lib: w.add_video("v", np.zeros((4, 3, 5, 6))))


def test_add_graph_integer_input_and_several_outputs(tmp_path):
    nn = ember.nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.lstm = nn.LSTM(4, 3, batch_first=True)

        def forward(self, idx):
            out, (h, c) = self.lstm(self.emb(idx))
            return out, h.argmax(-1), {"c": c}

    w = SummaryWriter(str(tmp_path))
    w.add_graph(Tagger().to(DEVICE), ember.tensor([[1, 2, 3]], device=DEVICE))
    w.close()
    nodes = {n.name: n for n in accumulate(str(tmp_path)).Graph().node}
    assert {"input/idx", "output/output.1", "output/output.2", "output/output.3"} <= set(nodes)
    assert all(i.split(":")[0] in nodes for n in nodes.values() for i in n.input)
    # the integer argmax is not recorded by autograd: its output has no producer
    assert list(nodes["output/output.2"].input) == []
    (emb,) = [n for n in nodes.values() if n.name.startswith("Tagger/Embedding[emb]/")
              and n.op != "Parameter"]
    assert [d.size for d in emb.attr["_output_shapes"].list.shape[0].dim] == [1, 3, 4]
    assert nodes["output/output.3"].input[0].startswith("Tagger/LSTM[lstm]/")
