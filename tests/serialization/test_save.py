"""ember.save: atomic writes (a failed save leaves the previous file), file objects, layout,
errors, storage sharing, whole modules."""

from __future__ import annotations

import errno
import io
import os
import pickle
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from ember.serialization import _files, _zip
from tests.oracle import torch
from tests.serialization.common import assert_same, data_offsets, sample, sharing


def _listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


def _saved(tmp_path, name="model.pth"):
    path = tmp_path / name
    ember.save({"w": ember.arange(10.0)}, path)
    return path, path.read_bytes()


def test_unpicklable_object_after_tensors_leaves_previous_file(tmp_path):
    path, before = _saved(tmp_path)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({"a": ember.ones(3), "b": ember.zeros(2), "c": lambda x: x}, path)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["model.pth"]
    assert ember.load(path)["w"].tolist() == list(range(10))


def test_error_while_writing_leaves_previous_file(tmp_path, monkeypatch):
    path, before = _saved(tmp_path)
    real = _zip.ZipWriter._write

    def full_disk(self, name, buf, crc):
        if name.endswith("data/1"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, name, buf, crc)

    monkeypatch.setattr(_zip.ZipWriter, "_write", full_disk)
    with pytest.raises(OSError, match="No space"):
        ember.save({"a": ember.ones(1000), "b": ember.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["model.pth"]


def _run(code: str):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env)


def test_full_disk_leaves_previous_file(tmp_path):
    """A real write failure: the child may write only 200 kB per file (RLIMIT_FSIZE), as on a
    nearly full disk, and saves 4 MB."""
    path, before = _saved(tmp_path)
    out = _run(f"""
        import resource, signal
        import ember
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))
        try:
            ember.save({{"w": ember.zeros(1_000_000)}}, {str(path)!r})
        except OSError as e:
            print("errno", e.errno)
        """)
    assert out.stdout.strip() == f"errno {errno.EFBIG}", out.stderr
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["model.pth"]


def _unnamed_files_work(directory) -> bool:
    fd = _files._open_unnamed(str(directory))
    if fd is None:
        return False
    os.close(fd)
    return True


def test_process_killed_mid_save_leaves_previous_file(tmp_path):
    path, before = _saved(tmp_path)
    out = _run(f"""
        import os
        import ember
        from ember.serialization import _zip
        real = _zip.ZipWriter._write
        def dying(self, name, buf, crc):
            if name.endswith("data/1"):
                os._exit(3)  # no cleanup runs: as if the process were killed
            real(self, name, buf, crc)
        _zip.ZipWriter._write = dying
        ember.save({{"a": ember.ones(1000), "b": ember.zeros(1000)}}, {str(path)!r})
        """)
    assert out.returncode == 3, out.stderr
    assert path.read_bytes() == before
    left = [n for n in _listing(tmp_path) if n != "model.pth"]
    if _unnamed_files_work(tmp_path):
        assert left == []  # the half-written file never had a name
    else:  # filesystems without O_TMPFILE linking: a hidden temporary file may remain
        assert all(n.startswith(".model.pth.") and n.endswith(".tmp") for n in left)


def test_new_file_permissions_follow_umask_and_overwrite_keeps_mode(tmp_path):
    old = os.umask(0o027)
    try:
        ember.save(ember.ones(2), tmp_path / "new.pt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.pt").st_mode) == 0o640
    os.chmod(tmp_path / "new.pt", 0o604)
    ember.save(ember.zeros(2), tmp_path / "new.pt")
    assert stat.S_IMODE(os.stat(tmp_path / "new.pt").st_mode) == 0o604
    assert ember.load(tmp_path / "new.pt").tolist() == [0.0, 0.0]


def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.pt"
    ember.save(ember.ones(1), real)
    link = tmp_path / "link.pt"
    link.symlink_to(real)
    ember.save(ember.full((2,), 7.0), link)
    assert link.is_symlink()
    assert ember.load(real).tolist() == [7.0, 7.0]


class _WriteOnly:
    """A stream that can only be written: no seek, no tell (a pipe, a socket)."""

    def __init__(self):
        self.chunks = []

    def write(self, b):
        self.chunks.append(bytes(b))
        return len(b)

    def flush(self):
        pass


def test_save_to_file_objects(tmp_path):
    obj = sample(ember)
    buf = io.BytesIO(b"0123456789")  # written from the current position
    buf.seek(10)
    ember.save(obj, buf)
    buf.seek(10)
    assert_same(ember.load(buf), obj)
    assert all(off % 64 == 0 for off in data_offsets(io.BytesIO(buf.getvalue())).values())
    with open(tmp_path / "handle.pt", "wb") as fh:
        ember.save(obj, fh)
    assert_same(ember.load(tmp_path / "handle.pt"), obj)
    stream = _WriteOnly()
    ember.save(obj, stream)
    raw = b"".join(stream.chunks)
    assert_same(ember.load(io.BytesIO(raw)), obj)
    if torch is not None:
        assert_same(obj, torch.load(io.BytesIO(raw), weights_only=True))


