"""Inputs shared by the ember DDP worker and the PyTorch DDP oracle script."""

import numpy as np

STEPS, LR, MOMENTUM = 3, 0.1, 0.9


def data(step: int, batch: int):
    """The full batch of a training step: (N, 1, 6, 6) images and (N, 3) targets."""
    rng = np.random.default_rng(100 + step)
    return (rng.standard_normal((batch, 1, 6, 6)).astype(np.float32),
            rng.standard_normal((batch, 3)).astype(np.float32))
