"""``torch.optim.Optimizer``: parameter groups, per-parameter state, step hooks and PyTorch's
``state_dict`` layout (state keyed by parameter index, groups listing indices), so that an
optimizer checkpoint moves between ember and PyTorch.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .._backend import device_of
from .._dtype import float32, float64, get_default_dtype
from .._tensor import Tensor, legacy_type_name
from ..autograd.grad_mode import _restore, _set_grad, _snapshot, enable_grad
from ..utils.hooks import RemovableHandle
from ._kernels import Workspace

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook",
           "required"]

ParamsT = Iterable  # an iterable of tensors, of (name, tensor) pairs, or of param-group dicts

_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()


class _RequiredParameter:
    """Marks a hyper-parameter every parameter group must give (``optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``; it may
    return ``(new_args, new_kwargs)``."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _typename(obj) -> str:
    """``torch.typename``: ``torch.FloatTensor`` for tensors, the qualified class name else."""
    if isinstance(obj, Tensor):
        return legacy_type_name(obj)
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", None)
    prefix = "" if module in (None, "builtins") else module + "."
    return prefix + cls.__qualname__


def _to_scalar(x):
    """A 1-element tensor hyper-parameter as a 0-d tensor; anything else unchanged."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _value(x):
    """A hyper-parameter as a number: a Python number unchanged, a 1-element tensor as a NumPy
    scalar of its dtype. PyTorch computes with a tensor ``lr`` (or ``betas``) as a 0-d tensor, so
    ``lr / bias_correction1`` is rounded to the tensor's dtype (float32 by default); NumPy's
    scalar promotion (a Python float does not widen a float32 scalar) rounds the same way."""
    if isinstance(x, Tensor):
        d = x._data
        return np.dtype(d.dtype).type(d.item())
    return x


def _scalar_dtype(is_fused: bool | None = None):
    """dtype of the ``step`` (and other scalar) state tensors: float32, or float64 when that is
    the default dtype (PyTorch's ``_get_scalar_dtype``)."""
    if is_fused:
        return float32
    return float64 if get_default_dtype() is float64 else float32


def _scalar_state(value: float, p: Tensor | None = None, is_fused: bool | None = None) -> Tensor:
    """A 0-d scalar state tensor (``step``, ``mu_product``...): on the CPU, or next to ``p``
    when given (PyTorch's placement for ``capturable``/``fused``)."""
    np_dtype = _scalar_dtype(is_fused)._np
    arr = np.array(value, dtype=np_dtype)
    if p is not None and not isinstance(p._data, np.ndarray):
        from .._backend import to_device

        arr = to_device(arr, device_of(p._data))
    return Tensor._make(arr)


def _bump_step(t: Tensor) -> float:
    """``step_t += 1`` on a 0-d state tensor; returns the new value as a Python float."""
    d = t._data
    if isinstance(d, np.generic):  # a NumPy scalar cannot be updated in place
        d = t._data = np.array(d + 1)
    else:
        d += 1
    t._bump_version()
    return float(d)


def _set_scalar(t: Tensor, value) -> None:
    """``t.copy_(value)`` for a 0-d state tensor (rounded to its dtype)."""
    d = t._data
    if isinstance(d, np.generic):
        t._data = np.array(value, dtype=d.dtype)
    else:
        d[...] = value
    t._bump_version()


def _zeros_like(p: Tensor) -> Tensor:
    """A state buffer of zeros with the layout of ``p`` (``zeros_like(preserve_format)``)."""
    from .._backend import array_module

    return Tensor._make(array_module(p._data).zeros_like(p._data))


def _full_like(p: Tensor, value) -> Tensor:
    from .._backend import array_module

    return Tensor._make(array_module(p._data).full_like(p._data, value))


def _check_not_differentiable(differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError(
            "differentiable=True is not supported by ember's optimizers: the update is applied "
            "to parameter storage outside autograd, so no graph through step() can be built")


def _check_fused(fused, foreach, differentiable) -> None:
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_eps(eps) -> None:
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def _check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_weight_decay(weight_decay) -> None:
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _check_capturable(params, capturable: bool) -> None:
    """PyTorch's refusal of ``capturable=True`` for parameters outside a graph-capturing device
    (the CPU): AssertionError, raised here before any state is created or changed."""
    if capturable and any(p.device.type not in _CAPTURABLE_DEVICES for p in params):
        raise AssertionError("If capturable=True, params and state_steps must be on supported "
                             f"devices: {list(_CAPTURABLE_DEVICES)}.")


_CAPTURABLE_DEVICES = ("cuda",)


def _no_grad_step(step: Callable) -> Callable:
    """Run an optimizer's ``step`` with gradient recording off (the update itself works on raw
    arrays; this keeps anything a subclass does in ``step`` out of the graph too). Groups with
    ``capturable=True`` are checked first (``_check_capturable``)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for group in self.param_groups:
            if group.get("capturable"):
                _check_capturable([p for p in group["params"] if p.grad is not None], True)
        saved = _snapshot()
        _set_grad(False)
        try:
            return step(self, *args, **kwargs)
        finally:
            _restore(saved)

    return wrapper


def _call_closure(closure):
    """Evaluate the closure with gradient recording on, as PyTorch's optimizers do."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


class Optimizer:
    """``torch.optim.Optimizer(params, defaults)``: the base class of all optimizers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts defining
    parameter groups (each may override entries of ``defaults``). Keeps ``param_groups``,
    per-parameter ``state`` and ``defaults``; ``state_dict()``/``load_state_dict()`` use
    PyTorch's layout so checkpoints are interchangeable. Step, state-dict and load-state-dict
    pre/post hooks follow PyTorch.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._patch_step_function()

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))

        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------------ pickling/repr
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group)
                            if key != "params")
        return text + ")"

    @property
    def _workspace(self) -> Workspace:
        # scratch arrays for the updates; not part of the state (never pickled or saved)
        ws = self.__dict__.get("_ws")
        if ws is None:
            ws = self.__dict__["_ws"] = Workspace()
        return ws

    # ------------------------------------------------------------------------ step hooks
    def _optimizer_step_code(self) -> None:
        """Called after every ``step`` (PyTorch's profiler entry point); does nothing."""

    @staticmethod
    def profile_hook_step(func: Callable) -> Callable:
        """Wrap a ``step`` function so that the global and per-instance step hooks run."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self = args[0]
            for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                                  self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{func} must return None or a tuple of (new_args, "
                                           f"new_kwargs), but got {result}.")
            out = func(*args, **kwargs)
            self._optimizer_step_code()
            for post_hook in chain(self._optimizer_step_post_hooks.values(),
                                   _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out

        return wrapper

    def _patch_step_function(self) -> None:
        # the class's step is wrapped once, on first instantiation, as PyTorch does
        cls = self.__class__
        if not getattr(cls.step, "hooked", None):
            cls.step = self.profile_hook_step(cls.step)
            cls.step.hooked = True

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` before this optimizer's ``step``; may return
        ``(new_args, new_kwargs)``."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` after this optimizer's ``step``."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    @staticmethod
    def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook: Callable,
                                     prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` before ``state_dict()`` builds the dict."""
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable,
                                      prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` after ``state_dict()``; may return a new dict."""
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable,
                                          prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` before loading; may return the dict to load."""
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable,
                                           prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` after ``load_state_dict()``."""
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are numbered in group order (a parameter repeated in a group keeps its first
        number); the state dicts and tensors are the optimizer's own, not copies, as in PyTorch.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        index_of: dict[int, int] = {}
        packed_groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            params = group["params"]
            for i, p in enumerate(params, start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in params]
            start += len(params)
            packed_groups.append(packed)
        packed_state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": packed_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param: Tensor, value: Tensor, param_id,
                                                  param_groups, key=None) -> Tensor:
        """Where a loaded state tensor goes: ``step`` stays as saved (float32 next to the
        parameter for capturable/fused groups); other floating state takes the parameter's
        dtype and device."""
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def _cast_state(self, param, value, param_id, param_groups, key=None):
        if isinstance(value, Tensor):
            return self._process_value_according_to_param_policy(param, value, param_id,
                                                                  param_groups, key)
        if isinstance(value, dict):
            return {k: self._cast_state(param, v, param_id, param_groups, k)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._cast_state(param, v, param_id, param_groups)
                               for v in value)
        return value

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a dict made by ``state_dict()`` (ember's or PyTorch's, tensors converted).

        Raises ValueError, changing nothing, when the number of groups or of parameters in a
        group differs. Hyper-parameters come from the loaded groups.
        """
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = self._cast_state(param, v, k, state_dict["param_groups"])
            else:
                state[k] = v

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ------------------------------------------------------------------------ groups, grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to None (default), or detach and fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step (implemented by each algorithm)."""
        raise NotImplementedError

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyper-parameters) to ``param_groups``.

        Raises, leaving the optimizer unchanged, for non-tensors, non-leaf tensors, a missing
        required hyper-parameter, or a parameter already in another group (a parameter repeated
        inside the group only warns, as in PyTorch).
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)

        names, tensors = [], []
        for item in params:
            if isinstance(item, tuple):
                names.append(item[0])
                tensors.append(item[1])
            else:
                tensors.append(item)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or
                                                                        p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")

        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        has_names = bool(names) or "param_names" in param_group
        existing: set[int] = set()
        for group in self.param_groups:
            existing.update(id(p) for p in group["params"])
            if has_names != ("param_names" in group):
                txt = "with names" if has_names else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if any(id(p) in existing for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")

        # every check passed: fill the group in (the caller's dict, as PyTorch does)
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------------ helpers
    def _setstate_groups(self, defaults: dict[str, Any], scalar_keys: tuple = ("step",),
                         device_keys: bool = False) -> None:
        """Fill hyper-parameters missing from old checkpoints and turn Python-number scalar
        state (old PyTorch checkpoints) into 0-d tensors, as each PyTorch optimizer's
        ``__setstate__`` does."""
        for group in self.param_groups:
            for k, v in defaults.items():
                group.setdefault(k, v)
            on_device = device_keys or group.get("capturable", False) or group.get("fused",
                                                                                   False)
            for p in group["params"]:
                p_state = self.state.get(p)
                if not p_state:
                    continue
                for key in scalar_keys:
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _scalar_state(float(p_state[key]),
                                                     p if on_device else None,
                                                     group.get("fused") if key == "step"
                                                     else None)
