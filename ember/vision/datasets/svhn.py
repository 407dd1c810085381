"""SVHN (cropped digits), following ``torchvision.datasets.SVHN``.

torchvision reads the ``.mat`` files with SciPy; ember reads them itself (``_loadmat``: the
MATLAB 5 format's numeric arrays, plain or zlib-compressed), so SciPy is not needed.
"""

from __future__ import annotations

import os
import pathlib
import zlib
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import numpy as np

from .mnist import _pil_image
from .utils import check_integrity, download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ["SVHN"]

# MATLAB 5 data types (element tags) and array classes (array flags) used for numeric arrays.
_MI_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8",
             13: "u8"}
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MX_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4",
               14: "i8", 15: "u8"}


def _elements(buf: bytes, endian: str, path: str):
    """Yield (type, payload) for each data element in ``buf``."""
    pos = 0
    while pos + 8 <= len(buf):
        mtype, nbytes = np.frombuffer(buf, endian + "u4", 2, pos)
        mtype, nbytes = int(mtype), int(nbytes)
        if mtype >> 16:  # small element: type and size share the first word, data the second
            yield mtype & 0xFFFF, buf[pos + 4: pos + 4 + (mtype >> 16)]
            pos += 8
            continue
        end = pos + 8 + nbytes
        if end > len(buf):
            raise RuntimeError(f"{path} is truncated (an element needs {nbytes} bytes, "
                               f"{len(buf) - pos - 8} remain)")
        yield mtype, buf[pos + 8: end]
        # Elements are padded to 8 bytes, except compressed ones.
        pos = end if mtype == _MI_COMPRESSED else end + (-nbytes % 8)


def _read_matrix(payload: bytes, endian: str, path: str) -> tuple[str, np.ndarray | None]:
    parts = list(_elements(payload, endian, path))
    if len(parts) < 4:
        raise RuntimeError(f"{path}: malformed MATLAB array element")
    flags = np.frombuffer(parts[0][1], endian + "u4")
    mx = int(flags[0]) & 0xFF
    dims = tuple(int(d) for d in np.frombuffer(parts[1][1], endian + "i4"))
    name = parts[2][1].decode("latin1")
    if mx not in _MX_CLASSES:  # cells, structs, sparse, chars: not numeric, not needed here
        return name, None
    if parts[3][0] not in _MI_TYPES:
        raise RuntimeError(f"{path}: unsupported MATLAB data type {parts[3][0]}")
    data = np.frombuffer(parts[3][1], endian + _MI_TYPES[parts[3][0]])
    if data.size != int(np.prod(dims)):
        raise RuntimeError(f"{path}: array {name!r} declares shape {dims} but holds "
                           f"{data.size} values")
    # MATLAB stores column-major; values may be stored in a smaller type than their class.
    return name, data.astype(np.dtype(_MX_CLASSES[mx]).newbyteorder("=")).reshape(dims, order="F")


def _loadmat(path: str) -> dict[str, np.ndarray]:
    """The numeric arrays of a MATLAB 5 ``.mat`` file, by name (like ``scipy.io.loadmat``)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 128:
        raise RuntimeError(f"{path} is not a MATLAB 5 file (only {len(raw)} bytes)")
    endian = {b"IM": "<", b"MI": ">"}.get(raw[126:128])
    if endian is None:
        raise RuntimeError(f"{path} is not a MATLAB 5 .mat file (v7.3/HDF5 files need SciPy's "
                           "or h5py's reader)")
    out = {}
    for mtype, payload in _elements(raw[128:], endian, path):
        if mtype == _MI_COMPRESSED:
            try:
                payload = zlib.decompress(payload)
            except zlib.error as e:
                raise RuntimeError(f"{path} is corrupt: {e}") from e
            for inner_type, inner in _elements(payload, endian, path):
                if inner_type == _MI_MATRIX:
                    name, arr = _read_matrix(inner, endian, path)
                    if arr is not None:
                        out[name] = arr
        elif mtype == _MI_MATRIX:
            name, arr = _read_matrix(payload, endian, path)
            if arr is not None:
                out[name] = arr
    return out


class SVHN(VisionDataset):
    """SVHN: ``root/{train,test,extra}_32x32.mat``; items ``(PIL.Image RGB, int)``.

    ``data`` is uint8 (N, 3, 32, 32), ``labels`` int64 with the digit 0 stored as 0 (the files
    use 10), as in torchvision.
    """

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root: str | pathlib.Path, split: str = "train",
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list.keys()))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to "
                               f"download it, or put {self.filename} in {self.root}")
        path = os.path.join(self.root, self.filename)
        mat = _loadmat(path)
        if "X" not in mat or "y" not in mat:
            raise RuntimeError(f"{path} lacks the 'X' and 'y' arrays of an SVHN file")
        self.data = np.transpose(mat["X"], (3, 2, 0, 1))
        self.labels = mat["y"].astype(np.int64).reshape(-1)
        # The files label the digit 0 as 10.
        np.place(self.labels, self.labels == 10, 0)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img, target = self.data[index], int(self.labels[index])
        img = _pil_image().fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _check_integrity(self) -> bool:
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self) -> None:
        try:
            download_url(self.url, self.root, self.filename, self.file_md5)
        except (URLError, OSError) as error:
            raise RuntimeError(f"Error downloading {self.url}: {error}\nWithout network access, "
                               f"put {self.filename} in {self.root}") from error

    def extra_repr(self) -> str:
        return "Split: {split}".format(**self.__dict__)
