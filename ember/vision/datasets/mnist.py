"""MNIST-style datasets (MNIST, FashionMNIST, KMNIST, EMNIST, QMNIST), following torchvision.

Files are read from torchvision's layout, ``ROOT/<ClassName>/raw/<name>-idx?-ubyte``, either
uncompressed or as ``.gz`` (``.xz`` for QMNIST's nist files), so a directory prepared for
torchvision is reused as it is. Only the requested split's two files need to be present.
Parsing the idx format is one ``np.frombuffer`` over the whole file.
"""

from __future__ import annotations

import gzip
import lzma
import os
import pathlib
import shutil
import string
import warnings
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .utils import download_and_extract_archive, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST", "read_sn3_pascalvincent_tensor",
           "read_image_file", "read_label_file"]

# idx type codes (third byte of the magic number) and their big-endian NumPy dtypes.
_IDX_TYPES = {8: np.dtype(np.uint8), 9: np.dtype(np.int8), 11: np.dtype(">i2"),
              12: np.dtype(">i4"), 13: np.dtype(">f4"), 14: np.dtype(">f8")}
_OPENERS = {".gz": gzip.open, ".xz": lzma.open}


def _find_file(path: str | os.PathLike) -> str | None:
    """``path`` itself, or its ``.gz``/``.xz`` form, whichever exists (``None`` if none)."""
    path = os.fspath(path)
    for candidate in (path, path + ".gz", path + ".xz"):
        if os.path.isfile(candidate):
            return candidate
    return None


def _read_bytes(path: str) -> bytes:
    opener = _OPENERS.get(os.path.splitext(path)[1], open)
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, lzma.LZMAError) as e:
        raise RuntimeError(f"Could not read {path}: {e}") from e


def read_sn3_pascalvincent_tensor(path: str | os.PathLike, strict: bool = True) -> Tensor:
    """Read an idx ("SN3 Pascal Vincent") file, plain or compressed, into a tensor.

    ``path`` may name the uncompressed file while only its ``.gz``/``.xz`` exists. A file whose
    size does not match its header raises ``RuntimeError`` naming the file.
    ``strict`` is accepted for torchvision compatibility; the size is always checked.
    """
    found = _find_file(path)
    if found is None:
        raise FileNotFoundError(f"No such idx file: {os.fspath(path)} (nor its .gz/.xz form)")
    data = _read_bytes(found)
    if len(data) < 4:
        raise RuntimeError(f"idx file {found} is truncated: {len(data)} bytes, not even a header")
    nd, ty = data[3], data[2]
    if data[0] != 0 or data[1] != 0 or ty not in _IDX_TYPES or not 1 <= nd <= 3:
        raise RuntimeError(f"{found} is not an idx file (magic number 0x{data[:4].hex()})")
    header = 4 * (nd + 1)
    if len(data) < header:
        raise RuntimeError(f"idx file {found} is truncated: its header declares {nd} dimensions "
                           f"but the file has only {len(data)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", nd, 4))
    dt = _IDX_TYPES[ty]
    count = int(np.prod(shape))
    have = len(data) - header
    if have != count * dt.itemsize:
        what = "truncated" if have < count * dt.itemsize else "longer than its header says"
        raise RuntimeError(f"idx file {found} is {what}: its header declares shape {shape} "
                           f"({count * dt.itemsize} bytes of data) but it holds {have} bytes")
    arr = np.frombuffer(data, dt, count, header).reshape(shape)
    # A native-order, writable copy: the bytes object is read-only and big-endian.
    return Tensor._make(arr.astype(dt.newbyteorder("="), copy=True))


def read_label_file(path: str | os.PathLike) -> Tensor:
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != _dtype.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"x should have 1 dimension instead of {x.ndim}")
    return x.long()


def read_image_file(path: str | os.PathLike) -> Tensor:
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != _dtype.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndim != 3:
        raise ValueError(f"x should have 3 dimension instead of {x.ndim}")
    return x


def _pil_image():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is the vision extra
        raise ImportError("ember.vision datasets return PIL images: pip install Pillow "
                          "(or ember[vision])") from None
    return Image


