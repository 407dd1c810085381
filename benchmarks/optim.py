"""Optimizer step speed, ember vs PyTorch in one run.

Workloads (issue: ember.optim): one ``step()`` of SGD (momentum 0.9), Adam and AdamW on a
10M-parameter model made of 100 float32 tensors, against PyTorch's ``foreach=True``
implementation (target <= 1.5x); the same against PyTorch's single-tensor loop
(``foreach=False``), and the per-step overhead with 1000 small tensors (informational).

    python benchmarks/optim.py [--quick] [--json benchmarks/results/optim.json]
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


def step_workload(lib, name: str, n_tensors: int, numel: int, **kw):
    """A callable doing one ``optimizer.step()`` over ``n_tensors`` parameters of ``numel``
    elements each, gradients set once (the same values in both libraries)."""
    rng = np.random.default_rng(0)
    params = []
    for _ in range(n_tensors):
        p = lib.tensor(rng.standard_normal(numel).astype(np.float32)).requires_grad_()
        p.grad = lib.tensor(rng.standard_normal(numel).astype(np.float32))
        params.append(p)
    opt = getattr(lib.optim, name)(params, **kw)
    opt.step()  # state created outside the timing

    def run():
        opt.step()

    return run


CONFIGS = [("SGD", {"lr": 0.01, "momentum": 0.9}), ("Adam", {"lr": 1e-3}),
           ("AdamW", {"lr": 1e-3})]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 11
    torch.set_num_threads(os.cpu_count() or 1)
    res = []
    for name, kw in CONFIGS:
        res.append(compare(f"{name} step, 100 x 100k float32 (vs foreach)",
                           step_workload(ember, name, 100, 100_000, **kw),
                           step_workload(torch, name, 100, 100_000, foreach=True, **kw),
                           rounds=rounds, budget_s=0.2, target=1.5))
    for name, kw in CONFIGS:
        res.append(compare(f"{name} step, 100 x 100k float32 (vs for-loop)",
                           step_workload(ember, name, 100, 100_000, **kw),
                           step_workload(torch, name, 100, 100_000, foreach=False, **kw),
                           rounds=rounds, budget_s=0.2))
    for name, kw in CONFIGS:
        res.append(compare(f"{name} step, 1000 x 100 float32 (vs foreach)",
                           step_workload(ember, name, 1000, 100, **kw),
                           step_workload(torch, name, 1000, 100, foreach=True, **kw),
                           rounds=rounds, budget_s=0.1))
    print_table(res, "ember vs PyTorch: optimizer.step() (median of paired ratios)")
    if args.json:
        write_json(res, args.json, "optim")
    return res


if __name__ == "__main__":
    main()
