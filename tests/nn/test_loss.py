"""Losses against PyTorch: every F.<loss> and nn.<Loss> over reductions, weights, ignore_index,
label smoothing, class probabilities, K-dim inputs, pos_weight, broadcasting and dtypes (values
and gradients of input/target), deprecated size_average/reduce, stability at +-1e4, PyTorch's
errors and warnings, CTC against PyTorch, and gradcheck/gradgradcheck in float64."""

import warnings

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

F = ember.nn.functional
REDS = ["mean", "sum", "none"]
RNG = np.random.default_rng(7)


def _et(a, grad=False):
    t = ember.tensor(np.array(a, copy=True))
    if DEVICE != "cpu":
        t = t.to(DEVICE)
    return t.requires_grad_(grad) if grad else t


def _ints(shape, high, low=0):
    return RNG.integers(low, high, size=shape).astype(np.int64)


def _quiet(fn):
    """Run fn with warnings silenced (the oracle calls both libraries)."""
    def run(*a):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*a)
    return run


# ------------------------------------------------------------------------------ regression


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("fname", ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss",
                                   "soft_margin_loss"])
def test_regression_losses(fname, red):
    fn = lambda lib, x, t: getattr(lib.nn.functional, fname)(x, t, reduction=red)  # noqa: E731
    x = rand(4, 5) * 3
    t = rand(4, 5) * 3
    if fname == "soft_margin_loss":
        t = np.sign(t).astype(np.float32)
        check(fn, x, Const(t))
        check(fn, Transposed(x), Const(t))
        return
    x[0, :3] = t[0, :3] + np.array([0.0, 1.0, -1.0], dtype=np.float32)  # the kinks
    check(fn, x, t)
    check(fn, Transposed(x), t)
    check(fn, x.astype(np.float64), t.astype(np.float64))


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0])
def test_smooth_l1_beta_and_huber_delta(beta):
    x, t = rand(3, 6) * 3, rand(3, 6) * 3
    check(lambda lib, x, t: lib.nn.functional.smooth_l1_loss(x, t, beta=beta), x, t)
    if beta:
        check(lambda lib, x, t: lib.nn.functional.huber_loss(x, t, delta=beta,
                                                              reduction="none"), x, t)


def test_regression_broadcasting_warns_and_broadcasts():
    x, t = rand(3, 4), rand(4)
    for fname in ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"]:
        fn = getattr(F, fname)
        with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) "
                                             r"that is different to the input size"):
            fn(_et(x), _et(t))
        check(_quiet(lambda lib, x, t, f=fname: getattr(lib.nn.functional, f)(x, t)), x, t)
    same_message(_quiet(lambda lib, x, t: lib.nn.functional.mse_loss(x, t)), rand(3, 4),
                 rand(3, 5))


def test_regression_dtype_promotion_like_torch():
    x, t = rand(3, 4), rand(3, 4, dtype=np.float64)
    for fname in ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss"]:
        tt = t if fname != "soft_margin_loss" else np.sign(t)
        # (PyTorch's huber/soft-margin backward fails for mixed dtypes: compare forward only)
        check(lambda lib, x, t, f=fname: getattr(lib.nn.functional, f)(x, t), x, Const(tt),
              grad=fname not in ("huber_loss", "soft_margin_loss"))
    check(lambda lib, x, t: lib.nn.functional.mse_loss(x, t), x,
          Const(np.ones((3, 4), dtype=np.int64)))


@pytest.mark.parametrize("fname", ["l1_loss", "mse_loss", "huber_loss"])
@pytest.mark.parametrize("red", REDS)
def test_weighted_regression_losses(fname, red):
    check(lambda lib, x, t, w: getattr(lib.nn.functional, fname)(x, t, reduction=red,
                                                                 weight=w),
          rand(3, 4) * 2, rand(3, 4), rand(3, 4) + 1)
    same_message(lambda lib, x, t, w: getattr(lib.nn.functional, fname)(x, t, weight=w),
                 rand(3, 4), rand(3, 4), rand(4))
    same_message(lambda lib, x, t, w: getattr(lib.nn.functional, fname)(x, t, weight=w,
                                                                        reduction="avg"),
                 rand(3, 4), rand(3, 4), rand(3, 4))


def test_regression_half_precision_and_grad_fn_names():
    for fname in ["mse_loss", "smooth_l1_loss", "huber_loss", "l1_loss"]:
        check(lambda lib, x, t, f=fname: getattr(lib.nn.functional, f)(x.half(), t.half()),
              rand(4, 5), rand(4, 5), atol=1e-2, rtol=1e-2)
        for red in REDS:
            xt = torch.tensor(rand(3), requires_grad=True)
            xe = _et(rand(3), grad=True)
            assert getattr(F, fname)(xe, _et(rand(3)), reduction=red).grad_fn.name() == \
                getattr(torch.nn.functional, fname)(xt, torch.tensor(rand(3)),
                                                    reduction=red).grad_fn.name()


def test_regression_errors():
    same_message(lambda lib, x, t: lib.nn.functional.smooth_l1_loss(x, t, beta=-1.0),
                 rand(3), rand(3))
    same_message(lambda lib, x, t: lib.nn.functional.huber_loss(x, t, delta=0.0), rand(3),
                 rand(3))
    same_message(lambda lib, x, t: lib.nn.functional.mse_loss(x, t, reduction="avg"), rand(3),
                 rand(3))
    same_message(lambda lib, x, t: lib.nn.functional.soft_margin_loss(x, t.requires_grad_()),
                 rand(3), Const(rand(3)))
    check_raises(lambda lib, x: lib.nn.functional.mse_loss(x, [1.0, 2.0]), rand(2),
                 exc=TypeError)
    check_raises(lambda lib: lib.nn.HuberLoss(delta="1"), exc=TypeError)


def test_empty_inputs_mean_is_nan():
    for fname in ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"]:
        check(lambda lib, x, t, f=fname: getattr(lib.nn.functional, f)(x, t), rand(0, 3),
              rand(0, 3))


