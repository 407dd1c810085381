"""Tensor printing, reproducing PyTorch's ``torch/_tensor_str.py`` format exactly.

One formatter per tensor decides between integer, fixed and scientific notation from the
finite non-zero values; large tensors are summarized with ``...`` past ``threshold`` elements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _dtype

__all__ = ["set_printoptions", "get_printoptions", "printoptions"]


@dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """``torch.set_printoptions``."""
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
        elif profile == "short":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
        elif profile == "full":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """``torch._tensor_str.get_printoptions``."""
    return dict(vars(PRINT_OPTS))


class printoptions:
    """Context manager that sets print options temporarily."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def __enter__(self):
        self.old = get_printoptions()
        set_printoptions(**self.kwargs)

    def __exit__(self, *args):
        set_printoptions(**self.old)


def _host(a) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.get()


class _Formatter:
    def __init__(self, values: np.ndarray):
        self.floating_dtype = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating_dtype:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)]
            if finite.size == 0:
                return
            vals = finite.tolist()
            absv = np.abs(finite.astype(np.float64))
            fmin, fmax = float(absv.min()), float(absv.max())
            self.int_mode = bool(np.all(finite == np.ceil(finite)))
            prec = PRINT_OPTS.precision
            # the notation is decided first (or forced by sci_mode); widths follow from it
            if PRINT_OPTS.sci_mode is None:
                self.sci_mode = fmax / fmin > 1000.0 or fmax > 1.0e8 or fmin < 1.0e-4
            else:
                self.sci_mode = bool(PRINT_OPTS.sci_mode)
            if self.sci_mode:
                width = max(len(f"{v:.{prec}e}") for v in vals)
            elif self.int_mode:
                width = max(len(f"{v:.0f}") for v in vals) + 1
            else:
                width = max(len(f"{v:.{prec}f}") for v in vals)
            self.max_width = max(self.max_width, width)

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        if self.floating_dtype:
            prec = PRINT_OPTS.precision
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{prec}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{prec}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _val_str(val, f1: _Formatter, f2: _Formatter | None) -> str:
    if f2 is None:
        return f1.format(val)
    real_str = f1.format(val.real)
    imag_str = (f2.format(val.imag) + "j").lstrip()
    if imag_str[0] in "+-":
        return real_str + imag_str
    return real_str + "+" + imag_str


def _vector_str(a: np.ndarray, indent: int, summarize: bool, f1, f2) -> str:
    element_length = f1.width() + 2
    if f2 is not None:
        element_length += f2.width() + 1
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([_val_str(v, f1, f2) for v in a[:e].tolist()] + [" ..."]
                + [_val_str(v, f1, f2) for v in a[-e:].tolist()])
    else:
        data = [_val_str(v, f1, f2) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _with_formatter(a: np.ndarray, indent: int, summarize: bool, f1, f2) -> str:
    dim = a.ndim
    if dim == 0:
        return _val_str(a.item(), f1, f2)
    if dim == 1:
        return _vector_str(a, indent, summarize, f1, f2)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_with_formatter(a[i], indent + 1, summarize, f1, f2) for i in range(e)]
                  + ["..."]
                  + [_with_formatter(a[i], indent + 1, summarize, f1, f2)
                     for i in range(a.shape[0] - e, a.shape[0])])
    else:
        slices = [_with_formatter(a[i], indent + 1, summarize, f1, f2)
                  for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized(a: np.ndarray) -> np.ndarray:
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty([0] * a.ndim, dtype=a.dtype)
    if a.shape[0] > 2 * e:
        rows = [a[i] for i in range(e)] + [a[i] for i in range(a.shape[0] - e, a.shape[0])]
    else:
        rows = list(a)
    return np.stack([_summarized(r) for r in rows])


def _array_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype == np.float16 or a.dtype == _dtype._BF16_NP:
        a = a.astype(np.float32)
    if a.dtype.kind == "c":
        src = _summarized(a) if summarize else a
        f1 = _Formatter(src.real.copy())
        f2 = _Formatter(src.imag.copy())
        return _with_formatter(a, indent, summarize, f1, f2)
    f = _Formatter(_summarized(a) if summarize else a)
    return _with_formatter(a, indent, summarize, f, None)


def _add_suffixes(tensor_str: str, suffixes, indent: int, force_newline: bool) -> str:
    strs = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        n = len(suffix)
        if force_newline or last_line_len + n + 2 > PRINT_OPTS.linewidth:
            strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + n
            force_newline = False
        else:
            strs.append(", " + suffix)
            last_line_len += n + 2
    strs.append(")")
    return "".join(strs)


def _current_cuda_device() -> int:
    from . import cuda

    return cuda.current_device()


def _str(t, *, tensor_contents=None) -> str:
    from ._tensor import Tensor

    # Parameters print as plain tensors here; Parameter.__repr__ adds its own header.
    plain = type(t) is Tensor or t._is_param
    prefix = "tensor(" if plain else f"{type(t).__name__}("
    indent = len(prefix)
    suffixes = []
    a = _host(t._data)
    dev = t.device
    from .ops.creation import get_default_device

    # PyTorch names the device unless it is the default device type (and, for CUDA, the
    # current device)
    if dev.type != get_default_device().type or (
            dev.type == "cuda" and _current_cuda_device() != dev.index):
        suffixes.append("device='" + str(dev) + "'")
    dt = t.dtype
    default = _dtype.get_default_dtype()
    has_default_dtype = dt in (default, _dtype.default_complex_dtype(), _dtype.int64,
                               _dtype.bool)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if dt is not default:
            suffixes.append("dtype=" + str(dt))
        tensor_str = "[]" if tensor_contents is None else tensor_contents
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        if not has_default_dtype:
            suffixes.append("dtype=" + str(dt))
        tensor_str = _array_str(a, indent) if tensor_contents is None else tensor_contents
    fn = t._grad_fn
    if fn is not None:
        suffixes.append(f"grad_fn=<{fn.name().rsplit('::', 1)[-1]}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)
