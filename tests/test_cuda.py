"""``ember.cuda``: on a machine without CuPy/GPU it must behave like PyTorch's CPU-only build;
with a GPU, the device, RNG, memory and stream functions are exercised (skipped otherwise)."""

import collections
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch

HAS_CUDA = ember.cuda.is_available()
needs_gpu = pytest.mark.skipif(not HAS_CUDA, reason="needs CuPy and a CUDA GPU")
cpu_only = pytest.mark.skipif(HAS_CUDA, reason="checks the behaviour without CUDA")
cpu_torch = pytest.mark.skipif(torch is None or torch.cuda.is_available(),
                               reason="needs PyTorch's CPU-only build as the oracle")


# ---------------------------------------------------------------------------------------------
# without CUDA: same results and exceptions as PyTorch's CPU build
# ---------------------------------------------------------------------------------------------

SAME_RESULT = [
    lambda c: c.is_available(),
    lambda c: c.device_count(),
    lambda c: c.is_initialized(),
    lambda c: c.manual_seed(1),
    lambda c: c.manual_seed_all(1),
    lambda c: c.seed(),
    lambda c: c.seed_all(),
    lambda c: c.get_rng_state_all(),
    lambda c: c.set_rng_state_all([]),
    lambda c: c.empty_cache(),
    lambda c: c.memory_allocated(),
    lambda c: c.memory_allocated(0),
    lambda c: c.memory_allocated("cuda:0"),
    lambda c: c.max_memory_allocated(),
    lambda c: c.memory_reserved(),
    lambda c: c.max_memory_reserved(),
    lambda c: c.memory_stats(),
    lambda c: c.memory_stats(0),
    lambda c: c.is_bf16_supported(),
    lambda c: c.is_bf16_supported(False),
    lambda c: c.get_arch_list(),
    lambda c: c.set_device(-1),
]


@cpu_only
@cpu_torch
@pytest.mark.parametrize("i", range(len(SAME_RESULT)))
def test_cpu_build_results(i):
    fn = SAME_RESULT[i]
    assert fn(ember.cuda) == fn(torch.cuda)


def test_memory_stats_is_an_ordered_dict():
    assert isinstance(ember.cuda.memory_stats(), collections.OrderedDict)


RAISES = [
    lambda lib: lib.cuda.current_device(),
    lambda lib: lib.cuda.synchronize(),
    lambda lib: lib.cuda.synchronize(0),
    lambda lib: lib.cuda.initial_seed(),
    lambda lib: lib.cuda.get_rng_state(),
    lambda lib: lib.cuda.get_rng_state(0),
    lambda lib: lib.cuda.get_device_name(),
    lambda lib: lib.cuda.get_device_name(0),
    lambda lib: lib.cuda.get_device_properties(0),
    lambda lib: lib.cuda.get_device_capability(),
    lambda lib: lib.cuda.current_stream(),
    lambda lib: lib.cuda.default_stream(),
    lambda lib: lib.cuda.init(),
    lambda lib: lib.cuda.mem_get_info(),
    lambda lib: lib.zeros(2).cuda(),
    lambda lib: lib.zeros(2, device="cuda"),
    lambda lib: lib.zeros(2).to("cuda"),
    lambda lib: lib.randn(2, device="cuda"),
    lambda lib: lib.tensor([1.0], device="cuda:0"),
]


@cpu_only
@cpu_torch
@pytest.mark.parametrize("i", range(len(RAISES)))
def test_cpu_build_assertion_errors(i):
    with pytest.raises(AssertionError) as te:
        RAISES[i](torch)
    with pytest.raises(AssertionError) as ee:
        RAISES[i](ember)
    assert str(te.value) in str(ee.value)  # "Torch not compiled with CUDA enabled" + why


@cpu_only
@cpu_torch
def test_cpu_build_other_errors():
    with pytest.raises(RuntimeError, match="requires CUDA support"):
        ember.cuda.Stream()
    with pytest.raises(RuntimeError, match="Tried to instantiate dummy base class Event"):
        ember.cuda.Event()
    with pytest.raises(RuntimeError, match="compiled without CUDA support"):
        with ember.cuda.device(0):
            pass
    with pytest.raises(RuntimeError, match="Cannot get CUDA generator"):
        ember.Generator("cuda")
    with pytest.raises(AssertionError):
        ember.cuda.set_device(0)


@cpu_only
def test_cpu_build_no_ops():
    with ember.cuda.device(-1):
        pass
    with ember.cuda.device(None):
        pass
    with ember.cuda.stream(None):
        pass
    ember.cuda.set_rng_state(ember.zeros(3, dtype=ember.uint8))  # deferred in PyTorch: no-op
    ember.cuda.reset_peak_memory_stats()
    ember.cuda.reset_max_memory_allocated()
    assert ember.cuda.default_generators == ()
    ember.manual_seed(3)  # seeds every CUDA device too: none here
    with ember.random.fork_rng():
        ember.rand(2)


