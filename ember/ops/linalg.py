"""Linear algebra: matrix products, ``einsum``, decompositions, solvers and norms.

Products go through NumPy/CuPy ``matmul``/``einsum`` (BLAS/cuBLAS). float16/bfloat16 are
multiplied in float32 and rounded back (PyTorch accumulates half-precision products in float32 on
the CPU). Decompositions and solvers use ``xp.linalg`` (LAPACK on the CPU, cuSOLVER through
CuPy), batched over leading dimensions; their backward formulas are written with ember ops, so
they can be differentiated again. ``torch.linalg`` names live in ``ember.linalg``; the functions
here that PyTorch has under ``torch`` are exported as ``ember.<name>``.
"""

from __future__ import annotations

import math
import numbers
import string
import warnings

import numpy as np

from .. import _dtype, _parallel
from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state as _grad_state
from ..backends import opt_einsum as _opt_einsum
from . import _util
from . import shape as _shape
from ._util import check_inplace, inplace, write_out

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv",
    "addmv_", "addr", "addbmm", "baddbmm", "einsum", "tensordot", "kron", "cross", "trace",
    "chain_matmul", "matrix_power", "norm", "frobenius_norm", "nuclear_norm", "dist",
    "det", "logdet", "slogdet", "inverse", "cholesky", "cholesky_solve", "cholesky_inverse", "qr",
    "svd", "pinverse", "matrix_exp", "triangular_solve",
]

_HALF = {np.dtype(np.float16)}
if _dtype._BF16_NP is not None:
    _HALF.add(_dtype._BF16_NP)


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: a decomposition or solve failed (singular, not PD, ...)."""


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------

def _cname(t: Tensor) -> str:
    from .._tensor import _c_name

    return _c_name(t.dtype)


def _sname(t: Tensor) -> str:
    return _util.dtype_name(t.dtype)


def _check_tensor(x, fname: str, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _no_bool(t: Tensor, kernel: str) -> None:
    if t._data.dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _mm(a, b):
    """matmul on arrays, through float32 for half-precision dtypes."""
    if a.dtype in _HALF:
        xp = array_module(a)
        return xp.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return _parallel.matmul(a, b)


def _mT(t: Tensor) -> Tensor:
    return _shape.transpose(t, -2, -1)


def _conj(t: Tensor) -> Tensor:
    from .pointwise import conj

    return conj(t)


def _mH(t: Tensor) -> Tensor:
    return _conj(_shape.transpose(t, -2, -1))


def _bmat(a: Tensor, b: Tensor) -> Tensor:
    """Differentiable product of two (batches of) matrices, without argument checks."""
    if a._data.ndim == 2 and b._data.ndim == 2:
        return Mm.apply(a, b)
    return Matmul.apply(a, b)


def _const(arr) -> Tensor:
    return Tensor._make(arr)


def _eye(like, n: int, m: int | None = None, dtype=None) -> Tensor:
    """A constant identity matrix on ``like``'s device (``like``: tensor or array)."""
    arr = like._data if isinstance(like, Tensor) else like
    xp = array_module(arr)
    return _const(xp.eye(n, m, dtype=arr.dtype if dtype is None else dtype))


def _tri_mask(like: Tensor, k: int = 0, upper: bool = False) -> Tensor:
    """Constant 0/1 mask selecting the lower (or upper) triangle from diagonal ``k``."""
    arr = like._data
    xp = array_module(arr)
    n, m = arr.shape[-2:]
    if upper:
        mask = 1 - xp.tri(n, m, k - 1, dtype=arr.dtype)
    else:
        mask = xp.tri(n, m, k, dtype=arr.dtype)
    return _const(mask.astype(arr.dtype))


def _tril(t: Tensor, k: int = 0) -> Tensor:
    return t * _tri_mask(t, k)


def _triu(t: Tensor, k: int = 0) -> Tensor:
    return t * _tri_mask(t, k, upper=True)


def _diag_embed(v: Tensor) -> Tensor:
    """Batch of diagonal matrices from a batch of vectors (differentiable)."""
    n = v._data.shape[-1]
    return _shape.unsqueeze(v, -1) * _eye(v, n)


def _diagonal(m: Tensor) -> Tensor:
    """Main diagonal of a batch of square matrices (differentiable)."""
    from .reduction import sum as _sum

    n = m._data.shape[-1]
    return _sum(m * _eye(m, n), -1)


def _prod(s) -> int:
    n = 1
    for k in s:
        n *= k
    return n


def _shape_str(s) -> str:
    return "x".join(str(k) for k in s)


# ---------------------------------------------------------------------------------------------
# matrix products
# ---------------------------------------------------------------------------------------------

def _is_transposed(a) -> bool:
    return a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous


def _mm_like(a, b, transposed: bool):
    """``a @ b``, computed as ``(b.T @ a.T).T`` when the result should be column-major."""
    return _mm(b.T, a.T).T if transposed else _mm(a, b)


class Mm(Op, name="MmBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b if e[0] else None)
            # an operand that is a transposed view (``w.t()`` of a weight) gets its gradient in
            # the same layout, so the transpose's gradient is contiguous again, as PyTorch does
            ctx.a_layout_t = _is_transposed(a)
            ctx.b_layout_t = _is_transposed(b)
        return _mm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        G = g._data
        if not _grad_state.enabled and G.dtype.kind == "f":
            # no graph of the backward is recorded: two array products instead of six ops
            # (transpose, conj and mm per gradient); real dtypes need no conjugate
            ga = gb = None
            if e[0]:
                ga = Tensor._make(_mm_like(G, b._data.T, ctx.a_layout_t))
            if e[1]:
                gb = Tensor._make(_mm_like(a._data.T, G, ctx.b_layout_t))
            return ga, gb
        ga = Mm.apply(g, _mH(b)) if e[0] else None
        gb = Mm.apply(_mH(a), g) if e[1] else None
        return ga, gb


def _check_mm(a: Tensor, b: Tensor) -> None:
    sa, sb = a._data.shape, b._data.shape
    if sa[1] != sb[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and "
                           f"{sb[0]}x{sb[1]})")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cname(a)} != "
                           f"{_cname(b)}")
    _no_bool(a, "addmm_impl_cpu_")
    _util.check_same_device(a, b)


def mm(input, mat2, *, out=None) -> Tensor:
    """``torch.mm``: 2-D matrix product (same dtype required, no broadcasting)."""
    _check_tensor(input, "mm")
    _check_tensor(mat2, "mm", "mat2", 2)
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_mm(input, mat2)
    r = Mm.apply(input, mat2)
    return r if out is None else write_out(out, r, "mm")


def _check_vecs(a: Tensor, b: Tensor, kernel: str) -> None:
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D "
                           "tensors")
    if a._data.shape != b._data.shape:
        n, m = a._data.shape[0], b._data.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                           f"have the same number of elements, but got {n} and {m} elements "
                           "respectively")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_sname(a)} and {_sname(b)}")
    _no_bool(a, kernel)
    _util.check_same_device(a, b)


def _dot_arrays(a, b, conj_first: bool = False):
    xp = array_module(a)
    if conj_first:
        return xp.vdot(a, b) if a.dtype not in _HALF else \
            xp.vdot(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    if a.dtype in _HALF:
        return xp.dot(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return xp.dot(a, b)


class Dot(Op, name="DotBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b if e[0] else None)
        return _dot_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        return (g * _conj(b) if e[0] else None), (g * _conj(a) if e[1] else None)


def dot(input, tensor, *, out=None) -> Tensor:
    """``torch.dot``: inner product of two 1-D tensors of the same dtype (no conjugation)."""
    _check_tensor(input, "dot")
    _check_tensor(tensor, "dot", "tensor", 2)
    _check_vecs(input, tensor, "dot")
    r = Dot.apply(input, tensor)
    return r if out is None else write_out(out, r, "dot")


class Vdot(Op, name="VdotBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b if e[0] else None)
        return _dot_arrays(a, b, conj_first=True)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        return (_conj(g) * b if e[0] else None), (g * a if e[1] else None)


def vdot(input, other, *, out=None) -> Tensor:
    """``torch.vdot``: like ``dot`` but conjugating the first argument."""
    _check_tensor(input, "vdot")
    _check_tensor(other, "vdot", "other", 2)
    _check_vecs(input, other, "vdot")
    r = Vdot.apply(input, other)
    return r if out is None else write_out(out, r, "vdot")


class Mv(Op, name="MvBackward0"):
    @staticmethod
    def forward(ctx, a, v):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, v if e[0] else None)
        return _mm(a, v)

    @staticmethod
    def backward(ctx, g):
        a, v = ctx.saved_tensors
        e = ctx._edges
        ga = _shape.unsqueeze(g, 1) * _shape.unsqueeze(_conj(v), 0) if e[0] else None
        gv = Mv.apply(_mH(a), g) if e[1] else None
        return ga, gv


def _check_mv(mat: Tensor, vec: Tensor, first: Tensor | None = None) -> None:
    sa, sv = mat._data.shape, vec._data.shape
    n_in = 1 if first is None else first._data.ndim
    if mat._data.ndim != 2 or vec._data.ndim != 1 or n_in != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {n_in}, {mat._data.ndim}, "
                           f"{vec._data.ndim}")
    if sa[1] != sv[0] or (first is not None and first._data.shape[0] not in (1, sa[0])):
        n = sa[0] if first is None else first._data.shape[0]
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({_shape_str(sa)}), vec "
                           f"({_shape_str(sv)})")
    f = vec if first is None else first
    if not (mat._data.dtype == vec._data.dtype == f._data.dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_sname(f)}, "
                           f"{_sname(mat)}, and {_sname(vec)}")
    _no_bool(mat, "addmv_impl_cpu")
    _util.check_same_device(mat, vec, first)


def mv(input, vec, *, out=None) -> Tensor:
    """``torch.mv``: matrix-vector product."""
    _check_tensor(input, "mv")
    _check_tensor(vec, "mv", "vec", 2)
    _check_mv(input, vec)
    r = Mv.apply(input, vec)
    return r if out is None else write_out(out, r, "mv")


class Matmul(Op, name="UnsafeViewBackward0"):
    """Batched matmul with broadcast batch dims (both operands at least 2-D); the engine sums
    the gradient of a broadcast operand back to its shape."""

    @staticmethod
    def forward(ctx, a, b):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b if e[0] else None)
        return _mm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        ga = Matmul.apply(g, _mH(b)) if e[0] else None
        gb = Matmul.apply(_mH(a), g) if e[1] else None
        return ga, gb


def _check_batched(a: Tensor, b: Tensor, batch) -> None:
    sa, sb = a._data.shape, b._data.shape
    if sa[-1] != sb[-2]:
        n = _prod(batch)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {sa[-1]}] but got: [{n}, {sb[-2]}].")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected scalar type {_sname(a)} but found {_sname(b)}")
    _no_bool(a, "bmm")
    _util.check_same_device(a, b)


def matmul(input, other, *, out=None) -> Tensor:
    """``torch.matmul``/``@`` for every rank combination, with broadcast batch dims.

    Like PyTorch, an N-D (N >= 3) tensor times a matrix or vector is folded into one 2-D
    product, so errors name the folded shapes exactly as PyTorch's do.
    """
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        bad = other if isinstance(input, Tensor) else input
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(bad).__name__}")
    da, db = input._data.ndim, other._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D "
                           f"and {db}D")
    sa, sb = input._data.shape, other._data.shape
    if da == 2 and db == 2:
        _check_mm(input, other)
        r = Mm.apply(input, other)
    elif da == 1 and db == 1:
        r = dot(input, other)
    elif da == 2 and db == 1:
        r = mv(input, other)
    elif da == 1 and db == 2:
        a = _shape.unsqueeze(input, 0)
        _check_mm(a, other)
        r = _shape.squeeze(Mm.apply(a, other), 0)
    elif da >= 3 and db <= 2:
        folded = _shape.reshape(input, (_prod(sa[:-1]), sa[-1]))
        if db == 1:
            _check_mv(folded, other)
            r = _shape.reshape(Mv.apply(folded, other), sa[:-1])
        else:
            _check_mm(folded, other)
            r = _shape.reshape(Mm.apply(folded, other), sa[:-1] + (sb[1],))
    else:
        a = _shape.unsqueeze(input, 0) if da == 1 else input
        b = _shape.unsqueeze(other, 1) if db == 1 else other
        batch = _util.broadcast_shapes_or_raise(a._data.shape[:-2], b._data.shape[:-2])
        _check_batched(a, b, batch)
        r = Matmul.apply(a, b)
        if da == 1:
            r = _shape.squeeze(r, -2)
        if db == 1:
            r = _shape.squeeze(r, -1)
    return r if out is None else write_out(out, r, "matmul")


def _rmatmul(self, other):
    if not isinstance(other, Tensor):
        if isinstance(other, np.ndarray):
            from .creation import as_tensor

            return matmul(as_tensor(other), self)
        return NotImplemented
    return matmul(other, self)


class Bmm(Op, name="BmmBackward0"):
    @staticmethod
    def forward(ctx, a, b):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b if e[0] else None)
        return _mm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        ga = Bmm.apply(g, _mH(b)) if e[0] else None
        gb = Bmm.apply(_mH(a), g) if e[1] else None
        return ga, gb


def _check_bmm(b1: Tensor, b2: Tensor) -> None:
    if b1._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    s1, s2 = b1._data.shape, b2._data.shape
    if s2[0] != s1[0] or s2[1] != s1[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{s1[0]}, {s1[2]}] but got: [{s2[0]}, {s2[1]}].")


def bmm(input, mat2, *, out=None) -> Tensor:
    """``torch.bmm``: batched product of two 3-D tensors with equal batch sizes."""
    _check_tensor(input, "bmm")
    _check_tensor(mat2, "bmm", "mat2", 2)
    _check_bmm(input, mat2)
    if input._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"expected scalar type {_sname(input)} but found {_sname(mat2)}")
    _no_bool(input, "bmm")
    _util.check_same_device(input, mat2)
    r = Bmm.apply(input, mat2)
    return r if out is None else write_out(out, r, "bmm")


# --- fused multiply-add products: beta * input + alpha * (product) --------------------------

