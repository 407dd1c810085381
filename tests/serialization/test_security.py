"""weights_only loads run nothing from the file: payloads that would run code are refused by
name, the allowlist works as PyTorch's, and damaged or hostile files raise clear errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pickle import UnpicklingError

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from ember.serialization import (
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    get_unsafe_globals_in_checkpoint,
    safe_globals,
)
from tests.serialization import forge as F
from tests.serialization.common import assert_same, data_offsets, sample

FLOATS = np.arange(4, dtype=np.float32).tobytes()


def _payloads(marker: str) -> dict:
    """name -> (pickle that creates ``marker`` when run, the global it must be refused for)."""
    touch = F.text(f"touch {marker}")
    create = F.text(f"open({marker!r}, 'w').close()")
    return {
        "os.system": (F.call(F.glob("os", "system"), touch), "os.system"),
        "posix.system": (F.call(F.glob("posix", "system"), touch), "posix.system"),
        "nt.system": (F.call(F.glob("nt", "system"), touch), "nt.system"),
        "eval": (F.call(F.glob("builtins", "eval"), create), "builtins.eval"),
        "py2 eval": (F.call(F.glob("__builtin__", "eval"), create), "builtins.eval"),
        "exec": (F.call(F.glob("builtins", "exec"), create), "builtins.exec"),
        "subprocess": (F.call(F.glob("subprocess", "Popen"),
                              b"]" + F.text("touch") + b"a" + F.text(marker) + b"a"),
                       "subprocess.Popen"),
        # getattr(__import__('os'), 'system')('touch marker')
        "getattr(__import__)": (F.call(F.call(F.glob("builtins", "getattr"),
                                              F.call(F.glob("builtins", "__import__"),
                                                     F.text("os")), F.text("system")), touch),
                                "builtins.getattr"),
        # a dotted name walking from an allowed class to its module's globals
        "dotted STACK_GLOBAL": (F.call(F.stack_glob(
            "collections", "OrderedDict.__init__.__globals__"), F.text("os")),
            "collections.OrderedDict.__init__.__globals__"),
        "dotted torch name": (F.call(F.glob("torch._utils", "_rebuild_tensor_v2.__globals__"),
                                     F.text("os")),
                              "torch._utils._rebuild_tensor_v2.__globals__"),
    }


PAYLOADS = list(_payloads("m"))


@pytest.mark.parametrize("name", PAYLOADS)
def test_code_running_pickles_are_refused_and_named(name, tmp_path):
    marker = tmp_path / "pwned"
    body, global_name = _payloads(str(marker))[name]
    path = tmp_path / "evil.pt"
    path.write_bytes(F.archive(F.pickle_of(body)))
    with pytest.raises(UnpicklingError) as info:
        ember.load(path)
    msg = str(info.value)
    assert global_name in msg and str(path) in msg
    assert "weights_only" in msg
    assert not marker.exists()
    assert global_name in get_unsafe_globals_in_checkpoint(path)


@pytest.mark.parametrize("name", ["os.system", "eval", "subprocess"])
def test_payloads_are_live_without_weights_only(name, tmp_path):
    # the same files do run code through full pickle: the refusals above are real
    marker = tmp_path / "pwned"
    body, _ = _payloads(str(marker))[name]
    path = tmp_path / "evil.pt"
    path.write_bytes(F.archive(F.pickle_of(body)))
    with pytest.warns(UserWarning, match="arbitrary code"):
        proc = ember.load(path, weights_only=False)
    if isinstance(proc, subprocess.Popen):
        proc.wait()
    assert marker.exists()


def test_blocked_modules_stay_blocked_when_allowlisted(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(F.archive(F.pickle_of(_payloads(str(marker))["posix.system"][0])))
    with safe_globals([os.system, (os.system, "posix.system")]):
        with pytest.raises(UnpicklingError, match="posix is blocked"):
            ember.load(path)
    assert not marker.exists()


def test_rebuild_from_type_calls_only_rebuild_functions(tmp_path):
    # an allowlisted function handed a non-rebuild callable must not call it
    body = F.call(F.glob("torch._tensor", "_rebuild_from_type_v2"),
                  F.glob("collections", "Counter"), F.glob("torch", "Tensor"), b")", b"}")
    path = tmp_path / "evil.pt"
    path.write_bytes(F.archive(F.pickle_of(body)))
    with pytest.raises(RuntimeError, match="not a tensor rebuild function"):
        ember.load(path)


@pytest.mark.parametrize("body, match", [
    (F.call(F.glob("_codecs", "encode"), F.text("x"), F.text("zlib_codec")), "latin1"),
    (F.call(F.glob("torch", "Tensor"), F.num(10 ** 9)), "unrecognized function"),
    (F.glob("torch", "Tensor") + F.tup(F.num(3)) + b"\x81", "unrecognized function"),
    (F.call(F.glob("torch", "Size"), F.tup(F.num(2))) + F.text("k") + F.num(1) + b"s",
     "SETITEM"),
    (b"\x8f" + F.num(1) + b"a", "APPEND"),
    (F.call(F.glob("torch", "device"), F.text("cpu")) + b"}" + b"b", "Can only build"),
    (b"(" + F.glob("collections", "OrderedDict") + b"i", "opcode"),
    (F.text("x") + b"\x82\x01", "opcode"),
    (F.tup(F.text("module"), F.num(1)) + b"Q", "persistent_load of storage"),
])
def test_restricted_opcodes(body, match, tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(F.archive(F.pickle_of(body)))
    with pytest.raises((UnpicklingError, RuntimeError), match=match):
        ember.load(path)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def test_allowlist_functions(tmp_path):
    path = tmp_path / "point.pt"
    ember.save({"p": Point(1, ember.ones(2))}, path)
    name = f"{Point.__module__}.Point"
    with pytest.raises(UnpicklingError, match=name.replace(".", r"\.")) as info:
        ember.load(path)
    assert "add_safe_globals" in str(info.value) and "weights_only" in str(info.value)
    assert get_unsafe_globals_in_checkpoint(path) == [name]
    with safe_globals([Point]):
        assert get_safe_globals() == [Point]
        assert get_unsafe_globals_in_checkpoint(path) == []
        p = ember.load(path)["p"]
    assert isinstance(p, Point) and p.x == 1 and p.y.tolist() == [1.0, 1.0]
    assert get_safe_globals() == []
    add_safe_globals([(Point, name)])
    try:
        assert ember.load(path)["p"].x == 1
    finally:
        clear_safe_globals()
    assert get_safe_globals() == []
    with pytest.raises(ValueError, match="length"):
        add_safe_globals([(Point,)])
    with pytest.raises(TypeError, match="str"):
        add_safe_globals([(Point, 3)])


def test_ember_classes_match_their_torch_spelling(tmp_path):
    # a PyTorch checkpoint names torch.nn.modules.linear.Linear; allowlisting ember's class
    # allows that name too
    pkl = F.pickle_of(F.glob("torch.nn.modules.linear", "Linear"))
    path = tmp_path / "cls.pt"
    path.write_bytes(F.archive(pkl))
    with pytest.raises(UnpicklingError, match="torch.nn.modules.linear.Linear"):
        ember.load(path)
    with safe_globals([ember.nn.Linear]):
        assert ember.load(path) is ember.nn.Linear


# --------------------------------------------------------------------------- damaged files


def _good() -> bytes:
    buf = io.BytesIO()
    ember.save(sample(ember), buf)
    return buf.getvalue()


def _flip_pickle_byte(raw: bytes) -> bytes:
    off = data_offsets(io.BytesIO(raw))["archive/data.pkl"]
    bad = bytearray(raw)
    bad[off + 30] ^= 0x40
    return bytes(bad)


BAD_FILES = {
    "empty": (lambda: b"", "empty"),
    "text": (lambda: b"hello, this is not a checkpoint\n", "not a checkpoint"),
    "truncated zip": (lambda: _good()[: len(_good()) // 2], "truncated or corrupt"),
    "cut central directory": (lambda: _good()[:-30], "truncated or corrupt"),
    "no data.pkl": (lambda: _zip_without_pickle(), "no data.pkl"),
    "path with ..": (lambda: F.archive(F.pickle_of(b"N"), {"archive/../../etc/x": b"1"}),
                     "unsafe path"),
    "storage larger than data": (lambda: F.archive(F.pickle_of(F.tensor("0", 100, (100,),
                                                                        (1,))),
                                                   {"data/0": FLOATS}), "declares 400 bytes"),
    "missing storage record": (lambda: F.archive(F.pickle_of(F.tensor("7", 4, (4,), (1,)))),
                               "no record 'data/7'"),
    "tensor outside storage": (lambda: F.archive(F.pickle_of(F.tensor("0", 4, (3,), (2,), 1)),
                                                 {"data/0": FLOATS}), "out of bounds"),
    "negative numel": (lambda: F.archive(F.pickle_of(F.tensor("0", -4, (1,), (1,))),
                                         {"data/0": FLOATS}), "invalid storage size"),
    "corrupt pickle": (lambda: _flip_pickle_byte(_good()), "CRC-32"),
    "truncated pickle": (lambda: F.archive(F.pickle_of(F.tensor("0", 4, (4,), (1,)))[:-9],
                                           {"data/0": FLOATS}), "truncated"),
    "legacy bad magic": (lambda: b"\x80\x02K\x07.", "magic number"),
    "unknown dtype": (lambda: F.archive(F.pickle_of(F.glob("torch", "uint16"))),
                      "torch.uint16"),
}


def _zip_without_pickle() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/version", "3\n")
    return out.getvalue()


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_damaged_files_raise_clear_errors(case, tmp_path):
    make, match = BAD_FILES[case]
    path = tmp_path / "damaged.pt"
    path.write_bytes(make())
    with pytest.raises((RuntimeError, UnpicklingError), match=match) as info:
        ember.load(path)
    assert str(path) in str(info.value)


def test_torchscript_archive_is_named(tmp_path):
    path = tmp_path / "script.pt"
    path.write_bytes(F.archive(b"", {"constants.pkl": b""}, prefix="m/")
                     .replace(b"m/data.pkl", b"m/code.pkl"))
    with pytest.raises(NotImplementedError, match="TorchScript"):
        ember.load(path)


def test_tar_format_is_named(tmp_path):
    import tarfile

    path = tmp_path / "old.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("storages")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(NotImplementedError, match="tar format"):
        ember.load(path)


HOSTILE = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])


@HOSTILE
@given(cut=st.integers(0, 10_000), flips=st.lists(st.tuples(st.integers(0, 10_000),
                                                            st.integers(1, 255)), max_size=4))
def test_mangled_pickles_fail_cleanly(cut, flips):
    """Any truncation or byte flips of a real checkpoint's pickle load or raise
    UnpicklingError/RuntimeError: never another exception, never a crash."""
    buf = io.BytesIO()
    ember.save(sample(ember), buf)
    import zipfile

    zf = zipfile.ZipFile(buf)
    pkl = bytearray(zf.read("archive/data.pkl"))
    records = {n[len("archive/"):]: zf.read(n) for n in zf.namelist() if "/data/" in n}
    for pos, x in flips:
        pkl[pos % len(pkl)] ^= x
    pkl = bytes(pkl[: max(1, cut % (len(pkl) + 1))])
    try:
        ember.load(io.BytesIO(F.archive(pkl, records)))
    except (UnpicklingError, RuntimeError):
        pass


@HOSTILE
@given(flips=st.lists(st.tuples(st.integers(0, 100_000), st.integers(1, 255)), min_size=1,
                      max_size=3))
def test_mangled_archives_fail_cleanly(flips):
    raw = bytearray(_good())
    for pos, x in flips:
        raw[pos % len(raw)] ^= x
    try:
        ember.load(io.BytesIO(bytes(raw)))
    except (UnpicklingError, RuntimeError):
        pass


def test_weights_only_refusal_does_not_fall_back(tmp_path):
    ember.save(ember.nn.Linear(2, 2), tmp_path / "module.pt")
    with pytest.raises(UnpicklingError, match="weights_only"):
        ember.load(tmp_path / "module.pt")
    with pytest.warns(UserWarning, match="trust"):
        m = ember.load(tmp_path / "module.pt", weights_only=False)
    assert isinstance(m, ember.nn.Linear)


def test_load_runs_in_a_clean_interpreter_without_torch(tmp_path):
    """A checkpoint written by PyTorch loads where PyTorch cannot be imported."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "t.pt"
    torch.save({"w": torch.arange(6.0).reshape(2, 3)}, path)
    code = ("import sys; sys.modules['torch'] = None\n"
            "import ember\n"
            f"print(ember.load({str(path)!r})['w'].sum().item())")
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip() == "15.0"
    assert_same(ember.load(path), {"w": torch.arange(6.0).reshape(2, 3)})
