"""``torch.distributed.distributed_c10d``: process groups and collectives.

Ranks come from MPI: start the script with ``python -m ember.distributed.run --nproc_per_node N``
(torchrun's flags) or ``mpiexec -n N python script.py``. The backends:

- ``"mpi"`` and ``"gloo"``: CPU tensors, over MPI (mpi4py on MPICH). ember has no Gloo library;
  "gloo" is accepted so that PyTorch scripts run unchanged, and MPI serves it.
- ``"nccl"``: CUDA tensors, over NCCL through CuPy; CPU tensors raise as in PyTorch.
- ``None``: CPU tensors over MPI, CUDA tensors over NCCL (PyTorch's "cpu:gloo,cuda:nccl").

``init_method``, ``store`` and ``timeout`` have no effect: MPI does the rendezvous and has no
timeouts. Collectives write into the tensors' own arrays and bump their version counters.
"""

from __future__ import annotations

import enum
import os
import pickle
from datetime import timedelta

import numpy as np

from .. import _backend
from .._tensor import Tensor
from ._engines import MpiEngine, NcclEngine, Work

__all__ = ["Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
           "all_to_all_single", "barrier", "broadcast", "broadcast_object_list",
           "destroy_process_group", "gather", "gather_object", "get_backend", "get_rank",
           "get_world_size", "group", "init_process_group", "irecv", "is_initialized",
           "is_mpi_available", "is_nccl_available", "is_gloo_available", "isend", "new_group",
           "recv", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
           "scatter_object_list", "send", "get_process_group_ranks", "get_global_rank",
           "get_group_rank", "is_torchelastic_launched"]

_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


class ReduceOp:
    """``torch.distributed.ReduceOp``: SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR."""

    class RedOpType(enum.IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8
        UNUSED = 9

        def __str__(self) -> str:
            return f"RedOpType.{self.name}"

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    UNUSED = RedOpType.UNUSED

    def __new__(cls, op=0):
        return cls.RedOpType(op)


class Backend(str):
    """``torch.distributed.Backend``: a lower-case backend name."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: "
                             f"{type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return str.__new__(cls, value)


class ProcessGroup:
    """``torch.distributed.ProcessGroup``: a set of ranks with an MPI communicator (and an
    NCCL communicator made on first CUDA use)."""

    def __init__(self, comm, ranks: list[int], backend: str) -> None:
        self._comm = comm
        self._ranks = ranks
        self._backend = backend
        self._mpi = MpiEngine(comm)
        self._nccl = NcclEngine(comm)

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return self._comm.Get_size()

    def name(self) -> str:
        return self._backend

    def _engine(self, t: Tensor):
        cuda = not t.is_cpu
        if self._backend == "nccl":
            if not cuda:
                raise RuntimeError("No backend type associated with device type cpu")
            return self._nccl
        if cuda:
            if self._backend == "undefined":
                return self._nccl
            raise RuntimeError(f"ember.distributed: the {self._backend} backend serves CPU "
                               f"tensors only (MPI); use backend='nccl' for CUDA tensors")
        return self._mpi

    def _close(self) -> None:
        self._nccl.close()
        self._comm.Free()

    def __repr__(self) -> str:
        return f"<ember.distributed.ProcessGroup backend={self._backend} ranks={self._ranks}>"


class GroupMember:
    """``torch.distributed.GroupMember``: ``WORLD`` is the default group once initialized."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class _WorldMeta(type):
    @property
    def WORLD(cls):  # noqa: N802 (PyTorch's name)
        return GroupMember.WORLD


class group(metaclass=_WorldMeta):  # noqa: N801 (PyTorch's name)
    """``torch.distributed.group``: ``group.WORLD`` is the default process group."""


_groups: list[ProcessGroup] = []


def is_mpi_available() -> bool:
    from . import is_available

    return is_available()


is_gloo_available = is_mpi_available


def is_nccl_available() -> bool:
    try:
        _backend.nccl_module()
    except (AssertionError, RuntimeError):
        return False
    return is_mpi_available()


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def is_initialized() -> bool:
    return GroupMember.WORLD is not None


def _world() -> ProcessGroup:
    pg = GroupMember.WORLD
    if pg is None:
        raise ValueError(_NOT_INIT)
    return pg


def _check_env_int(name: str, value: int, mpi_value: int, what: str) -> None:
    if value != mpi_value:
        raise ValueError(f"init_process_group: {what} is {value} (from {name}) but MPI started "
                         f"this process as {what} {mpi_value} of its job; start the script "
                         f"with `python -m ember.distributed.run` or `mpiexec -n N`")


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """``torch.distributed.init_process_group``: make the default group from MPI's world.

    The rank and world size are MPI's; ``rank``/``world_size`` and the RANK/WORLD_SIZE
    environment variables, where given, must agree with them.
    """
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if timeout is not None and not isinstance(timeout, timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout)}")
    if store is not None:
        raise NotImplementedError("init_process_group(store=...): ember.distributed does its "
                                  "rendezvous through MPI and has no Store")
    if backend is None:
        name = "undefined"
    else:
        name = str(Backend(backend))
        if name not in ("gloo", "mpi", "nccl"):
            raise AssertionError(f"Unknown backend type {backend}")
    from . import is_available

    if not is_available():
        raise RuntimeError("ember.distributed needs mpi4py and an MPI library: "
                           "pip install mpi4py mpich (the 'dist' extra)")
    if name == "nccl":
        _backend.nccl_module()
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    mrank, msize = world.Get_rank(), world.Get_size()
    for arg, env, mval, what in ((rank, "RANK", mrank, "rank"),
                                 (world_size, "WORLD_SIZE", msize, "world size")):
        if arg != -1:
            _check_env_int("argument", int(arg), mval, what)
        elif os.environ.get(env) is not None:
            _check_env_int(f"env {env}", int(os.environ[env]), mval, what)
    if device_id is not None and name in ("nccl", "undefined"):
        idx = device_id if isinstance(device_id, int) else device_id.index
        _backend.cupy_module().cuda.Device(idx).use()
    pg = ProcessGroup(world.Dup(), list(range(msize)), name)
    GroupMember.WORLD = pg
    if msize > 1:
        _abort_on_uncaught_exception()
    _groups.append(pg)