def _check_alpha_beta(t: Tensor, alpha, beta) -> None:
    kind = t._data.dtype.kind
    if kind in "biu":
        for name, v in (("alpha", alpha), ("beta", beta)):
            if isinstance(v, float) or isinstance(v, complex):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                                   "floating point number.")
    if kind == "b":
        for name, v in (("alpha", alpha), ("beta", beta)):
            if not isinstance(v, bool) and v not in (0, 1):
                raise RuntimeError(f"Boolean {name} only supported for Boolean results.")


def _axpby(prod, inp, alpha, beta, out_dtype):
    """``beta * inp + alpha * prod`` on arrays; ``beta == 0`` ignores ``inp`` (NaNs too)."""
    xp = array_module(prod)
    if prod.dtype == np.bool_:
        r = prod if alpha else xp.zeros_like(prod)
        return r | inp if beta else r
    r = prod if alpha == 1 else prod * alpha
    if beta != 0:  # input always broadcasts to the product's shape (checked by the caller)
        r = r + (inp if beta == 1 else inp * beta)
    return r.astype(out_dtype, copy=False)


class _AddProduct(Op):
    """Shared forward/backward of addmm/addmv/addr/baddbmm/addbmm; ``kind`` picks the product."""

    kind = ""

    @classmethod
    def _prod(cls, a, b):
        if cls.kind == "addr":
            return a[:, None] * b[None, :] if a.dtype != np.bool_ else \
                a[:, None] & b[None, :]
        p = _mm(a, b)
        if cls.kind == "addbmm":
            p = p.sum(axis=0, dtype=np.float32 if p.dtype in _HALF else None).astype(p.dtype)
        return p

    @classmethod
    def forward(cls, ctx, inp, a, b, alpha, beta):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[2] else None, b if e[1] else None)
        ctx.alpha, ctx.beta = alpha, beta
        return _axpby(cls._prod(a, b), inp, alpha, beta, a.dtype)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        alpha, beta = ctx.alpha, ctx.beta
        ca = alpha.conjugate() if isinstance(alpha, complex) else alpha
        cb = beta.conjugate() if isinstance(beta, complex) else beta
        gi = (g * cb if cb != 1 else g) if e[0] else None
        ga = gb = None
        k = cls.kind
        if k == "addmm":
            ga = Mm.apply(g, _mH(b)) if e[1] else None
            gb = Mm.apply(_mH(a), g) if e[2] else None
        elif k == "addmv":
            ga = _shape.unsqueeze(g, 1) * _shape.unsqueeze(_conj(b), 0) if e[1] else None
            gb = Mv.apply(_mH(a), g) if e[2] else None
        elif k == "addr":
            ga = Mv.apply(g, _conj(b)) if e[1] else None
            gb = Mv.apply(_mT(g), _conj(a)) if e[2] else None
        elif k == "baddbmm":
            ga = Bmm.apply(g, _mH(b)) if e[1] else None
            gb = Bmm.apply(_mH(a), g) if e[2] else None
        else:  # addbmm: the same upstream gradient reaches every batch element
            n = (a if e[2] else b)._data.shape[0]
            gx = _shape.expand(_shape.unsqueeze(g, 0), (n,) + tuple(g._data.shape))
            ga = Bmm.apply(gx, _mH(b)) if e[1] else None
            gb = Bmm.apply(_mH(a), gx) if e[2] else None
        if ga is not None and ca != 1:
            ga = ga * ca
        if gb is not None and ca != 1:
            gb = gb * ca
        return gi, ga, gb


class Addmm(_AddProduct, name="AddmmBackward0"):
    kind = "addmm"


class Addmv(_AddProduct, name="AddmvBackward0"):
    kind = "addmv"


class Addr(_AddProduct, name="AddrBackward0"):
    kind = "addr"


class Baddbmm(_AddProduct, name="BaddbmmBackward0"):
    kind = "baddbmm"


class Addbmm(_AddProduct, name="AddbmmBackward0"):
    kind = "addbmm"


def _expand_input(inp: Tensor, shape: tuple) -> None:
    """PyTorch's error when ``input`` cannot be broadcast to the product's shape."""
    s = inp._data.shape
    if len(s) > len(shape):
        raise RuntimeError(f"The expanded size of the tensor ({shape[0] if shape else 1}) must "
                           f"match the existing size ({s[0]}) at non-singleton dimension 0.  "
                           f"Target sizes: {list(shape)}.  Tensor sizes: {list(s)}")
    lead = len(shape) - len(s)
    for i in range(len(s) - 1, -1, -1):  # last dim first, as PyTorch reports it
        n = s[i]
        if n != 1 and n != shape[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[lead + i]}) must match "
                               f"the existing size ({n}) at non-singleton dimension {lead + i}.  "
                               f"Target sizes: {list(shape)}.  Tensor sizes: {list(s)}")


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``torch.addmm``: ``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts."""
    for i, (t, n) in enumerate(((input, "input"), (mat1, "mat1"), (mat2, "mat2"))):
        _check_tensor(t, "addmm", n, i + 1)
    for t, n in ((mat1, "mat1"), (mat2, "mat2")):
        if t._data.ndim != 2:
            raise RuntimeError(f"{n} must be a matrix, got {t._data.ndim}-D tensor")
    _check_mm(mat1, mat2)
    if input._data.dtype != mat1._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_sname(input)} and "
                           f"{_sname(mat2)}")
    _util.check_same_device(input, mat1)
    _expand_input(input, (mat1._data.shape[0], mat2._data.shape[1]))
    _check_alpha_beta(input, alpha, beta)
    r = Addmm.apply(input, mat1, mat2, alpha, beta)
    return r if out is None else write_out(out, r, "addmm")


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None) -> Tensor:
    """``torch.addmv``: ``beta * input + alpha * (mat @ vec)``."""
    for i, (t, n) in enumerate(((input, "input"), (mat, "mat"), (vec, "vec"))):
        _check_tensor(t, "addmv", n, i + 1)
    _check_mv(mat, vec, input)
    _check_alpha_beta(input, alpha, beta)
    r = Addmv.apply(input, mat, vec, alpha, beta)
    return r if out is None else write_out(out, r, "addmv")


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``torch.addr``: ``beta * input + alpha * outer(vec1, vec2)`` (types promote)."""
    for i, (t, n) in enumerate(((input, "input"), (vec1, "vec1"), (vec2, "vec2"))):
        _check_tensor(t, "addr", n, i + 1)
    for t, n in ((vec1, "vec1"), (vec2, "vec2")):
        if t._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {n}, but got {t._data.ndim}-D")
    _util.check_same_device(input, vec1, vec2)
    dt = _util.result_type(input, vec1, vec2)
    input, vec1, vec2 = (_util.cast(t, dt) for t in (input, vec1, vec2))
    _expand_input(input, (vec1._data.shape[0], vec2._data.shape[0]))
    _check_alpha_beta(input, alpha, beta)
    r = Addr.apply(input, vec1, vec2, alpha, beta)
    return r if out is None else write_out(out, r, "addr")


