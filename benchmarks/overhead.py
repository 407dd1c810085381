"""Per-op overhead and small-model speed, ember vs PyTorch in one run.

Workloads (issue: ember foundation): 1-element ``a + b`` with and without grad, a 200-op chain
forward+backward, a 784-128-64-10 MLP forward+backward at batch 1 and 64, and a 2048^2 matmul.
Targets: per-op overhead <= 3x PyTorch's, MLP batch 64 <= 1.5x, matmul <= 1.05x.

    python benchmarks/overhead.py [--quick] [--threads N] [--json benchmarks/results/overhead.json]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from harness import compare, print_table, write_json  # noqa: E402

import ember  # noqa: E402


def _pool(n, shape, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]


def add_workloads(lib, grad: bool):
    a = lib.ones(1, requires_grad=grad)
    b = lib.ones(1)

    def run():
        a + b

    return run


def chain_workload(lib, n_ops: int = 200, size: int = 16):
    x = lib.ones(size, requires_grad=True)

    def run():
        y = x
        for _ in range(n_ops // 2):
            y = y * 1.0001
            y = y + 0.5
        y.sum().backward()
        x.grad = None

    return run


def mlp_workload(lib, batch: int):
    rng = np.random.default_rng(0)
    sizes = [(784, 128), (128, 64), (64, 10)]
    params = []
    for fan_in, fan_out in sizes:
        bound = 1 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
        params.append((lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)))
    xs = [lib.tensor(x) for x in _pool(8, (batch, 784), 1)]
    ys = [lib.tensor(y) for y in _pool(8, (batch, 10), 2)]
    state = {"i": 0}

    def run():
        i = state["i"] = (state["i"] + 1) % len(xs)
        h = xs[i]
        for k, (w, b) in enumerate(params):
            h = h @ w.t() + b
            if k < len(params) - 1:
                h = h.relu()
        loss = ((h - ys[i]) ** 2).mean()
        loss.backward()
        for w, b in params:
            w.grad = None
            b.grad = None

    return run


def matmul_workload(lib, n: int = 2048):
    rng = np.random.default_rng(3)
    a = lib.tensor(rng.standard_normal((n, n)).astype(np.float32))
    b = lib.tensor(rng.standard_normal((n, n)).astype(np.float32))

    def run():
        a @ b

    return run


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for both libraries (default: all cores)")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 15
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    res = [
        compare("a + b, 1 element", add_workloads(ember, False), add_workloads(torch, False),
                rounds=rounds, target=3.0),
        compare("a + b, 1 element, requires_grad", add_workloads(ember, True),
                add_workloads(torch, True), rounds=rounds, target=3.0),
        compare("200-op chain fwd+bwd, 16 elements", chain_workload(ember),
                chain_workload(torch), rounds=rounds, target=3.0),
        compare("MLP 784-128-64-10 fwd+bwd, batch 1", mlp_workload(ember, 1),
                mlp_workload(torch, 1), rounds=rounds, target=3.0),
        compare("MLP 784-128-64-10 fwd+bwd, batch 64", mlp_workload(ember, 64),
                mlp_workload(torch, 64), rounds=rounds, target=1.5),
        compare("matmul 2048x2048 float32", matmul_workload(ember), matmul_workload(torch),
                rounds=rounds, budget_s=0.2, target=1.05),
    ]
    print_table(res, "ember vs PyTorch: per-op overhead and small models (median of paired "
                     "ratios)")
    if args.json:
        write_json(res, args.json, "overhead")
    return res


if __name__ == "__main__":
    main()
