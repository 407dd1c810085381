"""Indexing ops (gather, scatter_add, index_add, advanced getitem with its backward, masks)
against PyTorch, in one run.

The ``flat / subspace`` line justifies ``ember.ops.indexing.Pos``: scatter-adds run through
``ufunc.at`` on 1-d offsets instead of on a tuple index with a row subspace ("ember" column:
the flat offsets ember uses; "pytorch" column: NumPy's ``add.at`` on the tuple index).

    python benchmarks/indexing.py [--quick] [--json benchmarks/results/indexing.json]
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
from ember.ops import indexing  # noqa: E402

RNG = np.random.default_rng(0)


def _pair(make):
    """``make(lib)`` returns the workload for one library."""
    return make(ember), make(torch)


def rows_getitem(n_rows, dim, n_idx):
    w0 = RNG.standard_normal((n_rows, dim)).astype(np.float32)
    i0 = RNG.integers(0, n_rows, n_idx)

    def make(lib):
        w = lib.tensor(w0, requires_grad=True)
        i = lib.tensor(i0)

        def run():
            w[i].sum().backward()
            w.grad = None
        return run
    return make


def gather_fwd_bwd(n):
    x0 = RNG.standard_normal((n, n)).astype(np.float32)
    i0 = RNG.integers(0, n, (n, n))

    def make(lib):
        x = lib.tensor(x0, requires_grad=True)
        i = lib.tensor(i0)

        def run():
            x.gather(1, i).sum().backward()
            x.grad = None
        return run
    return make


def scatter_add(n):
    x0 = RNG.standard_normal((n, n)).astype(np.float32)
    i0 = RNG.integers(0, n, (n, n))

    def make(lib):
        x, i = lib.tensor(x0), lib.tensor(i0)
        return lambda: x.scatter_add(0, i, x)
    return make


def index_add(n_rows, dim, n_idx):
    x0 = np.zeros((n_rows, dim), dtype=np.float32)
    s0 = RNG.standard_normal((n_idx, dim)).astype(np.float32)
    i0 = RNG.integers(0, n_rows, n_idx)

    def make(lib):
        x, s, i = lib.tensor(x0), lib.tensor(s0), lib.tensor(i0)
        return lambda: x.index_add(0, i, s)
    return make


def masked(n):
    x0 = RNG.standard_normal((n, n)).astype(np.float32)

    def make(lib):
        x = lib.tensor(x0, requires_grad=True)
        m = lib.tensor(x0 > 0.3)

        def run():
            (x.masked_select(m).sum() + x.masked_fill(m, 0.5).sum()).backward()
            x.grad = None
        return run
    return make


def flat_vs_subspace(n_rows, dim, n_idx):
    s = RNG.standard_normal((n_idx, dim)).astype(np.float32)
    i = RNG.integers(0, n_rows, n_idx)
    z = np.zeros((n_rows, dim), dtype=np.float32)
    pos = indexing.Pos(z.shape, (i,))

    def flat():
        pos._flat = None  # count building the offsets too
        indexing.index_add_at(np, z, pos, s)

    def subspace():
        np.add.at(z, (i,), s)

    return flat, subspace


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 15
    torch.set_num_threads(os.cpu_count() or 1)
    work = [
        ("x[idx] fwd+bwd 10000x64, 4096 rows", rows_getitem(10000, 64, 4096)),
        ("gather fwd+bwd 512x512", gather_fwd_bwd(512)),
        ("scatter_add 512x512", scatter_add(512)),
        ("index_add 1000x256 <- 4000 rows", index_add(1000, 256, 4000)),
        ("masked_select+masked_fill fwd+bwd 512x512", masked(512)),
    ]
    res = [compare(f"{name} (vs torch)", *_pair(make), rounds=rounds) for name, make in work]
    res.append(compare("flat / subspace add.at 1000x256 <- 4000 (numpy)",
                       *flat_vs_subspace(1000, 256, 4000), rounds=rounds))
    print_table(res, "indexing (median of paired ratios)")
    if args.json:
        write_json(res, args.json, "indexing")
    return res


if __name__ == "__main__":
    main()
