"""ember.distributed.run: torchrun's environment per rank, and a nonzero exit on failure."""

import sys

import pytest

from ember.distributed import run as launcher
from tests.distributed.launch import requires_mpi, run

SCRIPT = """
import os, sys
import ember.distributed as dist
dist.init_process_group("gloo")
keys = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"]
with open(os.path.join(sys.argv[1], f"rank{dist.get_rank()}"), "w") as f:
    f.write(" ".join([str(dist.get_rank()), str(dist.get_world_size())] +
                     [os.environ[k] for k in keys] + sys.argv[2:]))
if "fail" in sys.argv and dist.get_rank() == 1:
    raise SystemExit(3)
dist.barrier()
"""


@requires_mpi
def test_launcher_sets_torchrun_env(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    p = run([sys.executable, "-m", "ember.distributed.run", "--nproc_per_node", "3",
             "--master_port", "29555", str(script), str(tmp_path), "--flag", "x"])
    assert p.returncode == 0, p.stderr
    lines = [(tmp_path / f"rank{r}").read_text().split() for r in range(3)]
    assert lines == [[str(r), "3", str(r), str(r), "3", "3", "127.0.0.1", "29555", "--flag", "x"]
                     for r in range(3)]


@requires_mpi
def test_launcher_fails_when_a_rank_fails(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    p = run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2",
             str(script), str(tmp_path), "fail"], timeout=60)
    assert p.returncode != 0


@requires_mpi
def test_rank_mismatch_with_env_raises(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    p = run([sys.executable, "-c", "import os; os.environ['WORLD_SIZE'] = '4'; "
             "import ember.distributed as d; d.init_process_group('gloo')"], timeout=60)
    assert p.returncode != 0 and "world size is 4" in p.stderr


def test_launcher_rejects_what_it_cannot_do():
    parser = launcher.get_args_parser()
    with pytest.raises(NotImplementedError, match="--nnodes"):
        launcher.command(parser.parse_args(["--nnodes", "2", "x.py"]))
    with pytest.raises(NotImplementedError, match="max-restarts"):
        launcher.command(parser.parse_args(["--max_restarts", "1", "x.py"]))


TORCH_SCRIPT = """
import sys
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
model = DDP(nn.Linear(3, 1))
(model(torch.ones(2, 3) * (rank + 1)).sum()).backward()
t = torch.tensor([float(rank + 1)])
dist.all_reduce(t)
with open(f"{sys.argv[1]}/rank{rank}", "w") as f:  # (the ranks' stdout lines can interleave)
    f.write(f"{torch.__name__} {t.item()} {model.module.weight.grad[0, 0].item()}")
"""


@requires_mpi
def test_unmodified_pytorch_script_under_compat(tmp_path):
    # python -m ember.compat -m torch.distributed.run ...: torchrun's command, with every rank
    # running the PyTorch script under the alias
    script = tmp_path / "train.py"
    script.write_text(TORCH_SCRIPT)
    p = run([sys.executable, "-m", "ember.compat", "-m", "torch.distributed.run",
             "--nproc_per_node", "2", str(script), str(tmp_path)])
    assert p.returncode == 0, p.stderr
    # the gradient is averaged over the ranks: d/dw of sum(x @ w) is 2 * (rank + 1) per rank
    assert [(tmp_path / f"rank{r}").read_text() for r in range(2)] == ["ember 3.0 3.0"] * 2