def _abort_on_uncaught_exception() -> None:
    """Make an uncaught exception end the whole MPI job (after printing it), as torchrun
    stops the other ranks: otherwise they would wait for this one in their next collective."""
    import sys

    if getattr(sys.excepthook, "_ember_abort", False):
        return
    previous = sys.excepthook

    def hook(tp, value, tb):
        previous(tp, value, tb)
        sys.stderr.flush()
        from mpi4py import MPI

        MPI.COMM_WORLD.Abort(1)

    hook._ember_abort = True
    sys.excepthook = hook


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free ``group`` or, by default, every group (the default one included)."""
    if group is None or group is GroupMember.WORLD:
        _world()
        for pg in _groups:
            pg._close()
        _groups.clear()
        GroupMember.WORLD = None
    elif group is not GroupMember.NON_GROUP_MEMBER and group in _groups:
        group._close()
        _groups.remove(group)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None, device_id=None,
              sort_ranks: bool = True):
    """``torch.distributed.new_group``: an MPI sub-communicator of the listed global ranks.

    Every rank of the default group must call it (it is collective, as in PyTorch); ranks not
    listed get ``GroupMember.NON_GROUP_MEMBER``.
    """
    world = _world()
    n = world.size()
    if ranks is None or len(ranks) == 0:
        ranks = list(range(n))
    ranks = [int(r) for r in ranks]
    if len(ranks) > n:
        raise ValueError("the new group's world size should be less or equal to the world "
                         "size set by init_process_group")
    for r in ranks:
        if r < 0 or r >= n:
            raise ValueError("The new group's rank should be within the world_size set by "
                             "init_process_group")
    if sort_ranks:
        ranks = sorted(ranks)
    me = world.rank()
    from mpi4py import MPI

    member = me in ranks
    comm = world._comm.Split(0 if member else MPI.UNDEFINED, ranks.index(me) if member else 0)
    if not member:
        return GroupMember.NON_GROUP_MEMBER
    name = world._backend if backend is None else str(Backend(backend))
    pg = ProcessGroup(comm, ranks, name)
    _groups.append(pg)
    return pg


def _group(group) -> ProcessGroup | None:
    """The group to run on, or None when this rank is not a member."""
    world = _world()
    if group is None:
        return world
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(group).__name__}")
    return group


def get_rank(group: ProcessGroup | None = None) -> int:
    pg = _group(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    pg = _group(group)
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> Backend:
    pg = _group(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return Backend(pg._backend)


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    pg = _group(group)
    return list(pg._ranks) if pg is not None else []


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    pg = _group(group)
    if not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg._ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    pg = _group(group)
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(global_rank)


# ---------------------------------------------------------------------------------- helpers
def _check_tensor(t, name: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(t)} instead.")


def _check_list(ts, name: str) -> None:
    if not isinstance(ts, list) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[torch.Tensor]\n             but got {type(ts)} instead.")


def _peer(pg: ProcessGroup, rank, group_rank, what: str) -> int:
    """A group rank from a global ``rank`` or a ``group_rank`` (PyTorch's src/dst/group_src)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {what} and group_{what}")
    if group_rank is not None:
        r = int(group_rank)
        if not 0 <= r < pg.size():
            raise ValueError(f"Group rank {r} is not part of group {pg}")
        return r
    r = 0 if rank is None else int(rank)
    if r not in pg._ranks:
        raise ValueError(f"Global rank {r} is not part of group {pg}")
    return pg._ranks.index(r)


def _check_op(op, t: Tensor) -> int:
    op = ReduceOp.RedOpType(int(op))
    kind = t._data.dtype.kind
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iub":
        raise RuntimeError(f"Cannot use {op} with non-integral dtype")
    if op in (ReduceOp.MIN, ReduceOp.MAX) and kind == "c":
        raise RuntimeError(f"{op} is not supported for complex tensors")
    if op in (ReduceOp.PREMUL_SUM, ReduceOp.UNUSED):
        raise NotImplementedError(f"ember.distributed: {op} is not supported")
    return op


def _working(t: Tensor):
    """A contiguous array to run on: the tensor's own array where possible."""
    a = t._data
    if a.flags.c_contiguous:
        return a
    return _backend.array_module(a).ascontiguousarray(a)


def _writer(ts, arrs, op=None, n: int = 1):
    """A completion step writing each working array into its tensor (after AVG's division)."""
    def run():
        for t, a in zip(ts, arrs):
            if op == ReduceOp.AVG:
                xp = _backend.array_module(a)
                if a.dtype.kind in "iu":
                    a[...] = xp.sign(a) * (xp.abs(a) // n)
                else:
                    a /= n
            if a is not t._data:
                t._data[...] = a.reshape(t._data.shape)
            t._bump_version()
    return run


def _finish(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


def _same_device(ts, ref: Tensor) -> None:
    for t in ts:
        if t.device != ref.device:
            raise ValueError(f"tensors must be on the same device: got {t.device} and "
                             f"{ref.device}")


# -------------------------------------------------------------------------------- collectives
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``torch.distributed.all_reduce``: reduce ``tensor`` over the group, in place."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    eng = pg._engine(tensor)
    op = _check_op(op, tensor)
    a = _working(tensor)
    w = eng.allreduce(a, op)._then(_writer([tensor], [a], op, pg.size()))
    return _finish(w, async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    """``torch.distributed.reduce``: the reduction lands in ``tensor`` on rank ``dst``."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    root = _peer(pg, dst, group_dst, "dst")
    eng = pg._engine(tensor)
    op = _check_op(op, tensor)
    a = _working(tensor)
    w = eng.reduce(a, op, root)
    if pg.rank() == root:
        w._then(_writer([tensor], [a], op, pg.size()))
    return _finish(w, async_op)


def broadcast(tensor, src=None, group=None, async_op: bool = False, group_src=None):
    """``torch.distributed.broadcast``: copy ``tensor`` from rank ``src`` to every rank."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    root = _peer(pg, src, group_src, "src")
    a = _working(tensor)
    w = pg._engine(tensor).bcast(a, root)
    if pg.rank() != root:
        w._then(_writer([tensor], [a]))
    return _finish(w, async_op)


def _out_check(outs, ref: Tensor, fname: str) -> None:
    for i, o in enumerate(outs):
        if o._data.dtype != ref._data.dtype:
            raise RuntimeError(f"{fname}: invalid tensor type at index {i} (expected "
                               f"{ref.dtype}, got {o.dtype})")
        if tuple(o.shape) != tuple(ref.shape):
            raise RuntimeError(f"{fname}: invalid tensor size at index {i} (expected "
                               f"{tuple(ref.shape)}, got {tuple(o.shape)})")
    _same_device(outs, ref)


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """``torch.distributed.all_gather``: every rank's ``tensor`` into ``tensor_list``."""
    _check_list(tensor_list, "tensor_list")
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    n = pg.size()
    if len(tensor_list) != n:
        raise RuntimeError(f"all_gather: invalid output tensor list (expected length {n}, "
                           f"got {len(tensor_list)})")
    _out_check(tensor_list, tensor, "all_gather")
    xp = _backend.array_module(tensor._data)
    recv = xp.empty((n,) + tuple(tensor.shape), dtype=tensor._data.dtype)
    w = pg._engine(tensor).allgather(_working(tensor), recv)
    w._then(_writer(tensor_list, list(recv)))
    return _finish(w, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """``torch.distributed.all_gather_into_tensor``: ranks' inputs concatenated (or stacked)
    into ``output_tensor``."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    pg = _group(group)
    if pg is None:
        return None
    n = pg.size()
    if output_tensor.numel() != n * input_tensor.numel():
        raise ValueError(f"Output tensor size must be equal to world_size times input tensor "
                         f"size: got {tuple(output_tensor.shape)} for {n} ranks and input "
                         f"{tuple(input_tensor.shape)}")
    if output_tensor._data.dtype != input_tensor._data.dtype:
        raise TypeError(f"output tensor must have the same type as input tensor: got "
                        f"{output_tensor.dtype} and {input_tensor.dtype}")
    _same_device([output_tensor], input_tensor)
    out = _working(output_tensor)
    w = pg._engine(input_tensor).allgather(_working(input_tensor), out)
    w._then(_writer([output_tensor], [out]))
    return _finish(w, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``torch.distributed.reduce_scatter``: rank i gets the reduction of every rank's
    ``input_list[i]``."""
    _check_tensor(output, "output")
    _check_list(input_list, "input_list")
    pg = _group(group)
    if pg is None:
        return None
    n = pg.size()
    if len(input_list) != n:
        raise ValueError(f"reduce_scatter: input_list must have one tensor per rank (expected "
                         f"{n}, got {len(input_list)})")
    _out_check(input_list, output, "reduce_scatter")
    eng = pg._engine(output)
    op = _check_op(op, output)
    xp = _backend.array_module(output._data)
    send = xp.stack([t._data for t in input_list]) if n else None
    out = _working(output)
    w = eng.reduce_scatter(send, out, op)._then(_writer([output], [out], op, n))
    return _finish(w, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """``torch.distributed.reduce_scatter_tensor``: ``input`` holds world_size chunks; rank i
    gets the reduction of every rank's chunk i in ``output``."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _group(group)
    if pg is None:
        return None
    n = pg.size()
    if input.numel() != n * output.numel():
        raise ValueError(f"Input tensor size must be equal to world_size times output tensor "
                         f"size: got {tuple(input.shape)} for {n} ranks and output "
                         f"{tuple(output.shape)}")
    if output._data.dtype != input._data.dtype:
        raise TypeError(f"input tensor must be the same type as the output tensor: got "
                        f"{input.dtype} and {output.dtype}")
    _same_device([input], output)
    eng = pg._engine(output)
    op = _check_op(op, output)
    out = _working(output)
    w = eng.reduce_scatter(_working(input), out, op)._then(_writer([output], [out], op, n))
    return _finish(w, async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op: bool = False,
           group_dst=None):
    """``torch.distributed.gather``: every rank's ``tensor`` into ``gather_list`` on ``dst``."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    root = _peer(pg, dst, group_dst, "dst")
    n = pg.size()
    if pg.rank() == root:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, "gather_list")
        if len(gather_list) != n:
            raise RuntimeError(f"gather: invalid output tensor list (expected length {n}, got "
                               f"{len(gather_list)})")
        _out_check(gather_list, tensor, "gather")
        xp = _backend.array_module(tensor._data)
        recv = xp.empty((n,) + tuple(tensor.shape), dtype=tensor._data.dtype)
        w = pg._engine(tensor).gather(_working(tensor), recv, root)
        w._then(_writer(gather_list, list(recv)))
    else:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on "
                             "non-destination ranks.")
        w = pg._engine(tensor).gather(_working(tensor), None, root)
    return _finish(w, async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op: bool = False,
            group_src=None):
    """``torch.distributed.scatter``: rank i gets ``scatter_list[i]`` of rank ``src``."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    root = _peer(pg, src, group_src, "src")
    n = pg.size()
    send = None
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, "scatter_list")
        if len(scatter_list) != n:
            raise RuntimeError(f"scatter: invalid input tensor list (expected length {n}, got "
                               f"{len(scatter_list)})")
        _out_check(scatter_list, tensor, "scatter")
        send = _backend.array_module(tensor._data).stack([t._data for t in scatter_list])
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    out = _working(tensor)
    w = pg._engine(tensor).scatter(send, out, root)._then(_writer([tensor], [out]))
    return _finish(w, async_op)


def _splits(sizes, rows: int, n: int, what: str) -> list[int]:
    if sizes is None or len(sizes) == 0:
        if rows % n:
            raise ValueError(f"all_to_all_single: the {what} tensor's first dimension ({rows}) "
                             f"must be divisible by the world size ({n}) without split sizes")
        return [rows // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n or sum(sizes) != rows or min(sizes) < 0:
        raise ValueError(f"all_to_all_single: {what}_split_sizes {sizes} must have {n} "
                         f"non-negative entries summing to the first dimension ({rows})")
    return sizes


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op: bool = False):
    """``torch.distributed.all_to_all_single``: split ``input`` along dim 0, send split i to
    rank i, and concatenate what arrives into ``output``."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _group(group)
    if pg is None:
        return None
    n = pg.size()
    if output._data.dtype != input._data.dtype:
        raise TypeError(f"all_to_all_single: output ({output.dtype}) and input ({input.dtype}) "
                        f"must have the same dtype")
    _same_device([output], input)
    irows = input.shape[0] if input.ndim else 1
    orows = output.shape[0] if output.ndim else 1
    if input.numel() // max(irows, 1) != output.numel() // max(orows, 1) and irows and orows:
        raise ValueError(f"all_to_all_single: input {tuple(input.shape)} and output "
                         f"{tuple(output.shape)} differ beyond the first dimension")
    row = input.numel() // irows if irows else 0
    si = _splits(input_split_sizes, irows, n, "input")
    so = _splits(output_split_sizes, orows, n, "output")
    out = _working(output)
    w = pg._engine(input).alltoallv(_working(input), [s * row for s in si], out,
                                    [s * row for s in so])
    w._then(_writer([output], [out]))
    return _finish(w, async_op)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op: bool = False):
    """``torch.distributed.all_to_all``: send ``input_tensor_list[i]`` to rank i, receive
    rank i's into ``output_tensor_list[i]``."""
    _check_list(output_tensor_list, "output_tensor_list")
    _check_list(input_tensor_list, "input_tensor_list")
    pg = _group(group)
    if pg is None:
        return None
    n = pg.size()
    if len(output_tensor_list) != n or len(input_tensor_list) != n:
        raise ValueError(f"all_to_all: both tensor lists need {n} tensors (got "
                         f"{len(output_tensor_list)} and {len(input_tensor_list)})")
    ref = input_tensor_list[0]
    for t in output_tensor_list + input_tensor_list:
        if t._data.dtype != ref._data.dtype:
            raise TypeError(f"all_to_all: tensors must share one dtype (got {t.dtype} and "
                            f"{ref.dtype})")
    _same_device(output_tensor_list + input_tensor_list, ref)
    xp = _backend.array_module(ref._data)
    send = xp.concatenate([t._data.reshape(-1) for t in input_tensor_list])
    recv = xp.empty(sum(t.numel() for t in output_tensor_list), dtype=ref._data.dtype)
    rc = [t.numel() for t in output_tensor_list]
    w = pg._engine(ref).alltoallv(send, [t.numel() for t in input_tensor_list], recv, rc)
    offs = np.concatenate([[0], np.cumsum(rc)]).tolist()
    w._then(_writer(output_tensor_list, [recv[offs[i]:offs[i + 1]] for i in range(n)]))
    return _finish(w, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    """``torch.distributed.barrier``: wait until every rank of the group has arrived."""
    pg = _group(group)
    if pg is None:
        return None
    return _finish(pg._mpi.barrier(), async_op)


# ----------------------------------------------------------------------------- point to point
def _p2p_peer(pg: ProcessGroup, rank, group_rank, what: str) -> int:
    r = _peer(pg, rank, group_rank, what)
    if r == pg.rank():
        side = "destination" if what == "dst" else "source"
        raise ValueError(f"Invalid {side} rank: {side} rank should not be the same as the rank "
                         f"of the current process.")
    return r


def isend(tensor, dst=None, group=None, tag: int = 0, group_dst=None):
    """``torch.distributed.isend``: start sending ``tensor`` to ``dst``; returns a Work."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    peer = _p2p_peer(pg, dst, group_dst, "dst")
    a = _working(tensor)
    return pg._engine(tensor).send(a, peer, tag)


def irecv(tensor, src=None, group=None, tag: int = 0, group_src=None):
    """``torch.distributed.irecv``: start receiving into ``tensor`` (from any rank when ``src``
    is None); returns a Work."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    peer = None if src is None and group_src is None else \
        _p2p_peer(pg, src, group_src, "src")
    a = _working(tensor)
    w = pg._engine(tensor).recv(a, peer, tag)
    return w._then(_writer([tensor], [a]))


def send(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> None:
    """``torch.distributed.send``: send ``tensor`` to ``dst`` (blocking)."""
    w = isend(tensor, dst, group, tag, group_dst)
    if w is not None:
        w.wait()


def recv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> int:
    """``torch.distributed.recv``: receive into ``tensor``; returns the sender's global rank
    (-1 when this rank is not in ``group``)."""
    w = irecv(tensor, src, group, tag, group_src)
    if w is None:
        return -1
    w.wait()
    pg = _group(group)
    if w._statuses:
        return pg._ranks[w._statuses[0].Get_source()]
    return pg._ranks[_peer(pg, src, group_src, "src")]


# ------------------------------------------------------------------------------------ objects
def broadcast_object_list(object_list: list, src=None, group=None, device=None,
                          group_src=None) -> None:
    """``torch.distributed.broadcast_object_list``: pickle the objects of rank ``src``'s list
    into every rank's ``object_list`` (in place). Unpickling runs code: trust your peers."""
    pg = _group(group)
    if pg is None:
        return
    root = _peer(pg, src, group_src, "src")
    data = pickle.dumps(list(object_list)) if pg.rank() == root else None
    got = pickle.loads(pg._comm.bcast(data, root=root))
    if pg.rank() != root:
        object_list[:len(got)] = got


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``torch.distributed.all_gather_object``: ``object_list[i]`` becomes rank i's ``obj``."""
    pg = _group(group)
    if pg is None:
        return
    got = pg._comm.allgather(pickle.dumps(obj))
    for i, d in enumerate(got):
        object_list[i] = pickle.loads(d)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None) -> None:
    """``torch.distributed.gather_object``: every rank's ``obj`` into ``object_gather_list`` on
    rank ``dst``."""
    pg = _group(group)
    if pg is None:
        return
    root = _peer(pg, dst, group_dst, "dst")
    if pg.rank() == root and object_gather_list is None:
        raise ValueError("Argument ``object_gather_list`` must be specified on destination "
                         "rank.")
    got = pg._comm.gather(pickle.dumps(obj), root=root)
    if pg.rank() == root:
        for i, d in enumerate(got):
            object_gather_list[i] = pickle.loads(d)


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list=None,
                        src=None, group=None, group_src=None) -> None:
    """``torch.distributed.scatter_object_list``: element 0 of each rank's output list becomes
    element ``rank`` of rank ``src``'s input list."""
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    pg = _group(group)
    if pg is None:
        return
    root = _peer(pg, src, group_src, "src")
    data = None
    if pg.rank() == root:
        data = [pickle.dumps(o) for o in scatter_object_input_list]
    scatter_object_output_list[0] = pickle.loads(pg._comm.scatter(data, root=root))
