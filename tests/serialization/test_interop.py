"""Checkpoints move between ember and PyTorch (the oracle) in both directions: model and optimizer
state dicts, every dtype, views sharing storage, the legacy format, byte order, zip64."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch
from tests.serialization.common import (
    DTYPES,
    MODELS,
    array,
    assert_same,
    data_offsets,
    mlp,
    mnist_cnn,
    sample,
    sharing,
    tensor,
    tensors_in,
)

pytestmark = needs_torch


def _torch_model(model):
    torch.manual_seed(0)
    return model(torch)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_model_state_dict_ember_to_torch(model, tmp_path):
    m = model(ember)
    path = tmp_path / "model.pth"
    ember.save(m.state_dict(), path)
    loaded = torch.load(path, weights_only=True)
    assert_same(m.state_dict(), loaded)
    _torch_model(model).load_state_dict(loaded)  # the keys and shapes are torch's


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_model_state_dict_torch_to_ember(model, tmp_path):
    tm = _torch_model(model)
    path = tmp_path / "model.pth"
    torch.save(tm.state_dict(), path)
    loaded = ember.load(path)
    assert_same(loaded, tm.state_dict())
    m = model(ember)
    m.load_state_dict(loaded)
    assert_same(m.state_dict(), tm.state_dict())


def _train_torch(tm, steps=3):
    opt = torch.optim.Adam(tm.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x = torch.randn(8, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (8,), generator=g)
        opt.zero_grad()
        torch.nn.functional.nll_loss(tm(x), y).backward()
        opt.step()
    return opt


def test_model_trained_in_torch_gives_same_outputs_in_ember(tmp_path):
    tm = _torch_model(mnist_cnn)
    _train_torch(tm)
    torch.save(tm.state_dict(), tmp_path / "mnist_cnn.pt")
    m = mnist_cnn(ember)
    m.load_state_dict(ember.load(tmp_path / "mnist_cnn.pt"))
    tm.eval()
    m.eval()
    x = np.random.default_rng(1).standard_normal((4, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        want = tm(torch.from_numpy(x)).numpy()
    got = m(ember.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_optimizer_state_dict_both_ways(tmp_path):
    tm = _torch_model(mnist_cnn)
    topt = _train_torch(tm, steps=2)
    torch.save(topt.state_dict(), tmp_path / "torch_opt.pt")
    osd = ember.load(tmp_path / "torch_opt.pt")
    assert_same(osd, topt.state_dict())
    # the loaded state drives an ember optimizer over the same model
    m = mnist_cnn(ember)
    m.load_state_dict(ember.load(io.BytesIO(_torch_bytes(tm.state_dict()))))
    opt = ember.optim.Adam(m.parameters(), lr=1e-3)
    opt.load_state_dict(osd)
    ember.save(opt.state_dict(), tmp_path / "ember_opt.pt")
    back = torch.load(tmp_path / "ember_opt.pt", weights_only=True)
    assert_same(opt.state_dict(), back)
    topt2 = torch.optim.Adam(tm.parameters(), lr=1e-3)
    topt2.load_state_dict(back)


def _torch_bytes(obj, **kw) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    return buf.getvalue()


def _ember_bytes(obj, **kw) -> bytes:
    buf = io.BytesIO()
    ember.save(obj, buf, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_ember_to_torch(dtype):
    obj = sample(ember, dtype)
    loaded = torch.load(io.BytesIO(_ember_bytes(obj)), weights_only=True)
    assert_same(obj, loaded)
    assert sharing(loaded) == sharing(obj)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_torch_to_ember(dtype):
    obj = sample(torch, dtype)
    loaded = ember.load(io.BytesIO(_torch_bytes(obj)))
    assert_same(loaded, obj)
    assert sharing(loaded) == sharing(obj)


def test_shared_views_load_as_views_of_one_storage():
    base = ember.arange(12.0).reshape(3, 4)
    a, b = ember.load(io.BytesIO(_ember_bytes([base[1], base.t()])))
    assert a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
    a.mul_(10)  # one storage: writing through one view shows in the other
    assert b[:, 1].tolist() == [40.0, 50.0, 60.0, 70.0]
    assert b.stride() == (1, 4) and a.storage_offset() == 4
    # and the same through PyTorch
    ta, tb = torch.load(io.BytesIO(_ember_bytes([base[1], base.t()])), weights_only=True)
    assert ta.untyped_storage().data_ptr() == tb.untyped_storage().data_ptr()
    assert tb.stride() == (1, 4) and ta.storage_offset() == 4


def test_loaded_checkpoint_saves_back_with_its_sharing():
    obj = sample(torch)
    once = ember.load(io.BytesIO(_torch_bytes(obj)))
    twice = torch.load(io.BytesIO(_ember_bytes(once)), weights_only=True)
    assert_same(once, twice)
    assert sharing(twice) == sharing(obj)


def test_tensor_attributes_and_parameter_state_both_ways():
    t = torch.arange(3.0)
    t.note = "kept"
    p = torch.nn.Parameter(torch.ones(2))
    p.tag = 7
    e = ember.load(io.BytesIO(_torch_bytes([t, p])))
    assert e[0].note == "kept" and e[1].tag == 7 and isinstance(e[1], ember.nn.Parameter)
    back = torch.load(io.BytesIO(_ember_bytes(e)), weights_only=True)
    assert back[0].note == "kept" and back[1].tag == 7
    assert isinstance(back[1], torch.nn.Parameter)


def test_lazy_conj_and_neg_tensors_from_torch():
    c = torch.tensor([1 + 2j, 3 - 1j])
    loaded = ember.load(io.BytesIO(_torch_bytes({"conj": c.conj(), "neg": torch.ones(2)
                                                 ._neg_view()})))
    assert loaded["conj"].tolist() == [1 - 2j, 3 + 1j]
    assert loaded["neg"].tolist() == [-1.0, -1.0]


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_protocols(protocol):
    obj = sample(ember)
    raw = _ember_bytes(obj, pickle_protocol=protocol)
    # PyTorch's weights_only unpickler knows protocol 2's opcodes only
    assert_same(obj, torch.load(io.BytesIO(raw), weights_only=protocol == 2))
    assert_same(ember.load(io.BytesIO(raw)), obj)
    assert_same(ember.load(io.BytesIO(_torch_bytes(sample(torch), pickle_protocol=protocol))),
                sample(torch))


@pytest.mark.parametrize("weights_only", [True, False])
def test_legacy_format_from_torch(weights_only, tmp_path):
    obj = sample(torch)
    path = tmp_path / "legacy.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    with _maybe_warns(weights_only):
        loaded = ember.load(path, weights_only=weights_only)
    assert_same(loaded, obj)
    assert sharing(loaded) == sharing(obj)
    with _maybe_warns(weights_only):
        from_buffer = ember.load(io.BytesIO(path.read_bytes()), weights_only=weights_only)
    assert_same(from_buffer, obj)


def _maybe_warns(weights_only):
    if weights_only:
        import contextlib

        return contextlib.nullcontext()
    return pytest.warns(UserWarning, match="arbitrary code")


def test_legacy_whole_module_from_torch(tmp_path):
    path = tmp_path / "legacy_module.pt"
    tm = torch.nn.Sequential(torch.nn.Linear(3, 2))
    torch.save(tm, path, _use_new_zipfile_serialization=False)
    with pytest.warns(UserWarning):
        m = ember.load(path, weights_only=False)
    assert isinstance(m, ember.nn.Sequential) and isinstance(m[0], ember.nn.Linear)
    assert_same(m.state_dict(), tm.state_dict())
    with pytest.raises(ember.serialization._load.UnpicklingError, match="torch.nn.modules"):
        ember.load(path)


def test_whole_torch_module_loads_as_ember_module(tmp_path):
    tm = _torch_model(mlp)
    torch.save(tm, tmp_path / "whole.pt")
    with pytest.warns(UserWarning):
        m = ember.load(tmp_path / "whole.pt", weights_only=False)
    assert isinstance(m, ember.nn.Sequential) and isinstance(m[1], ember.nn.Linear)
    assert_same(m.state_dict(), tm.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 784)).astype(np.float32)
    np.testing.assert_allclose(m(ember.from_numpy(x)).detach().numpy(),
                               tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def _rewrite(raw: bytes, change) -> bytes:
    """A copy of a checkpoint with ``change(name, data) -> data`` applied to each record."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))
    return out.getvalue()