# ------------------------------------------------------------------------------ BCE


@pytest.mark.parametrize("red", REDS)
def test_binary_cross_entropy(red):
    x = rand(4, 5, low=0.02, high=0.98)
    x[0, :2] = [0.0, 1.0]  # log clamped at -100, as in PyTorch
    t = rand(4, 5, low=0.0, high=1.0)
    fn = lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t, reduction=red)  # noqa
    check(fn, x, t, grad_atol=1e-2, grad_rtol=1e-5)
    check(fn, x.astype(np.float64), t.astype(np.float64))
    w = rand(5, low=0.5, high=2.0)
    check(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy(x, t, w, reduction=red),
          rand(4, 5, low=0.05, high=0.95), t, Const(w))


def test_binary_cross_entropy_errors_and_legacy():
    same_message(lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t),
                 np.array([1.5, 0.5], dtype=np.float32), np.array([1.0, 0.0], dtype=np.float32))
    same_message(lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t),
                 np.array([np.nan, 0.5], dtype=np.float32), rand(2))
    same_message(lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t),
                 rand(3, 1, low=0, high=1), rand(3, low=0, high=1))
    same_message(lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t),
                 rand(3, low=0, high=1), Const(rand(3, dtype=np.float64, low=0, high=1)))
    same_message(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy(
        x, t, w.requires_grad_()), Const(rand(3, low=0, high=1)), Const(rand(3, low=0, high=1)),
        rand(3))
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        r = F.binary_cross_entropy(_et(rand(3, low=0.1, high=0.9)), _et(rand(3, low=0, high=1)),
                                   size_average=False)
    assert r.dim() == 0


@pytest.mark.parametrize("red", REDS)
def test_bce_with_logits(red):
    x = rand(4, 5) * 5
    t = rand(4, 5, low=0.0, high=1.0)
    pw = rand(5, low=0.5, high=3.0)
    w = rand(4, 1, low=0.5, high=2.0)
    check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, reduction=red), x, t)
    check(lambda lib, x, t, w, pw: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, w, reduction=red, pos_weight=pw), x, t, Const(w), Const(pw))
    check(lambda lib, x, t, pw: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, reduction=red, pos_weight=pw), x.astype(np.float64), t.astype(np.float64),
        Const(pw.astype(np.float64)))


def test_bce_with_logits_stable_at_1e4_and_errors():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.5, 1.0, 0.0], dtype=np.float32)
    out = check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, reduction="none"), x, t)
    assert np.all(np.isfinite(to_numpy(out)))
    same_message(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t),
                 rand(3, 1), rand(3))
    same_message(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, w.requires_grad_()), Const(rand(3)), Const(rand(3)), rand(3))
    same_message(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, pos_weight=w.requires_grad_()), Const(rand(3)), Const(rand(3)), rand(3))
    check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t), rand(3),
          Const(rand(3, dtype=np.float64)))


def test_pointwise_losses_gradcheck_and_gradgradcheck():
    x = _et(rand(3, 4, dtype=np.float64) * 2, grad=True)
    t = _et(rand(3, 4, dtype=np.float64), grad=True)
    p = _et(rand(3, 4, dtype=np.float64, low=0.1, high=0.9), grad=True)
    tp = _et(rand(3, 4, dtype=np.float64, low=0.0, high=1.0), grad=True)
    pw = _et(rand(4, dtype=np.float64, low=0.5, high=2.0))
    sign = _et(np.sign(rand(3, 4, dtype=np.float64)))
    cases = [
        (lambda a, b: F.mse_loss(a, b), (x, t)),
        (lambda a, b: F.mse_loss(a, b, reduction="none"), (x, t)),
        (lambda a, b: F.smooth_l1_loss(a, b, beta=0.7), (x, t)),
        (lambda a, b: F.huber_loss(a, b, delta=0.8, reduction="sum"), (x, t)),
        (lambda a, b: F.binary_cross_entropy(a, b), (p, tp)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw), (x, tp)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"), (x, tp)),
        (lambda a: F.soft_margin_loss(a, sign), (x,)),
        (lambda a, b: F.l1_loss(a, b), (x, t)),
        (lambda a, b: F.kl_div(a, b, reduction="batchmean"), (x, tp)),
        (lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), (x, t)),
        (lambda a, b: F.poisson_nll_loss(a, b), (x, tp)),
        (lambda a, b: F.poisson_nll_loss(a, b + 2, log_input=False, full=True), (p, tp)),
        (lambda a, b: F.gaussian_nll_loss(a, b, p), (x, t)),
        (lambda a, b: F.multilabel_soft_margin_loss(a, b), (x, tp)),
        (lambda a, b: F.cosine_embedding_loss(a, b, _et(np.array([1.0, -1.0, 1.0]))), (x, t)),
        (lambda a, b: F.margin_ranking_loss(a, b, sign, margin=0.1), (x, t)),
        (lambda a: F.hinge_embedding_loss(a, sign, margin=0.5), (x,)),
        (lambda a, b: F.triplet_margin_loss(a, b, a * 2 + 1, swap=True), (x, t)),
    ]
    for fn, inputs in cases:
        assert ember.autograd.gradcheck(fn, inputs)
        assert ember.autograd.gradgradcheck(fn, inputs)


# ------------------------------------------------------------------------------ cross entropy

CE_SHAPES = [((6, 5), (6,)), ((5,), ()), ((2, 4, 3), (2, 3)), ((2, 4, 3, 2), (2, 3, 2)),
             ((2, 3, 2, 2, 2), (2, 2, 2, 2))]


@pytest.mark.parametrize("shape,tshape", CE_SHAPES)
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("opts", [{}, {"w": True}, {"ignore": True}, {"ls": 0.2},
                                  {"w": True, "ignore": True, "ls": 0.3}])
