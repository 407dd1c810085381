"""``torch.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``
as parametrizations (see ``parametrize``), with PyTorch's state-dict layout
(``parametrizations.<name>.original0/original1``, ``...original`` and ``...0._u/_v``)."""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

from ... import _backend
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..modules.module import Module
from . import parametrize
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _normalize(x: Tensor, eps: float, out: Tensor | None = None) -> Tensor:
    from ...ops.distance import normalize

    return normalize(x, dim=0, eps=eps, out=out)


# ---------------------------------------------------------------------------------------------
# orthogonal
# ---------------------------------------------------------------------------------------------

def _eye_like(q: Tensor, n: int) -> Tensor:
    from ...ops.creation import eye

    return eye(n, dtype=q.dtype, device=q.device)


def _is_orthogonal(q: Tensor) -> bool:
    from ...ops.pointwise import allclose

    n, k = q.size(-2), q.size(-1)
    eps = 10.0 * n * float(np.finfo(q._data.dtype).eps)
    return allclose(q.mH @ q, _eye_like(q, k), atol=eps)


def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """``linalg.householder_product`` from ember ops (differentiable): the first ``k``
    columns of ``H_0 H_1 ... H_{k-1}``, ``H_i = I - tau_i v_i v_i^H``, ``v_i`` the i-th
    column of ``a`` below the diagonal with a unit diagonal entry. One rank-1 update per
    reflector, as LAPACK's ``orgqr`` does."""
    n, k = a.size(-2), a.size(-1)
    xp = _backend.array_module(a._data)
    dt = a._data.dtype
    rows = np.arange(n)[:, None]
    q = Tensor._make(xp.asarray(np.eye(n, k), dtype=dt))
    q = q.expand(*a.shape[:-2], n, k)
    for i in range(k - 1, -1, -1):
        below = Tensor._make(xp.asarray((rows > i).astype(dt)))
        unit = Tensor._make(xp.asarray((rows == i).astype(dt)))
        v = a[..., :, i:i + 1] * below + unit
        t = tau[..., i:i + 1].unsqueeze(-1)
        q = q - t * (v @ (v.mH @ q))
    return q


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q factor of ``a`` with the signs fixed so that R has a positive diagonal."""
    from ...linalg import qr

    q, r = qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _geqrf(a: Tensor):
    """LAPACK's ``geqrf`` (Householder reflectors below the diagonal, R on and above it, and
    the scalars ``tau``), through NumPy's raw QR."""
    host = np.asarray(a.detach().cpu()._data)
    batch = host.shape[:-2]
    m, n = host.shape[-2:]
    flat = host.reshape((-1, m, n))
    hs, taus = [], []
    for mat in flat:  # one LAPACK call per matrix of the (small) batch
        h, tau = np.linalg.qr(mat, mode="raw")
        hs.append(h.T)
        taus.append(tau)
    xp = _backend.array_module(a._data)
    h = np.stack(hs).reshape(batch + (m, n)).astype(host.dtype)
    tau = np.stack(taus).reshape(batch + (min(m, n),)).astype(host.dtype)
    return Tensor._make(xp.asarray(h)), Tensor._make(xp.asarray(tau))


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map: _OrthMaps, *, use_trivialization=True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        from ...ops.linalg import matrix_exp
        from ...ops.shape import cat

        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:
                from ...linalg import solve

                Id = _eye_like(A, n)
                Q = solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        from ...ops.creation import zeros_like
        from ...ops.random import randn
        from ...ops.shape import cat

        with no_grad():
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.size(-2), Q.size(-1)
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix "
                                              "exponential or the Cayley parametrizations when "
                                              "use_trivialization=False.")
                A, tau = _geqrf(Q)
                xp = _backend.array_module(A._data)
                d = xp.sign(xp.diagonal(A._data, axis1=-2, axis2=-1))
                d = xp.where(tau._data == 0, -d, d)
                idx = xp.arange(k)
                A._data[..., idx, idx] = d
                return A.mT if transpose else A
            if n == k:
                Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
            else:
                N = randn(*(tuple(Q.size()[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            neg_id = zeros_like(Q_init)
            neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_id


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """``torch.nn.utils.parametrizations.orthogonal``: keep ``module.<name>`` (a matrix or a
    batch of them) orthogonal/unitary through ``matrix_exp``, ``cayley`` or ``householder``
    maps of an unconstrained tensor."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.size(-2) == weight.size(-1) or
                          weight.is_complex() else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---------------------------------------------------------------------------------------------
# weight_norm
# ---------------------------------------------------------------------------------------------

class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """``torch.nn.utils.parametrizations.weight_norm``: ``module.<name>`` becomes
    ``g * v / ||v||`` with ``g = original0`` and ``v = original1``. Old checkpoints with
    ``<name>_g``/``<name>_v`` keys still load."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                                 unexpected_keys, error_msgs) -> None:
        g_key = f"{prefix}{name}_g"
        v_key = f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# ---------------------------------------------------------------------------------------------
# spectral_norm
# ---------------------------------------------------------------------------------------------

class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._reshape_weight_to_matrix(weight)
            h, w = mat.size()
            with no_grad():
                u = mat.new_empty(h).normal_(0, 1)
                v = mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", _normalize(u, self.eps))
                self.register_buffer("_v", _normalize(v, self.eps))
            self._power_method(mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            for _ in range(n_power_iterations):
                self._u = _normalize(mat.mv(self._v), self.eps, out=self._u)
                self._v = _normalize(mat.H.mv(self._u), self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = u.vdot(mat.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """``torch.nn.utils.parametrizations.spectral_norm``: ``module.<name>`` is divided by its
    spectral norm, estimated by power iteration (buffers ``_u``, ``_v``; 15 iterations at
    registration, ``n_power_iterations`` per forward in training mode)."""
    from .spectral_norm import _default_dim

    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_dim(module)
    parametrize.register_parametrization(module, name,
                                         _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
