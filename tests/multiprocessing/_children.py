"""Functions run by the processes of the ``spawn`` tests. Kept apart from the test module, which
imports PyTorch: a 'spawn' child imports the module its function lives in."""

import os
import signal
import sys


def write_rank(i, path):
    with open(os.path.join(path, f"rank{i}"), "w") as f:
        f.write(str(i * 10))


def raise_on_one(i):
    if i == 1:
        raise ValueError(f"rank {i} failed")


def exit_code(i):
    sys.exit(3 if i == 0 else 0)


def killed(i):
    os.kill(os.getpid(), signal.SIGKILL)