class MNIST(VisionDataset):
    """The MNIST dataset, following ``torchvision.datasets.MNIST``.

    Reads ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``; items are
    ``(PIL.Image mode 'L', int)``. ``data`` is a uint8 tensor (N, 28, 28), ``targets`` int64.
    ``download=True`` fetches the files that are missing from the mirrors, checks their md5 and
    unpacks them. A legacy ``processed/{training,test}.pt`` cache is read when present.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]
    # Directories searched after ``raw_folder`` (FashionMNIST adds Debian's install location).
    system_folders: list[str] = []

    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data

    def __init__(self, root: str | pathlib.Path, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if self._check_legacy_exist():
            self.data, self.targets = self._load_legacy_data()
            return
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(self._not_found_message())
        self.data, self.targets = self._load_data()

    # -- files -----------------------------------------------------------------------------
    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def _split_files(self) -> list[str]:
        """Uncompressed base names of the requested split's image and label files."""
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]

    def _locate(self, name: str) -> str | None:
        for folder in [self.raw_folder, *self.system_folders]:
            found = _find_file(os.path.join(folder, name))
            if found is not None:
                return found
        return None

    def _check_exists(self) -> bool:
        return all(self._locate(name) is not None for name in self._split_files())

    def _not_found_message(self) -> str:
        missing = [n for n in self._split_files() if self._locate(n) is None]
        where = self.raw_folder
        if self.system_folders:
            where += " (also searched: " + ", ".join(self.system_folders) + ")"
        return ("Dataset not found. You can use download=True to download it, or put "
                + " and ".join(f"{n}.gz" for n in missing) + " (gzipped or not) in " + where)

    def _check_legacy_exist(self) -> bool:
        if not os.path.exists(self.processed_folder):
            return False
        return all(os.path.isfile(os.path.join(self.processed_folder, f))
                   for f in (self.training_file, self.test_file))

    def _load_legacy_data(self):
        # Caches written by old torchvision versions: a (data, targets) pair of tensors.
        from ... import load
        name = self.training_file if self.train else self.test_file
        return load(os.path.join(self.processed_folder, name), weights_only=True)

    def _load_data(self):
        image_file, label_file = self._split_files()
        data = read_image_file(self._locate(image_file))
        targets = read_label_file(self._locate(label_file))
        if len(data) != len(targets):
            raise RuntimeError(f"{self._locate(image_file)} holds {len(data)} images but "
                               f"{self._locate(label_file)} holds {len(targets)} labels")
        return data, targets

    # -- items -----------------------------------------------------------------------------
    def _arrays(self):
        """NumPy views of ``data``/``targets`` (re-made if the attributes were replaced)."""
        cache = self.__dict__.get("_cache")
        if cache is None or cache[0] is not self.data or cache[1] is not self.targets:
            data, targets = self.data, self.targets
            d = data.numpy(force=True) if isinstance(data, Tensor) else np.asarray(data)
            t = targets.numpy(force=True) if isinstance(targets, Tensor) else np.asarray(targets)
            cache = (data, targets, d, t)
            # Only CPU tensors share memory with their NumPy view; others are re-read each time.
            if (not isinstance(data, Tensor) or data.device.type == "cpu") and \
                    (not isinstance(targets, Tensor) or targets.device.type == "cpu"):
                self.__dict__["_cache"] = cache
        return cache[2], cache[3]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_cache", None)  # views of data/targets: rebuilt after unpickling
        return state

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(PIL.Image mode 'L', int target)``, then the transforms."""
        data, targets = self._arrays()
        img = _pil_image().fromarray(data[index], mode="L")
        target = int(targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    # -- download --------------------------------------------------------------------------
    def download(self) -> None:
        """Download the files that are not present yet (both splits, as torchvision does)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if self._locate(filename[:-3] if filename.endswith(".gz") else filename):
                continue
            errors = []
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    print(f"Downloading {url}")
                    download_and_extract_archive(url, download_root=self.raw_folder,
                                                 filename=filename, md5=md5)
                except (URLError, OSError, RuntimeError) as error:
                    print(f"Failed to download (trying next):\n{error}")
                    errors.append(f"{url}: {error}")
                    continue
                break
            else:
                raise RuntimeError(
                    f"Error downloading {filename}:\n  " + "\n  ".join(errors)
                    + f"\nWithout network access, put {filename} (or its uncompressed form) "
                    f"in {self.raw_folder}")


