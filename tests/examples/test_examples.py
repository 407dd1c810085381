"""Every example runs (``--smoke``: a few batches) under ``python -m ember.compat``, so the
examples never rot. Each runs in a subprocess; a run skips when its data or an optional
package is missing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

import ember
from tests.conftest import DATA_ROOT

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples")


def fashion_root() -> str:
    """A --data root holding Fashion-MNIST (../shared/data, or Debian's package), or skip."""
    if (DATA_ROOT / "FashionMNIST" / "raw").is_dir():
        return str(DATA_ROOT)
    if os.path.isdir("/usr/share/datasets/fashion-mnist"):
        return os.path.join(os.sep, "nonexistent-root")  # the dataset falls back to Debian's
    pytest.skip(f"Fashion-MNIST not found in {DATA_ROOT} nor /usr/share/datasets")


def needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


def needs_ember(*names: str) -> None:
    """Skip until ember has ``ember.nn.<name>`` for every name (modules still being built)."""
    missing = [n for n in names if not hasattr(ember.nn, n)]
    if missing:
        pytest.skip(f"ember.nn lacks {', '.join(missing)}")


def run_example(name: str, *args: str, tmp_path, timeout: float = 300) -> str:
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "ember.compat", os.path.join(EXAMPLES, f"{name}.py"),
           "--smoke", "--out", str(tmp_path / "runs"), *args]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r.stdout


def pngs(tmp_path) -> set:
    return {p.name for p in (tmp_path / "runs").glob("*.png")}


def test_fashion_mnist_cnn(tmp_path):
    out = run_example("fashion_mnist_cnn", "--data", fashion_root(), "--epochs", "1",
                      tmp_path=tmp_path)
    assert "epoch 1: train loss" in out and "final test accuracy:" in out
    assert pngs(tmp_path) == {"fashion_mnist_cnn.png"}
    assert (tmp_path / "runs" / "fashion_mnist_cnn.pt").is_file()
    out = run_example("fashion_mnist_cnn", "--data", fashion_root(), "--epochs", "2",
                      "--resume", tmp_path=tmp_path)
    assert "resumed from" in out and "after epoch 1" in out
    assert "epoch 1:" not in out.replace("after epoch 1", "") and "epoch 2: train loss" in out
    assert "after 2 epochs" in out


def test_mlp(tmp_path):
    out = run_example("mlp", "--data", fashion_root(), tmp_path=tmp_path)
    assert "Epoch 2, loss:" in out and pngs(tmp_path) == {"mlp.png"}


def test_imagefolder_classifier(tmp_path):
    needs("PIL")
    folder = tmp_path / "images"
    out = run_example("imagefolder_classifier", "--data", fashion_root(), "--make-demo-folder",
                      "--folder", str(folder), tmp_path=tmp_path)
    assert "wrote 50 images" in out and "40 training and 10 validation images" in out
    assert len(list((folder / "train").iterdir())) == 10
    assert "validation accuracy" in out
    assert pngs(tmp_path) == {"imagefolder_classifier.png",
                              "imagefolder_classifier_curves.png"}


def test_gan(tmp_path):
    out = run_example("gan", "--data", fashion_root(), tmp_path=tmp_path)
    assert "epoch 2: D loss" in out
    assert pngs(tmp_path) == {"gan_epoch_1.png", "gan_epoch_2.png", "gan_losses.png"}


def test_dqn_cartpole(tmp_path):
    needs("gymnasium")
    out = run_example("dqn_cartpole", tmp_path=tmp_path)
    assert "episode 2: mean reward" in out and pngs(tmp_path) == {"dqn_cartpole.png"}


def test_transfer_learning(tmp_path):
    out = run_example("transfer_learning", "--data", fashion_root(), tmp_path=tmp_path)
    assert "training 5,130 parameters of the head" in out and "test accuracy" in out
    assert pngs(tmp_path) == {"transfer_learning.png"}


def test_sequence_gru(tmp_path):
    needs_ember("GRU")
    out = run_example("sequence_gru", tmp_path=tmp_path)
    assert "RMS error of 60-step continuations" in out and pngs(tmp_path) == {"sequence_gru.png"}


@pytest.mark.parametrize("model,modules", [("lstm", ["LSTM"]),
                                           ("transformer", ["TransformerEncoderLayer",
                                                            "TransformerEncoder"])])
def test_char_lm(tmp_path, model, modules):
    needs_ember(*modules)
    text = DATA_ROOT / "tinyshakespeare" / "input.txt"
    if not text.is_file():
        pytest.skip(f"{text} not found")
    out = run_example("char_lm", str(text), "--model", model, tmp_path=tmp_path)
    assert "step 4: train loss" in out and "--- 4 steps in" in out and "ROMEO:" in out
    assert pngs(tmp_path) == {"char_lm.png"}


def test_autograd_demo():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "autograd_demo.py")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "dz/dx = tensor([2.])  dz/dy = tensor([4.])" in r.stdout
    assert "fitted w = 2.99" in r.stdout or "fitted w = 3.00" in r.stdout