def test_cross_entropy_class_indices(shape, tshape, red, opts):
    C = shape[0] if len(shape) == 1 else shape[1]
    x = rand(*shape) * 4
    t = _ints(tshape, C)
    if opts.get("ignore") and t.size > 1:
        t.reshape(-1)[::3] = 1
    w = rand(C, low=0.2, high=2.0) if opts.get("w") else None
    ignore = 1 if opts.get("ignore") else -100
    ls = opts.get("ls", 0.0)

    def fn(lib, x, t, *w):
        return lib.nn.functional.cross_entropy(x, t, weight=w[0] if w else None,
                                               ignore_index=ignore, reduction=red,
                                               label_smoothing=ls)

    args = (x, Const(t)) + ((Const(w),) if w is not None else ())
    check(fn, *args)
    check(lambda lib, *a: fn(lib, *a) if red == "none" else fn(lib, *a),
          *((x.astype(np.float64), Const(t)) + ((Const(w.astype(np.float64)),)
                                                if w is not None else ())),
          atol=1e-10, rtol=1e-9)


@pytest.mark.parametrize("shape,tshape", CE_SHAPES[:4])
@pytest.mark.parametrize("red", REDS)
def test_nll_loss(shape, tshape, red):
    C = shape[0] if len(shape) == 1 else shape[1]
    x = rand(*shape) * 3
    t = _ints(tshape, C)
    w = rand(C, low=0.2, high=2.0)
    check(lambda lib, x, t: lib.nn.functional.nll_loss(x, t, reduction=red), x, Const(t))
    check(lambda lib, x, t, w: lib.nn.functional.nll_loss(x, t, w, reduction=red,
                                                          ignore_index=0),
          x, Const(t), Const(w))


def test_cross_entropy_grad_fn_names():
    for shape, tshape in CE_SHAPES:
        C = shape[0] if len(shape) == 1 else shape[1]
        x = rand(*shape)
        t = _ints(tshape, C)
        for fname in ("cross_entropy", "nll_loss"):
            if fname == "nll_loss" and len(shape) == 5:
                continue
            e = getattr(F, fname)(_et(x, grad=True), _et(t))
            tt = getattr(torch.nn.functional, fname)(torch.tensor(x, requires_grad=True),
                                                     torch.tensor(t))
            assert e.grad_fn.name() == tt.grad_fn.name()


def test_unbatched_input_with_one_element_target():
    for red in REDS:
        for fname in ("cross_entropy", "nll_loss"):
            # (forward only: PyTorch's backward fails for this shape pair)
            check(lambda lib, x, t, f=fname, r=red: getattr(lib.nn.functional, f)(
                x, t, reduction=r), rand(5), Const(np.array([2])), grad=False)


def test_cross_entropy_uint8_targets_and_transposed_logits():
    t = np.array([1, 0, 3, 2], dtype=np.uint8)
    check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), rand(4, 5), Const(t))
    check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, reduction="none"),
          Transposed(rand(5, 4).T.copy()), Const(t.astype(np.int64)))
    check(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), Transposed(rand(5, 4).T.copy()),
          Const(t.astype(np.int64)))


def test_cross_entropy_all_ignored_is_nan_and_empty_batch():
    t = np.full(3, -100)
    check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), rand(3, 4), Const(t))
    check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.2),
          rand(3, 4), Const(t))
    check(lambda lib, x, t: lib.nn.functional.nll_loss(x, t, reduction="sum"), rand(3, 4),
          Const(t))
    e = np.zeros(0, dtype=np.int64)
    for red in REDS:
        check(lambda lib, x, t, r=red: lib.nn.functional.cross_entropy(x, t, reduction=r),
              rand(0, 4), Const(e))


def test_cross_entropy_stable_at_1e4():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4 - 2, 0.0],
                  [-1e4, 1e4, 3.0]], dtype=np.float32)
    t = np.array([0, 2, 1, 0])
    for red in REDS:
        for ls in (0.0, 0.1):
            out = check(lambda lib, x, t, r=red, s=ls: lib.nn.functional.cross_entropy(
                x, t, reduction=r, label_smoothing=s), x, Const(t))
            assert np.all(np.isfinite(to_numpy(out)))
    pr = np.array([[0.2, 0.3, 0.5]] * 4, dtype=np.float32)
    check(lambda lib, x, p: lib.nn.functional.cross_entropy(x, p), x, pr)


