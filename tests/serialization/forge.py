"""Hand-assembled pickles and checkpoint archives, for files no well-behaved writer produces:
malicious payloads, lying storage sizes, broken zips. Independent of ember's writer."""

from __future__ import annotations

import io
import struct
import zipfile

PROTO = b"\x80\x02"
STOP = b"."
FALSE = b"\x89"


def glob(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def stack_glob(module: str, name: str) -> bytes:
    return b"\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + \
        bytes([len(name)]) + name.encode() + b"\x93"


def text(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def num(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def tup(*parts: bytes) -> bytes:
    return b"(" + b"".join(parts) + b"t"


def call(fn: bytes, *args: bytes) -> bytes:
    return fn + tup(*args) + b"R"


def storage(key: str, numel: int, stype: str = "FloatStorage") -> bytes:
    return tup(text("storage"), glob("torch", stype), text(key), text("cpu"), num(numel)) + b"Q"


def tensor(key: str, numel: int, size, stride, offset: int = 0) -> bytes:
    """``_rebuild_tensor_v2`` of a float32 storage, as torch.save writes it."""
    return call(glob("torch._utils", "_rebuild_tensor_v2"), storage(key, numel), num(offset),
                tup(*map(num, size)), tup(*map(num, stride)), FALSE,
                call(glob("collections", "OrderedDict")))


def pickle_of(body: bytes) -> bytes:
    return PROTO + body + STOP


def archive(pkl: bytes, records: dict | None = None, prefix: str = "archive/") -> bytes:
    """A checkpoint zip holding ``data.pkl`` and ``records`` (name -> bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(prefix + "data.pkl", pkl)
        zf.writestr(prefix + "byteorder", "little")
        for name, data in (records or {}).items():
            zf.writestr(name if name.startswith(prefix) or ".." in name else prefix + name, data)
        zf.writestr(prefix + "version", "3\n")
    return out.getvalue()
