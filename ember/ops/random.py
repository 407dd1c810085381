"""Random sampling: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
``multinomial``, ``poisson`` and the in-place ``Tensor.uniform_``/``normal_``/... samplers.

Every sampler draws from ``ember._backend.rng_for(device, generator)``: NumPy's PCG64 on the CPU,
cuRAND on CUDA. The same seed gives the same numbers in ember; PyTorch's streams are not
reproduced. Argument checks, dtypes and error messages follow PyTorch 2.x. Samples are made
directly in the target precision (float32 tensors never go through float64 arrays); float16 and
bfloat16 are drawn in float32 and rounded.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _backend, _dtype
from .._backend import array_module, rng_for
from .._dtype import to_numpy_dtype
from .._tensor import Tensor, _c_name, _legacy_scalar_name, contiguous_format
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _util
from .creation import _INT_TYPE_NAMES, _device, _finish, cast_scalar, check_fill_value, size_arg

__all__ = ["rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "normal", "bernoulli", "multinomial", "poisson"]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
# float16/bfloat16 uniforms are k * 2**-digits (exact in the target type), like PyTorch's
_DIGITS = {np.dtype(np.float16): 11, _F32: 24, _F64: 53}
if _dtype._BF16_NP is not None:
    _DIGITS[_dtype._BF16_NP] = 8


def _fmt(x) -> str:
    """A number as PyTorch's C++ messages print it (``-2``, ``0.5``, ``3.4e+38``, ``nan``)."""
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, numbers.Integral):
        return str(int(x))
    return f"{float(x):g}"


def _is_float(npd) -> bool:
    return npd.kind == "f" or npd == _dtype._BF16_NP


def _not_implemented(kernel: str, d: _dtype.dtype):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_legacy_scalar_name(d)}\'')


def _real_of(npd: np.dtype) -> np.dtype:
    return _F32 if npd == np.complex64 else _F64


def _work(npd: np.dtype) -> np.dtype:
    """The dtype samples are drawn in: float32/float64 themselves, float32 for 16-bit floats."""
    return npd if npd in (_F32, _F64) else _F32


def _scalar(x, name: str, what: str = "float"):
    """A Python number from a number or a one-element tensor (PyTorch accepts both)."""
    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise TypeError(f"{name}(): argument '{what}' must be Number, not Tensor")
        return x.item()
    if isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, complex):
        return x
    raise TypeError(f"{name}(): argument '{what}' must be Number, not {type(x).__name__}")


