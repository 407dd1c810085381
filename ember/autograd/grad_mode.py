"""Thread-local gradient modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``, following ``torch.autograd.grad_mode``.

``state.enabled`` is what ops read to decide whether to record a graph (the engine sets it to
``create_graph`` while it runs). Inside ``inference_mode`` nothing is recorded even when grad mode
is switched back on (PyTorch's inference mode excludes autograd altogether), so that case is
kept apart in ``state.inference_grad``: ``is_grad_enabled()`` reports it, ops never see it.
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    # Class attributes are the defaults every new thread starts from, as in PyTorch.
    enabled = True
    inference = False
    inference_grad = False  # grad mode switched on inside inference mode (records nothing)
    anomaly = False
    anomaly_check_nan = True


state = _State()


def is_grad_enabled() -> bool:
    """Whether gradient recording is on in this thread (``torch.is_grad_enabled``)."""
    return state.enabled or state.inference_grad


def is_inference_mode_enabled() -> bool:
    """Whether this thread is in inference mode (``torch.is_inference_mode_enabled``)."""
    return state.inference


def _snapshot() -> tuple:
    return state.enabled, state.inference, state.inference_grad


def _restore(saved: tuple) -> None:
    state.enabled, state.inference, state.inference_grad = saved


def _set_grad(mode: bool) -> None:
    if state.inference:
        state.inference_grad = mode
    else:
        state.enabled = mode


def _wrap_generator(make_ctx: Callable, func: Callable) -> Callable:
    """Run every step of the generator (send, throw, close) inside a fresh context."""

    @functools.wraps(func)
    def generator_context(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with make_ctx():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_ctx():
                        gen.close()
                    raise
                except BaseException as exc:  # throw() into the generator
                    with make_ctx():
                        response = gen.throw(exc)
                else:
                    with make_ctx():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator_context


class _DecoratorContextManager:
    """A context manager that also decorates functions and generator functions, entering a
    fresh copy of itself (``clone()``) on every call, as PyTorch's grad-mode classes do."""

    def __call__(self, orig_func: Callable) -> Callable:
        if inspect.isclass(orig_func):
            warnings.warn(
                "Decorating classes is deprecated and will be disabled in future versions. You "
                "should only decorate functions or methods. To preserve the current behavior of "
                "class decoration, you can directly decorate the `__init__` method and nothing "
                "else.", FutureWarning, stacklevel=2)
            cls = orig_func

            def func(*args, **kwargs):
                return cls(*args, **kwargs)
        else:
            func = orig_func
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self.clone, func)

        @functools.wraps(func)
        def decorate_context(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return decorate_context

    def clone(self):
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Also usable as a bare decorator: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func: Callable | None = None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):
    """Disable gradient recording inside the block or decorated function (``torch.no_grad``).

    Results of ops computed inside have ``requires_grad=False`` even when inputs require grad.
    """

    def __init__(self, orig_func: Callable | None = None) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set_grad(False)

    def __exit__(self, *exc: Any) -> None:
        _set_grad(self.prev)


class enable_grad(_NoParamDecoratorContextManager):
    """Enable gradient recording inside the block or decorated function
    (``torch.enable_grad``); no effect on recording inside ``inference_mode``."""

    def __init__(self, orig_func: Callable | None = None) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set_grad(True)

    def __exit__(self, *exc: Any) -> None:
        _set_grad(self.prev)


class set_grad_enabled(_DecoratorContextManager):
    """``torch.set_grad_enabled(mode)``: takes effect at once when called (so it works as a
    plain function), and as a context manager or decorator restores the previous mode."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError("set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self.prev = is_grad_enabled()
        self.mode = mode
        _set_grad(mode)

    def __call__(self, orig_func: Callable) -> Callable:
        # Used as a decorator: the call in __init__ must not change the mode for the caller.
        _set_grad(self.prev)
        return super().__call__(orig_func)

    def __enter__(self) -> None:
        _set_grad(self.mode)

    def __exit__(self, *exc: Any) -> None:
        _set_grad(self.prev)

    def clone(self) -> set_grad_enabled:
        return self.__class__(self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}(mode={self.mode})"

    __str__ = __repr__


class inference_mode(_DecoratorContextManager):
    """``torch.inference_mode(mode=True)``: no graph is recorded and tensors created inside are
    inference tensors. ``inference_mode(False)`` leaves inference mode and turns grad mode on,
    as PyTorch's does. Also a decorator, with or without parentheses."""

    def __new__(cls, mode: bool = True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev: tuple = ()

    def __enter__(self) -> None:
        self.prev = _snapshot()
        if self.mode:
            _restore((False, True, False))
        else:
            _restore((True, False, False))

    def __exit__(self, *exc: Any) -> None:
        _restore(self.prev)

    def clone(self) -> inference_mode:
        return self.__class__(self.mode)