def test_save_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*missing does not exist"):
        ember.save(ember.ones(1), tmp_path / "missing" / "x.pt")
    with pytest.raises(AttributeError, match="file-like"):
        ember.save(ember.ones(1), 3)
    with pytest.raises(ValueError, match="pickle_protocol"):
        ember.save(ember.ones(1), io.BytesIO(), pickle_protocol=1)
    with pytest.raises(NotImplementedError, match="pickle_module"):
        ember.save(ember.ones(1), io.BytesIO(), pickle_module=io)
    with pytest.raises(NotImplementedError, match="zip"):
        ember.save(ember.ones(1), io.BytesIO(), _use_new_zipfile_serialization=False)
    with pytest.raises(IsADirectoryError):
        ember.save(ember.ones(1), tmp_path)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("lib", ["ember", "torch"])
def test_one_storage_viewed_as_two_dtypes_is_refused(lib):
    if lib == "torch" and torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")
    m = ember if lib == "ember" else torch
    x = m.arange(4, dtype=m.int32)
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        m.save([x, x.view(m.float32)], io.BytesIO())


def test_storage_sharing_survives_a_round_trip():
    obj = sample(ember)
    back = ember.load(io.BytesIO(_bytes(obj)))
    assert_same(back, obj)
    assert sharing(back) == sharing(obj)
    p = ember.nn.Parameter(ember.ones(3))
    q, d = ember.load(io.BytesIO(_bytes([p, p.data[1:]])))
    assert isinstance(q, ember.nn.Parameter) and q.requires_grad
    assert q.untyped_storage().data_ptr() == d.untyped_storage().data_ptr()


def test_saved_storage_is_the_whole_memory_as_in_torch():
    x = ember.arange(100.0)
    raw = _bytes(x[10:12])
    loaded = ember.load(io.BytesIO(raw))
    assert loaded.untyped_storage().nbytes() == 400 and loaded.storage_offset() == 10
    if torch is not None:
        t = torch.load(io.BytesIO(raw), weights_only=True)
        assert t.untyped_storage().nbytes() == 400 and t.storage_offset() == 10


def test_strided_and_dtype_views_save_correctly():
    x = ember.arange(24.0).reshape(2, 3, 4)
    views = [x.permute(2, 0, 1), x[..., ::3], x.view(ember.int32)[1], ember.empty_strided(
        (2, 2), (1, 3)).fill_(5.0)]
    back = ember.load(io.BytesIO(_bytes(views[:2] + views[3:])))
    assert_same(back, views[:2] + views[3:])
    (iv,) = ember.load(io.BytesIO(_bytes([views[2]])))
    assert iv.tolist() == views[2].tolist() and iv.dtype == ember.int32


def _bytes(obj, **kw) -> bytes:
    buf = io.BytesIO()
    ember.save(obj, buf, **kw)
    return buf.getvalue()


class SmallNet(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = ember.nn.Conv2d(1, 4, 3)
        self.bn = ember.nn.BatchNorm2d(4)
        self.fc = ember.nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        return self.fc(ember.flatten(ember.relu(self.bn(self.conv(x))), 1))


def test_whole_module_round_trip(tmp_path):
    net = SmallNet()
    net(ember.randn(2, 1, 8, 8))  # moves the batch-norm running statistics
    net.eval()
    ember.save(net, tmp_path / "net.pt")
    with pytest.warns(UserWarning, match="trust"):
        back = ember.load(tmp_path / "net.pt", weights_only=False)
    assert type(back) is SmallNet and not back.training
    assert all(isinstance(p, ember.nn.Parameter) for p in back.parameters())
    assert_same(back.state_dict(), net.state_dict())
    x = ember.randn(2, 1, 8, 8)
    assert back(x).tolist() == net(x).tolist()
    # the parameters train: they are leaves that get gradients
    back(x).sum().backward()
    assert back.fc.weight.grad is not None


def test_saving_a_loaded_file_keeps_bytes_of_every_dtype():
    rng = np.random.default_rng(0)
    obj = {str(d): ember.tensor(rng.standard_normal(3)).to(d) for d in
           (ember.float16, ember.bfloat16, ember.complex128, ember.bool, ember.int8)}
    once = ember.load(io.BytesIO(_bytes(obj)))
    assert_same(ember.load(io.BytesIO(_bytes(once))), obj)
