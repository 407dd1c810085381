"""``torch.serialization``: ``save``/``load`` in PyTorch's checkpoint format, the
``weights_only`` allowlist, storage locations, and safetensors files.

Files are interchangeable with PyTorch's: ``ember.save`` writes what ``torch.load`` (with
``weights_only=True``) reads, and ``ember.load`` reads what ``torch.save`` writes, without
PyTorch installed. Loading never runs code from the file unless ``weights_only=False``.
"""

from ._globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._load import MAGIC_NUMBER, PROTOCOL_VERSION, get_unsafe_globals_in_checkpoint, load
from ._locations import default_restore_location, location_tag, register_package
from ._safetensors import load_safetensors, save_safetensors
from ._save import DEFAULT_PROTOCOL, save

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "get_unsafe_globals_in_checkpoint", "default_restore_location",
           "location_tag", "register_package", "save_safetensors", "load_safetensors",
           "DEFAULT_PROTOCOL", "MAGIC_NUMBER", "PROTOCOL_VERSION"]
