"""TensorBoard logging speed: ember's ``utils.tensorboard.SummaryWriter`` vs PyTorch's, in one run.

Workloads: 10,000 ``add_scalar`` calls (tensor values), 100 ``add_histogram`` calls of 100,000
float32 values each (TensorFlow's default bins), 50 ``add_image`` calls of a 3x224x224 float
image. Each timed call ends with ``flush()``, so the event-file writer thread's work is counted.
Both writers write into their own temporary directory; the figure is the median of the paired
ember/PyTorch time ratios (``harness.compare``).

    python benchmarks/tb_writer.py [--quick] [--json benchmarks/results/tb_writer.json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import compare, print_table, write_json  # noqa: E402

import ember  # noqa: E402
from ember.utils.tensorboard import SummaryWriter  # noqa: E402

try:
    import torch
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
except ImportError:  # pragma: no cover - the oracle is normally installed
    torch = None


def workloads(e_writer, t_writer):
    """(name, ember callable, torch callable) for each workload."""
    rng = np.random.default_rng(0)
    hist = rng.standard_normal(100_000).astype(np.float32)
    img = rng.random((3, 224, 224)).astype(np.float32)
    scalars = rng.random(10_000).astype(np.float32)
    e_vals, t_vals = list(ember.from_numpy(scalars)), list(torch.from_numpy(scalars))
    e_hist, t_hist = ember.from_numpy(hist), torch.from_numpy(hist)
    e_img, t_img = ember.from_numpy(img), torch.from_numpy(img)

    def calls(w, n, log):
        """``n`` logging calls ``log(w, i)``, then a flush."""
        def run():
            for i in range(n):
                log(w, i)
            w.flush()
        return run

    def scalars(vals):
        return lambda w, i: w.add_scalar("loss", vals[i], i)

    def histogram(values):
        return lambda w, i: w.add_histogram("weights", values, i)

    def image(img):
        return lambda w, i: w.add_image("image", img, i)

    return [
        ("10k add_scalar (0-d tensors)", calls(e_writer, 10_000, scalars(e_vals)),
         calls(t_writer, 10_000, scalars(t_vals))),
        ("100 add_histogram of 1e5 float32", calls(e_writer, 100, histogram(e_hist)),
         calls(t_writer, 100, histogram(t_hist))),
        ("50 add_image 3x224x224 float32", calls(e_writer, 50, image(e_img)),
         calls(t_writer, 50, image(t_img))),
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args()
    if torch is None:
        sys.exit("PyTorch is not installed: nothing to compare with")
    rounds = 3 if args.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        e_writer = SummaryWriter(os.path.join(tmp, "ember"))
        t_writer = TorchWriter(os.path.join(tmp, "torch"))
        results = [compare(name, e_fn, t_fn, rounds=rounds, budget_s=0.0, warmup=1)
                   for name, e_fn, t_fn in workloads(e_writer, t_writer)]
        e_writer.close()
        t_writer.close()
    title = "TensorBoard SummaryWriter (ember / PyTorch)"
    print_table(results, title)
    if args.json:
        write_json(results, args.json, title)


if __name__ == "__main__":
    main()
