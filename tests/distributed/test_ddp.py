"""DistributedDataParallel on 2 MPI ranks against single-process training (ember and PyTorch),
and against PyTorch's own DDP over gloo when torch.distributed can run here."""

import sys

import pytest

from tests.distributed.launch import WORKERS, mpirun, requires_mpi, run


@requires_mpi
def test_ddp_matches_full_batch_and_torch_ddp(tmp_path):
    out = tmp_path / "ember_ddp.npz"
    mpirun(2, "ddp.py", str(out))
    torch = pytest.importorskip("torch")
    if not (torch.distributed.is_available() and torch.distributed.is_gloo_available()):
        pytest.skip("torch.distributed with gloo is not available")
    p = run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
             str(WORKERS / "torch_ddp.py"), str(out)], timeout=120)
    assert p.returncode == 0 and "rank 0/2 OK" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
