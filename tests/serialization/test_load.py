"""ember.load: mmap, map_location, weights_only switches, file objects, CUDA placement."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from tests.oracle import torch
from tests.serialization.common import assert_same, sample

CUDA = ember.cuda.is_available()


def test_mmap_loads_the_same_values(tmp_path):
    obj = sample(ember)
    ember.save(obj, tmp_path / "m.pt")
    assert_same(ember.load(tmp_path / "m.pt", mmap=True), obj)


def test_mmap_is_copy_on_write(tmp_path):
    ember.save({"w": ember.arange(6.0)}, tmp_path / "m.pt")
    before = (tmp_path / "m.pt").read_bytes()
    w = ember.load(tmp_path / "m.pt", mmap=True)["w"]
    w.mul_(2)  # a loaded tensor is writable; the file does not change
    assert w.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert (tmp_path / "m.pt").read_bytes() == before


def test_mmap_needs_a_path_and_the_zip_format(tmp_path):
    buf = io.BytesIO()
    ember.save(ember.ones(2), buf)
    buf.seek(0)
    with pytest.raises(ValueError, match="file path"):
        ember.load(buf, mmap=True)
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(b"\x80\x02K\x07.")
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        ember.load(legacy, mmap=True)


def _peak_rss_growth_mb(path, mmap: bool) -> float:
    """How far a child process's resident memory peaks above its level before loading
    ``path`` (MiB). Read from /proc (VmHWM is per process image; ru_maxrss would include the
    peak of the pytest process the child was forked from)."""
    code = textwrap.dedent(f"""
        import ember
        def status(key):
            with open("/proc/self/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith(key))
        before = status("VmRSS:")
        sd = ember.load({str(path)!r}, mmap={mmap})
        assert sd["w"][-3:].tolist() == [1.0, 1.0, 1.0]
        print((status("VmHWM:") - before) / 1024)
        """)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    return float(out.stdout)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_mmap_does_not_read_the_data_into_memory(tmp_path):
    path = tmp_path / "big.pt"
    ember.save({"w": ember.ones(32 * 1024 * 1024)}, path)  # 128 MiB
    assert _peak_rss_growth_mb(path, mmap=False) > 120  # the measurement sees a full read
    assert _peak_rss_growth_mb(path, mmap=True) < 32


def test_map_location_to_cuda_without_cuda_fails_clearly(tmp_path):
    if CUDA:
        pytest.skip("CUDA is available")
    ember.save(ember.ones(2), tmp_path / "m.pt")
    for ml in ("cuda", "cuda:0", ember.device("cuda", 0), {"cpu": "cuda:1"}):
        with pytest.raises(RuntimeError, match=r"torch.cuda.is_available\(\) is False"):
            ember.load(tmp_path / "m.pt", map_location=ml)
    with pytest.raises(RuntimeError, match="don't know how to restore"):
        ember.load(tmp_path / "m.pt", map_location="meta")
    with pytest.raises(TypeError, match="map_location"):
        ember.load(tmp_path / "m.pt", map_location=3)
    with pytest.raises(TypeError, match="must return a storage"):
        ember.load(tmp_path / "m.pt", map_location=lambda s, loc: 3)


def test_register_package_places_storages(tmp_path):
    calls = []

    def tagger(storage):
        return None

    def deserializer(storage, location):
        calls.append(location)
        return storage if location == "cpu" else None

    ember.serialization.register_package(5, tagger, deserializer)
    try:
        ember.save([ember.ones(2), ember.zeros(3)], tmp_path / "m.pt")
        assert [t.tolist() for t in ember.load(tmp_path / "m.pt")] == [[1.0, 1.0], [0.0] * 3]
    finally:
        from ember.serialization import _locations

        _locations._package_registry.remove((5, tagger, deserializer))
    assert calls == ["cpu", "cpu"]
    s = ember.ones(2).untyped_storage()
    assert ember.serialization.location_tag(s) == "cpu"
    assert ember.serialization.default_restore_location(s, "cpu").nbytes() == 8


def test_weights_only_switches(tmp_path):
    ember.save(ember.ones(2), tmp_path / "m.pt")
    import pickle

    with pytest.raises(RuntimeError, match="explicit pickle_module"):
        ember.load(tmp_path / "m.pt", pickle_module=pickle, weights_only=True)
    with pytest.warns(UserWarning, match="arbitrary code"):
        assert ember.load(tmp_path / "m.pt", pickle_module=pickle).tolist() == [1.0, 1.0]
    with pytest.warns(UserWarning, match="pickle_load_args"):
        ember.load(tmp_path / "m.pt", fix_imports=False)


def test_file_objects(tmp_path):
    obj = sample(ember)
    ember.save(obj, tmp_path / "m.pt")
    raw = (tmp_path / "m.pt").read_bytes()
    with open(tmp_path / "m.pt", "rb") as fh:
        assert_same(ember.load(fh), obj)
    buf = io.BytesIO(b"junk" + raw)
    buf.seek(4)
    assert_same(ember.load(buf), obj)

    class NoSeek(io.RawIOBase):
        def readable(self):
            return True

        def seekable(self):
            return False

    with pytest.raises(io.UnsupportedOperation, match="seekable"):
        ember.load(NoSeek())
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "absent.pt")
    with pytest.raises(AttributeError, match="file-like"):
        ember.load(12)


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_cuda_tensors_save_with_their_location_and_load_back(tmp_path):
    x = ember.arange(6.0, device="cuda").reshape(2, 3)
    ember.save({"x": x, "v": x[:, 1]}, tmp_path / "c.pt")
    from ember.serialization import get_unsafe_globals_in_checkpoint

    assert get_unsafe_globals_in_checkpoint(tmp_path / "c.pt") == []
    back = ember.load(tmp_path / "c.pt")
    assert back["x"].device.type == "cuda" and back["x"].tolist() == x.tolist()
    assert back["v"].stride() == (3,) and back["v"].tolist() == [1.0, 4.0]
    cpu = ember.load(tmp_path / "c.pt", map_location="cpu")
    assert cpu["x"].device.type == "cpu" and cpu["v"].tolist() == [1.0, 4.0]
    if torch is not None:
        t = torch.load(tmp_path / "c.pt", map_location="cpu", weights_only=True)
        assert t["x"].tolist() == x.tolist()
    ember.save(ember.ones(2), tmp_path / "h.pt")
    assert ember.load(tmp_path / "h.pt", map_location="cuda:0").device.type == "cuda"
    moved = ember.load(tmp_path / "h.pt", map_location=lambda s, loc: s.cuda(0))
    assert moved.device.type == "cuda" and moved.tolist() == [1.0, 1.0]


def test_loaded_tensors_are_ordinary_tensors(tmp_path):
    ember.save({"w": ember.randn(3, 3), "i": ember.arange(3)}, tmp_path / "m.pt")
    sd = ember.load(tmp_path / "m.pt")
    w = sd["w"].requires_grad_()
    (w @ w).sum().backward()
    assert w.grad.shape == (3, 3)
    sd["i"].add_(1)
    assert sd["i"].tolist() == [1, 2, 3]
    assert np.shares_memory(sd["w"].detach().numpy(), sd["w"].detach().numpy())
