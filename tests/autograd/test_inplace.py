"""In-place operations and autograd against PyTorch: leaf checks, saved-tensor version checks
(and the cases PyTorch lets through), version counters shared by views, writes into views of
non-leaves (CopySlices), stale views, detached aliases and the optimizer's no_grad update."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autograd._helpers import both, raises_like
from tests.oracle import needs_torch

pytestmark = needs_torch


def r(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 1, shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# leaf checks
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("write", [
    lambda lib, x: x.add_(1),
    lambda lib, x: x.mul_(x),
    lambda lib, x: x.zero_(),
    lambda lib, x: x.__setitem__(0, 2.0),
    lambda lib, x: x.copy_(lib.ones(3)),
    lambda lib, x: x.exp_(),
], ids=["add_", "mul_self", "zero_", "setitem", "copy_", "exp_"])
def test_in_place_on_leaf_requiring_grad_raises(write):
    e_msg, t_msg = raises_like(write, r(3))
    assert e_msg == t_msg


@pytest.mark.parametrize("write", [
    lambda lib, x: x[1:].add_(1),
    lambda lib, x: x.view(3).mul_(2),
    lambda lib, x: x.t().__setitem__(0, 2.0),
    lambda lib, x: x[0].fill_(3.0),
], ids=["slice_add_", "view_mul_", "t_setitem", "select_fill_"])
def test_in_place_on_view_of_leaf_raises(write):
    e_msg, t_msg = raises_like(write, r(3))
    assert e_msg == t_msg


def test_leaf_check_raises_before_any_change():
    def fn(lib, x):
        before = x.detach().clone()
        with pytest.raises(RuntimeError):
            x.add_(1)
        with pytest.raises(RuntimeError):
            x[1:].mul_(2)
        return x._version, bool((x.detach() == before).all())

    both(fn, r(3))


def test_optimizer_update_under_no_grad_is_allowed():
    def fn(lib, w):
        (w * w).sum().backward()
        with lib.no_grad():
            w.sub_(0.1 * w.grad)
            w[0] = 5.0
        w.grad = None
        (w * 3).sum().backward()
        return w.is_leaf, w.requires_grad, w.grad_fn, w._version, w.detach().clone()

    both(fn, r(3))


def test_detached_alias_of_leaf_may_be_written():
    def fn(lib, w):
        w.detach().mul_(2)
        w.detach()[0] = 7.0
        w.detach()[1:].add_(1)
        w.detach().detach_()
        (w * w).sum().backward()
        return w.detach().clone(), w._version

    both(fn, r(3))


def test_data_is_not_version_tracked():
    # .data shares memory but not the version counter: PyTorch does not notice the change
    def fn(lib, x):
        h = x * 1
        y = h.pow(2)
        h.data.add_(1)
        y.sum().backward()
        return h._version

    both(fn, r(3))


def test_out_argument_with_grad_raises():
    e_msg, t_msg = raises_like(lambda lib, x: lib.exp(x, out=lib.empty(3)), r(3))
    assert e_msg == t_msg


# ---------------------------------------------------------------------------------------------
# saved tensors modified in place
# ---------------------------------------------------------------------------------------------

SAVING_OPS = {
    "pow": (lambda lib, h, w: h.pow(2), False),
    "mul": (lambda lib, h, w: h * w, False),
    "sin": (lambda lib, h, w: h.sin(), False),
    "log": (lambda lib, h, w: h.log(), False),
    "matmul": (lambda lib, h, w: lib.matmul(h, w), False),
    "div": (lambda lib, h, w: h / w, False),
    "exp_result": (lambda lib, h, w: h.exp(), True),  # saves its result: changing that is caught
}


@pytest.mark.parametrize("name", list(SAVING_OPS))
def test_modified_saved_tensor_raises_with_pytorch_message(name):
    op, modify_result = SAVING_OPS[name]

    def fn(lib, x, w):
        h = x * 1
        y = op(lib, h, w)
        (y if modify_result else h).add_(1)
        y.sum().backward()

    e_msg, t_msg = raises_like(fn, r(3), r(3, seed=1))
    assert e_msg == t_msg
    assert "is at version 1; expected version 0 instead" in e_msg


def test_modified_leaf_saved_tensor_message():
    def fn(lib, w):
        y = (w * w).sum()
        with lib.no_grad():
            w.add_(1)
        y.backward()

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg
    assert "[torch.FloatTensor [3]] is at version 1" in e_msg


def test_modified_saved_tensor_message_for_2d_double():
    def fn(lib, x):
        h = x.double() * 1
        y = h.sin()
        h.mul_(2)
        h.mul_(2)
        y.sum().backward()

    e_msg, t_msg = raises_like(fn, r(2, 3))
    assert e_msg == t_msg
    assert "[torch.DoubleTensor [2, 3]], which is output 0 of Mul, is at version 2" in e_msg


@pytest.mark.parametrize("op", [
    lambda lib, h: h.exp(),
    lambda lib, h: h.sigmoid(),
    lambda lib, h: h.tanh(),
    lambda lib, h: h.relu(),
    lambda lib, h: h + 2,
    lambda lib, h: h * 2,
    lambda lib, h: h.sum(),
    lambda lib, h: h.sqrt(),
], ids=["exp", "sigmoid", "tanh", "relu", "add", "mul_scalar", "sum", "sqrt"])
def test_modifying_input_not_saved_is_fine(op):
    # these ops save their result (or nothing), so changing their input afterwards is allowed
    def fn(lib, x):
        h = x * 1
        y = op(lib, h)
        h.add_(1)
        y.sum().backward()
        return y

    both(fn, r(3))


def test_in_place_chain_on_non_leaf():
    def fn(lib, x, w):
        y = x * 2
        y.add_(w)
        y.mul_(w)
        y.div_(x)
        y.exp_()
        y.sum().backward()
        return y, y.grad_fn.name(), y._version

    both(fn, r(3), r(3, seed=1))


def test_in_place_result_saved_then_modified_again_raises():
    def fn(lib, x):
        y = x * 1
        y.exp_()  # saves its result
        y.add_(1)
        y.sum().backward()

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg


def test_in_place_into_tensor_without_grad_makes_it_part_of_graph():
    def fn(lib, x):
        a = lib.zeros(3)
        a.add_(x * 2)
        a.mul_(x)
        a.sum().backward()
        return a.requires_grad, a.is_leaf, a.grad_fn.name()

    both(fn, r(3))


def test_retained_graph_then_in_place_then_second_backward():
    def fn(lib, x):
        h = x * 1
        y = (h * h).sum()
        y.backward(retain_graph=True)
        h.add_(1)
        y.backward()

    e_msg, t_msg = raises_like(fn, r(3))
    assert e_msg == t_msg


# ---------------------------------------------------------------------------------------------
# version counters shared by views
# ---------------------------------------------------------------------------------------------

def test_version_counter_shared_by_views_and_detach():
    def fn(lib, x):
        h = x * 1
        v = h[1:]
        t = h.t() if h.dim() == 2 else h.view(-1)
        d = h.detach()
        res = [(h._version, v._version, t._version, d._version)]
        v.add_(1)
        res.append((h._version, v._version, t._version, d._version))
        d.mul_(2)
        res.append((h._version, v._version, t._version, d._version))
        h.zero_()
        res.append((h._version, v._version, t._version, d._version))
        c = h.clone()
        res.append(c._version)
        return res

    both(fn, r(4))


def test_version_of_saved_view_bumped_through_base():
    def fn(lib, x):
        h = x * 1
        v = h[1:]
        y = v.pow(2)  # saves the view
        h.mul_(2)  # modifies it through the base
        y.sum().backward()

    e_msg, t_msg = raises_like(fn, r(4))
    assert "modified by an inplace operation" in e_msg


# ---------------------------------------------------------------------------------------------
# writes into views of non-leaves (CopySlices)
# ---------------------------------------------------------------------------------------------

def test_copy_slices_example_from_the_issue():
    def fn(lib, a, c):
        b = a * 1
        b[0] = c * 2
        b[1:] *= 3
        (b * lib.arange(1.0, 5.0)).sum().backward()
        return b, b.grad_fn.name()

    both(fn, r(4), r(1, seed=1).reshape(()))


def test_write_into_view_then_use_base_and_view():
    def fn(lib, a, c):
        b = a.sin()  # saves its input, not b
        v = b[1:3]
        v.mul_(c)
        (b.sin().sum() + v.sum() * 2).backward()
        return b, v.grad_fn is not None

    both(fn, r(5), r(2, seed=1))


def test_setitem_tensor_requiring_grad_into_plain_tensor():
    def fn(lib, c):
        b = lib.zeros(2, 3)
        b[1] = c * 2
        b[0, :2] = c[1:] ** 2
        (b * b).sum().backward()
        return b, b.requires_grad

    both(fn, r(3))


def test_nested_views_and_transposed_writes():
    def fn(lib, a, w):
        b = a * 1
        v = b.t()[1:]
        v[:, 0].mul_(w)
        v.add_(1)
        (b ** 2).sum().backward()
        return b

    both(fn, r(3, 4), r(3, seed=1))


def test_stale_view_after_base_modified_gets_new_grad_fn():
    def fn(lib, a, w):
        b = a * 1
        v = b[1:]
        b.mul_(w)  # v's old grad_fn is stale now
        (v * 3).sum().backward()
        return v

    both(fn, r(4), r(4, seed=1))


def test_two_overlapping_views():
    def fn(lib, a, w):
        b = a * 1
        v1 = b[:3]
        v2 = b[1:]
        v1.mul_(w[:3])
        (v2 * lib.arange(3.0)).sum().backward()
        return b

    both(fn, r(4), r(4, seed=1))


def test_in_place_on_view_with_retain_grad_on_base():
    def fn(lib, a, c):
        b = a * 2
        b.retain_grad()
        b[1:].mul_(c)
        b.sum().backward()
        return b.grad

    both(fn, r(3), r(2, seed=1))


def test_view_of_non_leaf_in_place_with_hook_on_base():
    def fn(lib, a):
        seen = []
        b = a * 2
        b.register_hook(lambda g: seen.append(g.clone()))
        b[0] = 0.0
        b.sum().backward()
        return seen

    both(fn, r(3))


def test_unbind_output_in_place_with_grad_raises():
    e_msg, t_msg = raises_like(lambda lib, a: (a * 1).unbind(0)[0].mul_(2), r(3, 2))
    assert e_msg == t_msg


def test_view_made_in_no_grad_then_recorded_in_place_raises():
    def fn(lib, a, c):
        b = a * 1
        with lib.no_grad():
            v = b[1:]
        v.mul_(c)

    e_msg, t_msg = raises_like(fn, r(3), r(2, seed=1))
    assert e_msg == t_msg


def test_in_place_inside_inference_mode_bumps_version():
    def fn(lib, x):
        n = x.detach().clone()
        with lib.inference_mode():
            n.add_(1)
        return n._version, n.is_inference()

    both(fn, r(3))


def test_in_place_double_backward():
    def fn(lib, x):
        y = x * 1
        y.mul_(x)  # y = x^2
        y.mul_(x)  # y = x^3
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        return g, g2

    both(fn, r(3))
