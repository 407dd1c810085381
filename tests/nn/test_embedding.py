"""Embeddings against PyTorch: F.embedding (padding_idx, max_norm renorm, scale_grad_by_freq,
repeated indices), F.embedding_bag (sum/mean/max, offsets, include_last_offset,
per_sample_weights, padding_idx), F.one_hot, the Embedding/EmbeddingBag modules
(initialisation, from_pretrained, repr) and double backward."""

import numpy as np
import pytest

import ember
from tests.oracle import (
    DEVICE,
    Const,
    Transposed,
    check,
    check_raises,
    needs_torch,
    rand,
    same_message,
    to_numpy,
    torch,
)

pytestmark = needs_torch


def _f(lib):
    return lib.nn.functional


def _et(a, grad=False):
    t = ember.tensor(np.array(a, copy=True))
    if DEVICE != "cpu":
        t = t.to(DEVICE)
    return t.requires_grad_(grad) if grad else t


def _tt(a, grad=False):
    return torch.tensor(np.array(a, copy=True), requires_grad=grad)


IDX = np.array([[1, 2, 4, 4], [4, 3, 1, 9]])


# ------------------------------------------------------------------------------ F.embedding


@pytest.mark.parametrize("idx", [IDX, IDX[0], np.array(3), IDX.astype(np.int32),
                                 np.zeros((2, 0), np.int64), np.arange(10)[::-1]])
def test_embedding_lookup_and_grad(idx):
    check(lambda lib, w, i: _f(lib).embedding(i, w), rand(10, 3), Const(idx))


def test_embedding_repeated_indices_accumulate():
    idx = np.array([2, 2, 2, 5, 2, 5])
    out = check(lambda lib, w, i: _f(lib).embedding(i, w), rand(7, 4), Const(idx))
    assert out.grad_fn.name() == "EmbeddingBackward0"
    w = _et(rand(7, 4), grad=True)
    ember.nn.functional.embedding(_et(idx), w).sum().backward()
    g = to_numpy(w.grad)
    np.testing.assert_array_equal(g[:, 0], [0, 0, 4, 0, 0, 2, 0])


@pytest.mark.parametrize("padding_idx", [0, 4, -1, -6])
@pytest.mark.parametrize("scale", [False, True])
def test_embedding_padding_and_scale(padding_idx, scale):
    check(lambda lib, w, i: _f(lib).embedding(i, w, padding_idx=padding_idx,
                                              scale_grad_by_freq=scale),
          rand(10, 3), Const(IDX))


def test_embedding_noncontiguous_weight_and_dtypes():
    check(lambda lib, w, i: _f(lib).embedding(i, w), Transposed(rand(10, 3)), Const(IDX))
    check(lambda lib, w, i: _f(lib).embedding(i, w), rand(10, 3, dtype=np.float64), Const(IDX))
    check(lambda lib, w, i: _f(lib).embedding(i, w.half()), rand(10, 3), Const(IDX))
    check(lambda lib, w, i: _f(lib).embedding(i, w), Const(rand(10, 3, dtype=np.int64)),
          Const(IDX))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_embedding_max_norm_renormalizes_in_place(norm_type):
    w0 = rand(10, 3) * 3
    tw, ew = _tt(w0, True), _et(w0, True)
    t_out = torch.nn.functional.embedding(_tt(IDX), tw, max_norm=1.5, norm_type=norm_type)
    e_out = ember.nn.functional.embedding(_et(IDX), ew, max_norm=1.5, norm_type=norm_type)
    np.testing.assert_allclose(to_numpy(e_out), to_numpy(t_out), rtol=1e-5, atol=1e-6)
    # the looked-up rows of the weight itself were rescaled, the others untouched
    np.testing.assert_allclose(to_numpy(ew), to_numpy(tw), rtol=1e-5, atol=1e-6)
    assert ew._version > 0 and ew.is_leaf and ew.requires_grad
    up = rand(*t_out.shape)
    t_out.backward(_tt(up))
    e_out.backward(_et(up))
    np.testing.assert_allclose(to_numpy(ew.grad), to_numpy(tw.grad), rtol=1e-5, atol=1e-6)


