"""Layer forward+backward vs PyTorch (the nn issue's layer benchmark): conv2d, max_pool2d,
LSTM, GRU and cross_entropy, each on a pool of distinct inputs. Target: ratio <= 1.5.

    python benchmarks/layers.py [--quick] [--json benchmarks/results/layers.json] [--fused]
                                [--threads N]

``--threads N`` sets both libraries' thread counts (``set_num_threads``; default: all cores).

``--fused`` instead times ember's fused recurrent ops against the same math as a composite of
ember ops (the measurements cited in ``ember/ops/rnn.py``): the LSTM/GRU cell ops against
sigmoid/tanh/mul/add/cat, and the whole-layer op against per-step addmm + fused cell ops. In
that table "ember" is the fused op and "pytorch" the composite.
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

POOL = 4  # distinct inputs per workload, used in turn


def _pool(lib, shape, seed, grad=True, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=grad)
            for _ in range(POOL)]


def _cycle(items, step):
    """A zero-argument runner calling ``step(item)`` on the items in turn."""
    state = {"i": 0}

    def run():
        i = state["i"] = (state["i"] + 1) % len(items)
        step(items[i])

    return run


def _clear(tensors):
    for t in tensors:
        t.grad = None


def conv_workload(lib):
    lib.manual_seed(0)
    conv = lib.nn.Conv2d(32, 64, 3, padding=1)
    xs = _pool(lib, (100, 32, 28, 28), 1)

    def step(x):
        conv(x).sum().backward()
        _clear([x, *conv.parameters()])

    return _cycle(xs, step)


def pool_workload(lib):
    xs = _pool(lib, (100, 64, 28, 28), 2)

    def step(x):
        lib.nn.functional.max_pool2d(x, 2).sum().backward()
        x.grad = None

    return _cycle(xs, step)


def rnn_workload(lib, cls, steps=50, batch=32, size=256):
    lib.manual_seed(0)
    m = getattr(lib.nn, cls)(size, size)
    xs = _pool(lib, (steps, batch, size), 3)

    def step(x):
        out, _ = m(x)
        out.sum().backward()
        _clear([x, *m.parameters()])

    return _cycle(xs, step)


def cross_entropy_workload(lib):
    xs = _pool(lib, (1024, 1000), 4)
    rng = np.random.default_rng(5)
    ys = [lib.tensor(rng.integers(0, 1000, 1024)) for _ in range(POOL)]

    def step(pair):
        x, y = pair
        lib.nn.functional.cross_entropy(x, y).backward()
        x.grad = None

    return _cycle(list(zip(xs, ys)), step)


# ---------------------------------------------------------------------------------------------
# --fused: ember's fused recurrent ops vs the same math as ember composites
# ---------------------------------------------------------------------------------------------

def _lstm_cell_composite(gates, c):
    i, f, g, o = gates.chunk(4, 1)
    c2 = i.sigmoid() * g.tanh() + f.sigmoid() * c
    return o.sigmoid() * c2.tanh(), c2


def _gru_cell_composite(xg, hg, h):
    xr, xz, xn = xg.chunk(3, 1)
    hr, hz, hn = hg.chunk(3, 1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (h - n)


def cell_workload(kind, fused, batch=32, size=256):
    from ember.ops import rnn as ops_rnn

    k = 4 if kind == "lstm" else 3
    xs = _pool(ember, (batch, k * size), 6)
    hs = _pool(ember, (batch, k * size), 7)
    cs = _pool(ember, (batch, size), 8)

    def step(args):
        x, hg, c = args
        if kind == "lstm":
            h, c2 = ops_rnn._LSTMCell.apply(x, c) if fused else _lstm_cell_composite(x, c)
            (h.sum() + c2.sum()).backward()
        else:
            h = ops_rnn._GRUCell.apply(x, hg, c) if fused else _gru_cell_composite(x, hg, c)
            h.sum().backward()
        _clear(args)

    return _cycle(list(zip(xs, hs, cs)), step)


def layer_op_workload(mode, fused, steps=50, batch=32, size=256):
    from ember.ops import rnn as ops_rnn

    k = 4 if mode == "LSTM" else 3
    rng = np.random.default_rng(9)
    bound = 1 / np.sqrt(size)

    def param(*shape):
        return ember.tensor(rng.uniform(-bound, bound, shape).astype(np.float32),
                            requires_grad=True)

    w_hh, b_hh = param(k * size, size), param(k * size)
    xgs = _pool(ember, (steps * batch, k * size), 10)
    h0, c0 = ember.zeros(batch, size), ember.zeros(batch, size)
    sizes = (batch,) * steps
    bias = b_hh if mode == "GRU" else None
    c0 = c0 if mode == "LSTM" else None

    def step(xg):
        if fused:
            out = ops_rnn._Layer.apply(xg, h0, c0, w_hh, bias, None, mode, sizes, False)
        else:
            out = ops_rnn._layer_composite(mode, xg, h0, c0, w_hh, bias, None, sizes, False)
        out[0].sum().backward()
        _clear([xg, w_hh, b_hh])

    return _cycle(xgs, step)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    p.add_argument("--fused", action="store_true",
                   help="time ember's fused RNN ops against ember composites instead")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for both libraries (default: all cores)")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 15
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    res = []
    if args.fused:
        for kind in ("lstm", "gru"):
            res.append(compare(f"{kind} cell fused / composite (32, 256)",
                               cell_workload(kind, True), cell_workload(kind, False),
                               rounds=rounds))
        for mode in ("LSTM", "GRU"):
            res.append(compare(f"{mode} layer op / per-step ops (50 steps, 32, 256)",
                               layer_op_workload(mode, True), layer_op_workload(mode, False),
                               rounds=rounds))
        print_table(res, "fused recurrent ops vs ember composites, fwd+bwd (ratio fused/composite;"
                         " 'pytorch' column = composite)")
        title = "layers-fused"
    else:
        cases = [
            ("conv2d fwd+bwd N=100 32->64 28x28 3x3 pad 1", conv_workload),
            ("max_pool2d 2x2 fwd+bwd (100,64,28,28)", pool_workload),
            ("LSTM(256,256) 50 steps batch 32 fwd+bwd", lambda lib: rnn_workload(lib, "LSTM")),
            ("GRU(256,256) 50 steps batch 32 fwd+bwd", lambda lib: rnn_workload(lib, "GRU")),
            ("cross_entropy (1024,1000) fwd+bwd", cross_entropy_workload),
        ]
        for name, make in cases:
            res.append(compare(name, make(ember), make(torch), rounds=rounds, target=1.5))
        print_table(res, "layers, forward+backward (median of paired ratios)")
        title = "layers"
    if args.json:
        write_json(res, args.json, title)
    return res


if __name__ == "__main__":
    main()
