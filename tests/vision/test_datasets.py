"""ember.vision.datasets: real MNIST/FashionMNIST files, downloads from a local HTTP server,
on-disk layouts of CIFAR/SVHN/EMNIST/QMNIST/ImageFolder written by the tests, bad input."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading
import zipfile
import zlib

import numpy as np
import pytest

import ember
from ember.vision import datasets, transforms
from ember.vision.datasets import utils as dutils
from ember.vision.datasets.mnist import read_sn3_pascalvincent_tensor

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

RNG = np.random.default_rng(0)


# -- helpers -------------------------------------------------------------------------------
def idx_bytes(arr: np.ndarray) -> bytes:
    """An idx file for ``arr`` (written independently of ember's reader)."""
    codes = {np.dtype(np.uint8): 8, np.dtype(np.int8): 9, np.dtype(np.int16): 11,
             np.dtype(np.int32): 12, np.dtype(np.float32): 13, np.dtype(np.float64): 14}
    head = bytes([0, 0, codes[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def fake_split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n).astype(np.uint8))


def write_mnist_raw(folder, train=True, n=7, gz=True, seed=0):
    images, labels = fake_split(n, seed)
    prefix = "train" if train else "t10k"
    os.makedirs(folder, exist_ok=True)
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images),
                      (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        if gz:
            with gzip.open(os.path.join(folder, name + ".gz"), "wb") as f:
                f.write(data)
        else:
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
    return images, labels


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_root(tmp_path):
    """A directory served over HTTP on 127.0.0.1; yields (directory, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- real data -----------------------------------------------------------------------------
def test_fashion_mnist_real(data_root):
    train = datasets.FashionMNIST(data_root, train=True)
    test = datasets.FashionMNIST(data_root, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == ember.uint8
    assert train.targets.dtype == ember.int64 and train.targets.shape == (60000,)
    assert train.targets[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test.targets[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert ember.bincount(train.targets).tolist() == [6000] * 10
    assert int(train.data.min()) == 0 and int(train.data.max()) == 255
    img, target = train[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert target == 9 and type(target) is int
    # The pixels are the file's bytes (checked against an independent parse).
    with gzip.open(data_root / "FashionMNIST/raw/train-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    np.testing.assert_array_equal(np.asarray(img), raw[0])
    np.testing.assert_array_equal(train.data[59999].numpy(), raw[59999])
    assert train.classes[9] == "Ankle boot" and train.class_to_idx["T-shirt/top"] == 0
    x, y = test[3]
    assert y == 1


def test_fashion_mnist_transform_pipeline(data_root):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    ds = datasets.FashionMNIST(data_root, train=False, transform=tf,
                               target_transform=lambda t: t + 100)
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and x.dtype == ember.float32 and y == 109
    raw = ds.data[0].numpy().astype(np.float32) / np.float32(255)
    np.testing.assert_allclose(x.numpy()[0], (raw - np.float32(0.2860)) / np.float32(0.3530),
                               rtol=1e-6, atol=1e-6)
    assert "StandardTransform" in repr(ds) and "ToTensor()" in repr(ds)


def test_fashion_mnist_dataloader(data_root):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    ds = datasets.FashionMNIST(data_root, train=False, transform=tf)
    loader = ember.utils.data.DataLoader(ds, batch_size=100, shuffle=False, num_workers=2)
    for i, (x, y) in enumerate(loader):
        assert x.shape == (100, 1, 28, 28) and y.shape == (100,) and y.dtype == ember.int64
        if i == 0:
            assert y[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
            assert float(x.min()) == -1.0 and float(x.max()) == 1.0
        if i == 4:
            break


def test_mnist_test_split_real(data_root):
    if not (data_root / "MNIST" / "raw").is_dir():
        pytest.skip("MNIST test split not in shared data")
    ds = datasets.MNIST(data_root, train=False)
    assert len(ds) == 10000
    assert ds.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert ember.bincount(ds.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                   974, 1009]
    assert ds.classes[3] == "3 - three"
    assert repr(ds) == (f"Dataset MNIST\n    Number of datapoints: 10000\n    Root location: "
                        f"{data_root}\n    Split: Test")
    # Only the test split's files exist: the train split says which files to put where.
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte.gz.*MNIST/raw"):
        datasets.MNIST(data_root, train=True)


# -- local files ---------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_plain_and_gzipped(tmp_path, gz):
    images, labels = write_mnist_raw(tmp_path / "KMNIST" / "raw", train=False, n=5, gz=gz)
    ds = datasets.KMNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.targets.tolist() == labels.tolist()
    img, t = ds[4]
    np.testing.assert_array_equal(np.asarray(img), images[4])
    assert t == labels[4]


def test_mnist_legacy_properties_and_replaced_data(tmp_path):
    images, labels = write_mnist_raw(tmp_path / "MNIST" / "raw", n=6)
    ds = datasets.MNIST(tmp_path)
    with pytest.warns(UserWarning, match="renamed targets"):
        assert ds.train_labels is ds.targets
    with pytest.warns(UserWarning, match="renamed data"):
        assert ds.train_data is ds.data
    # Replacing data (a common way to subset) is seen by __getitem__.
    ds.data = ds.data[3:]
    ds.targets = ds.targets[3:]
    assert len(ds) == 3
    np.testing.assert_array_equal(np.asarray(ds[0][0]), images[3])
    # Pickling (DataLoader workers under spawn) round-trips the arrays.
    ds2 = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(np.asarray(ds2[1][0]), images[4])


def test_truncated_idx_names_file(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist_raw(raw, n=4, gz=False)
    path = raw / "train-images-idx3-ubyte"
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(RuntimeError, match=r"train-images-idx3-ubyte is truncated.*\(4, 28, 28\)"):
        datasets.MNIST(tmp_path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte is truncated"):
        datasets.MNIST(tmp_path)
    path.write_bytes(b"hello world, not idx")
    with pytest.raises(RuntimeError, match="not an idx file"):
        datasets.MNIST(tmp_path)
    # Mismatched image and label counts.
    path.write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    with pytest.raises(RuntimeError, match="3 images.*4 labels"):
        datasets.MNIST(tmp_path)
    # A label file with the wrong type.
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28), np.uint8)))
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4, np.int32)))
    with pytest.raises(TypeError, match="torch.uint8"):
        datasets.MNIST(tmp_path)


def test_read_sn3_types(tmp_path):
    for dt in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        arr = (RNG.standard_normal((3, 4)) * 50).astype(dt)
        p = tmp_path / f"a-{np.dtype(dt).name}"
        p.write_bytes(idx_bytes(arr))
        t = read_sn3_pascalvincent_tensor(str(p))
        np.testing.assert_array_equal(t.numpy(), arr)
        assert t.numpy().dtype == np.dtype(dt)


def test_fashion_mnist_debian_fallback(tmp_path, monkeypatch):
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    images, labels = write_mnist_raw(debian, train=True, n=5, gz=True)
    monkeypatch.setattr(datasets.FashionMNIST, "system_folders", [str(debian)])
    root = tmp_path / "root"
    ds = datasets.FashionMNIST(root, train=True, download=True)  # found: nothing downloaded
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert not (root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()
    # The root's own files win over the system copy.
    mine, _ = write_mnist_raw(root / "FashionMNIST" / "raw", train=True, n=3, seed=5)
    np.testing.assert_array_equal(datasets.FashionMNIST(root).data.numpy(), mine)
    # Without files anywhere, the message names both places.
    with pytest.raises(RuntimeError, match="t10k-images-idx3-ubyte.gz.*FashionMNIST/raw.*"
                                           "also searched"):
        datasets.FashionMNIST(root, train=False)


DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isfile(os.path.join(DEBIAN_FASHION,
                                                    "t10k-labels-idx1-ubyte.gz")),
                    reason="Debian's dataset-fashion-mnist package is not installed")
def test_fashion_mnist_finds_debian_package(tmp_path):
    # an empty root: both splits come from the package's files, nothing is written to root
    train = datasets.FashionMNIST(tmp_path, train=True, download=True)
    test = datasets.FashionMNIST(tmp_path, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.targets[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test.targets[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    img, target = test[0]
    assert img.size == (28, 28) and target == 9
    assert list(tmp_path.iterdir()) == []


def test_mnist_download_from_local_server(tmp_path, http_root, monkeypatch):
    served, url = http_root
    (served / "mirror").mkdir()
    resources = []
    for train in (True, False):
        write_mnist_raw(served / "mirror", train=train, n=4 if train else 3, seed=int(train))
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        resources.append((name, md5((served / "mirror" / name).read_bytes())))
    # The first mirror does not have the files (404), the second does.
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url + "nothing-here/", url + "mirror/"])
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    ds = datasets.MNIST(tmp_path / "data", train=True, download=True)
    assert len(ds) == 4
    raw = tmp_path / "data" / "MNIST" / "raw"
    for name, _ in resources:  # both splits fetched, kept compressed and unpacked
        assert (raw / name).is_file() and (raw / name[:-3]).is_file()
    assert len(datasets.MNIST(tmp_path / "data", train=False)) == 3
    # Already there: no network needed.
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:1/"])
    assert len(datasets.MNIST(tmp_path / "data", train=True, download=True)) == 4


def test_download_md5_mismatch_and_offline(tmp_path, http_root, monkeypatch):
    served, url = http_root
    write_mnist_raw(served, train=False, n=2)
    bad = [("t10k-images-idx3-ubyte.gz", "0" * 32), ("t10k-labels-idx1-ubyte.gz", "0" * 32)]
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.MNIST, "resources", bad)
    with pytest.raises(RuntimeError, match="(?s)Error downloading t10k-images.*corrupted"):
        datasets.MNIST(tmp_path, train=False, download=True)
    assert not (tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").exists()
    # Offline (connection refused): the error says which file to put where.
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:1/"])
    with pytest.raises(RuntimeError, match=r"(?s)Without network access, put t10k-images-idx3-ubyte"
                                           r"\.gz .*MNIST/raw"):
        datasets.MNIST(tmp_path, train=False, download=True)
    assert not any(p.name.endswith(".part") for p in (tmp_path / "MNIST" / "raw").iterdir())


def test_download_url_and_check_integrity(tmp_path, http_root):
    served, url = http_root
    payload = RNG.integers(0, 256, 100_000, dtype=np.uint8).tobytes()
    (served / "blob.bin").write_bytes(payload)
    dutils.download_url(url + "blob.bin", str(tmp_path / "dl"), md5=md5(payload))
    assert (tmp_path / "dl" / "blob.bin").read_bytes() == payload
    assert dutils.check_integrity(tmp_path / "dl" / "blob.bin", md5(payload))
    assert not dutils.check_integrity(tmp_path / "dl" / "blob.bin", "0" * 32)
    assert not dutils.check_integrity(tmp_path / "nope")
    assert dutils.calculate_md5(tmp_path / "dl" / "blob.bin", chunk_size=1000) == md5(payload)
    with pytest.raises(RuntimeError, match="File not found or corrupted"):
        dutils.download_url(url + "blob.bin", str(tmp_path / "dl2"), md5="0" * 32)


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "tgz", "tar.bz2", "tar.xz", "zip"])
def test_extract_archive(tmp_path, kind):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("alpha")
    (src / "b.txt").write_text("beta")
    archive = tmp_path / f"arch.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as z:
            z.write(src / "sub" / "a.txt", "sub/a.txt")
            z.write(src / "b.txt", "b.txt")
    else:
        mode = {"tar": "w", "tar.gz": "w:gz", "tgz": "w:gz", "tar.bz2": "w:bz2",
                "tar.xz": "w:xz"}[kind]
        with tarfile.open(archive, mode) as t:
            t.add(src / "sub", "sub")
            t.add(src / "b.txt", "b.txt")
    out = dutils.extract_archive(str(archive), str(tmp_path / "out"))
    assert out == str(tmp_path / "out")
    assert (tmp_path / "out" / "sub" / "a.txt").read_text() == "alpha"
    assert (tmp_path / "out" / "b.txt").read_text() == "beta"


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_decompress_single_file(tmp_path, suffix):
    import bz2
    import lzma
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
    p = tmp_path / f"data.bin{suffix}"
    with opener(p, "wb") as f:
        f.write(b"x" * 1000)
    out = dutils.extract_archive(p, remove_finished=True)
    assert out == tmp_path / "data.bin" and out.read_bytes() == b"x" * 1000
    assert not p.exists()
    with pytest.raises(RuntimeError, match="Unknown compression or archive type: '.foo'"):
        dutils.extract_archive(tmp_path / "x.foo")
    with pytest.raises(RuntimeError, match="has no suffixes"):
        dutils.extract_archive(tmp_path / "noext")


def test_verify_str_arg():
    assert dutils.verify_str_arg("a", "x", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"Unknown value 'c' for argument x. Valid values are "
                                         r"\{'a', 'b'\}."):
        dutils.verify_str_arg("c", "x", ("a", "b"))
    with pytest.raises(ValueError, match="Expected type str for argument x"):
        dutils.verify_str_arg(3, "x")


def test_emnist_download_zip(tmp_path, http_root, monkeypatch):
    served, url = http_root
    images, labels = fake_split(4, seed=3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for split in ("letters", "digits"):
            z.writestr(f"gzip/emnist-{split}-test-images-idx3-ubyte.gz",
                       gzip.compress(idx_bytes(images)))
            z.writestr(f"gzip/emnist-{split}-test-labels-idx1-ubyte.gz",
                       gzip.compress(idx_bytes(labels)))
    (served / "gzip.zip").write_bytes(buf.getvalue())
    monkeypatch.setattr(datasets.EMNIST, "url", url + "gzip.zip")
    monkeypatch.setattr(datasets.EMNIST, "md5", md5(buf.getvalue()))
    ds = datasets.EMNIST(tmp_path, split="letters", train=False, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.classes[:3] == ["N/A", "a", "b"] and len(ds.classes) == 27
    assert not (tmp_path / "EMNIST" / "raw" / "gzip").exists()
    assert datasets.EMNIST(tmp_path, split="digits", train=False).classes == list("0123456789")
    assert len(datasets.EMNIST.classes_split_dict["byclass"]) == 62
    assert len(datasets.EMNIST.classes_split_dict["balanced"]) == 47
    with pytest.raises(ValueError, match="Unknown value 'nope' for argument split"):
        datasets.EMNIST(tmp_path, split="nope")


def test_qmnist(tmp_path):
    raw = tmp_path / "QMNIST" / "raw"
    raw.mkdir(parents=True)
    images, _ = fake_split(12, seed=4)
    table = RNG.integers(0, 1000, (12, 8)).astype(np.int32)
    (raw / "qmnist-test-images-idx3-ubyte").write_bytes(idx_bytes(images))
    with gzip.open(raw / "qmnist-test-labels-idx2-int.gz", "wb") as f:
        f.write(idx_bytes(table))
    ds = datasets.QMNIST(tmp_path, what="test")
    assert len(ds) == 12 and ds.targets.dtype == ember.int64 and ds.targets.shape == (12, 8)
    assert ds[5][1] == int(table[5, 0])
    full = datasets.QMNIST(tmp_path, what="test", compat=False)
    assert full[5][1].tolist() == table[5].tolist()
    # test10k/test50k are rows [:10000] and [10000:] of the test files.
    assert len(datasets.QMNIST(tmp_path, what="test10k")) == 12
    assert len(datasets.QMNIST(tmp_path, what="test50k")) == 0
    assert repr(ds).endswith("Split: test")


def _cifar_batch(n, seed, fine=False):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    return {"data": data, ("fine_labels" if fine else "labels"): labels}


def test_cifar10_layout_and_download(tmp_path, http_root, monkeypatch):
    served, url = http_root
    base = tmp_path / "build" / "cifar-10-batches-py"
    base.mkdir(parents=True)
    train_list, batches = [], []
    for i in range(1, 6):
        b = _cifar_batch(3, i)
        batches.append(b)
        blob = pickle.dumps(b)
        (base / f"data_batch_{i}").write_bytes(blob)
        train_list.append([f"data_batch_{i}", md5(blob)])
    test_blob = pickle.dumps(_cifar_batch(4, 9))
    (base / "test_batch").write_bytes(test_blob)
    meta_blob = pickle.dumps({"label_names": [f"c{i}" for i in range(10)]})
    (base / "batches.meta").write_bytes(meta_blob)
    with tarfile.open(served / "cifar.tar.gz", "w:gz") as t:
        t.add(base, "cifar-10-batches-py")
    tgz = (served / "cifar.tar.gz").read_bytes()
    monkeypatch.setattr(datasets.CIFAR10, "url", url + "cifar.tar.gz")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(tgz))
    monkeypatch.setattr(datasets.CIFAR10, "train_list", train_list)
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5(test_blob)]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {"filename": "batches.meta",
                                                   "key": "label_names", "md5": md5(meta_blob)})
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted.*data_batch_1"):
        datasets.CIFAR10(root)
    ds = datasets.CIFAR10(root, train=True, download=True)
    assert len(ds) == 15 and ds.data.shape == (15, 32, 32, 3) and ds.data.dtype == np.uint8
    assert ds.targets == sum((b["labels"] for b in batches), [])
    img, t = ds[4]
    assert img.mode == "RGB" and img.size == (32, 32) and t == batches[1]["labels"][1]
    expected = batches[1]["data"][1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(img), expected)
    assert ds.classes[2] == "c2" and ds.class_to_idx["c9"] == 9
    test = datasets.CIFAR10(root, train=False)
    assert len(test) == 4 and repr(test).endswith("Split: Test")
    # A corrupt batch is reported with its path.
    (root / "cifar-10-batches-py" / "test_batch").write_bytes(b"garbage")
    with pytest.raises(RuntimeError, match="test_batch"):
        datasets.CIFAR10(root, train=False)


def test_cifar100_fine_labels(tmp_path, monkeypatch):
    base = tmp_path / "cifar-100-python"
    base.mkdir()
    b = _cifar_batch(5, 1, fine=True)
    blob = pickle.dumps(b)
    (base / "test").write_bytes(blob)
    meta = pickle.dumps({"fine_label_names": [f"f{i}" for i in range(100)]})
    (base / "meta").write_bytes(meta)
    monkeypatch.setattr(datasets.CIFAR100, "test_list", [["test", md5(blob)]])
    monkeypatch.setattr(datasets.CIFAR100, "meta", {"filename": "meta", "key": "fine_label_names",
                                                    "md5": md5(meta)})
    ds = datasets.CIFAR100(tmp_path, train=False)
    assert ds.targets == b["fine_labels"] and len(ds.classes) == 100


# MATLAB 5 files written from the format specification (independently of ember's reader).
def _mat_element(mtype: int, payload: bytes) -> bytes:
    pad = (-len(payload)) % 8
    return struct.pack("<II", mtype, len(payload)) + payload + b"\x00" * pad


def _mat_matrix(name: str, arr: np.ndarray, mx_class: int, data_type: int) -> bytes:
    flags = _mat_element(6, struct.pack("<II", mx_class, 0))
    dims = _mat_element(5, struct.pack(f"<{arr.ndim}i", *arr.shape))
    nm = _mat_element(1, name.encode())
    data = _mat_element(data_type, np.asfortranarray(arr).tobytes(order="F"))
    return _mat_element(14, flags + dims + nm + data)


def _write_mat(path, arrays, compress):
    out = b"MATLAB 5.0 MAT-file, written by ember's tests".ljust(116, b" ")
    out += b"\x00" * 8 + struct.pack("<H", 0x0100) + b"IM"
    for element in arrays:
        if compress:
            z = zlib.compress(element)
            out += struct.pack("<II", 15, len(z)) + z
        else:
            out += element
    path.write_bytes(out)


@pytest.mark.parametrize("compress", [False, True])
def test_svhn_mat(tmp_path, monkeypatch, compress):
    n = 6
    X = RNG.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = np.array([[10], [1], [2], [10], [9], [3]], dtype=np.float64)
    # y stored as uint8 data in a double-class array, as MATLAB does for small integers.
    _write_mat(tmp_path / "test_32x32.mat",
               [_mat_matrix("X", X, 9, 2), _mat_matrix("y", y.astype(np.uint8), 6, 2)],
               compress)
    blob = (tmp_path / "test_32x32.mat").read_bytes()
    split = dict(datasets.SVHN.split_list)
    split["test"] = [split["test"][0], "test_32x32.mat", md5(blob)]
    monkeypatch.setattr(datasets.SVHN, "split_list", split)
    ds = datasets.SVHN(tmp_path, split="test")
    assert ds.data.shape == (n, 3, 32, 32) and ds.labels.tolist() == [0, 1, 2, 0, 9, 3]
    img, t = ds[2]
    assert t == 2 and img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), X[:, :, :, 2])
    assert repr(ds).endswith("Split: test")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted.*train_32x32.mat"):
        datasets.SVHN(tmp_path, split="train")
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        datasets.SVHN(tmp_path, split="val")


def test_svhn_download_from_local_server(tmp_path, http_root, monkeypatch):
    served, url = http_root
    X = RNG.integers(0, 256, (32, 32, 3, 2), dtype=np.uint8)
    _write_mat(served / "extra_32x32.mat",
               [_mat_matrix("X", X, 9, 2), _mat_matrix("y", np.array([[4], [10]], np.uint8),
                                                        6, 2)], True)
    blob = (served / "extra_32x32.mat").read_bytes()
    split = dict(datasets.SVHN.split_list)
    split["extra"] = [url + "extra_32x32.mat", "extra_32x32.mat", md5(blob)]
    monkeypatch.setattr(datasets.SVHN, "split_list", split)
    ds = datasets.SVHN(tmp_path / "svhn", split="extra", download=True)
    assert ds.labels.tolist() == [4, 0] and (tmp_path / "svhn" / "extra_32x32.mat").is_file()
    np.testing.assert_array_equal(np.asarray(ds[1][0]), X[:, :, :, 1])
    # a wrong checksum: the download is refused and removed
    split["extra"] = [url + "extra_32x32.mat", "extra_32x32.mat", "0" * 32]
    with pytest.raises(RuntimeError, match="corrupted: .*extra_32x32.mat"):
        datasets.SVHN(tmp_path / "other", split="extra", download=True)
    assert not (tmp_path / "other" / "extra_32x32.mat").exists()


def _png(path, color, size=(5, 4), mode="RGB"):
    Image.new(mode, size, color).save(path)


def test_image_folder(tmp_path):
    for cls, n in (("cat", 2), ("dog", 3)):
        (tmp_path / cls / "nested").mkdir(parents=True)
        for i in range(n):
            _png(tmp_path / cls / f"{i}.png", (i * 40, 10, 20))
        (tmp_path / cls / "notes.txt").write_text("not an image")
    _png(tmp_path / "dog" / "nested" / "z.PNG", 7, mode="L")
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 6 and ds.targets == [0, 0, 1, 1, 1, 1]
    assert [os.path.relpath(p, tmp_path) for p, _ in ds.samples] == [
        "cat/0.png", "cat/1.png", "dog/0.png", "dog/1.png", "dog/2.png", "dog/nested/z.PNG"]
    assert ds.imgs is ds.samples
    img, t = ds[1]
    assert img.mode == "RGB" and img.getpixel((0, 0)) == (40, 10, 20) and t == 0
    assert ds[5][0].mode == "RGB"  # grayscale converted by the default loader
    tf = transforms.Compose([transforms.Resize((8, 6)), transforms.ToTensor()])
    x, _ = datasets.ImageFolder(tmp_path, transform=tf)[0]
    assert x.shape == (3, 8, 6)
    only_top = datasets.ImageFolder(tmp_path, is_valid_file=lambda p: "nested" not in p
                                    and p.endswith(".png"))
    assert len(only_top) == 5


def test_image_folder_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _png(tmp_path / "a" / "x.png", (0, 0, 0))
    with pytest.raises(FileNotFoundError, match=r"Found no valid file for the classes b. "
                                                r"Supported extensions are: .jpg, .jpeg"):
        datasets.ImageFolder(tmp_path)
    ds = datasets.ImageFolder(tmp_path, allow_empty=True)
    assert len(ds) == 1 and ds.classes == ["a", "b"]
    (tmp_path / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    ds = datasets.ImageFolder(tmp_path, allow_empty=True)
    with pytest.raises(OSError, match="broken.png"):
        ds[0]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None"):
        datasets.DatasetFolder(tmp_path, loader=lambda p: p)
    with pytest.raises(ValueError, match="class_to_idx parameter cannot be None"):
        datasets.DatasetFolder.make_dataset(tmp_path, None, extensions=(".png",))


def test_dataset_folder_custom(tmp_path):
    for cls in ("x", "y"):
        (tmp_path / cls).mkdir()
        np.save(tmp_path / cls / "a.npy", np.full(3, ord(cls)))

    class Reversed(datasets.DatasetFolder):
        def find_classes(self, directory):
            classes = sorted(os.listdir(directory), reverse=True)
            return classes, {c: i for i, c in enumerate(classes)}

    ds = Reversed(tmp_path, loader=np.load, extensions=(".npy",))
    assert ds.classes == ["y", "x"] and ds.targets == [1, 0]
    sample, target = ds[0]
    assert sample.tolist() == [ord("x")] * 3 and target == 1


def test_fake_data():
    ds = datasets.FakeData(size=5, image_size=(3, 8, 6), num_classes=4, random_offset=2)
    ember.manual_seed(7)
    before = ember.rand(3)
    ember.manual_seed(7)
    img, t = ds[1]
    assert ember.equal(ember.rand(3), before)  # the global RNG is left alone
    assert img.mode == "RGB" and img.size == (6, 8) and 0 <= t < 4
    img2, t2 = ds[1]
    assert np.array_equal(np.asarray(img), np.asarray(img2)) and t == t2
    assert not np.array_equal(np.asarray(ds[0][0]), np.asarray(img))
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]
    assert len(ds) == 5
    assert repr(ds).startswith("Dataset FakeData\n    Number of datapoints: 5")


def test_vision_dataset_transforms_rules():
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        datasets.VisionDataset(None, transforms=lambda a, b: (a, b), transform=lambda x: x)
    ds = datasets.VisionDataset("~/somewhere")
    assert ds.root == os.path.expanduser("~/somewhere")


class _SameImage(datasets.VisionDataset):
    """Eight copies of one image: any difference between items comes from the transform."""

    def __init__(self, transform):
        super().__init__(None, transform=transform)
        self.img = Image.fromarray(np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3))

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return self.transform(self.img), i


def _augmented_batches(seed, workers):
    tf = transforms.Compose([transforms.RandomCrop(6), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor()])
    g = ember.Generator().manual_seed(seed)
    loader = ember.utils.data.DataLoader(_SameImage(tf), batch_size=1, num_workers=workers,
                                         generator=g)
    return [x.numpy() for x, _ in loader]


def test_augmentations_in_dataloader_workers():
    """Random transforms draw from ember's RNG, which the loader seeds per worker from its
    generator: the same seed repeats the augmentations, workers differ from each other."""
    a = _augmented_batches(1, 2)
    b = _augmented_batches(1, 2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1])  # items 0 and 1 come from different workers
    c = _augmented_batches(2, 2)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))