def _check_baddbmm(input: Tensor, b1: Tensor, b2: Tensor) -> None:
    if not (input._data.dtype == b1._data.dtype == b2._data.dtype):
        raise RuntimeError(f"Input dtypes must be the same, got: input {_cname(input)}, batch1: "
                           f"{_cname(b1)}, batch2: {_cname(b2)}")
    _no_bool(b1, "bmm")
    _util.check_same_device(input, b1, b2)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``torch.baddbmm``: ``beta * input + alpha * bmm(batch1, batch2)``."""
    for i, (t, n) in enumerate(((input, "input"), (batch1, "batch1"), (batch2, "batch2"))):
        _check_tensor(t, "baddbmm", n, i + 1)
    _check_bmm(batch1, batch2)
    _check_baddbmm(input, batch1, batch2)
    s1, s2 = batch1._data.shape, batch2._data.shape
    _expand_input(input, (s1[0], s1[1], s2[2]))
    _check_alpha_beta(input, alpha, beta)
    r = Baddbmm.apply(input, batch1, batch2, alpha, beta)
    return r if out is None else write_out(out, r, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``torch.addbmm``: ``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    for i, (t, n) in enumerate(((input, "input"), (batch1, "batch1"), (batch2, "batch2"))):
        _check_tensor(t, "addbmm", n, i + 1)
    if batch1._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if batch2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    s1, s2 = batch1._data.shape, batch2._data.shape
    if s1[0] != s2[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {s1[0]} "
                           f"and {s2[0]}")
    if s1[2] != s2[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({s1[1]}x{s1[2]} and "
                           f"{s2[1]}x{s2[2]})")
    _check_baddbmm(input, batch1, batch2)
    _expand_input(input, (s1[1], s2[2]))
    _check_alpha_beta(input, alpha, beta)
    r = Addbmm.apply(input, batch1, batch2, alpha, beta)
    return r if out is None else write_out(out, r, "addbmm")


def _inplace_variant(fn, name: str):
    def method(self, *args, **kwargs):
        check_inplace(self)
        return inplace(self, fn(self, *args, **kwargs), name)

    method.__name__ = name
    method.__doc__ = f"In-place ``Tensor.{name}`` (the result must keep ``self``'s shape)."
    return method


addmm_ = _inplace_variant(addmm, "addmm_")
addmv_ = _inplace_variant(addmv, "addmv_")
addr_ = _inplace_variant(addr, "addr_")
baddbmm_ = _inplace_variant(baddbmm, "baddbmm_")
addbmm_ = _inplace_variant(addbmm, "addbmm_")


# --- outer / inner / tensordot / kron --------------------------------------------------------

def outer(input, vec2, *, out=None) -> Tensor:
    """``torch.outer``/``ger``: ``input[:, None] * vec2[None, :]`` with type promotion."""
    _check_tensor(input, "outer")
    _check_tensor(vec2, "outer", "vec2", 2)
    for t, n in ((input, "self"), (vec2, "vec2")):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {n}, but got {t._data.ndim}-D")
    r = _shape.unsqueeze(input, 1) * _shape.unsqueeze(vec2, 0)
    return r if out is None else write_out(out, r, "outer")


def ger(input, vec2, *, out=None) -> Tensor:
    """``torch.ger``: the old name of ``outer``."""
    return outer(input, vec2, out=out)


def tensordot(a, b, dims=2, out=None) -> Tensor:
    """``torch.tensordot``: contract ``dims`` (an int, or two lists of dims) of ``a`` and ``b``
    as one matrix product."""
    _check_tensor(a, "tensordot", "a", 1)
    _check_tensor(b, "tensordot", "b", 2)
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor) and dims._data.ndim == 0:
        dims = int(dims.item())
    if isinstance(dims, (int, np.integer)):
        dims = int(dims)
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > na or dims > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da_raw, db_raw = list(range(-dims, 0)), list(range(dims))
    else:
        if isinstance(dims, Tensor):
            dims = dims.tolist()
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists of dimensions")
        da_raw, db_raw = dims
        da_raw = da_raw.tolist() if isinstance(da_raw, Tensor) else da_raw
        db_raw = db_raw.tolist() if isinstance(db_raw, Tensor) else db_raw
        da_raw = [da_raw] if isinstance(da_raw, (int, np.integer)) else list(da_raw)
        db_raw = [db_raw] if isinstance(db_raw, (int, np.integer)) else list(db_raw)
    if len(da_raw) != len(db_raw):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da = [_util.wrap_dim(int(k), na) for k in da_raw]
    db = [_util.wrap_dim(int(k), nb) for k in db_raw]
    for dd, nd in ((da, na), (db, nb)):
        _util.wrap_dims(dd, nd)  # duplicate dims raise PyTorch's error
    sa, sb = a._data.shape, b._data.shape
    for i, j, ri, rj in zip(da, db, da_raw, db_raw):
        if sa[i] != sb[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[i]} "
                               f"in dim {ri} and second has size {sb[j]} in dim {rj}")
    _util.check_same_device(a, b)
    fa = [i for i in range(na) if i not in da]
    fb = [j for j in range(nb) if j not in db]
    k = _prod(sa[i] for i in da)
    am = _shape.reshape(_shape.permute(a, fa + da), (_prod(sa[i] for i in fa), k))
    bm = _shape.reshape(_shape.permute(b, db + fb), (k, _prod(sb[j] for j in fb)))
    _no_bool(a, "addmm_impl_cpu_")
    r = _shape.reshape(Mm.apply(am, bm), tuple(sa[i] for i in fa) + tuple(sb[j] for j in fb))
    return r if out is None else write_out(out, r, "tensordot")


def inner(input, other, *, out=None) -> Tensor:
    """``torch.inner``: sum over the last dims (a product when either is 0-d)."""
    _check_tensor(input, "inner")
    _check_tensor(other, "inner", "other", 2)
    if input._data.ndim == 0 or other._data.ndim == 0:
        r = input * other
    else:
        sa, sb = input._data.shape, other._data.shape
        if sa[-1] != sb[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                               f"got shapes {list(sa)} and {list(sb)}")
        r = tensordot(input, other, ([-1], [-1]))
    return r if out is None else write_out(out, r, "inner")


def kron(input, other, *, out=None) -> Tensor:
    """``torch.kron``: Kronecker product (the lower-rank operand gets leading 1s)."""
    _check_tensor(input, "kron")
    _check_tensor(other, "kron", "other", 2)
    nd = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (nd - input._data.ndim) + input._data.shape
    sb = (1,) * (nd - other._data.ndim) + other._data.shape
    # a[i0, 1, i1, 1, ...] * b[1, j0, 1, j1, ...] interleaves the index pairs
    a = _shape.reshape(input, tuple(x for s in sa for x in (s, 1)))
    b = _shape.reshape(other, tuple(x for s in sb for x in (1, s)))
    r = _shape.reshape(a * b, tuple(x * y for x, y in zip(sa, sb)))
    return r if out is None else write_out(out, r, "kron")


# --- cross / trace ----------------------------------------------------------------------------

class Cross(Op, name="LinalgCrossBackward0"):
    @staticmethod
    def forward(ctx, a, b, dim):
        e = ctx._edges
        if e:
            ctx.save_for_backward(a if e[1] else None, b if e[0] else None)
        ctx.dim = dim
        xp = array_module(a)
        shape = np.broadcast_shapes(a.shape, b.shape)
        a, b = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)
        if a.dtype in _HALF:
            return xp.cross(a.astype(np.float32), b.astype(np.float32), axis=dim).astype(a.dtype)
        return xp.cross(a, b, axis=dim)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        e = ctx._edges
        d = ctx.dim
        ga = Cross.apply(_conj(b), g, d) if e[0] else None
        gb = Cross.apply(g, _conj(a), d) if e[1] else None
        return ga, gb, None


def _linalg_cross(input, other, dim, fname: str = "linalg.cross"):
    _check_tensor(input, fname)
    _check_tensor(other, fname, "other", 2)
    if input._data.ndim != other._data.ndim:
        raise RuntimeError(f"{fname}: inputs must have the same number of dimensions.")
    sa, sb = input._data.shape, other._data.shape
    d = _util.wrap_dim(dim, len(sa))
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{sa[d]} and {sb[d]}")
    _util.broadcast_shapes_or_raise(sa, sb)
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"expected scalar type {_sname(input)} but found {_sname(other)}")
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    _util.check_same_device(input, other)
    return Cross.apply(input, other, d)


def linalg_cross(input, other, *, dim=-1, out=None) -> Tensor:
    """``torch.linalg.cross``: 3-vector cross product along ``dim`` (broadcasting)."""
    r = _linalg_cross(input, other, dim)
    return r if out is None else write_out(out, r, "linalg_cross")


def cross(input, other, dim=None, *, out=None) -> Tensor:
    """``torch.cross``: like ``linalg.cross``, but ``dim=None`` (deprecated, with PyTorch's
    warning) picks the first dimension of size 3."""
    _check_tensor(input, "cross")
    _check_tensor(other, "cross", "other", 2)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        shape = _util.broadcast_shapes_or_raise(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    r = _linalg_cross(input, other, dim)
    return r if out is None else write_out(out, r, "cross")


class Trace(Op, name="TraceBackward0"):
    @staticmethod
    def forward(ctx, a, npd):
        ctx.shape = a.shape
        xp = array_module(a)
        acc = np.float32 if a.dtype in _HALF else npd
        return xp.trace(a, dtype=acc).astype(npd)

    @staticmethod
    def backward(ctx, g):
        n, m = ctx.shape
        return g * _eye(g, n, m), None


def trace(input) -> Tensor:
    """``torch.trace``: sum of the main diagonal of a matrix (integers sum to int64)."""
    _check_tensor(input, "trace")
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{input._data.ndim}")
    _no_bool(input, "trace")
    npd = np.dtype(np.int64) if input._data.dtype.kind in "iu" else input._data.dtype
    return Trace.apply(input, npd)


# --- einsum -----------------------------------------------------------------------------------

# Label order of PyTorch's implicit-mode output: upper case sorts before lower case.
_LABELS = string.ascii_uppercase + string.ascii_lowercase


class Einsum(Op, name="EinsumBackward0"):
    """``einsum`` on explicit, broadcast-free subscripts (``spec = (inputs, output)``).

    The gradient of operand ``k`` is itself an einsum of the upstream gradient with the other
    operands; a label repeated within operand ``k`` (a diagonal) is given a fresh label tied to
    the original by an identity matrix, and labels that appear nowhere else (summed out of
    operand ``k`` alone) are broadcast back.
    """

    @staticmethod
    def forward(ctx, spec, *arrays):
        ins, out = spec
        e = ctx._edges
        if e and len(arrays) > 1:
            ctx.save_for_backward(*arrays)
        ctx.spec = spec
        ctx.sizes = {c: n for sub, a in zip(ins, arrays) for c, n in zip(sub, a.shape)}
        return _einsum_arrays(ins, out, arrays)

    @staticmethod
    def backward(ctx, g):
        ins, out = ctx.spec
        saved = ctx.saved_tensors if len(ins) > 1 else ()
        e = ctx._edges
        sizes = ctx.sizes
        used = set("".join(ins)) | set(out)
        fresh = (c for c in _LABELS if c not in used)
        grads = [None]
        for k, sub in enumerate(ins):
            if not e[k + 1]:
                grads.append(None)
                continue
            subs, ops = [out], [g]
            for j, other in enumerate(ins):
                if j != k:
                    subs.append(other)
                    ops.append(_conj(saved[j]))
            target = []
            for c in sub:
                if c in target:  # a diagonal: d(out)/d(A[i, j]) needs i == j
                    f = next(fresh)
                    subs.append(c + f)
                    ops.append(_eye(g, sizes[c]))
                    target.append(f)
                else:
                    target.append(c)
            avail = set("".join(subs))
            present = [c for c in target if c in avail]
            r = Einsum.apply((tuple(subs), "".join(present)), *ops)
            if len(present) < len(target):
                full = tuple(sizes[c] for c in sub)
                r = _shape.reshape(r, tuple(n if c in avail else 1 for c, n in zip(target, full)))
                r = _shape.expand(r, full)
            grads.append(r)
        return tuple(grads)


def _einsum_arrays(ins, out, arrays):
    xp = array_module(arrays[0])
    dt = arrays[0].dtype
    if dt in _HALF:
        arrays = [a.astype(np.float32) for a in arrays]
    eq = ",".join(ins) + "->" + out
    # an optimized path contracts pairwise through tensordot (BLAS); one operand needs none.
    # torch.backends.opt_einsum picks the order of three or more.
    r = xp.asarray(xp.einsum(eq, *arrays, optimize=_opt_einsum.contraction_order(len(arrays))))
    if len(arrays) == 1 and (r is arrays[0] or r.base is not None):
        r = r.copy()  # a single-operand einsum may return a view of its input
    return r.astype(dt, copy=False)


def _einsum_parse_term(term: str, start: int, what: str):
    """Labels of one term (``None`` marks the ellipsis) and where the term starts in the
    equation (for PyTorch's index in error messages)."""
    labels = []
    i = 0
    ell = False
    while i < len(term):
        c = term[i]
        if c == ".":
            if ell:
                raise RuntimeError(f"einsum(): found '.' for {what} "
                                   + ("for which an ellipsis was already found" if what != "output"
                                      else "but an ellipsis (...) was already found"))
            if term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for {what} that is not part of any "
                                   + ("ellipsis (...)" if what == "output" else "ellipsis"))
            ell = True
            labels.append(None)
            i += 3
            continue
        if c == " ":
            i += 1
            continue
        if c not in _LABELS:
            raise RuntimeError(f"einsum(): invalid subscript given at index {start + i} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
        labels.append(c)
        i += 1
    return labels


def _einsum_from_sublists(args):
    """``einsum(op0, sub0, op1, sub1, ..., [out])`` -> (equation, operands)."""
    def conv(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
                continue
            if not isinstance(v, (int, np.integer)) or not 0 <= v < 52:
                raise ValueError("einsum(): subscript in subscript list is not within the valid "
                                 "range [0, 52)")
            s += _LABELS[int(v)]
        return s

    ops, terms = [], []
    args = list(args)
    while len(args) >= 2:
        ops.append(args.pop(0))
        terms.append(conv(args.pop(0)))
    eq = ",".join(terms)
    if args:
        eq += "->" + conv(args[0])
    return eq, ops


def einsum(*args) -> Tensor:
    """``torch.einsum``: Einstein summation with ellipsis, implicit output, repeated labels
    (diagonals), size-1 broadcasting and the sublist format, like PyTorch."""
    if not args or (len(args) == 1 and isinstance(args[0], str)):
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        eq = args[0]
        ops = list(args[1]) if len(args) == 2 and isinstance(args[1], (list, tuple)) \
            else list(args[1:])
    else:
        eq, ops = _einsum_from_sublists(args)
    for i, t in enumerate(ops):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, but found "
                            f"element of type {type(t).__name__} at pos {i}")
    arrow = eq.find("->")
    lhs = eq if arrow < 0 else eq[:arrow]
    terms, pos = [], 0
    for part in lhs.split(","):
        terms.append((part, pos))
        pos += len(part) + 1
    if len(terms) > len(ops):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(ops):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    parsed = [_einsum_parse_term(t, p, f"operand {i}") for i, (t, p) in enumerate(terms)]
    out_parsed = None
    if arrow >= 0:
        out_parsed = _einsum_parse_term(eq[arrow + 2:], arrow + 2, "output")
    # expand ellipses into labels of their own ("0", "1", ... never clash with letters)
    ell_n = 0
    for i, (labels, t) in enumerate(zip(parsed, ops)):
        n_named = sum(1 for c in labels if c is not None)
        nd = t._data.ndim
        if None in labels:
            if n_named > nd:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({n_named}) is more than the number of dimensions ({nd}) "
                                   f"for operand {i}")
            ell_n = max(ell_n, nd - n_named)
        elif n_named != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n_named}) "
                               f"does not match the number of dimensions ({nd}) for operand "
                               f"{i} and no ellipsis was given")
    ell_labels = [str(j) for j in range(ell_n)]
    full = []
    for labels, t in zip(parsed, ops):
        k = t._data.ndim - sum(1 for c in labels if c is not None)
        exp = []
        for c in labels:
            exp.extend(ell_labels[ell_n - k:] if c is None else [c])
        full.append(exp)
    # sizes: size-1 dims broadcast, other mismatches raise PyTorch's errors
    sizes: dict = {}
    for i, (labels, t) in enumerate(zip(full, ops)):
        shp = t._data.shape
        seen: dict = {}
        for c, n in zip(labels, shp):
            if c in seen and seen[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the "
                                   f"sizes don't match, {n} != {seen[c]}")
            seen[c] = n
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                if c.isdigit():
                    raise RuntimeError(f"einsum(): dimension {c} covered by ellipsis in operand "
                                       f"{i}has size {n} which does not broadcast with "
                                       f"previously seen ellipsis with size {prev} for the "
                                       "respective dimension")
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {prev}")
    if out_parsed is None:
        counts: dict = {}
        for labels in full:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        out = ell_labels + sorted((c for c, n in counts.items() if n == 1 and not c.isdigit()),
                                  key=_LABELS.index)
    else:
        out = []
        for c in out_parsed:
            if c is None:
                out.extend(ell_labels)
                continue
            if c in out:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
            out.append(c)
    for t in ops[1:]:
        if t._data.dtype != ops[0]._data.dtype:
            raise RuntimeError(f"expected scalar type {_sname(ops[0])} but found {_sname(t)}")
    _util.check_same_device(*ops)
    if len(ops) > 1 or len(set(full[0])) != len(full[0]) or set(full[0]) != set(out):
        _no_bool(ops[0], "bmm")
    # map every label to a letter for the array library; drop broadcast (size-1) dims
    names = [c for c in sizes if not c.isdigit()]
    spare = iter(c for c in _LABELS if c not in names)
    letter = {c: (c if not c.isdigit() else next(spare, None)) for c in sizes}
    if None in letter.values():
        raise RuntimeError("einsum(): too many subscripts (at most 52 distinct labels)")
    new_ops, ins = [], []
    for labels, t in zip(full, ops):
        keep = [j for j, c in enumerate(labels) if not (t._data.shape[j] == 1 and sizes[c] != 1)]
        if len(keep) != len(labels):
            t = _shape.reshape(t, tuple(t._data.shape[j] for j in keep))
        new_ops.append(t)
        ins.append("".join(letter[labels[j]] for j in keep))
    return Einsum.apply((tuple(ins), "".join(letter[c] for c in out)), *new_ops)


# --- chains of products -----------------------------------------------------------------------

def _chain_order(shapes):
    """Optimal parenthesization of a matrix chain (the classic O(n^3) dynamic program)."""
    n = len(shapes)
    p = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(ts, split, i, j):
    if i == j:
        return ts[i]
    k = split[i][j]
    return Mm.apply(_chain(ts, split, i, k), _chain(ts, split, k + 1, j))


def multi_dot(tensors, *, out=None) -> Tensor:
    """``torch.linalg.multi_dot``: a chain of matrix products in the cheapest order; the first
    argument may be a row vector and the last a column vector (1-D)."""
    ts = list(tensors)
    n = len(ts)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(ts):
        _check_tensor(t, "multi_dot", "tensors", 1)
        nd = t._data.ndim
        if i == 0 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {nd}D")
        if i == n - 1 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {nd}D")
        if 0 < i < n - 1 and nd != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
    for i, t in enumerate(ts[1:], 1):
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {_cname(ts[0])} and tensor {i} {_cname(t)}")
    _util.check_same_device(*ts)
    first_vec, last_vec = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if first_vec:
        ts[0] = _shape.unsqueeze(ts[0], 0)
    if last_vec:
        ts[-1] = _shape.unsqueeze(ts[-1], 1)
    for i in range(n - 1):
        sa, sb = ts[i]._data.shape, ts[i + 1]._data.shape
        if sa[1] != sb[0]:
            ra = list(tensors[i].shape)
            rb = list(tensors[i + 1].shape)
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {ra} and {rb} "
                               "cannot be multiplied")
    _no_bool(ts[0], "addmm_impl_cpu_")
    shapes = [t._data.shape for t in ts]
    r = _chain(ts, _chain_order(shapes), 0, n - 1)
    if first_vec and last_vec:
        r = _shape.reshape(r, ())
    elif first_vec:
        r = _shape.squeeze(r, 0)
    elif last_vec:
        r = _shape.squeeze(r, 1)
    return r if out is None else write_out(out, r, "linalg_multi_dot")


_chain_warned = False


def chain_matmul(*matrices, out=None) -> Tensor:
    """``torch.chain_matmul`` (deprecated in PyTorch for ``linalg.multi_dot``; warns once)."""
    global _chain_warned
    if not _chain_warned:
        _chain_warned = True
        warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                      "release. Use torch.linalg.multi_dot instead, which accepts a list of two "
                      "or more tensors rather than multiple parameters.", UserWarning,
                      stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for t in matrices:
        _check_tensor(t, "chain_matmul", "matrices", 1)
        if t._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t._data.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        from .creation import clone

        r = clone(matrices[0])
    else:
        r = multi_dot(matrices)
    return r if out is None else write_out(out, r, "chain_matmul")


def _check_square(A: Tensor, fname: str, arg: str = "A") -> None:
    s = A._data.shape
    if len(s) < 2:
        raise RuntimeError(f"{fname}: The input tensor {arg} must have at least 2 dimensions.")
    if s[-1] != s[-2]:
        raise RuntimeError(f"{fname}: {arg} must be batches of square matrices, but they are "
                           f"{s[-2]} by {s[-1]} matrices")