def test_big_endian_checkpoint_is_byteswapped():
    obj = {d: tensor(torch, array(d, (5,))) for d in DTYPES}
    raw = _torch_bytes(obj)
    keys = {}  # record -> dtype, from the order torch wrote them in
    for i, d in enumerate(DTYPES):
        keys[f"archive/data/{i}"] = ember._dtype._BY_NAME[d]

    def to_big(name, data):
        if name.endswith("byteorder"):
            return b"big"
        if name in keys:
            d = keys[name]
            size = d.itemsize // 2 if d.is_complex else d.itemsize
            return np.frombuffer(data, f"<u{size}").astype(f">u{size}").tobytes()
        return data

    big = _rewrite(raw, to_big)
    assert_same(ember.load(io.BytesIO(big)), obj)
    # the oracle reads the rewritten file the same way
    assert_same(ember.load(io.BytesIO(big)), torch.load(io.BytesIO(big), weights_only=True))


def test_archive_layout_matches_torch(tmp_path):
    obj = sample(ember)
    ember.save(obj, tmp_path / "ckpt.pt")
    torch.save(sample(torch), tmp_path / "ckpt_torch.pt")
    ours = zipfile.ZipFile(tmp_path / "ckpt.pt").namelist()
    theirs = zipfile.ZipFile(tmp_path / "ckpt_torch.pt").namelist()
    assert [n.replace("ckpt/", "") for n in ours] == \
        [n.replace("ckpt_torch/", "") for n in theirs]
    assert all(off % 64 == 0 for off in data_offsets(tmp_path / "ckpt.pt").values())
    assert zipfile.ZipFile(io.BytesIO(_ember_bytes(obj))).namelist()[0] == "archive/data.pkl"


