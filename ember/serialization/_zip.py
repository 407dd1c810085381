"""PyTorch's checkpoint container: an uncompressed zip archive whose records start on 64-byte
boundaries (so that tensor data can be mapped straight from the file).

Written and read with the standard ``zipfile`` module for the archive structure (zip64 included);
record data is written and read here, straight between the file and NumPy arrays, without
intermediate copies.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib

import numpy as np

ALIGNMENT = 64  # PyTorch's .storage_alignment
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # the zip local file header (30 bytes)
_PAD_ID = 0x4246  # "FB": the extra-field id PyTorch's writer pads with
_ZIP64_EXTRA = 20  # bytes zipfile appends to a local header written as zip64


class ZipWriter:
    """Writes records into a zip archive on ``fileobj`` (opened for binary writing)."""

    def __init__(self, fileobj, archive_name: str):
        self._zf = zipfile.ZipFile(fileobj, mode="w", compression=zipfile.ZIP_STORED,
                                   allowZip64=True)
        self._prefix = archive_name + "/"

    def write_record(self, name: str, data) -> None:
        """Add ``prefix/name`` holding ``data`` (bytes, str or a contiguous array), its data
        aligned to ``ALIGNMENT`` bytes from the start of the file."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        buf = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        full = self._prefix + name
        info = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = len(buf)
        # zipfile's own rule for writing a zip64 local header (it changes the header's size)
        zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT
        start = self._zf.fp.tell()
        header = _LOCAL_HEADER.size + len(full.encode("utf-8")) + 4 + (
            _ZIP64_EXTRA if zip64 else 0)
        pad = -(start + header) % ALIGNMENT
        info.extra = struct.pack("<HH", _PAD_ID, pad) + bytes(pad)
        with self._zf.open(info, mode="w", force_zip64=zip64) as out:
            out.write(buf)

    def close(self) -> None:
        self._zf.close()


class ZipReader:
    """Reads the records of a checkpoint archive from a seekable binary file.

    Every failure is a RuntimeError naming the file and what is wrong with it: not a zip,
    truncated, a record missing or shorter than the pickle says, a CRC mismatch, an unsafe
    entry name."""

    def __init__(self, fileobj, fname: str):
        self._f = fileobj
        self._fname = fname
        try:
            self._zf = zipfile.ZipFile(fileobj)
            infos = self._zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                struct.error, UnicodeDecodeError, NotImplementedError) as e:
            raise RuntimeError(f"{fname}: not a readable checkpoint: the zip archive is "
                               f"truncated or corrupt ({e})") from None
        self._size = fileobj.seek(0, os.SEEK_END)
        self._infos = {}
        for info in infos:
            name = info.filename
            parts = name.split("/")
            if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
                raise RuntimeError(f"{fname}: the zip entry {name!r} has an unsafe path (absolute "
                                   "or containing '..'); refusing to load this file")
            self._infos[name] = info
        pkl = [n for n in self._infos if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pkl:
            if any(n.endswith("constants.pkl") for n in self._infos):
                raise NotImplementedError(f"{fname} is a TorchScript archive (torch.jit.save); "
                                          "ember cannot load TorchScript")
            raise RuntimeError(f"{fname}: the zip archive has no data.pkl record: it is not a "
                               "checkpoint written by torch.save")
        self.prefix = pkl[0][:-len("data.pkl")]

    def has_record(self, name: str) -> bool:
        return self.prefix + name in self._infos

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._infos.get(self.prefix + name)
        if info is None:
            raise RuntimeError(f"{self._fname}: the checkpoint has no record {name!r} (the "
                               "file is incomplete or corrupt)")
        return info

    def record_offset(self, name: str) -> int:
        """Where the data of stored record ``name`` starts in the file."""
        info = self._info(name)
        self._f.seek(info.header_offset)
        raw = self._f.read(_LOCAL_HEADER.size)
        if len(raw) != _LOCAL_HEADER.size:
            raise RuntimeError(f"{self._fname}: the file is truncated inside record {name!r}")
        fields = _LOCAL_HEADER.unpack(raw)
        if fields[0] != b"PK\x03\x04":
            raise RuntimeError(f"{self._fname}: corrupt zip archive: bad local header for "
                               f"record {name!r}")
        start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
        if start + info.file_size > self._size:
            raise RuntimeError(f"{self._fname}: the file is truncated: record {name!r} needs "
                               f"{info.file_size} bytes from offset {start} but the file has "
                               f"{self._size} bytes")
        return start

    def read_record(self, name: str) -> bytes:
        """A small record's bytes (the pickle, the version records)."""
        info = self._info(name)
        try:
            return self._zf.read(info)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error, struct.error,
                NotImplementedError) as e:
            raise RuntimeError(f"{self._fname}: cannot read record {name!r}: the file is "
                               f"truncated or corrupt ({e})") from None

    def read_array(self, name: str, nbytes: int, mapped=None) -> np.ndarray:
        """Record ``name`` as a writable 1-D uint8 array of ``nbytes`` bytes (the bytes a
        storage declares); from ``mapped`` (an mmap of the file) when given, else read and
        CRC-checked."""
        info = self._info(name)
        if nbytes > info.file_size:
            raise RuntimeError(f"{self._fname}: storage {name!r} declares {nbytes} bytes but "
                               f"its record holds only {info.file_size}")
        if info.compress_type != zipfile.ZIP_STORED:
            if mapped is not None:
                raise RuntimeError(f"{self._fname}: record {name!r} is compressed and cannot be "
                                   "memory-mapped; load with mmap=False")
            arr = np.frombuffer(bytearray(self.read_record(name)), dtype=np.uint8)
            return arr[:nbytes]
        start = self.record_offset(name)
        if mapped is not None:
            return np.frombuffer(mapped, dtype=np.uint8, count=info.file_size,
                                 offset=start)[:nbytes]
        arr = np.empty(info.file_size, dtype=np.uint8)
        self._f.seek(start)
        view, got = memoryview(arr), 0
        while got < info.file_size:  # one read() returns at most ~2 GB on Linux
            n = self._f.readinto(view[got:])
            if not n:
                raise RuntimeError(f"{self._fname}: the file is truncated inside record "
                                   f"{name!r}")
            got += n
        if zlib.crc32(arr) != info.CRC:
            raise RuntimeError(f"{self._fname}: record {name!r} is corrupt (CRC-32 mismatch)")
        return arr[:nbytes]
