"""safetensors files (Hugging Face's tensor format), through the ``safetensors`` package's NumPy
API (``pip install ember[safetensors]``). The files are the same as ``safetensors.torch``
writes and reads."""

from __future__ import annotations

import os

from .. import _backend
from .._tensor import Tensor
from ._files import atomic_write


def _safetensors():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise RuntimeError("safetensors files need the safetensors package: pip install "
                           "safetensors (or ember[safetensors])") from None
    return safetensors


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Write a dict of tensors to ``path`` in the safetensors format, as
    ``safetensors.torch.save_file`` does (tensors are stored contiguous; views that share
    memory are stored as separate copies). ``metadata`` is a dict of str to str. The file is
    written atomically (temporary file, fsync, rename)."""
    st = _safetensors()
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors expects a dict of tensors, got "
                        f"{type(tensors).__name__}")
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("metadata must be a dict of str to str")
    arrays = {}
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, got {type(name).__name__}")
        if not isinstance(t, Tensor):
            raise TypeError(f"{name!r} is a {type(t).__name__}, not a tensor")
        if t.dtype.is_complex and t.dtype.itemsize == 16:
            raise ValueError(f"{name!r} has dtype {t.dtype}, which the safetensors format does "
                             "not support")
        a = _backend.to_device(t._data, _backend.CPU)
        arrays[name] = a if a.flags.c_contiguous else a.copy(order="C")  # keeps 0-d arrays 0-d
    with atomic_write(path, named=True) as tmp:
        st.numpy.save_file(arrays, tmp, metadata=metadata)


def load_safetensors(path, device="cpu") -> dict:
    """The tensors of a safetensors file, as a dict ``{name: tensor}`` on ``device``, as
    ``safetensors.torch.load_file`` returns them; ``Module.load_state_dict`` accepts it."""
    st = _safetensors()
    d = _backend.canonical_device(device)
    if not os.path.exists(os.fspath(path)):
        raise FileNotFoundError(f"No such file or directory: {os.fspath(path)!r}")
    try:
        arrays = st.numpy.load_file(path)
    except (st.SafetensorError, KeyError, ValueError) as e:
        raise RuntimeError(f"{os.fspath(path)}: not a readable safetensors file ({e})") from None
    out = {}
    for name, a in arrays.items():
        if not a.flags.writeable:
            a = a.copy()  # ember tensors may be written in place
        out[name] = Tensor._make(_backend.to_device(a, d))
    return out
