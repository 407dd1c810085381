"""Normalization forward+backward: ember's fused batch/layer/group norm op
(``ember.ops.normalization._Normalize``) vs the same math as a composite of ember ops, and vs
PyTorch, in one run. Also embedding/embedding_bag and dropout against PyTorch.

The fused op is a design exception to "composites from primitives"; the ``fused / composite``
lines are its justification (ratio < 1: fusing is faster). Saved memory is counted exactly: the
composite keeps every intermediate its ops save for backward, the fused op only the input and
two per-group vectors.

    python benchmarks/normalization.py [--quick] [--json benchmarks/results/normalization.json]
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


def _data(lib, shape, c_shape):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    w = lib.tensor(rng.standard_normal(c_shape).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal(c_shape).astype(np.float32), requires_grad=True)
    return x, w, b


def batch_norm_workload(lib, shape):
    x, w, b = _data(lib, shape, (shape[1],))

    def run():
        lib.nn.functional.batch_norm(x, None, None, w, b, training=True).sum().backward()
        x.grad = w.grad = b.grad = None

    return run


def batch_norm_composite(shape):
    """The same normalization from ember primitives (what the fused op replaces)."""
    x, w, b = _data(ember, shape, (shape[1],))
    dims = (0,) + tuple(range(2, len(shape)))
    pshape = (1, shape[1]) + (1,) * (len(shape) - 2)

    def run():
        mean = x.mean(dims, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(dims, keepdim=True)
        y = xc * ember.rsqrt(var + 1e-5) * w.reshape(pshape) + b.reshape(pshape)
        y.sum().backward()
        x.grad = w.grad = b.grad = None

    return run


def layer_norm_workload(lib, shape):
    x, w, b = _data(lib, shape, (shape[-1],))

    def run():
        lib.nn.functional.layer_norm(x, (shape[-1],), w, b).sum().backward()
        x.grad = w.grad = b.grad = None

    return run


def layer_norm_composite(shape):
    x, w, b = _data(ember, shape, (shape[-1],))

    def run():
        mean = x.mean(-1, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(-1, keepdim=True)
        (xc * ember.rsqrt(var + 1e-5) * w + b).sum().backward()
        x.grad = w.grad = b.grad = None

    return run


def group_norm_workload(lib, shape, groups):
    x, w, b = _data(lib, shape, (shape[1],))

    def run():
        lib.nn.functional.group_norm(x, groups, w, b).sum().backward()
        x.grad = w.grad = b.grad = None

    return run


def embedding_workload(lib, vocab, dim, n):
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.standard_normal((vocab, dim)).astype(np.float32), requires_grad=True)
    idx = lib.tensor(rng.integers(0, vocab, n))

    def run():
        lib.nn.functional.embedding(idx, w).sum().backward()
        w.grad = None

    return run


def embedding_composite(vocab, dim, n):
    """Embedding as ``index_select`` (what the fused op replaces)."""
    rng = np.random.default_rng(0)
    w = ember.tensor(rng.standard_normal((vocab, dim)).astype(np.float32), requires_grad=True)
    idx = ember.tensor(rng.integers(0, vocab, n))

    def run():
        ember.index_select(w, 0, idx).sum().backward()
        w.grad = None

    return run


def embedding_bag_composite(vocab, dim, bags, per_bag):
    """Sum-mode bags as gather + index_add (what the fused op replaces)."""
    rng = np.random.default_rng(0)
    w = ember.tensor(rng.standard_normal((vocab, dim)).astype(np.float32), requires_grad=True)
    idx = ember.tensor(rng.integers(0, vocab, bags * per_bag))
    bag = ember.arange(bags).repeat_interleave(per_bag)

    def run():
        rows = ember.index_select(w, 0, idx)
        ember.zeros(bags, dim).index_add(0, bag, rows).sum().backward()
        w.grad = None

    return run


def embedding_bag_workload(lib, vocab, dim, bags, per_bag, mode):
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.standard_normal((vocab, dim)).astype(np.float32), requires_grad=True)
    idx = lib.tensor(rng.integers(0, vocab, (bags, per_bag)))

    def run():
        lib.nn.functional.embedding_bag(idx, w, mode=mode).sum().backward()
        w.grad = None

    return run


def dropout_workload(lib, shape):
    x = lib.tensor(np.ones(shape, np.float32), requires_grad=True)

    def run():
        lib.nn.functional.dropout(x, 0.3).sum().backward()
        x.grad = None

    return run


def saved_bytes(fn_build) -> int:
    """Bytes of arrays held by the graph between forward and backward."""
    y = fn_build()
    seen, total, stack = set(), 0, [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for e in getattr(node, "_saved", None) or ():
            if e and e[0] in ("c", "t", "o"):
                arr = e[1]._data if hasattr(e[1], "_data") else e[1]
                if hasattr(arr, "nbytes"):
                    total += arr.nbytes
        for e in getattr(node, "_edges", None) or ():
            if e:
                stack.append(e[0])
    return total


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds, smaller shapes")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 11
    torch.set_num_threads(os.cpu_count() or 1)
    bn_shape = (16, 32, 16, 16) if args.quick else (64, 64, 32, 32)
    ln_shape = (64, 128, 256) if not args.quick else (16, 64, 256)
    res = []
    tag = "x".join(map(str, bn_shape))
    res.append(compare(f"batch_norm fwd+bwd {tag} (vs torch)",
                       batch_norm_workload(ember, bn_shape),
                       batch_norm_workload(torch, bn_shape), rounds=rounds))
    res.append(compare(f"batch_norm fused / composite {tag}",
                       batch_norm_workload(ember, bn_shape), batch_norm_composite(bn_shape),
                       rounds=rounds))
    tag = "x".join(map(str, ln_shape))
    res.append(compare(f"layer_norm fwd+bwd {tag} (vs torch)",
                       layer_norm_workload(ember, ln_shape),
                       layer_norm_workload(torch, ln_shape), rounds=rounds))
    res.append(compare(f"layer_norm fused / composite {tag}",
                       layer_norm_workload(ember, ln_shape), layer_norm_composite(ln_shape),
                       rounds=rounds))
    res.append(compare(f"group_norm(8) fwd+bwd {'x'.join(map(str, bn_shape))} (vs torch)",
                       group_norm_workload(ember, bn_shape, 8),
                       group_norm_workload(torch, bn_shape, 8), rounds=rounds))
    res.append(compare("embedding 30000x256, 16384 ids (vs torch)",
                       embedding_workload(ember, 30000, 256, 16384),
                       embedding_workload(torch, 30000, 256, 16384), rounds=rounds))
    res.append(compare("embedding fused / index_select composite",
                       embedding_workload(ember, 30000, 256, 16384),
                       embedding_composite(30000, 256, 16384), rounds=rounds))
    res.append(compare("embedding_bag sum fused / gather+index_add composite",
                       embedding_bag_workload(ember, 30000, 128, 512, 32, "sum"),
                       embedding_bag_composite(30000, 128, 512, 32), rounds=rounds))
    for mode in ("sum", "max"):
        res.append(compare(f"embedding_bag {mode} 30000x128, 512x32 (vs torch)",
                           embedding_bag_workload(ember, 30000, 128, 512, 32, mode),
                           embedding_bag_workload(torch, 30000, 128, 512, 32, mode),
                           rounds=rounds))
    res.append(compare(f"dropout fwd+bwd {'x'.join(map(str, bn_shape))} (vs torch)",
                       dropout_workload(ember, bn_shape), dropout_workload(torch, bn_shape),
                       rounds=rounds))
    print_table(res, "normalization / embedding / dropout (median of paired ratios)")

    x, w, b = _data(ember, bn_shape, (bn_shape[1],))
    dims = (0, 2, 3)
    pshape = (1, bn_shape[1], 1, 1)

    def composite():
        xc = x - x.mean(dims, keepdim=True)
        var = (xc * xc).mean(dims, keepdim=True)
        return xc * ember.rsqrt(var + 1e-5) * w.reshape(pshape) + b.reshape(pshape)

    fused = saved_bytes(lambda: ember.nn.functional.batch_norm(x, None, None, w, b,
                                                               training=True))
    comp = saved_bytes(composite)
    print(f"\nbatch_norm saved for backward: fused {fused / 2**20:.1f} MiB, composite "
          f"{comp / 2**20:.1f} MiB (input is {x.numel() * 4 / 2**20:.1f} MiB)")
    if args.json:
        write_json(res, args.json, "normalization")
    return res


if __name__ == "__main__":
    main()
