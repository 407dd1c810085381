"""Shape and view ops against PyTorch: values, dtypes, gradients, grad_fn names, errors, memory
sharing and version counters of views, in-place metadata ops, gradcheck/gradgradcheck."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests import oracle
from tests.oracle import Const, Sliced, Transposed, check, check_raises, rand, same_message

to_numpy = oracle.to_numpy
torch = oracle.torch

pytestmark = oracle.needs_torch


def r0(dtype=np.float32):
    """A random 0-d array (``r0()`` gives a NumPy scalar, which the oracle passes as is)."""
    return np.asarray(rand(1, dtype=dtype)[0])


def grad_leaf(L, a):
    return L.tensor(np.array(a, copy=True), requires_grad=True)


def arange_np(*shape, dtype=np.float32):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


def names(fn, *inputs):
    """grad_fn names of every output, for both libraries, with float inputs requiring grad."""
    out = []
    for lib in (torch, ember):
        ts = [lib.tensor(a.copy(), requires_grad=a.dtype.kind == "f")
              if isinstance(a, np.ndarray) else a for a in inputs]
        r = fn(lib, *ts)
        rs = r if isinstance(r, (tuple, list)) else (r,)
        out.append([None if t.grad_fn is None else t.grad_fn.name() for t in rs])
    assert out[0] == out[1], f"torch {out[0]} != ember {out[1]}"


# ---------------------------------------------------------------------------------------------
# oracle checks: values, dtypes and gradients (contiguous, non-contiguous, 0-d, empty)
# ---------------------------------------------------------------------------------------------

CASES = {
    # cat family
    "cat0": (lambda L, x, y: L.cat([x, y]), rand(2, 3), rand(4, 3)),
    "cat1": (lambda L, x, y: L.cat((x, y), dim=1), Transposed(rand(3, 2)), rand(3, 4)),
    "cat_neg": (lambda L, x, y: L.cat([x, y, x], -1), rand(2, 3), Sliced(rand(2, 1))),
    "cat_empty": (lambda L, x, y: L.cat([x, y]), rand(0, 3), rand(2, 3)),
    "cat_legacy": (lambda L, x, y: L.cat([x, L.tensor([]), y], 1), rand(2, 3), rand(2, 2)),
    "cat_all_legacy": (lambda L: L.cat([L.tensor([]), L.tensor([], dtype=L.int64)], 5),),
    "cat_promote": (lambda L, x, y: L.cat([x, y]), rand(2, 3, dtype=np.int32), rand(1, 3)),
    "cat_promote_int": (lambda L, x, y: L.cat([x, y]), rand(2, dtype=np.int8),
                        rand(2, dtype=np.uint8)),
    "cat_bool": (lambda L, x, y: L.cat([x, y]), rand(2, dtype=np.bool_), rand(3, dtype=np.bool_)),
    "cat_f64": (lambda L, x, y: L.cat([x, y]), rand(2, 2), rand(1, 2, dtype=np.float64)),
    "cat_axis": (lambda L, x: L.concat([x, x], axis=1), rand(2, 3)),
    "concatenate": (lambda L, x: L.concatenate([x, x], axis=0), rand(2, 3)),
    "cat_one": (lambda L, x: L.cat([x]), rand(2, 3)),
    "stack0": (lambda L, x, y: L.stack([x, y]), rand(2, 3), Transposed(rand(2, 3))),
    "stack_last": (lambda L, x, y: L.stack([x, y], -1), rand(2, 3), rand(2, 3)),
    "stack_0d": (lambda L, x, y: L.stack([x, y]), r0(), r0(np.float64)),
    "stack_empty": (lambda L, x: L.stack([x, x], 1), rand(0, 2)),
    "stack_promote": (lambda L, x, y: L.stack([x, y], 1), rand(2, dtype=np.int64), rand(2)),
    "hstack": (lambda L, x, y: L.hstack([x, y]), rand(2, 3), rand(2, 1)),
    "hstack1d": (lambda L, x, y: L.hstack([x, y]), rand(3), rand(2)),
    "hstack0d": (lambda L, x, y: L.hstack((x, y)), r0(), rand(2)),
    "vstack": (lambda L, x, y: L.vstack([x, y]), rand(3), rand(3)),
    "row_stack": (lambda L, x, y: L.row_stack([x, y]), rand(2, 3), rand(3)),
    "dstack": (lambda L, x, y: L.dstack([x, y]), rand(2, 3), rand(2, 3, 2)),
    "dstack1d": (lambda L, x, y: L.dstack([x, y]), rand(3), rand(3)),
    "column_stack": (lambda L, x, y, z: L.column_stack([x, y, z]), rand(3), rand(3, 2), rand(3)),
    "column_stack0d": (lambda L, x, y: L.column_stack([x, y]), r0(), r0()),
    # splitting
    "split_int": (lambda L, x: L.split(x, 2), rand(5, 3)),
    "split_dim": (lambda L, x: x.split(2, dim=-1), Transposed(rand(3, 5))),
    "split_big": (lambda L, x: x.split(10), rand(5, 3)),
    "split_list": (lambda L, x: L.split(x, [1, 0, 4]), rand(5, 3)),
    "split_empty": (lambda L, x: L.split(x, 0), rand(0, 3)),
    "split_with_sizes": (lambda L, x: x.split_with_sizes([2, 1], 1), rand(2, 3)),
    "chunk": (lambda L, x: L.chunk(x, 2), rand(5, 3)),
    "chunk4": (lambda L, x: x.chunk(4, 1), Sliced(rand(2, 5))),
    "chunk6": (lambda L, x: L.chunk(x, 6), rand(5)),
    "chunk_empty": (lambda L, x: L.chunk(x, 3), rand(0, 2)),
    "tensor_split_n": (lambda L, x: L.tensor_split(x, 3), rand(7, 2)),
    "tensor_split_many": (lambda L, x: L.tensor_split(x, 7), rand(5)),
    "tensor_split_idx": (lambda L, x: L.tensor_split(x, [1, 4], dim=1), rand(2, 6)),
    "tensor_split_weird": (lambda L, x: x.tensor_split([4, 1, -1, 9]), rand(5, 2)),
    "tensor_split_t": (lambda L, x: L.tensor_split(x, L.tensor([1, 3])), rand(5)),
    "tensor_split_t0": (lambda L, x: L.tensor_split(x, L.tensor(2), 1), rand(2, 5)),
    "tensor_split_kw": (lambda L, x: L.tensor_split(x, sections=2, dim=1), rand(2, 5)),
    "hsplit": (lambda L, x: L.hsplit(x, 2), rand(3, 4)),
    "hsplit1d": (lambda L, x: L.hsplit(x, [1, 3]), rand(4)),
    "vsplit": (lambda L, x: x.vsplit([1]), rand(3, 4)),
    "dsplit": (lambda L, x: L.dsplit(x, 2), rand(1, 2, 4)),
    "unbind": (lambda L, x: L.unbind(x), rand(3, 2)),
    "unbind1": (lambda L, x: x.unbind(-1), Transposed(rand(2, 4))),
    "unbind_empty": (lambda L, x: L.unbind(x, 1), rand(3, 0)),
    "narrow": (lambda L, x: L.narrow(x, 1, 1, 2), rand(3, 4)),
    "narrow_neg": (lambda L, x: x.narrow(0, -2, 2), Sliced(rand(4, 3))),
    "narrow_t": (lambda L, x: x.narrow(0, L.tensor(1), 0), rand(4, 3)),
    "select": (lambda L, x: L.select(x, 1, -1), rand(3, 4)),
    "select_1d": (lambda L, x: x.select(0, 2), rand(4)),
    "select_nc": (lambda L, x: x.select(0, 1), Transposed(rand(3, 4))),
    # repetition
    "repeat": (lambda L, x: x.repeat(2, 1, 3), rand(2, 3)),
    "repeat_list": (lambda L, x: x.repeat([2, 2]), Transposed(rand(3, 2))),
    "repeat_0d": (lambda L, x: x.repeat(3, 2), r0()),
    "repeat_0d_none": (lambda L, x: x.repeat(()), r0()),
    "repeat_zero": (lambda L, x: x.repeat(0, 2), rand(2, 3)),
    "repeat_int": (lambda L, x: x.repeat(2, 2), rand(2, 3, dtype=np.int64)),
    "tile": (lambda L, x: L.tile(x, (2,)), rand(2, 3)),
    "tile_more": (lambda L, x: x.tile(2, 1, 2), rand(2, 3)),
    "tile_0d": (lambda L, x: L.tile(x, ()), r0()),
    "ri_int": (lambda L, x: L.repeat_interleave(x, 2), rand(2, 3)),
    "ri_dim": (lambda L, x: L.repeat_interleave(x, 3, dim=1), Transposed(rand(3, 2))),
    "ri_neg_dim": (lambda L, x: x.repeat_interleave(2, -2, output_size=4), rand(2, 3)),
    "ri_0d": (lambda L, x: L.repeat_interleave(x, 3), r0()),
    "ri_zero": (lambda L, x: L.repeat_interleave(x, 0, 0), rand(2, 3)),
    "ri_tensor": (lambda L, x: L.repeat_interleave(x, L.tensor([1, 0, 2]), 0), rand(3, 2)),
    "ri_tensor_flat": (lambda L, x: x.repeat_interleave(L.tensor([1, 2, 0, 1])), rand(2, 2)),
    "ri_tensor0d": (lambda L, x: L.repeat_interleave(x, L.tensor(2), 1), rand(2, 3)),
    "ri_tensor1": (lambda L, x: L.repeat_interleave(x, L.tensor([3]), 0, output_size=6),
                   rand(2, 3)),
    "ri_int32": (lambda L, x: L.repeat_interleave(x, L.tensor([2, 1], dtype=L.int32), 0),
                 rand(2, 2)),
    "ri_only": (lambda L: L.repeat_interleave(L.tensor([1, 0, 3])),),
    "ri_only_i32": (lambda L: L.repeat_interleave(L.tensor([2, 1], dtype=L.int32)),),
    "ri_ints": (lambda L, x: L.repeat_interleave(x, 2, 1), rand(2, 2, dtype=np.int64)),
    # reordering
    "flip": (lambda L, x: L.flip(x, (0, 1)), rand(2, 3)),
    "flip_m": (lambda L, x: x.flip(-1), Transposed(rand(3, 4))),
    "flip_none": (lambda L, x: L.flip(x, []), rand(2, 3)),
    "flip_0d": (lambda L, x: L.flip(x, (0,)), r0()),
    "flip_empty": (lambda L, x: x.flip(0), rand(0, 2)),
    "fliplr": (lambda L, x: L.fliplr(x), rand(2, 3, 2)),
    "flipud": (lambda L, x: x.flipud(), Sliced(rand(3, 2))),
    "roll": (lambda L, x: L.roll(x, 1), rand(2, 3)),
    "roll_dim": (lambda L, x: L.roll(x, -1, 1), Transposed(rand(4, 3))),
    "roll_multi": (lambda L, x: x.roll((1, 5), (0, -1)), rand(3, 4)),
    "roll_dup": (lambda L, x: L.roll(x, (1, 1), (0, 0)), rand(4, 2)),
    "roll_0d": (lambda L, x: L.roll(x, 2), r0()),
    "roll_empty": (lambda L, x: L.roll(x, 1, 0), rand(0, 3)),
    "rot90": (lambda L, x: L.rot90(x), rand(2, 3)),
    "rot90_k2": (lambda L, x: L.rot90(x, 2, [1, 2]), rand(2, 3, 4)),
    "rot90_k3": (lambda L, x: x.rot90(3, (0, 1)), Transposed(rand(3, 2))),
    "rot90_neg": (lambda L, x: L.rot90(x, -1, (1, 0)), rand(2, 3)),
    "rot90_k0": (lambda L, x: L.rot90(x, 4), rand(2, 3)),
    "movedim": (lambda L, x: L.movedim(x, (0, 1), (2, 0)), rand(2, 3, 4)),
    "movedim_int": (lambda L, x: x.movedim(0, -1), rand(2, 3, 4)),
    "moveaxis": (lambda L, x: L.moveaxis(x, [-1], [0]), Transposed(rand(3, 2))),
    # triangles and diagonals
    "tril": (lambda L, x: L.tril(x), rand(3, 4)),
    "tril_k": (lambda L, x: x.tril(-1), Transposed(rand(4, 3))),
    "triu": (lambda L, x: L.triu(x, 1), rand(2, 3, 3)),
    "triu_big": (lambda L, x: x.triu(5), rand(3, 3)),
    "tril_bool": (lambda L, x: L.tril(x, 1), rand(3, 3, dtype=np.bool_)),
    "tril_empty": (lambda L, x: L.tril(x), rand(0, 3)),
    "diagonal": (lambda L, x: L.diagonal(x), rand(3, 4)),
    "diagonal_off": (lambda L, x: x.diagonal(1), rand(3, 4)),
    "diagonal_neg": (lambda L, x: x.diagonal(-2), Transposed(rand(4, 3))),
    "diagonal_big": (lambda L, x: L.diagonal(x, 7), rand(3, 4)),
    "diagonal_3d": (lambda L, x: L.diagonal(x, 1, 2, 0), rand(3, 2, 4)),
    "diagonal_nd": (lambda L, x: x.diagonal(0, -1, -2), Sliced(rand(2, 3, 3))),
    "diag_1d": (lambda L, x: L.diag(x), rand(3)),
    "diag_1d_k": (lambda L, x: L.diag(x, -2), rand(3)),
    "diag_2d": (lambda L, x: L.diag(x, 1), rand(3, 4)),
    "diag_2d_nc": (lambda L, x: x.diag(-1), Transposed(rand(4, 3))),
    "diag_int": (lambda L, x: L.diag(x), rand(3, dtype=np.int64)),
    "diag_embed": (lambda L, x: L.diag_embed(x), rand(2, 3)),
    "diag_embed_dims": (lambda L, x: L.diag_embed(x, 1, 0, 2), rand(2, 3)),
    "diag_embed_neg": (lambda L, x: x.diag_embed(-1, -1, 0), Transposed(rand(3, 2))),
    "diagflat": (lambda L, x: L.diagflat(x), rand(2, 2)),
    "diagflat_k": (lambda L, x: x.diagflat(-1), rand(3)),
    "diagflat_0d": (lambda L, x: L.diagflat(x), r0()),
    # broadcasting
    "broadcast_tensors": (lambda L, x, y, z: L.broadcast_tensors(x, y, z), rand(2, 1),
                          rand(3), r0()),
    "broadcast_to": (lambda L, x: L.broadcast_to(x, (2, 3, 4)), rand(3, 1)),
    "expand": (lambda L, x: x.expand(2, -1, 4), rand(3, 1)),
    "expand_same": (lambda L, x: x.expand(3, 1), rand(3, 1)),
    "expand_as": (lambda L, x, y: x.expand_as(y), rand(1, 3), Const(rand(2, 3))),
    "meshgrid_ij": (lambda L, x, y: L.meshgrid(x, y, indexing="ij"), rand(3), rand(2)),
    "meshgrid_xy": (lambda L, x, y, z: L.meshgrid([x, y, z], indexing="xy"), rand(3), rand(2),
                    r0()),
    "meshgrid_one": (lambda L, x: L.meshgrid(x, indexing="xy"), rand(3)),
    "atleast_1d": (lambda L, x, y: L.atleast_1d(x, y), r0(), rand(2, 3)),
    "atleast_2d": (lambda L, x, y, z: L.atleast_2d([x, y, z]), r0(), rand(3), rand(2, 1, 2)),
    "atleast_3d": (lambda L, x, y, z: L.atleast_3d((x, y, z)), r0(), rand(3), rand(2, 3)),
    "atleast_3d_one": (lambda L, x: L.atleast_3d(x), rand(3)),
    # reshaping views
    "view": (lambda L, x: x.view(3, -1), rand(2, 6)),
    "view_0d": (lambda L, x: x.view(1, 1), r0()),
    "view_as": (lambda L, x, y: x.view_as(y), rand(6), Const(rand(3, 2))),
    "reshape_view": (lambda L, x: L.reshape(x, (3, 2)), rand(6)),
    "reshape_copy": (lambda L, x: x.reshape(-1), Transposed(rand(3, 2))),
    "reshape_empty": (lambda L, x: x.reshape(0, 3, 1), rand(0, 3)),
    "reshape_as": (lambda L, x, y: x.reshape_as(y), Transposed(rand(3, 2)), Const(rand(6))),
    "ravel": (lambda L, x: L.ravel(x), rand(2, 3)),
    "ravel_nc": (lambda L, x: x.ravel(), Transposed(rand(2, 3))),
    "ravel_0d": (lambda L, x: L.ravel(x), r0()),
    "flatten": (lambda L, x: L.flatten(x, 1), rand(2, 3, 4)),
    "flatten_0d": (lambda L, x: x.flatten(), r0()),
    "unflatten": (lambda L, x: x.unflatten(1, (2, -1)), rand(3, 4)),
    "squeeze": (lambda L, x: L.squeeze(x), rand(1, 3, 1)),
    "squeeze_dim": (lambda L, x: x.squeeze(-1), rand(1, 3, 1)),
    "squeeze_dims": (lambda L, x: x.squeeze((0, 1)), rand(1, 3, 1)),
    "squeeze_0d": (lambda L, x: x.squeeze(0), r0()),
    "unsqueeze": (lambda L, x: L.unsqueeze(x, -1), Transposed(rand(2, 3))),
    "permute": (lambda L, x: x.permute(2, 0, 1), rand(2, 3, 4)),
    "permute_list": (lambda L, x: L.permute(x, [1, 0]), rand(2, 3)),
    "transpose": (lambda L, x: L.transpose(x, 0, -1), rand(2, 3, 4)),
    "swapaxes": (lambda L, x: L.swapaxes(x, 0, 1), rand(2, 3)),
    "swapdims": (lambda L, x: x.swapdims(1, 0), rand(2, 3)),
    "t": (lambda L, x: L.t(x), rand(2, 3)),
    "t_1d": (lambda L, x: x.t(), rand(3)),
    "T2": (lambda L, x: x.T, rand(2, 3)),
    "mT": (lambda L, x: x.mT, rand(4, 2, 3)),
    "mH": (lambda L, x: x.mH, rand(4, 2, 3)),
    "H": (lambda L, x: x.H, rand(2, 3)),
    "adjoint": (lambda L, x: L.adjoint(x), rand(2, 2, 3)),
    "adjoint_complex": (lambda L, x, y: x.adjoint() * y, rand(2, 3, dtype=np.complex64),
                        Const(rand(3, 2, dtype=np.complex64))),
    "unfold": (lambda L, x: x.unfold(1, 2, 1), rand(2, 5)),
    "unfold_step": (lambda L, x: x.unfold(0, 2, 3), rand(8, 2)),
    "unfold_nc": (lambda L, x: x.unfold(-1, 3, 2), Transposed(rand(2, 7))),
    "unfold_full": (lambda L, x: x.unfold(0, 3, 1), rand(3)),
    "unfold_zero": (lambda L, x: x.unfold(1, 0, 1), rand(2, 3)),
    "unfold_0d": (lambda L, x: x.unfold(0, 1, 1), r0()),
    "as_strided": (lambda L, x: L.as_strided(x, (2, 2), (1, 2), 1), rand(2, 3)),
    "as_strided_overlap": (lambda L, x: x.as_strided((3, 3), (1, 1)), rand(6)),
    "as_strided_nc": (lambda L, x: x.as_strided((2,), (4,)), Transposed(rand(3, 4))),
    "as_strided_expanded": (lambda L, x: x.expand(3, 4).as_strided((2, 2), (1, 1)), rand(4)),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_oracle(case):
    fn, *inputs = CASES[case]
    check(fn, *inputs)


NAME_CASES = {
    k: CASES[k] for k in CASES
    if not any(isinstance(i, (Transposed, Sliced, Const)) for i in CASES[k][1:])
    and all(isinstance(i, np.ndarray) and i.dtype.kind == "f" for i in CASES[k][1:])
    and len(CASES[k]) > 1
}


@pytest.mark.parametrize("case", list(NAME_CASES), ids=list(NAME_CASES))
def test_grad_fn_names(case):
    fn, *inputs = NAME_CASES[case]
    names(fn, *inputs)


def test_grad_fn_names_special():
    x = rand(2, 3)
    names(lambda L, a: a.reshape(3, 2), x)
    names(lambda L, a: a.t().reshape(6), x)
    names(lambda L, a: a.expand(2, 3), x)
    names(lambda L, a: a.T, x)
    names(lambda L, a: a.T, rand(2, 3, 4))
    names(lambda L, a: L.squeeze(a, (0,)), rand(1, 3))
    names(lambda L, a: L.diag(a), x)
    names(lambda L, a: L.broadcast_tensors(a, a[0]), x)
    names(lambda L, a: a.flatten(), rand(3))


def test_integer_ops_no_grad():
    for fn in (lambda L, x: L.cat([x, x]), lambda L, x: x.repeat(2, 1),
               lambda L, x: L.flip(x, [0]), lambda L, x: L.tril(x)):
        out = check(fn, rand(2, 2, dtype=np.int64))
        assert not out.requires_grad


# ---------------------------------------------------------------------------------------------
# double backward and numerical gradients (float64)
# ---------------------------------------------------------------------------------------------

GRADCHECK = {
    "cat": lambda x: ember.cat([x, x * 2], 1),
    "stack": lambda x: ember.stack([x, x.sin() if hasattr(x, "sin") else x * 3], 0),
    "split": lambda x: ember.split(x, 2),
    "unbind": lambda x: x.unbind(1),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "select": lambda x: x.select(0, 1),
    "repeat": lambda x: x.repeat(2, 1, 2),
    "repeat_interleave": lambda x: x.repeat_interleave(ember.tensor([2, 0, 1]), 0),
    "flip": lambda x: x.flip(0, 1),
    "roll": lambda x: x.roll(1, 1),
    "rot90": lambda x: x.rot90(1),
    "tril": lambda x: x.tril(),
    "triu": lambda x: x.triu(1),
    "diagonal": lambda x: x.diagonal(1),
    "diag_embed": lambda x: ember.diag_embed(x, -1),
    "diag2d": lambda x: ember.diag(x),
    "unfold": lambda x: x.unfold(1, 2, 1),
    "unfold_step": lambda x: x.unfold(1, 2, 2),
    "as_strided": lambda x: x.as_strided((2, 3), (1, 2)),
    "as_strided_exp": lambda x: x[0, :3].expand(2, 3).as_strided((2, 2), (1, 0)),
    "expand": lambda x: x[:, :1].expand(3, 4),
    "movedim": lambda x: ember.movedim(x, 0, 1),
    "meshgrid": lambda x: ember.meshgrid(x[0], x[1], indexing="xy"),
    "inplace_view": lambda x: _write_through_view(x),
}


def _write_through_view(x):
    y = x * 1
    y.diagonal().mul_(3)
    y[1].add_(y[0])
    return y


@pytest.mark.parametrize("case", list(GRADCHECK), ids=list(GRADCHECK))
def test_gradcheck(case):
    fn = GRADCHECK[case]
    x = ember.tensor(np.random.default_rng(1).standard_normal((3, 4)), dtype=ember.float64,
                     requires_grad=True)
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


def test_gradcheck_multi_input():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = ember.tensor(rng.standard_normal((1, 3)), requires_grad=True)
    z = ember.tensor(rng.standard_normal(3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b, c: ember.cat([a, b, c[None]]), (x, y, z))
    assert ember.autograd.gradgradcheck(lambda a, b: ember.stack([a[0], b[0]], 1), (x, y))
    assert ember.autograd.gradgradcheck(lambda a, b: ember.broadcast_tensors(a, b), (x, y))


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

X = rand(2, 3)
ERRORS = [
    (lambda L: L.cat([]), "expected a non-empty list of Tensors"),
    (lambda L: L.cat([L.tensor(1.0), L.tensor(2.0)]), "zero-dimensional tensor (at position 0)"),
    (lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]),
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for "
     "tensor number 1 in the list."),
    (lambda L: L.cat([L.ones(2, 3), L.ones(3, 3)], 1),
     "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for "
     "tensor number 1 in the list."),
    (lambda L: L.cat([L.ones(2, 3), L.tensor([]), L.ones(2, 4)]), "for tensor number 2"),
    (lambda L: L.cat([L.ones(2, 3), L.ones(3)]), "Tensors must have same number of dimensions"),
    (lambda L: L.cat([L.ones(2, 3)], 2), "Dimension out of range"),
    (lambda L: L.cat([L.ones(2), 1]), "expected Tensor as element 1 in argument 0"),
    (lambda L: L.cat(L.ones(2)), "must be tuple of Tensors, not Tensor"),
    (lambda L: L.cat([L.ones(2)], out=L.empty(0, dtype=L.int64)), "can't be cast"),
    (lambda L: L.stack([]), "stack expects a non-empty TensorList"),
    (lambda L: L.stack([L.ones(2, 3), L.ones(2, 3), L.ones(3, 3)]),
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 3] at "
     "entry 2"),
    (lambda L: L.stack([L.ones(2)], 2), "Dimension out of range"),
    (lambda L: L.hstack([]), "hstack expects a non-empty TensorList"),
    (lambda L: L.vstack([]), "vstack expects a non-empty TensorList"),
    (lambda L: L.dstack([]), "dstack expects a non-empty TensorList"),
    (lambda L: L.column_stack([]), "column_stack expects a non-empty TensorList"),
    (lambda L: L.split(L.ones(5, 3), 0), "split_size can only be 0 if dimension size is 0"),
    (lambda L: L.split(L.ones(5, 3), -1), "split expects split_size be non-negative"),
    (lambda L: L.split(L.ones(5, 3), [1, 2]),
     "split_with_sizes expects split_sizes to sum exactly to 5"),
    (lambda L: L.split(L.ones(5, 3), [6, -1]), "only non-negative entries"),
    (lambda L: L.split(L.tensor(1.0), 1), "split expects at least a 1-dimensional tensor"),
    (lambda L: L.split(L.ones(5), 1, 1), "Dimension out of range"),
    (lambda L: L.chunk(L.ones(5), 0), "chunk expects `chunks` to be greater than 0, got: 0"),
    (lambda L: L.chunk(L.tensor(1.0), 1), "chunk expects at least a 1-dimensional tensor"),
    (lambda L: L.tensor_split(L.ones(5), 0), "number of sections must be larger than 0, got 0"),
    (lambda L: L.tensor_split(L.tensor(1.0), 2), "expected at least a 1-dimensional tensor"),
    (lambda L: L.tensor_split(L.ones(5), L.tensor([1.0])), "to have dtype of long, but got Float"),
    (lambda L: L.tensor_split(L.ones(5), L.tensor([[1]])), "zero-dimensional or one-dimensional"),
    (lambda L: L.hsplit(L.tensor(1.0), 2), "torch.hsplit requires a tensor with at least 1"),
    (lambda L: L.hsplit(L.ones(2, 3), 2), "the size of the dimension 3 is not divisible by the "
                                         "split_size 2!"),
    (lambda L: L.vsplit(L.ones(4), 2), "torch.vsplit requires a tensor with at least 2 dimension"),
    (lambda L: L.dsplit(L.ones(2, 2, 4), 3), "torch.dsplit attempted to split along dimension 2"),
    (lambda L: L.unbind(L.tensor(1.0)), "Dimension specified as 0 but tensor has no dimensions"),
    (lambda L: L.unbind(L.ones(2), 1), "Dimension out of range"),
    (lambda L: L.narrow(L.ones(5, 3), 0, 3, 3), "start (3) + length (3) exceeds dimension size "
                                                "(5)."),
    (lambda L: L.narrow(L.ones(5, 3), 0, -2, 3), "start (3) + length (3) exceeds"),
    (lambda L: L.narrow(L.ones(5, 3), 0, 6, 0), "start out of range (expected to be in range of "
                                                "[-5, 5], but got 6)"),
    (lambda L: L.narrow(L.ones(5, 3), 0, 1, -1), "narrow(): length must be non-negative."),
    (lambda L: L.narrow(L.tensor(1.0), 0, 0, 1), "narrow() cannot be applied to a 0-dim tensor."),
    (lambda L: L.select(L.ones(5, 3), 1, 3), "select(): index 3 out of range for tensor of size "
                                             "[5, 3] at dimension 1"),
    (lambda L: L.select(L.ones(5, 3), -1, -4), "index -4 out of range"),
    (lambda L: L.select(L.tensor(1.0), 0, 0), "select() cannot be applied to a 0-dim tensor."),
    (lambda L: L.ones(2, 3).repeat(2), "Number of dimensions of repeat dims can not be smaller"),
    (lambda L: L.ones(2, 3).repeat(2, -1), "Trying to create tensor with negative dimension -3: "
                                           "[4, -3]"),
    (lambda L: L.tile(L.ones(2, 3), 2), "argument 'dims' (position 2) must be tuple of ints"),
    (lambda L: L.ones(2, 3).repeat(), None),
    (lambda L: L.repeat_interleave(L.ones(2, 3), -1, 0), "Repeats must be non-negative"),
    (lambda L: L.repeat_interleave(L.ones(2, 3), 2, 0, output_size=5),
     "Invalid output_size, expected 4 but got 5"),
    (lambda L: L.repeat_interleave(L.ones(2, 3), L.tensor([1, 2, 3]), 0),
     "repeats must have the same size as input along dim, but got repeats.size(0) = 3 and "
     "input.size(0) = 2"),
    (lambda L: L.repeat_interleave(L.ones(2, 3), L.tensor([1, -2]), 0),
     "repeats can not be negative"),
    (lambda L: L.repeat_interleave(L.ones(2, 3), L.tensor([1.0, 2.0]), 0), "not implemented for"),
    (lambda L: L.repeat_interleave(L.ones(2, 3), L.tensor([[1, 2]]), 0),
     "repeats must be 0-dim or 1-dim tensor"),
    (lambda L: L.repeat_interleave(L.ones(2, 3), L.tensor([1, 2]), 0, output_size=4),
     "allocated size does not match required size"),
    (lambda L: L.repeat_interleave(L.tensor([[1, 2]])), "only accept 1D vector as repeat"),
    (lambda L: L.repeat_interleave(L.tensor([1, -2])), "repeats can not be negative"),
    (lambda L: L.repeat_interleave(L.tensor([1.0])), "not implemented for 'Float'"),
    (lambda L: L.flip(L.ones(2, 3), 0), "argument 'dims' (position 2) must be tuple of ints"),
    (lambda L: L.flip(L.ones(2, 3), (0, 0)), "dim 0 appears multiple times in the list of dims"),
    (lambda L: L.flip(L.ones(2, 3), (2,)), "Dimension out of range"),
    (lambda L: L.fliplr(L.ones(3)), "Input must be >= 2-d."),
    (lambda L: L.flipud(L.tensor(1.0)), "Input must be >= 1-d."),
    (lambda L: L.roll(L.ones(2, 3), (1, 2), (0,)), "shifts and dimensions must align. shifts: 2, "
                                                   "dims:1"),
    (lambda L: L.roll(L.ones(2, 3), (1, 2)), "shifts and dimensions must align. shifts: 2, "
                                             "dims:0"),
    (lambda L: L.roll(L.ones(2, 3), (), ()), "`shifts` required"),
    (lambda L: L.roll(L.tensor(1.0), 1, 0), "Dimension specified as 0 but tensor has no "
                                            "dimensions"),
    (lambda L: L.rot90(L.ones(3)), "expected total dims >= 2, but got total dims = 1"),
    (lambda L: L.rot90(L.ones(2, 3), 1, (0,)), "expected total rotation dims == 2, but got dims "
                                               "= 1"),
    (lambda L: L.rot90(L.ones(2, 3), 1, (0, -2)), "expected rotation dims to be different, but "
                                                  "got dim0 = 0 and dim1 = -2"),
    (lambda L: L.rot90(L.ones(2, 3), 1, (0, 2)), "Dimension out of range"),
    (lambda L: L.tril(L.ones(3)), "tril: input tensor must have at least 2 dimensions"),
    (lambda L: L.triu(L.tensor(1.0)), "triu: input tensor must have at least 2 dimensions"),
    (lambda L: L.ones(3).tril_(), "tril: input tensor must have at least 2 dimensions"),
    (lambda L: L.tril_indices(-1, 4), "row must be non-negative, got-1"),
    (lambda L: L.triu_indices(3, -2), "col must be non-negative, got-2"),
    (lambda L: L.tril_indices(3, 4, dtype=L.float32), "\"tril_indices\" not implemented for"),
    (lambda L: L.diagonal(L.ones(2, 3), 0, 0, 0), "diagonal dimensions cannot be identical 0, 0"),
    (lambda L: L.diagonal(L.ones(2, 3), 0, -1, 1), "diagonal dimensions cannot be identical -1, "
                                                   "1"),
    (lambda L: L.diagonal(L.ones(3)), "Dimension out of range"),
    (lambda L: L.diag(L.tensor(1.0)), "diag(): Supports 1D or 2D tensors. Got 0D"),
    (lambda L: L.diag(L.ones(2, 2, 2)), "diag(): Supports 1D or 2D tensors. Got 3D"),
    (lambda L: L.diag_embed(L.ones(2, 3), 0, 1, 1), "diagonal dimensions cannot be identical"),
    (lambda L: L.diag_embed(L.ones(2, 3), 0, 0, 3), "Dimension out of range"),
    (lambda L: L.diag_embed(L.tensor(1.0)), "Dimension out of range"),
    (lambda L: L.movedim(L.ones(2, 3, 4), (0, 1), (2,)),
     "movedim: Invalid source or destination dims: source ([0, 1] dims) should contain the same "
     "number of dims as destination ([2] dims)"),
    (lambda L: L.movedim(L.ones(2, 3, 4), (0, -3), (2, 1)), "movedim: repeated dim in `source` "
                                                            "([0, -3])"),
    (lambda L: L.movedim(L.ones(2, 3, 4), (0, 1), (2, 2)), "movedim: repeated dim in "
                                                           "`destination` ([2, 2])"),
    (lambda L: L.movedim(L.ones(2, 3, 4), 3, 0), "Dimension out of range"),
    (lambda L: L.broadcast_tensors(L.ones(2, 3), L.ones(4)),
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda L: L.broadcast_tensors([L.ones(2)]), "expected Tensor as element 0 in argument 0"),
    (lambda L: L.broadcast_shapes((2, 1), (3, 2)),
     "Attempting to broadcast a dimension of length 3 at -2! Mismatching argument at index 1 had "
     "(3, 2); but expected shape should be broadcastable to [2, 2]"),
    (lambda L: L.broadcast_shapes((2, -1)), "Attempting to broadcast a dimension with negative "
                                            "length!"),
    (lambda L: L.broadcast_shapes(1.5), "Input shapes should be of type ints, a tuple of ints, or "
                                        "a list of ints, got 1.5"),
    (lambda L: L.meshgrid(indexing="ij"), "meshgrid expects a non-empty TensorList"),
    (lambda L: L.meshgrid(L.ones(2), indexing="foo"),
     'torch.meshgrid: indexing must be one of "xy" or "ij", but received: foo'),
    (lambda L: L.meshgrid(L.ones(2, 2), indexing="ij"),
     "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got"),
    (lambda L: L.meshgrid(L.ones(2), L.ones(2, dtype=L.int64), indexing="ij"),
     "meshgrid expects all tensors to have the same dtype"),
    (lambda L: L.ones(2, 3).unfold(1, 4, 1), "maximum size for tensor at dimension 1 is 3 but "
                                             "size is 4"),
    (lambda L: L.ones(2, 3).unfold(1, 2, 0), "step is 0 but must be > 0"),
    (lambda L: L.ones(2, 3).unfold(1, -1, 0), "size is -1 but must be >= 0"),
    (lambda L: L.tensor(1.0).unfold(0, 2, 1), "maximum size for tensor at dimension 0 is 1"),
    (lambda L: L.ones(2, 3).unfold(2, 1, 1), "Dimension out of range"),
    (lambda L: L.ones(2, 3).as_strided((3, 3), (3, 1)),
     "setStorage: sizes [3, 3], strides [3, 1], storage offset 0, and itemsize 4 requiring a "
     "storage size of 36 are out of bounds for storage of size 24"),
    (lambda L: L.ones(2, 3).as_strided((2, 2), (-1, 1)), "as_strided: Negative strides are not "
                                                         "supported at the moment, got strides: "
                                                         "[-1, 1]"),
    (lambda L: L.ones(2, 3).as_strided((2, 2), (1,)), "mismatch in length of strides and shape"),
    (lambda L: L.ones(2, 3, 4).t_(), "t_() expects a tensor with <= 2 "
                                                        "dimensions, but self is 3D"),
    (lambda L: L.ones(2, 3, 4).t(), "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda L: L.ones(3).mH, "tensor.mH is only supported on matrices or batches of matrices. "
                             "Got 1-D tensor."),
    (lambda L: L.adjoint(L.ones(3)), "tensor.adjoint() is only supported on matrices"),
    (lambda L: L.ones(2, 3, 4).H, "tensor.H is only supported on matrices (2-D tensors). Got 3-D "
                                  "tensor. For batches of matrices, consider using tensor.mH"),
    (lambda L: L.ones(3).mT, "tensor.mT is only supported on matrices or batches of matrices. "
                             "Got 1-D tensor."),
    (lambda L: L.ones(3).view(L.float64), "self.size(-1) must be divisible by 2 to view Float as "
                                          "Double (different element sizes), but got 3"),
    (lambda L: L.ones(2, 3).t().view(L.int16), "self.stride(-1) must be 1 to view Float as Short "
                                               "(different element sizes), but got 3"),
    (lambda L: L.tensor(1.0).view(L.int16), "self.dim() cannot be 0 to view Float as Short"),
    (lambda L: L.ones(4)[1:].view(L.float64), "must be divisible by 2"),
    (lambda L: L.ones(3, 3)[:, :2].view(L.float64), "self.stride(0) must be divisible by 2"),
    (lambda L: L.ones(2, 3).expand(3), "the number of sizes provided (1) must be greater or equal "
                                       "to the number of dimensions in the tensor (2)"),
    (lambda L: L.ones(2, 3).expand(2, 4), "The expanded size of the tensor (4) must match the "
                                          "existing size (3) at non-singleton dimension 1"),
    (lambda L: L.ones(2, 3).resize_(-1, 2), "numel: integer multiplication overflow"),
    (lambda L: L.ones(2, 3, requires_grad=True).resize_(6),
     "cannot resize variables that require grad"),
]


@pytest.mark.parametrize("fn,match", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, match):
    check_raises(fn, match=match)


def test_same_messages():
    for fn in (lambda L: L.ones(2, 3).permute(0, 0), lambda L: L.ones(2, 3).permute(0),
               lambda L: L.ones(2, 3).reshape(-2, 3), lambda L: L.ones(2, 3).t().view(6),
               lambda L: L.ones(2, 6).unflatten(1, (4, -1)), lambda L: L.ones(2, 6).flatten(1, 0),
               lambda L: L.ones(2, 6).expand(2, -2), lambda L: L.ones(2, 3).view(L.float64),
               lambda L: L.ones(0, 3).view(-1, 0), lambda L: L.ones(2, 3).view(-1, -1),
               lambda L: L.cat([L.ones(2, 3), L.ones(3, 3)], 1),
               lambda L: L.stack([L.ones(2, 3), L.ones(3, 3)]),
               lambda L: L.narrow(L.ones(5, 3), 0, 3, 3),
               lambda L: L.select(L.ones(5, 3), 1, 3),
               lambda L: L.split(L.ones(5, 3), [1, 2]),
               lambda L: L.movedim(L.ones(2, 3, 4), (0, 1), (2,)),
               lambda L: L.rot90(L.ones(2, 3), 1, (0, -2))):
        same_message(fn)


def test_out_arguments():
    x, y = rand(2, 3), rand(2, 3)
    check(lambda L, a, b: L.cat([a, b], 1, out=L.empty(0)), Const(x), Const(y))
    check(lambda L, a, b: L.stack([a, b], out=L.empty(2, 2, 3)), Const(x), Const(y))
    check(lambda L, a, b: L.hstack([a, b], out=L.empty(0)), Const(x), Const(y))
    check(lambda L, a, b: L.vstack([a, b], out=L.empty(0, dtype=L.float64)), Const(x), Const(y))
    check(lambda L, a: L.tril(a, out=L.empty(2, 3)), Const(x))
    check(lambda L, a: L.diag(a, out=L.empty(0)), Const(rand(3)))
    # out keeps its dtype (float64) for float32 inputs; integer out for float inputs is refused
    o = ember.empty(0, dtype=ember.float64)
    r = ember.cat([ember.ones(2), ember.ones(1)], out=o)
    assert r is o and o.dtype is ember.float64 and o.shape == (3,)
    check_raises(lambda L: L.cat([grad_leaf(L, x)], out=L.empty(0)),
                 match="cat(): functions with out=... arguments don't support automatic")


# ---------------------------------------------------------------------------------------------
# views: memory, version counter and writes through them
# ---------------------------------------------------------------------------------------------

VIEWS = {
    "view": lambda L, a: a.view(3, 4),
    "reshape": lambda L, a: a.reshape(2, 2, 3),
    "flatten": lambda L, a: a.flatten(),
    "ravel": lambda L, a: a.ravel(),
    "unflatten": lambda L, a: a.unflatten(1, (2, 2)),
    "squeeze": lambda L, a: a[None].squeeze(0),
    "unsqueeze": lambda L, a: a.unsqueeze(1),
    "permute": lambda L, a: a.permute(1, 0),
    "transpose": lambda L, a: a.transpose(0, 1),
    "t": lambda L, a: a.t(),
    "T": lambda L, a: a.T,
    "mT": lambda L, a: a.mT,
    "narrow": lambda L, a: a.narrow(1, 1, 2),
    "select": lambda L, a: a.select(1, 2),
    "select_0d": lambda L, a: a[1].select(0, 3),
    "split": lambda L, a: a.split(2, 1)[1],
    "split_sizes": lambda L, a: a.split([1, 2], 0)[1],
    "chunk": lambda L, a: a.chunk(2, 1)[0],
    "tensor_split": lambda L, a: a.tensor_split([1], 1)[1],
    "hsplit": lambda L, a: a.hsplit(2)[1],
    "unbind": lambda L, a: a.unbind(1)[3],
    "diagonal": lambda L, a: a.diagonal(1),
    "diagonal_neg": lambda L, a: L.diagonal(a, -1),
    "movedim": lambda L, a: L.movedim(a, 0, 1),
    "unfold": lambda L, a: a.unfold(1, 2, 2),
    "as_strided": lambda L, a: a.as_strided((2, 2), (1, 4), 1),
    "expand_same": lambda L, a: a.expand(3, 4),
    "broadcast_to_same": lambda L, a: L.broadcast_to(a, (3, 4)),
    "atleast_3d": lambda L, a: L.atleast_3d(a),
    "meshgrid_one": lambda L, a: L.meshgrid(a[0], indexing="ij")[0],
    "swapaxes": lambda L, a: a.swapaxes(0, 1),
    "chain": lambda L, a: a.t().unsqueeze(0).narrow(1, 1, 2).select(2, 1),
    "view_dtype": lambda L, a: a.view(L.int32),
}


@pytest.mark.parametrize("case", list(VIEWS), ids=list(VIEWS))
def test_view_shares_memory_and_version(case):
    fn = VIEWS[case]
    results = []
    for L in (torch, ember):
        a = L.tensor(arange_np(3, 4))
        v = fn(L, a)
        assert v._version == a._version == 0
        if v.dtype == a.dtype:
            v.mul_(10)
        else:
            v.add_(1)
        assert a._version == v._version == 1, (a._version, v._version)
        results.append((to_numpy(a).copy(), to_numpy(v).copy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])
    # and a write to the base shows through the view
    a = ember.tensor(arange_np(3, 4))
    v = fn(ember, a)
    a.add_(1)
    assert v._version == 1
    ta = torch.tensor(arange_np(3, 4))
    tv = fn(torch, ta)
    ta.add_(1)
    np.testing.assert_array_equal(to_numpy(v), to_numpy(tv))


def test_setitem_through_views():
    a = ember.zeros(3, 4)
    b = a.view(12)
    b[0] = 1
    a.t()[1, 0] = 2
    a.select(0, 2)[3] = 3
    a.diagonal()[2] = 4
    assert a.tolist() == [[1, 2, 0, 0], [0, 0, 0, 0], [0, 0, 4, 3]]
    a.t().add_(1)
    assert a.tolist() == [[2, 3, 1, 1], [1, 1, 1, 1], [1, 1, 5, 4]]
    assert a._version == b._version == 5


def test_copies_do_not_share_memory():
    a = ember.tensor(arange_np(3, 4))
    for r in (ember.flip(a, [0]), a.roll(1), a.rot90(), a.repeat(1, 1), ember.tril(a),
              ember.cat([a]), ember.stack([a])[0], a.t().reshape(-1), ember.diag(a),
              ember.repeat_interleave(a, 1)):
        assert not np.shares_memory(r._data, a._data)
    assert ember.flip(a, [0]).stride() == (4, 1)  # no negative strides


def test_overlapping_views_refuse_writes():
    check_raises(lambda L, x: x.expand(2, 4).add_(1), rand(1, 4))
    check_raises(lambda L, x: L.broadcast_to(x, (3, 4)).mul_(2), rand(4))
    check_raises(lambda L, x: L.meshgrid(x, x, indexing="ij")[0].mul_(2), rand(3))


def test_strides_and_offsets_match_torch():
    cases = [lambda L, a: a.t(), lambda L, a: a.narrow(1, 1, 2), lambda L, a: a.select(0, 1),
             lambda L, a: a.diagonal(1), lambda L, a: a.diagonal(-1),
             lambda L, a: a.unfold(1, 2, 1), lambda L, a: a.expand(2, 3, 4),
             lambda L, a: a[:, 1:].as_strided((2, 2), (1, 3)),
             lambda L, a: a.as_strided((2,), (5,), 2), lambda L, a: a.rot90(),
             lambda L, a: a.split(3, 1)[1], lambda L, a: a.unbind(1)[2],
             lambda L, a: L.movedim(a, 1, 0), lambda L, a: a.view(L.int16)]
    for fn in cases:
        ta = torch.tensor(arange_np(3, 4))
        ea = ember.tensor(arange_np(3, 4))
        tv, ev = fn(torch, ta), fn(ember, ea)
        assert ev.stride() == tv.stride(), (ev.stride(), tv.stride())
        assert ev.storage_offset() == tv.storage_offset()
        assert ev.is_contiguous() == tv.is_contiguous()
        np.testing.assert_array_equal(to_numpy(ev), to_numpy(tv))


def _inplace_on_view(L, x, w, op):
    y = x * 1
    v = op(L, y)
    v.mul_(w)
    return y * 2


INPLACE_VIEWS = {
    "t": (lambda L, y: y.t(), (3, 2)),
    "narrow": (lambda L, y: y.narrow(1, 1, 2), (2, 2)),
    "select": (lambda L, y: y.select(0, 1), (3,)),
    "diagonal": (lambda L, y: y.diagonal(), (2,)),
    "unfold": (lambda L, y: y.unfold(1, 1, 2), (2, 2, 1)),
    "as_strided": (lambda L, y: y.as_strided((2,), (4,), 1), (2,)),
    "tensor_split": (lambda L, y: y.tensor_split(2, 1)[1], (2, 1)),
    "view": (lambda L, y: y.view(6), (6,)),
    "movedim": (lambda L, y: L.movedim(y, 1, 0), (3, 2)),
    "chain": (lambda L, y: y.t()[1:].squeeze(0), (2,)),
}


@pytest.mark.parametrize("case", list(INPLACE_VIEWS), ids=list(INPLACE_VIEWS))
def test_inplace_through_view_rebases_grad(case):
    op, wshape = INPLACE_VIEWS[case]
    check(lambda L, x, w: _inplace_on_view(L, x, w, op), rand(2, 3), rand(*wshape))


def test_inplace_on_multi_output_views():
    def fn(L):
        y = grad_leaf(L, rand(2, 3)) * 2
        return y.split(1)[0].add_(1)

    check_raises(fn, match="Output 0 of Split is a view")
    for f in (lambda y: y.unbind(0)[1], lambda y: y.chunk(2)[0], lambda y: y.split([1, 1])[1]):
        for L in (torch, ember):
            y = L.tensor(rand(2, 3), requires_grad=True) * 2
            with pytest.raises(RuntimeError, match="multiple views"):
                f(y).mul_(2)
    same_message(lambda L: (L.ones(2, 3, requires_grad=True) * 2).unbind(0)[1].mul_(2))
    same_message(lambda L: (L.ones(2, 3, requires_grad=True) * 2).split(1)[1].t_())
    same_message(lambda L: (L.ones(2, 3, requires_grad=True) * 2).unbind(0)[1].unsqueeze_(0))
    # allowed without autograd, and the write reaches the base
    for L in (torch, ember):
        z = L.zeros(4, 3)
        a, b = z.split(2)
        a.add_(1)
        with L.no_grad():
            y = L.ones(2, 2, requires_grad=True) * 1
            y.unbind(0)[0].mul_(3)
        assert to_numpy(z).sum() == 6 and to_numpy(y).sum() == 8
    check_raises(lambda L: L.zeros(4).split(2)[0].add_(L.ones(2, requires_grad=True)),
                 match="A view was created in no_grad mode")


def test_view_of_leaf_inplace_refused():
    x = rand(2, 3)
    check_raises(lambda L: grad_leaf(L, x).narrow(0, 0, 1).mul_(2),
                 match="a view of a leaf Variable that requires grad")
    check_raises(lambda L: grad_leaf(L, x).diagonal().mul_(0), match="a view of a leaf Variable")
    check_raises(lambda L: grad_leaf(L, x).split(1)[0].mul_(0), match="a view of a leaf Variable")


# ---------------------------------------------------------------------------------------------
# in-place metadata ops and in-place tril/triu
# ---------------------------------------------------------------------------------------------

META = {
    "squeeze_": lambda L, y: y.squeeze_(),
    "squeeze_dim": lambda L, y: y.squeeze_(0),
    "squeeze_dims": lambda L, y: y.squeeze_((0, 2)),
    "unsqueeze_": lambda L, y: y.unsqueeze_(-1),
    "t_": lambda L, y: y[0].t_(),
    "transpose_": lambda L, y: y.transpose_(0, 1),
    "swapaxes_": lambda L, y: y.swapaxes_(1, 2),
    "swapdims_": lambda L, y: y.swapdims_(0, 2),
    "tril_": lambda L, y: y[0].tril_(),
    "triu_": lambda L, y: y.triu_(1),
}


@pytest.mark.parametrize("case", list(META), ids=list(META))
def test_inplace_metadata(case):
    op = META[case]

    def fn(L, x):
        y = x * 1
        r = op(L, y)
        assert y._version == 1
        return r, y

    out = check(fn, rand(1, 3, 1) if "squeeze" in case else rand(2, 3, 3))
    if case != "tril_":  # in-place on a view: PyTorch regenerates it as AsStridedBackward0
        names(lambda L, x: op(L, x * 1), rand(1, 3, 1) if "squeeze" in case else rand(2, 3, 3))
    assert out[0]._version == 1


def test_inplace_metadata_identity_and_views():
    for L in (torch, ember):
        a = L.zeros(2, 3)
        b = a.t()
        r = b.t_()
        assert r is b and b.shape == (2, 3) and b._version == 1 and a._version == 1
        b[0, 1] = 5
        assert to_numpy(a)[0, 1] == 5
        c = a[0]
        c.unsqueeze_(0)
        c.mul_(2)
        assert to_numpy(a)[0, 1] == 10
    x = rand(2, 3)
    check_raises(lambda L: grad_leaf(L, x).squeeze_(), match="a leaf Variable that requires grad")
    check_raises(lambda L: grad_leaf(L, x)[0].unsqueeze_(0), match="a view of a leaf Variable")
    # saved tensors notice the metadata change
    check_raises(lambda L: (lambda y: ((y * y).sum(), y.t_())[0].backward())(grad_leaf(L, x) * 1),
                 match="modified by an inplace operation")
    # grad of a later write through a re-shaped view
    check(lambda L, x: (lambda y: (y[0].unsqueeze_(0).mul_(3), y)[1])(x * 1), rand(2, 3))
    with ember.no_grad():
        leaf = ember.ones(1, 3, requires_grad=True)
        leaf.squeeze_()
    assert leaf.shape == (3,) and leaf.is_leaf


def test_tril_inplace_on_view():
    check(lambda L, x: (lambda y: (y[1].tril_(), y)[1])(x * 1), rand(2, 3, 3))
    for L in (torch, ember):
        a = L.ones(3, 3)
        a.t().triu_(1)
        assert to_numpy(a).tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]


# ---------------------------------------------------------------------------------------------
# resize_, view(dtype), T warnings, meshgrid warning, tril_indices, broadcast_shapes
# ---------------------------------------------------------------------------------------------

def test_resize_():
    for shape, new in [((2, 3), (3, 2)), ((2, 3), (4,)), ((2, 3), (2, 3)), ((2, 3), (0,)),
                       ((2, 3), (1, 6))]:
        res = []
        for L in (torch, ember):
            a = L.tensor(arange_np(*shape))
            r = a.resize_(*new)
            assert r is a
            res.append((tuple(a.shape), a.stride(), to_numpy(a).copy(), a._version))
        assert res[0][:2] == res[1][:2] and res[0][3] == res[1][3]
        np.testing.assert_array_equal(res[0][2], res[1][2])
    # a transposed view resized to another shape reads the storage in order
    for L in (torch, ember):
        a = L.tensor(arange_np(2, 3))
        v = a.t()
        v.resize_(6)
        assert to_numpy(v).tolist() == list(range(6)) and v.is_contiguous()
        v[0] = 100  # still the same storage
        assert to_numpy(a)[0, 0] == 100
    # growing keeps the old values at the front
    a = ember.tensor(arange_np(2, 2))
    a.resize_(3, 3)
    assert a.shape == (3, 3) and to_numpy(a).reshape(-1)[:4].tolist() == [0, 1, 2, 3]
    b = ember.tensor(arange_np(6))
    b.resize_as_(ember.ones(2, 2))
    assert b.tolist() == [[0, 1], [2, 3]]
    with ember.no_grad():
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            ember.ones(2, requires_grad=True).resize_(1)


def test_view_dtype():
    x = arange_np(2, 4)
    for d in ("int32", "int16", "float64", "bool", "uint8", "float16", "bfloat16"):
        check(lambda L, a, d=d: a.view(getattr(L, d)), Const(x))
    check(lambda L, a: a.t().view(L.int32), Const(x))
    for L in (torch, ember):
        a = L.ones(4, requires_grad=True)
        v = a.view(L.float32)
        assert not v.requires_grad and v.grad_fn is None
        b = L.zeros(4)
        c = b.view(L.int32)
        c[0] = 1
        assert b._version == c._version == 1 and to_numpy(b)[0] != 0
        assert c._base is None


def test_T_warnings_and_mT_0d():
    for shape in [(), (3,), (2, 3, 4)]:
        with pytest.warns(UserWarning, match="deprecated"):
            r = ember.ones(shape).T
        assert r.shape == torch.ones(shape).T.shape
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.ones(2, 3).T.shape == (3, 2)
    with pytest.warns(UserWarning, match="mT is deprecated on 0-D"):
        s = ember.tensor(2.0)
        assert s.mT is s
    for get in (lambda t: t.H, lambda t: t.mH, lambda t: t.adjoint()):
        with pytest.warns(UserWarning, match="deprecated on 0-D tensors. Consider using x.conj()"):
            assert get(s) is s


def test_meshgrid_warning():
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        g = ember.meshgrid(ember.ones(2), ember.ones(3))
    assert g[0].shape == (2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.meshgrid(ember.ones(2), ember.ones(3), indexing="ij")


@pytest.mark.parametrize("args", [(3, 4), (3, 4, 1), (4, 3, -1), (0, 4), (3, 0), (5, 5, 10),
                                  (5, 5, -10), (1, 1)])
def test_tri_indices(args):
    check(lambda L: L.tril_indices(*args))
    check(lambda L: L.triu_indices(*args))
    check(lambda L: L.tril_indices(*args, dtype=L.int32))


def test_broadcast_shapes():
    for shapes in [((2,), (3, 1), (1, 1, 1)), ((2, 1), 3), (5,), (), ([2, 1], [1, 3]),
                   (ember.Size([2, 1]), (4, 1, 3)), ((0,), (1,)), ((1, 0), (3, 1))]:
        tshapes = [torch.Size(s) if isinstance(s, ember.Size) else s for s in shapes]
        t = torch.broadcast_shapes(*tshapes)
        e = ember.broadcast_shapes(*shapes)
        assert isinstance(e, ember.Size) and tuple(e) == tuple(t)


def test_broadcast_tensors_identity():
    x = ember.ones(2, 3, requires_grad=True)
    r = ember.broadcast_tensors(x, ember.ones(3))
    assert r[0] is x and r[1].shape == (2, 3) and r[1]._base is not None
    assert ember.broadcast_tensors(x)[0] is x


def test_atleast_identity():
    x = ember.ones(2, 3)
    assert ember.atleast_1d(x) is x and ember.atleast_2d(x) is x
    assert ember.atleast_3d(ember.ones(1, 2, 3, 4)).shape == (1, 2, 3, 4)
    assert isinstance(ember.atleast_1d([x]), tuple)


def test_split_grads_with_unused_outputs():
    # outputs that take no part in the loss get zero gradient, as in PyTorch
    check(lambda L, x: L.split(x, 2)[1], rand(5, 3))
    check(lambda L, x: x.unbind(1)[0] * 2, rand(2, 3))
    check(lambda L, x: L.chunk(x, 3)[2], rand(3, 2))


def test_iter_unbinds():
    a = ember.tensor(arange_np(3, 2))
    rows = list(a)
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    rows[1][0] = 9
    assert a[1, 0].item() == 9


def test_cat_legacy_empty_grad():
    for L in (torch, ember):
        e = L.tensor([], requires_grad=True)
        g = L.ones(3, requires_grad=True)
        L.cat([e, g]).sum().backward()
        assert tuple(e.grad.shape) == (0,) and to_numpy(g.grad).tolist() == [1, 1, 1]


def test_unfold_overlapping_grad_large():
    check(lambda L, x: x.unfold(0, 4, 1), rand(9, 2))
    check(lambda L, x: x.unfold(1, 3, 3), rand(2, 9))
    check(lambda L, x: x.unfold(2, 2, 1).unfold(0, 2, 1), rand(3, 2, 4))


def test_repeat_interleave_is_view_of_copy():
    x = ember.ones(2, 3, requires_grad=True)
    r = ember.repeat_interleave(x, 2)
    assert r.grad_fn.name() == "ViewBackward0"
    assert not np.shares_memory(r._data, x._data)


# ---------------------------------------------------------------------------------------------
# audit regressions: 0-d tensors, error messages naming the dim PyTorch names
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda L, a: a.transpose(0, -1), lambda L, a: L.transpose(a, -1, -1),
    lambda L, a: a.swapdims(0, 0), lambda L, a: L.swapaxes(a, 0, -1),
    lambda L, a: a.movedim(0, -1), lambda L, a: L.movedim(a, (0,), (0,)),
    lambda L, a: a.permute(()), lambda L, a: L.flatten(a, -1, 0),
    lambda L, a: a.clone().transpose_(0, -1),
])
def test_zero_dim_views(fn):
    check(fn, r0())


@pytest.mark.parametrize("fn", [
    lambda L, a: a.transpose(0, 1), lambda L, a: a.movedim(0, 1), lambda L, a: a.flatten(1),
    lambda L, a: a.flatten(0, 1), lambda L, a: a.flatten(-2), lambda L, a: a.unflatten(0, (1,)),
    lambda L, a: a.permute(),
])
def test_zero_dim_view_errors(fn):
    check_raises(fn, r0())


@pytest.mark.parametrize("shape", [(2, 3), (2, -1, 3), (-1, 3, 4), (2, 4, 5), (3, 2), (4, 1)])
def test_expand_error_names_the_last_bad_dim(shape):
    x = rand(3, 1)
    try:
        torch.ones(3, 1).expand(*shape)
    except RuntimeError:
        same_message(lambda L, a: a.expand(*shape), x)
    else:
        check(lambda L, a: a.expand(*shape), x)


def test_permute_without_dims_is_a_type_error():
    same_message(lambda L, a: a.permute(), rand(3, 4))