def test_cross_entropy_half_precision():
    t = _ints((6,), 5)
    for dt in ("half", "bfloat16"):
        check(lambda lib, x, t, d=dt: lib.nn.functional.cross_entropy(getattr(x, d)(), t),
              rand(6, 5) * 3, Const(t), atol=1e-2, rtol=1e-2)
        check(lambda lib, x, t, d=dt: lib.nn.functional.nll_loss(getattr(x, d)(), t,
                                                                 reduction="none"),
              rand(6, 5) * 3, Const(t), atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("ls", [0.0, 0.25])
def test_cross_entropy_class_probabilities(shape, red, ls):
    C = shape[0] if len(shape) == 1 else shape[1]
    cd = 0 if len(shape) == 1 else 1
    p = rand(*shape, low=0.0, high=1.0)
    p = p / p.sum(cd, keepdims=True)
    w = rand(C, low=0.5, high=2.0)
    check(lambda lib, x, p: lib.nn.functional.cross_entropy(x, p, reduction=red,
                                                            label_smoothing=ls),
          rand(*shape) * 3, p)
    check(lambda lib, x, p, w: lib.nn.functional.cross_entropy(x, p, w, reduction=red,
                                                               label_smoothing=ls),
          rand(*shape) * 3, p, w)


def test_cross_entropy_gradcheck_and_gradgradcheck():
    x = _et(rand(4, 5, dtype=np.float64) * 2, grad=True)
    t = _et(np.array([1, 0, 4, 2]))
    w = _et(rand(5, dtype=np.float64, low=0.5, high=2.0))
    xk = _et(rand(2, 3, 2, 2, dtype=np.float64), grad=True)
    tk = _et(_ints((2, 2, 2), 3))
    p = _et(rand(4, 5, dtype=np.float64, low=0, high=1), grad=True)
    cases = [
        (lambda a: F.cross_entropy(a, t), (x,)),
        (lambda a: F.cross_entropy(a, t, w, ignore_index=0, label_smoothing=0.2), (x,)),
        (lambda a: F.cross_entropy(a, t, w, reduction="none", label_smoothing=0.1), (x,)),
        (lambda a: F.cross_entropy(a, t, reduction="sum"), (x,)),
        (lambda a: F.cross_entropy(a, tk, ignore_index=2), (xk,)),
        (lambda a, b: F.cross_entropy(a, b, w), (x, p)),
        (lambda a: F.nll_loss(a, t, w), (x,)),
        (lambda a: F.nll_loss(a, tk, reduction="none"), (xk,)),
    ]
    for fn, inputs in cases:
        assert ember.autograd.gradcheck(fn, inputs)
        assert ember.autograd.gradgradcheck(fn, inputs)


def test_cross_entropy_double_backward_matches_torch():
    t = np.array([1, 0, 4, 2])
    w = rand(5, dtype=np.float64, low=0.5, high=2.0)

    def second(lib, x, t, w):
        y = lib.nn.functional.cross_entropy(x * 2, t, w, label_smoothing=0.1)
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        return (g * g).sum()

    check(second, rand(4, 5, dtype=np.float64), Const(t), Const(w), atol=1e-9, rtol=1e-7)


def test_cross_entropy_errors():
    x = rand(3, 5)
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x,
                 Const(np.array([1, 10, 2])))
    check_raises(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x,
                 Const(np.array([1, 10, 2])), exc=IndexError, match="Target 10 is out of bounds.")
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x,
                 Const(np.array([1, -1, 2])))
    same_message(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), x,
                 Const(np.array([5, 1, 2])))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x,
                 Const(np.array([1, 2, 2, 3])))
    check_raises(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x,
                 Const(np.array([1, 2, 2, 3])), exc=ValueError,
                 match="Expected input batch_size (3) to match target batch_size (4).")
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x,
                 Const(np.array([1, 2, 2], dtype=np.int32)))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x, Const(rand(3)))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x,
                 Const(np.ones((3, 5), dtype=np.int64)))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, ignore_index=1), x,
                 Const(rand(3, 5)))
    same_message(lambda lib, x, t, w: lib.nn.functional.cross_entropy(x, t, w), x,
                 Const(np.array([1, 2, 2])), Const(rand(4)))
    same_message(lambda lib, x, t, w: lib.nn.functional.nll_loss(x, t, w), x,
                 Const(np.array([1, 2, 2])), Const(rand(1, 5)))
    same_message(lambda lib, x, t, w: lib.nn.functional.cross_entropy(x, t, w), x,
                 Const(np.array([1, 2, 2])), Const(rand(5, dtype=np.float64)))
    same_message(lambda lib, x, t, w: lib.nn.functional.cross_entropy(x, t, w.requires_grad_()),
                 x, Const(np.array([1, 2, 2])), rand(5))
    same_message(lambda lib, x, t, w: lib.nn.functional.cross_entropy(x, t, w), x,
                 Const(rand(3, 5)), Const(rand(4)))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), Const(
        np.array(1.0, dtype=np.float32)), Const(np.array(0)))
    same_message(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), Const(
        np.array(1.0, dtype=np.float32)), Const(np.array(0)))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), rand(2, 3, 4),
                 Const(np.zeros((2, 5), dtype=np.int64)))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), rand(2, 3, 4, 5),
                 Const(np.zeros((2, 4), dtype=np.int64)))
    same_message(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), rand(2, 3, 4, 5),
                 Const(np.zeros((2, 4, 6), dtype=np.int64)))
    same_message(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), x,
                 Const(np.zeros((3, 1), dtype=np.int64)))
    same_message(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), rand(5),
                 Const(np.array([2, 3])))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, label_smoothing=1.5),
                 x, Const(np.array([1, 2, 2])))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, reduction="avg"), x,
                 Const(np.array([1, 2, 2])))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t),
                 Const(np.ones((3, 5), dtype=np.int64)), Const(np.array([1, 2, 2])))
    same_message(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t),
                 Const(np.ones((3, 5, 2), dtype=np.int64)),
                 Const(np.zeros((3, 2), dtype=np.int64)))
    same_message(lambda lib, x, t: lib.nn.functional.nll_loss(x, t),
                 Const(np.ones((3, 5), dtype=np.int64)), Const(np.array([1, 2, 2])))


def test_negative_label_smoothing_is_ignored_like_torch():
    t = np.array([1, 0, 3])
    check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, label_smoothing=-0.2),
          rand(3, 5), Const(t))


def test_legacy_size_average_reduce_mapping():
    x, t = rand(4, 5), _ints((4,), 5)
    for sa, rd in [(None, False), (False, None), (True, True), (False, True), (True, None)]:
        fn = _quiet(lambda lib, x, t, sa=sa, rd=rd: lib.nn.functional.cross_entropy(
            x, t, size_average=sa, reduce=rd))
        check(fn, x, Const(t))
        check(_quiet(lambda lib, x, t2, sa=sa, rd=rd: lib.nn.functional.mse_loss(
            x, t2, size_average=sa, reduce=rd)), x, rand(4, 5))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tm = torch.nn.CrossEntropyLoss(size_average=sa, reduce=rd)
            em = ember.nn.CrossEntropyLoss(size_average=sa, reduce=rd)
        assert em.reduction == tm.reduction
    with pytest.warns(UserWarning, match=r"please use reduction='sum' instead"):
        F.nll_loss(_et(x), _et(t), size_average=False)
    with pytest.warns(UserWarning, match="elementwise_mean"):
        F.mse_loss(_et(x), _et(x), reduction="elementwise_mean")


# ------------------------------------------------------------------------------ other losses


