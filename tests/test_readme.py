"""README's main set-up command, copied verbatim, works on a fresh copy of this checkout in a
fresh virtual environment (CI's ``.ci/run`` runs the test command the same way).

The command trains for minutes; ``EMBER_EXAMPLE_SMOKE=1`` in its environment makes the example
a smoke run, leaving the command's text untouched. It installs a Debian package, so the test
needs root and apt-get, and it needs PyPI for ``pip install``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from readme_commands import command  # noqa: E402


def tracked_copy(dest: str) -> None:
    """The files git tracks, as they are in the working tree: what a fresh clone holds."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = os.path.join(REPO, name)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, name))


@pytest.mark.slow
def test_main_command_verbatim(tmp_path):
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("README's main command runs apt-get as root")
    if shutil.which("git") is None or not os.path.isdir(os.path.join(REPO, ".git")) and \
            not os.path.isfile(os.path.join(REPO, ".git")):
        pytest.skip("not a git checkout")
    clone = str(tmp_path / "ember")
    tracked_copy(clone)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["EMBER_EXAMPLE_SMOKE"] = "1"
    env["MPLBACKEND"] = "Agg"
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", command("main")], cwd=clone, env=env,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    assert "final test accuracy:" in r.stdout
    assert os.path.isfile(os.path.join(clone, "runs", "fashion_mnist_cnn.png"))