class PowerZero(Op, name="CopyBackwards"):
    """``A^0``: identity matrices that still belong to the graph (zero gradient), as in
    PyTorch."""

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        ctx.shape = a.shape
        return xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()

    @staticmethod
    def backward(ctx, g):
        return _const(array_module(g._data).zeros(ctx.shape, dtype=g._data.dtype))


def matrix_power(input, n: int, *, out=None) -> Tensor:
    """``torch.linalg.matrix_power``/``torch.matrix_power``: ``A^n`` by repeated squaring;
    negative ``n`` inverts first, ``n = 0`` gives identities."""
    _check_tensor(input, "matrix_power")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    _check_square(input, "linalg.matrix_power")
    n = int(n)
    if n == 0:
        r = PowerZero.apply(input)
        return r if out is None else write_out(out, r, "linalg_matrix_power")
    a = input
    if n < 0:
        a = linalg_inv(input)
        n = -n
    if n == 1:
        from .creation import clone

        r = clone(a)
        return r if out is None else write_out(out, r, "linalg_matrix_power")
    _no_bool(a, "addmm_impl_cpu_")
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else _bmat(result, base)
        n >>= 1
        if n:
            base = _bmat(base, base)
    return result if out is None else write_out(out, result, "linalg_matrix_power")


# ---------------------------------------------------------------------------------------------
# decompositions and solvers
# ---------------------------------------------------------------------------------------------

# LAPACK kernels PyTorch names when a half-precision input reaches them
_HALF_KERNEL = {"linalg.det": "lu_cpu", "linalg.solve": "lu_cpu", "linalg.solve_ex": "lu_cpu",
                "linalg.cholesky": "cholesky_cpu", "linalg.cholesky_ex": "cholesky_cpu",
                "cholesky": "cholesky_cpu", "linalg.qr": "geqrf_cpu",
                "linalg.svd": "linalg_svd_cpu", "linalg.eig": "linalg_eig_out_cpu",
                "linalg.eigvals": "linalg_eig_out_cpu"}


def _check_float(A: Tensor, fname: str, what: str = "input") -> None:
    """PyTorch's dtype checks of the LAPACK-backed functions."""
    dt = A.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as {what}. "
                           f"Got {_sname(A)}")
    if A._data.dtype in _HALF:
        kernel = _HALF_KERNEL.get(fname)
        if kernel is not None:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_sname(A)}\'')
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {_sname(A)}")


def _check_la(A, fname: str, square: bool = True, arg: str = "A") -> None:
    _check_tensor(A, fname.split(".")[-1], arg if arg != "A" else "input")
    if square:
        _check_square(A, fname, arg)
    elif A._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {arg} must have at least 2 dimensions.")
    _check_float(A, fname)


def _la(a):
    """The ``linalg`` module of ``a``'s array library."""
    return array_module(a).linalg


def _to_host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def _batch_prefix(info, n_batch_dims: int) -> str:
    """PyTorch's ``(Batch element i): `` prefix naming the first failing matrix."""
    if n_batch_dims == 0:
        return ""
    return f"(Batch element {int(np.flatnonzero(info.reshape(-1))[0])}): "


def _lu_info(a):
    """LAPACK ``getrf``'s ``info`` per matrix: 1 + index of the first exactly zero pivot of
    the LU factorization with partial pivoting (0 when nonsingular).

    Only called after a solver reported a singular matrix, to phrase PyTorch's error; the loop
    runs over pivot columns, vectorized over the batch.
    """
    a = _to_host(a)
    n = a.shape[-1]
    batch = a.shape[:-2]
    m = np.array(a.reshape((-1, n, n)), copy=True)
    rows = np.arange(m.shape[0])
    info = np.zeros(m.shape[0], dtype=np.int32)
    for k in range(n):
        p = np.argmax(np.abs(m[:, k:, k]), axis=1) + k
        tmp = m[rows, k].copy()
        m[rows, k] = m[rows, p]
        m[rows, p] = tmp
        piv = m[:, k, k]
        zero = piv == 0
        info[(info == 0) & zero] = k + 1
        lk = m[:, k + 1:, k] / np.where(zero, 1, piv)[:, None]
        lk[zero] = 0
        m[:, k + 1:, k + 1:] -= lk[:, :, None] * m[:, k, None, k + 1:]
    return info.reshape(batch)


def _chol_info(a):
    """LAPACK ``potrf``'s ``info``: the order of the first leading minor that is not positive
    definite (0 when the matrix is positive definite). Error path only."""
    a = _to_host(a)
    n = a.shape[-1]
    info = np.zeros(a.shape[:-2], dtype=np.int32)
    for k in range(1, n + 1):
        sign, _ = np.linalg.slogdet(a[..., :k, :k])
        bad = (np.real(sign) <= 0) & (info == 0)
        info[bad] = k
    return info


def _singular_error(fname: str, info, nb: int, kind: str = "inv"):
    pre = _batch_prefix(info, nb)
    k = int(info.reshape(-1)[np.flatnonzero(info.reshape(-1))[0]])
    if kind == "inv":
        return LinAlgError(f"{fname}: {pre}The diagonal element {k} is zero, the inversion could "
                           "not be completed because the input matrix is singular.")
    return LinAlgError(f"{fname}: {pre}The solver failed because the input matrix is singular.")


def _inv_arrays(a, fname: str, check: bool):
    """Inverse and ``info`` (int32 per matrix); raises PyTorch's error when ``check``."""
    xp = array_module(a)
    la = xp.linalg
    info = None
    try:
        r = la.inv(a)
        if xp is not np and not bool(xp.isfinite(r).all()):
            info = _lu_info(a)
    except np.linalg.LinAlgError:
        info = _lu_info(a)
    if info is not None and info.any():
        if check:
            raise _singular_error(fname, info, a.ndim - 2)
        # invert the nonsingular matrices; the singular ones get NaNs (PyTorch's are garbage)
        bad = xp.asarray(info != 0)[..., None, None]
        eye = xp.eye(a.shape[-1], dtype=a.dtype)
        r = la.inv(xp.where(bad, eye, a))
        r = xp.where(bad, xp.asarray(np.nan, dtype=r.dtype), r)
    else:
        info = np.zeros(a.shape[:-2], dtype=np.int32)
    return r, xp.asarray(info)


class Inv(Op, name="LinalgInvExBackward0"):
    @staticmethod
    def forward(ctx, a, check):
        r, info = _inv_arrays(a, "linalg.inv", check)
        if ctx._edges:
            ctx.save_for_backward(r)
        ctx.mark_non_differentiable(info)
        return r, info

    @staticmethod
    def backward(ctx, g, _ginfo):
        (r,) = ctx.saved_tensors
        rh = _mH(r)
        return -_bmat(_bmat(rh, g), rh), None


def linalg_inv_ex(A, *, check_errors: bool = False, out=None):
    """``torch.linalg.inv_ex``: ``(inverse, info)``; ``info[i] > 0`` marks singular matrices."""
    from .. import return_types

    _check_la(A, "linalg.inv")
    inv_, info = Inv.apply(A, check_errors)
    if out is not None:
        write_out(out[0], inv_, "linalg_inv_ex")
        write_out(out[1], info, "linalg_inv_ex")
        return return_types.linalg_inv_ex_out((out[0], out[1]))
    return return_types.linalg_inv_ex((inv_, info))


def linalg_inv(A, *, out=None) -> Tensor:
    """``torch.linalg.inv``: raises ``LinAlgError`` naming the zero pivot, like PyTorch."""
    _check_la(A, "linalg.inv")
    r = Inv.apply(A, True)[0]
    return r if out is None else write_out(out, r, "linalg_inv")


def inverse(input, *, out=None) -> Tensor:
    """``torch.inverse``: same as ``torch.linalg.inv``."""
    return linalg_inv(input, out=out)


# --- solve ------------------------------------------------------------------------------------

def _bcast_batch(a, b):
    """Broadcast the batch dims of two stacks of matrices explicitly (CuPy's solvers, unlike
    NumPy's, do not broadcast)."""
    if a.shape[:-2] == b.shape[:-2]:
        return a, b
    xp = array_module(a)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])


class Solve(Op, name="LinalgSolveExBackward0"):
    """``A X = B`` for batches of matrices ``B`` (vector right-hand sides are unsqueezed by the
    caller); batch dims broadcast."""

    @staticmethod
    def forward(ctx, a_in, b_in, check):
        xp = array_module(a_in)
        a, b = _bcast_batch(a_in, b_in)
        info = None
        try:
            x = xp.linalg.solve(a, b)
            if xp is not np and not bool(xp.isfinite(x).all()):
                info = _lu_info(a)
        except np.linalg.LinAlgError:
            info = _lu_info(a)
        if info is not None and info.any():
            if check:
                raise _singular_error("torch.linalg.solve", info, a.ndim - 2, "solve")
            bad = xp.asarray(info != 0)[..., None, None]
            x = xp.linalg.solve(xp.where(bad, xp.eye(a.shape[-1], dtype=a.dtype), a), b)
            x = xp.where(bad, xp.asarray(np.nan, dtype=x.dtype), x)
        else:
            info = np.zeros(a.shape[:-2], dtype=np.int32)
        info = xp.asarray(info)
        e = ctx._edges
        if e:
            ctx.save_for_backward(a_in, x if e[0] else None)
        ctx.mark_non_differentiable(info)
        return x, info

    @staticmethod
    def backward(ctx, g, _ginfo):
        a, x = ctx.saved_tensors
        e = ctx._edges
        gb = Solve.apply(_mH(a), g, True)[0]
        ga = -_bmat(gb, _mH(x)) if e[0] else None
        return ga, (gb if e[1] else None), None


def _solve(A, B, left: bool, check: bool, fname: str):
    _check_tensor(A, fname.split(".")[-1], "A", 1)
    _check_tensor(B, fname.split(".")[-1], "B", 2)
    _check_square(A, fname)
    _check_float(A, fname)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{fname}: Expected A and B to have the same dtype, but found A of "
                           f"type {_sname(A)} and B of type {_sname(B)} instead")
    _util.check_same_device(A, B)
    sa, sb = A._data.shape, B._data.shape
    # PyTorch's rule: B is a (batch of) vector(s) if it is 1-D or has A's shape minus one dim
    vec = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and sb == sa[:-1])
    b = _shape.unsqueeze(B, -1) if vec else B
    n = sa[-1]
    if b._data.shape[-2 if left else -1] != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({sa[-2]}x{sa[-1]} and {_shape_str(b._data.shape[-2:])})")
    _util.broadcast_shapes_or_raise(sa[:-2], b._data.shape[:-2])
    if left:
        x, info = Solve.apply(A, b, check)
    else:  # X A = B  <=>  A^T X^T = B^T
        x, info = Solve.apply(_mT(A), _mT(b), check)
        x = _mT(x)
    if vec:
        x = _shape.squeeze(x, -1)
    return x, info


def linalg_solve(A, B, *, left: bool = True, out=None) -> Tensor:
    """``torch.linalg.solve``: ``A X = B`` (``left=False``: ``X A = B``); ``B`` may be a
    (batch of) vector(s); batch dims broadcast; singular ``A`` raises ``LinAlgError``."""
    x, _ = _solve(A, B, left, True, "linalg.solve")
    return x if out is None else write_out(out, x, "linalg_solve")


def linalg_solve_ex(A, B, *, left: bool = True, check_errors: bool = False, out=None):
    """``torch.linalg.solve_ex``: ``(result, info)``."""
    from .. import return_types

    x, info = _solve(A, B, left, check_errors, "linalg.solve")
    if out is not None:
        write_out(out[0], x, "linalg_solve_ex")
        write_out(out[1], info, "linalg_solve_ex")
        return return_types.linalg_solve_ex_out((out[0], out[1]))
    return return_types.linalg_solve_ex((x, info))


# --- triangular solves --------------------------------------------------------------------------

def _tri_arrays(a, upper: bool, unit: bool):
    xp = array_module(a)
    n = a.shape[-1]
    t = xp.triu(a) if upper else xp.tril(a)
    if unit:
        t = t * (1 - xp.eye(n, dtype=a.dtype)) + xp.eye(n, dtype=a.dtype)
    return t


def _substitute(t, b, upper: bool):
    """Back/forward substitution (division by a zero pivot gives inf/nan as in LAPACK's
    ``trsm``); only used when the solver refuses an exactly singular triangle."""
    xp = array_module(t)
    shape = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    n = t.shape[-1]
    t = xp.broadcast_to(t, shape + t.shape[-2:])
    x = xp.array(xp.broadcast_to(b, shape + b.shape[-2:]), dtype=xp.result_type(t, b))
    order = range(n - 1, -1, -1) if upper else range(n)
    done = []
    for i in order:
        acc = x[..., i, :]
        if done:
            acc = acc - xp.einsum("...j,...jk->...k", t[..., i, done], x[..., done, :])
        x[..., i, :] = acc / t[..., i, i, None]
        done.append(i)
    return x


class SolveTriangular(Op, name="LinalgSolveTriangularBackward0"):
    """``A X = B`` with triangular ``A`` (``left=False`` callers transpose)."""

    @staticmethod
    def forward(ctx, a, b, upper, unit):
        t, bb = _bcast_batch(_tri_arrays(a, upper, unit), b)
        xp = array_module(a)
        try:
            x = xp.linalg.solve(t, bb)
        except np.linalg.LinAlgError:
            x = _substitute(t, b, upper)
        e = ctx._edges
        if e:
            ctx.save_for_backward(a, x if e[0] else None)
        ctx.upper, ctx.unit = upper, unit
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        e = ctx._edges
        upper, unit = ctx.upper, ctx.unit
        gb = SolveTriangular.apply(_mH(a), g, not upper, unit)
        ga = None
        if e[0]:
            ga = -_bmat(gb, _mH(x))
            ga = _triu(ga, 1 if unit else 0) if upper else _tril(ga, -1 if unit else 0)
        return ga, (gb if e[1] else None), None, None


