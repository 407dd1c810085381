"""``ember.backends`` against ``torch.backends`` (a CPU build of PyTorch without cuDNN): flag
defaults, ``set_flags``/``flags``, errors, and the einsum contraction order switch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import backends as B
from tests import oracle

torch = pytest.importorskip("torch")

CUDNN = ["enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32",
         "fp32_precision", "depthwise_kernel"]
MATMUL = ["allow_tf32", "allow_fp16_reduced_precision_reduction",
          "allow_bf16_reduced_precision_reduction", "allow_fp16_accumulation"]


def test_cudnn_defaults_match_a_build_without_cudnn():
    for name in CUDNN:
        assert getattr(B.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert B.cudnn.is_available() is torch.backends.cudnn.is_available() is False
    assert B.cudnn.version() is torch.backends.cudnn.version() is None
    assert B.cudnn.is_acceptable(ember.zeros(2)) is False


def test_cudnn_set_flags_and_context():
    for lib in (torch, ember):
        c = lib.backends.cudnn
        old = c.set_flags(True, True, 5, True, False)
        assert old == (True, False, None, False, True, "none", "auto")
        assert (c.enabled, c.benchmark, c.deterministic, c.allow_tf32) == (True, True, True,
                                                                            False)
        assert c.benchmark_limit is None  # ignored without cuDNN
        c.set_flags(*old)
        with c.flags(enabled=True, deterministic=True):
            assert c.enabled and c.deterministic and not c.benchmark
        assert [getattr(c, n) for n in CUDNN] == list(old)
        with c.flags():
            assert c.enabled is False  # flags() with no arguments disables cuDNN
        assert c.enabled is True
    ember.backends.cudnn.benchmark = True  # plain assignment, as scripts do
    try:
        assert ember.backends.cudnn.benchmark is True
    finally:
        ember.backends.cudnn.benchmark = False


def test_cuda_matmul_flags():
    m, tm = B.cuda.matmul, torch.backends.cuda.matmul
    for name in MATMUL:
        assert getattr(m, name) == getattr(tm, name), name
    m.allow_tf32 = True
    try:
        assert m.allow_tf32 is True
    finally:
        m.allow_tf32 = False
    for obj in (m, tm):
        with pytest.raises(AttributeError, match="Unknown attribute not_a_flag"):
            obj.not_a_flag = True
        with pytest.raises(AttributeError, match="Unknown attribute not_a_flag"):
            obj.not_a_flag  # noqa: B018
    assert isinstance(B.cuda.is_built(), bool)


def test_mps_and_cpu():
    assert B.mps.is_available() is B.mps.is_built() is False
    assert B.mps.is_available() is torch.backends.mps.is_available()
    assert B.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
    # both read the same CPU; PyTorch may know of extra levels (e.g. AVX512 with VNNI)
    assert B.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability() or \
        torch.backends.cpu.get_cpu_capability() not in ("AVX512", "AVX2", "DEFAULT")


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("bi,bij,bj,jk->bk", [(2, 3), (2, 3, 4), (2, 4), (4, 6)]),
    ("ab,bc->ac", [(3, 4), (4, 2)]),
])
@pytest.mark.parametrize("setting", [(True, "auto"), (True, "optimal"), (False, None)])
def test_einsum_follows_opt_einsum_flags(eq, shapes, setting):
    enabled, strategy = setting
    with B.opt_einsum.flags(enabled, strategy):
        assert B.opt_einsum.enabled is enabled
        oracle.check(lambda lib, *xs: lib.einsum(eq, *xs),
                     *[oracle.rand(*s, dtype=np.float64) for s in shapes], grad=True)
    assert B.opt_einsum.enabled is True and B.opt_einsum.strategy == "auto"


def test_opt_einsum_order_and_errors():
    oe = B.opt_einsum
    assert oe.is_available() is True
    assert oe.contraction_order(4) == "greedy"
    with oe.flags(False):
        # left to right: ((A B) C) D, each intermediate appended last by NumPy
        assert oe.contraction_order(4) == ["einsum_path", (0, 1), (0, 2), (0, 1)]
        with pytest.raises(ValueError, match="opt_einsum is not enabled"):
            oe.strategy = "greedy"
    with pytest.raises(ValueError, match=r"must be one of the following: \[auto, greedy, "
                                         r"optimal\] but is fastest"):
        oe.strategy = "fastest"
    assert oe.strategy == "auto"
    oe.strategy = "optimal"
    try:
        assert oe.contraction_order(3) == "optimal"
    finally:
        oe.strategy = "auto"


def test_einsum_passes_the_order_to_numpy(monkeypatch):
    seen = []
    real = np.einsum

    def spy(*args, **kwargs):
        seen.append(kwargs.get("optimize"))
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "einsum", spy)
    xs = [ember.ones(2, 2) for _ in range(3)]
    ember.einsum("ab,bc,cd->ad", *xs)
    with B.opt_einsum.flags(False):
        ember.einsum("ab,bc,cd->ad", *xs)
    assert seen == ["greedy", ["einsum_path", (0, 1), (0, 1)]]
