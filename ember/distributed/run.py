"""``torch.distributed.run`` (``torchrun``): start ``--nproc_per_node`` copies of a script.

``python -m ember.distributed.run --nproc_per_node 2 train.py --lr 0.1`` runs the script under
MPICH's ``mpiexec`` (from the ``mpich`` wheel, or ``$EMBER_MPIEXEC``); each process gets
torchrun's environment: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, ROLE_RANK,
ROLE_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RUN_ID. The exit status is nonzero when
any rank fails (the failed rank aborts the MPI job, which stops the others). One node only;
no elastic restarts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import uuid

__all__ = ["main", "get_args_parser", "mpiexec_path"]


def mpiexec_path() -> str:
    """The ``mpiexec`` to use: ``$EMBER_MPIEXEC``, the one beside this Python, or on PATH."""
    env = os.environ.get("EMBER_MPIEXEC")
    if env:
        return env
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(here):
        return here
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("ember.distributed.run needs MPICH's mpiexec: pip install mpich "
                           "(the 'dist' extra), or set EMBER_MPIEXEC")
    return found


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ember.distributed.run",
                                description="Start a multi-process ember job (torchrun's flags)")
    p.add_argument("--nproc-per-node", "--nproc_per_node", dest="nproc_per_node", default="1",
                   help="processes on this node: a number, or 'cpu'/'gpu'/'auto'")
    p.add_argument("--nnodes", default="1")
    p.add_argument("--node-rank", "--node_rank", dest="node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", dest="master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", dest="master_port", type=int,
                   default=29500)
    p.add_argument("--standalone", action="store_true")
    for flag in ("--rdzv-backend", "--rdzv-endpoint", "--rdzv-id", "--rdzv-conf",
                 "--monitor-interval", "--log-dir", "--role", "--local-addr"):
        # rendezvous and monitoring belong to MPI here; accepted so torchrun lines run unchanged
        p.add_argument(flag, flag.replace("-", "_").replace("__", "--"),
                       dest=flag[2:].replace("-", "_"), default=None)
    p.add_argument("--max-restarts", "--max_restarts", dest="max_restarts", type=int, default=0)
    p.add_argument("-m", "--module", action="store_true",
                   help="run the script as a Python module (python -m)")
    p.add_argument("--no-python", "--no_python", dest="no_python", action="store_true",
                   help="run the script as an executable, not with Python")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def _nproc(value: str) -> int:
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        from .. import cuda

        return cuda.device_count()
    return int(value)


def _under_compat() -> bool:
    compat = sys.modules.get("ember.compat")
    return compat is not None and compat.is_installed()


def command(args: argparse.Namespace) -> tuple[list[str], dict]:
    """The mpiexec command line and base environment for ``args``."""
    if args.nnodes not in ("1", "1:1"):
        raise NotImplementedError(f"ember.distributed.run: --nnodes {args.nnodes}: only one node "
                                  f"is supported; start multi-node jobs with mpiexec and a "
                                  f"host file")
    if args.max_restarts:
        raise NotImplementedError("ember.distributed.run: --max-restarts (elastic restarts) is "
                                  "not supported")
    n = _nproc(args.nproc_per_node)
    if n < 1:
        raise ValueError(f"--nproc-per-node must be positive, got {args.nproc_per_node}")
    if args.no_python:
        prog = [args.training_script]
    else:
        # mpi4py's runner turns an uncaught exception or a nonzero exit into MPI_Abort, so the
        # other ranks stop instead of waiting for the failed one in a collective
        prog = [sys.executable, "-u", "-m", "mpi4py"]
        if _under_compat():
            # started as ``python -m ember.compat -m torch.distributed.run ...``: the ranks
            # run the (PyTorch) script under the alias too
            prog += ["-m", "ember.compat"]
        prog += ["-m", args.training_script] if args.module else [args.training_script]
    prog += args.training_script_args
    env = dict(os.environ)
    env.update(WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n), ROLE_WORLD_SIZE=str(n),
               GROUP_RANK="0", MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port),
               TORCHELASTIC_RUN_ID=args.rdzv_id or uuid.uuid4().hex[:12])
    env.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default for several local processes
    cmd = [mpiexec_path()]
    for r in range(n):
        if r:
            cmd.append(":")
        # one MPMD block per rank, so each gets its own rank variables
        cmd += ["-n", "1", "-env", "RANK", str(r), "-env", "LOCAL_RANK", str(r),
                "-env", "ROLE_RANK", str(r)] + prog
    return cmd, env


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    cmd, env = command(args)
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main())