def test_device_index_parsing():
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        ember.cuda.device("cpu")
    assert ember.cuda.device("cuda:1").idx == 1
    assert ember.cuda.device(ember.device("cuda", 2)).idx == 2
    assert ember.cuda.device(3).idx == 3


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        ember.cuda.no_such_function  # noqa: B018


# ---------------------------------------------------------------------------------------------
# with a GPU
# ---------------------------------------------------------------------------------------------

@needs_gpu
def test_gpu_devices():
    n = ember.cuda.device_count()
    assert n >= 1 and ember.cuda.is_available()
    cur = ember.cuda.current_device()
    assert 0 <= cur < n
    name = ember.cuda.get_device_name()
    props = ember.cuda.get_device_properties(cur)
    assert props.name == name and props.total_memory > 0 and props.multi_processor_count > 0
    assert ember.cuda.get_device_capability() == (props.major, props.minor)
    assert "_CudaDeviceProperties(name=" in repr(props)
    with ember.cuda.device(cur):
        assert ember.cuda.current_device() == cur
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total
    ember.cuda.synchronize()
    assert isinstance(ember.cuda.is_bf16_supported(), bool)
    assert ember.cuda.get_arch_list()


@needs_gpu
def test_gpu_rng_reproducible_and_state_round_trip():
    ember.manual_seed(42)
    a = ember.rand(1000, device="cuda")
    assert a.device.type == "cuda" and a.dtype is ember.float32
    ember.manual_seed(42)
    b = ember.rand(1000, device="cuda")
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    st = ember.cuda.get_rng_state()
    x = ember.randn(100, device="cuda")
    ember.randn(100, device="cuda")
    ember.cuda.set_rng_state(st)
    np.testing.assert_array_equal(x.cpu().numpy(), ember.randn(100, device="cuda").cpu().numpy())
    assert ember.cuda.initial_seed() == 42
    states = ember.cuda.get_rng_state_all()
    assert len(states) == ember.cuda.device_count()
    g = ember.Generator("cuda").manual_seed(5)
    u = ember.empty(10, device="cuda").uniform_(generator=g)
    g.manual_seed(5)
    np.testing.assert_array_equal(u.cpu().numpy(),
                                  ember.empty(10, device="cuda").uniform_(generator=g)
                                  .cpu().numpy())
    with pytest.raises(RuntimeError, match="device type for generator"):
        ember.rand(2, generator=ember.Generator("cuda"))


@needs_gpu
def test_gpu_samplers_moments():
    x = ember.randn(100000, device="cuda").cpu().numpy()
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02
    r = ember.randint(0, 10, (10000,), device="cuda").cpu().numpy()
    assert r.min() == 0 and r.max() == 9
    p = ember.randperm(1000, device="cuda").cpu().numpy()
    assert sorted(p.tolist()) == list(range(1000))
    m = ember.multinomial(ember.tensor([0.0, 1.0, 3.0], device="cuda"), 4000, True)
    f = np.bincount(m.cpu().numpy(), minlength=3) / 4000
    np.testing.assert_allclose(f, [0, 0.25, 0.75], atol=0.03)


@needs_gpu
def test_gpu_memory_stats():
    ember.cuda.empty_cache()
    ember.cuda.reset_peak_memory_stats()
    before = ember.cuda.memory_allocated()
    t = ember.empty(1 << 20, device="cuda")
    assert ember.cuda.memory_allocated() >= before + 4 * (1 << 20)
    peak = ember.cuda.max_memory_allocated()
    assert peak >= ember.cuda.memory_allocated()
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del t
    assert ember.cuda.max_memory_allocated() == peak
    stats = ember.cuda.memory_stats()
    assert stats["allocated_bytes.all.peak"] == peak
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() < peak


@needs_gpu
def test_gpu_streams_and_events():
    s = ember.cuda.Stream()
    assert s != ember.cuda.default_stream()
    start = ember.cuda.Event(enable_timing=True)
    end = ember.cuda.Event(enable_timing=True)
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        start.record()
        x = ember.ones(1000, device="cuda") * 2
        end.record()
    end.synchronize()
    assert end.query() and s.query()
    assert start.elapsed_time(end) >= 0
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    s.synchronize()
    ember.cuda.current_stream().wait_stream(s)
    assert x.sum().item() == 2000


def test_warning_free_import():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.cuda.device_count() >= 0


@needs_torch
def test_public_names_exist_in_pytorch():
    for name in ember.cuda.__all__:
        assert hasattr(torch.cuda, name), name


# ---------------------------------------------------------------------------------------------
# device checks, exercised without a GPU through a stand-in for a CuPy array
# ---------------------------------------------------------------------------------------------