def test_embedding_max_norm_module():
    t = torch.nn.Embedding(10, 3, max_norm=1.0)
    e = ember.nn.Embedding(10, 3, max_norm=1.0)
    e.load_state_dict({k: to_numpy(v) for k, v in t.state_dict().items()})
    np.testing.assert_allclose(to_numpy(e(_et(IDX))), to_numpy(t(_tt(IDX))), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(to_numpy(e.weight), to_numpy(t.weight), rtol=1e-5, atol=1e-6)
    norms = np.linalg.norm(to_numpy(e.weight)[np.unique(IDX)], axis=1)
    assert np.all(norms <= 1.0 + 1e-5)


@pytest.mark.parametrize("fn", [
    lambda lib, w: _f(lib).embedding(lib.tensor([10]), w),
    lambda lib, w: _f(lib).embedding(lib.tensor([-1]), w),
    lambda lib, w: _f(lib).embedding(lib.tensor([1.0]), w),
    lambda lib, w: _f(lib).embedding(lib.tensor([1], dtype=lib.uint8), w),
    lambda lib, w: _f(lib).embedding(lib.tensor([1]), w[0]),
    lambda lib, w: _f(lib).embedding(lib.tensor([1]), w[None]),
    lambda lib, w: _f(lib).embedding(lib.tensor([1]), w, padding_idx=10),
    lambda lib, w: _f(lib).embedding(lib.tensor([1]), w, padding_idx=-11),
    lambda lib, w: _f(lib).embedding([1, 2], w),
])
def test_embedding_errors(fn):
    same_message(fn, Const(rand(10, 3)))


def test_embedding_index_error_message():
    msg, _ = check_raises(lambda lib, w: _f(lib).embedding(lib.tensor([[1, 10]]), w),
                          Const(rand(10, 3)))
    assert msg == "index out of range in self"


def test_embedding_double_backward():
    w = ember.tensor(rand(10, 3, dtype=np.float64), requires_grad=True)
    i = ember.tensor(IDX)
    fn = lambda w: ember.nn.functional.embedding(i, w) ** 2  # noqa: E731
    assert ember.autograd.gradcheck(fn, (w,))
    assert ember.autograd.gradgradcheck(fn, (w,))
    # padding_idx / scale_grad_by_freq change the gradient on purpose (it is not the true one):
    # check that the modified backward is itself differentiated correctly
    g = ember.tensor(rand(2, 4, 3, dtype=np.float64), requires_grad=True)
    for kw in ({"padding_idx": 4}, {"scale_grad_by_freq": True}):
        def modified_grad(g):
            y = ember.nn.functional.embedding(i, w, **kw)  # noqa: B023
            return ember.autograd.grad(y, w, g, create_graph=True)[0]
        assert ember.autograd.gradcheck(modified_grad, (g,))


def test_embedding_double_backward_matches_torch():
    w0 = rand(10, 3, dtype=np.float64)
    res = []
    for lib, mk in ((torch, _tt), (ember, _et)):
        w = mk(w0, True)
        y = lib.nn.functional.embedding(mk(IDX), w, padding_idx=1)
        (gw,) = lib.autograd.grad((y ** 3).sum(), w, create_graph=True)
        res.append(lib.autograd.grad((gw * gw).sum(), w)[0])
    np.testing.assert_allclose(to_numpy(res[1]), to_numpy(res[0]), rtol=1e-10)


# ------------------------------------------------------------------------------ Embedding module


def test_embedding_module_init_and_repr():
    for args, kw in [((10, 3), {}), ((10, 3), {"padding_idx": 2}), ((10, 3), {"padding_idx": -1}),
                     ((5, 2), {"max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True,
                               "sparse": True})]:
        t, e = torch.nn.Embedding(*args, **kw), ember.nn.Embedding(*args, **kw)
        assert repr(e) == repr(t)
        assert e.padding_idx == t.padding_idx
    ember.manual_seed(0)
    e = ember.nn.Embedding(2000, 50, padding_idx=3)
    w = to_numpy(e.weight)
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01  # N(0, 1)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        ember.nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        ember.nn.Embedding(5, 2, _weight=ember.ones(4, 2))
    d = ember.nn.Embedding(4, 2, dtype=ember.float64)
    assert d.weight.dtype is ember.float64


def test_embedding_module_matches_torch():
    t = torch.nn.Embedding(10, 4, padding_idx=0)
    e = ember.nn.Embedding(10, 4, padding_idx=0)
    e.load_state_dict({k: to_numpy(v) for k, v in t.state_dict().items()})
    idx = np.array([[0, 3, 3], [9, 0, 1]])
    t_out, e_out = t(_tt(idx)), e(_et(idx))
    np.testing.assert_array_equal(to_numpy(e_out), to_numpy(t_out))
    up = rand(2, 3, 4)
    t_out.backward(_tt(up))
    e_out.backward(_et(up))
    np.testing.assert_allclose(to_numpy(e.weight.grad), to_numpy(t.weight.grad), rtol=1e-6)
    assert np.all(to_numpy(e.weight.grad)[0] == 0)


def test_embedding_from_pretrained():
    w = rand(6, 3)
    for freeze in (True, False):
        t = torch.nn.Embedding.from_pretrained(_tt(w), freeze=freeze, padding_idx=1)
        e = ember.nn.Embedding.from_pretrained(_et(w), freeze=freeze, padding_idx=1)
        assert repr(e) == repr(t)
        assert e.weight.requires_grad == t.weight.requires_grad == (not freeze)
        np.testing.assert_array_equal(to_numpy(e.weight), w)  # padding row kept as given
    with pytest.raises(AssertionError, match="expected to be 2-dimensional"):
        ember.nn.Embedding.from_pretrained(ember.ones(3))
    e = ember.nn.Embedding.from_pretrained(_et(w))
    y = e(_et(np.array([1, 2])))
    assert not y.requires_grad


def test_embedding_sparse_flag_gives_dense_grad():
    e = ember.nn.Embedding(5, 2, sparse=True)
    e(ember.tensor([1, 1, 3])).sum().backward()
    assert e.weight.grad.shape == (5, 2) and e.weight.grad.layout == ember.strided


# ------------------------------------------------------------------------------ F.embedding_bag


I1 = np.array([1, 2, 4, 4, 3, 1, 0, 5])
OFF = np.array([0, 3, 3, 5])
OFF_LAST = np.array([0, 3, 3, 5, 8])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4, -2])
@pytest.mark.parametrize("last", [False, True])
def test_embedding_bag_1d(mode, padding_idx, last):
    check(lambda lib, w, i, o: _f(lib).embedding_bag(i, w, o, mode=mode, padding_idx=padding_idx,
                                                     include_last_offset=last),
          rand(6, 3), Const(I1), Const(OFF_LAST if last else OFF))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_and_dtypes(mode):
    check(lambda lib, w, i: _f(lib).embedding_bag(i, w, mode=mode), rand(10, 3), Const(IDX))
    check(lambda lib, w, i: _f(lib).embedding_bag(i, w, mode=mode),
          rand(10, 3, dtype=np.float64), Const(IDX.astype(np.int32)))
    check(lambda lib, w, i: _f(lib).embedding_bag(i, w.half(), mode=mode), rand(10, 3),
          Const(IDX), grad_atol=1e-2, grad_rtol=1e-2)
    same_message(lambda lib, w, i: _f(lib).embedding_bag(i, w, mode=mode), Const(rand(10, 3)),
                 Const(np.zeros((3, 0), np.int64)))