@pytest.mark.parametrize("red", REDS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(red, log_target):
    x = np.log(rand(3, 4, low=0.05, high=1.0))
    t = rand(3, 4, low=0.0, high=1.0)
    t[0, 0] = 0.0  # xlogy: 0 * log 0 = 0
    if log_target:
        t = np.log(t + 0.1)
    check(_quiet(lambda lib, x, t: lib.nn.functional.kl_div(x, t, reduction=red,
                                                             log_target=log_target)), x, t)


def test_kl_div_mean_warning():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(_et(rand(2, 3)), _et(rand(2, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(_et(rand(2, 3)), _et(rand(2, 3)), reduction="batchmean")


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True),
                                            (False, True)])
def test_poisson_nll_loss(red, log_input, full):
    x = rand(3, 4) if log_input else rand(3, 4, low=0.1, high=3.0)
    t = rand(3, 4, low=0.0, high=4.0)
    check(lambda lib, x, t: lib.nn.functional.poisson_nll_loss(x, t, log_input, full,
                                                                reduction=red), x, Const(t))


@pytest.mark.parametrize("vshape", [(4, 3), (4,), (4, 1), (1, 3)])
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(vshape, red, full):
    v = rand(*vshape, low=0.2, high=2.0)
    v.reshape(-1)[0] = 1e-9  # clamped at eps without cutting the gradient path
    check(lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(x, t, v, full=full,
                                                                    reduction=red),
          rand(4, 3), rand(4, 3), v)


def test_gaussian_nll_loss_float_var_and_errors():
    check(lambda lib, x, t: lib.nn.functional.gaussian_nll_loss(x, t, 0.5), rand(4, 3),
          rand(4, 3))
    same_message(lambda lib, x, t: lib.nn.functional.gaussian_nll_loss(x, t, -1.0), rand(3),
                 rand(3))
    same_message(lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(x, t, v), rand(3),
                 rand(3), -rand(3, low=0.1))
    same_message(lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(x, t, v),
                 rand(4, 3), rand(4, 3), rand(2, 2))
    same_message(lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(
        x, t, v, reduction="avg"), rand(4, 3), rand(4, 3), rand(4, 3, low=0.1))


@pytest.mark.parametrize("red", REDS)
def test_margin_and_embedding_losses(red):
    sign = np.sign(rand(5)).astype(np.float32)
    check(lambda lib, a, b, y: lib.nn.functional.margin_ranking_loss(a, b, y, 0.2,
                                                                      reduction=red),
          rand(5), rand(5), Const(sign))
    y = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 0.0]], dtype=np.float32)
    check(lambda lib, x, y: lib.nn.functional.hinge_embedding_loss(x, y, 0.5, reduction=red),
          rand(2, 3), Const(y))
    check(lambda lib, a, b, y: lib.nn.functional.cosine_embedding_loss(a, b, y, 0.1,
                                                                        reduction=red),
          rand(5, 4), rand(5, 4), Const(sign))
    check(lambda lib, a, b, y: lib.nn.functional.cosine_embedding_loss(a, b, y, reduction=red),
          rand(4), rand(4), Const(np.array(-1.0, dtype=np.float32)))
    t = rand(3, 4, low=0, high=1).round()
    check(lambda lib, x, t: lib.nn.functional.multilabel_soft_margin_loss(x, t, reduction=red),
          rand(3, 4) * 3, t)
    check(lambda lib, x, t, w: lib.nn.functional.multilabel_soft_margin_loss(
        x, t, w, reduction=red), rand(3, 4) * 3, Const(t), rand(4))


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_triplet_margin_loss(red, swap, p):
    check(lambda lib, a, po, n: lib.nn.functional.triplet_margin_loss(
        a, po, n, margin=0.5, p=p, swap=swap, reduction=red), rand(4, 6), rand(4, 6),
        rand(4, 6))


@pytest.mark.parametrize("red", REDS)
def test_triplet_margin_with_distance_loss(red):
    check(lambda lib, a, po, n: lib.nn.functional.triplet_margin_with_distance_loss(
        a, po, n, reduction=red, swap=True), rand(4, 6), rand(4, 6), rand(4, 6))
    cos = lambda lib: (lambda u, v: 1 - lib.nn.functional.cosine_similarity(u, v))  # noqa
    check(lambda lib, a, po, n: lib.nn.functional.triplet_margin_with_distance_loss(
        a, po, n, distance_function=cos(lib), margin=0.3, reduction=red),
        rand(4, 6), rand(4, 6), rand(4, 6))


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(red, p):
    t = _ints((5,), 4)
    w = rand(4, low=0.5, high=2.0)
    check(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t, p=p, margin=0.7,
                                                                 reduction=red),
          rand(5, 4), Const(t))
    check(lambda lib, x, t, w: lib.nn.functional.multi_margin_loss(x, t, p, 1.0, w,
                                                                    reduction=red),
          rand(5, 4), Const(t), Const(w))
    check(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t, reduction=red),
          rand(4), Const(np.array(2)))
    check(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t, reduction=red),
          rand(4), Const(np.array([2])))


@pytest.mark.parametrize("red", REDS)
def test_multilabel_margin_loss(red):
    t = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, 1, -1, 2], [-1, 2, 0, 0]])
    check(lambda lib, x, t: lib.nn.functional.multilabel_margin_loss(x, t, reduction=red),
          rand(4, 4) * 2, Const(t))
    check(lambda lib, x, t: lib.nn.functional.multilabel_margin_loss(x, t, reduction=red),
          rand(4), Const(np.array([2, 0, -1, 3])))


