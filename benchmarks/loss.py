"""Losses forward+backward: ember's fused loss ops (``ember.ops.loss``) vs the same loss as a
composite of ember ops, and vs PyTorch, in one run.

- cross_entropy (class indices): the fused op vs ``log_softmax`` + ``nll_loss`` (two fused
  ops) and vs a composite of primitives (log_softmax, gather, mean);
- mse_loss, binary_cross_entropy_with_logits, smooth_l1_loss: the fused elementwise ops with the
  reduction inside vs their composites;
- ctc_loss against PyTorch (the forward-backward algorithm, vectorised per time step).

    python benchmarks/loss.py [--quick] [--json benchmarks/results/loss.json]
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


def _logits(lib, shape, seed=0):
    rng = np.random.default_rng(seed)
    return lib.tensor(rng.standard_normal(shape).astype(np.float32) * 3, requires_grad=True)


def ce_workload(lib, n, c, fn):
    x = _logits(lib, (n, c))
    t = lib.tensor(np.random.default_rng(1).integers(0, c, n))

    def run():
        fn(lib, x, t).backward()
        x.grad = None

    return run


CE_FUSED = lambda lib, x, t: lib.nn.functional.cross_entropy(x, t)  # noqa: E731
CE_TWO_OPS = lambda lib, x, t: lib.nn.functional.nll_loss(  # noqa: E731
    lib.nn.functional.log_softmax(x, 1), t)
CE_PRIMITIVES = lambda lib, x, t: -lib.gather(  # noqa: E731
    x - x.logsumexp(1, keepdim=True), 1, t[:, None]).mean()


def pointwise_workload(lib, shape, fn):
    x = _logits(lib, shape)
    t = lib.tensor(np.random.default_rng(2).random(shape).astype(np.float32))

    def run():
        fn(lib, x, t).backward()
        x.grad = None

    return run


POINTWISE = {
    "mse_loss": (lambda lib, x, t: lib.nn.functional.mse_loss(x, t),
                 lambda lib, x, t: ((x - t) ** 2).mean()),
    "bce_with_logits": (
        lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t),
        lambda lib, x, t: ((1 - t) * x - lib.nn.functional.logsigmoid(x)).mean()),
    "smooth_l1_loss": (
        lambda lib, x, t: lib.nn.functional.smooth_l1_loss(x, t),
        lambda lib, x, t: lib.where((x - t).abs() < 1, 0.5 * (x - t) ** 2,
                                    (x - t).abs() - 0.5).mean()),
}


def ctc_workload(lib, T, N, C, S):
    rng = np.random.default_rng(3)
    lp = rng.standard_normal((T, N, C)).astype(np.float32)
    lp = lib.tensor(lp - np.log(np.exp(lp).sum(-1, keepdims=True)), requires_grad=True)
    tg = lib.tensor(rng.integers(1, C, (N, S)))
    il, tl = [T] * N, [S] * N

    def run():
        lib.nn.functional.ctc_loss(lp, tg, il, tl).backward()
        lp.grad = None

    return run


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds, smaller shapes")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 11
    torch.set_num_threads(os.cpu_count() or 1)
    n, c = (128, 100) if args.quick else (512, 1000)
    res = [
        compare(f"cross_entropy fused / log_softmax+nll {n}x{c}",
                ce_workload(ember, n, c, CE_FUSED), ce_workload(ember, n, c, CE_TWO_OPS),
                rounds=rounds),
        compare(f"cross_entropy fused / primitives {n}x{c}",
                ce_workload(ember, n, c, CE_FUSED), ce_workload(ember, n, c, CE_PRIMITIVES),
                rounds=rounds),
        compare(f"cross_entropy fwd+bwd {n}x{c} (vs torch)", ce_workload(ember, n, c, CE_FUSED),
                ce_workload(torch, n, c, CE_FUSED), rounds=rounds),
    ]
    shape = (256, 256) if args.quick else (1024, 1024)
    tag = "x".join(map(str, shape))
    for name, (fused, comp) in POINTWISE.items():
        res.append(compare(f"{name} fused / composite {tag}",
                           pointwise_workload(ember, shape, fused),
                           pointwise_workload(ember, shape, comp), rounds=rounds))
        res.append(compare(f"{name} fwd+bwd {tag} (vs torch)",
                           pointwise_workload(ember, shape, fused),
                           pointwise_workload(torch, shape, fused), rounds=rounds))
    T, N, C, S = (50, 4, 20, 10) if args.quick else (200, 16, 40, 40)
    res.append(compare(f"ctc_loss fwd+bwd T={T} N={N} C={C} S={S} (vs torch)",
                       ctc_workload(ember, T, N, C, S), ctc_workload(torch, T, N, C, S),
                       rounds=rounds))
    title = "losses: fused vs composite, and vs PyTorch (ratio < 1: left side faster)"
    print_table(res, title)
    if args.json:
        write_json(res, args.json, title)


if __name__ == "__main__":
    main()
