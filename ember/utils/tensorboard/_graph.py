"""The model graph for ``SummaryWriter.add_graph``.

PyTorch traces the model with TorchScript and converts the JIT graph; ember has no JIT, so the
graph is read from one forward pass instead: the autograd graph behind the outputs gives the
ops and their edges (a backward node per differentiable op, with its output shapes), and forward
hooks on every submodule give each op the module scope it ran in, named like PyTorch's
(``Net/Linear[fc1]/...``). Inputs are made to require grad for that pass so they appear as the
graph's sources. Ops that autograd does not record (integer ops, anything under ``no_grad``)
are not in the graph."""

from __future__ import annotations

import contextlib
import inspect
import re

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ... import autograd
from ..._tensor import Tensor
from ...autograd.graph import AccumulateGrad, accumulator

__all__ = ["graph"]

_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


def _tensors(obj) -> list[Tensor]:
    """The tensors in a (nested) tuple/list/dict, in order."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _ancestors(roots, seen: set):
    """Every backward node reachable from ``roots`` that is not in ``seen`` (added to it)."""
    stack = [r for r in roots if r is not None and id(r) not in seen]
    out = []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(n for n, _ in node.next_functions if n is not None and id(n) not in seen)
    return out


def _shape_attr(shapes, s: str) -> dict:
    dims = [TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in shape])
            for shape in shapes]
    return {"attr": AttrValue(s=s.encode()),
            "_output_shapes": AttrValue(list=AttrValue.ListValue(shape=dims))}


@contextlib.contextmanager
def _eval_mode(model):
    training = getattr(model, "training", None)
    if training is not None:
        model.train(False)
    try:
        yield
    finally:
        if training is not None:
            model.train(training)


def _module_scopes(model) -> dict[str, str]:
    """``{submodule path: scope}``, the scope naming each module by class and attribute as
    PyTorch does: ``Net/Sequential[block]/Linear[0]``."""
    root = type(model).__name__
    scopes = {"": root}
    if hasattr(model, "named_modules"):
        # named_modules lists a parent before its children
        for name, mod in model.named_modules():
            if name:
                parent, _, attr = name.rpartition(".")
                scopes[name] = f"{scopes[parent]}/{type(mod).__name__}[{attr}]"
    return scopes


def _record(model, args, scopes: dict[str, str]):
    """Run ``model(*args)`` once; return (inputs, outputs, {id(node): scope},
    {(id(node), output index): (node, shape)})."""
    root = scopes[""]
    modules = list(model.named_modules()) if hasattr(model, "named_modules") else []
    scope_of = {}
    for name, mod in modules:
        scope_of.setdefault(id(mod), scopes[name])
    owner: dict[int, str] = {}
    shapes: dict[tuple[int, int], tuple] = {}
    seen: set[int] = set()
    stack = [root]

    def claim(tensors, scope: str) -> None:
        for t in tensors:
            if t.grad_fn is not None:
                # single-output backward nodes keep no output shape: take it from the tensors
                # that cross module boundaries (the node is kept so that its id stays unique)
                shapes[id(t.grad_fn), getattr(t, "_out_nr", 0)] = (t.grad_fn, tuple(t.shape))
        for node in _ancestors([t.grad_fn for t in tensors], seen):
            owner[id(node)] = scope

    def pre(mod, inputs):
        # what fed this module was computed in the enclosing scope
        claim(_tensors(inputs), stack[-1])
        stack.append(scope_of.get(id(mod), stack[-1]))

    def post(mod, inputs, output):
        claim(_tensors(output), stack.pop())

    handles = []
    for _, mod in modules:
        handles.append(mod.register_forward_pre_hook(pre))
        handles.append(mod.register_forward_hook(post))
    inputs = [a.detach().requires_grad_(True)
              if isinstance(a, Tensor) and (a.is_floating_point() or a.is_complex()) else a
              for a in args]
    try:
        with autograd.enable_grad():
            outputs = _tensors(model(*inputs))
    finally:
        for h in handles:
            h.remove()
    claim(outputs, root)
    return inputs, outputs, owner, shapes


def graph(model, args, verbose: bool = False, use_strict_trace: bool = True):
    """A ``(GraphDef, RunMetadata)`` pair for ``model`` run on ``args`` (a tensor or a tuple of
    them), in eval mode as PyTorch traces it. ``use_strict_trace`` has no meaning without a
    tracer and is ignored."""
    if args is None:
        args = ()
    elif not isinstance(args, (tuple, list)):
        args = (args,)
    scopes = _module_scopes(model)
    root = scopes[""]
    with _eval_mode(model):
        inputs, outputs, owner, shapes = _record(model, tuple(args), scopes)

    try:
        arg_names = list(inspect.signature(getattr(model, "forward", model)).parameters)
    except (TypeError, ValueError):
        arg_names = []
    params = {}
    if hasattr(model, "named_parameters"):
        for pname, p in model.named_parameters():
            module_path, _, attr = pname.rpartition(".")
            params[id(p)] = f"{scopes[module_path]}/{attr}"

    nodes: list[NodeDef] = []
    names: dict[int, str] = {}
    for i, a in enumerate(inputs):
        if isinstance(a, Tensor):
            label = arg_names[i] if i < len(arg_names) else f"input.{i + 1}"
            name = f"input/{label}"
            if a.requires_grad:
                names[id(accumulator(a))] = name
            nodes.append(NodeDef(name=name, op="IO Node", attr=_shape_attr([a.shape], "")))

    # backward nodes from the sources to the outputs (reverse of a depth-first post-order)
    order, done = [], set()
    for out in outputs:
        if out.grad_fn is None or id(out.grad_fn) in done:
            continue
        stack = [(out.grad_fn, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in done:
                continue
            done.add(id(node))
            stack.append((node, True))
            stack.extend((n, False) for n, _ in reversed(node.next_functions)
                         if n is not None and id(n) not in done)

    counter = 0
    for node in order:
        if id(node) in names:
            continue
        if isinstance(node, AccumulateGrad):
            var = node.variable
            name = params.get(id(var)) or f"{owner.get(id(node), root)}/tensor.{counter}"
            names[id(node)] = name
            nodes.append(NodeDef(name=name, op="Parameter",
                                 attr=_shape_attr([var.shape], "")))
            counter += 1
            continue
        op = _BACKWARD_SUFFIX.sub("", type(node).__name__) or type(node).__name__
        name = f"{owner.get(id(node), root)}/{op}.{counter}"
        counter += 1
        names[id(node)] = name
        edges = [names[id(n)] + (f":{nr}" if nr else "")
                 for n, nr in node.next_functions if n is not None and id(n) in names]
        if node._out_meta is not None:
            out_shapes = [m[0] for m in node._out_meta]
        else:
            known = shapes.get((id(node), 0))
            out_shapes = [known[1]] if known is not None else []
        nodes.append(NodeDef(name=name, op=f"ember::{op}", input=edges,
                             attr=_shape_attr(out_shapes, "{}")))

    for i, out in enumerate(outputs):
        src = []
        if out.grad_fn is not None and id(out.grad_fn) in names:
            nr = getattr(out, "_out_nr", 0)
            src = [names[id(out.grad_fn)] + (f":{nr}" if nr else "")]
        nodes.append(NodeDef(name=f"output/output.{i + 1}", op="IO Node", input=src,
                             attr=_shape_attr([out.shape], "")))

    graph_def = GraphDef(node=nodes, versions=VersionDef(producer=22))
    if verbose:
        print(graph_def)
    # like PyTorch, the run metadata names the CPU whatever device the model ran on
    stepstats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(
        device="/device:CPU:0")]))
    return graph_def, stepstats
