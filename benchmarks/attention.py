"""Attention forward+backward vs PyTorch: ``scaled_dot_product_attention`` (B=8, H=8, L=256,
D=64; plain, causal, boolean mask), ``MultiheadAttention(512, 8)`` on (L=128, N=16) and
``TransformerEncoderLayer(512, 8)`` on the same input, in one run; plus ember's fused SDPA op
against the same computation as a chain of ember ops (the measurement behind the fused op).

    python benchmarks/attention.py [--quick] [--threads N] [--json results/attention.json]

On a shared 2-core machine, compare with ``OPENBLAS_NUM_THREADS=1 ... --threads 1``: with two
threads each, NumPy's batched matmul (one multithreaded BLAS call per head) loses whole time
slices to other processes, and the SDPA/MHA ratios swung between 1.4x and 28x from run to run.
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

B, H, L, D = 8, 8, 256, 64
E, NH, SEQ, N = 512, 8, 128, 16


def _arrays(*shapes):
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]


def _sdpa_workload(lib, fn, mask=False):
    arrs = _arrays((B, H, L, D), (B, H, L, D), (B, H, L, D))
    ts = [lib.tensor(a, requires_grad=True) for a in arrs]
    m = lib.tensor(np.random.default_rng(1).random((L, L)) > 0.2) if mask else None

    def run():
        fn(lib, *ts, m).sum().backward()
        for t in ts:
            t.grad = None

    return run


def _sdpa(causal=False):
    def fn(lib, q, k, v, m):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m,
                                                              is_causal=causal)
    return fn


def _composite(lib, q, k, v, m):
    """The math of SDPA as separate ember ops (what ember would run without the fused op)."""
    s = (q * (1.0 / D ** 0.5)) @ k.transpose(-2, -1)
    if m is not None:
        s = s.masked_fill(m.logical_not(), float("-inf"))
    return lib.softmax(s, -1) @ v


def _module_workload(lib, make, call):
    """fwd+bwd of ``call(module, x)`` on x of shape (L, N, E); returns (run, module)."""
    lib.manual_seed(0)
    mod = make(lib)
    x = lib.tensor(_arrays((SEQ, N, E))[0], requires_grad=True)

    def run():
        call(mod, x).sum().backward()
        x.grad = None
        mod.zero_grad(set_to_none=True)

    return run, mod


def _paired_modules(make, call):
    """ember's and PyTorch's workloads on modules with the same weights."""
    t_run, t_mod = _module_workload(torch, make, call)
    e_run, e_mod = _module_workload(ember, make, call)
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    return e_run, t_run


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="PyTorch threads (set OPENBLAS_NUM_THREADS for NumPy to match)")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 15
    torch.set_num_threads(args.threads)
    res = []
    for name, fn, mask in [("sdpa", _sdpa(), False), ("sdpa causal", _sdpa(True), False),
                           ("sdpa bool mask", _sdpa(), True)]:
        res.append(compare(f"{name} fwd+bwd ({B},{H},{L},{D})", _sdpa_workload(ember, fn, mask),
                           _sdpa_workload(torch, fn, mask), rounds=rounds, target=1.5))
    e_run, t_run = _paired_modules(
        lambda lib: lib.nn.MultiheadAttention(E, NH),
        lambda m, x: m(x, x, x, need_weights=False)[0])
    res.append(compare(f"MultiheadAttention({E},{NH}) fwd+bwd L={SEQ} N={N}", e_run, t_run,
                       rounds=rounds, target=1.5))
    e_run, t_run = _paired_modules(
        lambda lib: lib.nn.MultiheadAttention(E, NH),
        lambda m, x: m(x, x, x)[0])
    res.append(compare("  same, need_weights=True", e_run, t_run, rounds=rounds, target=1.5))
    e_run, t_run = _paired_modules(
        lambda lib: lib.nn.TransformerEncoderLayer(E, NH),
        lambda m, x: m(x))
    res.append(compare(f"TransformerEncoderLayer({E},{NH}) fwd+bwd L={SEQ} N={N}", e_run,
                       t_run, rounds=rounds, target=1.5))
    print_table(res, "attention vs PyTorch (median of paired ratios)")

    fused = [compare("fused sdpa vs ember composite", _sdpa_workload(ember, _sdpa()),
                     _sdpa_workload(ember, _composite), rounds=rounds),
             compare("  with bool mask", _sdpa_workload(ember, _sdpa(), True),
                     _sdpa_workload(ember, _composite, True), rounds=rounds)]
    print_table(fused, "fused op vs the same math as ember ops (ratio < 1: fused is faster)")
    if args.json:
        write_json(res + fused, args.json, "attention")
    return res + fused


if __name__ == "__main__":
    main()
