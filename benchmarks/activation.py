"""Activations forward+backward: ember's fused elementwise ops (``ember.ops.activation._Act``)
vs the same function as a chain of ember ops, and vs PyTorch, in one run.

The fused ops are a design exception to "composites from primitives"; the ``fused / composite``
lines are their justification (ratio < 1: fusing is faster).

    python benchmarks/activation.py [--quick] [--json benchmarks/results/activation.json]
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from harness import compare, print_table, write_json  # noqa: E402

import ember  # noqa: E402

F = ember.nn.functional


def _x(lib, shape):
    rng = np.random.default_rng(0)
    return lib.tensor(rng.standard_normal(shape).astype(np.float32) * 3, requires_grad=True)


def workload(lib, shape, fn):
    x = _x(lib, shape)
    g = lib.ones(shape)

    def run():
        fn(lib, x).backward(g)
        x.grad = None

    return run


# The same functions as chains of ember ops (what the fused ops replace).
COMPOSITES = {
    "gelu": lambda e, x: x * 0.5 * (1 + e.erf(x * (1 / math.sqrt(2)))),
    "gelu_tanh": lambda e, x: 0.5 * x * (1 + e.tanh(math.sqrt(2 / math.pi) *
                                                    (x + 0.044715 * x * x * x))),
    "silu": lambda e, x: x * e.sigmoid(x),
    "mish": lambda e, x: x * e.tanh(e.where(x > 20, x, e.log1p(e.exp(x)))),
    "hardswish": lambda e, x: x * e.clamp(x + 3, 0, 6) / 6,
    "hardsigmoid": lambda e, x: e.clamp(x + 3, 0, 6) / 6,
    "leaky_relu": lambda e, x: e.where(x > 0, x, x * 0.01),
    "elu": lambda e, x: e.where(x > 0, x, e.expm1(e.clamp(x, max=0))),
    "softplus": lambda e, x: e.where(x > 20, x, e.log1p(e.exp(e.clamp(x, max=20)))),
    "logsigmoid": lambda e, x: e.clamp(x, max=0) - e.log1p(e.exp(-e.abs(x))),
    "hardtanh": lambda e, x: e.clamp(x, -1, 1),
}

FUSED = {
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "gelu_tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "mish": lambda lib, x: lib.nn.functional.mish(x),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x),
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds, smaller shapes")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 11
    torch.set_num_threads(os.cpu_count() or 1)
    shape = (256, 256) if args.quick else (1024, 1024)
    tag = "x".join(map(str, shape))
    res = []
    for name, fused in FUSED.items():
        comp = COMPOSITES[name]
        res.append(compare(f"{name} fused / composite {tag}", workload(ember, shape, fused),
                           workload(ember, shape, lambda lib, x, c=comp: c(lib, x)),
                           rounds=rounds))
        res.append(compare(f"{name} fwd+bwd {tag} (vs torch)", workload(ember, shape, fused),
                           workload(torch, shape, fused), rounds=rounds))
    title = "activations: fused vs composite, and vs PyTorch (ratio < 1: left side faster)"
    print_table(res, title)
    if args.json:
        write_json(res, args.json, title)


if __name__ == "__main__":
    main()