def test_embedding_bag_int32_offsets_and_empty_input():
    check(lambda lib, w, i, o: _f(lib).embedding_bag(i, w, o, mode="sum"), rand(6, 3),
          Const(I1.astype(np.int32)), Const(OFF.astype(np.int32)))
    check(lambda lib, w, i, o: _f(lib).embedding_bag(i, w, o, mode="mean"), rand(6, 3),
          Const(np.zeros(0, np.int64)), Const(np.array([0, 0])))


def test_embedding_bag_max_ties_pick_first():
    w = np.array([[1.0, 5.0], [1.0, 2.0], [3.0, 5.0]], np.float32)
    check(lambda lib, w, i, o: _f(lib).embedding_bag(i, w, o, mode="max"), w,
          Const(np.array([0, 1, 2, 1, 0])), Const(np.array([0, 3])))


@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_per_sample_weights(padding_idx):
    check(lambda lib, w, i, o, p: _f(lib).embedding_bag(i, w, o, mode="sum",
                                                        per_sample_weights=p,
                                                        padding_idx=padding_idx),
          rand(6, 3), Const(I1), Const(OFF), rand(8))
    check(lambda lib, w, i, p: _f(lib).embedding_bag(i, w, mode="sum", per_sample_weights=p),
          rand(10, 3), Const(IDX), rand(2, 4))


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq(mode):
    """PyTorch's CPU frequency scaling for bags (mirrored) on random repeated indices."""
    rng = np.random.default_rng(5)
    for _ in range(6):
        idx = rng.integers(0, 7, 12)
        check(lambda lib, w, i: _f(lib).embedding_bag(i, w, mode=mode,  # noqa: B023
                                                      scale_grad_by_freq=True),
              rand(7, 3), Const(idx.reshape(3, 4)))
    check(lambda lib, w, i, o: _f(lib).embedding_bag(i, w, o, mode=mode, padding_idx=1,
                                                     scale_grad_by_freq=True),
          rand(6, 3), Const(I1), Const(OFF))


