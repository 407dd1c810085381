"""Run unmodified PyTorch programs on ember: ``torch`` and ``torchvision`` become ember.

From the shell, as ``python`` would run the program::

    python -m ember.compat train.py --epochs 2     # like: python train.py --epochs 2
    python -m ember.compat -m package.module ...   # like: python -m package.module ...
    python -m ember.compat -c "import torch; ..."  # like: python -c "..."

or inside a running interpreter (a notebook, a test), before anything imports PyTorch::

    import ember.compat
    ember.compat.install()
    import torch                      # ember
    from torchvision import models   # ember.vision.models

How the alias works:

- ``torch`` and ``torch.X.Y`` import as ``ember`` and ``ember.X.Y``; ``torchvision`` and
  ``torchvision.X`` as ``ember.vision`` and ``ember.vision.X``. They are the same module objects
  (``torch.nn is ember.nn``), so state set through one name is seen through the other.
- A module ember lacks fails at its import with ``MissingModuleError`` (a
  ``ModuleNotFoundError``): "ember does not implement torch.X yet (see README's compatibility
  table)"; so does ``from torch import X``. A missing attribute (``torch.X`` where ember has no
  ``X``) raises ``AttributeError`` with the same message where it is used.
- Worker processes see the alias too: forked ones inherit it, and processes started with the
  'spawn' or 'forkserver' method install it before they import the program's main module (the
  parent adds an entry to multiprocessing's preparation data that installs it when unpickled).
- The runner reproduces ``python``: ``sys.argv``, ``__name__ == "__main__"``, an absolute
  ``__file__``, ``sys.path[0]`` (the script's directory, the current one for ``-m``, '' for
  ``-c``), exit codes, and tracebacks that start at the program's own frames.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import multiprocessing.spawn
import os
import sys
import types

__all__ = ["MissingModuleError", "install", "is_installed", "main"]

# alias prefix -> ember package
_ALIASES = {"torch": "ember", "torchvision": "ember.vision"}


class MissingModuleError(ModuleNotFoundError):
    """A PyTorch module that ember does not provide (``name`` is the PyTorch name)."""


def _ember_name(name: str) -> str | None:
    """The ember module behind a ``torch``/``torchvision`` name, or None for other names."""
    head, dot, rest = name.partition(".")
    real = _ALIASES.get(head)
    return None if real is None else real + dot + rest


def torch_name(name: str) -> str:
    """The PyTorch name of an ember module (``ember.vision.models`` -> ``torchvision.models``)."""
    if name == "ember.vision" or name.startswith("ember.vision."):
        return "torchvision" + name[len("ember.vision"):]
    if name == "ember" or name.startswith("ember."):
        return "torch" + name[len("ember"):]
    return name


def _missing(what: str) -> str:
    return f"ember does not implement {what} yet (see README's compatibility table)"


# --------------------------------------------------------------------------------- finders
class _AliasLoader(importlib.abc.Loader):
    """Loads ``torch.X`` by importing ``ember.X`` and handing back that very module."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        try:
            module = importlib.import_module(self.target)
        except MissingModuleError as exc:
            # raised afresh so that the traceback shows one frame of ours, not the machinery
            raise MissingModuleError(exc.msg, name=exc.name) from None
        _guard(module)
        return module

    def exec_module(self, module) -> None:
        pass  # already executed under its ember name


