"""Shared pieces of the serialization tests: the seeds' models in either library, objects to
save built identically in both, and structural comparison of what each library loaded."""

from __future__ import annotations

import zipfile
from collections import OrderedDict

import numpy as np

import ember
from tests.oracle import torch

# the classes of either library (PyTorch's only where it is installed)
TENSORS = (ember.Tensor,) if torch is None else (ember.Tensor, torch.Tensor)
PARAMETERS = (ember.nn.Parameter,) if torch is None else (ember.nn.Parameter, torch.nn.Parameter)
SIZES = (ember.Size,) if torch is None else (ember.Size, torch.Size)
TYPES = (ember.dtype, ember.device) if torch is None else (ember.dtype, ember.device,
                                                            torch.dtype, torch.device)

# every ember dtype, by name (torch has the same names)
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


def mnist_cnn(lib):
    """PyTorch's MNIST example network: conv 32/64, fc 9216 -> 128 -> 10."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = F.relu(self.fc1(lib.flatten(self.dropout1(x), 1)))
            return F.log_softmax(self.fc2(self.dropout2(x)), dim=1)

    return Net()


def mlp(lib):
    """A 784-128-64-10 MLP."""
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64),
                         nn.ReLU(), nn.Linear(64, 10))


def lenet(lib):
    """LeNet-5 for 28x28 inputs, with batch norm (so the state dict has buffers too)."""
    nn = lib.nn

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                                            nn.ReLU(), nn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(lib.flatten(self.features(x), 1))

    return LeNet()


MODELS = [mnist_cnn, mlp, lenet]


def array(dtype: str, shape, seed: int = 0) -> np.ndarray:
    """Random data of an ember dtype (bfloat16 as its ml_dtypes array)."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return np.asarray(rng.integers(info.min, info.max, size=shape, dtype=dtype,
                                       endpoint=True))
    if dtype.startswith("complex"):
        return np.asarray(rng.standard_normal(shape) + 1j * rng.standard_normal(shape),
                          dtype=dtype)
    return np.asarray(rng.standard_normal(shape), dtype=ember._dtype._BY_NAME[dtype].numpy_dtype)


def tensor(lib, a: np.ndarray):
    """A tensor of ``lib`` holding exactly ``a`` (bfloat16 by bit pattern)."""
    if a.dtype == ember._dtype._BF16_NP:
        if lib is ember:
            return ember.Tensor._make(a.copy())
        return torch.from_numpy(a.view(np.int16).copy()).view(torch.bfloat16)
    return lib.from_numpy(a.copy())


def sample(lib, dtype: str = "float32"):
    """A nested structure exercising what checkpoints hold: views sharing storage (slices,
    transposes, an expanded zero-stride view, a dtype-preserving reshape), 0-d and empty
    tensors, a Parameter, and non-tensor values, built identically in either library."""
    base = tensor(lib, array(dtype, (4, 6)))
    other = tensor(lib, array(dtype, (5,), seed=1))
    return OrderedDict(
        base=base,
        views=[base[1:3], base.t(), base[:, ::2], base.reshape(24)[5:17].reshape(3, 4)],
        nested={"row": (base[2], other[1:]), "expanded": other[:1].expand(3, 4)},
        scalar=tensor(lib, array(dtype, ())),
        empty=lib.zeros(0, 3, dtype=getattr(lib, dtype)),
        param=lib.nn.Parameter(tensor(lib, array("float32", (2, 3), seed=2))),
        frozen=lib.nn.Parameter(tensor(lib, array("float32", (2,), seed=3)),
                                requires_grad=False),
        meta={"size": lib.Size([2, 3]), "dtype": getattr(lib, dtype),
              "device": lib.device("cpu"), "epoch": 3, "lr": 0.125, "name": "ckpt",
              "flags": [True, None], "blob": b"\x00\xff"},
    )


def tensors_in(obj) -> list:
    """The tensors of a nested structure, in traversal order."""
    out = []
    stack = [obj]
    while stack:
        o = stack.pop(0)
        if isinstance(o, TENSORS):
            out.append(o)
        elif isinstance(o, dict):
            stack[:0] = list(o.values())
        elif isinstance(o, (list, tuple)) and not isinstance(o, SIZES):
            stack[:0] = list(o)
    return out


def sharing(obj) -> list:
    """For each tensor, the index of the first tensor with the same storage: the sharing
    pattern, comparable across libraries."""
    ptrs = [t.untyped_storage().data_ptr() for t in tensors_in(obj)]
    return [ptrs.index(p) for p in ptrs]


def bits(t) -> np.ndarray:
    """The values of a tensor of either library, bit for bit (as unsigned ints)."""
    if not isinstance(t, ember.Tensor):
        t = t.detach().resolve_conj().resolve_neg()
        a = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy()
    else:
        a = np.asarray(t.detach()._data)
    a = np.ascontiguousarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.itemsize in (1, 2, 4, 8) else \
        a.view(np.uint64)


def assert_same(e, t, where: str = "obj") -> None:
    """``e`` (ember) and ``t`` (torch) hold the same structure, types, values bit for bit,
    shapes, strides, storage offsets and requires_grad; ``t`` may also be ember's."""
    if isinstance(t, TENSORS):
        assert isinstance(e, ember.Tensor), f"{where}: {type(e).__name__} is not a tensor"
        is_param = isinstance(t, PARAMETERS)
        assert isinstance(e, ember.nn.Parameter) == is_param, f"{where}: Parameter-ness"
        assert str(e.dtype) == str(t.dtype), f"{where}: dtype {e.dtype} != {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{where}: shape {e.shape} != {t.shape}"
        assert e.stride() == t.stride(), f"{where}: stride {e.stride()} != {t.stride()}"
        assert e.storage_offset() == t.storage_offset(), f"{where}: storage offset"
        assert e.requires_grad == t.requires_grad, f"{where}: requires_grad"
        np.testing.assert_array_equal(bits(e), bits(t), err_msg=f"{where}: values")
        return
    if isinstance(t, dict):
        assert isinstance(e, dict) and type(e).__name__ == type(t).__name__, \
            f"{where}: {type(e).__name__} vs {type(t).__name__}"
        assert list(e) == list(t), f"{where}: keys {list(e)} != {list(t)}"
        for k in t:
            assert_same(e[k], t[k], f"{where}[{k!r}]")
        assert getattr(e, "_metadata", None) == getattr(t, "_metadata", None), \
            f"{where}: _metadata"
        return
    if isinstance(t, SIZES):
        assert isinstance(e, ember.Size) and tuple(e) == tuple(t), f"{where}: {e} != {t}"
        return
    if isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), f"{where}: {e!r} vs {t!r}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f"{where}[{i}]")
        return
    if isinstance(t, TYPES):
        assert str(e) == str(t) and type(e).__name__ == type(t).__name__, f"{where}: {e} != {t}"
        return
    assert type(e) is type(t) and e == t, f"{where}: {e!r} != {t!r}"


def data_offsets(path_or_buf) -> dict:
    """Record name -> offset of its data in the archive."""
    with zipfile.ZipFile(path_or_buf) as zf:
        fp = zf.fp
        out = {}
        for info in zf.infolist():
            fp.seek(info.header_offset + 26)
            n, m = np.frombuffer(fp.read(4), "<u2")
            out[info.filename] = info.header_offset + 30 + int(n) + int(m)
        return out
