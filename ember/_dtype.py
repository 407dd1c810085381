"""ember dtypes and PyTorch's type-promotion rules.

Each ember dtype wraps one NumPy dtype. bfloat16 comes from the optional ``ml_dtypes`` package
(``pip install ember[bf16]``); the dtype object always exists, but creating a bfloat16 tensor
without ml_dtypes raises a clear error.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dtype", "float16", "bfloat16", "float32", "float64", "uint8", "int8", "int16", "int32",
    "int64", "bool", "complex64", "complex128", "half", "float", "double", "short", "int",
    "long", "cfloat", "cdouble", "get_default_dtype", "set_default_dtype", "promote_types",
    "finfo", "iinfo", "is_floating_point", "is_complex",
]

try:  # bfloat16 arrays need ml_dtypes' NumPy extension type
    import ml_dtypes as _ml_dtypes

    _BF16_NP = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - exercised only without the extra
    _ml_dtypes = None
    _BF16_NP = None

# Categories order PyTorch's promotion: bool < integer < floating < complex.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, printed as PyTorch prints it (``torch.float32``)."""

    __slots__ = ("_name", "_np", "_cat", "is_floating_point", "is_complex", "is_signed",
                 "itemsize", "_index")

    def __init__(self, name: str, np_dtype, cat: int, signed: bool, itemsize: int, index: int):
        self._name = name
        self._np = np_dtype
        self._cat = cat
        self.is_floating_point = cat == _FLOAT
        self.is_complex = cat == _COMPLEX
        self.is_signed = signed
        self.itemsize = itemsize
        self._index = index

    def __repr__(self) -> str:
        # PyTorch code is written against `torch.float32`; ember prints the same text so that
        # program output is identical under `import ember as torch`.
        return "torch." + self._name

    __str__ = __repr__

    def __reduce__(self):
        return (_dtype_by_name, (self._name,))

    @property
    def numpy_dtype(self) -> np.dtype:
        """The NumPy dtype backing this ember dtype (ember extension)."""
        if self._np is None:
            raise RuntimeError(
                "bfloat16 needs the ml_dtypes package: pip install ml_dtypes (or ember[bf16])")
        return self._np

    def to_complex(self) -> dtype:
        return {float32: complex64, float64: complex128, float16: complex64,
                bfloat16: complex64}.get(self, self)

    def to_real(self) -> dtype:
        return {complex64: float32, complex128: float64}.get(self, self)


_ALL: list[dtype] = []


def _make(name, np_dtype, cat, signed):
    itemsize = np.dtype(np_dtype).itemsize if np_dtype is not None else 2
    d = dtype(name, None if np_dtype is None else np.dtype(np_dtype), cat, signed, itemsize,
              len(_ALL))
    _ALL.append(d)
    return d


bool = _make("bool", np.bool_, _BOOL, False)  # noqa: A001 - torch.bool
uint8 = _make("uint8", np.uint8, _INT, False)
int8 = _make("int8", np.int8, _INT, True)
int16 = _make("int16", np.int16, _INT, True)
int32 = _make("int32", np.int32, _INT, True)
int64 = _make("int64", np.int64, _INT, True)
float16 = _make("float16", np.float16, _FLOAT, True)
bfloat16 = _make("bfloat16", _BF16_NP, _FLOAT, True)
float32 = _make("float32", np.float32, _FLOAT, True)
float64 = _make("float64", np.float64, _FLOAT, True)
complex64 = _make("complex64", np.complex64, _COMPLEX, True)
complex128 = _make("complex128", np.complex128, _COMPLEX, True)

half = float16
float = float32  # noqa: A001 - torch.float
double = float64
short = int16
int = int32  # noqa: A001 - torch.int
long = int64
cfloat = complex64
cdouble = complex128

_BY_NAME = {d._name: d for d in _ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32,
                long=int64, cfloat=complex64, cdouble=complex128)


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