class _AliasFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: answers for ``torch``, ``torchvision`` and their
    submodules, before any installed PyTorch could be found."""

    def find_spec(self, fullname, path=None, target=None):
        real = _ember_name(fullname)
        if real is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


class _MissingFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: an ``ember.X`` module that no other finder found is one that
    ember lacks. Raising here, with the PyTorch name as ``name``, also turns
    ``from torch import X`` into this error (the import system would otherwise swallow the
    failed submodule import and report a bare "cannot import name")."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("ember."):
            name = torch_name(fullname)
            raise MissingModuleError(_missing(name), name=name)
        return None


def _guard(module: types.ModuleType) -> None:
    """Give an ember module a ``__getattr__`` whose AttributeError names the missing PyTorch
    attribute (keeping any lazy ``__getattr__`` the module already has)."""
    inner = module.__dict__.get("__getattr__")
    if getattr(inner, "_ember_compat", False):
        return

    def __getattr__(name: str):
        if inner is not None:
            try:
                value = inner(name)
            except AttributeError:
                pass
            else:
                if isinstance(value, types.ModuleType):
                    _guard(value)
                return value
        if name.startswith("__") and name.endswith("__"):  # protocol probes, not torch API
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}",
                                 name=name, obj=module)
        raise AttributeError(_missing(f"{torch_name(module.__name__)}.{name}"), name=name,
                             obj=module)

    __getattr__._ember_compat = True
    module.__getattr__ = __getattr__


# ------------------------------------------------------------------------- worker processes
class _InstallInChild:
    """Unpickled by a 'spawn'/'forkserver' child before it imports the program's main module
    (multiprocessing loads the preparation data first), so that the child's ``import torch``
    resolves to ember as well."""

    def __reduce__(self):
        # the child's sys.path may not reach this ember yet (it is set from the preparation
        # data after unpickling), so put ember's directory first while importing it
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = ("import sys\n"
                f"sys.path.insert(0, {root!r})\n"
                "try:\n"
                "    import ember.compat\n"
                "finally:\n"
                f"    sys.path.remove({root!r})\n"
                "ember.compat.install()\n")
        return exec, (code, {})


def _with_compat(get_preparation_data, name):
    data = get_preparation_data(name)
    data["ember_compat"] = _InstallInChild()
    return data


# --------------------------------------------------------------------------------- install
def is_installed() -> bool:
    """Whether ``torch`` currently imports as ember in this interpreter."""
    return any(isinstance(f, _AliasFinder) for f in sys.meta_path)


def install() -> None:
    """Make ``import torch`` / ``import torchvision`` (and their submodules) import ember in
    this interpreter and in the worker processes it starts. Idempotent.

    Raises RuntimeError if PyTorch or torchvision is already imported: its objects could not
    be mixed with ember's.
    """
    if is_installed():
        return
    real = sorted(n for n in sys.modules if _ember_name(n) is not None)
    if real:
        where = getattr(sys.modules[real[0]], "__file__", None) or "unknown location"
        raise RuntimeError(
            f"ember.compat.install(): PyTorch is already imported in this interpreter "
            f"({real[0]} from {where}), so 'torch' cannot be made to mean ember here. Call "
            "install() before anything imports torch or torchvision (first cell of the "
            "notebook, top of conftest.py), or run the program with "
            "`python -m ember.compat script.py`.")
    import ember  # noqa: F401  (all of ember, so that every module below gets its guard)

    for name, module in list(sys.modules.items()):
        if (name == "ember" or name.startswith("ember.")) and isinstance(module,
                                                                         types.ModuleType):
            _guard(module)
    sys.meta_path.insert(0, _AliasFinder())
    sys.meta_path.append(_MissingFinder())
    multiprocessing.spawn.get_preparation_data = functools.partial(
        _with_compat, multiprocessing.spawn.get_preparation_data)


# ---------------------------------------------------------------------------------- runner
USAGE = """\
usage: python -m ember.compat [-m module | -c command | script] [args ...]