def test_margin_losses_errors():
    same_message(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t), rand(3, 5),
                 Const(np.array([1, 5, 2])))
    same_message(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t), rand(3, 5),
                 Const(np.array([1, 2])))
    same_message(lambda lib, x, t, w: lib.nn.functional.multi_margin_loss(x, t, weight=w),
                 rand(3, 5), Const(np.array([1, 2, 3])), Const(rand(4)))
    same_message(lambda lib, x, t, w: lib.nn.functional.multi_margin_loss(x, t, weight=w),
                 rand(3, 5), Const(np.array([1, 2, 3])), Const(rand(1, 5)))
    same_message(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t, p=3), rand(3, 5),
                 Const(np.array([1, 2, 3])))
    same_message(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t), rand(3, 0),
                 Const(np.array([1, 2, 3])))
    same_message(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t), rand(3, 5, 2),
                 Const(np.array([1, 2, 3])))
    same_message(lambda lib, x, t: lib.nn.functional.multi_margin_loss(x, t), rand(3, 5),
                 Const(np.array([1, 2, 3], dtype=np.int32)))
    same_message(lambda lib, x, t: lib.nn.functional.multilabel_margin_loss(x, t), rand(2, 5),
                 Const(np.array([[1, 7, -1, 0, 0], [0, -1, 0, 0, 0]])))
    same_message(lambda lib, x, t: lib.nn.functional.multilabel_margin_loss(x, t), rand(2, 5),
                 Const(np.array([[1, 2, -1, 0], [0, -1, 0, 0]])))
    same_message(lambda lib, a, b, y: lib.nn.functional.cosine_embedding_loss(a, b, y),
                 rand(3, 5), rand(3, 5), Const(np.array(1.0, dtype=np.float32)))
    same_message(lambda lib, a, b, y: lib.nn.functional.cosine_embedding_loss(a, b, y),
                 rand(5), rand(5), Const(np.ones(3, dtype=np.float32)))
    same_message(lambda lib, a, b, y: lib.nn.functional.cosine_embedding_loss(a, b, y),
                 rand(3, 5), rand(3, 5), Const(np.ones((3, 1), dtype=np.float32)))
    same_message(lambda lib, a, b, y: lib.nn.functional.margin_ranking_loss(a, b, y),
                 rand(3), rand(3, 1), Const(np.ones(3, dtype=np.float32)))
    same_message(lambda lib, a: lib.nn.functional.triplet_margin_loss(a, a, a, margin=0),
                 rand(5))
    same_message(lambda lib, a, b: lib.nn.functional.triplet_margin_loss(a, b, b), rand(2, 5),
                 rand(5))
    same_message(lambda lib, a: lib.nn.functional.triplet_margin_with_distance_loss(
        a, a, a, reduction="x"), rand(5))
    same_message(lambda lib, x, t: lib.nn.functional.multilabel_soft_margin_loss(
        x, t, reduction="x"), rand(3, 4), rand(3, 4))
    same_message(lambda lib, x, t: lib.nn.functional.poisson_nll_loss(x, t, reduction="x"),
                 rand(3, 4), rand(3, 4))
    same_message(lambda lib, x, t: lib.nn.functional.hinge_embedding_loss(
        x, t, reduction="x"), rand(3, 4), rand(3, 4))


# ------------------------------------------------------------------------------ CTC


def _ctc_case(T=7, N=3, C=5, S=4, seed=0):
    rng = np.random.default_rng(seed)
    lp = rng.standard_normal((T, N, C)).astype(np.float32)
    lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
    tl = np.array([4, 2, 3])[:N]
    il = np.array([7, 6, 5])[:N]
    tg = rng.integers(1, C, size=(N, S))
    tg[1, :3] = [2, 2, 3][:S]  # repeated labels need a blank between them
    return lp, tg, il, tl


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("zero_inf", [False, True])
def test_ctc_loss_padded_targets(red, zero_inf):
    lp, tg, il, tl = _ctc_case()
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, il.tolist(), tl.tolist(),
                                                         reduction=red,
                                                         zero_infinity=zero_inf),
          lp, Const(tg), atol=1e-4, rtol=1e-5)
    check(lambda lib, lp, tg, il, tl: lib.nn.functional.ctc_loss(lp, tg, il, tl, reduction=red),
          lp.astype(np.float64), Const(tg), Const(il), Const(tl), atol=1e-9, rtol=1e-9)


def test_ctc_loss_concatenated_unbatched_blank_and_grad_fn():
    lp, tg, il, tl = _ctc_case()
    flat = np.concatenate([tg[i, :tl[i]] for i in range(3)])
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, tuple(il), tuple(tl),
                                                         reduction="none"),
          lp, Const(flat), atol=1e-4, rtol=1e-5)
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7], [4], reduction="none"),
          lp[:, 0], Const(tg[0]), atol=1e-4, rtol=1e-5)
    check(lambda lib, lp, tg, a, b: lib.nn.functional.ctc_loss(lp, tg, a, b), lp[:, 0],
          Const(tg[0]), Const(np.array(7)), Const(np.array(4)), atol=1e-4, rtol=1e-5)
    # another blank index and targets containing labels below it
    lpb = lp.copy()
    tgb = np.where(tg == 4, 0, tg)
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, il.tolist(), tl.tolist(),
                                                         blank=4, reduction="sum"),
          lpb, Const(tgb), atol=1e-4, rtol=1e-5)
    e = F.ctc_loss(_et(lp, grad=True), _et(tg), il.tolist(), tl.tolist(), reduction="none")
    assert e.grad_fn.name() == "CtcLossBackward0"


def test_ctc_loss_impossible_and_empty():
    lp, tg, il, tl = _ctc_case()
    same = np.ones((3, 4), dtype=np.int64)
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [4, 3, 7], [3, 3, 4],
                                                         reduction="none"),
          lp, Const(same), atol=1e-4, rtol=1e-5)
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [4, 3, 7], [3, 3, 4],
                                                         reduction="none", zero_infinity=True),
          lp, Const(same), atol=1e-4, rtol=1e-5)
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [0, 0, 7], [0, 1, 2],
                                                         reduction="none", zero_infinity=True),
          lp, Const(tg), atol=1e-4, rtol=1e-5)
    check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7, 6, 5], [0, 1, 0]),
          lp, Const(tg), atol=1e-4, rtol=1e-5)


