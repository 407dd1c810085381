"""Memory behaviour of the autograd engine: a training loop's resident memory stays flat, graphs
are freed by reference counting alone (no cycles: checked with the garbage collector off), and
backward releases saved activations unless ``retain_graph=True``."""

from __future__ import annotations

import contextlib
import gc
import os
import weakref

import numpy as np
import pytest

import ember
from ember.autograd.graph import Node

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:  # pragma: no cover - not Linux
        pytest.skip("/proc/self/statm is not available")


@contextlib.contextmanager
def gc_off():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def relu(x):
    # built from existing ops, as a user would
    return ember.where(x > 0, x, ember.zeros_like(x))


class MLP:
    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.params = [
            ember.tensor(rng.normal(0, 0.1, (64, 128)).astype(np.float32), requires_grad=True),
            ember.tensor(np.zeros(128, np.float32), requires_grad=True),
            ember.tensor(rng.normal(0, 0.1, (128, 10)).astype(np.float32), requires_grad=True),
            ember.tensor(np.zeros(10, np.float32), requires_grad=True),
        ]

    def __call__(self, x):
        w1, b1, w2, b2 = self.params
        h = relu(ember.matmul(x, w1) + b1)
        return ember.matmul(h, w2) + b2

    def step(self, x, y, lr=0.01):
        for p in self.params:
            p.grad = None
        loss = ((self(x) - y) ** 2).mean() + self.params[0].abs().sum() * 1e-5
        loss.backward()
        with ember.no_grad():
            for p in self.params:
                p.sub_(lr * p.grad)
        return loss


def batch(seed=1):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.normal(size=(32, 64)).astype(np.float32))
    y = ember.tensor(rng.normal(size=(32, 10)).astype(np.float32))
    return x, y


def test_training_loop_rss_stays_flat():
    model = MLP()
    x, y = batch()
    for _ in range(200):  # warm-up: allocator pools, caches
        model.step(x, y)
    start = rss_bytes()
    peak = start
    losses = []
    for i in range(1800):
        loss = model.step(x, y)
        if i % 100 == 0:
            peak = max(peak, rss_bytes())
            losses.append(loss.item())
    growth = max(peak, rss_bytes()) - start
    # one leaked graph per step would hold its activations (~60 kB): ~100 MB over the loop
    assert growth < 16 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over 1,800 steps"
    assert losses[-1] < losses[0]  # and it is really training


def test_training_loop_leaves_no_live_graph_nodes():
    model = MLP()
    x, y = batch()
    with gc_off():
        for _ in range(50):
            model.step(x, y)
        before = sum(isinstance(o, Node) for o in gc.get_objects())
        for _ in range(300):
            model.step(x, y)
        after = sum(isinstance(o, Node) for o in gc.get_objects())
    assert after <= before, f"graph nodes alive grew from {before} to {after}"


def test_graph_freed_without_gc_after_backward():
    model = MLP()
    x, y = batch()
    with gc_off():
        out = model(x)
        loss = ((out - y) ** 2).mean()
        refs = [weakref.ref(out), weakref.ref(loss), weakref.ref(out.grad_fn),
                weakref.ref(loss.grad_fn)]
        node = loss.grad_fn
        while node is not None and node.next_functions:
            refs.append(weakref.ref(node))
            node = next((n for n, _ in node.next_functions if n is not None), None)
        del node
        loss.backward()
        del out, loss
        dead = [r() is None for r in refs]
    assert all(dead), f"{dead.count(False)} of {len(refs)} graph objects survived without gc"


def test_graph_freed_without_gc_when_never_backpropagated():
    w = ember.randn(8, 8, requires_grad=True)
    with gc_off():
        y = (w @ w).tanh().sum()
        refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
        del y
        assert all(r() is None for r in refs)
        # the leaf's AccumulateGrad node is only weakly cached by the leaf
        acc = (w * 2).grad_fn.next_functions[0][0]
        acc_ref = weakref.ref(acc)
        del acc
        assert acc_ref() is None


def test_double_backward_graphs_freed_without_gc():
    w = ember.randn(5, requires_grad=True)
    with gc_off():
        y = (w.exp() * w.sin()).sum()
        (g,) = ember.autograd.grad(y, w, create_graph=True)
        (g2,) = ember.autograd.grad(g.sum(), w)
        refs = [weakref.ref(t) for t in (y, g)] + [weakref.ref(y.grad_fn), weakref.ref(g.grad_fn)]
        del y, g, g2
        assert all(r() is None for r in refs)


def test_custom_function_graph_freed_without_gc():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            out = x * x
            ctx.mark_non_differentiable()
            return out

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class SavesOutput(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out

    w = ember.randn(4, requires_grad=True)
    with gc_off():
        y = SavesOutput.apply(Square.apply(w * 1))
        refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
        y.sum().backward()
        del y
        assert all(r() is None for r in refs)


def test_views_in_place_and_hooks_freed_without_gc():
    w = ember.randn(6, requires_grad=True)
    with gc_off():
        b = w * 2
        v = b[1:4]
        v.mul_(3)
        b.register_hook(lambda g: g * 1)
        b.retain_grad()
        out = b.exp().sum()
        refs = [weakref.ref(t) for t in (b, v, out)] + [weakref.ref(b.grad_fn),
                                                      weakref.ref(v.grad_fn)]
        out.backward()
        del b, v, out
        assert all(r() is None for r in refs)


def test_saved_activations_released_after_backward_even_if_output_kept():
    w = ember.randn(64, 64, requires_grad=True)
    x = ember.randn(16, 64)
    h = (x @ w).tanh()  # tanh saves its result; the second matmul saves h as its input
    out = (h @ w).sum()
    h_array = weakref.ref(h._data)
    del h
    assert h_array() is not None  # held by the graph
    out.backward()
    assert h_array() is None  # freed by backward although `out` (and its graph) is alive
    with pytest.raises(RuntimeError, match="second time"):
        out.backward()


def test_retain_graph_keeps_saved_activations_until_last_backward():
    w = ember.randn(8, 8, requires_grad=True)
    h = (w @ w).sin()
    out = (h * h).sum()
    ref = weakref.ref(h._data)
    del h
    out.backward(retain_graph=True)
    assert ref() is not None
    out.backward()
    assert ref() is None


def test_many_retained_losses_do_not_hold_activations():
    model = MLP()
    x, y = batch()
    for _ in range(20):
        model.step(x, y)
    start = rss_bytes()
    kept = []
    for _ in range(300):
        for p in model.params:
            p.grad = None
        big_x = ember.randn(256, 64)
        loss = ((model(big_x)[:, :1] - 1) ** 2).mean()
        loss.backward()
        kept.append(loss)  # the graph stays reachable, its saved arrays must not
    growth = rss_bytes() - start
    # each step's activations are ~300 kB: keeping them would cost ~90 MB
    assert growth < 24 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB"
