"""``default_collate`` and ``default_convert``: samples to batches, with PyTorch's structure.

Element type -> batch: Tensor -> stacked Tensor; NumPy array -> stacked Tensor of its dtype;
NumPy scalar -> Tensor; float -> float64 Tensor; int -> int64 Tensor (bool -> bool); str/bytes
-> kept as they are; Mapping -> same mapping type per key; namedtuple -> same namedtuple per
field; tuple -> list per position; other sequences -> same type per position. The registry
``default_collate_fn_map`` and ``collate(batch, collate_fn_map=...)`` extend it as in PyTorch.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable

import numpy as np

from ...._dtype import float64
from ...._tensor import Tensor
from ....autograd.grad_mode import is_grad_enabled
from ....ops.creation import as_tensor, tensor
from ....ops.shape import stack
from . import shared

__all__ = ["collate", "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
           "collate_float_fn", "collate_int_fn", "collate_str_fn", "default_collate",
           "default_collate_fn_map", "default_convert"]

# dtype.str kinds that cannot become tensors: bytes, unicode, object
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, "
                                  "numbers, dicts or lists; found {}")


def default_convert(data):
    """Turn NumPy arrays and scalars (also inside mappings, namedtuples and sequences) into
    tensors and leave everything else alone; the collate function of a DataLoader without
    automatic batching (``batch_size=None``). Tuples become lists, as in PyTorch."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if (elem_type.__name__ == "ndarray"
                and np_str_obj_array_pattern.search(data.dtype.str) is not None):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return elem_type({k: default_convert(data[k]) for k in data})
        except TypeError:  # the mapping type cannot be built from a dict
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` (a list of samples) by the type of its first element: an exact match
    in ``collate_fn_map`` first, then the first key the element is an instance of, then
    mappings, namedtuples and sequences recursively (``torch.utils.data._utils.collate``)."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(elem_type)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for key, fn in collate_fn_map.items():
            if isinstance(elem, key):
                return fn(batch, collate_fn_map=collate_fn_map)

    def sub(samples):
        return collate(samples, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({k: sub([d[k] for d in batch]) for k in elem})
                return clone
            return elem_type({k: sub([d[k] for d in batch]) for k in elem})
        except TypeError:
            return {k: sub([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(sub(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [sub(samples) for samples in transposed]  # tuples become lists (PyTorch)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = sub(samples)
                return clone
            return elem_type([sub(samples) for samples in transposed])
        except TypeError:
            return [sub(samples) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map: dict | None = None):
    """``stack(batch, 0)``. Same-shape, same-dtype CPU tensors outside autograd are copied
    straight into the output array, which in a worker process lives in shared memory so the
    batch reaches the main process without another copy."""
    a0 = batch[0]._data
    if type(a0) is np.ndarray:
        shape, dtype, grad = a0.shape, a0.dtype, is_grad_enabled()
        arrays = []
        for t in batch:
            if not isinstance(t, Tensor) or (grad and t._rg):
                break
            a = t._data
            if type(a) is not np.ndarray or a.shape != shape or a.dtype != dtype:
                break
            arrays.append(a)
        else:
            n = len(arrays)
            if not shape:  # scalars (labels): small, and np.array is fastest for them
                return Tensor._make(np.array(arrays, dtype=dtype))
            out = shared.empty((n,) + shape, dtype)
            if out.size:
                # the samples back to back along their first dim is the stacked batch
                np.concatenate(arrays, axis=0, out=out.reshape((n * shape[0],) + shape[1:]))
            return Tensor._make(out)
    # mixed shapes, dtypes or devices, or autograd: stack() gives PyTorch's result or error
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map: dict | None = None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map: dict | None = None):
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map: dict | None = None):
    return tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map: dict | None = None):
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map: dict | None = None):
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """``torch.utils.data.default_collate``: stack a list of samples into a batch, keeping
    the structure of the samples (see the module docstring for the type mapping)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
