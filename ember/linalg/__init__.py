"""``torch.linalg``: matrix functions (inverses, solvers, decompositions, norms).

The implementations live in ``ember.ops.linalg`` (differentiable ops written once for NumPy and
CuPy); this module gives them their ``torch.linalg`` names. Batched inputs (leading dimensions)
are supported everywhere. Not implemented (they raise ``NotImplementedError``): the LU and LDL
families (``lu``, ``lu_factor``, ``lu_factor_ex``, ``lu_solve``, ``ldl_factor``,
``ldl_factor_ex``, ``ldl_solve``) and ``householder_product``; the gradients of ``eig`` and
``eigvals`` also raise.
"""

from __future__ import annotations

from ..ops.linalg import LinAlgError, matmul, matrix_exp, matrix_power, multi_dot
from ..ops.linalg import linalg_cholesky as cholesky
from ..ops.linalg import linalg_cholesky_ex as cholesky_ex
from ..ops.linalg import linalg_cond as cond
from ..ops.linalg import linalg_cross as cross
from ..ops.linalg import linalg_det as det
from ..ops.linalg import linalg_diagonal as diagonal
from ..ops.linalg import linalg_eig as eig
from ..ops.linalg import linalg_eigh as eigh
from ..ops.linalg import linalg_eigvals as eigvals
from ..ops.linalg import linalg_eigvalsh as eigvalsh
from ..ops.linalg import linalg_inv as inv
from ..ops.linalg import linalg_inv_ex as inv_ex
from ..ops.linalg import linalg_lstsq as lstsq
from ..ops.linalg import linalg_matrix_norm as matrix_norm
from ..ops.linalg import linalg_matrix_rank as matrix_rank
from ..ops.linalg import linalg_norm as norm
from ..ops.linalg import linalg_pinv as pinv
from ..ops.linalg import linalg_qr as qr
from ..ops.linalg import linalg_slogdet as slogdet
from ..ops.linalg import linalg_solve as solve
from ..ops.linalg import linalg_solve_ex as solve_ex
from ..ops.linalg import linalg_svd as svd
from ..ops.linalg import linalg_svdvals as svdvals
from ..ops.linalg import linalg_vector_norm as vector_norm
from ..ops.linalg import solve_triangular, tensorinv, tensorsolve, vander, vecdot
from ..ops.linalg import _not_implemented

lu = _not_implemented("lu")
lu_factor = _not_implemented("lu_factor")
lu_factor_ex = _not_implemented("lu_factor_ex")
lu_solve = _not_implemented("lu_solve")
ldl_factor = _not_implemented("ldl_factor")
ldl_factor_ex = _not_implemented("ldl_factor_ex")
ldl_solve = _not_implemented("ldl_solve")
householder_product = _not_implemented("householder_product")

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh",
    "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor",
    "ldl_factor_ex", "ldl_solve", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
    "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm",
    "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals",
    "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm",
]
