"""The globals a checkpoint may name, spelled as PyTorch spells them, and ember's objects for
them; the user's allowlist (``add_safe_globals`` & co.) and the modules that are never allowed.

ember writes PyTorch's names into its files (``torch._utils._rebuild_tensor_v2``,
``torch.FloatStorage``, ``torch.float32``) so that PyTorch loads them, and maps those names back
onto ember when loading, so that no PyTorch is needed.
"""

from __future__ import annotations

import _compat_pickle
import functools
import re
from collections import Counter, OrderedDict
from pickle import UnpicklingError

from .. import _dtype, _tensor
from .._backend import device
from .._tensor import Size, Tensor
from . import _rebuild as R

# Modules whose globals a weights_only load never resolves, even when the user allowlists them.
BLOCKED_MODULES = ("os", "sys", "posix", "nt", "subprocess", "_posixsubprocess", "importlib",
                   "runpy", "ctypes", "shutil", "pty", "socket", "pickle", "_pickle", "marshal",
                   "code", "codeop")
BLOCKED_BUILTINS = frozenset(f"builtins.{n}" for n in (
    "eval", "exec", "compile", "__import__", "open", "getattr", "setattr", "delattr", "globals",
    "locals", "vars", "breakpoint", "input"))

# dtypes PyTorch has and ember does not: a checkpoint naming one fails with NotImplementedError
_FOREIGN_DTYPES = frozenset(
    ["uint16", "uint32", "uint64", "complex32", "chalf", "qint8", "quint8", "qint32", "quint4x2",
     "quint2x4", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16", "float8_e4m3fn",
     "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2"]
    + [f"int{i}" for i in range(1, 8)] + [f"uint{i}" for i in range(1, 8)])
_STORAGE_NAME = re.compile(r"torch\.(cuda\.)?\w+Storage")


@functools.lru_cache(maxsize=1)
def torch_globals() -> dict[str, object]:
    """PyTorch's name -> ember object, for every global a ``weights_only`` load allows by
    default (PyTorch's own default allowlist, as far as ember has the objects)."""
    from ..nn.parameter import Parameter

    g: dict[str, object] = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.bytearray": bytearray,
        "builtins.complex": complex,
        "_codecs.encode": R.latin1_encode,
        "torch.Size": Size,
        "torch.device": device,
        "torch.Tensor": Tensor,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.serialization._get_layout": R._get_layout,
        "torch._tensor._rebuild_from_type_v2": R._rebuild_from_type_v2,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor":
            R._rebuild_device_tensor_from_cpu_tensor,
        "torch.UntypedStorage": R.UNTYPED,
        "torch.storage.UntypedStorage": R.UNTYPED,
    }
    for f in R.TENSOR_REBUILDERS:
        g[f"torch._utils.{f.__name__}"] = f
    for name, f in R.UNSUPPORTED_REBUILDERS.items():
        g[f"torch._utils.{name}"] = f
    for d in _dtype._ALL:
        g[f"torch.{d._name}"] = d
    for st in R.STORAGE_TYPES.values():
        g[f"torch.{st.name}"] = st
        g[f"torch.cuda.{st.name}"] = st  # how checkpoints of CUDA tensors named them before 2.0
    return g


@functools.lru_cache(maxsize=1)
def save_names() -> dict[int, tuple[str, str]]:
    """id(ember object) -> (module, name) that ``ember.save`` writes for it: PyTorch's name."""
    from ..nn.parameter import Parameter

    names: dict[int, tuple[str, str]] = {}
    for full, obj in torch_globals().items():
        if full.startswith("torch.") and not full.startswith(("torch.cuda.", "torch.storage.")):
            module, _, name = full.rpartition(".")
            names.setdefault(id(obj), (module, name))
    names[id(Parameter)] = ("torch.nn.parameter", "Parameter")
    for fmt in (_tensor.contiguous_format, _tensor.preserve_format, _tensor.channels_last,
                _tensor.channels_last_3d):
        names[id(fmt)] = ("torch", fmt._name)
    return names


