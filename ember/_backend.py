"""Array modules per device, device objects and random-number generators.

This is the only module that imports CuPy. ``cpu`` tensors hold NumPy arrays; ``cuda`` tensors
hold CuPy arrays. Ops ask for the module with ``xp = array_module(x)`` and never test for CuPy.
"""

from __future__ import annotations

import contextlib
import json
import os

import numpy as np

__all__ = ["device", "array_module", "Generator", "is_cuda_available", "cuda_device_count"]

_cupy = None
_cupy_tried = False


def _load_cupy():
    """Import CuPy once; returns the module or None when it or a GPU is missing."""
    global _cupy, _cupy_tried
    if not _cupy_tried:
        _cupy_tried = True
        if os.environ.get("EMBER_DISABLE_CUDA"):
            return None
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # no CuPy, no driver, or no device: ember runs on the CPU only
            _cupy = None
    return _cupy


def is_cuda_available() -> bool:
    return _load_cupy() is not None


def cuda_device_count() -> int:
    cp = _load_cupy()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


def cupy_module():
    """CuPy, or a RuntimeError phrased like PyTorch's when CUDA is unusable."""
    cp = _load_cupy()
    if cp is None:
        # PyTorch's CPU builds raise AssertionError here; scripts that catch it keep working.
        raise AssertionError("Torch not compiled with CUDA enabled: ember found no CuPy "
                             "installation with a usable GPU (pip install ember[cuda])")
    return cp


_ndarray = np.ndarray


def array_module(x):
    """The array module (numpy or cupy) that owns array ``x``."""
    if type(x) is _ndarray or isinstance(x, (np.ndarray, np.generic)):
        return np
    return cupy_module()


def is_numpy(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


# ---------------------------------------------------------------------------------------------
# device
# ---------------------------------------------------------------------------------------------

_DEVICE_TYPES = ("cpu", "cuda", "meta")


class device:
    """``torch.device``: a device type and optional index (``cpu``, ``cuda``, ``cuda:1``)."""

    __slots__ = ("type", "index")

    def __new__(cls, type=None, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            if index is None:
                return type
            type = type.type
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({type.__class__.__name__})")
        key = (type, index)
        cached = _DEVICE_CACHE.get(key)
        if cached is not None:
            return cached
        name = type
        if ":" in name:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {name}")
            name, _, idx = name.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of cpu, cuda, meta device type at start of device "
                               f"string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self = object.__new__(cls)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)
        if len(_DEVICE_CACHE) < 64:
            _DEVICE_CACHE[key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError("attribute '%s' of 'torch.device' objects is not writable" % name)

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (str(self),))


_DEVICE_CACHE: dict = {}
CPU = device("cpu")


def device_of(arr) -> device:
    """The ember device that holds array ``arr``."""
    if isinstance(arr, (np.ndarray, np.generic)):
        return CPU
    return device("cuda", int(arr.device.id))


def canonical_device(d) -> device:
    """``cuda`` without an index means the current CUDA device, as in PyTorch."""
    d = device(d)
    if d.type == "cuda" and d.index is None:
        return device("cuda", int(cupy_module().cuda.runtime.getDevice()))
    return d


def module_for(d: device):
    if d.type == "cpu":
        return np
    if d.type == "cuda":
        return cupy_module()
    raise RuntimeError(f"ember has no array module for device type '{d.type}'")


@contextlib.contextmanager
def on_device(d: device):
    """Make ``d`` current while arrays are allocated (CuPy allocates on its current device)."""
    if d.type == "cuda":
        with cupy_module().cuda.Device(d.index or 0):
            yield
    else:
        yield


def to_device(arr, d: device):
    """Copy ``arr`` to device ``d`` (no copy when it is already there)."""
    if d.type == "cpu":
        if isinstance(arr, (np.ndarray, np.generic)):
            return arr
        return arr.get()
    if d.type == "cuda":
        cp = cupy_module()
        idx = d.index or 0
        if not isinstance(arr, (np.ndarray, np.generic)) and arr.device.id == idx:
            return arr
        with cp.cuda.Device(idx):
            return cp.asarray(arr)
    raise RuntimeError(f"unsupported device {d}")


# ---------------------------------------------------------------------------------------------
# Random-number generators
# ---------------------------------------------------------------------------------------------

DEFAULT_SEED = 67280421310721  # PyTorch's default initial seed


class Generator:
    """``torch.Generator``: an independent random stream for one device.

    CPU streams use NumPy's PCG64. Matching PyTorch's numbers is not a goal; the same seed gives
    the same numbers in ember, and ``get_state``/``set_state`` restore a stream exactly.
    """

    def __init__(self, device: str | device = "cpu"):
        self.device = globals()["device"](device)
        if self.device.type == "cuda" and self.device.index is None:
            self.device = canonical_device(self.device)
        self._seed = DEFAULT_SEED
        self._reset()

    def _reset(self):
        if self.device.type == "cuda":
            cp = cupy_module()
            with cp.cuda.Device(self.device.index):
                self._rng = cp.random.RandomState(self._seed % (2**63))
        else:
            self._rng = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def rng(self):
        """The underlying NumPy/CuPy generator that ember's random functions draw from."""
        return self._rng

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if seed < -(2**63) or seed >= 2**64:
            raise RuntimeError("Overflow when unpacking long")
        self._seed = seed % (2**64)
        self._reset()
        return self

    def seed(self) -> int:
        """Re-seed from a non-deterministic source and return the new seed."""
        s = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The full stream state as a uint8 tensor (``torch.ByteTensor`` in PyTorch)."""
        from ._tensor import Tensor

        if self.device.type == "cuda":
            payload = {"seed": self._seed, "cuda": True}
        else:
            payload = {"seed": self._seed, "state": self._rng.bit_generator.state}
        raw = np.frombuffer(json.dumps(payload).encode(), dtype=np.uint8).copy()
        return Tensor._make(raw)

    def set_state(self, new_state) -> Generator:
        from ._tensor import Tensor

        if not isinstance(new_state, Tensor) or new_state.dtype._name != "uint8":
            raise TypeError("expected a torch.ByteTensor, but got "
                            f"{type(new_state).__name__}")
        try:
            payload = json.loads(bytes(np.asarray(new_state._data).tobytes()).decode())
            seed = int(payload["seed"])
        except (ValueError, KeyError, UnicodeDecodeError) as e:
            raise RuntimeError("Invalid generator state: not a state made by get_state()") from e
        self._seed = seed
        self._reset()
        if "state" in payload:
            self._rng.bit_generator.state = payload["state"]
        return self

    def __getstate__(self):
        return {"device": str(self.device), "state": self.get_state()._data}

    def __setstate__(self, st):
        from ._tensor import Tensor

        self.__init__(st["device"])
        self.set_state(Tensor._make(st["state"]))


_default_generators: dict = {}


def default_generator(d: device = CPU) -> Generator:
    """The process-wide generator of device ``d`` (``torch.default_generator`` for the CPU)."""
    g = _default_generators.get(d)
    if g is None:
        g = _default_generators[d] = Generator(d)
    return g


def rng_for(d: device, generator: Generator | None):
    """The raw NumPy/CuPy generator to draw from for a tensor on device ``d``."""
    if generator is None:
        if d.type == "cuda":
            d = canonical_device(d)
        return default_generator(d)._rng
    if generator.device.type != d.type:
        raise RuntimeError(f"Expected a '{d.type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator._rng
