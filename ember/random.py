"""``torch.random``: seeding and state of the default random-number generators.

``manual_seed`` and ``seed`` act on the CPU generator and on every CUDA device, as in PyTorch;
``get_rng_state``/``set_rng_state``/``initial_seed`` are about the CPU generator only.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator

from . import _backend
from ._backend import CPU, Generator
from ._tensor import Tensor

__all__ = ["set_rng_state", "get_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng",
           "Generator", "default_generator"]

#: ``torch.default_generator``: the CPU generator behind every sampler without ``generator=``.
default_generator: Generator = _backend.default_generator_for(CPU)


def manual_seed(seed) -> Generator:
    """Seed the CPU generator and every CUDA device's generator; returns the CPU generator.

    ``seed`` must lie in [-2**63, 2**64); negative seeds wrap around as in PyTorch.
    """
    seed = int(seed)
    from . import cuda

    cuda.manual_seed_all(seed)
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed every generator from a non-deterministic source; returns the 64-bit seed used."""
    s = default_generator.seed()
    from . import cuda

    cuda.manual_seed_all(s)
    return s


def initial_seed() -> int:
    """The seed the CPU generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The CPU generator's state as a uint8 tensor (``torch.ByteTensor``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the CPU generator from a state returned by ``get_rng_state``."""
    default_generator.set_state(new_state)


_fork_rng_warned = False


@contextlib.contextmanager
def fork_rng(devices: Iterable | None = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Restore the CPU generator (and those of ``devices``, by default every CUDA device) to
    their current state when the block exits, like ``torch.random.fork_rng``."""
    global _fork_rng_warned
    if device_type == "meta" or not enabled:
        yield
        return
    if device_type != "cuda":
        raise RuntimeError(f"torch has no module of `{device_type}`, you should register a "
                           "module by `torch._register_device_module`.")
    from . import cuda

    if devices is None:
        n = cuda.device_count()
        if n > 1 and not _fork_rng_warned:
            warnings.warn(f"CUDA reports that you have {n} available devices, and you have used "
                          f"{_caller} without explicitly specifying which devices are being "
                          "used. For safety, we initialize *every* CUDA device by default, "
                          f"which can be quite slow. Set the '{_devices_kw}' keyword argument "
                          f"of {_caller} to the devices you use (e.g. devices=[0]) to silence "
                          "this warning.", UserWarning, stacklevel=3)
            _fork_rng_warned = True
        devices = list(range(n))
    else:
        devices = list(devices)
    cpu_state = get_rng_state()
    device_states = [cuda.get_rng_state(d) for d in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for d, st in zip(devices, device_states):
            cuda.set_rng_state(st, d)
