"""ember.distributed collectives, checked by workers/collectives.py on 2 and 3 MPI ranks."""

import pytest

import ember
import ember.distributed as dist
from tests.distributed.launch import mpirun, requires_mpi


@requires_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_cpu(n):
    mpirun(n, "collectives.py", "cpu")


@requires_mpi
@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CUDA (NCCL through CuPy)")
def test_collectives_nccl():
    n = min(ember.cuda.device_count(), 2)  # NCCL wants one GPU per rank
    mpirun(n, "collectives.py", "cuda")


def test_uninitialized_raises_pytorch_error():
    assert not dist.is_initialized()
    msg = "Default process group has not been initialized"
    for call in (dist.get_rank, dist.get_world_size, dist.get_backend, dist.barrier,
                 lambda: dist.all_reduce(ember.ones(2)), lambda: dist.new_group([0])):
        with pytest.raises(ValueError, match=msg):
            call()
    with pytest.raises(ValueError, match=msg):
        ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 2))


def test_reduce_op_and_backend_match_pytorch():
    torch = pytest.importorskip("torch")
    tdist = torch.distributed
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"):
        ours, theirs = getattr(dist.ReduceOp, name), getattr(tdist.ReduceOp, name)
        assert int(ours) == int(theirs)
        assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    for name in ("gloo", "NCCL", "Mpi"):
        assert dist.Backend(name) == tdist.Backend(name)
    assert dist.GroupMember.NON_GROUP_MEMBER == tdist.GroupMember.NON_GROUP_MEMBER


def test_available():
    import importlib.util

    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)
