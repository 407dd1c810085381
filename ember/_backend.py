"""Array modules per device, device objects and random-number generators.

This is the only module that imports CuPy. ``cpu`` tensors hold NumPy arrays; ``cuda`` tensors
hold CuPy arrays. Ops ask for the module with ``xp = array_module(x)`` and never test for CuPy.
"""

from __future__ import annotations

import contextlib
import json
import os

import numpy as np

__all__ = ["device", "array_module", "Generator", "is_cuda_available", "cuda_device_count",
           "rng_for", "default_generator_for"]

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


def nccl_module():
    """CuPy's NCCL bindings (``cupy.cuda.nccl``) for ``ember.distributed``'s nccl backend."""
    cupy_module()
    try:
        from cupy.cuda import nccl
    except ImportError as e:  # CuPy built without NCCL
        raise RuntimeError("Distributed package doesn't have NCCL built in: CuPy's "
                           "cupy.cuda.nccl is unavailable") from e
    if not getattr(nccl, "available", True):
        raise RuntimeError("Distributed package doesn't have NCCL built in: CuPy found no "
                           "NCCL library")
    return nccl


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

DEFAULT_SEED = 67280421310721  # PyTorch's initial seed of a new Generator
_U64 = 1 << 64


def _mix64(seed: int, counter: int) -> int:
    """SplitMix64 of (seed, counter): a well-spread 64-bit seed for one CUDA draw."""
    z = (seed + (counter + 1) * 0x9E3779B97F4A7C15) % _U64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % _U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % _U64
    return z ^ (z >> 31)