def test_embedding_bag_max_norm():
    w0 = rand(6, 3) * 3
    tw, ew = _tt(w0, True), _et(w0, True)
    t_out = torch.nn.functional.embedding_bag(_tt(I1), tw, _tt(OFF), max_norm=1.0)
    e_out = ember.nn.functional.embedding_bag(_et(I1), ew, _et(OFF), max_norm=1.0)
    np.testing.assert_allclose(to_numpy(e_out), to_numpy(t_out), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(ew), to_numpy(tw), rtol=1e-5, atol=1e-6)


def test_embedding_bag_offsets_start_message():
    check_raises(lambda lib, w: _f(lib).embedding_bag(lib.tensor([1, 2]), w, lib.tensor([1])),
                 Const(rand(10, 3)), match="offsets[0] has to be 0, i.e., the first sequence in "
                                           "the mini-batch has to start from position 0. However, "
                                           "got 1")


@pytest.mark.parametrize("fn", [
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([1, 2, 3, 4]), w, lib.tensor([0, 5])),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w, lib.tensor([0])),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([1, 2]), w),
    lambda lib, w: _f(lib).embedding_bag(lib.ones(2, 2, 2, dtype=lib.long), w),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w, mode="foo"),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w,
                                         per_sample_weights=lib.ones(1, 2)),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w, mode="sum",
                                         per_sample_weights=lib.ones(2)),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w, mode="sum",
                                         per_sample_weights=lib.ones(1, 2, dtype=lib.float64)),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w, mode="max",
                                         scale_grad_by_freq=True),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w, mode="max", sparse=True),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1.0, 2.0]]), w),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w[0]),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([1, 2]), w, lib.tensor([[0]])),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w, padding_idx=20),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([[1, 2]]), w.long()),
    lambda lib, w: _f(lib).embedding_bag(lib.tensor([1, 2, 10]), w, lib.tensor([0]),
                                         mode="max"),
])
def test_embedding_bag_errors(fn):
    same_message(fn, Const(rand(10, 3)))


def test_embedding_bag_index_out_of_range():
    check_raises(lambda lib, w: _f(lib).embedding_bag(lib.tensor([1, 12]), w, lib.tensor([0])),
                 Const(rand(10, 3)), exc=RuntimeError)