def solve_triangular(A, B, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     out=None) -> Tensor:
    """``torch.linalg.solve_triangular``: only the ``upper``/lower triangle of ``A`` is read
    (with ones on the diagonal if ``unitriangular``)."""
    fname = "linalg.solve_triangular"
    _check_tensor(A, "solve_triangular")
    _check_tensor(B, "solve_triangular", "B", 2)
    if B._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor B must have at least 2 dimensions.")
    _check_square(A, fname)
    if not (A.dtype.is_floating_point or A.dtype.is_complex) or A._data.dtype in _HALF:
        raise NotImplementedError(f'"triangular_solve_cpu" not implemented for \'{_sname(A)}\'')
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{fname}: Expected A and B to have the same dtype, but found A of "
                           f"type {_sname(A)} and B of type {_sname(B)} instead")
    _util.check_same_device(A, B)
    sa, sb = A._data.shape, B._data.shape
    if (sb[-2] if left else sb[-1]) != sa[-1]:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({sa[-2]}x{sa[-1]} and {sb[-2]}x{sb[-1]})")
    _util.broadcast_shapes_or_raise(sa[:-2], sb[:-2])
    if left:
        x = SolveTriangular.apply(A, B, bool(upper), bool(unitriangular))
    else:
        x = _mT(SolveTriangular.apply(_mT(A), _mT(B), not upper, bool(unitriangular)))
    return x if out is None else write_out(out, x, "linalg_solve_triangular")


_tri_warned = False


def triangular_solve(b, A, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False, *, out=None):
    """``torch.triangular_solve`` (deprecated in PyTorch, which warns once): returns
    ``(solution, cloned_coefficient)``."""
    global _tri_warned
    from .. import return_types
    from .creation import clone

    if not _tri_warned:
        _tri_warned = True
        warnings.warn("torch.triangular_solve is deprecated in favor of "
                      "torch.linalg.solve_triangularand will be removed in a future PyTorch "
                      "release.\ntorch.linalg.solve_triangular has its arguments reversed and "
                      "does not return a copy of one of the inputs.\nX = "
                      "torch.triangular_solve(B, A).solution\nshould be replaced with\nX = "
                      "torch.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    a = _mT(A) if transpose else A
    x = solve_triangular(a, b, upper=bool(upper) != bool(transpose), unitriangular=unitriangular)
    res = (x, clone(A))
    if out is not None:
        write_out(out[0], res[0], "triangular_solve")
        write_out(out[1], res[1], "triangular_solve")
        return return_types.triangular_solve_out((out[0], out[1]))
    return return_types.triangular_solve(res)


# --- determinants -----------------------------------------------------------------------------

class Det(Op, name="LinalgDetBackward0"):
    @staticmethod
    def forward(ctx, a):
        d = array_module(a).asarray(_la(a).det(a))  # 0-d array, so it is saved as the output
        if ctx._edges:
            ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        return _det_backward(g, a, d)


def _det_backward(g: Tensor, a: Tensor, d: Tensor) -> Tensor:
    """d det(A) / dA = adj(A)^H: ``det * A^{-H}`` through a solve when every matrix is
    invertible, else (rank-deficient matrices have a nonzero adjugate) through the SVD
    ``A = U S V^H``: ``adj(A)^H = det(U) det(V^H) U diag(prod_{j != i} s_j) V^H``."""
    n = a._data.shape[-1]
    scaled = _shape.unsqueeze(_shape.unsqueeze(g * _conj(d), -1), -1)
    if bool(array_module(d._data).all(d._data != 0)):
        return Solve.apply(_mH(a), scaled * _eye(a, n), True)[0]
    from .reduction import prod

    u, s, vh = linalg_svd(a, full_matrices=False)
    xp = array_module(a._data)
    phase = _const(xp.linalg.det(u._data) * xp.linalg.det(vh._data))
    off = 1 - _eye(s, n)
    # row i of the matrix holds s_j for j != i and 1 on the diagonal
    others = prod(_shape.unsqueeze(s, -2) * off + _eye(s, n), -1)
    c = others * _shape.unsqueeze(_conj(phase), -1)
    return scaled * _bmat(u * _shape.unsqueeze(_util.cast(c, u.dtype), -2), vh)


def linalg_det(A, *, out=None) -> Tensor:
    """``torch.linalg.det`` (gradients also for singular matrices, like PyTorch)."""
    _check_la(A, "linalg.det")
    r = Det.apply(A)
    return r if out is None else write_out(out, r, "linalg_det")


def det(input) -> Tensor:
    """``torch.det``: same as ``torch.linalg.det``."""
    return linalg_det(input)


class Slogdet(Op, name="LinalgSlogdetBackward0"):
    @staticmethod
    def forward(ctx, a):
        sign, lad = _la(a).slogdet(a)
        xp = array_module(a)
        sign, lad = xp.asarray(sign), xp.asarray(lad)
        if ctx._edges:
            ctx.save_for_backward(a, sign)
        return sign, lad

    @staticmethod
    def backward(ctx, gsign, glad):
        a, sign = ctx.saved_tensors
        n = a._data.shape[-1]
        if a.is_complex():
            # d logabsdet = Re tr(A^-1 dA), d sign = i sign Im tr(A^-1 dA)
            from .pointwise import imag

            w = _util.cast(glad, a.dtype) if glad is not None else None
            if gsign is not None:
                t = 1j * imag(_conj(sign) * gsign)
                w = t if w is None else w + t
        else:  # a real sign is piecewise constant: no gradient
            w = glad
        if w is None:
            return None
        w = _shape.unsqueeze(_shape.unsqueeze(w, -1), -1)
        return Solve.apply(_mH(a), w * _eye(a, n), True)[0]


def linalg_slogdet(A, *, out=None):
    """``torch.linalg.slogdet``: ``(sign, logabsdet)``; ``logabsdet`` is real."""
    from .. import return_types

    _check_la(A, "linalg.slogdet")
    sign, lad = Slogdet.apply(A)
    if out is not None:
        write_out(out[0], sign, "linalg_slogdet")
        write_out(out[1], lad, "linalg_slogdet")
        return return_types.linalg_slogdet_out((out[0], out[1]))
    return return_types.linalg_slogdet((sign, lad))


def slogdet(input, *, out=None):
    """``torch.slogdet``: as ``torch.linalg.slogdet``, with PyTorch's ``slogdet`` result type."""
    from .. import return_types

    _check_la(input, "linalg.slogdet")
    sign, lad = Slogdet.apply(input)
    if out is not None:
        write_out(out[0], sign, "slogdet")
        write_out(out[1], lad, "slogdet")
        return return_types.slogdet_out((out[0], out[1]))
    return return_types.slogdet((sign, lad))


def logdet(input) -> Tensor:
    """``torch.logdet``: ``log(det(A))`` (NaN for a negative real determinant, -inf for a
    singular matrix)."""
    _check_la(input, "logdet")
    sign, lad = Slogdet.apply(input)
    if input.is_complex():
        from .pointwise import log

        return log(sign) + _util.cast(lad, input.dtype)
    # log(sign) is 0 (sign 1), NaN (sign -1) or -inf (sign 0): a constant of the graph
    return lad + _const(array_module(sign._data).log(sign._data))


# --- Cholesky -----------------------------------------------------------------------------------

def _cholesky_arrays(a, fname: str, check: bool):
    xp = array_module(a)
    info = None
    try:
        low = xp.linalg.cholesky(a)
        if xp is not np and not bool(xp.isfinite(low).all()):
            info = _chol_info(a)
    except np.linalg.LinAlgError:
        info = _chol_info(a)
    if info is not None and info.any():
        if check:
            k = int(info.reshape(-1)[np.flatnonzero(info.reshape(-1))[0]])
            raise LinAlgError(f"{fname}: {_batch_prefix(info, a.ndim - 2)}The factorization could "
                              "not be completed because the input is not positive-definite "
                              f"(the leading minor of order {k} is not positive-definite).")
        bad = xp.asarray(info != 0)[..., None, None]
        low = xp.linalg.cholesky(xp.where(bad, xp.eye(a.shape[-1], dtype=a.dtype), a))
        low = xp.where(bad, xp.asarray(np.nan, dtype=low.dtype), low)
    else:
        info = np.zeros(a.shape[:-2], dtype=np.int32)
    return low, xp.asarray(info)


class Cholesky(Op, name="LinalgCholeskyExBackward0"):
    @staticmethod
    def forward(ctx, a, upper, check, fname):
        low, info = _cholesky_arrays(a, fname, check)
        ctx.upper = upper
        r = low if not upper else array_module(a).ascontiguousarray(
            low.conj().swapaxes(-1, -2))
        if ctx._edges:
            ctx.save_for_backward(r)
        ctx.mark_non_differentiable(info)
        return r, info

    @staticmethod
    def backward(ctx, g, _ginfo):
        (r,) = ctx.saved_tensors
        low, gl = (_mH(r), _mH(g)) if ctx.upper else (r, g)
        return _cholesky_backward(gl, low), None, None, None


def _cholesky_backward(gl: Tensor, low: Tensor) -> Tensor:
    """A = L L^H: gA = sym(L^-H Phi(L^H gL) L^-1), Phi taking the lower triangle with a halved
    diagonal (Murray, "Differentiation of the Cholesky decomposition", 2016)."""
    n = low._data.shape[-1]
    m = _bmat(_mH(low), gl)
    phi = _tril(m)
    phi = phi - 0.5 * phi * _eye(phi, n)
    if low.is_complex():
        # PyTorch keeps the imaginary part of diag(L^H gL) out of the symmetrization below
        from .pointwise import imag

        extra = _diag_embed(_util.cast(imag(_diagonal(m)), m.dtype) * 0.5j)
    else:
        extra = None

    def sandwich(p):  # L^-H p L^-1 with two triangular solves
        x = SolveTriangular.apply(_mH(low), p, True, False)
        return _mH(SolveTriangular.apply(_mH(low), _mH(x), True, False))

    x = sandwich(phi)
    r = 0.5 * (x + _mH(x))
    return r if extra is None else r + sandwich(extra)


def _cholesky(A, upper, check, fname):
    _check_la(A, fname)
    return Cholesky.apply(A, bool(upper), check, fname)


def linalg_cholesky(A, *, upper: bool = False, out=None) -> Tensor:
    """``torch.linalg.cholesky``: lower (or ``upper``) factor; only the lower triangle of ``A``
    is read; a matrix that is not positive-definite raises ``LinAlgError``."""
    r = _cholesky(A, upper, True, "linalg.cholesky")[0]
    return r if out is None else write_out(out, r, "linalg_cholesky")


def linalg_cholesky_ex(A, *, upper: bool = False, check_errors: bool = False, out=None):
    """``torch.linalg.cholesky_ex``: ``(L, info)``, ``info > 0`` for failed matrices."""
    from .. import return_types

    L, info = _cholesky(A, upper, check_errors, "linalg.cholesky")
    if out is not None:
        write_out(out[0], L, "linalg_cholesky_ex")
        write_out(out[1], info, "linalg_cholesky_ex")
        return return_types.linalg_cholesky_ex_out((out[0], out[1]))
    return return_types.linalg_cholesky_ex((L, info))


class CholeskyOld(Cholesky, name="CholeskyBackward0"):
    pass


_chol_warned = False


def cholesky(input, upper: bool = False, *, out=None) -> Tensor:
    """``torch.cholesky`` (deprecated in PyTorch, which warns once)."""
    global _chol_warned
    if not _chol_warned:
        _chol_warned = True
        warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will "
                      "be removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be "
                      "replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, "
                      "upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
                      "This transform will produce equivalent results for all valid (symmetric "
                      "positive definite) inputs.", UserWarning, stacklevel=2)
    _check_tensor(input, "cholesky")
    _check_square(input, "cholesky")
    if input._data.dtype.kind not in "fc" or input._data.dtype in _HALF:
        raise NotImplementedError(f'"cholesky_cpu" not implemented for \'{_sname(input)}\'')
    r = CholeskyOld.apply(input, bool(upper), True, "cholesky")[0]
    return r if out is None else write_out(out, r, "cholesky")


class CholeskySolve(Op, name="CholeskySolveBackward0"):
    """``X = (L L^H)^-1 B`` (or ``(U^H U)^-1 B``) by two triangular solves. Like PyTorch, the
    gradient of the factor is that of ``A = L L^H`` read as a full matrix (not masked to its
    triangle): gL = (gA + gA^H) L with gA = -gB X^H."""

    @staticmethod
    def forward(ctx, b_in, f_in, upper):
        xp = array_module(f_in)
        f, b = _bcast_batch(f_in, b_in)
        fh = f.conj().swapaxes(-1, -2)
        try:
            if upper:
                y = xp.linalg.solve(_tri_arrays(fh, False, False), b)
                x = xp.linalg.solve(_tri_arrays(f, True, False), y)
            else:
                y = xp.linalg.solve(_tri_arrays(f, False, False), b)
                x = xp.linalg.solve(_tri_arrays(fh, True, False), y)
        except np.linalg.LinAlgError:
            lo = fh if upper else f
            y = _substitute(_tri_arrays(lo, False, False), b, False)
            x = _substitute(_tri_arrays(lo.conj().swapaxes(-1, -2), True, False), y, True)
        e = ctx._edges
        if e:
            ctx.save_for_backward(f_in, x if e[1] else None)
        ctx.upper = upper
        return x

    @staticmethod
    def backward(ctx, g):
        f, x = ctx.saved_tensors
        e = ctx._edges
        gb = CholeskySolve.apply(g, f, ctx.upper)
        gf = None
        if e[1]:
            ga = -_bmat(gb, _mH(x))
            ga = ga + _mH(ga)
            gf = _bmat(f, ga) if ctx.upper else _bmat(ga, f)
        return (gb if e[0] else None), gf, None


