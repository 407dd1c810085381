"""Start worker scripts under MPI for the distributed tests (skipped without mpi4py/mpiexec)."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKERS = pathlib.Path(__file__).resolve().parent / "workers"


def _mpiexec():
    if importlib.util.find_spec("mpi4py") is None:
        return None
    from ember.distributed.run import mpiexec_path

    try:
        return mpiexec_path()
    except RuntimeError:
        return None


MPIEXEC = _mpiexec()
requires_mpi = pytest.mark.skipif(MPIEXEC is None, reason="needs mpi4py and MPICH's mpiexec "
                                                          "(pip install ember[dist])")


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e["OMP_NUM_THREADS"] = "1"
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        e.pop(k, None)
    return e


def run(cmd: list, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=timeout,
                          cwd=str(ROOT))


def mpirun(n: int, script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``mpiexec -n n python workers/script args``; fails the test with the ranks' output
    unless every rank printed its OK line."""
    p = run([MPIEXEC, "-n", str(n), sys.executable, str(WORKERS / script), *args], timeout)
    ok = [f"rank {r}/{n} OK" for r in range(n)]
    assert p.returncode == 0 and all(s in p.stdout for s in ok), \
        f"exit {p.returncode}\nstdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-4000:]}"
    return p