def test_embedding_bag_double_backward():
    w = ember.tensor(rand(6, 3, dtype=np.float64), requires_grad=True)
    p = ember.tensor(rand(8, dtype=np.float64), requires_grad=True)
    i, o = ember.tensor(I1), ember.tensor(OFF)
    F = ember.nn.functional
    for mode in ("sum", "mean", "max"):
        fn = lambda w: F.embedding_bag(i, w, o, mode=mode, padding_idx=1) ** 2  # noqa: B023,E731
        assert ember.autograd.gradgradcheck(fn, (w,))
    fn = lambda w, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p) ** 2  # noqa
    assert ember.autograd.gradcheck(fn, (w, p))
    assert ember.autograd.gradgradcheck(fn, (w, p))


# ------------------------------------------------------------------------------ EmbeddingBag module


def test_embedding_bag_module():
    for kw in ({}, {"mode": "sum", "padding_idx": 2}, {"mode": "max", "max_norm": 2.0},
               {"norm_type": 1.0, "scale_grad_by_freq": True, "include_last_offset": True}):
        t, e = torch.nn.EmbeddingBag(10, 3, **kw), ember.nn.EmbeddingBag(10, 3, **kw)
        assert repr(e) == repr(t)
    t = torch.nn.EmbeddingBag(10, 3, mode="sum")
    e = ember.nn.EmbeddingBag(10, 3, mode="sum")
    e.load_state_dict({k: to_numpy(v) for k, v in t.state_dict().items()})
    ps = rand(8)
    t_out = t(_tt(I1), _tt(OFF), _tt(ps))
    e_out = e(_et(I1), _et(OFF), _et(ps))
    np.testing.assert_allclose(to_numpy(e_out), to_numpy(t_out), rtol=1e-5, atol=1e-6)
    t_out.sum().backward()
    e_out.sum().backward()
    np.testing.assert_allclose(to_numpy(e.weight.grad), to_numpy(t.weight.grad), rtol=1e-5)
    assert e_out.grad_fn.name() == "EmbeddingBagBackward0"
    b = ember.nn.EmbeddingBag(5, 2, padding_idx=-1)
    assert b.padding_idx == 4 and np.all(to_numpy(b.weight)[4] == 0)
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        ember.nn.EmbeddingBag(5, 2, padding_idx=7)


def test_embedding_bag_from_pretrained():
    w = rand(6, 3)
    t = torch.nn.EmbeddingBag.from_pretrained(_tt(w), mode="max")
    e = ember.nn.EmbeddingBag.from_pretrained(_et(w), mode="max")
    assert repr(e) == repr(t) and not e.weight.requires_grad
    np.testing.assert_allclose(to_numpy(e(_et(IDX[:, :3] % 6))), to_numpy(t(_tt(IDX[:, :3] % 6))))
    e2 = ember.nn.EmbeddingBag.from_pretrained(_et(w), freeze=False)
    assert e2.weight.requires_grad


# ------------------------------------------------------------------------------ one_hot


@pytest.mark.parametrize("idx, n", [(np.array([1, 2, 0]), -1), (np.array(2), 4),
                                    (np.array([[0, 3], [2, 1]]), 6),
                                    (np.zeros((0,), np.int64), 3)])
def test_one_hot(idx, n):
    out = check(lambda lib, i: _f(lib).one_hot(i, n), Const(idx))
    assert out.dtype is ember.int64


@pytest.mark.parametrize("idx, n", [(np.array([-1, 2]), -1), (np.array([1, 2]), 2),
                                    (np.zeros((0,), np.int64), -1),
                                    (np.array([1, 2], np.int32), -1),
                                    (np.array([1.0, 2.0]), -1), (np.array([1, 2]), -2),
                                    (np.array([1, 2]), 0)])
def test_one_hot_errors(idx, n):
    same_message(lambda lib, i: _f(lib).one_hot(i, n), Const(idx))


def test_exports():
    for name in ["embedding", "embedding_bag", "one_hot"]:
        assert hasattr(ember.nn.functional, name)
    assert ember.nn.Embedding and ember.nn.EmbeddingBag