Runs a PyTorch program with `torch` and `torchvision` imported from ember, as
`python script.py args ...` (or `python -m module` / `python -c command`) would run it.
"""

_RUNNER_FILES = {os.path.abspath(__file__),
                 os.path.join(os.path.dirname(os.path.abspath(__file__)), "__main__.py")}


def _runner_frame(tb) -> bool:
    name = tb.tb_frame.f_code.co_filename
    return name in _RUNNER_FILES or name.startswith("<frozen runpy") or (
        name.endswith("runpy.py") and tb.tb_frame.f_globals.get("__name__") == "runpy")


def _program_traceback(tb):
    """``tb`` without the runner's own leading frames (runpy's and this module's), so that
    the traceback starts where ``python script.py`` would start it."""
    while tb is not None and _runner_frame(tb):
        tb = tb.tb_next
    return tb


def _excepthook_for_program(hook, etype, value, tb):
    tb = _program_traceback(tb)
    if value is not None:
        value.__traceback__ = tb
    hook(etype, value, tb)


def _main_module(file: str | None) -> types.ModuleType:
    """A fresh ``__main__`` module, as the interpreter makes for a script or ``-c``."""
    main = types.ModuleType("__main__")
    main.__dict__.update(__builtins__=builtins, __spec__=None, __package__=None,
                         __cached__=None, __loader__=None)
    if file is not None:
        main.__file__ = file
        main.__loader__ = importlib.machinery.SourceFileLoader("__main__", file)
    sys.modules["__main__"] = main
    return main


def _run_source(source, filename: str, main: types.ModuleType) -> None:
    code = compile(source, filename, "exec", dont_inherit=True)
    exec(code, main.__dict__)


def _run_script(path: str, args: list) -> None:
    import runpy
    import zipfile

    sys.argv = [path, *args]
    full = os.path.abspath(path)
    if not sys.flags.safe_path:  # replace the current directory that `-m ember.compat` added
        sys.path[0] = os.path.dirname(os.path.realpath(full))
    if os.path.isdir(full) or zipfile.is_zipfile(full):
        # a directory or zip file with a __main__.py: runpy puts it on sys.path itself
        if not sys.flags.safe_path:
            del sys.path[0]
        runpy.run_path(full, run_name="__main__")
        return
    with io.open_code(full) as f:
        source = f.read()
    _run_source(source, full, _main_module(full))


def _run_module(name: str, args: list) -> None:
    import runpy

    sys.argv = [name, *args]  # runpy replaces argv[0] with the module's file, as python -m
    # ``-m torch.distributed.run`` runs ember's module (runpy needs the real module's code)
    runpy.run_module(_ember_name(name) or name, run_name="__main__", alter_sys=True)


def _run_command(command: str, args: list) -> None:
    sys.argv = ["-c", *args]
    if not sys.flags.safe_path:
        sys.path[0] = ""
    _run_source(command, "<string>", _main_module(None))


def _parse(argv: list):
    """(kind, target, args) from the runner's arguments, or an exit code for usage errors."""
    if not argv:
        sys.stderr.write(USAGE)
        return 2
    if argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    first = argv[0]
    for flag, kind in (("-m", "module"), ("-c", "command")):
        if first == flag:
            if len(argv) < 2:
                sys.stderr.write(f"Argument expected for the {flag} option\n{USAGE}")
                return 2
            return kind, argv[1], argv[2:]
        if first.startswith(flag):
            return kind, first[2:], argv[1:]
    if first.startswith("-") and first != "-":
        sys.stderr.write(f"unknown option {first}\n{USAGE}")
        return 2
    return "script", first, argv[1:]


def main(argv: list | None = None) -> int:
    """``python -m ember.compat``: install the alias and run the program like ``python``."""
    parsed = _parse(sys.argv[1:] if argv is None else list(argv))
    if isinstance(parsed, int):
        return parsed
    kind, target, args = parsed
    if kind == "script":
        if target == "-":
            sys.stderr.write("ember.compat cannot read the program from stdin; pass a file\n")
            return 2
        if not os.path.exists(target):
            prog = sys.orig_argv[0] if getattr(sys, "orig_argv", None) else sys.executable
            sys.stderr.write(f"{prog}: can't open file {os.path.abspath(target)!r}: "
                             "[Errno 2] No such file or directory\n")
            return 2
    install()
    try:
        if kind == "script":
            _run_script(target, args)
        elif kind == "module":
            _run_module(target, args)
        else:
            _run_command(target, args)
    except SystemExit:
        raise
    except ImportError as exc:
        if _program_traceback(exc.__traceback__) is None:
            # runpy could not find the module (or a directory's __main__): python's message
            sys.stderr.write(f"{sys.executable}: {exc}\n")
            return 1
        sys.excepthook = functools.partial(_excepthook_for_program, sys.excepthook)
        raise
    except BaseException:
        # let the interpreter end as it would for the program itself (exit status 1, or
        # death by SIGINT for KeyboardInterrupt), printing a traceback without our frames
        sys.excepthook = functools.partial(_excepthook_for_program, sys.excepthook)
        raise
    return 0
