"""``torch.nn.utils.rnn``: ``PackedSequence`` and the functions that pack, pad and unpad
variable-length sequences.

Packing is one gather and unpacking one scatter (index arrays computed once from the lengths),
both differentiable; ``pad_sequence`` copies each sequence once into the padded result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from ... import _dtype
from ..._tensor import Tensor, _legacy_scalar_name
from ...ops import rnn as _rnn
from ...ops.creation import as_tensor, tensor
from ...ops.indexing import index_select
from ...ops.reduction import argsort, sort
from ...ops.shape import narrow, transpose

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """``torch.nn.utils.rnn.PackedSequence``: a named tuple ``(data, batch_sizes,
    sorted_indices, unsorted_indices)``; ``data`` holds the time steps of all sequences
    (longest first within a step), ``batch_sizes`` (int64, CPU) how many sequences each time
    step has. Make one with ``pack_padded_sequence`` or ``pack_sequence``."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None, unsorted_indices: Tensor | None = None):
        return super().__new__(cls, *_packed_sequence_init_args(
            data, batch_sizes, sorted_indices, unsorted_indices))

    def pin_memory(self) -> PackedSequence:
        return type(self)(self.data.pin_memory(), self.batch_sizes,
                          _bind(self.sorted_indices, lambda t: t.pin_memory()),
                          _bind(self.unsorted_indices, lambda t: t.pin_memory()))

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(...)``; the index tensors follow data's device, batch_sizes stays."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        non_blocking = bool(kwargs.get("non_blocking", False))

        def move(t: Tensor) -> Tensor:
            return t.to(data.device, non_blocking=non_blocking)

        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, move),
                          _bind(self.unsorted_indices, move))

    def cuda(self, device=None, non_blocking: bool = False) -> PackedSequence:
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device, non_blocking=non_blocking)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=_dtype.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=_dtype.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=_dtype.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=_dtype.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=_dtype.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return self.data.is_pinned()


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None,
                               unsorted_indices=None) -> tuple:
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence "
                             "should never be created manually. They should be instantiated by "
                             "functions like pack_sequence and pack_padded_sequences in "
                             "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html"
                             "#torch.nn.utils.rnn.pack_sequence")
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (``None`` stays ``None``)."""
    if permutation is None:
        return None
    return argsort(permutation)


def _lengths_array(lengths) -> np.ndarray:
    """``lengths`` (list or tensor) as an int64 NumPy vector, with PyTorch's checks."""
    if not isinstance(lengths, Tensor):
        lengths = as_tensor(lengths, dtype=_dtype.int64, device="cpu")
    if lengths.dim() != 1 or lengths.device.type != "cpu":
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.dim()}D {lengths.device.type} "
                           f"{_legacy_scalar_name(lengths.dtype)} tensor")
    return np.asarray(lengths._data).astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """``torch.nn.utils.rnn.pack_padded_sequence``: pack a padded (T, B, *) batch (B, T, *
    with ``batch_first``) of sequences of the given ``lengths`` (list or 1-D CPU tensor).

    With ``enforce_sorted=False`` the batch is sorted by decreasing length first and the
    permutation kept in the result. Differs from PyTorch in one place: a length longer than
    the padded time dimension raises (PyTorch reads past the input).
    """
    if isinstance(lengths, Tensor):
        lengths = lengths.to(dtype=_dtype.int64)
    else:
        lengths = as_tensor(lengths, dtype=_dtype.int64, device="cpu")
    sorted_indices = None
    if not enforce_sorted:
        if lengths.dim() != 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        lengths, sorted_indices = sort(lengths, descending=True, stable=True)
        sorted_indices = sorted_indices.to(input.device)
        input = index_select(input, 0 if batch_first else 1, sorted_indices)
    lens = _lengths_array(lengths)
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got 1)")
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    steps, batch = (input.size(1), input.size(0)) if batch_first else (input.size(0),
                                                                         input.size(1))
    if lens.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.shape[0]} (batch_size={batch})")
    if lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if lens[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a length ({int(lens[0])}) is longer than "
                           f"the padded sequences ({steps} steps)")
    rows, batch_sizes = _rnn.packed_rows(lens, batch_first, steps)
    data = _rnn.pack_rows(input, rows)
    return PackedSequence(data, tensor(batch_sizes, dtype=_dtype.int64), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None) -> tuple:
    """``torch.nn.utils.rnn.pad_packed_sequence``: the inverse of ``pack_padded_sequence``;
    returns the padded batch (padded to ``total_length`` if given) and the lengths (int64),
    in the original batch order. With ``batch_first`` the result is a transposed view."""
    bs = np.asarray(sequence.batch_sizes._data).astype(np.int64)
    max_len = bs.shape[0]
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_len}")
        max_len = total_length
    batch = int(bs[0])
    mask = np.arange(batch)[None, :] < bs[:, None]
    lengths = mask.sum(axis=0)
    rows = np.flatnonzero(mask)
    data = sequence.data
    shape = (max_len, batch) + tuple(data.shape[1:])
    padded = _rnn.pad_rows(data, rows, shape, padding_value)
    if batch_first:
        padded = transpose(padded, 0, 1)
    lengths_t = tensor(lengths, dtype=_dtype.int64)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = index_select(padded, 0 if batch_first else 1, unsorted)
        lengths_t = lengths_t[unsorted.cpu()]
    return padded, lengths_t


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """``torch.nn.utils.rnn.pad_sequence``: stack (L_i, *) tensors into (T, B, *) (or
    (B, T, *)) padded with ``padding_value`` on the ``padding_side`` ('right' or 'left')."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(s).__name__}")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if sequences[0].dim() == 0:
        raise RuntimeError("pad_sequence: expected sequences with at least one dimension, got "
                           "a 0-d tensor")
    for s in sequences[1:]:
        if s.dim() == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return _rnn.pad_sequences(list(sequences), bool(batch_first), padding_value,
                              padding_side == "left")


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list:
    """``torch.nn.utils.rnn.unpad_sequence``: the list of the first ``lengths[i]`` steps of
    each sequence of a padded batch (PyTorch transposes ``padded_sequences`` in place when
    ``batch_first=False``; ember leaves it unchanged)."""
    if not batch_first:
        padded_sequences = transpose(padded_sequences, 0, 1)
    lens = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    if len(lens) != padded_sequences.size(0):
        which = "shorter" if len(lens) < padded_sequences.size(0) else "longer"
        raise ValueError(f"zip() argument 2 is {which} than argument 1")
    return [narrow(padded_sequences[i], 0, 0, int(n)) for i, n in enumerate(lens)]


def pack_sequence(sequences: list, enforce_sorted: bool = True) -> PackedSequence:
    """``torch.nn.utils.rnn.pack_sequence``: pack a list of (L_i, *) tensors (sorted by
    decreasing length unless ``enforce_sorted=False``)."""
    lengths = as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """``torch.nn.utils.rnn.unpack_sequence``: the list of sequences a PackedSequence holds."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
