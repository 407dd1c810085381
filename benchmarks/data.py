"""DataLoader throughput: ember's ``utils.data.DataLoader`` vs PyTorch's, in one run.

Each row times whole shuffled epochs (worker start-up and shutdown included, as a training
loop sees them) with ``num_workers`` 0 and 2, and reports batches/s for both libraries plus the
median of the paired per-epoch time ratios ember/PyTorch (``harness.compare``).

To add a row, append a ``Row`` to ``ROWS``: a name, and for each library a function
``make(num_workers) -> DataLoader`` (``torch_make=None`` for a row without a PyTorch
counterpart, e.g. when torchvision is missing); the dataset should be built once, outside
``make``, so that only the loader is timed.

    python benchmarks/data.py [--quick] [--workers 0 2] [--json benchmarks/results/data.json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Result, compare, print_table, write_json  # noqa: E402

import ember  # noqa: E402
import ember.utils.data  # noqa: E402

try:
    import torch
    import torch.utils.data
except ImportError:  # pragma: no cover - the oracle is normally installed
    torch = None


@dataclass
class Row:
    name: str
    ember_make: Callable  # num_workers -> ember DataLoader
    torch_make: Callable | None  # num_workers -> PyTorch DataLoader (None: ember only)
    target: float | None = None  # bound on the ember/PyTorch time ratio


def epoch(loader) -> int:
    n = 0
    for _ in loader:
        n += 1
    return n


# ------------------------------------------------------------------------------ rows
def tensor_dataset_row(n: int = 60_000, features: int = 784, batch: int = 256) -> Row:
    """TensorDataset of n x features float32 samples and int64 labels, shuffled batches."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, features), dtype=np.float32)
    y = rng.integers(0, 10, n)
    e_ds = ember.utils.data.TensorDataset(ember.from_numpy(x), ember.from_numpy(y))

    def ember_make(nw):
        return ember.utils.data.DataLoader(e_ds, batch_size=batch, shuffle=True,
                                           num_workers=nw)

    torch_make = None
    if torch is not None:
        t_ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))

        def torch_make(nw):
            return torch.utils.data.DataLoader(t_ds, batch_size=batch, shuffle=True,
                                               num_workers=nw)

    return Row(f"TensorDataset {n}x{features}, batch {batch}", ember_make, torch_make,
               target=1.5)


class _PerSample:
    """A map-style dataset indexing two tensors sample by sample (no batched gather)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def per_sample_row(n: int = 60_000, features: int = 784, batch: int = 256) -> Row:
    """The same data through a plain Dataset: per-sample __getitem__ + default_collate, the
    path every custom dataset takes (the TensorDataset row gathers whole batches)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, features), dtype=np.float32)
    y = rng.integers(0, 10, n)
    e_ds = _PerSample(ember.from_numpy(x), ember.from_numpy(y))

    def ember_make(nw):
        return ember.utils.data.DataLoader(e_ds, batch_size=batch, shuffle=True,
                                           num_workers=nw)

    torch_make = None
    if torch is not None:
        t_ds = _PerSample(torch.from_numpy(x), torch.from_numpy(y))

        def torch_make(nw):
            return torch.utils.data.DataLoader(t_ds, batch_size=batch, shuffle=True,
                                               num_workers=nw)

    return Row(f"per-sample {n}x{features}, batch {batch}", ember_make, torch_make)


DATA_ROOT = os.environ.get("EMBER_DATA", os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", "..", "shared", "data"))


class _TorchFashionMNIST:
    """What torchvision's FashionMNIST + ToTensor + Normalize do per item, written with torch
    ops (torchvision is not installable here): PIL image from the uint8 array, HWC -> CHW
    float / 255, then clone, subtract the mean and divide by the std."""

    def __init__(self, data: np.ndarray, targets: np.ndarray, mean, std):
        self.data, self.targets, self.mean, self.std = data, targets, mean, std

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        from PIL import Image

        img = Image.fromarray(self.data[i], mode="L")
        t = torch.from_numpy(np.array(img, np.uint8, copy=True))
        t = t.view(img.size[1], img.size[0], 1).permute((2, 0, 1)).contiguous()
        t = t.to(dtype=torch.get_default_dtype()).div(255)
        t = t.clone()
        mean = torch.as_tensor(self.mean, dtype=t.dtype)
        std = torch.as_tensor(self.std, dtype=t.dtype)
        if (std == 0).any():
            raise ValueError("std evaluated to zero")
        t.sub_(mean.view(-1, 1, 1)).div_(std.view(-1, 1, 1))
        return t, int(self.targets[i])


def fashion_mnist_row(batch: int = 100) -> Row | None:
    """FashionMNIST train split (60,000 images) through ember.vision's dataset with
    ToTensor + Normalize, shuffled; PyTorch's DataLoader runs the same per-item work."""
    try:
        from ember.vision import datasets, transforms
    except ImportError:  # Pillow missing
        return None
    mean, std = (0.2860,), (0.3530,)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    try:
        e_ds = datasets.FashionMNIST(DATA_ROOT, train=True, transform=tf)
    except RuntimeError:  # data not available
        return None

    def ember_make(nw):
        return ember.utils.data.DataLoader(e_ds, batch_size=batch, shuffle=True,
                                           num_workers=nw)

    torch_make = None
    if torch is not None:
        t_ds = _TorchFashionMNIST(e_ds.data.numpy(), e_ds.targets.numpy(), mean, std)

        def torch_make(nw):
            return torch.utils.data.DataLoader(t_ds, batch_size=batch, shuffle=True,
                                               num_workers=nw)

    return Row(f"FashionMNIST ToTensor+Normalize, batch {batch}", ember_make, torch_make)


def rows(quick: bool) -> list[Row]:
    fmnist = fashion_mnist_row()
    return [tensor_dataset_row(), per_sample_row()] + ([fmnist] if fmnist else [])


# ------------------------------------------------------------------------------ main
def run_row(row: Row, nw: int, rounds: int) -> Result:
    e_loader = row.ember_make(nw)
    n_batches = len(e_loader)
    name = f"{row.name}, workers={nw}"
    if row.torch_make is None:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            epoch(e_loader)
            times.append(time.perf_counter() - t0)
        res = Result(name, statistics.median(times), float("nan"), float("nan"), rounds)
    else:
        t_loader = row.torch_make(nw)
        # one epoch per call: calibration and warm-up rounds count whole epochs too
        res = compare(name, lambda: epoch(e_loader), lambda: epoch(t_loader), rounds=rounds,
                      budget_s=0.0, warmup=1, target=row.target)
    res.extra["batches"] = n_batches
    res.extra["ember_batches_per_s"] = n_batches / res.ember_s
    if res.torch_s == res.torch_s:  # not NaN
        res.extra["torch_batches_per_s"] = n_batches / res.torch_s
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 3 if args.quick else 7
    results = [run_row(row, nw, rounds) for row in rows(args.quick) for nw in args.workers]
    print_table(results, "DataLoader, one epoch (median of paired ratios)")
    print()
    for r in results:
        tb = r.extra.get("torch_batches_per_s")
        torch_part = f", pytorch {tb:8.0f} batches/s" if tb else ""
        print(f"{r.name:48s} ember {r.extra['ember_batches_per_s']:8.0f} batches/s{torch_part}")
    if args.json:
        write_json(results, args.json, "data")
    return results


if __name__ == "__main__":
    main()