class FashionMNIST(MNIST):
    """Fashion-MNIST, following ``torchvision.datasets.FashionMNIST``.

    When ``root/FashionMNIST/raw`` lacks the files, the copies installed by Debian's
    ``dataset-fashion-mnist`` package in ``/usr/share/datasets/fashion-mnist`` are used.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    system_folders = ["/usr/share/datasets/fashion-mnist"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST, following ``torchvision.datasets.KMNIST``."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """EMNIST, following ``torchvision.datasets.EMNIST``: ``split`` is one of byclass, bymerge,
    balanced, letters, digits, mnist; files ``emnist-<split>-<train|test>-*-ubyte[.gz]``."""

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # Letters whose upper and lower case look alike are merged in bymerge/balanced.
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root: str | pathlib.Path, split: str, **kwargs: Any) -> None:
        self.split = verify_str_arg(split, "split", self.splits)
        self.training_file = self._training_file(split)
        self.test_file = self._test_file(split)
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    @staticmethod
    def _training_file(split: str) -> str:
        return f"training_{split}.pt"

    @staticmethod
    def _test_file(split: str) -> str:
        return f"test_{split}.pt"

    @property
    def _file_prefix(self) -> str:
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    @property
    def images_file(self) -> str:
        return os.path.join(self.raw_folder, f"{self._file_prefix}-images-idx3-ubyte")

    @property
    def labels_file(self) -> str:
        return os.path.join(self.raw_folder, f"{self._file_prefix}-labels-idx1-ubyte")

    def _split_files(self) -> list[str]:
        return [os.path.basename(self.images_file), os.path.basename(self.labels_file)]

    def download(self) -> None:
        """Download EMNIST's zip (all splits), check its md5 and unpack the idx files."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        try:
            download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        except (URLError, OSError) as error:
            raise RuntimeError(f"Error downloading {self.url}: {error}\nWithout network access, "
                               f"put {self._file_prefix}-*-ubyte[.gz] in {self.raw_folder}"
                               ) from error
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for name in os.listdir(gzip_folder):
            if name.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, name), self.raw_folder)
        shutil.rmtree(gzip_folder)


class QMNIST(MNIST):
    """QMNIST, following ``torchvision.datasets.QMNIST``.

    ``what`` is train, test, test10k, test50k or nist; with ``compat=True`` targets are class
    numbers, otherwise the full int64 row of QMNIST's label table.
    """

    subsets = {"train": "train", "test": "test", "test10k": "test", "test50k": "test",
               "nist": "nist"}
    _base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    resources: dict[str, list[tuple[str, str]]] = {  # type: ignore[assignment]
        "train": [(_base + "qmnist-train-images-idx3-ubyte.gz",
                   "ed72d4157d28c017586c42bc6afe6370"),
                  (_base + "qmnist-train-labels-idx2-int.gz",
                   "0058f8dd561b90ffdd0f734c6a30e5e4")],
        "test": [(_base + "qmnist-test-images-idx3-ubyte.gz",
                  "1394631089c404de565df7b7aeaf9412"),
                 (_base + "qmnist-test-labels-idx2-int.gz",
                  "5b5b05890a5e13444e108efe57b788aa")],
        "nist": [(_base + "xnist-images-idx3-ubyte.xz", "7f124b3b8ab81486c9d8c2749c17f834"),
                 (_base + "xnist-labels-idx2-int.xz", "5ed0e788978e45d4a8bd4b7caec3d79d")],
    }
    classes = MNIST.classes

    def __init__(self, root: str | pathlib.Path, what: str | None = None, compat: bool = True,
                 train: bool = True, **kwargs: Any) -> None:
        if what is None:
            what = "train" if train else "test"
        self.what = verify_str_arg(what, "what", tuple(self.subsets.keys()))
        self.compat = compat
        self.data_file = what + ".pt"
        self.training_file = self.data_file
        self.test_file = self.data_file
        super().__init__(root, train, **kwargs)

    def _split_files(self) -> list[str]:
        return [os.path.splitext(os.path.basename(url))[0]
                for url, _ in self.resources[self.subsets[self.what]]]

    @property
    def images_file(self) -> str:
        return os.path.join(self.raw_folder, self._split_files()[0])

    @property
    def labels_file(self) -> str:
        return os.path.join(self.raw_folder, self._split_files()[1])

    def _load_data(self):
        data = read_sn3_pascalvincent_tensor(self.images_file)
        if data.dtype != _dtype.uint8:
            raise TypeError(f"data should be of dtype torch.uint8 instead of {data.dtype}")
        if data.ndim != 3:
            raise ValueError(f"data should have 3 dimensions instead of {data.ndim}")
        targets = read_sn3_pascalvincent_tensor(self.labels_file).long()
        if targets.ndim != 2:
            raise ValueError(f"targets should have 2 dimensions instead of {targets.ndim}")
        if self.what == "test10k":
            data, targets = data[0:10000].clone(), targets[0:10000].clone()
        elif self.what == "test50k":
            data, targets = data[10000:].clone(), targets[10000:].clone()
        return data, targets

    def download(self) -> None:
        """Download only the files of the requested subset (as torchvision)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for url, md5 in self.resources[self.subsets[self.what]]:
            try:
                download_and_extract_archive(url, self.raw_folder, md5=md5)
            except (URLError, OSError) as error:
                raise RuntimeError(f"Error downloading {url}: {error}\nWithout network access, "
                                   f"put {os.path.basename(url)} in {self.raw_folder}"
                                   ) from error

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        data, targets = self._arrays()
        img = _pil_image().fromarray(data[index], mode="L")
        if self.transform is not None:
            img = self.transform(img)
        if self.compat:
            target = int(targets[index][0])
        else:
            target = self.targets[index]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {self.what}"