def cholesky_solve(input, input2, upper: bool = False, *, out=None) -> Tensor:
    """``torch.cholesky_solve``: solve ``A X = B`` given ``B`` (``input``) and the Cholesky
    factor of ``A`` (``input2``; lower unless ``upper``)."""
    _check_tensor(input, "cholesky_solve")
    _check_tensor(input2, "cholesky_solve", "input2", 2)
    if input._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {input._data.ndim} "
                           "dimensions instead")
    if input2._data.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {input2._data.ndim} "
                           "dimensions instead")
    if input._data.dtype != input2._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_sname(input)} and A of type {_sname(input2)} instead.")
    _check_square(input2, "cholesky_solve", "A")
    if input2._data.dtype.kind not in "fc" or input2._data.dtype in _HALF:
        raise NotImplementedError(f'"cholesky_solve_cpu" not implemented for '
                                  f"'{_sname(input2)}'")
    _util.check_same_device(input, input2)
    if input._data.shape[-2] != input2._data.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{input2._data.shape[-1]} by {input2._data.shape[-1]} but each b "
                           f"matrix is {input._data.shape[-2]} by {input._data.shape[-1]}")
    _util.broadcast_shapes_or_raise(input._data.shape[:-2], input2._data.shape[:-2])
    x = CholeskySolve.apply(input, input2, bool(upper))
    return x if out is None else write_out(out, x, "cholesky_solve")


def cholesky_inverse(input, upper: bool = False, *, out=None) -> Tensor:
    """``torch.cholesky_inverse``: ``(L L^H)^-1`` (or ``(U^H U)^-1``) from a Cholesky factor."""
    _check_tensor(input, "cholesky_inverse")
    if input._data.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor input must have at least 2 "
                           "dimensions.")
    _check_square(input, "cholesky_inverse", "input")
    if input._data.dtype.kind not in "fc" or input._data.dtype in _HALF:
        raise NotImplementedError(f'"cholesky_inverse_out_cpu" not implemented for '
                                  f"'{_sname(input)}'")
    n = input._data.shape[-1]
    eye = _shape.expand(_eye(input, n), input._data.shape)
    r = cholesky_solve(eye, input, upper)
    return r if out is None else write_out(out, r, "cholesky_inverse")


# --- QR -----------------------------------------------------------------------------------------

class Qr(Op, name="LinalgQrBackward0"):
    @staticmethod
    def forward(ctx, a, mode):
        xp = array_module(a)
        if mode == "r":
            r = xp.linalg.qr(a, mode="r")
            q = xp.empty((0,), dtype=a.dtype)
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        ctx.mode = mode
        ctx.shape = a.shape
        if ctx._edges and mode != "r":
            ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        m, n = ctx.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        q, r = ctx.saved_tensors
        return _qr_backward(gq, gr, q, r, m, n), None


def _qr_backward(gq, gr, q: Tensor, r: Tensor, m: int, n: int) -> Tensor:
    """Reverse mode of A = QR (Q: m x k orthonormal columns, R: k x n upper triangular).

    m >= n: gA = (gQ + Q copyltu(M)) R^-H with M = R gR^H - gQ^H Q, where copyltu mirrors
    the lower triangle of M into the upper one (Walter & Lehmann; Liao et al. 2019).
    m < n: A = Q [X | Y] with X square; Y only affects R's right block."""
    if m < n:
        # A = [X | Y] with X square: X = Q U is a square QR and V = Q^H Y, so Y = Q V
        u, v = r[..., :m], r[..., m:]
        gu = None if gr is None else gr[..., :m]
        gv = None if gr is None else gr[..., m:]
        if gv is not None:
            extra = _bmat(_bmat(q, v), _mH(gv))  # V = Q^H Y sends Y gV^H to Q
            gq = extra if gq is None else gq + extra
        gx = _qr_backward(gq, gu, q, u, m, m)
        if gv is not None:
            gy = _bmat(q, gv)
        else:
            gy = _const(array_module(gx._data).zeros(gx._data.shape[:-1] + (n - m,),
                                                       dtype=gx._data.dtype))
        from .shape import cat

        return cat([gx, gy], -1)
    mm_ = None
    if gr is not None:
        mm_ = _bmat(r, _mH(gr))
    if gq is not None:
        t = _bmat(_mH(gq), q)
        mm_ = -t if mm_ is None else mm_ - t
    k = r._data.shape[-2]
    if mm_ is None:
        return None
    low = _tril(mm_, -1)
    copyltu = low + _mH(low) + mm_ * _eye(mm_, k)
    b = _bmat(q, copyltu)
    if gq is not None:
        b = b + gq
    # B R^-H: solve X R^H = B, i.e. R X^H = B^H
    return _mH(SolveTriangular.apply(r, _mH(b), True, False))


_QR_MODES = ("reduced", "complete", "r")


def linalg_qr(A, mode: str = "reduced", *, out=None):
    """``torch.linalg.qr``: ``(Q, R)``; ``mode='r'`` returns an empty ``Q``."""
    from .. import return_types

    _check_la(A, "linalg.qr", square=False)
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    q, r = Qr.apply(A, mode)
    if out is not None:
        write_out(out[0], q, "linalg_qr")
        write_out(out[1], r, "linalg_qr")
        return return_types.linalg_qr_out((out[0], out[1]))
    return return_types.linalg_qr((q, r))


_qr_warned = False


def qr(input, some: bool = True, *, out=None):
    """``torch.qr`` (deprecated ``some`` flag: reduced when True, complete when False)."""
    global _qr_warned
    from .. import return_types

    if not _qr_warned:
        _qr_warned = True
        warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in "
                      "a future PyTorch release.\nThe boolean parameter 'some' has been replaced "
                      "with a string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be "
                      "replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
                      "'complete')", UserWarning, stacklevel=2)
    _check_la(input, "linalg.qr", square=False)
    q, r = Qr.apply(input, "reduced" if some else "complete")
    if out is not None:
        write_out(out[0], q, "qr")
        write_out(out[1], r, "qr")
        return return_types.qr_out((out[0], out[1]))
    return return_types.qr((q, r))


# --- SVD ----------------------------------------------------------------------------------------

def _real_np(npd):
    return np.dtype(np.float32) if npd == np.complex64 else \
        np.dtype(np.float64) if npd == np.complex128 else npd


class Svd(Op, name="LinalgSvdBackward0"):
    @staticmethod
    def forward(ctx, a, full_matrices):
        xp = array_module(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        if ctx._edges:
            ctx.save_for_backward(u, s, vh)
        ctx.shape = a.shape
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        m, n = ctx.shape[-2:]
        k = min(m, n)
        if u._data.shape[-1] != k:  # full_matrices: only the first k singular vectors count
            u = u[..., :k]
            gu = None if gu is None else gu[..., :k]
        if vh._data.shape[-2] != k:
            vh = vh[..., :k, :]
            gvh = None if gvh is None else gvh[..., :k, :]
        return _svd_backward(gu, gs, gvh, u, s, vh, m, n), None


def _svd_backward(gu, gs, gvh, u, s, vh, m: int, n: int) -> Tensor:
    """Reverse mode of A = U diag(S) V^H (Townsend, "Differentiating the singular value
    decomposition", 2016), with F_ij = 1 / (s_j^2 - s_i^2) off the diagonal:
    gA = U [(F o skew(U^H gU)) S + diag(gS) + S (F o skew(V^H gV))] V^H
         + (I - U U^H) gU S^-1 V^H + U S^-1 gV^H (I - V V^H)."""
    k = s._data.shape[-1]
    cdt = u.dtype
    if gu is None and gvh is None:
        core = _diag_embed(_util.cast(gs, cdt))
        return _bmat(_bmat(u, core), vh)
    s2 = s * s
    e = _shape.unsqueeze(s2, -2) - _shape.unsqueeze(s2, -1) + _eye(s, k)
    f_mask = 1 - _eye(s, k)
    s_row = _util.cast(_shape.unsqueeze(s, -2), cdt)  # scales columns
    s_col = _util.cast(_shape.unsqueeze(s, -1), cdt)  # scales rows
    core = None
    if gs is not None:
        core = _diag_embed(_util.cast(gs, cdt))
    v = _mH(vh)
    if gu is not None:
        uhgu = _bmat(_mH(u), gu)
        j = (uhgu - _mH(uhgu)) / _util.cast(e, cdt) * f_mask
        t = j * s_row
        if u.is_complex():
            from .pointwise import imag

            t = t + _diag_embed(_util.cast(imag(_diagonal(uhgu)), cdt) * 1j
                                / _util.cast(s, cdt))
        core = t if core is None else core + t
    if gvh is not None:
        gv = _mH(gvh)
        vhgv = _bmat(vh, gv)
        kk = (vhgv - _mH(vhgv)) / _util.cast(e, cdt) * f_mask
        t = s_col * kk
        core = t if core is None else core + t
    ga = _bmat(_bmat(u, core), vh)
    if gu is not None and m > k:
        proj = gu - _bmat(u, uhgu)
        ga = ga + _bmat(proj / s_row, vh)
    if gvh is not None and n > k:
        proj = gv - _bmat(v, vhgv)
        ga = ga + _bmat(u / s_row, _mH(proj))
    return ga


def linalg_svd(A, full_matrices: bool = True, *, driver=None, out=None):
    """``torch.linalg.svd``: ``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending."""
    from .. import return_types

    _check_la(A, "linalg.svd", square=False)
    u, s, vh = Svd.apply(A, bool(full_matrices))
    if out is not None:
        for o, r in zip(out, (u, s, vh)):
            write_out(o, r, "linalg_svd")
        return return_types.linalg_svd_out(tuple(out))
    return return_types.linalg_svd((u, s, vh))


def _needs_grad(t: Tensor) -> bool:
    from ..autograd.grad_mode import state

    return state.enabled and t._rg


def linalg_svdvals(A, *, driver=None, out=None) -> Tensor:
    """``torch.linalg.svdvals``: singular values (descending); differentiable through the SVD
    when ``A`` requires grad."""
    _check_la(A, "linalg.svd", square=False)
    if _needs_grad(A):
        r = Svd.apply(A, False)[1]
    else:
        a = A._data
        r = Tensor._make(array_module(a).linalg.svd(a, compute_uv=False))
    return r if out is None else write_out(out, r, "linalg_svdvals")


def svd(input, some: bool = True, compute_uv: bool = True, *, out=None):
    """``torch.svd`` (old API): ``(U, S, V)`` with ``V`` (not ``Vh``); ``some=False`` gives
    full ``U``/``V``; ``compute_uv=False`` returns zero-filled ``U`` and ``V``."""
    from .. import return_types

    _check_la(input, "linalg.svd", square=False)
    m, n = input._data.shape[-2:]
    batch = input._data.shape[:-2]
    if compute_uv:
        u, s, vh = Svd.apply(input, not some)
        v = _mH(vh)
    else:
        s = linalg_svdvals(input)
        xp = array_module(input._data)
        # PyTorch returns full-size zero matrices here whatever ``some`` is
        u = _const(xp.zeros(batch + (m, m), dtype=input._data.dtype))
        v = _const(xp.zeros(batch + (n, n), dtype=input._data.dtype))
    res = (u, s, v)
    if out is not None:
        for o, r in zip(out, res):
            write_out(o, r, "svd")
        return return_types.svd_out(tuple(out))
    return return_types.svd(res)


# --- symmetric / general eigenproblems -----------------------------------------------------------

def _check_uplo(UPLO) -> str:
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


class Eigh(Op, name="LinalgEighBackward0"):
    @staticmethod
    def forward(ctx, a, uplo):
        lam, v = array_module(a).linalg.eigh(a, UPLO=uplo)
        if ctx._edges:
            ctx.save_for_backward(lam, v)
        return lam, v

    @staticmethod
    def backward(ctx, glam, gv):
        lam, v = ctx.saved_tensors
        cdt = v.dtype
        n = lam._data.shape[-1]
        core = None
        if glam is not None:
            core = _diag_embed(_util.cast(glam, cdt))
        if gv is not None:
            vhgv = _bmat(_mH(v), gv)
            # E_ij = lam_j - lam_i; only the skew-Hermitian part of V^H gV is determined
            e = _shape.unsqueeze(lam, -2) - _shape.unsqueeze(lam, -1) + _eye(lam, n)
            t = 0.5 * (vhgv - _mH(vhgv)) / _util.cast(e, cdt) * (1 - _eye(lam, n))
            core = t if core is None else core + t
        return _bmat(_bmat(v, core), _mH(v)), None


def linalg_eigh(A, UPLO: str = "L", *, out=None):
    """``torch.linalg.eigh``: ascending eigenvalues and orthonormal eigenvectors of a
    Hermitian matrix, reading the ``UPLO`` triangle."""
    from .. import return_types

    _check_tensor(A, "eigh")
    _check_square(A, "linalg.eigh")
    if not (A.dtype.is_floating_point or A.dtype.is_complex) or A._data.dtype in _HALF:
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for \'{_sname(A)}\'')
    uplo = _check_uplo(UPLO)
    lam, v = Eigh.apply(A, uplo)
    if out is not None:
        write_out(out[0], lam, "linalg_eigh")
        write_out(out[1], v, "linalg_eigh")
        return return_types.linalg_eigh_out((out[0], out[1]))
    return return_types.linalg_eigh((lam, v))


def linalg_eigvalsh(A, UPLO: str = "L", *, out=None) -> Tensor:
    """``torch.linalg.eigvalsh``: eigenvalues of a Hermitian matrix (differentiable through
    ``eigh`` when ``A`` requires grad)."""
    _check_tensor(A, "eigvalsh")
    _check_square(A, "linalg.eigh")
    if not (A.dtype.is_floating_point or A.dtype.is_complex) or A._data.dtype in _HALF:
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for \'{_sname(A)}\'')
    uplo = _check_uplo(UPLO)
    if _needs_grad(A):
        r = Eigh.apply(A, uplo)[0]
    else:
        a = A._data
        r = Tensor._make(array_module(a).linalg.eigvalsh(a, UPLO=uplo))
    return r if out is None else write_out(out, r, "linalg_eigvalsh")


_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128),
               np.dtype(np.complex64): np.dtype(np.complex64),
               np.dtype(np.complex128): np.dtype(np.complex128)}


def _eig_arrays(a, vectors: bool):
    """General eigen-decomposition with LAPACK ``geev`` through NumPy (CuPy has no
    non-symmetric solver: device arrays make a round trip through the host)."""
    xp = array_module(a)
    h = _to_host(a)
    cdt = _COMPLEX_OF[h.dtype]
    if vectors:
        w, v = np.linalg.eig(h)
        res = (w.astype(cdt), v.astype(cdt))
    else:
        res = (np.linalg.eigvals(h).astype(cdt),)
    return tuple(xp.asarray(r) for r in res)


