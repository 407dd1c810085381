"""CIFAR10 and CIFAR100, following ``torchvision.datasets.CIFAR10/CIFAR100``.

Reads the Python-pickle batches of ``ROOT/cifar-10-batches-py/`` (``ROOT/cifar-100-python/``),
the directory the official tarball unpacks to. ``data`` is a uint8 NumPy array (N, 32, 32, 3)
and ``targets`` a list of ints, as in torchvision.
"""

from __future__ import annotations

import os
import pathlib
import pickle
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import numpy as np

from .mnist import _pil_image
from .utils import check_integrity, download_and_extract_archive
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]


def _load_pickle(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as e:
        raise RuntimeError(f"Could not read CIFAR batch {path}: {e}") from e


class CIFAR10(VisionDataset):
    """CIFAR-10: ``root/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}``.

    Only the requested split's batches (and the meta file) must be present; each is checked
    against its md5. Items are ``(PIL.Image RGB 32x32, int)``.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root: str | pathlib.Path, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            bad = [n for n, md5 in self._files()
                   if not check_integrity(os.path.join(self.root, self.base_folder, n), md5)]
            raise RuntimeError(
                "Dataset not found or corrupted. You can use download=True to download it, or "
                f"unpack {self.filename} in {self.root} (missing or corrupt: "
                f"{', '.join(os.path.join(self.root, self.base_folder, n) for n in bad)})")
        batches = self.train_list if self.train else self.test_list
        data, targets = [], []
        for name, _ in batches:
            entry = _load_pickle(os.path.join(self.root, self.base_folder, name))
            data.append(entry["data"])
            targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        # Batches store each image as 3 planes of 32x32; items are HWC like PIL wants.
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self.targets = targets
        self._load_meta()

    def _files(self) -> list[tuple[str, str]]:
        split = self.train_list if self.train else self.test_list
        return [*[(n, m) for n, m in split], (self.meta["filename"], self.meta["md5"])]

    def _load_meta(self) -> None:
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use "
                               "download=True to download it")
        self.classes = _load_pickle(path)[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img, target = self.data[index], self.targets[index]
        img = _pil_image().fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _check_integrity(self) -> bool:
        return all(check_integrity(os.path.join(self.root, self.base_folder, n), md5)
                   for n, md5 in self._files())

    def download(self) -> None:
        """Download and unpack the tarball unless the split's files are already intact."""
        if self._check_integrity():
            return
        try:
            download_and_extract_archive(self.url, self.root, filename=self.filename,
                                         md5=self.tgz_md5)
        except (URLError, OSError) as error:
            raise RuntimeError(f"Error downloading {self.url}: {error}\nWithout network access, "
                               f"put {self.filename} in {self.root} or unpack it there "
                               f"(giving {os.path.join(self.root, self.base_folder)})"
                               ) from error

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 (fine labels): ``root/cifar-100-python/{train,test,meta}``."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}
