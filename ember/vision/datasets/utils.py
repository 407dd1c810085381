"""Download, checksum and archive helpers, following ``torchvision.datasets.utils``.

Downloads go through ``urllib`` (any http/https URL, redirects followed), are written to a
temporary file and renamed into place only once complete, and are checked against an md5 when
one is given. Archives (``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``, ``.zip``) and
single compressed files (``.gz``, ``.bz2``, ``.xz``) are recognised from their suffixes as
torchvision does.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import pathlib
import tarfile
import urllib.error
import zipfile
from collections.abc import Callable, Iterable
from typing import IO, Any

USER_AGENT = "ember/vision"

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "list_dir",
           "list_files", "extract_archive", "download_and_extract_archive", "iterable_to_str",
           "verify_str_arg", "download_file_from_google_drive"]


def calculate_md5(fpath: str | pathlib.Path, chunk_size: int = 1024 * 1024) -> str:
    """The md5 hex digest of a file, read in chunks."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str | pathlib.Path, md5: str, **kwargs: Any) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: str | pathlib.Path, md5: str | None = None) -> bool:
    """True when ``fpath`` is a file and, if ``md5`` is given, has that checksum."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def _progress(total: int | None):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True)


def _urlretrieve(url: str, fpath: str, chunk_size: int = 1024 * 32) -> None:
    import urllib.request  # 15 ms to import: only when downloading
    # Stream into a temporary sibling and rename at the end, so an interrupted download never
    # leaves a truncated file that a later run would take for the real one.
    tmp = fpath + ".part"
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=60) as response, open(tmp, "wb") as fh:
            bar = _progress(response.length)
            try:
                while chunk := response.read(chunk_size):
                    fh.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        os.replace(tmp, fpath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def download_url(url: str, root: str | pathlib.Path, filename: str | pathlib.Path | None = None,
                 md5: str | None = None, max_redirect_hops: int = 3) -> None:
    """Download ``url`` into ``root/filename`` (default: the URL's basename) unless a file with
    the right md5 is already there; raise ``RuntimeError`` when the result fails the md5 check.

    ``max_redirect_hops`` is accepted for torchvision compatibility (urllib follows redirects).
    """
    root = os.path.expanduser(root)
    if not filename:
        filename = os.path.basename(url)
    fpath = os.fspath(os.path.join(root, filename))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    try:
        _urlretrieve(url, fpath)
    except (urllib.error.URLError, OSError):
        # Some mirrors serve https badly; torchvision retries over plain http.
        if url.startswith("https:"):
            _urlretrieve(url.replace("https:", "http:", 1), fpath)
        else:
            raise
    if not check_integrity(fpath, md5):
        got = calculate_md5(fpath) if os.path.isfile(fpath) else "no file"
        # A corrupt download is removed so that the next run does not take it for the file.
        if os.path.isfile(fpath):
            os.remove(fpath)
        raise RuntimeError(f"File not found or corrupted: {fpath} (expected md5 {md5}, got "
                           f"{got}).")


def download_file_from_google_drive(file_id: str, root: str | pathlib.Path,
                                    filename: str | None = None, md5: str | None = None) -> None:
    """Google Drive downloads need the ``gdown`` package, as in torchvision."""
    try:
        import gdown
    except ModuleNotFoundError:
        raise RuntimeError("To download files from GDrive, 'gdown' is required. You can install "
                           "it with 'pip install gdown'.") from None
    root = os.path.expanduser(root)
    fpath = os.fspath(os.path.join(root, filename or file_id))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    gdown.download(id=file_id, output=fpath, quiet=False, user_agent=USER_AGENT)
    if not check_integrity(fpath, md5):
        raise RuntimeError("File not found or corrupted.")


def list_dir(root: str | pathlib.Path, prefix: bool = False) -> list[str]:
    """Names (or paths with ``prefix=True``) of the directories in ``root``."""
    root = os.path.expanduser(root)
    dirs = [p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p))]
    return [os.path.join(root, d) for d in dirs] if prefix else dirs


def list_files(root: str | pathlib.Path, suffix: str | tuple[str, ...],
               prefix: bool = False) -> list[str]:
    """Names (or paths) of the files in ``root`` ending with ``suffix``."""
    root = os.path.expanduser(root)
    files = [p for p in os.listdir(root)
             if os.path.isfile(os.path.join(root, p)) and p.endswith(suffix)]
    return [os.path.join(root, f) for f in files] if prefix else files


def _extract_tar(src, dst, compression: str | None) -> None:
    with tarfile.open(src, f"r:{compression[1:]}" if compression else "r") as tar:
        # The "data" filter refuses absolute paths, links out of the tree and device files
        # (Python >= 3.10.12; older interpreters extract as they always did).
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dst, filter="data")
        else:
            tar.extractall(dst)


_ZIP_COMPRESSION = {".bz2": zipfile.ZIP_BZIP2, ".xz": zipfile.ZIP_LZMA}


def _extract_zip(src, dst, compression: str | None) -> None:
    with zipfile.ZipFile(src, "r", compression=_ZIP_COMPRESSION.get(compression,
                                                                     zipfile.ZIP_STORED)) as z:
        z.extractall(dst)


_ARCHIVES: dict[str, Callable] = {".tar": _extract_tar, ".zip": _extract_zip}
_OPENERS: dict[str, Callable[..., IO]] = {".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
_ALIASES = {".tbz": (".tar", ".bz2"), ".tbz2": (".tar", ".bz2"), ".tgz": (".tar", ".gz")}


def _detect_file_type(file: str | pathlib.Path) -> tuple[str, str | None, str | None]:
    """(suffix, archive type, compression) of ``file`` from its name, as torchvision."""
    suffixes = pathlib.Path(file).suffixes
    if not suffixes:
        raise RuntimeError(f"File '{file}' has no suffixes that could be used to detect the "
                           "archive type and compression.")
    suffix = suffixes[-1]
    if suffix in _ALIASES:
        return (suffix, *_ALIASES[suffix])
    if suffix in _ARCHIVES:
        return suffix, suffix, None
    if suffix in _OPENERS:
        if len(suffixes) > 1 and suffixes[-2] in _ARCHIVES:
            return suffixes[-2] + suffix, suffixes[-2], suffix
        return suffix, None, suffix
    valid = sorted(set(_ALIASES) | set(_ARCHIVES) | set(_OPENERS))
    raise RuntimeError(f"Unknown compression or archive type: '{suffix}'.\n"
                       f"Known suffixes are: '{valid}'.")


def _decompress(src, dst, remove_finished: bool = False) -> pathlib.Path:
    suffix, archive_type, compression = _detect_file_type(src)
    if not compression:
        raise RuntimeError(f"Couldn't detect a compression from suffix {suffix}.")
    tmp = os.fspath(dst) + ".part"
    try:
        with _OPENERS[compression](src, "rb") as rf, open(tmp, "wb") as wf:
            while chunk := rf.read(1 << 22):
                wf.write(chunk)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    if remove_finished:
        os.remove(src)
    return pathlib.Path(dst)


def extract_archive(from_path: str | pathlib.Path, to_path: str | pathlib.Path | None = None,
                    remove_finished: bool = False) -> str | pathlib.Path:
    """Extract an archive or decompress a single compressed file into ``to_path`` (default:
    the file's directory); returns where it went (a ``str`` when ``from_path`` is one)."""
    if to_path is None:
        to_path = os.path.dirname(from_path)
    suffix, archive_type, compression = _detect_file_type(from_path)
    if not archive_type:
        name = os.path.basename(from_path)
        out = _decompress(from_path, os.path.join(to_path, name[: len(name) - len(suffix)]),
                          remove_finished)
    else:
        os.makedirs(to_path, exist_ok=True)
        _ARCHIVES[archive_type](from_path, to_path, compression)
        if remove_finished:
            os.remove(from_path)
        out = pathlib.Path(to_path)
    return os.fspath(out) if isinstance(from_path, str) else out


def download_and_extract_archive(url: str, download_root: str | pathlib.Path,
                                 extract_root: str | pathlib.Path | None = None,
                                 filename: str | pathlib.Path | None = None,
                                 md5: str | None = None, remove_finished: bool = False) -> None:
    download_root = os.path.expanduser(download_root)
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(url)
    download_url(url, download_root, filename, md5)
    extract_archive(os.path.join(download_root, filename), extract_root, remove_finished)


def iterable_to_str(iterable: Iterable) -> str:
    return "'" + "', '".join(str(item) for item in iterable) + "'"


def verify_str_arg(value: Any, arg: str | None = None, valid_values: Iterable | None = None,
                   custom_msg: str | None = None) -> Any:
    """Check that ``value`` is a string among ``valid_values``; torchvision's ValueErrors."""
    if not isinstance(value, str):
        where = "" if arg is None else f" for argument {arg}"
        raise ValueError(f"Expected type str{where}, but got type {type(value)}.")
    if valid_values is None:
        return value
    valid_values = tuple(valid_values)
    if value not in valid_values:
        raise ValueError(custom_msg if custom_msg is not None else
                         f"Unknown value '{value}' for argument {arg}. Valid values are "
                         f"{{{iterable_to_str(valid_values)}}}.")
    return value
