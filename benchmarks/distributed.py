"""ember.distributed (MPI) vs torch.distributed (gloo) on 2 ranks, in the same processes.

Workloads: ``all_reduce`` of 1M float32 (sync), and one DistributedDataParallel training step
(zero_grad, forward, MSE loss, backward with gradient averaging, SGD step) of a small CNN on
32 images of 3x32x32 per rank. Both libraries run alternately in the same two processes, with a
fixed number of calls per sample (every rank must make the same collective calls, so the
harness's self-calibration cannot be used) and a barrier before each sample.

    python benchmarks/distributed.py [--quick] [--json benchmarks/results/distributed.json]

It relaunches itself with ``python -m ember.distributed.run --nproc_per_node 2``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def paired(name, ember_fn, torch_fn, barriers, inner: int, rounds: int):
    """Median times and median per-round ratio, alternating which library goes first."""
    from harness import Result

    for fn in (ember_fn, torch_fn, ember_fn, torch_fn):  # warm-up
        fn()
    e_t, t_t, ratios = [], [], []

    def sample(fn, bar):
        bar()
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        bar()
        return (time.perf_counter() - t0) / inner

    for r in range(rounds):
        if r % 2:
            t = sample(torch_fn, barriers[1])
            e = sample(ember_fn, barriers[0])
        else:
            e = sample(ember_fn, barriers[0])
            t = sample(torch_fn, barriers[1])
        e_t.append(e)
        t_t.append(t)
        ratios.append(e / t)
    return Result(name, statistics.median(e_t), statistics.median(t_t),
                  statistics.median(ratios), rounds)


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(32, 10))


def ddp_step(lib, dist, x, y):
    lib.manual_seed(0)
    model = lib.nn.parallel.DistributedDataParallel(cnn(lib))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xt, yt = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        lib.nn.functional.mse_loss(model(xt), yt).backward()
        opt.step()
    return step


def worker(args) -> None:
    import torch
    import torch.distributed as tdist

    import ember
    import ember.distributed as edist

    torch.set_num_threads(1)  # two ranks share the machine's cores, as ember's ranks do
    edist.init_process_group("gloo")
    tdist.init_process_group("gloo")
    rank = edist.get_rank()
    bars = (edist.barrier, tdist.barrier)
    rounds = 5 if args.quick else 11
    results = []

    a = np.random.default_rng(rank).standard_normal(1 << 20).astype(np.float32)
    ea, ta = ember.tensor(a), torch.tensor(a)
    results.append(paired("all_reduce 1M float32 (2 ranks)", lambda: edist.all_reduce(ea),
                          lambda: tdist.all_reduce(ta), bars, 10, rounds))

    rng = np.random.default_rng(rank)
    x = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    y = rng.standard_normal((32, 10)).astype(np.float32)
    results.append(paired("DDP step, small CNN, 32x3x32x32 per rank",
                          ddp_step(ember, edist, x, y), ddp_step(torch, tdist, x, y), bars,
                          3, rounds))
    if rank == 0:
        from harness import print_table, write_json

        print_table(results, "ember.distributed (MPI) vs torch.distributed (gloo), 2 ranks "
                             "(ratio = ember / PyTorch)")
        if args.json:
            write_json(results, args.json, "distributed")
    tdist.destroy_process_group()
    edist.destroy_process_group()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--worker", action="store_true")
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc_per_node", "2",
           "--master_port", "29533", os.path.abspath(__file__), "--worker"] + sys.argv[1:]
    sys.exit(subprocess.call(cmd, env=env))


if __name__ == "__main__":
    main()
