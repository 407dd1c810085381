"""Spatial ops forward+backward vs PyTorch: ``interpolate`` (nearest, bilinear, bicubic,
antialiased bilinear), ``pad`` (reflect) and ``grid_sample`` (bilinear), in one run.

    python benchmarks/spatial.py [--quick] [--json benchmarks/results/spatial.json]
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


def _workload(lib, fn, *shapes):
    rng = np.random.default_rng(0)
    ts = [lib.tensor(rng.uniform(-1, 1, s).astype(np.float32), requires_grad=True)
          for s in shapes]

    def run():
        fn(lib, *ts).sum().backward()
        for t in ts:
            t.grad = None

    return run


CASES = [
    ("interpolate nearest x2", lambda lib, x: lib.nn.functional.interpolate(
        x, scale_factor=2), (8, 32, 64, 64)),
    ("interpolate bilinear x2", lambda lib, x: lib.nn.functional.interpolate(
        x, scale_factor=2, mode="bilinear"), (8, 32, 64, 64)),
    ("interpolate bicubic 64->96", lambda lib, x: lib.nn.functional.interpolate(
        x, size=(96, 96), mode="bicubic"), (8, 32, 64, 64)),
    ("interpolate bilinear aa 128->40", lambda lib, x: lib.nn.functional.interpolate(
        x, size=(40, 40), mode="bilinear", antialias=True), (4, 16, 128, 128)),
    ("pad reflect 3", lambda lib, x: lib.nn.functional.pad(
        x, (3, 3, 3, 3), mode="reflect"), (8, 32, 64, 64)),
]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 15
    torch.set_num_threads(os.cpu_count() or 1)
    res = []
    for name, fn, shape in CASES:
        res.append(compare(f"{name} fwd+bwd {shape}", _workload(ember, fn, shape),
                           _workload(torch, fn, shape), rounds=rounds))
    gs = (lambda lib, x, g: lib.nn.functional.grid_sample(x, g, align_corners=False))
    res.append(compare("grid_sample bilinear fwd+bwd (8,16,64,64) grid (8,48,48,2)",
                       _workload(ember, gs, (8, 16, 64, 64), (8, 48, 48, 2)),
                       _workload(torch, gs, (8, 16, 64, 64), (8, 48, 48, 2)), rounds=rounds))
    print_table(res, "spatial ops (median of paired ratios)")
    if args.json:
        write_json(res, args.json, "spatial")
    return res


if __name__ == "__main__":
    main()
