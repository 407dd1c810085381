"""Backward-graph nodes, saved tensors and tensor hooks (``torch.autograd.graph``).

A node is a tensor's ``grad_fn``. Its ``_edges`` tuple has one entry per forward argument:
``False`` for a non-tensor argument, ``None`` for a tensor that needs no gradient, else
``(next_node, output_nr, shape, numpy_dtype)``: where the gradient goes and the shape/dtype it
must have when it gets there (the engine reduces broadcasting and casts in that one place).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

from .._tensor import Tensor, legacy_type_name
from ..utils.hooks import RemovableHandle

__all__ = ["Node", "AccumulateGrad", "register_tensor_hook", "add_retain_grad"]

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


def _short_name(node) -> str:
    name = node.name()
    for suffix in ("Backward0", "Backward1", "Backward"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _version_error(t_desc: str, producer, found: int, expected: int):
    where = f", which is output {producer[1]} of {_short_name(producer[0])}," if producer else ""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t_desc}]{where} is at version {found}; expected version {expected} "
        "instead. Hint: enable anomaly detection to find the operation that failed to compute "
        "its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _describe(t: Tensor) -> str:
    return f"{legacy_type_name(t)} [{', '.join(str(s) for s in t._data.shape)}]"


class Node:
    """A function of the backward graph; ``tensor.grad_fn`` is one of these."""

    __slots__ = ("_edges", "__dict__", "__weakref__")

    _saved = None  # packed saved tensors, see Op/Function.apply
    _to_save = None  # what forward passed to save_for_backward, before packing
    _released = False
    _n_out = 1
    _out_meta = None  # ((shape, np dtype, template array), ...) for materializing grads
    _hooks = None
    _pre_hooks = None
    _tensor_hooks = None  # {output_nr: OrderedDict(handle id -> hook)}
    _retain = None  # {output_nr: weakref to a tensor that called retain_grad()}
    _materialize = True
    _non_diff = None
    _trace = None  # forward stack, recorded under anomaly mode
    _copied = False  # a view op that had to copy (reshape of non-contiguous input)

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        edges = getattr(self, "_edges", ())
        return tuple((None, 0) if e is None else (e[0], e[1]) for e in edges if e is not False)

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(bool(e) for e in getattr(self, "_edges", ()))

    @property
    def metadata(self) -> dict:
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self.__dict__["_metadata"] = {}
        return md

    # -------------------------------------------------------------------------- saved tensors
    def save_for_backward(self, *items) -> None:
        self._to_save = items

    def mark_non_differentiable(self, *items) -> None:
        self._non_diff = {id(x._data if isinstance(x, Tensor) else x) for x in items}

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise RuntimeError(_FREED_MSG)
        saved = self._saved
        if saved is None:
            to_save = self._to_save
            return tuple(to_save) if to_save is not None else ()
        out = []
        for e in saved:
            if e is None:
                out.append(None)
                continue
            kind = e[0]
            if kind == "t":
                t, vc, ver = e[1], e[2], e[3]
                if vc[0] != ver:
                    prod = (t._grad_fn, t._out_nr) if t._grad_fn is not None else None
                    raise _version_error(_describe(t), prod, vc[0], ver)
                out.append(t)
            elif kind == "o":
                arr, nr, vc, ver = e[1], e[2], e[3], e[4]
                t = Tensor._make(arr, True, self)
                if nr:
                    t._out_nr = nr
                if vc[0] != ver:
                    raise _version_error(_describe(t), (self, nr), vc[0], ver)
                out.append(t)
            elif kind == "c":
                out.append(Tensor._make(e[1]))
            else:
                out.append(e[1])
        return tuple(out)

    def _release(self) -> None:
        if self._saved is not None or self._to_save is not None:
            self._saved = None
            self._to_save = None
            self._released = True

    # ----------------------------------------------------------------------------------- hooks
    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node computed its gradients."""
        if self._hooks is None:
            self._hooks = OrderedDict()
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = fn
        return h

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; it may return replacement gradients."""
        if self._pre_hooks is None:
            self._pre_hooks = OrderedDict()
        h = RemovableHandle(self._pre_hooks)
        self._pre_hooks[h.id] = fn
        return h

    def _call(self, grads):
        return self.backward(self, *grads)


class AccumulateGrad(Node):
    """Sink node of a leaf tensor: adds incoming gradients to ``variable.grad``."""

    def __init__(self, variable: Tensor) -> None:
        self._edges = ()
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


def accumulator(t: Tensor) -> AccumulateGrad:
    """The (cached) AccumulateGrad node of leaf ``t``; the node keeps ``t`` alive, not back."""
    ref = t._accum
    if ref is not None:
        node = ref()
        if node is not None:
            return node
    node = AccumulateGrad(t)
    t._accum = weakref.ref(node)
    return node


def edge_of(t: Tensor):
    fn = t._grad_fn
    a = t._data
    if fn is None:
        return (accumulator(t), 0, a.shape, a.dtype)
    return (fn, t._out_nr, a.shape, a.dtype)


def register_tensor_hook(t: Tensor, hook) -> RemovableHandle:
    fn = t._grad_fn
    if fn is None:
        if t._hooks is None:
            t._hooks = OrderedDict()
        h = RemovableHandle(t._hooks)
        t._hooks[h.id] = hook
        return h
    if fn._tensor_hooks is None:
        fn._tensor_hooks = {}
    d = fn._tensor_hooks.setdefault(t._out_nr, OrderedDict())
    h = RemovableHandle(d)
    d[h.id] = hook
    return h


def add_retain_grad(t: Tensor) -> None:
    fn = t._grad_fn
    if fn._retain is None:
        fn._retain = {}
    fn._retain[t._out_nr] = weakref.ref(t)
    t._retains_grad = True


def move_tensor_state(t: Tensor, old_fn, old_nr) -> None:
    """After an in-place op gave ``t`` a new grad_fn, carry its retain_grad over (PyTorch)."""
    if t._retains_grad and old_fn is not None and old_fn._retain:
        old_fn._retain.pop(old_nr, None)
        add_retain_grad(t)
