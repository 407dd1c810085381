"""Where storages live: the tag saved with each storage (``'cpu'``, ``'cuda:1'``) and how a
loaded storage is put back there, through PyTorch's ``register_package`` registry."""

from __future__ import annotations

from .. import _backend
from ..storage import TypedStorage, UntypedStorage

_package_registry: list = []


def register_package(priority: int, tagger, deserializer) -> None:
    """``torch.serialization.register_package``: ``tagger(storage)`` names a storage's location
    when saving, ``deserializer(storage, location)`` restores it when loading; both are tried in
    ``priority`` order (lower first) until one returns something other than None."""
    _package_registry.append((priority, tagger, deserializer))
    _package_registry.sort(key=lambda entry: entry[0])


def location_tag(storage) -> str:
    """``torch.serialization.location_tag``: ``'cpu'``, ``'cuda:0'``, ..."""
    for _, tagger, _ in _package_registry:
        location = tagger(storage)
        if location:
            return location
    raise RuntimeError(f"don't know how to determine data location of {type(storage).__name__}")


def default_restore_location(storage, location: str):
    """``torch.serialization.default_restore_location``: ``storage`` (loaded on the CPU) moved
    to ``location`` by the first registered deserializer that accepts it."""
    for _, _, deserializer in _package_registry:
        result = deserializer(storage, location)
        if result is not None:
            return result
    raise RuntimeError(f"don't know how to restore data location of "
                       f"torch.storage.{type(storage).__name__} (tagged with {location})")


def _cpu_tag(storage):
    if storage.device.type == "cpu":
        return "cpu"
    return None


def _cuda_tag(storage):
    d = storage.device
    if d.type == "cuda":
        return f"cuda:{d.index or 0}"
    return None


def _cpu_deserialize(storage, location: str):
    if location == "cpu":
        return storage.cpu()
    return None


def validate_cuda_device(location) -> int:
    """The CUDA device index a location names, with PyTorch's errors when there is none."""
    d = _backend.device(location)
    if not _backend.is_cuda_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "torch.cuda.is_available() is False. If you are running on a CPU-only "
                           "machine, please use torch.load with map_location=torch.device('cpu') "
                           "to map your storages to the CPU.")
    index = _backend.canonical_device(d).index
    count = _backend.cuda_device_count()
    if index >= count:
        raise RuntimeError(f"Attempting to deserialize object on CUDA device {index} but "
                           f"torch.cuda.device_count() is {count}. Please use torch.load with "
                           "map_location to map your storages to an existing device.")
    return index


def _cuda_deserialize(storage, location: str):
    if location.startswith("cuda"):
        return storage.cuda(validate_cuda_device(location))
    return None


register_package(10, _cpu_tag, _cpu_deserialize)
register_package(20, _cuda_tag, _cuda_deserialize)


def restore_function(map_location):
    """``(storage, location) -> storage`` for a ``map_location`` (None, str, device, dict or
    callable), as ``torch.load`` interprets it."""
    if map_location is None:
        return default_restore_location
    if isinstance(map_location, bytes):
        map_location = map_location.decode("ascii")
    if isinstance(map_location, (str, _backend.device)):
        target = str(map_location)
        return lambda storage, location: default_restore_location(storage, target)
    if isinstance(map_location, dict):
        table = {k: str(v) for k, v in map_location.items()}
        return lambda storage, location: default_restore_location(
            storage, table.get(location, location))
    if callable(map_location):
        def restore(storage, location):
            result = map_location(storage, location)
            if result is None:
                return default_restore_location(storage, location)
            if isinstance(result, TypedStorage):
                result = result.untyped()
            if not isinstance(result, UntypedStorage):
                raise TypeError(f"map_location must return a storage or None, got "
                                f"{type(result).__name__}")
            return result

        return restore
    raise TypeError(f"map_location must be a str, torch.device, dict or callable, got "
                    f"{type(map_location).__name__}")