def test_zip64_archive_loads_in_both(tmp_path, monkeypatch):
    # archives pass to zip64 records at 4 GiB; lowering the limit writes the same structures
    # (zip64 sizes, offsets and end records) in a small file
    from ember.serialization import _zip

    monkeypatch.setattr(_zip, "ZIP64_LIMIT", 100)
    obj = sample(ember)
    obj["big"] = ember.arange(100.0)  # a record over the limit, at an offset over it
    ember.save(obj, tmp_path / "z64.pt")
    monkeypatch.undo()
    raw = (tmp_path / "z64.pt").read_bytes()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw  # zip64 end record and locator
    with zipfile.ZipFile(tmp_path / "z64.pt") as zf:
        assert zf.testzip() is None  # every record's CRC checks out
        assert any(i.file_size > 100 and i.header_offset > 100 for i in zf.infolist())
    assert all(off % 64 == 0 for off in data_offsets(tmp_path / "z64.pt").values())
    assert_same(obj, torch.load(tmp_path / "z64.pt", weights_only=True))
    assert_same(ember.load(tmp_path / "z64.pt"), obj)
    assert_same(ember.load(tmp_path / "z64.pt", mmap=True), obj)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def test_unsafe_globals_listed_like_torch(tmp_path):
    path = tmp_path / "point.pt"
    torch.save({"p": Point(1, torch.ones(2)), "n": np.float64(1.5)}, path)
    want = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    assert ember.serialization.get_unsafe_globals_in_checkpoint(path) == want
    assert ember.serialization.get_unsafe_globals_in_checkpoint(
        io.BytesIO(_torch_bytes(sample(torch), pickle_protocol=4))) == []


def test_map_location_forms(tmp_path):
    path = tmp_path / "m.pt"
    obj = sample(torch)
    torch.save(obj, path)
    seen = []

    def spy(storage, location):
        seen.append((type(storage).__name__, location, storage.nbytes()))
        return None  # None: the default placement

    for ml in ("cpu", ember.device("cpu"), {"cpu": "cpu"}, spy, lambda s, loc: s.cpu()):
        assert_same(ember.load(path, map_location=ml), obj)
    # the callable sees each storage once, as PyTorch's would
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
                for t in tensors_in(obj)}
    assert sorted(seen) == sorted(("UntypedStorage", "cpu", n) for n in storages.values())


def test_untyped_storage_matches_torch():
    for lib_t, lib_e in [(torch.arange(12.0).reshape(3, 4), ember.arange(12.0).reshape(3, 4))]:
        for f in (lambda t: t, lambda t: t[1:], lambda t: t.t(), lambda t: t[:, 1::2]):
            t, e = f(lib_t), f(lib_e)
            assert e.untyped_storage().nbytes() == t.untyped_storage().nbytes()
            assert (e.untyped_storage().data_ptr() == lib_e.data_ptr()) == \
                (t.untyped_storage().data_ptr() == lib_t.data_ptr())
            assert e.storage_offset() == t.storage_offset()
    s = ember.tensor([1, 2], dtype=ember.int16).untyped_storage()
    assert s.tolist() == torch.tensor([1, 2], dtype=torch.int16).untyped_storage().tolist()
    assert len(s) == 4 and s.device == ember.device("cpu") and s.element_size() == 1
