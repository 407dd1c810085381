"""PyTorch's checkpoint container: an uncompressed zip archive whose records start on 64-byte
boundaries (so that tensor data can be mapped straight from the file).

Written here (local headers, central directory and zip64 records when the archive passes 4 GB)
and read with the standard ``zipfile`` module for the archive structure; record data goes
straight between the file and NumPy arrays, without intermediate copies.

When saving, the CRC-32s of large records are computed on a worker thread while the main thread
writes the neighbouring records (zlib releases the GIL): in line, the CRC took 0.22 s of a
1.6 s save of 400 MB (profiled with benchmarks/serialization.py's workload).
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ALIGNMENT = 64  # PyTorch's .storage_alignment
ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on need zip64 records
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # the zip local file header (30 bytes)
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # a central directory entry (46 bytes)
_END = struct.Struct("<4s4H2LH")  # end of central directory
_END64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory
_LOCATOR64 = struct.Struct("<4sLQL")  # zip64 end of central directory locator
_PAD_ID = 0x4246  # "FB": the extra-field id PyTorch's writer pads with
_DOS_DATE = (1 << 5) | 1  # 1980-01-01, the date PyTorch writes
_UNIX_644 = 0o100644 << 16
_ASYNC_CRC = 1 << 20  # records from this size get their CRC-32 on a worker thread
_SYNC_EVERY = 64 << 20  # with sync=True, start writing back to disk after this many bytes
_fdatasync = getattr(os, "fdatasync", os.fsync)


def _as_buffer(data) -> memoryview:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return memoryview(data).cast("B")


class ZipWriter:
    """Writes a checkpoint archive (records under ``archive_name/``) to ``fileobj``, which
    needs only ``write`` (non-seekable streams work). With ``sync=True`` (a file being saved
    atomically) the data already written is flushed to disk in the background as writing
    goes on, so that the final fsync has little left to do."""

    def __init__(self, fileobj, archive_name: str, *, sync: bool = False):
        self._f = fileobj
        try:
            self._pos = fileobj.tell()  # zip offsets count from the start of the file
        except (AttributeError, OSError, ValueError):
            self._pos = 0
        self._prefix = archive_name + "/"
        self._entries: list[tuple] = []
        self._sync = sync

    def write_records(self, records) -> None:
        """Write ``(name, data)`` records (data: bytes, str or a contiguous array) in order,
        each record's data aligned to ``ALIGNMENT`` bytes from the start of the file."""
        bufs = [(self._prefix + name, _as_buffer(data)) for name, data in records]
        with ThreadPoolExecutor(1) as crc_pool, ThreadPoolExecutor(1) as sync_pool:
            crcs = [crc_pool.submit(zlib.crc32, b) if b.nbytes >= _ASYNC_CRC else None
                    for _, b in bufs]
            syncs, unsynced = [], 0
            for (name, buf), crc in zip(bufs, crcs):
                self._write(name, buf, zlib.crc32(buf) if crc is None else crc.result())
                unsynced += buf.nbytes
                if self._sync and unsynced >= _SYNC_EVERY:
                    self._f.flush()
                    syncs.append(sync_pool.submit(_fdatasync, self._f.fileno()))
                    unsynced = 0
            for done in syncs:
                done.result()  # a failed write-back must fail the save

    def _write(self, name: str, buf: memoryview, crc: int) -> None:
        raw = name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8
        size = buf.nbytes
        zip64 = size >= ZIP64_LIMIT
        extra = struct.pack("<2H2Q", 1, 16, size, size) if zip64 else b""
        pad = -(self._pos + _LOCAL_HEADER.size + len(raw) + len(extra) + 4) % ALIGNMENT
        extra += struct.pack("<2H", _PAD_ID, pad) + bytes(pad)
        stored = 0xFFFFFFFF if zip64 else size
        header = _LOCAL_HEADER.pack(b"PK\x03\x04", 45 if zip64 else 20, flags, 0, 0, _DOS_DATE,
                                    crc, stored, stored, len(raw), len(extra))
        self._f.write(header + raw + extra)
        self._f.write(buf)
        self._entries.append((raw, flags, crc, size, self._pos))
        self._pos += len(header) + len(raw) + len(extra) + size

    def close(self) -> None:
        """Write the central directory (and zip64 end records when needed)."""
        start = self._pos
        for raw, flags, crc, size, offset in self._entries:
            big = [size, size] if size >= ZIP64_LIMIT else []
            if offset >= ZIP64_LIMIT:
                big.append(offset)
            extra = struct.pack(f"<2H{len(big)}Q", 1, 8 * len(big), *big) if big else b""
            version = 45 if big else 20
            stored = 0xFFFFFFFF if size >= ZIP64_LIMIT else size
            entry = _CENTRAL.pack(b"PK\x01\x02", (3 << 8) | version, version, flags, 0, 0,
                                  _DOS_DATE, crc, stored, stored, len(raw), len(extra), 0, 0, 0,
                                  _UNIX_644, min(offset, 0xFFFFFFFF))
            self._f.write(entry + raw + extra)
            self._pos += len(entry) + len(raw) + len(extra)
        size, count = self._pos - start, len(self._entries)
        if count >= 0xFFFF or start >= ZIP64_LIMIT or size >= ZIP64_LIMIT:
            self._f.write(_END64.pack(b"PK\x06\x06", _END64.size - 12, (3 << 8) | 45, 45, 0, 0,
                                      count, count, size, start) +
                          _LOCATOR64.pack(b"PK\x06\x07", 0, self._pos, 1))
        self._f.write(_END.pack(b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                                min(size, 0xFFFFFFFF), min(start, 0xFFFFFFFF), 0))


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
        storage declares), read from the file or, given ``mapped`` (an mmap of the file),
        mapped from it. As in PyTorch, the CRC-32 of tensor data is not verified here (it
        would double the time to load); the other records' CRCs are."""
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
            return np.frombuffer(mapped, dtype=np.uint8, count=nbytes, offset=start)
        arr = np.empty(nbytes, dtype=np.uint8)
        self._f.seek(start)
        view, got = memoryview(arr), 0
        while got < nbytes:  # one read() returns at most ~2 GB on Linux
            n = self._f.readinto(view[got:])
            if not n:
                raise RuntimeError(f"{self._fname}: the file is truncated inside record "
                                   f"{name!r}")
            got += n
        return arr
