"""Differentiable functions: ember's internal ``Op`` and the public ``autograd.Function``.

``Op`` is how every built-in op is written: ``forward(ctx, *args)`` computes on raw arrays
(tensor arguments arrive as their NumPy/CuPy arrays) and ``backward(ctx, *grads)`` is written
with ember tensor ops, so that backward is itself differentiable. The op class doubles as the
backward node class (its name is what ``grad_fn`` prints, e.g. ``AddBackward0``).

``Function`` is ``torch.autograd.Function``: its forward receives and returns tensors.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, as_array
from .grad_mode import no_grad
from .grad_mode import state as _state
from .graph import Node, accumulator

__all__ = ["Op", "Function", "FunctionCtx", "BackwardCFunction", "once_differentiable",
           "DIFFERENTIABLE"]

_new = object.__new__
_ndarray = np.ndarray

# Only floating and complex outputs carry gradients.
DIFFERENTIABLE = {np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64),
                  np.dtype(np.complex64), np.dtype(np.complex128)}
if _dtype._BF16_NP is not None:
    DIFFERENTIABLE.add(_dtype._BF16_NP)


def _edges(args) -> tuple:
    out = []
    for a in args:
        if isinstance(a, Tensor):
            if a._rg:
                fn = a._grad_fn
                d = a._data
                if fn is None:
                    out.append((accumulator(a), 0, d.shape, d.dtype))
                else:
                    out.append((fn, a._out_nr, d.shape, d.dtype))
            else:
                out.append(None)
        else:
            out.append(False)
    return tuple(out)


_INFERENCE_SAVED_MSG = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")


def _pack(ctx, args, arrays, outs, out_tensors) -> None:
    """Turn what forward saved (arrays) into entries that remember which tensor they came from,
    so backward gets graph-connected tensors and in-place changes are detected."""
    saved = []
    for item in ctx._to_save:
        if item is None:
            saved.append(None)
            continue
        if isinstance(item, Tensor):
            item = item._data
        for k, o in enumerate(outs):
            if item is o:
                vc = out_tensors[k]._version_counter()
                saved.append(("o", o, k, vc, vc[0]))
                break
        else:
            for k, arr in enumerate(arrays):
                if item is arr and isinstance(args[k], Tensor):
                    t = args[k]
                    if t._inference:
                        raise RuntimeError(_INFERENCE_SAVED_MSG)
                    vc = t._version_counter()
                    saved.append(("t", t, vc, vc[0]))
                    break
            else:
                # an intermediate array (a constant for the graph) or a Python number
                saved.append(("c", item) if hasattr(item, "dtype") and hasattr(item, "shape")
                             else ("r", item))
    ctx._saved = saved
    ctx._to_save = None


_NO_GRAD_VIEW_MSG = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block (if "
    "you don't want the inplace to be tracked) or both outside (if you want the inplace to be "
    "tracked).")


def _set_view(out: Tensor, src: Tensor, cls, rest) -> None:
    # (a view of a detached alias is a view of the alias, not of the alias's base)
    out._base = src if src._base is None or src._view_fn is None else src._base
    out._view_fn = (src._view_fn, cls, rest)
    vc = out._vc = src._version_counter()
    out._gf_ver = vc[0]
    # a view is an inference tensor exactly when its base is (also inside inference mode)
    if src._inference or out._inference:
        out._inference = src._inference
    if not _state.enabled and not _state.inference:
        # PyTorch refuses to record an in-place change through a view made without grad
        out._multi_view = _NO_GRAD_VIEW_MSG


def refresh_view(t: Tensor) -> None:
    """Give view ``t`` a current grad_fn if its base was modified in place since ``t``'s
    grad_fn was recorded (PyTorch regenerates a view's grad_fn the same way)."""
    vc = t._vc
    if t._gf_ver == vc[0]:
        return
    base = t._base
    t._gf_ver = vc[0]
    if not base._rg:
        return
    prev = _state.enabled
    _state.enabled = True
    try:
        v = replay_view(t._view_fn, base)
    finally:
        _state.enabled = prev
    t._grad_fn = v._grad_fn
    t._rg = v._rg
    if v._out_nr or t._out_nr:
        t._out_nr = v._out_nr


def replay_view(view_fn, base: Tensor) -> Tensor:
    """Rebuild a view from its base with the recorded chain of view ops (differentiably)."""
    chain = []
    while view_fn is not None:
        parent, cls, rest = view_fn
        chain.append((cls, rest))
        view_fn = parent
    t = base
    for cls, rest in reversed(chain):
        t = cls.apply(t, *rest)
    return t


class Op(Node):
    """Base of ember's built-in differentiable ops (see the module docstring).

    Class attributes: ``is_view`` marks ops whose output shares memory with their first argument
    (they may set ``ctx._copied = True`` when they had to copy instead).
    """

    is_view = False

    def __init_subclass__(cls, name: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if name is not None:
            cls.__name__ = name

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - every op overrides it
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        ctx = _new(cls)
        need = False
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if a._view_fn is not None and a._base is not None:
                    refresh_view(a)
                if a._rg:
                    need = True
            else:
                arrays.append(a)
        # Edges are known before forward runs, so forward can save only what backward will
        # need (ctx._edges[i] is falsy when argument i needs no gradient; None without grad).
        if need and _state.enabled:
            ctx._edges = _edges(args)
        else:
            need = False
            ctx._edges = None
        out = cls.forward(ctx, *arrays)
        if type(out) is tuple:
            return _wrap_outputs(cls, ctx, args, arrays, out, need)
        if type(out) is not _ndarray:
            out = as_array(out)
        t = _new(Tensor)
        t._data = out
        if need and out.dtype in DIFFERENTIABLE:
            t._rg = True
            t._grad_fn = ctx
            if ctx._to_save is not None:
                _pack(ctx, args, arrays, (out,), (t,))
            if _state.anomaly:
                from .engine import format_trace

                ctx._trace = format_trace()
        else:
            t._rg = False
            t._grad_fn = None
        if cls.is_view and not ctx._copied:
            _set_view(t, args[0], cls, args[1:])
        elif _state.inference:
            t._inference = True
        return t


def _wrap_outputs(cls, ctx, args, arrays, outs, need):
    outs = tuple(as_array(o) for o in outs)
    non_diff = ctx._non_diff
    tensors = []
    any_diff = False
    for i, o in enumerate(outs):
        t = _new(Tensor)
        t._data = o
        if need and o.dtype in DIFFERENTIABLE and (non_diff is None or id(o) not in non_diff):
            t._rg = True
            t._grad_fn = ctx
            if i:
                t._out_nr = i
            any_diff = True
        else:
            t._rg = False
            t._grad_fn = None
        if _state.inference and not (cls.is_view and not ctx._copied):
            t._inference = True
        tensors.append(t)
    if any_diff:
        ctx._n_out = len(outs)
        ctx._out_meta = tuple((o.shape, o.dtype, o) for o in outs)
        if ctx._to_save is not None:
            _pack(ctx, args, arrays, outs, tensors)
        if _state.anomaly:
            from .engine import format_trace

            ctx._trace = format_trace()
    if cls.is_view and not ctx._copied:
        for t in tensors:
            _set_view(t, args[0], cls, args[1:])
    return tuple(tensors)


# ---------------------------------------------------------------------------------------------
# Public torch.autograd.Function
# ---------------------------------------------------------------------------------------------

class FunctionCtx:
    """The ``ctx`` methods available inside ``Function.forward``/``setup_context``."""

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self._to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_diff = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """Backward node of a user ``Function``; it is also the ``ctx`` its methods receive."""

    _forward_cls = None
    _dirty = ()
    # Node's version records array ids (for Op); Function.apply matches output tensors.
    mark_non_differentiable = FunctionCtx.mark_non_differentiable
    save_for_backward = FunctionCtx.save_for_backward  # (the checked one)

    def _call(self, grads):
        fwd = self._forward_cls
        if not self._materialize:
            return fwd.backward(self, *grads)
        return fwd.backward(self, *grads)

    def apply(self, *grads):
        return self._forward_cls.backward(self, *grads)

    @property
    def saved_tensors(self) -> tuple:
        return Node.saved_tensors.fget(self)


class FunctionMeta(type):
    """Creates the ``<Name>Backward`` node class for each Function subclass, as PyTorch does."""

    def __init__(cls, name, bases, attrs):
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """``torch.autograd.Function``: subclass with static ``forward`` and ``backward``.

    Both the classic style (``forward(ctx, *args)``) and the newer one (``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``) are supported, like PyTorch.
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd "
                      "functions are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future "
                      "version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        new_style = cls.setup_context is not Function.setup_context
        if kwargs or new_style:
            # Keyword arguments become positional (tensors passed by keyword get gradients);
            # setup_context sees the defaults filled in, as in PyTorch.
            args, kwargs = _bind_args(cls, args, kwargs, new_style)
        ctx = cls._backward_cls()
        for a in args:
            if isinstance(a, Tensor) and a._view_fn is not None and a._base is not None:
                refresh_view(a)
        need = _state.enabled and any(isinstance(a, Tensor) and a._rg for a in args)
        ctx._edges = _edges(args) if need else tuple(
            None if isinstance(a, Tensor) else False for a in args)
        with no_grad():
            if new_style:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if new_style:
            cls.setup_context(ctx, args, output)
        is_tuple = isinstance(output, tuple)
        outs = output if is_tuple else (output,)
        input_ids = {id(a): a for a in args if isinstance(a, Tensor)}
        dirty = {id(t) for t in ctx._dirty}
        if dirty and not dirty <= {id(o) for o in outs}:
            raise RuntimeError("Some elements marked as dirty during the forward method were not "
                               "returned as output. The inputs that are modified inplace must "
                               "all be outputs of the Function.")
        non_diff = ctx._non_diff or set()
        result = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                result.append(o)
                continue
            if id(o) in dirty:
                _rebase_dirty(o, ctx, i, need)
                t = o
            elif id(o) in input_ids:
                # Returning an input unchanged makes a view of it, as in PyTorch (so in-place
                # changes to the output are checked and rebased like any view's).
                t = Tensor._make(o._data)
                t._vc = o._version_counter()
                if o._base is None:
                    t._base = o
                else:
                    t._base, t._view_fn = o._base, o._view_fn
                    t._gf_ver = o._gf_ver
            else:
                t = o
            if need and id(o) not in non_diff and t._data.dtype in DIFFERENTIABLE:
                if id(o) not in dirty:
                    t._grad_fn = ctx
                    t._rg = True
                    if i:
                        t._out_nr = i
                    if t is not o:
                        # in-place on it would bypass the custom backward: PyTorch forbids it
                        t._multi_view = (
                            f"Output {i} of {cls.__name__} is a view and is being modified "
                            "inplace. This view was created inside a custom Function (or "
                            "because an input was returned as-is) and the autograd logic to "
                            "handle view+inplace would override the custom backward associated "
                            "with the custom Function, leading to incorrect gradients. This "
                            "behavior is forbidden. You can fix this by cloning the output of "
                            "the custom Function.")
            elif id(o) not in dirty:
                t._rg = False
                t._grad_fn = None
            result.append(t)
        ctx._n_out = len(outs)
        ctx._out_meta = tuple(
            (o._data.shape, o._data.dtype, o._data) if isinstance(o, Tensor) else ((), None, None)
            for o in outs)
        if need and ctx._to_save is not None:
            arrays = [a._data if isinstance(a, Tensor) else a for a in args]
            out_arrays = tuple(r._data if isinstance(r, Tensor) else None for r in result)
            _pack_function(ctx, args, arrays, out_arrays, result)
        if need and _state.anomaly:
            from .engine import format_trace

            ctx._trace = format_trace()
        return tuple(result) if is_tuple else result[0]


def _bind_args(cls, args: tuple, kwargs: dict, new_style: bool) -> tuple:
    sig = cls.__dict__.get("_forward_signature")  # (cached on the class itself, not inherited)
    if sig is None:
        sig = inspect.signature(cls.forward)
        cls._forward_signature = sig
    if new_style:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.args, bound.kwargs
    bound = sig.bind(None, *args, **kwargs)  # (None stands for ctx)
    return bound.args[1:], bound.kwargs


def _pack_function(ctx, args, arrays, out_arrays, out_tensors) -> None:
    saved = []
    out_ids = {id(t): k for k, t in enumerate(out_tensors) if isinstance(t, Tensor)}
    for item in ctx._to_save:
        if item is None:
            saved.append(None)
        elif id(item) in out_ids and item._grad_fn is ctx:
            k = out_ids[id(item)]
            vc = item._version_counter()
            saved.append(("o", item._data, k, vc, vc[0]))
        else:
            if item._inference:
                raise RuntimeError(_INFERENCE_SAVED_MSG)
            vc = item._version_counter()
            saved.append(("t", item, vc, vc[0]))
    ctx._saved = saved
    ctx._to_save = None


def _rebase_dirty(t: Tensor, ctx, i: int, need: bool) -> None:
    """Output ``i`` was an input modified in place (mark_dirty): it becomes an output of
    ``ctx``; a view rebases its base (CopySlices), like a built-in in-place op."""
    if need:
        if t._grad_fn is None and t._rg:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
        base = t._base
        if base is not None and t._view_fn is not None and base._rg and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
    t._bump_version()
    if need:
        from ..ops._util import _rebase

        _rebase(t, ctx, i)


def once_differentiable(fn):
    """Run a Function's backward without building a graph; differentiating it again raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _state.enabled:
            return outputs
        requires = any(isinstance(a, Tensor) and a._rg for a in args)
        if not requires:
            return outputs
        tup = outputs if isinstance(outputs, tuple) else (outputs,)
        wrapped = tuple(_DelayedError.apply(o) if isinstance(o, Tensor) else o for o in tup)
        return wrapped if isinstance(outputs, tuple) else wrapped[0]

    return wrapper


class _DelayedError(Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")