def _int_arg(x, name: str, what: str) -> int:
    if isinstance(x, Tensor) and x.numel() == 1 and not x.is_floating_point():
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (numbers.Integral, np.integer)):
        raise TypeError(f"{name}(): argument '{what}' must be int, not {type(x).__name__}")
    x = int(x)
    if not -(1 << 63) <= x < (1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return x


# ---------------------------------------------------------------------------------------------
# array-level samplers (NumPy or CuPy, decided by the generator)
# ---------------------------------------------------------------------------------------------

def _uniform_array(rng, shape, npd, low=0.0, high=1.0):
    """Samples of dtype ``npd`` uniform on [low, high); complex: both parts independently."""
    if npd.kind == "c":
        parts = _uniform_array(rng, tuple(shape) + (2,), _real_of(npd), low, high)
        return parts.view(npd).reshape(shape)
    work = _work(npd)
    u = rng.random(shape, dtype=work)
    if work != npd:
        # keep only the target's mantissa bits so rounding to npd cannot produce 1.0
        xp = array_module(u)
        scale = float(1 << _DIGITS[npd])
        u *= scale
        xp.floor(u, out=u)
        u *= 1.0 / scale
    if low != 0.0 or high != 1.0:
        u *= high - low
        u += low
    return u if work == npd else u.astype(npd)


def _normal_array(rng, shape, npd, mean=0.0, std=1.0):
    """Normal(mean, std) samples of dtype ``npd``; complex: variance split over both parts."""
    if npd.kind == "c":
        parts = _normal_array(rng, tuple(shape) + (2,), _real_of(npd), mean, std / math.sqrt(2))
        return parts.view(npd).reshape(shape)
    work = _work(npd)
    z = rng.standard_normal(shape, dtype=work)
    if std != 1.0:
        z *= std
    if mean != 0.0:
        z += mean
    return z if work == npd else z.astype(npd)


def _open_uniform(rng, shape, work):
    """Uniform on (0, 1] in dtype ``work`` (safe to take the log of)."""
    u = rng.random(shape, dtype=work)
    array_module(u).subtract(1.0, u, out=u)
    return u


def _randint_array(rng, shape, low: int, high: int, npd):
    """Integers uniform on [low, high) stored as dtype ``npd``."""
    if npd.kind in "iub":
        return rng.integers(low, high, size=shape, dtype=npd)
    small = -(1 << 31) <= low and high <= (1 << 31)
    r = rng.integers(low, high, size=shape, dtype=np.int32 if small else np.int64)
    return r.astype(npd)


# ---------------------------------------------------------------------------------------------
# argument checks shared by the samplers
# ---------------------------------------------------------------------------------------------

def _float_dtype(dtype, kernel: str) -> np.dtype:
    d = _dtype.get_default_dtype() if dtype is None else dtype
    npd = to_numpy_dtype(d)
    if not (_is_float(npd) or npd.kind == "c"):
        raise _not_implemented(kernel, d)
    return npd


def _check_grad_dtype(requires_grad: bool, npd) -> None:
    if requires_grad and not (_is_float(npd) or npd.kind == "c"):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")


def _out_dtype(out, dtype, name: str):
    """``dtype``/``device`` of a factory's result when ``out=`` is given."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if dtype is not None and dtype is not out.dtype:
        raise RuntimeError(f"dtype {_legacy_scalar_name(dtype)} does not match dtype of out "
                           f"parameter ({_legacy_scalar_name(out.dtype)})")
    return out.dtype


def _store_out(out: Tensor, arr, name: str) -> Tensor:
    """Write a factory's result into ``out`` (resized silently, as PyTorch's factories do)."""
    if _state.enabled and out._rg:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out._data.shape == arr.shape:
        out._data[...] = arr
    else:
        out._data = arr
    out._bump_version()
    return out


def _factory_setup(name: str, size, kwargs, out, dtype, device, generator):
    """Shared start of rand/randn: the shape, device, generator and dtype of the result."""
    _check_kwargs(kwargs, name)
    shape = size_arg(size, kwargs, name)
    if out is not None:
        dtype = _out_dtype(out, dtype, name)
        device = out.device
    dev = _device(device)
    return shape, dev, rng_for(dev, generator), dtype


def _finish_sample(arr, out, requires_grad: bool, name: str) -> Tensor:
    if out is not None:
        return _store_out(out, arr, name)
    return _finish(arr, requires_grad)


def _check_kwargs(kwargs: dict, name: str) -> None:
    extra = [k for k in kwargs if k != "size"]
    if extra:
        raise TypeError(f"{name}() got an unexpected keyword argument '{extra[0]}'")


# ---------------------------------------------------------------------------------------------
# factories
# ---------------------------------------------------------------------------------------------

def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False, **kwargs) -> Tensor:
    """``torch.rand``: uniform samples on [0, 1); ``rand(2, 3)`` or ``rand((2, 3))``."""
    shape, dev, rng, dtype = _factory_setup("rand", size, kwargs, out, dtype, device, generator)
    npd = _float_dtype(dtype, "check_uniform_bounds")
    _check_grad_dtype(requires_grad, npd)
    with _backend.on_device(dev):
        arr = _uniform_array(rng, shape, npd)
    return _finish_sample(arr, out, requires_grad, "rand")


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False, **kwargs) -> Tensor:
    """``torch.randn``: standard normal samples (complex: unit total variance)."""
    shape, dev, rng, dtype = _factory_setup("randn", size, kwargs, out, dtype, device,
                                            generator)
    npd = _float_dtype(dtype, "normal_kernel_cpu")
    with _backend.on_device(dev):
        arr = _normal_array(rng, shape, npd)
    return _finish_sample(arr, out, requires_grad, "randn")


def _random_bounds(npd, d: _dtype.dtype, low: int, high: int | None, name="random_"):
    """PyTorch's checks of a discrete range [low, high) for dtype ``d``; ``high=None`` means
    up to the largest value the dtype holds exactly. Returns the exclusive upper bound."""
    if npd.kind == "c":
        raise RuntimeError("check_random_bounds handles only integral, floating-point and "
                           "boolean types")
    if npd.kind == "b":
        lo_lim, hi_lim = 0, 1
    elif npd.kind in "iu":
        info = np.iinfo(npd)
        lo_lim, hi_lim = int(info.min), int(info.max)
    else:
        fmax = float(_dtype.finfo(d).max)
        lo_lim, hi_lim = -fmax, fmax
    if high is None:
        if npd.kind in "iub":
            high = hi_lim + 1
        else:
            high = (1 << _DIGITS[npd]) + 1
    if low >= high:
        raise RuntimeError(f"{name} expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    cname = _c_name(d)
    if not lo_lim <= low <= hi_lim:
        raise RuntimeError(f"from is out of bounds for {cname}")
    if not lo_lim <= high - 1 <= hi_lim:
        raise RuntimeError(f"to - 1 is out of bounds for {cname}")
    if _is_float(npd):
        digits = _DIGITS[npd]
        lim = 1 << digits
        for what, v in (("from", low), ("to - 1", high - 1)):
            if not -lim <= v <= lim:
                warnings.warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                              f"precision limitations {cname} can support discrete uniform "
                              "distribution only within this range. This warning will become "
                              "an error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=4)
    return high


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``torch.randint(high, size)`` / ``randint(low, high, size)``: int64 unless ``dtype``."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # randint(high, size)
    elif high is None:
        low, high = 0, low  # randint(high, size=...)
    if size is None:
        if isinstance(high, (numbers.Integral, Tensor)):
            raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, "
                            f"not {type(high).__name__}")
        raise TypeError("randint() missing required argument 'size'")
    if isinstance(size, (numbers.Integral, Tensor)):
        raise TypeError(f"randint(): argument 'size' (position {2 if low == 0 else 3}) must be "
                        f"tuple of ints, not {type(size).__name__}")
    for v in (low, high):
        if isinstance(v, float):
            raise TypeError(f"randint() received an invalid combination of arguments - got "
                            f"({type(low).__name__}, {type(high).__name__}, "
                            f"{type(size).__name__})")
    low, high = _int_arg(low, "randint", "low"), _int_arg(high, "randint", "high")
    shape = size_arg((size,), {}, "randint")
    if out is not None:
        dtype = _out_dtype(out, dtype, "randint")
        device = out.device
    d = _dtype.int64 if dtype is None else dtype
    npd = to_numpy_dtype(d)
    _check_grad_dtype(requires_grad, npd)
    high = _random_bounds(npd, d, low, high)
    dev = _device(device)
    rng = rng_for(dev, generator)
    with _backend.on_device(dev):
        arr = _randint_array(rng, shape, low, high, npd)
    return _finish_sample(arr, out, requires_grad, "randint")


_PERM_FLOAT_LIMIT = {np.dtype(np.float16): (2049, "2049", "Half"),
                     _F32: ((1 << 24) + 1, "2^24+1", "Float"),
                     _F64: ((1 << 53) + 1, "2^53+1", "Double")}


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``torch.randperm``: a random permutation of ``0..n-1`` (int64 unless ``dtype``)."""
    n = _int_arg(n, "randperm", "n")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if out is not None:
        dtype = _out_dtype(out, dtype, "randperm")
        device = out.device
    d = _dtype.int64 if dtype is None else dtype
    npd = to_numpy_dtype(d)
    if npd.kind in "bc":
        raise _not_implemented("randperm", d)
    _check_grad_dtype(requires_grad, npd)
    if npd.kind in "iu" and n - 1 > np.iinfo(npd).max:
        raise RuntimeError(f"value cannot be converted to type {_INT_TYPE_NAMES[d._name]} without "
                           "overflow")
    lim = _PERM_FLOAT_LIMIT.get(npd)
    if lim is not None and n > lim[0]:
        raise RuntimeError(f"n cannot be greater than {lim[1]} for {lim[2]} type.")
    dev = _device(device)
    rng = rng_for(dev, generator)
    with _backend.on_device(dev):
        perm = rng.permutation(n)
    arr = perm if perm.dtype == npd else perm.astype(npd)
    return _finish_sample(arr, out, requires_grad, "randperm")