class _FakeCudaArray:
    """Metadata of a CuPy array on ``cuda:0`` (no data, no methods): an op that checks the
    devices of its arguments before computing raises PyTorch's error; one that computes first
    fails on this object instead."""

    def __init__(self, a):
        a = np.asarray(a)
        self.shape, self.ndim, self.dtype, self.size = a.shape, a.ndim, a.dtype, a.size
        self.strides, self.base = a.strides, None
        self.device = type("Device", (), {"id": 0})()


def _fake_cuda(*shape, dtype=np.float32):
    return ember.Tensor._make(_FakeCudaArray(np.ones(shape, dtype)))


DEVICE_MISMATCH = {
    "add": lambda c: c(3, 4) + _fake_cuda(3, 4),
    "radd": lambda c: _fake_cuda(3, 4) + c(3, 4),
    "sub_": lambda c: c(3, 4).sub_(_fake_cuda(3, 4)),
    "pow": lambda c: c(3, 4) ** _fake_cuda(3, 4),
    "eq": lambda c: c(3, 4) == _fake_cuda(3, 4),
    "maximum": lambda c: ember.maximum(c(3, 4), _fake_cuda(3, 4)),
    "where": lambda c: ember.where(c(3, 4) > 0, c(3, 4), _fake_cuda(3, 4)),
    "lerp": lambda c: ember.lerp(c(3, 4), _fake_cuda(3, 4), 0.5),
    "addcmul": lambda c: ember.addcmul(c(3, 4), _fake_cuda(3, 4), c(3, 4)),
    "clamp": lambda c: ember.clamp(c(3, 4), _fake_cuda(3, 4)),
    "matmul": lambda c: c(4, 4) @ _fake_cuda(4, 4),
    "mm": lambda c: ember.mm(c(4, 4), _fake_cuda(4, 4)),
    "bmm": lambda c: ember.bmm(c(1, 4, 4), _fake_cuda(1, 4, 4)),
    "mv": lambda c: ember.mv(c(4, 4), _fake_cuda(4)),
    "dot": lambda c: ember.dot(c(4), _fake_cuda(4)),
    "addmm": lambda c: ember.addmm(c(4, 4), c(4, 4), _fake_cuda(4, 4)),
    "einsum": lambda c: ember.einsum("ij,jk", c(4, 4), _fake_cuda(4, 4)),
    "tensordot": lambda c: ember.tensordot(c(4, 4), _fake_cuda(4, 4), 1),
    "cat": lambda c: ember.cat([c(3, 4), _fake_cuda(3, 4)]),
    "stack": lambda c: ember.stack([c(3, 4), _fake_cuda(3, 4)]),
    "gather": lambda c: ember.gather(c(3, 4), 0, _fake_cuda(1, 4, dtype=np.int64)),
    "index_select": lambda c: ember.index_select(c(3, 4), 0, _fake_cuda(2, dtype=np.int64)),
    "scatter_add": lambda c: c(3, 4).scatter_add(0, ember.zeros(1, 4, dtype=ember.int64),
                                                 _fake_cuda(3, 4)),
    "index_add": lambda c: c(3, 4).index_add(0, ember.tensor([0, 1]), _fake_cuda(2, 4)),
    "masked_fill": lambda c: c(3, 4).masked_fill(_fake_cuda(3, 4, dtype=bool), 0.0),
    "setitem": lambda c: c(3, 4).__setitem__(0, _fake_cuda(4)),
    "linalg.solve": lambda c: ember.linalg.solve(c(4, 4), _fake_cuda(4, 4)),
    "linalg.cross": lambda c: ember.linalg.cross(c(3), _fake_cuda(3)),
    "searchsorted": lambda c: ember.searchsorted(c(4), _fake_cuda(2)),
    "bincount": lambda c: ember.bincount(ember.tensor([0, 1]), weights=_fake_cuda(2)),
    "linear": lambda c: ember.nn.functional.linear(c(3, 4), _fake_cuda(5, 4)),
    "mse_loss": lambda c: ember.nn.functional.mse_loss(c(3, 4), _fake_cuda(3, 4)),
    "cross_entropy": lambda c: ember.nn.functional.cross_entropy(
        c(3, 4), _fake_cuda(3, dtype=np.int64)),
}


@pytest.mark.parametrize("name", sorted(DEVICE_MISMATCH))
def test_device_mismatch_is_checked_before_computing(name):
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                                           "found at least two devices, (cpu and cuda:0|cuda:0 "
                                           "and cpu)!"):
        DEVICE_MISMATCH[name](ember.ones)


def test_backward_gradient_on_another_device():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient at index 0 - expected device cpu "
                                           "but got cuda:0"):
        (x * 2).backward(_fake_cuda(3))
    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        ember.autograd.grad((x * 2).sum(), x, grad_outputs=_fake_cuda())
