"""``nn.Linear`` forward+backward: ember's fused addmm vs the matmul + add composite, and vs
PyTorch, in one run.

The fused op (``ember.nn.functional.Addmm``) is a design exception to "composites from
primitives"; this benchmark is its justification: the ``composite / fused`` line shows what
fusing saves.

    python benchmarks/linear.py [--quick] [--json benchmarks/results/linear.json]
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
from ember.ops import linalg, pointwise, shape  # noqa: E402


def _tensors(lib, batch, fan_in, fan_out):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, fan_in)).astype(np.float32), requires_grad=True)
    w = lib.tensor(rng.standard_normal((fan_out, fan_in)).astype(np.float32),
                   requires_grad=True)
    b = lib.tensor(rng.standard_normal((fan_out,)).astype(np.float32), requires_grad=True)
    return x, w, b


def linear_workload(lib, batch, fan_in, fan_out):
    x, w, b = _tensors(lib, batch, fan_in, fan_out)

    def run():
        lib.nn.functional.linear(x, w, b).sum().backward()
        x.grad = w.grad = b.grad = None

    return run


def composite_workload(batch, fan_in, fan_out):
    x, w, b = _tensors(ember, batch, fan_in, fan_out)

    def run():
        pointwise.add(linalg.Mm.apply(x, shape.t(w)), b).sum().backward()
        x.grad = w.grad = b.grad = None

    return run


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 15
    torch.set_num_threads(os.cpu_count() or 1)
    res = []
    for batch, fi, fo in [(64, 784, 128), (256, 512, 1024)]:
        tag = f"{batch}x{fi} -> {fo}"
        res.append(compare(f"linear fwd+bwd {tag} (vs torch)",
                           linear_workload(ember, batch, fi, fo),
                           linear_workload(torch, batch, fi, fo), rounds=rounds))
        # "ember" column: fused; "pytorch" column: ember's composite. ratio < 1: fusing helps.
        res.append(compare(f"fused / composite {tag} (ember only)",
                           linear_workload(ember, batch, fi, fo),
                           composite_workload(batch, fi, fo), rounds=rounds))
    print_table(res, "nn.functional.linear (median of paired ratios)")
    if args.json:
        write_json(res, args.json, "linear")
    return res


if __name__ == "__main__":
    main()