class Eig(Op, name="LinalgEigBackward0"):
    @staticmethod
    def forward(ctx, a, vectors):
        res = _eig_arrays(a, vectors)
        return res if vectors else res[0]

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("ember: the gradient of linalg.eig/linalg.eigvals is not "
                                  "implemented (use linalg.eigh for Hermitian matrices)")


def _check_eig(A, fname):
    _check_tensor(A, fname.split(".")[-1])
    _check_square(A, fname)
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"Unknown Complex ScalarType for {_sname(A)}")
    if A._data.dtype in _HALF:
        raise NotImplementedError(f'"linalg_eig_out_cpu" not implemented for \'{_sname(A)}\'')


def linalg_eig(A, *, out=None):
    """``torch.linalg.eig``: complex eigenvalues and unit-norm eigenvectors (forward only;
    the gradient raises ``NotImplementedError``)."""
    from .. import return_types

    _check_eig(A, "linalg.eig")
    w, v = Eig.apply(A, True)
    if out is not None:
        write_out(out[0], w, "linalg_eig")
        write_out(out[1], v, "linalg_eig")
        return return_types.linalg_eig_out((out[0], out[1]))
    return return_types.linalg_eig((w, v))


def linalg_eigvals(A, *, out=None) -> Tensor:
    """``torch.linalg.eigvals``: complex eigenvalues (forward only)."""
    _check_eig(A, "linalg.eigvals")
    r = Eig.apply(A, False)
    return r if out is None else write_out(out, r, "linalg_eigvals")


# --- pseudo-inverse, least squares, rank, condition number ---------------------------------------

def _tol_array(v, like):
    """``atol``/``rtol``: a number or a tensor broadcasting over the batch."""
    xp = array_module(like)
    if v is None:
        return None
    if isinstance(v, Tensor):
        return xp.asarray(v._data, dtype=like.dtype)
    return xp.asarray(float(v), dtype=like.dtype)


def _tolerance(s, m: int, n: int, atol, rtol, like):
    """PyTorch's cut-off ``max(atol, rtol * sigma_max)`` (rtol defaults to eps * max(m, n)
    when neither is given, and to 0 when only ``atol`` is)."""
    xp = array_module(s)
    rdt = s.dtype
    a = _tol_array(atol, s)
    r = _tol_array(rtol, s)
    if r is None:
        r = xp.asarray(np.finfo(rdt).eps * max(m, n), dtype=rdt) if a is None or \
            not bool((a > 0).any()) else xp.asarray(0, dtype=rdt)
    if a is None:
        a = xp.asarray(0, dtype=rdt)
    smax = s.max(axis=-1) if s.shape[-1] else xp.zeros(s.shape[:-1], dtype=rdt)
    return xp.maximum(a, r * smax)


def _pinv_arrays(a, atol, rtol, hermitian: bool):
    xp = array_module(a)
    m, n = a.shape[-2:]
    if hermitian:
        lam, v = xp.linalg.eigh(a)
        tol = _tolerance(xp.abs(lam), m, n, atol, rtol, a)
        keep = xp.abs(lam) > tol[..., None]
        inv_l = xp.where(keep, 1 / xp.where(keep, lam, 1), 0).astype(v.dtype)
        return (v * inv_l[..., None, :]) @ v.conj().swapaxes(-1, -2)
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    tol = _tolerance(s, m, n, atol, rtol, a)
    keep = s > tol[..., None]
    inv_s = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(u.dtype)
    return (vh.conj().swapaxes(-1, -2) * inv_s[..., None, :]) @ u.conj().swapaxes(-1, -2)


class Pinv(Op, name="LinalgPinvBackward0"):
    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        p = _pinv_arrays(a, atol, rtol, hermitian)
        if ctx._edges:
            ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        return _pinv_backward(g, a, p), None, None, None


def _pinv_backward(g: Tensor, a: Tensor, p: Tensor) -> Tensor:
    """Reverse mode of P = pinv(A) for constant rank (Golub & Pereyra 1973):
    dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P, hence
    gA = -P^H g P^H + (I - A P) g^H P P^H + P^H P g^H (I - P A)."""
    ph, gh = _mH(p), _mH(g)
    m, n = a._data.shape[-2:]
    ap = _bmat(a, p)
    pa = _bmat(p, a)
    t1 = -_bmat(_bmat(ph, g), ph)
    t2 = _bmat(_bmat(_eye(a, m) - ap, gh), _bmat(p, ph))
    t3 = _bmat(_bmat(ph, p), _bmat(gh, _eye(a, n) - pa))
    return t1 + t2 + t3


def linalg_pinv(A, rcond=None, hermitian: bool = False, *, atol=None, rtol=None,
                out=None) -> Tensor:
    """``torch.linalg.pinv``: Moore-Penrose inverse by SVD (``eigh`` if ``hermitian``),
    dropping singular values at or below ``max(atol, rtol * sigma_max)``; ``rcond`` is the old
    name of ``rtol``."""
    _check_tensor(A, "pinv")
    dt = A.dtype
    if A._data.ndim < 2 or not (dt.is_floating_point or dt.is_complex) or \
            A._data.dtype in _HALF:
        raise RuntimeError(f"linalg.pinv({_sname(A)}{{{list(A._data.shape)}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble "
                           "types")
    if rcond is not None:
        rtol = rcond
    r = Pinv.apply(A, atol, rtol, bool(hermitian))
    return r if out is None else write_out(out, r, "linalg_pinv")


def pinverse(input, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with ``rtol=rcond``."""
    return linalg_pinv(input, rtol=rcond)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def linalg_lstsq(A, B, rcond=None, *, driver=None):
    """``torch.linalg.lstsq``: least-squares solution of ``A X = B`` computed through the SVD
    for every driver (so rank-deficient problems get the minimum-norm solution, like
    ``gelsd``); ``residuals``, ``rank`` and ``singular_values`` are filled in exactly when
    PyTorch's CPU drivers fill them. Differentiable through ``pinv`` when an input requires
    grad."""
    from .. import return_types

    _check_tensor(A, "lstsq", "self", 1)
    _check_tensor(B, "lstsq", "b", 2)
    for t in (A, B):
        if t._data.dtype.kind not in "fc" or t._data.dtype in _HALF:
            raise RuntimeError("This function doesn't handle types other than float and double")
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {_sname(A)} and other's dtype "
                           f"{_sname(B)}")
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    sa = A._data.shape
    vec = B._data.ndim == A._data.ndim - 1
    b = _shape.unsqueeze(B, -1) if vec else B
    if b._data.shape[-2] != sa[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    _util.check_same_device(A, B)
    m, n = sa[-2:]
    a_arr = A._data
    xp = array_module(a_arr)
    u, s, vh = xp.linalg.svd(a_arr, full_matrices=False)
    rdt = s.dtype
    r = np.finfo(rdt).eps * max(m, n) if rcond is None else float(rcond)
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,),
                                                                       dtype=rdt)
    keep = s > r * smax
    rank = keep.sum(axis=-1).astype(np.int64)
    if _needs_grad(A) or _needs_grad(B):
        x = matmul(linalg_pinv(A, rtol=r), b)
    else:
        inv_s = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(u.dtype)
        uhb = u.conj().swapaxes(-1, -2) @ b._data
        x = Tensor._make(vh.conj().swapaxes(-1, -2) @ (inv_s[..., :, None] * uhb))
    empty = xp.empty((0,), dtype=rdt)
    residuals = Tensor._make(empty)
    if m > n and driver != "gelsy" and bool((rank == n).all()):
        res = matmul(A, x) - b
        resid = res * _conj(res)
        from .reduction import sum as _sum

        residuals = _sum(_util.cast(resid, _dtype.from_numpy_dtype(rdt))
                         if resid.is_complex() else resid, -2)
    rank_t = Tensor._make(xp.asarray(rank)) if driver != "gels" else \
        Tensor._make(xp.empty((0,), dtype=np.int64))
    sv = Tensor._make(s) if driver in ("gelsd", "gelss") else Tensor._make(empty)
    if vec:
        x = _shape.squeeze(x, -1)
    return return_types.linalg_lstsq((x, residuals, rank_t, sv))


def linalg_matrix_rank(A, tol=None, hermitian: bool = False, *, atol=None, rtol=None,
                       out=None) -> Tensor:
    """``torch.linalg.matrix_rank``: number of singular values above ``max(atol, rtol *
    sigma_max)`` (int64); ``tol`` is the old name of ``atol``."""
    _check_tensor(A, "matrix_rank")
    if A._data.dtype.kind not in "fc" or A._data.dtype in _HALF:
        raise RuntimeError("This function doesn't handle types other than float and double")
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 "
                           "dimensions.")
    if tol is not None:
        atol = tol
    a = A._data
    xp = array_module(a)
    m, n = a.shape[-2:]
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(a))
    else:
        s = xp.linalg.svd(a, compute_uv=False)
    tol_ = _tolerance(s, m, n, atol, rtol, a)
    r = Tensor._make(xp.asarray((s > tol_[..., None]).sum(axis=-1).astype(np.int64)))
    return r if out is None else write_out(out, r, "linalg_matrix_rank")


_COND_ORDS = (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc")


def linalg_cond(A, p=None, *, out=None) -> Tensor:
    """``torch.linalg.cond``: ``sigma_max / sigma_min`` for ``p`` in (None, 2, -2); otherwise
    ``norm(A, p) * norm(inv(A), p)`` for square matrices (inf for singular ones)."""
    _check_tensor(A, "cond")
    if p not in _COND_ORDS or isinstance(p, bool):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    _check_la(A, "linalg.svd" if p in (None, 2, -2) else "linalg.inv", square=False)
    if p in (None, 2, -2):
        s = linalg_svdvals(A)
        hi, lo = s[..., 0], s[..., -1]
        r = hi / lo if p != -2 else lo / hi
    else:
        _check_square(A, f"linalg.cond(ord={p})")
        inv_, info = linalg_inv_ex(A)
        bad = info._data != 0
        if bool(bad.any()):  # norms of the singular matrices' (NaN) inverses are replaced
            from .pointwise import where

            inv_ = where(_const(bad[..., None, None]), _eye(inv_, A._data.shape[-1]), inv_)
        r = linalg_matrix_norm(A, p) * linalg_matrix_norm(inv_, p)
        if bool(bad.any()):  # singular matrices: inf (PyTorch's nuclear-norm path gives NaN)
            r = where(_const(bad), math.nan if p == "nuc" else math.inf, r)
    return r if out is None else write_out(out, r, "linalg_cond")


# --- assorted -------------------------------------------------------------------------------------

def vecdot(x, y, *, dim: int = -1, out=None) -> Tensor:
    """``torch.linalg.vecdot``: ``sum(conj(x) * y, dim)`` with broadcasting."""
    from .reduction import sum as _sum

    _check_tensor(x, "vecdot", "x", 1)
    _check_tensor(y, "vecdot", "y", 2)
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {_sname(x)} and y of type {_sname(y)} instead")
    r = _sum(_conj(x) * y, dim)
    return r if out is None else write_out(out, r, "linalg_vecdot")


def linalg_diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.linalg.diagonal``: ``torch.diagonal`` with matrix-friendly defaults."""
    return _shape.diagonal(A, offset=offset, dim1=dim1, dim2=dim2)


# Pade(13) coefficients for the matrix exponential (Higham 2005)
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)


def matrix_exp(A) -> Tensor:
    """``torch.linalg.matrix_exp``/``torch.matrix_exp``: scaling and squaring with a degree-13
    Pade approximant (Higham 2005), written with ember ops so it is differentiable (PyTorch
    computes the gradient from the exponential of a block matrix; the values agree)."""
    _check_tensor(A, "matrix_exp")
    _check_square(A, "linalg.matrix_exp")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as "
                           f"input. Got {_sname(A)}")
    if A._data.dtype in _HALF:  # PyTorch's half-precision result overflows; compute in float32
        return _util.cast(matrix_exp(_util.cast(A, _dtype.float32)), A.dtype)
    n = A._data.shape[-1]
    if n == 0 or A._data.size == 0:
        from .creation import clone

        return clone(A)
    a = A._data
    xp = array_module(a)
    norm1 = float(xp.abs(a).sum(axis=-2).max()) if a.size else 0.0
    # one scaling for the whole batch, chosen for its largest 1-norm
    s = max(0, int(math.ceil(math.log2(norm1 / 5.371920351148152)))) if norm1 > 0 else 0
    x = A * (0.5 ** s) if s else A
    b = _PADE13
    eye = _eye(A, n)
    x2 = _bmat(x, x)
    x4 = _bmat(x2, x2)
    x6 = _bmat(x4, x2)
    u = _bmat(x, _bmat(x6, b[13] * x6 + b[11] * x4 + b[9] * x2)
              + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = _bmat(x6, b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 \
        + b[0] * eye
    r = Solve.apply(v - u, v + u, True)[0]
    for _ in range(s):
        r = _bmat(r, r)
    return r


def tensorinv(A, ind: int = 2, *, out=None) -> Tensor:
    """``torch.linalg.tensorinv``: inverse of ``A`` seen as a matrix of its first ``ind`` dims
    by the rest."""
    _check_tensor(A, "tensorinv")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    s = A._data.shape
    rows, cols = _prod(s[:ind]), _prod(s[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    r = _shape.reshape(linalg_inv(_shape.reshape(A, (rows, cols))), s[ind:] + s[:ind])
    return r if out is None else write_out(out, r, "linalg_tensorinv")


def tensorsolve(A, B, dims=None, *, out=None) -> Tensor:
    """``torch.linalg.tensorsolve``: solve ``tensordot(A, X, X.ndim) = B`` for ``X``."""
    _check_tensor(A, "tensorsolve")
    _check_tensor(B, "tensorsolve", "B", 2)
    if dims is not None:
        nd = A._data.ndim
        dims = [_util.wrap_dim(d, nd) for d in dims]
        rest = [i for i in range(nd) if i not in dims]
        A = _shape.permute(A, rest + dims)
    sa, sb = A._data.shape, B._data.shape
    nb = B._data.ndim
    x_shape = sa[nb:]
    rows, cols = _prod(sb), _prod(x_shape)
    if _prod(sa[:nb]) != rows or rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim"
                           f":]) == prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    x = linalg_solve(_shape.reshape(A, (rows, cols)), _shape.reshape(B, (rows,)))
    r = _shape.reshape(x, x_shape)
    return r if out is None else write_out(out, r, "linalg_tensorsolve")


def vander(x, *, N=None) -> Tensor:
    """``torch.linalg.vander``: columns ``x**0, x**1, ..., x**(N-1)`` (increasing powers)."""
    from .reduction import cumprod

    _check_tensor(x, "vander")
    if x._data.dtype == np.bool_:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           "but got Bool")
    n = x._data.shape[-1] if N is None and x._data.ndim else (0 if N is None else int(N))
    if x._data.ndim < 1 or n <= 1:
        raise RuntimeError("N must be greater than 1.")
    xx = _util.cast(x, _dtype.int64) if x._data.dtype.kind in "iu" else x
    ones = _const(array_module(xx._data).ones(xx._data.shape + (1,), dtype=xx._data.dtype))
    from .shape import cat

    rep = _shape.expand(_shape.unsqueeze(xx, -1), xx._data.shape + (n - 1,))
    return cat([ones, cumprod(rep, -1)], -1)


def _not_implemented(name: str):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"ember: torch.linalg.{name} is not implemented (NumPy has no "
                                  "batched LU/LDL factorization to build it on)")

    fn.__name__ = name
    fn.__doc__ = f"``torch.linalg.{name}``: not implemented in ember (raises)."
    return fn


# ---------------------------------------------------------------------------------------------
# norms
# ---------------------------------------------------------------------------------------------

def _ord_str(o) -> str:
    if isinstance(o, float):
        if math.isinf(o):
            return "inf" if o > 0 else "-inf"
        if o.is_integer():
            return str(int(o))
    return str(o)


class VectorNorm(Op, name="LinalgVectorNormBackward0"):
    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        xp = array_module(x)
        rdt = _real_np(x.dtype)
        a = xp.abs(x)
        if rdt in _HALF:
            a = a.astype(np.float32)
        if ord == 2:
            r = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=keepdim))
        elif ord == math.inf:
            r = xp.max(a, axis=dims, keepdims=keepdim)
        elif ord == -math.inf:
            r = xp.min(a, axis=dims, keepdims=keepdim)
        elif ord == 0:
            r = xp.sum(a != 0, axis=dims, keepdims=keepdim).astype(a.dtype)
        elif ord == 1:
            r = xp.sum(a, axis=dims, keepdims=keepdim)
        else:
            r = xp.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
        r = xp.asarray(r).astype(rdt, copy=False)
        if ctx._edges and ord != 0:
            ctx.save_for_backward(x, r)
        ctx.ord, ctx.dims, ctx.keepdim, ctx.shape = ord, dims, keepdim, x.shape
        return r

    @staticmethod
    def backward(ctx, g):
        ord, dims, keepdim, shape = ctx.ord, ctx.dims, ctx.keepdim, ctx.shape
        if ord == 0:
            xp = array_module(g._data)
            dt = g._data.dtype
            return _const(xp.zeros(shape, dtype=dt)), None, None, None
        x, r = ctx.saved_tensors
        return _vector_norm_backward(g, x, r, ord, dims, keepdim), None, None, None


