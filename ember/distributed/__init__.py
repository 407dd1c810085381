"""``torch.distributed``: multi-process training over MPI (CPU) and NCCL (CUDA).

Available when mpi4py and an MPI library are installed (``pip install ember[dist]``: mpi4py and
the ``mpich`` wheel). See ``distributed_c10d`` for the backends and ``run`` for the launcher.
"""

import importlib.util


def is_available() -> bool:
    """Whether ``ember.distributed`` can run: mpi4py is installed (MPI starts at init)."""
    return importlib.util.find_spec("mpi4py") is not None


from .distributed_c10d import *
from .distributed_c10d import _NOT_INIT
