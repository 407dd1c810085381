"""safetensors files: what ember writes, safetensors.torch reads, and the other way round."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.serialization import load_safetensors, save_safetensors
from tests.oracle import torch
from tests.serialization.common import DTYPES, array, assert_same, mlp, tensor

pytest.importorskip("safetensors")

# safetensors has no complex128
ST_DTYPES = [d for d in DTYPES if d != "complex128"]


def _tensors(lib):
    out = {f"t_{d}": tensor(lib, array(d, (3, 2), seed=i)) for i, d in enumerate(ST_DTYPES)}
    out["scalar"] = tensor(lib, array("float32", ()))
    out["empty"] = lib.zeros(0, 4)
    return out


def test_round_trip_every_dtype(tmp_path):
    obj = _tensors(ember)
    save_safetensors(obj, tmp_path / "t.safetensors", metadata={"format": "pt"})
    back = load_safetensors(tmp_path / "t.safetensors")
    assert sorted(back) == sorted(obj)
    for k in obj:
        assert_same(back[k], obj[k], k)
    back["t_float32"].add_(1)  # loaded tensors are writable


@pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")
def test_files_interchange_with_safetensors_torch(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    save_safetensors(_tensors(ember), tmp_path / "ember.safetensors", metadata={"k": "v"})
    theirs = load_file(tmp_path / "ember.safetensors")
    for k, t in _tensors(ember).items():
        assert_same(t, theirs[k], k)
    with safe_open(tmp_path / "ember.safetensors", framework="pt") as f:
        assert f.metadata() == {"k": "v"}
    save_file(_tensors(torch), tmp_path / "torch.safetensors")
    ours = load_safetensors(tmp_path / "torch.safetensors")
    for k, t in _tensors(torch).items():
        assert_same(ours[k], t, k)
    # torch.load dispatches .safetensors paths to safetensors; so does ember.load
    assert_same(ember.load(tmp_path / "torch.safetensors")["t_int16"], _tensors(torch)["t_int16"])


def test_load_state_dict_accepts_the_result(tmp_path):
    src, dst = mlp(ember), mlp(ember)
    save_safetensors(src.state_dict(), tmp_path / "mlp.safetensors")
    dst.load_state_dict(load_safetensors(tmp_path / "mlp.safetensors"))
    x = ember.randn(2, 784)
    assert dst(x).tolist() == src(x).tolist()


def test_views_and_non_contiguous_tensors_are_stored_dense(tmp_path):
    base = ember.arange(12.0).reshape(3, 4)
    save_safetensors({"t": base.t(), "row": base[1]}, tmp_path / "v.safetensors")
    back = load_safetensors(tmp_path / "v.safetensors")
    assert back["t"].tolist() == base.t().tolist() and back["t"].is_contiguous()
    assert back["row"].tolist() == [4.0, 5.0, 6.0, 7.0]


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="complex128"):
        save_safetensors({"c": ember.zeros(2, dtype=ember.complex128)}, tmp_path / "c.st")
    with pytest.raises(TypeError, match="not a tensor"):
        save_safetensors({"x": np.zeros(2)}, tmp_path / "x.st")
    with pytest.raises(TypeError, match="metadata"):
        save_safetensors({"x": ember.ones(1)}, tmp_path / "x.st", metadata={"a": 1})
    assert not list(tmp_path.iterdir())  # nothing written, no temporary files left
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(RuntimeError, match="bad.safetensors"):
        load_safetensors(tmp_path / "bad.safetensors")
    with pytest.raises(FileNotFoundError):
        load_safetensors(tmp_path / "absent.safetensors")