def _like_args(input, dtype, device, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    d = input.dtype if dtype is None else dtype
    dev = input.device if device is None else _device(device)
    return d, dev


def _like_layout(t: Tensor, input: Tensor, memory_format) -> Tensor:
    """Give ``t`` (fresh, contiguous) ``input``'s dense layout, as ``preserve_format`` does."""
    a = input._data
    if a.flags.c_contiguous or memory_format is contiguous_format or t.device != input.device:
        return t
    xp = array_module(t._data)
    arr = xp.empty_like(a, dtype=t._data.dtype)
    arr[...] = t._data
    t._data = arr
    return t


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """``torch.rand_like``: ``rand`` with ``input``'s shape, layout, dtype and device."""
    d, dev = _like_args(input, dtype, device, "rand_like")
    return _like_layout(rand(input.shape, generator=generator, dtype=d, device=dev,
                             requires_grad=requires_grad), input, memory_format)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """``torch.randn_like``: ``randn`` with ``input``'s shape, layout, dtype and device."""
    d, dev = _like_args(input, dtype, device, "randn_like")
    return _like_layout(randn(input.shape, generator=generator, dtype=d, device=dev,
                              requires_grad=requires_grad), input, memory_format)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """``torch.randint_like(input, high)`` / ``randint_like(input, low, high)``."""
    d, dev = _like_args(input, dtype, device, "randint_like")
    if high is None:
        low, high = 0, low
    return _like_layout(randint(low, high, tuple(input.shape), generator=generator, dtype=d,
                                device=dev, requires_grad=requires_grad), input, memory_format)


# ---------------------------------------------------------------------------------------------
# autograd: samples do not depend differentiably on their parameters (PyTorch's zero grads)
# ---------------------------------------------------------------------------------------------

class _Sampled(Op):
    """Output = a precomputed sample; every tensor argument gets a zero gradient."""

    @staticmethod
    def forward(ctx, *args):
        return args[-1]

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        return tuple(_util.zeros_like_tensor(g) if e[i] else None
                     for i in range(len(e) - 1)) + (None,)


class NormalBackward0(_Sampled, name="NormalBackward0"):
    pass


class NormalBackward1(_Sampled, name="NormalBackward1"):
    pass


class NormalBackward2(_Sampled, name="NormalBackward2"):
    pass


class NormalBackward3(_Sampled, name="NormalBackward3"):
    pass


class BernoulliBackward0(_Sampled, name="BernoulliBackward0"):
    pass


class BernoulliBackward1(_Sampled, name="BernoulliBackward1"):
    pass


class BernoulliBackward2(_Sampled, name="BernoulliBackward2"):
    pass


class PoissonBackward0(_Sampled, name="PoissonBackward0"):
    pass


class UniformBackward0(_Sampled, name="UniformBackward0"):
    pass


class RandomBackward0(_Sampled, name="RandomBackward0"):
    pass


class RandomBackward1(_Sampled, name="RandomBackward1"):
    pass


class RandomBackward2(_Sampled, name="RandomBackward2"):
    pass


class ExponentialBackward0(_Sampled, name="ExponentialBackward0"):
    pass


class GeometricBackward0(_Sampled, name="GeometricBackward0"):
    pass


class CauchyBackward0(_Sampled, name="CauchyBackward0"):
    pass


class LogNormalBackward0(_Sampled, name="LogNormalBackward0"):
    pass


class FillBackward2(_Sampled, name="FillBackward2"):
    pass


class ZeroBackward0(_Sampled, name="ZeroBackward0"):
    pass


class FillBackward3(Op, name="FillBackward3"):
    """``fill_(value_tensor)``: the old values get zero gradient, ``value`` the sum."""

    @staticmethod
    def forward(ctx, a, value, new):
        return new

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        return (_util.zeros_like_tensor(g) if e[0] else None,
                g.sum() if e[1] else None, None)


class _NoDerivative(Op, name="NotImplemented"):
    """What PyTorch records for ``bernoulli(input, p)``: backward is an error."""

    @staticmethod
    def forward(ctx, a, new):
        return new

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::bernoulli is not implemented")


def _sampled(op, tensors, arr) -> Tensor:
    """Wrap sample ``arr`` as the output of ``op`` over ``tensors`` (graph only when needed)."""
    if _state.enabled and any(t._rg for t in tensors):
        return op.apply(*tensors, arr)
    return _finish(arr, False)


def _write_sample(self: Tensor, arr, op, *tensors) -> Tensor:
    """Store ``arr`` into ``self`` in place; records ``op`` when a gradient flows through."""
    if _state.enabled and (self._rg or any(t._rg for t in tensors)):
        return _util.inplace(self, op.apply(self, *tensors, arr))
    d = self._data
    if d.ndim == 0 and type(d) is np.ndarray:
        d[()] = arr
    else:
        d[...] = arr
    self._bump_version()
    return self


# ---------------------------------------------------------------------------------------------
# normal / bernoulli / poisson / multinomial
# ---------------------------------------------------------------------------------------------

def _check_std(std) -> None:
    if not std >= 0.0:  # also rejects nan, as PyTorch does
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")


def _check_std_tensor(std: Tensor) -> None:
    a = std._data
    if a.size and bool((a < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """``torch.normal`` with PyTorch's four overloads: (Tensor, Tensor), (Tensor, float),
    (float, Tensor) — shapes broadcast, zero gradients — and (float, float, size)."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if mt or st:
        if size is not None or dtype is not None or requires_grad or device is not None:
            got = ", ".join(type(a).__name__ for a in (mean, std, size) if a is not None)
            raise TypeError(f"normal() received an invalid combination of arguments - got "
                            f"({got}), but expected one of: (Tensor mean, Tensor std), (Tensor "
                            "mean, float std), (float mean, Tensor std), (float mean, float "
                            "std, tuple of ints size)")
        ref = mean if mt else std
        npd = ref._data.dtype
        if not (_is_float(npd) or npd.kind == "c"):
            raise _not_implemented("normal_kernel_cpu", ref.dtype)
        if mt and st:
            _check_std_tensor(std)
            mean, std = _util.same_device(mean, std)
            shape = _util.broadcast_shapes_or_raise(mean._data.shape, std._data.shape)
            op, tensors = NormalBackward3, (mean, std)
        elif mt:
            std = _scalar(std, "normal", "std")
            _check_std(std)
            shape, op, tensors = mean._data.shape, NormalBackward1, (mean,)
        else:
            mean = _scalar(mean, "normal", "mean")
            _check_std_tensor(std)
            shape, op, tensors = std._data.shape, NormalBackward2, (std,)
        dev = ref.device
        rng = rng_for(dev, generator)
        with _backend.on_device(dev):
            z = _normal_array(rng, shape, npd)
            # scale and shift in the output dtype (PyTorch: mean + std * z)
            z *= std._data.astype(npd, copy=False) if st else std
            z += mean._data.astype(npd, copy=False) if mt else mean
        res = _sampled(op, tensors, z)
        return res if out is None else _util.write_out(out, res, "normal")
    mean = _scalar(mean, "normal", "mean")
    std = _scalar(std, "normal", "std")
    if size is None:
        raise TypeError(f"normal() received an invalid combination of arguments - got "
                        f"({type(mean).__name__}, {type(std).__name__}), but expected one of: "
                        "(Tensor mean, Tensor std), (Tensor mean, float std), (float mean, "
                        "Tensor std), (float mean, float std, tuple of ints size)")
    shape = size_arg((size,), {}, "normal")
    if out is not None:
        dtype = _out_dtype(out, dtype, "normal")
        device = out.device
    npd = _float_dtype(dtype, "normal_kernel_cpu")
    _check_std(std)
    dev = _device(device)
    rng = rng_for(dev, generator)
    with _backend.on_device(dev):
        arr = _normal_array(rng, shape, npd, mean, std)
    return _finish_sample(arr, out, requires_grad, "normal")


_P_MSG = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
          "be improved?  If so, please report an enhancement request to PyTorch.)")


def _check_p_scalar(p) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
    return p


def _check_p_tensor(p: Tensor) -> None:
    a = p._data
    if a.size and not bool(((a >= 0) & (a <= 1)).all()):
        raise RuntimeError(_P_MSG)


def _bernoulli_array(rng, shape, p, p_npd, out_npd):
    """0/1 samples: ``u < p`` with ``u`` uniform in ``p``'s precision, stored as ``out_npd``."""
    work = p_npd if p_npd in (_F32, _F64) else _F32
    u = rng.random(shape, dtype=work)
    hit = u < (p.astype(work, copy=False) if not isinstance(p, float) else p)
    return hit.astype(out_npd)


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """``torch.bernoulli(input)`` (``input`` holds the probabilities) or
    ``bernoulli(input, p)`` (a tensor like ``input`` with probability ``p``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    npd = input._data.dtype
    shape = input._data.shape
    if out is not None and not isinstance(out, Tensor):
        raise TypeError(f"bernoulli(): argument 'out' must be Tensor, not {type(out).__name__}")
    out_npd = npd if out is None else out._data.dtype
    rng = rng_for(input.device, generator)
    if p is None:
        if not _is_float(npd):
            raise _not_implemented("bernoulli_tensor_cpu_self_" if npd.kind == "c"
                                   else "bernoulli_tensor_cpu_p_", input.dtype)
        _check_p_tensor(input)
        with _backend.on_device(input.device):
            arr = _bernoulli_array(rng, shape, input._data, npd, out_npd)
        op = BernoulliBackward0
    else:
        if npd.kind == "c":
            raise _not_implemented("bernoulli_scalar_cpu_", input.dtype)
        p = _check_p_scalar(_scalar(p, "bernoulli", "p"))
        with _backend.on_device(input.device):
            arr = _bernoulli_array(rng, shape, p, npd if _is_float(npd) else _F64, out_npd)
        op = _NoDerivative
    if out is not None:
        if _state.enabled and input._rg:
            raise RuntimeError("bernoulli(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        return _store_out(out, arr, "bernoulli")
    return _sampled(op, (input,), arr)


def poisson(input, generator=None) -> Tensor:
    """``torch.poisson``: Poisson counts with rates ``input``, in ``input``'s dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    lam = input._data
    if not _is_float(lam.dtype):
        raise _not_implemented("poisson_cpu", input.dtype)
    xp = array_module(lam)
    if lam.size and not bool((lam >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    rng = rng_for(input.device, generator)
    lam64 = lam.astype(np.float64)
    # NumPy refuses rates near 2**63; there a normal approximation is exact to float precision
    big = lam64 > 1e15
    with _backend.on_device(input.device):
        counts = rng.poisson(xp.where(big, 0.0, lam64)).astype(lam.dtype)
        if bool(big.any()):
            approx = lam64 + xp.sqrt(lam64) * rng.standard_normal(lam.shape)
            approx = xp.where(xp.isinf(lam64), xp.inf, xp.round(approx))
            counts = xp.where(big, approx.astype(lam.dtype), counts)
    return _sampled(PoissonBackward0, (input,), counts)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None,
                out=None) -> Tensor:
    """``torch.multinomial``: category indices drawn from each row of ``input`` (weights).

    With replacement: inverse-CDF sampling. Without: the largest ``num_samples`` keys
    ``w / E`` with ``E ~ Exp(1)`` (equivalent to sequential draws without replacement).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_legacy_scalar_name(input.dtype)}")
    if out is not None and (not isinstance(out, Tensor) or out.dtype is not _dtype.int64):
        got = _legacy_scalar_name(out.dtype) if isinstance(out, Tensor) else type(out).__name__
        raise RuntimeError(f"multinomial expects Long tensor out, got: {got}")
    n = _int_arg(num_samples, "multinomial", "num_samples")
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    a = input._data
    ncat = a.shape[-1]
    if not replacement and n > ncat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if ncat > (1 << 24):
        raise RuntimeError("number of categories cannot exceed 2^24")
    xp = array_module(a)
    w = a.reshape(-1, ncat).astype(np.float64)
    rows = w.shape[0]
    if w.size:
        if not bool((xp.isfinite(w) & (w >= 0)).all()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if not bool((w.sum(-1) > 0).all()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = rng_for(input.device, generator)
    with _backend.on_device(input.device):
        if rows == 0:
            idx = xp.empty((0, n), dtype=np.int64)
        elif replacement:
            idx = _sample_with_replacement(xp, rng, w, n)
        else:
            idx = _sample_without_replacement(xp, rng, w, n)
    if a.ndim == 1:
        idx = idx.reshape(n)
    res = _finish(idx, False)
    return res if out is None else _store_out(out, idx, "multinomial")


def _sample_with_replacement(xp, rng, w, n):
    rows, ncat = w.shape
    cdf = xp.cumsum(w, axis=-1)
    cdf /= cdf[:, -1:]
    # One searchsorted over all rows: row r's CDF is shifted into [2r, 2r + 1].
    shift = 2.0 * xp.arange(rows, dtype=np.float64)[:, None]
    u = rng.random((rows, n))
    flat = (cdf + shift).reshape(-1)
    pos = xp.searchsorted(flat, (u + shift).reshape(-1), side="right").reshape(rows, n)
    idx = pos - (xp.arange(rows, dtype=np.int64) * ncat)[:, None]
    # rounding can push a draw past the last category with positive weight
    last = ncat - 1 - xp.argmax(w[:, ::-1] > 0, axis=-1)
    return xp.minimum(idx, last[:, None]).astype(np.int64)


def _sample_without_replacement(xp, rng, w, n):
    e = rng.standard_exponential(w.shape)
    xp.maximum(e, np.finfo(np.float64).tiny, out=e)
    keys = -(w / e)  # ascending order of keys = order of the draws
    if n < w.shape[1]:
        top = xp.argpartition(keys, n - 1, axis=-1)[:, :n]
        order = xp.argsort(xp.take_along_axis(keys, top, axis=-1), axis=-1)
        return xp.take_along_axis(top, order, axis=-1).astype(np.int64)
    return xp.argsort(keys, axis=-1).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# in-place samplers (Tensor methods)
# ---------------------------------------------------------------------------------------------

def uniform_(self, from_=0.0, to=1.0, *, generator=None) -> Tensor:
    """``Tensor.uniform_(from=0, to=1)``: fill with samples uniform on [from, to)."""
    npd = self._data.dtype
    if not (_is_float(npd) or npd.kind == "c"):
        raise _not_implemented("check_uniform_bounds", self.dtype)
    lo, hi = float(_scalar(from_, "uniform_", "from")), float(_scalar(to, "uniform_", "to"))
    if lo > hi:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt(lo)} > to={_fmt(hi)}")
    real = self.dtype.to_real()
    fmax = float(_dtype.finfo(real).max)
    cname = _c_name(real)
    if not -fmax <= lo <= fmax:
        raise RuntimeError(f"from is out of bounds for {cname}")
    if not -fmax <= hi <= fmax:
        raise RuntimeError(f"to is out of bounds for {cname}")
    if hi - lo > fmax:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<"
                           f"{_legacy_scalar_name(real)}>::max(), but found to={_fmt(hi)} and "
                           f"from={_fmt(lo)} which result in to-from to exceed the limit")
    _util.check_inplace(self)
    with _backend.on_device(self.device):
        arr = _uniform_array(rng_for(self.device, generator), self._data.shape, npd, lo, hi)
    return _write_sample(self, arr, UniformBackward0)


def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """``Tensor.normal_(mean=0, std=1)``."""
    npd = self._data.dtype
    if not (_is_float(npd) or npd.kind == "c"):
        raise _not_implemented("normal_kernel_cpu", self.dtype)
    mean, std = float(_scalar(mean, "normal_", "mean")), float(_scalar(std, "normal_", "std"))
    _check_std(std)
    _util.check_inplace(self)
    with _backend.on_device(self.device):
        arr = _normal_array(rng_for(self.device, generator), self._data.shape, npd, mean, std)
    return _write_sample(self, arr, NormalBackward0)


_MISSING = object()


def random_(self, from_=_MISSING, to=_MISSING, *, generator=None) -> Tensor:
    """``Tensor.random_()`` / ``random_(to)`` / ``random_(from, to)``; ``to=None`` means up to
    the largest value of the dtype (2**mantissa for floating types)."""
    npd = self._data.dtype
    if from_ is _MISSING and to is _MISSING:
        low, high, op = 0, None, RandomBackward2
        if npd.kind == "c":
            raise _not_implemented("random_kernel_cpu", self.dtype)
    elif to is _MISSING:
        low, high, op = 0, _int_arg(from_, "random_", "to"), RandomBackward1
    else:
        low = 0 if from_ is _MISSING else _int_arg(from_, "random_", "from")
        high = None if to is None else _int_arg(to, "random_", "to")
        op = RandomBackward0 if from_ is not _MISSING else RandomBackward1
    high = _random_bounds(npd, self.dtype, low, high)
    _util.check_inplace(self)
    with _backend.on_device(self.device):
        arr = _randint_array(rng_for(self.device, generator), self._data.shape, low, high, npd)
    return _write_sample(self, arr, op)


def _continuous_only(self, dist: str, ctype: bool = False) -> None:
    if not _is_float(self._data.dtype):
        name = _c_name(self.dtype) if ctype else _legacy_scalar_name(self.dtype)
        raise RuntimeError(f"{dist} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {name}")


def exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    """``Tensor.exponential_(lambd=1)``: samples with density ``lambd * exp(-lambd * x)``."""
    _continuous_only(self, "Exponential")
    lambd = float(_scalar(lambd, "exponential_", "lambd"))
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    _util.check_inplace(self)
    npd = self._data.dtype
    work = _work(npd)
    with _backend.on_device(self.device):
        e = rng_for(self.device, generator).standard_exponential(self._data.shape, dtype=work)
        e *= 1.0 / lambd
    return _write_sample(self, e if work == npd else e.astype(npd), ExponentialBackward0)


def geometric_(self, p, *, generator=None) -> Tensor:
    """``Tensor.geometric_(p)``: number of Bernoulli(p) trials up to the first success."""
    npd = self._data.dtype
    if npd.kind in "bc":
        raise _not_implemented("geometric_cpu", self.dtype)
    p = float(_scalar(p, "geometric_", "p"))
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    _util.check_inplace(self)
    work = _F64 if npd in (_F64,) or npd.kind in "iu" else _F32
    with _backend.on_device(self.device):
        u = _open_uniform(rng_for(self.device, generator), self._data.shape, work)
        xp = array_module(u)
        xp.log(u, out=u)
        u *= 1.0 / math.log1p(-p)
        xp.ceil(u, out=u)
        xp.maximum(u, 1.0, out=u)
    return _write_sample(self, u.astype(npd), GeometricBackward0)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """``Tensor.cauchy_(median=0, sigma=1)``: ``median + sigma * tan(pi * (u - 1/2))``."""
    _continuous_only(self, "Cauchy", ctype=True)
    median = float(_scalar(median, "cauchy_", "median"))
    sigma = float(_scalar(sigma, "cauchy_", "sigma"))
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    _util.check_inplace(self)
    npd = self._data.dtype
    with _backend.on_device(self.device):
        u = rng_for(self.device, generator).random(self._data.shape, dtype=_work(npd))
        xp = array_module(u)
        u -= 0.5
        u *= math.pi
        xp.tan(u, out=u)
        u *= sigma
        u += median
    return _write_sample(self, u.astype(npd, copy=False), CauchyBackward0)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """``Tensor.log_normal_(mean=1, std=2)``: ``exp`` of Normal(mean, std) samples."""
    if not _is_float(self._data.dtype):
        raise _not_implemented("log_normal_cpu", self.dtype)
    mean = float(_scalar(mean, "log_normal_", "mean"))
    std = float(_scalar(std, "log_normal_", "std"))
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    _util.check_inplace(self)
    npd = self._data.dtype
    work = _work(npd)
    with _backend.on_device(self.device):
        z = _normal_array(rng_for(self.device, generator), self._data.shape, work, mean, std)
        array_module(z).exp(z, out=z)
    return _write_sample(self, z.astype(npd, copy=False), LogNormalBackward0)


def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """``Tensor.bernoulli_(p=0.5)``: 0/1 with probability ``p`` (a number or a tensor that
    broadcasts to ``self``)."""
    npd = self._data.dtype
    shape = self._data.shape
    if npd.kind == "c":
        raise _not_implemented("bernoulli_scalar_cpu_" if not isinstance(p, Tensor)
                               else "bernoulli_tensor_cpu_self_", self.dtype)
    rng = rng_for(self.device, generator)
    if isinstance(p, Tensor):
        if p._data.shape != shape:
            _expand_check(p._data.shape, shape)
        _check_p_tensor(p)
        _util.check_inplace(self)
        pa = p._data
        if type(pa) is not type(self._data):
            pa = _backend.to_device(pa, self.device)
        p_npd = pa.dtype if _is_float(pa.dtype) else _F64
        with _backend.on_device(self.device):
            arr = _bernoulli_array(rng, shape, array_module(pa).broadcast_to(pa, shape),
                                   p_npd, npd)
        return _write_sample(self, arr, BernoulliBackward1, p)
    p = _check_p_scalar(_scalar(p, "bernoulli_", "p"))
    _util.check_inplace(self)
    with _backend.on_device(self.device):
        arr = _bernoulli_array(rng, shape, p, npd if _is_float(npd) else _F64, npd)
    return _write_sample(self, arr, BernoulliBackward2)


def _expand_check(src: tuple, target: tuple) -> None:
    """PyTorch's error when ``src`` cannot be expanded to ``target``."""
    if len(src) > len(target):
        raise RuntimeError(f"expand: the number of sizes provided ({len(target)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({len(src)})")
    off = len(target) - len(src)
    for i in range(len(src) - 1, -1, -1):
        if src[i] != 1 and src[i] != target[i + off]:
            raise RuntimeError(f"The expanded size of the tensor ({target[i + off]}) must match "
                               f"the existing size ({src[i]}) at non-singleton dimension "
                               f"{i + off}.  Target sizes: {list(target)}.  Tensor sizes: "
                               f"{list(src)}")


def _bernoulli_method(self, p=None, *, generator=None) -> Tensor:
    """``Tensor.bernoulli(p=None)``."""
    return bernoulli(self, p, generator=generator)


def _multinomial_method(self, num_samples: int, replacement: bool = False, *,
                        generator=None) -> Tensor:
    return multinomial(self, num_samples, replacement, generator=generator)


# ---------------------------------------------------------------------------------------------
# fill_ / zero_
# ---------------------------------------------------------------------------------------------

def fill_(self, value) -> Tensor:
    """``Tensor.fill_(value)``: a number or a 0-d tensor (whose gradient is the sum)."""
    npd = self._data.dtype
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        _util.check_inplace(self)
        v = value._data
        if type(v) is not type(self._data):
            v = _backend.to_device(v, self.device)
        if npd.kind != "c" and v.dtype.kind == "c":
            v = v.real
        arr = array_module(self._data).empty(self._data.shape, dtype=npd)
        arr[...] = v.astype(npd)
        return _write_sample(self, arr, FillBackward3, value)
    if isinstance(value, str) or value is None or not isinstance(value, (numbers.Number,
                                                                          np.generic)):
        raise TypeError(f"fill_() received an invalid combination of arguments - got "
                        f"({type(value).__name__}), but expected one of: (Tensor value), "
                        "(Number value)")
    if isinstance(value, int) and not -(1 << 63) <= value < (1 << 64):
        raise OverflowError("int too big to convert")
    check_fill_value(value, npd, self.dtype)
    _util.check_inplace(self)
    if _state.enabled and self._rg:
        xp = array_module(self._data)
        with _backend.on_device(self.device):
            arr = xp.full(self._data.shape, cast_scalar(value, npd), dtype=npd)
        return _util.inplace(self, FillBackward2.apply(self, arr))
    d = self._data
    if d.ndim == 0 and type(d) is np.ndarray:
        d[()] = cast_scalar(value, npd)
    else:
        d[...] = cast_scalar(value, npd)
    self._bump_version()
    return self


def zero_(self) -> Tensor:
    """``Tensor.zero_()``."""
    _util.check_inplace(self)
    if _state.enabled and self._rg:
        return _util.inplace(self, ZeroBackward0.apply(self, _util.zeros_like_tensor(self)._data))
    self._data[...] = 0
    self._bump_version()
    return self


METHODS = {
    "uniform_": uniform_, "normal_": normal_, "random_": random_, "bernoulli_": bernoulli_,
    "exponential_": exponential_, "geometric_": geometric_, "cauchy_": cauchy_,
    "log_normal_": log_normal_, "fill_": fill_, "zero_": zero_,
    "bernoulli": _bernoulli_method, "multinomial": _multinomial_method,
}
