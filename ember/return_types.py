"""``torch.return_types``: the named tuples that multi-output ops return.

``ember.max(x, 0)`` returns ``return_types.max(values=..., indices=...)``: a tuple subclass whose
fields are also attributes, printed the way PyTorch prints its structseqs::

    torch.return_types.max(
    values=tensor([...]),
    indices=tensor([...]))

The ``*_out`` twins are what the ``out=`` forms return, as in PyTorch.
"""

from __future__ import annotations

import operator

__all__: list = []


class _StructSeq(tuple):
    """Base of the result types: an immutable tuple with named, read-only fields."""

    __slots__ = ()
    _fields: tuple = ()
    n_fields = n_sequence_fields = 0
    n_unnamed_fields = 0

    def __new__(cls, sequence=None, dict=None):  # noqa: A002 - PyTorch's keyword name
        if sequence is None or isinstance(sequence, (str, bytes)):
            raise TypeError("constructor requires a sequence")
        try:
            items = tuple(sequence)
        except TypeError:
            raise TypeError("constructor requires a sequence") from None
        n = len(cls._fields)
        if len(items) != n:
            raise TypeError(f"torch.return_types.{cls.__name__}() takes a {n}-sequence "
                            f"({len(items)}-sequence given)")
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        body = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    __str__ = __repr__

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _make(name: str, fields: tuple) -> type:
    attrs = {"__slots__": (), "_fields": fields, "n_fields": len(fields),
             "n_sequence_fields": len(fields), "__module__": __name__, "__qualname__": name}
    for i, f in enumerate(fields):
        attrs[f] = property(operator.itemgetter(i), doc=f"Alias for field number {i}")
    return type(name, (_StructSeq,), attrs)


# The same set of result types (and field names) as PyTorch 2.13.
_TYPES = {
    "aminmax": ("min", "max"),
    "cummax": ("values", "indices"),
    "cummin": ("values", "indices"),
    "frexp": ("mantissa", "exponent"),
    "geqrf": ("a", "tau"),
    "histogram": ("hist", "bin_edges"),
    "kthvalue": ("values", "indices"),
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_eig": ("eigenvalues", "eigenvectors"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_ldl_factor": ("LD", "pivots"),
    "linalg_ldl_factor_ex": ("LD", "pivots", "info"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "linalg_lu": ("P", "L", "U"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "linalg_qr": ("Q", "R"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "linalg_solve_ex": ("result", "info"),
    "linalg_svd": ("U", "S", "Vh"),
    "lu_unpack": ("P", "L", "U"),
    "max": ("values", "indices"),
    "median": ("values", "indices"),
    "min": ("values", "indices"),
    "mode": ("values", "indices"),
    "nanmedian": ("values", "indices"),
    "qr": ("Q", "R"),
    "slogdet": ("sign", "logabsdet"),
    "sort": ("values", "indices"),
    "svd": ("U", "S", "V"),
    "topk": ("values", "indices"),
    "triangular_solve": ("solution", "cloned_coefficient"),
}
_NO_OUT = {"histogramdd"}

all_return_types: list = []


def _register() -> None:
    g = globals()
    for name, fields in list(_TYPES.items()) + [("histogramdd", ("hist", "bin_edges"))]:
        names = [name] if name in _NO_OUT else [name, name + "_out"]
        for n in names:
            cls = _make(n, fields)
            g[n] = cls
            all_return_types.append(cls)
            __all__.append(n)


_register()
__all__.append("all_return_types")