class _CupyRandom:
    """The NumPy ``Generator`` methods ember uses, on one GPU.

    Every call draws from cuRAND's Philox seeded with ``mix(seed, offset)`` and then bumps the
    offset, so the whole stream state is two integers (PyTorch's CUDA generators also keep a
    seed and a Philox offset). That makes ``get_state``/``set_state`` exact and cheap.
    """

    def __init__(self, owner: Generator):
        self._owner = owner
        self._rs = None

    def _next(self):
        cp = cupy_module()
        o = self._owner
        if self._rs is None:
            with cp.cuda.Device(o.device.index):
                self._rs = cp.random.RandomState(
                    method=cp.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
        self._rs.seed(np.uint64(_mix64(o._seed, o._offset)))
        o._offset += 1
        return self._rs

    def _dev(self):
        return cupy_module().cuda.Device(self._owner.device.index)

    def random(self, size=None, dtype=np.float64):
        with self._dev():
            return self._next().random_sample(size, dtype)

    def standard_normal(self, size=None, dtype=np.float64):
        with self._dev():
            return self._next().standard_normal(size, dtype)

    def standard_exponential(self, size=None, dtype=np.float64):
        with self._dev():
            return self._next().standard_exponential(size, dtype)

    def uniform(self, low=0.0, high=1.0, size=None):
        with self._dev():
            return self._next().uniform(low, high, size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        with self._dev():
            return self._next().normal(loc, scale, size)

    def exponential(self, scale=1.0, size=None):
        with self._dev():
            return self._next().exponential(scale, size)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        if high is None:
            low, high = 0, low
        if endpoint:
            high += 1
        with self._dev():
            return self._next().randint(low, high, size, dtype=np.int64).astype(dtype,
                                                                                copy=False)

    def poisson(self, lam=1.0, size=None):
        with self._dev():
            return self._next().poisson(lam, size, dtype=np.int64)

    def permutation(self, n):
        with self._dev():
            return self._next().permutation(n)


class Generator:
    """``torch.Generator``: an independent random stream for one device.

    CPU streams use NumPy's PCG64; CUDA streams use cuRAND's Philox (see ``_CupyRandom``).
    Matching PyTorch's numbers is not a goal: the same seed gives the same numbers in ember, and
    ``get_state``/``set_state`` restore a stream exactly. ``Generator.rng`` is what ember's
    samplers draw from: a ``numpy.random.Generator`` on the CPU and an object with the same
    methods on CUDA.
    """

    def __init__(self, device: str | device | int = "cpu"):
        d = globals()["device"](device)
        if d.type == "cuda":
            if not is_cuda_available():
                raise RuntimeError("Cannot get CUDA generator: ember found no CuPy installation "
                                   "with a usable GPU")
            d = canonical_device(d)
        elif d.type == "cpu":
            d = CPU  # PyTorch drops the index of a CPU generator ('cpu:0' -> 'cpu')
        else:
            raise RuntimeError(f"ember has no random-number generator for device type "
                               f"'{d.type}'")
        self._device = d
        self._seed = DEFAULT_SEED
        self._offset = 0
        self._reset()

    @property
    def device(self) -> device:
        return self._device

    def _reset(self) -> None:
        self._offset = 0
        if self._device.type == "cuda":
            self._rng = _CupyRandom(self)
        else:
            self._rng = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def rng(self):
        """The NumPy (or NumPy-like CuPy) generator that ember's random functions draw from."""
        return self._rng

    def manual_seed(self, seed) -> Generator:
        """Reset the stream from ``seed`` (any int in [-2**63, 2**64); negatives wrap)."""
        seed = int(seed)
        if seed < -(1 << 63) or seed >= _U64:
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed % _U64
        self._reset()
        return self

    def seed(self) -> int:
        """Re-seed from a non-deterministic source and return the new seed."""
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The full stream state as a uint8 tensor (``torch.ByteTensor`` in PyTorch)."""
        from ._tensor import Tensor

        payload = {"device": self._device.type, "seed": self._seed}
        if self._device.type == "cuda":
            payload["offset"] = self._offset
        else:
            payload["state"] = self._rng.bit_generator.state
        raw = np.frombuffer(json.dumps(payload).encode(), dtype=np.uint8).copy()
        return Tensor._make(raw)

    def set_state(self, new_state) -> Generator:
        """Restore a state made by ``get_state`` (a uint8 CPU tensor)."""
        from ._tensor import Tensor

        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got "
                            f"{type(new_state).__name__}")
        if new_state._data.dtype != np.uint8 or not isinstance(new_state._data, np.ndarray):
            raise TypeError("RNG state must be a torch.ByteTensor")
        try:
            payload = json.loads(new_state._data.tobytes().decode())
            seed = int(payload["seed"])
            kind = payload["device"]
            state = payload.get("state")
            offset = int(payload.get("offset", 0))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
            raise RuntimeError(f"Invalid generator state of {new_state.numel()} bytes: expected "
                               "a state returned by Generator.get_state()") from None
        if kind != self._device.type:
            raise RuntimeError(f"Invalid generator state: it was saved from a '{kind}' "
                               f"generator, this one is on '{self._device.type}'")
        old = (self._seed, self._rng)
        self._seed = seed
        self._reset()
        if state is not None:
            try:
                self._rng.bit_generator.state = state
            except (ValueError, TypeError, KeyError):
                self._seed, self._rng = old
                raise RuntimeError("Invalid generator state: the PCG64 state is malformed") \
                    from None
        self._offset = offset
        return self

    def clone_state(self) -> Generator:
        """A new generator on the same device whose stream continues from this one's state."""
        g = Generator(self._device)
        g.set_state(self.get_state())
        return g

    def __getstate__(self):
        return {"device": str(self._device), "state": self.get_state()._data}

    def __setstate__(self, st):
        from ._tensor import Tensor

        self.__init__(st["device"])
        self.set_state(Tensor._make(st["state"]))

    def __deepcopy__(self, memo):
        return self.clone_state()


_default_generators: dict = {}


def default_generator_for(d: device = CPU) -> Generator:
    """The process-wide generator of device ``d`` (``torch.default_generator`` for the CPU)."""
    g = _default_generators.get(d)
    if g is None:
        if d.type == "cuda":
            d = canonical_device(d)
            g = _default_generators.get(d)
            if g is not None:
                return g
        g = _default_generators[d] = Generator(d)
        if d.type == "cpu":
            g.seed()  # PyTorch seeds its CPU default generator non-deterministically at startup
    return g


def rng_for(d: device, generator: Generator | None):
    """The generator to draw from for a tensor on device ``d``: a ``numpy.random.Generator`` on
    the CPU, an object with the same sampling methods on CUDA."""
    if generator is None:
        if d.type == "cpu":
            return default_generator_for(CPU)._rng
        return default_generator_for(d)._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a torch.Generator, but got {type(generator).__name__}")
    if generator._device.type != d.type:
        raise RuntimeError(f"Expected a '{d.type}' device type for generator but found "
                           f"'{generator._device.type}'")
    return generator._rng
