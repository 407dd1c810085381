"""Small pieces the examples share: command-line options, device choice, smoke runs, plots.

The examples are ordinary PyTorch programs; run them on ember with

    python -m ember.compat examples/<name>.py [--smoke] [--device cuda] ...

Every example takes ``--smoke`` (a few batches, for the test suite); the environment variable
``EMBER_EXAMPLE_SMOKE=1`` does the same without touching the command line (README's commands
are tested that way).
"""

from __future__ import annotations

import argparse
import os
import time

import torch


def parser(description: str, *, epochs: int | None, batch_size: int,
           lr: float) -> argparse.ArgumentParser:
    """The options every example has (``--epochs`` unless ``epochs`` is None); each example
    adds its own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default="data", help="dataset root (downloaded there if missing; "
                   "Fashion-MNIST is also found in /usr/share/datasets/fashion-mnist, where "
                   "Debian's dataset-fashion-mnist package puts it)")
    p.add_argument("--out", default="runs", help="folder for plots and checkpoints")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (auto: cuda if "
                   "available)")
    if epochs is not None:
        p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="run a few batches only (tests)")
    return p


def setup(args: argparse.Namespace) -> torch.device:
    """Seed, create the output folder, honour EMBER_EXAMPLE_SMOKE (a smoke run has at most
    two epochs); returns the device."""
    args.smoke = args.smoke or os.environ.get("EMBER_EXAMPLE_SMOKE") == "1"
    if args.smoke and getattr(args, "epochs", None) is not None:
        args.epochs = min(args.epochs, 2)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(args.device)


def first(dataset, n: int, smoke: bool):
    """The first ``n`` items of ``dataset`` in a smoke run, all of it otherwise."""
    if not smoke or n >= len(dataset):
        return dataset
    return torch.utils.data.Subset(dataset, range(n))


def plot(path: str, panels: dict, xlabel: str = "epoch") -> None:
    """One subplot per panel: ``{"title": {"series": [values...]}}``, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels.items()):
        for label, values in series.items():
            xs = range(1, len(values) + 1)
            ax.plot(xs, values, label=label, marker="o" if len(values) < 30 else None)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")


class Timer:
    """Wall time since creation, formatted in minutes."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def minutes(self) -> float:
        return (time.perf_counter() - self.start) / 60
