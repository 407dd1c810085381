"""Atomic file writes, and naming what is being loaded in error messages."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat


def is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def describe(f) -> str:
    """How error messages name the file being loaded."""
    if is_path(f):
        return os.fspath(f)
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


def _resolve_target(path) -> str:
    path = os.fspath(path)
    # write through a symlink, as opening the path for writing would
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {os.path.dirname(path) or '.'} does not exist.")
    if os.path.isdir(target):
        raise IsADirectoryError(f"{path} is a directory, not a file")
    return target


def _temp_name(target: str) -> str:
    directory, base = os.path.split(target)
    return os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")


def _open_unnamed(directory: str) -> int | None:
    """An unnamed file in ``directory`` (Linux O_TMPFILE), linked into the directory only once
    it is complete: nothing is left behind even if the process is killed while writing. None
    where the OS or filesystem cannot create and later link such files."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    dev = os.stat(directory).st_dev
    if not _LINKABLE.get(dev, True):
        return None
    try:
        fd = os.open(directory, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError:
        _LINKABLE[dev] = False
        return None
    if dev not in _LINKABLE:  # some kernels/sandboxes create such files but cannot link them
        probe = _temp_name(os.path.join(directory, "probe"))
        try:
            os.link(f"/proc/self/fd/{fd}", probe, follow_symlinks=True)
            os.unlink(probe)
            _LINKABLE[dev] = True
        except OSError:
            _LINKABLE[dev] = False
            os.close(fd)
            return None
    return fd


_LINKABLE: dict[int, bool] = {}  # st_dev -> whether unnamed files can be linked there


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # platforms that cannot open directories
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, *, named: bool = False):
    """Write ``path`` atomically: the block writes a temporary file in the same directory
    (yielded as a binary file object, or with ``named=True`` as a path for writers that open
    it themselves), which is flushed, fsynced and renamed over ``path`` when the block
    succeeds. If the block raises (a pickling error, a full disk), the temporary file is
    removed and an existing file at ``path`` is left as it was."""
    target = _resolve_target(path)
    directory = os.path.dirname(target)
    mode = None
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(os.stat(target).st_mode)  # keep an overwritten file's permissions
    fd = None if named else _open_unnamed(directory)
    tmp = None
    if fd is None:
        tmp = _temp_name(target)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o666)
    fh = None
    try:
        if named:
            os.close(fd)
            yield tmp
            fh = open(tmp, "r+b")  # noqa: SIM115 - closed below
        else:
            fh = os.fdopen(fd, "wb")
            yield fh
        fh.flush()
        if mode is not None:
            os.fchmod(fh.fileno(), mode)
        os.fsync(fh.fileno())
        if tmp is None:  # give the unnamed file a name, to rename it into place
            tmp = _temp_name(target)
            os.link(f"/proc/self/fd/{fh.fileno()}", tmp, follow_symlinks=True)
        fh.close()
        fh = None
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(directory)
    finally:
        if fh is not None:
            with contextlib.suppress(OSError):
                fh.close()
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
