"""The backward engine: walks the graph iteratively in dependency order.

No recursion anywhere, so a chain of 100,000 ops backpropagates. Gradients arriving at a node's
input are reduced to the input's shape (undoing broadcasting) and cast to its dtype here, once,
instead of in every backward formula.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings

import numpy as np

from .._tensor import Tensor, legacy_type_name
from .function import refresh_view
from .grad_mode import state as _state
from .graph import AccumulateGrad, accumulator

_ops = None


def _ops_module():
    global _ops
    if _ops is None:
        from ..ops import _util

        _ops = _util
    return _ops


def _fits(g: Tensor, shape, dtype, node, index):
    """Reduce a broadcast gradient to ``shape`` and cast it to ``dtype``."""
    a = g._data
    if a.shape != shape:
        if not _broadcastable_to(shape, a.shape):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - got "
                f"{list(a.shape)} but expected shape compatible with {list(shape)}")
        g = _ops_module().sum_to(g, shape)
    if g._data.dtype != dtype:
        g = _ops_module().cast(g, dtype)
    return g


def _broadcastable_to(small, big) -> bool:
    if len(small) > len(big):
        return all(s == 1 for s in small[: len(small) - len(big)]) and _broadcastable_to(
            small[len(small) - len(big):], big)
    for s, b in zip(reversed(small), reversed(big)):
        if s != b and s != 1:
            return False
    return True


def _owned(a, shared: dict) -> bool:
    """True when ``a`` is a fresh array nothing else refers to, so .grad may take it as is."""
    if not (a.flags.c_contiguous and a.flags.writeable):
        return False
    base = a.base
    if base is None:
        return shared.get(id(a), 0) <= 1
    # Backward functions often return a reshaped or transposed-back view of a fresh result
    # (a bias gradient summed with keepdims, the gradient of ``w.t()``): a C-contiguous view
    # over the whole of a NumPy array that only the view refers to (references: the view's
    # base pointer, ``base`` here and getrefcount's argument) is as good as the array, and
    # copying it cost ~150 us a step of the 784-128-64-10 MLP.
    return (type(base) is np.ndarray and base.base is None and base.flags.owndata
            and base.size == a.size and sys.getrefcount(base) <= 3)


def _accumulate(var: Tensor, g: Tensor, create_graph: bool, shared: dict) -> None:
    old = var._grad
    if create_graph:
        var._grad = g if old is None else old + g
        return
    a = g._data
    if old is None:
        if not _owned(a, shared):
            xp = np if isinstance(a, np.ndarray) else _xp(a)
            a = xp.array(a, copy=True, order="C")
        var._grad = Tensor._make(a)
    elif old._grad_fn is None and old._data.flags.writeable and not old._rg:
        # PyTorch adds in place into an existing .grad when no graph is being built.
        old._data += a
        old._bump_version()
    else:
        var._grad = old + g.detach()


def _xp(a):
    from .._backend import array_module

    return array_module(a)


def _check_nan(node, grads) -> None:
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind in "fc" and bool(np.isnan(_host(g._data)).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")


def _warn_forward_trace(node) -> None:
    """Anomaly mode: say which forward call made the node whose backward failed."""
    if node._trace:
        msg = (f"Error detected in {node.name()}. Traceback of forward call that caused the "
               "error:\n" + "".join(node._trace))
    else:
        msg = (f"Error detected in {node.name()}. No forward pass information available. "
               "Enable detect anomaly during forward pass for more information.")
    warnings.warn(msg, stacklevel=4)


def _host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def run_backward(roots, root_grads, retain_graph: bool, create_graph: bool, inputs=None,
                 allow_unused: bool = False, accumulate: bool = True):
    """Run backward from ``roots`` (tensors) seeded with ``root_grads`` (tensors).

    With ``inputs`` and ``accumulate=False`` (``autograd.grad``), returns the gradients of
    ``inputs`` instead of accumulating into ``.grad``.
    """
    shared: dict = {}
    root_edges = []
    for i, (t, g) in enumerate(zip(roots, root_grads)):
        if t._view_fn is not None and t._base is not None:
            refresh_view(t)
        if not t._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        fn = t._grad_fn
        node, nr = (accumulator(t), 0) if fn is None else (fn, t._out_nr)
        root_edges.append((node, nr, g))
        shared[id(g._data)] = 2  # the caller holds the seed gradient

    # Where the caller wants gradients captured: leaves at their AccumulateGrad, non-leaves at
    # the input slot (node, output_nr) of their grad_fn.
    capture = None
    if inputs is not None:
        capture = {}
        for k, t in enumerate(inputs):
            if not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            fn = t._grad_fn
            key = (accumulator(t), 0) if fn is None else (fn, t._out_nr)
            capture.setdefault(key, []).append(k)

    # Discover the graph (iteratively) and count, per node, the edges that feed it.
    root_nodes = {e[0] for e in root_edges}
    children: dict = {}
    order = []
    stack = list(root_nodes)
    seen = set(stack)
    while stack:
        node = stack.pop()
        order.append(node)
        kids = []
        for e in node._edges:
            if e:
                nxt = e[0]
                kids.append(nxt)
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        children[node] = kids

    if capture is not None:
        # Only nodes from which a captured slot can be reached need to run.
        targets = {key[0] for key in capture}
        needed = set()
        changed = True
        # Fixed point over the discovered nodes; graphs are small enough that a few sweeps over
        # `order` reversed (children before parents mostly) converge quickly.
        while changed:
            changed = False
            for node in reversed(order):
                if node in needed:
                    continue
                if node in targets or any(k in needed for k in children[node]):
                    needed.add(node)
                    changed = True
    else:
        needed = None

    deps: dict = {}
    for node in order:
        if needed is not None and node not in needed:
            continue
        for nxt in children[node]:
            if needed is None or nxt in needed:
                deps[nxt] = deps.get(nxt, 0) + 1

    buffers: dict = {}
    for node, nr, g in root_edges:
        if needed is not None and node not in needed:
            continue
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_out
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [n for n in root_nodes if deps.get(n, 0) == 0 and (needed is None or n in needed)]

    results = [None] * len(inputs) if capture is not None else None
    prev_enabled = _state.enabled
    anomaly = _state.anomaly
    _state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node, None)
            # (no list.count(None): it would call Tensor.__eq__ on every gradient)
            if buf is None or buf[0] is None and all(b is None for b in buf):
                _skip(node, deps, ready, needed)
                continue
            # Hooks registered on the tensors this node produced, then retain_grad.
            if node._tensor_hooks:
                for nr, hooks in node._tensor_hooks.items():
                    if buf[nr] is None:
                        continue
                    for hook in list(hooks.values()):
                        buf[nr] = _run_tensor_hook(hook, buf[nr])
                    shared[id(buf[nr]._data)] = 2
            if node._retain:
                for nr, ref in node._retain.items():
                    t = ref()
                    if t is not None and buf[nr] is not None:
                        g = buf[nr]
                        shared[id(g._data)] = 2
                        if t._grad is None:
                            t._grad = g if create_graph else g.detach()
                        else:
                            t._grad = t._grad + g
            if capture is not None:
                for nr in range(len(buf)):
                    ks = capture.get((node, nr))
                    if ks is not None and type(node) is not AccumulateGrad:
                        for k in ks:
                            results[k] = buf[nr]
            if node._pre_hooks:
                for hook in list(node._pre_hooks.values()):
                    r = hook(tuple(buf))
                    if r is not None:
                        buf = list(r)
            hook_buf = buf  # post hooks see undefined gradients as None, not materialized

            if type(node) is AccumulateGrad:
                _run_accumulate(node, buf[0], capture, results, accumulate, create_graph, shared)
                continue
            if needed is not None and not any(k in needed for k in children[node]):
                continue  # only here to have a non-leaf input's gradient captured

            # (identity tests: `None in buf` would call Tensor.__eq__ on each gradient)
            if node._materialize and (buf[0] is None or len(buf) > 1 and
                                      any(b is None for b in buf)):
                buf = _materialize(node, buf)
            try:
                grads = node._call(buf)
            except Exception:
                if anomaly:
                    _warn_forward_trace(node)
                raise
            if type(grads) is not tuple:
                grads = (grads,) if not isinstance(grads, list) else tuple(grads)
            edges = node._edges
            if len(grads) != len(edges):
                if len(grads) > len(edges) and all(g is None for g in grads[len(edges):]):
                    grads = grads[: len(edges)]
                elif len(grads) < len(edges) and not any(edges[len(grads):]):
                    # trailing arguments that need no gradient (sizes, dims, flags)
                    grads = grads + (None,) * (len(edges) - len(grads))
                else:
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                                       f"gradients (expected {len(edges)}, got {len(grads)})")
            if anomaly and _state.anomaly_check_nan:
                try:
                    _check_nan(node, grads)
                except RuntimeError:
                    _warn_forward_trace(node)
                    raise
            if node._hooks:
                for hook in list(node._hooks.values()):
                    r = hook(grads, tuple(hook_buf))
                    if r is not None:
                        grads = tuple(r)
            if not retain_graph:
                node._release()
            for i, e in enumerate(edges):
                if not e:
                    continue
                nxt = e[0]
                if needed is not None and nxt not in needed:
                    continue
                g = grads[i]
                if g is not None:
                    if not isinstance(g, Tensor):
                        raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
                    ga = g._data
                    if ga.shape != e[2] or ga.dtype != e[3]:
                        g = _fits(g, e[2], e[3], node, i)
                    gid = id(g._data)
                    shared[gid] = shared.get(gid, 0) + 1
                    b = buffers.get(nxt)
                    if b is None:
                        b = buffers[nxt] = [None] * nxt._n_out
                    nr = e[1]
                    b[nr] = g if b[nr] is None else b[nr] + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
    finally:
        _state.enabled = prev_enabled

    if capture is not None:
        for k, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {k} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        return tuple(results)
    return None


def _skip(node, deps, ready, needed) -> None:
    """A node that got no gradient at all passes 'nothing' on to its inputs."""
    for e in node._edges:
        if e:
            nxt = e[0]
            if nxt in deps and (needed is None or nxt in needed):
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)


def _materialize(node, buf):
    from ..ops import _util

    meta = node._out_meta
    out = list(buf)
    for i, b in enumerate(out):
        if b is None and meta is not None:
            shape, dt, like = meta[i]
            if like is not None:  # (non-tensor outputs of a Function get None)
                out[i] = _util.zeros_like_array(like, shape, dt)
    return out


def _run_accumulate(node, g, capture, results, accumulate, create_graph, shared) -> None:
    var = node.variable
    if var._hooks:
        for hook in list(var._hooks.values()):
            g = _run_tensor_hook(hook, g)
        shared[id(g._data)] = 2
    if capture is not None:
        ks = capture.get((node, 0))
        if ks is not None:
            for k in ks:
                results[k] = g
            if accumulate:
                _accumulate(var, g, create_graph, shared)
                _post_hooks(var)
        return
    if accumulate:
        _accumulate(var, g, create_graph, shared)
        _post_hooks(var)


def _run_tensor_hook(hook, g: Tensor) -> Tensor:
    """Call a tensor hook; a replacement gradient must keep the gradient's size, dtype and
    device (PyTorch's checks and messages)."""
    r = hook(g)
    if r is None:
        return g
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
    name = getattr(hook, "__name__", repr(hook))
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if r._data.dtype != g._data.dtype or type(r._data) is not type(g._data) or \
            r.device != g.device:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was "
                           f"{legacy_type_name(g)} got {legacy_type_name(r)})")
    return r


def _post_hooks(var) -> None:
    if var._post_acc_hooks:
        for hook in list(var._post_acc_hooks.values()):
            hook(var)


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Frames of the op machinery (C++ in PyTorch, so absent from its traces) end a forward trace.
_OP_MACHINERY = (os.path.join(_PKG, "autograd", ""), os.path.join(_PKG, "ops", ""),
                 os.path.join(_PKG, "_tensor.py"))


def format_trace() -> list:
    """The Python stack of the current forward call, as PyTorch's anomaly mode records it:
    everything up to the call into the op (nn.functional frames included)."""
    frames = traceback.extract_stack()
    end = len(frames)
    while end and frames[end - 1].filename.startswith(_OP_MACHINERY):
        end -= 1
    return traceback.format_list(frames[:end])