def canonical(module: str, name: str) -> tuple[str, str]:
    """Python 2 spellings (``__builtin__.set``) as pickle maps them for Python 3."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def blocked(module: str, full: str) -> str | None:
    """The blocked module (or builtin) that ``full`` belongs to, if any."""
    for m in BLOCKED_MODULES:
        if module == m or module.startswith(m + "."):
            return m
    if full in BLOCKED_BUILTINS:
        return full
    return None


# ---------------------------------------------------------------------------------------------
# the user's allowlist
# ---------------------------------------------------------------------------------------------

_user_safe_globals: set = set()


def _entry_names(entry) -> tuple[object, list[str]]:
    if isinstance(entry, tuple):
        if len(entry) != 2:
            raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), "
                             f"but got tuple of length: {len(entry)}")
        if type(entry[1]) is not str:
            raise TypeError(f"Expected second item in tuple to be str of callable full path, "
                            f"but got: {type(entry[1])}")
        return entry[0], [entry[1]]
    full = f"{entry.__module__}.{entry.__qualname__}"
    names = [full]
    # an ember class is also what a PyTorch checkpoint names as torch.* / torchvision.*
    for ours, theirs in (("ember.vision.", "torchvision."), ("ember.", "torch.")):
        if full.startswith(ours):
            names.append(theirs + full[len(ours):])
            break
    return entry, names


def user_globals() -> dict[str, object]:
    """Full name -> object for everything the user allowlisted."""
    out: dict[str, object] = {}
    for entry in _user_safe_globals:
        obj, names = _entry_names(entry)
        for n in names:
            out[n] = obj
    return out


def add_safe_globals(safe_globals: list) -> None:
    """``torch.serialization.add_safe_globals``: allow these functions/classes (or
    ``(object, "module.name")`` pairs) in ``weights_only`` loads. An ember object also matches
    its PyTorch spelling (``ember.nn.Linear`` allows ``torch.nn.modules.linear.Linear``)."""
    for entry in safe_globals:
        _entry_names(entry)  # validates before anything is added
    _user_safe_globals.update(safe_globals)


def get_safe_globals() -> list:
    """``torch.serialization.get_safe_globals``: what ``add_safe_globals`` added."""
    return list(_user_safe_globals)


def clear_safe_globals() -> None:
    """``torch.serialization.clear_safe_globals``."""
    _user_safe_globals.clear()


class safe_globals:
    """``torch.serialization.safe_globals``: a context manager that allowlists globals for
    ``weights_only`` loads inside its block."""

    def __init__(self, safe_globals: list):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        self._added = [g for g in self.safe_globals if g not in _user_safe_globals]
        add_safe_globals(self._added)

    def __exit__(self, *exc):
        _user_safe_globals.difference_update(self._added)


# ---------------------------------------------------------------------------------------------
# resolving a global named in a checkpoint
# ---------------------------------------------------------------------------------------------

def resolve_restricted(module: str, name: str, user: dict[str, object]):
    """The object a ``weights_only`` load may use for ``module.name``; UnpicklingError naming
    it, and how to allow it, when it is not allowlisted."""
    module, name = canonical(module, name)
    full = f"{module}.{name}"
    hit = blocked(module, full)
    if hit is not None:
        raise UnpicklingError(f"Trying to load unsupported GLOBAL {full} whose module {hit} is "
                              "blocked. It can never be allowlisted for weights_only loads.")
    obj = torch_globals().get(full)
    if obj is None:
        obj = user.get(full)
    if obj is not None:
        return obj
    foreign(full)
    shown = full[len("builtins."):] if full.startswith("builtins.") else full
    raise UnpicklingError(
        f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
        f"`torch.serialization.add_safe_globals([{shown}])` or the "
        f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist this "
        "global if you trust this class/function.")


def foreign(full: str) -> None:
    """NotImplementedError for PyTorch dtypes and storages that ember does not have."""
    if full.startswith("torch.") and full[6:] in _FOREIGN_DTYPES:
        raise NotImplementedError(f"the checkpoint uses dtype {full}, which ember does not have")
    if _STORAGE_NAME.fullmatch(full):
        raise NotImplementedError(f"the checkpoint uses storage type {full}, whose dtype ember "
                                  "does not have")


def resolve_full(module: str, name: str):
    """For unrestricted loads: PyTorch's names mapped onto ember (``torch.X`` -> ``ember.X``,
    ``torchvision.X`` -> ``ember.vision.X``), anything else imported as pickle would; None when
    the name is not a PyTorch one ember has."""
    full = f"{module}.{name}"
    obj = torch_globals().get(full)
    if obj is not None:
        return obj
    foreign(full)
    for theirs, ours in (("torchvision", "ember.vision"), ("torch", "ember")):
        if module == theirs or module.startswith(theirs + "."):
            import importlib

            try:
                obj = importlib.import_module(ours + module[len(theirs):])
                for part in name.split("."):
                    obj = getattr(obj, part)
                return obj
            except (ImportError, AttributeError):
                return None
    return None
