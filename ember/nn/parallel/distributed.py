"""``torch.nn.parallel.DistributedDataParallel``: data parallelism over ``ember.distributed``.

Each rank holds a replica. At construction rank 0's parameters and buffers are broadcast; each
forward (with ``broadcast_buffers``) broadcasts rank 0's buffers; during backward, gradients are
averaged across ranks by bucketed asynchronous ``all_reduce``s launched from the parameters'
post-accumulate-grad hooks, in a fixed bucket order so every rank issues the same collectives.
The last bucket to become ready waits for all of them and writes the averages into ``.grad``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ... import _backend
from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch also makes the first bucket small (1 MiB)


class _Bucket:
    def __init__(self, params: list) -> None:
        self.params = params
        self.pending = len(params)
        self.work = None
        self.flat = None


def _tensors_in(obj, out: list) -> list:
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors_in(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors_in(o, out)
    return out


def _to_device(obj, dev):
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple):
        return tuple(_to_device(o, dev) for o in obj)
    if isinstance(obj, list):
        return [_to_device(o, dev) for o in obj]
    if isinstance(obj, dict):
        return {k: _to_device(v, dev) for k, v in obj.items()}
    return obj


def _reachable_leaves(outputs) -> set:
    """ids of the leaf tensors the autograd graph of ``outputs`` reaches (iteratively)."""
    seen, leaves = set(), set()
    stack = [t._grad_fn for t in _tensors_in(outputs, []) if t._grad_fn is not None]
    stack += [t for t in _tensors_in(outputs, []) if t._grad_fn is None and t._rg]
    while stack:
        node = stack.pop()
        if isinstance(node, Tensor):
            leaves.add(id(node))
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if var is not None:
            leaves.add(id(var))
        for e in node._edges:
            if e:
                stack.append(e[0])
    return leaves


class DistributedDataParallel(Module):
    """``torch.nn.parallel.DistributedDataParallel`` on ``ember.distributed`` (MPI for CPU
    modules, NCCL for CUDA ones).

    ``gradient_as_bucket_view`` and ``static_graph`` are accepted and change nothing (they are
    memory/speed options in PyTorch); communication hooks, ``join`` and mixed precision are not
    implemented.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True,
                 process_group=None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params: bool = False, bucket_cap_mb_list=None,
                 batched_grad_copy: bool = False, forward_sync_buffers: bool | None = None):
        super().__init__()
        for name, val in (("delay_all_reduce_named_params", delay_all_reduce_named_params),
                          ("param_to_hook_all_reduce", param_to_hook_all_reduce),
                          ("mixed_precision", mixed_precision), ("device_mesh", device_mesh),
                          ("bucket_cap_mb_list", bucket_cap_mb_list)):
            if val is not None:
                raise NotImplementedError(f"DistributedDataParallel({name}=...) is not "
                                          f"supported by ember")
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        if self.process_group is None:
            raise ValueError(dist._NOT_INIT)
        params, seen = [], set()
        for p in module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        devices = {p.device for p in params}
        if len(devices) > 1:
            raise ValueError(f"DistributedDataParallel's input module must be on the same type "
                             f"of devices, but input module parameters locate in {devices}.")
        self.device_type = next(iter(devices)).type
        if self.device_type == "cpu" and (device_ids or output_device is not None):
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments "
                             f"only work with single-device/multiple-device GPU modules or CPU "
                             f"modules, but got device_ids {device_ids}, output_device "
                             f"{output_device}, and module parameters {devices}.")
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = True if broadcast_buffers is None else broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._params = params
        self._world = dist.get_world_size(self.process_group)
        if init_sync:
            self._broadcast([t for _, t in module.state_dict(keep_vars=True).items()])
        self._buckets = self._make_buckets(params)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._active = False  # a backward with gradient sync is expected or running
        self._started = False
        self._next = 0
        self._grad_hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # ------------------------------------------------------------------------------ buckets
    def _make_buckets(self, params: list) -> list:
        """Parameters in reverse order (about the order backward produces their gradients),
        grouped by dtype and cut at the byte cap (the first bucket at 1 MiB, as PyTorch)."""
        buckets, cur, size, cap = [], [], 0, min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for p in reversed(params):
            if cur and (p.dtype != cur[0].dtype or size >= cap):
                buckets.append(_Bucket(cur))
                cur, size, cap = [], 0, self.bucket_bytes_cap
            cur.append(p)
            size += p.nbytes
        if cur:
            buckets.append(_Bucket(cur))
        return buckets

    def _broadcast(self, tensors: list) -> None:
        with no_grad():
            works = [dist.broadcast(t.detach(), src=dist.get_global_rank(self.process_group, 0),
                                    group=self.process_group, async_op=True)
                     for t in tensors if t.numel()]
            for w in works:
                w.wait()

    def _reset(self, unused: list) -> None:
        for b in self._buckets:
            b.pending, b.work, b.flat = len(b.params), None, None
        self._next = 0
        self._active = True
        self._started = False  # a gradient hook has fired in this iteration's backward
        self._unused = {id(p) for p in unused}
        for p in unused:
            self._mark(p)

    def _grad_ready(self, p: Tensor) -> None:
        if self._active and id(p) not in self._unused:
            self._started = True
            self._mark(p)

    def _mark(self, p: Tensor) -> None:
        b = self._bucket_of[id(p)]
        b.pending -= 1
        if b.pending:
            return
        # Launch buckets strictly in order: every rank must issue the same collectives.
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            self._launch(self._buckets[self._next])
            self._next += 1
        if self._next == len(self._buckets):
            self._finalize()

    def _launch(self, b: _Bucket) -> None:
        p0 = b.params[0]
        xp = _backend.array_module(p0._data)
        parts, used = [], []
        for p in b.params:
            g = p.grad
            if g is None or id(p) in self._unused:
                parts.append(xp.zeros(p._data.size, dtype=p._data.dtype))
                used.append(0)
            else:
                parts.append(g._data.reshape(-1))
                used.append(1)
        # One slot per parameter counts the ranks that used it, so that a parameter no rank
        # used keeps grad None (PyTorch's behaviour with find_unused_parameters).
        parts.append(xp.asarray(used, dtype=p0._data.dtype))
        flat = xp.concatenate(parts)
        flat /= self._world  # average by dividing before the sum, as PyTorch's reducer does
        b.flat = Tensor._make(flat)
        b.work = dist.all_reduce(b.flat, group=self.process_group, async_op=True)

    def _finalize(self) -> None:
        self._active = False
        for b in self._buckets:
            b.work.wait()
            flat = b.flat._data
            n = len(b.params)
            counts = flat[-n:].tolist()
            off = 0
            for i, p in enumerate(b.params):
                k = p._data.size
                if counts[i] > 0:
                    g = flat[off:off + k].reshape(p._data.shape)
                    if p.grad is None:
                        p.grad = Tensor._make(g.copy())
                    else:
                        p.grad._data[...] = g
                        p.grad._bump_version()
                off += k
            b.flat = b.work = None

    # ------------------------------------------------------------------------------ forward
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._active and self._started:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` "
                "function outputs participate in calculating loss.")
        if self.broadcast_buffers and self.require_forward_param_sync:
            bufs = [b for b in self.module.buffers() if b.numel()]
            if bufs:
                self._broadcast(bufs)
        if self.device_ids and self.device_type == "cuda":
            # PyTorch moves the inputs to the module's device (device_ids[0])
            d = self.device_ids[0]
            dev = _backend.device("cuda", d) if isinstance(d, int) else _backend.device(d)
            inputs, kwargs = _to_device(inputs, dev), _to_device(kwargs, dev)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            unused = []
            if self.find_unused_parameters:
                reached = _reachable_leaves(out)
                unused = [p for p in self._params if id(p) not in reached]
            self._reset(unused)
        else:
            self._active = False
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Skip gradient averaging for the backward passes of forwards run inside; gradients
        accumulate locally and are averaged by the first synced backward after."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def register_comm_hook(self, state, hook) -> None:
        raise NotImplementedError("DistributedDataParallel.register_comm_hook is not supported "
                                  "by ember")

    def join(self, *args, **kwargs):
        raise NotImplementedError("DistributedDataParallel.join (uneven inputs) is not "
                                  "supported by ember")