def test_ctc_loss_long_sequence_is_finite():
    T, N, C, S = 300, 2, 20, 60
    rng = np.random.default_rng(3)
    lp = rng.standard_normal((T, N, C)).astype(np.float32) * 3
    lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
    tg = rng.integers(1, C, size=(N, S))
    out = check(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [300, 250], [60, 40],
                                                               reduction="none"),
                lp, Const(tg), atol=2e-3, rtol=1e-4, grad_atol=1e-4)
    assert np.all(np.isfinite(to_numpy(out)))


def test_ctc_gradcheck_through_log_softmax():
    lp, tg, il, tl = _ctc_case(T=5, N=2, C=4, S=2)
    x = _et(lp.astype(np.float64), grad=True)
    tgt = _et(np.array([[1, 2], [3, 3]]))
    assert ember.autograd.gradcheck(
        lambda a: F.ctc_loss(F.log_softmax(a, 2), tgt, [5, 5], [2, 2]), (x,))


def test_ctc_errors():
    lp, tg, il, tl = _ctc_case()
    tg3 = tg[:, :3]
    cases = [
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [8, 5, 5], [3, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [-1, 5, 5], [3, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7, 5, 5], [4, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7, 5], [3, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7, 5, 5], [3, 2]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7, 5, 5], [3, 2, 3],
                                                        blank=5), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7, 5, 5], [-1, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, [7, 5, 5], [3, 2, 3],
                                                        reduction="x"), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg[:2], [7, 5, 5], [3, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg.reshape(-1)[:7], [7, 5, 5],
                                                        [3, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp[0], tg, [7, 5, 5], [3, 2, 3]), tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp.half(), tg, [7, 5, 5], [3, 2, 3]),
         tg3),
        (lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, lib.tensor([7.0, 5, 5]),
                                                        lib.tensor([3, 2, 3])), tg3),
    ]
    for fn, t in cases:
        same_message(fn, lp, Const(t))
    check_raises(lambda lib, lp, tg: lib.nn.functional.ctc_loss(lp, tg, lib.tensor([7, 5, 5]),
                                                                [3, 2, 3]), lp, Const(tg3),
                 exc=TypeError)
    with pytest.raises(RuntimeError, match="out of range"):
        F.ctc_loss(_et(lp), _et(np.array([[1, 9, 2]] * 3)), [7, 5, 5], [3, 2, 3])


# ------------------------------------------------------------------------------ modules

MODULES = [
    ("L1Loss", {}, "reg"), ("MSELoss", {"reduction": "sum"}, "reg"),
    ("SmoothL1Loss", {"beta": 0.5}, "reg"), ("HuberLoss", {"delta": 0.5}, "reg"),
    ("SoftMarginLoss", {}, "sign"), ("KLDivLoss", {"reduction": "batchmean"}, "reg"),
    ("KLDivLoss", {"log_target": True, "reduction": "sum"}, "reg"),
    ("PoissonNLLLoss", {"full": True}, "pos"), ("BCELoss", {}, "prob"),
    ("BCEWithLogitsLoss", {}, "prob"), ("HingeEmbeddingLoss", {"margin": 0.5}, "sign"),
    ("MultiLabelSoftMarginLoss", {}, "prob"), ("CrossEntropyLoss", {}, "cls"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 0}, "cls"),
    ("NLLLoss", {"reduction": "none"}, "cls"), ("MultiMarginLoss", {"p": 2}, "cls"),
    ("MultiLabelMarginLoss", {}, "mlm"),
]


@pytest.mark.parametrize("cls,kw,kind", MODULES)
def test_loss_modules(cls, kw, kind):
    tm = getattr(torch.nn, cls)(**kw)
    em = getattr(ember.nn, cls)(**kw)
    assert repr(em) == repr(tm)
    x = rand(4, 3) * 2
    targets = {
        "reg": rand(4, 3), "sign": np.sign(rand(4, 3)).astype(np.float32),
        "pos": rand(4, 3, low=0, high=3), "prob": rand(4, 3, low=0, high=1),
        "cls": _ints((4,), 3), "mlm": np.array([[0, -1, 1], [2, 1, -1], [1, 0, 2], [-1, 0, 0]]),
    }
    t = targets[kind]
    if cls == "BCELoss":
        x = rand(4, 3, low=0.05, high=0.95)

    def run(lib, x, t):
        m = tm if lib is torch else em
        return m(x, t)

    check(run, x, Const(t))


def test_weighted_loss_modules_buffers_and_state_dict():
    w = rand(3, low=0.5, high=2.0)
    for cls in ["CrossEntropyLoss", "NLLLoss", "BCELoss", "MultiLabelSoftMarginLoss",
                "MultiMarginLoss"]:
        tm = getattr(torch.nn, cls)(weight=torch.tensor(w))
        em = getattr(ember.nn, cls)(weight=_et(w))
        assert list(em.state_dict()) == list(tm.state_dict()) == ["weight"]
        assert repr(em) == repr(tm)
    tm = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
    em = ember.nn.BCEWithLogitsLoss(pos_weight=_et(w))
    assert list(em.state_dict()) == list(tm.state_dict()) == ["pos_weight"]
    assert list(ember.nn.CrossEntropyLoss().state_dict()) == []
    ce = ember.nn.CrossEntropyLoss(weight=_et(w))
    check(lambda lib, x, t: (torch.nn.CrossEntropyLoss(weight=torch.tensor(w)) if lib is torch
                             else ce)(x, t), rand(5, 3), Const(_ints((5,), 3)))