# NumPy dtype -> ember dtype. Keys are np.dtype objects (hashing compares them by value).
_FROM_NP: dict = {d._np: d for d in _ALL if d._np is not None}


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype for a NumPy dtype; raises TypeError for types PyTorch has no tensor for."""
    d = _FROM_NP.get(np_dtype)
    if d is None:
        nd = np.dtype(np_dtype)
        d = _FROM_NP.get(nd)
        if d is None:
            if nd.kind == "u" and nd.itemsize > 1:
                # PyTorch maps uint16/32/64 to barely-supported "shell" dtypes; widen instead.
                return int64 if nd.itemsize < 8 else _raise_uint64()
            raise TypeError(
                f"can't convert np.ndarray of type numpy.{nd.name}. The only supported types are: "
                "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                "uint8, and bool.")
    return d


def _raise_uint64():
    raise TypeError("can't convert np.ndarray of type numpy.uint64; ember has no uint64 dtype")


def to_numpy_dtype(d: dtype) -> np.dtype:
    npd = d._np
    if npd is None:
        return d.numpy_dtype  # raises the helpful ml_dtypes error
    return npd


# ---------------------------------------------------------------------------------------------
# Promotion
# ---------------------------------------------------------------------------------------------

def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    ca, cb = a._cat, b._cat
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi._cat == _COMPLEX and lo is float64:
            return complex128
        return hi
    if ca == _INT:
        # uint8 with a signed type needs the next wider signed type; NumPy agrees for these.
        return from_numpy_dtype(np.promote_types(a._np, b._np))
    if ca == _FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize > b.itemsize else b
    if ca == _COMPLEX:
        return a if a.itemsize > b.itemsize else b
    return a


_PROMOTE = [[_promote_pair(a, b) for b in _ALL] for a in _ALL]


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """``torch.promote_types``: the smallest dtype both can be cast to, by PyTorch's lattice."""
    return _PROMOTE[type1._index][type2._index]


class _DefaultDtype:
    value = float32


_default = _DefaultDtype()


def get_default_dtype() -> dtype:
    """``torch.get_default_dtype``: the dtype of float tensors created from Python floats."""
    return _default.value


def set_default_dtype(d: dtype) -> None:
    """``torch.set_default_dtype``: only floating-point types are accepted, as in PyTorch."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default.value = d


def default_complex_dtype() -> dtype:
    return complex128 if _default.value is float64 else complex64


def is_floating_point(t) -> bool:
    """``torch.is_floating_point``."""
    return t.dtype.is_floating_point


def is_complex(t) -> bool:
    """``torch.is_complex``."""
    return t.dtype.is_complex


# ---------------------------------------------------------------------------------------------
# finfo / iinfo
# ---------------------------------------------------------------------------------------------

def _g(x) -> str:
    return f"{x:g}"


class finfo:
    """``torch.finfo``: machine limits of a floating dtype."""

    def __init__(self, type: dtype | None = None):  # noqa: A002 - PyTorch's argument name
        d = get_default_dtype() if type is None else type
        if not (d.is_floating_point or d.is_complex):
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{d._name}'")
        d = d.to_real()
        if d is bfloat16:
            self.bits, self.eps, self.max = 16, 0.0078125, 3.3895313892515355e38
            self.tiny = self.smallest_normal = 1.1754943508222875e-38
            self.resolution = 0.01
        else:
            fi = np.finfo(d._np)
            self.bits = fi.bits
            self.eps = builtin_float(fi.eps)
            self.max = builtin_float(fi.max)
            self.tiny = self.smallest_normal = builtin_float(fi.smallest_normal)
            self.resolution = 10.0 ** -builtin_int(fi.precision)
        self.min = -self.max
        self.dtype = d._name

    def __repr__(self) -> str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, "
                f"eps={_g(self.eps)}, smallest_normal={_g(self.smallest_normal)}, "
                f"tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """``torch.iinfo``: limits of an integer dtype."""

    def __init__(self, type: dtype):  # noqa: A002
        if type.is_floating_point or type.is_complex or type is bool:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo "
                            f"to handle '{type._name}'")
        ii = np.iinfo(type._np)
        self.bits, self.min, self.max, self.dtype = ii.bits, builtin_int(ii.min), \
            builtin_int(ii.max), type._name

    def __repr__(self) -> str:
        # PyTorch prints the limits with %g, like finfo's
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"


import builtins as _builtins  # noqa: E402 - the names float/int/bool above shadow the builtins

builtin_float = _builtins.float
builtin_int = _builtins.int
builtin_bool = _builtins.bool