def _vector_norm_backward(g: Tensor, x: Tensor, r: Tensor, p, dims, keepdim) -> Tensor:
    """PyTorch's gradient conventions for ``vector_norm``: 0 where the norm (or, for p < 1,
    the element) is 0; the inf-norm gradient is shared evenly among the maximal elements."""
    from . import pointwise as pw
    from .reduction import keep_shape

    if not keepdim:
        ks = keep_shape(x._data.shape, dims)
        g = _shape.reshape(g, ks)
        r = _shape.reshape(r, ks)
    xp = array_module(x._data)
    rd = r._data
    if p == 1:
        return pw.sgn(x) * g
    if math.isinf(p):
        ax = xp.abs(x._data)
        mask = (ax == rd) | xp.isnan(ax)
        count = mask.sum(axis=dims, keepdims=True)
        w = _const(mask.astype(rd.dtype) / count.astype(rd.dtype))
        return pw.sgn(x) * (g * w)
    # safe denominators: replace zeros by one, then zero the affected entries
    rzero = (rd == 0).astype(rd.dtype)
    nz_r = _const(1 - rzero)
    if p == 2:
        return x * (g / (r + _const(rzero)) * nz_r)
    ax_zero = (x._data == 0).astype(rd.dtype)
    absx = pw.abs(x)
    if p < 1:
        scaled = pw.sgn(x) * (pw.pow(absx + _const(ax_zero), p - 1) * _const(1 - ax_zero))
        return scaled * (g * pw.pow(r, 1 - p))
    scale = g / pw.pow(r + _const(rzero), p - 1) * nz_r
    if p < 2:
        return pw.sgn(x) * pw.pow(absx, p - 1) * scale
    return x * pw.pow(absx, p - 2) * scale


def _check_norm_dtype(x: Tensor, dtype, fname: str):
    dt = x.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{_sname(x)}")
    if dtype is None:
        return x
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{fname}: dtype should be floating point or complex, but got "
                           f"{_util.dtype_name(dtype)}")
    if dt.is_complex and not dtype.is_complex:
        raise RuntimeError(f"{fname}: dtype should be complex for complex inputs, but got "
                           f"{_util.dtype_name(dtype)}")
    if not dt.is_complex and dtype.is_complex:
        raise RuntimeError(f"{fname}: dtype should be real for real inputs, but got "
                           f"{_util.dtype_name(dtype)}")
    if _dtype.promote_types(dt, dtype) is not dtype:
        raise RuntimeError(f"{fname}: the dtype of the input ({_sname(x)}) should be "
                           f"convertible without narrowing to the specified dtype "
                           f"({_util.dtype_name(dtype)})")
    return _util.cast(x, dtype)


def _norm_dims(dim, nd: int) -> tuple:
    from .reduction import reduce_dims

    if isinstance(dim, Tensor):
        dim = dim.tolist()
    return reduce_dims(dim, nd)


def linalg_vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None,
                       out=None) -> Tensor:
    """``torch.linalg.vector_norm``: ``sum(|x|^ord)^(1/ord)`` over ``dim`` (all dims when
    None), with ``ord`` = 0 (count of nonzeros), inf (max), -inf (min) or any real number."""
    fname = "linalg.vector_norm"
    _check_tensor(x, "linalg_vector_norm", "input")
    if isinstance(ord, str) or not isinstance(ord, (numbers.Real, Tensor)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type(ord).__name__}")
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"linalg_vector_norm(): argument 'keepdim' (position 4) must be bool, "
                        f"not {type(keepdim).__name__}")
    keepdim = bool(keepdim)
    ord = float(ord.item()) if isinstance(ord, Tensor) else float(ord)
    x = _check_norm_dtype(x, dtype, fname)
    shape = x._data.shape
    dims = _norm_dims(dim, x._data.ndim)
    if ord < 0 or math.isinf(ord):
        if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
            if x._data.size == 0:
                raise RuntimeError(f"{fname} cannot compute the {_ord_str(ord)} norm on an empty "
                                   "tensor because the operation does not have an identity")
        else:
            for d in dims:
                if shape[d] == 0:
                    raise RuntimeError(f"{fname} cannot compute the {_ord_str(ord)} norm on the "
                                       f"dimension {d}because this dimension is empty and the "
                                       "operation does not have an identity")
    r = VectorNorm.apply(x, ord, dims, bool(keepdim))
    return r if out is None else write_out(out, r, "linalg_vector_norm")


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _matrix_norm_dims(dim, nd: int, fname: str) -> tuple:
    if isinstance(dim, (int, np.integer)) or len(dim) != 2:
        got = " ".join(str(d) for d in ([dim] if isinstance(dim, (int, np.integer)) else dim))
        raise RuntimeError(f"{fname}: dim must be a 2-tuple. Got {got}")
    d0, d1 = (_util.wrap_dim(d, nd) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{fname}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def linalg_matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,
                       out=None) -> Tensor:
    """``torch.linalg.matrix_norm``: Frobenius, nuclear, max column/row sum (+-1, +-inf) and
    spectral (+-2) norms of the matrices spanned by the two dims in ``dim``."""
    from .reduction import amax, amin
    from .reduction import sum as _sum

    fname = "linalg.matrix_norm"
    _check_tensor(A, "linalg_matrix_norm", "input")
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"linalg_matrix_norm(): argument 'keepdim' must be bool, not "
                        f"{type(keepdim).__name__}")
    keepdim = bool(keepdim)
    if A._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    A = _check_norm_dtype(A, dtype, fname)
    ok = ord in _MATRIX_ORDS if isinstance(ord, str) or not isinstance(ord, bool) else False
    if not ok:
        raise RuntimeError(f"{fname}: Order {_ord_str(ord)} not supported.")
    d0, d1 = _matrix_norm_dims(dim, A._data.ndim, fname)
    if ord == "fro":
        return linalg_vector_norm(A, 2, (d0, d1), keepdim, out=out)
    nd = A._data.ndim
    if ord in ("nuc", 2, -2):
        if A._data.dtype in _HALF:
            raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {_sname(A)}")
        rest = [i for i in range(nd) if i not in (d0, d1)]
        s = linalg_svdvals(_shape.permute(A, rest + [d0, d1]))
        if ord == 2 and s._data.shape[-1] == 0:  # PyTorch: 0 (and no graph) for empty matrices
            r = _const(array_module(s._data).zeros(s._data.shape[:-1], dtype=s._data.dtype))
        else:
            r = _sum(s, -1) if ord == "nuc" else amax(s, -1) if ord == 2 else amin(s, -1)
        if keepdim:
            r = _shape.unsqueeze(_shape.unsqueeze(r, min(d0, d1)), max(d0, d1))
    else:
        red = amax if ord > 0 else amin
        # +-1: column sums (over rows, d0) then max/min over d1; +-inf: the transpose
        first, second = (d0, d1) if abs(ord) == 1 else (d1, d0)
        r = linalg_vector_norm(A, 1, first, True)
        if ord == math.inf and A._data.shape[second] == 0:  # PyTorch: 0 without a graph
            r = _const(array_module(r._data).zeros(
                tuple(1 if i == second else n for i, n in enumerate(r._data.shape)),
                dtype=r._data.dtype))
        else:
            r = red(r, second, True)
        if not keepdim:
            r = _shape.squeeze(_shape.squeeze(r, max(d0, d1)), min(d0, d1))
    return r if out is None else write_out(out, r, "linalg_matrix_norm")


def linalg_norm(A, ord=None, dim=None, keepdim: bool = False, *, out=None,
                dtype=None) -> Tensor:
    """``torch.linalg.norm``: a vector norm for one dim (or a flattened input when neither
    ``ord`` nor ``dim`` is given), a matrix norm for two dims or 2-D input with ``ord``."""
    _check_tensor(A, "linalg_norm", "input")
    if dim is not None:
        dl = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
        if len(dl) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {dl}")
    else:
        dl = None
        if ord is not None and A._data.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {A._data.ndim}D.")
    if ord is not None and ((dl is not None and len(dl) == 2) or
                            (dl is None and A._data.ndim == 2) or isinstance(ord, str)):
        return linalg_matrix_norm(A, ord, tuple(dl) if dl else (-2, -1), keepdim, dtype=dtype,
                                  out=out)
    return linalg_vector_norm(A, 2 if ord is None else ord, dl, keepdim, dtype=dtype, out=out)


def norm(input, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
    """``torch.norm`` (deprecated but widely used): ``p='fro'`` is the 2-norm over ``dim`` (all
    dims when None), ``p='nuc'`` the nuclear norm, a number any vector norm."""
    _check_tensor(input, "norm")
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, (int, np.integer)) or len(dim) <= 2):
            return linalg_vector_norm(input, 2, dim, keepdim, dtype=dtype, out=out)
        d = tuple(range(input._data.ndim)) if dim is None else dim
        if isinstance(d, (int, np.integer)):
            d = (d,)
        if input._data.ndim < 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        return linalg_matrix_norm(input, p, d, keepdim, dtype=dtype, out=out)
    return linalg_vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype, out=out)


def _tensor_norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    return norm(self, p, dim, keepdim, dtype=dtype)


def frobenius_norm(input, dim, keepdim: bool = False, *, out=None) -> Tensor:
    """``torch.frobenius_norm`` (kept by PyTorch for TorchScript; warns): the 2-norm over
    ``dim``."""
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. "
                  "It will be removed in a future PyTorch release. Please use "
                  "`linalg.vector_norm(A, 2., dim, keepdim)` instead", UserWarning, stacklevel=2)
    return linalg_vector_norm(input, 2, dim, keepdim, out=out)


def nuclear_norm(input, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """``torch.nuclear_norm`` (kept by PyTorch for TorchScript; warns)."""
    warnings.warn("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It "
                  "will be removed in a future PyTorch release. Please use "
                  "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    return linalg_matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)


def dist(input, other, p=2) -> Tensor:
    """``torch.dist``: the ``p``-norm of ``input - other`` (broadcasting, type promotion)."""
    _check_tensor(input, "dist")
    _check_tensor(other, "dist", "other", 2)
    dt = _util.result_type(input, other)
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_util.dtype_name(dt)} instead.")
    return linalg_vector_norm(input - other, p)


# ---------------------------------------------------------------------------------------------
# Tensor methods
# ---------------------------------------------------------------------------------------------

def _tensor_svd(self, some: bool = True, compute_uv: bool = True):
    return svd(self, some, compute_uv)


METHODS = {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot, "inner": inner,
    "outer": outer, "ger": ger, "addmm": addmm, "addmm_": addmm_, "addmv": addmv,
    "addmv_": addmv_, "addr": addr, "addr_": addr_, "addbmm": addbmm, "addbmm_": addbmm_,
    "baddbmm": baddbmm, "baddbmm_": baddbmm_, "kron": kron, "cross": cross, "trace": trace,
    "matrix_power": matrix_power, "matrix_exp": matrix_exp, "norm": _tensor_norm, "det": det,
    "logdet": logdet, "slogdet": slogdet, "inverse": inverse, "cholesky": cholesky,
    "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse, "qr": qr,
    "svd": _tensor_svd, "pinverse": pinverse, "triangular_solve": triangular_solve,
    "dist": dist,
    "__matmul__": matmul, "__rmatmul__": _rmatmul,
}
