"""Copying batches into page-locked host memory (``pin_memory=True`` with CUDA available).

Page-locked memory comes from CuPy (``cupy.cuda.alloc_pinned_memory``); host-to-device copies
from it can overlap with compute. Without CUDA the DataLoader warns and skips pinning, as
PyTorch does without an accelerator.
"""

from __future__ import annotations

import collections.abc
import copy
import queue

import numpy as np

from .... import _backend
from ...._tensor import Tensor
from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper, shared


def _pin_tensor(t: Tensor) -> Tensor:
    a = t._data
    if type(a) is not np.ndarray:
        return t  # already on a device
    cp = _backend.cupy_module()
    mem = cp.cuda.alloc_pinned_memory(max(a.nbytes, 1))
    pinned = np.ndarray(a.shape, a.dtype, buffer=mem)
    np.copyto(pinned, a)
    return Tensor._make(pinned, t._rg)


def pin_memory(data, device=None):
    """``data`` with every tensor copied to page-locked memory; containers are rebuilt like
    PyTorch's ``pin_memory`` helper does, and objects with a ``pin_memory()`` method pin
    themselves."""
    if isinstance(data, Tensor):
        return _pin_tensor(data)
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: pin_memory(v, device) for k, v in data.items()})
                return clone
            return type(data)({k: pin_memory(v, device) for k, v in data.items()})
        except TypeError:
            return {k: pin_memory(v, device) for k, v in data.items()}
    if isinstance(data, tuple):
        if hasattr(data, "_fields"):  # namedtuple
            return type(data)(*(pin_memory(v, device) for v in data))
        return type(data)(pin_memory(v, device) for v in data)
    if isinstance(data, collections.abc.Sequence):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, v in enumerate(data):
                    clone[i] = pin_memory(v, device)
                return clone
            return type(data)([pin_memory(v, device) for v in data])
        except TypeError:
            return [pin_memory(v, device) for v in data]
    return data


def _pin_memory_loop(in_queue, out_queue, device_id, done_event, device) -> None:
    """Thread of the main process: unpickle worker results, pin them, hand them on."""
    cp = _backend.cupy_module()
    cp.cuda.Device(device_id).use()
    while not done_event.is_set():
        try:
            idx, payload = in_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
        except queue.Empty:
            continue
        try:
            data = shared.loads(payload) if isinstance(payload, bytes) else payload
        except Exception:
            data = ExceptionWrapper(where=f"in pin memory thread for device {device_id}")
        if not done_event.is_set() and not isinstance(data, ExceptionWrapper):
            try:
                data = pin_memory(data, device)
            except Exception:
                data = ExceptionWrapper(where=f"in pin memory thread for device {device_id}")
        while not done_event.is_set():
            try:
                out_queue.put((idx, data), timeout=MP_STATUS_CHECK_INTERVAL)
                break
            except queue.Full:
                continue