def test_three_input_and_ctc_modules():
    y = np.sign(rand(4)).astype(np.float32)
    for cls, kw in [("CosineEmbeddingLoss", {"margin": 0.2}), ("MarginRankingLoss", {})]:
        tm, em = getattr(torch.nn, cls)(**kw), getattr(ember.nn, cls)(**kw)
        assert repr(em) == repr(tm)
        shape = (4, 3) if cls == "CosineEmbeddingLoss" else (4,)
        check(lambda lib, a, b, y, tm=tm, em=em: (tm if lib is torch else em)(a, b, y),
              rand(*shape),
              rand(*shape), Const(y))
    for cls, kw in [("TripletMarginLoss", {"margin": 0.5, "swap": True}),
                    ("TripletMarginWithDistanceLoss", {"swap": True})]:
        tm, em = getattr(torch.nn, cls)(**kw), getattr(ember.nn, cls)(**kw)
        assert repr(em) == repr(tm)
        check(lambda lib, a, p, n, tm=tm, em=em: (tm if lib is torch else em)(a, p, n),
              rand(4, 3),
              rand(4, 3), rand(4, 3))
    tm, em = torch.nn.GaussianNLLLoss(full=True), ember.nn.GaussianNLLLoss(full=True)
    assert repr(em) == repr(tm)
    check(lambda lib, x, t, v: (tm if lib is torch else em)(x, t, v), rand(4, 3), rand(4, 3),
          rand(4, 1, low=0.5))
    tm, em = torch.nn.CTCLoss(zero_infinity=True), ember.nn.CTCLoss(zero_infinity=True)
    assert repr(em) == repr(tm)
    lp, tg, il, tl = _ctc_case()
    check(lambda lib, lp, tg: (tm if lib is torch else em)(lp, tg, il.tolist(), tl.tolist()),
          lp, Const(tg), atol=1e-4, rtol=1e-5)


def test_module_constructor_errors_and_deprecations():
    check_raises(lambda lib: lib.nn.MultiMarginLoss(p=3), exc=ValueError)
    same_message(lambda lib, w: lib.nn.MultiMarginLoss(weight=w), rand(2, 3))
    same_message(lambda lib: lib.nn.TripletMarginLoss(margin=0))
    same_message(lambda lib: lib.nn.TripletMarginWithDistanceLoss(margin=-1))
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        m = ember.nn.NLLLoss2d()
    assert isinstance(m, ember.nn.NLLLoss)
    with pytest.warns(UserWarning, match="reduction='none'"):
        m = ember.nn.MSELoss(reduce=False)
    assert m.reduction == "none"


def test_training_step_with_cross_entropy():
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((16, 6)).astype(np.float32)
    ys = rng.integers(0, 4, 16)

    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 4))

    tm, em = build(torch), build(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    lt = torch.nn.CrossEntropyLoss(label_smoothing=0.05)(tm(torch.tensor(xs)), torch.tensor(ys))
    le = ember.nn.CrossEntropyLoss(label_smoothing=0.05)(em(_et(xs)), _et(ys))
    np.testing.assert_allclose(to_numpy(le), to_numpy(lt), rtol=1e-5)
    lt.backward()
    le.backward()
    for (n, pt), (_, pe) in zip(tm.named_parameters(), em.named_parameters()):
        np.testing.assert_allclose(to_numpy(pe.grad), to_numpy(pt.grad), rtol=1e-4, atol=1e-6,
                                   err_msg=n)


def test_saved_buffers_freed_after_backward():
    lp, tg, il, tl = _ctc_case()
    cases = [
        lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([1, 0, 2])),
        lambda lib, x: lib.nn.functional.mse_loss(x, x.detach() * 2),
        lambda lib, x: lib.nn.functional.gelu(x).sum(),
    ]
    for fn in cases:
        for lib in (torch, ember):
            x = lib.tensor(rand(3, 4), requires_grad=True)
            y = fn(lib, x)
            y.backward()
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                y.backward()
    for lib in (torch, ember):
        x = lib.tensor(lp, requires_grad=True)
        y = lib.nn.functional.ctc_loss(x, lib.tensor(tg), il.tolist(), tl.tolist(),
                                       reduction="none")
        y.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.sum().backward()
    x = _et(rand(3, 4), grad=True)
    y = F.cross_entropy(x, _et(np.array([1, 0, 2])))
    y.backward(retain_graph=True)
    g1 = to_numpy(x.grad).copy()
    y.backward()
    np.testing.assert_allclose(to_numpy(x.grad), 2 * g1, rtol=1e-6)
    assert y.grad_fn._saved is None and y.grad_fn._out_meta is None


def test_cross_entropy_fast_path_matches_torch_and_double_backward():
    # (N, C) float logits with valid class targets take a shorter forward/backward; mean and
    # sum, float32 and float64, and create_graph (the general backward) all match PyTorch
    from tests.oracle import Const, check, rand

    rng = np.random.default_rng(3)
    t = rng.integers(0, 7, 33)
    for red in ("mean", "sum"):
        for dt in (np.float32, np.float64):
            check(lambda lib, x, t, red=red: lib.nn.functional.cross_entropy(
                x * 4, t, reduction=red),
                  rand(33, 7, dtype=dt), Const(t))

    def second(lib, x, t):
        loss = lib.nn.functional.cross_entropy(x, t)
        (gx,) = lib.autograd.grad(loss, (x,), create_graph=True)
        return (gx * gx).sum()

    check(second, rand(9, 5), Const(rng.integers(0, 5, 9)))
    # an ignored or out-of-range target still goes through PyTorch's checks
    check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, ignore_index=2),
          rand(6, 4), Const(np.array([0, 2, 3, 1, 2, 0])))


@pytest.mark.parametrize("threads", [1, 2])
def test_cross_entropy_fast_path_blocked_matches_torch(threads):
    # from 2**16 logits the fast path works in cache-sized row blocks split over threads; odd
    # sizes leave partial blocks, transposed logits are strided, float64 has other block sizes
    rng = np.random.default_rng(11)
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        t = rng.integers(0, 257, 301)
        for dt in (np.float32, np.float64):
            check(lambda lib, x, t: lib.nn.functional.cross_entropy(x * 3, t),
                  rand(301, 257, dtype=dt), Const(t))
        check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, reduction="sum"),
              Transposed(rand(301, 257)), Const(t))
    finally:
        ember.set_num_threads(before)
