"""The main job's training (examples/fashion_mnist_cnn.py) on ember and on PyTorch, in one run.

torchvision cannot be installed beside PyTorch 2.13 here, so Fashion-MNIST is read once by
ember.vision and normalised as the example's transforms do (ToTensor, Normalize(0.2860,
0.3530)); both libraries then train the example's network with the example's defaults (batch 64,
SGD lr 0.03 momentum 0.9, StepLR gamma 0.7 per epoch, test batches of 250) on the same batches
in the same order, from the same initial weights (ember's initialisation copied into PyTorch).
Epochs alternate between the libraries (ember 1, PyTorch 1, ember 2, ...) so both see the same
machine load. Each epoch is timed (training plus the test pass); the table gives the total time,
the final test accuracy of each, and the ratio of the total times ember/PyTorch. The example
itself also spends time in the DataLoader's per-image transforms, which this leaves out.

    python benchmarks/main_job.py [--epochs 2] [--quick] [--json benchmarks/results/main_job.json]
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Result, print_table, write_json  # noqa: E402

import ember  # noqa: E402
from ember.vision import datasets  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("EMBER_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
EXAMPLE = os.path.join(HERE, "..", "examples", "fashion_mnist_cnn.py")


def make_net(lib):
    """examples/fashion_mnist_cnn.py's ``Net``, built on ``lib`` (ember or torch): the class's
    source is executed with the example's names ``torch``, ``nn`` and ``F`` bound to ``lib``'s,
    so the benchmark always trains the example's network."""
    with open(EXAMPLE) as f:
        tree = ast.parse(f.read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Net")
    namespace = {"torch": lib, "nn": lib.nn, "F": lib.nn.functional}
    exec(compile(ast.Module([cls], type_ignores=[]), EXAMPLE, "exec"), namespace)
    return namespace["Net"]()


def load(train: bool, limit: int | None):
    ds = datasets.FashionMNIST(DATA, train=train)
    x = (ds.data.numpy().astype(np.float32) / 255 - 0.2860) / 0.3530
    y = ds.targets.numpy().astype(np.int64)
    return x[:limit, None], y[:limit]


class Run:
    """One library's model, optimizer and scheduler, trained epoch by epoch."""

    def __init__(self, lib, state: dict | None, args):
        self.lib = lib
        lib.manual_seed(args.seed)
        self.model = make_net(lib)
        if state is not None:
            self.model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in state.items()})
        self.opt = lib.optim.SGD(self.model.parameters(), lr=args.lr, momentum=0.9)
        self.sched = lib.optim.lr_scheduler.StepLR(self.opt, step_size=1, gamma=0.7)
        self.times, self.accuracy = [], None

    def state(self) -> dict:
        return {k: v.detach().numpy().copy() for k, v in self.model.state_dict().items()}

    def epoch(self, xtr, ytr, order, xte, yte, batch: int) -> None:
        lib, F = self.lib, self.lib.nn.functional
        t0 = time.perf_counter()
        self.model.train()
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            data, target = lib.from_numpy(xtr[idx]), lib.from_numpy(ytr[idx])
            self.opt.zero_grad()
            F.nll_loss(self.model(data), target).backward()
            self.opt.step()
        self.sched.step()
        self.model.eval()
        correct = 0
        with lib.no_grad():
            for i in range(0, len(xte), 250):
                out = self.model(lib.from_numpy(xte[i:i + 250]))
                correct += (out.argmax(1) == lib.from_numpy(yte[i:i + 250])).sum().item()
        self.accuracy = 100.0 * correct / len(xte)
        self.times.append(time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.03)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="1 epoch on 6,000/1,000 images")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    import torch

    limit_train, limit_test = (6000, 1000) if args.quick else (None, None)
    epochs = 1 if args.quick else args.epochs
    xtr, ytr = load(True, limit_train)
    xte, yte = load(False, limit_test)
    runs = {"ember": Run(ember, None, args)}
    runs["pytorch"] = Run(torch, runs["ember"].state(), args)
    rng = np.random.default_rng(args.seed)
    print(f"{len(xtr)} training and {len(xte)} test images, {epochs} epochs, torch threads "
          f"{torch.get_num_threads()}")
    for e in range(1, epochs + 1):
        order = rng.permutation(len(xtr))
        for name, run in runs.items():
            run.epoch(xtr, ytr, order, xte, yte, args.batch_size)
            print(f"epoch {e} {name:8s}: {run.times[-1]:7.1f} s, test accuracy "
                  f"{run.accuracy:.2f}%", flush=True)
    em, pt = runs["ember"], runs["pytorch"]
    ratios = [a / b for a, b in zip(em.times, pt.times)]
    result = Result(f"fashion_mnist_cnn training, {epochs} epoch(s)", sum(em.times),
                    sum(pt.times), sum(em.times) / sum(pt.times), epochs,
                    extra={"ember_accuracy": em.accuracy, "pytorch_accuracy": pt.accuracy,
                           "ember_epoch_s": em.times, "pytorch_epoch_s": pt.times,
                           "median_epoch_ratio": statistics.median(ratios)})
    print_table([result], "main job: ember vs PyTorch (same batches, same initial weights)")
    print(f"final test accuracy: ember {em.accuracy:.2f}%, PyTorch {pt.accuracy:.2f}%")
    if args.json:
        write_json([result], args.json, "main job")


if __name__ == "__main__":
    main()
