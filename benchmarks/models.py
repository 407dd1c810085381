"""Training steps of small models, written once for ember and PyTorch (``lib`` is either module).

Each ``*_step(lib, ...)`` returns a zero-argument callable doing one full training step
(zero_grad, forward, loss, backward, optimizer step) on the next batch of a pool of distinct
random batches: one reused batch drives the gradients towards float32 denormals, which slows
both libraries by amounts that differ between runs.

    python benchmarks/models.py [--quick] [--json benchmarks/results/models.json]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

POOL = 8  # distinct batches per workload


def _batches(lib, shape, classes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    xs = [lib.tensor(rng.standard_normal(shape).astype(np.float32)) for _ in range(POOL)]
    ys = [lib.tensor(rng.integers(0, classes, shape[0])) for _ in range(POOL)]
    return xs, ys


def _init_like(lib, model, seed: int) -> None:
    """Same initial weights in both libraries: PyTorch's default init drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            fan_in = int(np.prod(p.shape[1:])) if p.ndim > 1 else p.shape[0]
            bound = 1 / np.sqrt(fan_in)
            p.copy_(lib.tensor(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def _stepper(lib, model, loss_fn, xs, ys, opt):
    state = {"i": 0}

    def run():
        i = state["i"] = (state["i"] + 1) % len(xs)
        opt.zero_grad()
        loss = loss_fn(model(xs[i]), ys[i])
        loss.backward()
        opt.step()

    return run


def seeds_cnn(lib):
    """The seeds' MNIST CNN: conv 32/64 3x3, max-pool, dropout, fc 9216-128-10, log_softmax."""
    nn = lib.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout2d(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def lenet(lib):
    """LeNet-5 on 28x28 MNIST (first conv padded by 2, as the classic 32x32 input)."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def cnn_step(lib, batch: int = 100):
    lib.manual_seed(0)  # dropout masks
    model = seeds_cnn(lib)
    _init_like(lib, model, 1)
    xs, ys = _batches(lib, (batch, 1, 28, 28), 10)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _stepper(lib, model, lib.nn.NLLLoss(), xs, ys, opt)


def lenet_step(lib, batch: int = 64):
    model = lenet(lib)
    _init_like(lib, model, 2)
    xs, ys = _batches(lib, (batch, 1, 28, 28), 10)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _stepper(lib, model, lib.nn.CrossEntropyLoss(), xs, ys, opt)


def mlp_step(lib, batch: int = 64):
    model = mlp(lib)
    _init_like(lib, model, 3)
    xs, ys = _batches(lib, (batch, 784), 10)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _stepper(lib, model, lib.nn.CrossEntropyLoss(), xs, ys, opt)


STEPS = {"cnn": cnn_step, "lenet": lenet_step, "mlp": mlp_step}


def main(argv=None):
    import torch
    from harness import compare, print_table, write_json

    import ember

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--json", default=None, help="write results as JSON here")
    args = p.parse_args(argv)
    rounds = 5 if args.quick else 15
    torch.set_num_threads(os.cpu_count() or 1)
    res = [
        compare("seeds' CNN train step, batch 100", cnn_step(ember), cnn_step(torch),
                rounds=rounds, budget_s=0.2),
        compare("LeNet train step, batch 64", lenet_step(ember), lenet_step(torch),
                rounds=rounds),
        compare("MLP 784-128-64-10 train step, batch 64", mlp_step(ember), mlp_step(torch),
                rounds=rounds),
        compare("MLP 784-128-64-10 train step, batch 1", mlp_step(ember, 1),
                mlp_step(torch, 1), rounds=rounds),
    ]
    print_table(res, "training steps (median of paired ratios)")
    if args.json:
        write_json(res, args.json, "models")
    return res


if __name__ == "__main__":
    main()
