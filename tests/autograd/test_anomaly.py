"""Anomaly detection against PyTorch: NaN in a backward output raises naming the node, the
warning carries the forward traceback (file, line and source of the forward op), errors raised
inside a backward are annotated the same way, flags and process-wide state."""

from __future__ import annotations

import threading
import warnings

import pytest

import ember
from tests.oracle import needs_torch, torch

pytestmark = needs_torch

LIBS = pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])


@pytest.fixture(autouse=True)
def _anomaly_off():
    yield
    ember.set_anomaly_enabled(False)
    torch.set_anomaly_enabled(False)


def run(fn):
    """``fn()`` with every warning recorded: (exception or None, [warning messages])."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            fn()
            err = None
        except Exception as e:  # noqa: BLE001 - compared between the libraries
            err = e
    return err, [str(w.message) for w in rec if issubclass(w.category, UserWarning)]


def nan_through_sqrt(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)

    def fn():
        with lib.autograd.detect_anomaly():
            y = x.sqrt()  # FORWARD-LINE
            (y * 0).sum().backward()  # d/dx sqrt(0) * 0 = inf * 0 = nan

    return run(fn)


def test_nan_in_backward_raises_and_warns_with_forward_trace():
    t_err, t_warn = nan_through_sqrt(torch)
    e_err, e_warn = nan_through_sqrt(ember)
    assert type(e_err) is type(t_err) is RuntimeError
    assert str(e_err) == str(t_err) == \
        "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert e_warn[0] == t_warn[0]  # "Anomaly Detection has been enabled. ..."
    trace = e_warn[1]
    assert trace.startswith("Error detected in SqrtBackward0. Traceback of forward call that "
                            "caused the error:\n")
    # the innermost frame is the user's forward line, as in PyTorch
    assert trace.rstrip().endswith("y = x.sqrt()  # FORWARD-LINE")
    assert __file__ in trace and "in fn" in trace
    assert t_warn[1].split("\n")[-2] == trace.rstrip().split("\n")[-1]
    # no frame from ember's op machinery (PyTorch's are C++)
    assert "ember/ops" not in trace and "ember/autograd" not in trace


def test_nan_in_later_output_index_and_custom_function():
    def make(lib):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x + y

            @staticmethod
            def backward(ctx, g):
                return g, g * float("nan")

        return Two

    def go(lib):
        x = lib.ones(2, requires_grad=True)
        y = lib.ones(2, requires_grad=True)

        def fn():
            with lib.autograd.detect_anomaly():
                make(lib).apply(x, y).sum().backward()

        return run(fn)

    (t_err, _), (e_err, e_warn) = go(torch), go(ember)
    assert str(e_err) == str(t_err) == "Function 'TwoBackward' returned nan values in its 1th " \
                                       "output."
    assert "make(lib).apply(x, y).sum().backward()" in e_warn[1]


def test_check_nan_false_and_nan_without_anomaly_mode():
    def go(lib, ctx):
        x = lib.tensor([0.0, 1.0], requires_grad=True)

        def fn():
            with ctx(lib):
                (x.sqrt() * 0).sum().backward()

        err, _ = run(fn)
        return err, x.grad

    for ctx in (lambda lib: lib.autograd.detect_anomaly(check_nan=False),
                lambda lib: lib.autograd.set_detect_anomaly(False)):
        (t_err, t_grad), (e_err, e_grad) = go(torch, ctx), go(ember, ctx)
        assert t_err is None and e_err is None
        assert str(e_grad) == str(t_grad) == "tensor([nan, 0.])"


def test_error_raised_in_backward_is_annotated():
    def go(lib):
        class Boom(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                raise ValueError("boom")

        x = lib.ones(2, requires_grad=True)

        def with_anomaly():
            with lib.autograd.detect_anomaly():
                out = Boom.apply(x)  # BOOM-FORWARD
                out.sum().backward()

        def without():
            Boom.apply(x).sum().backward()

        return run(with_anomaly), run(without)

    (t_a, t_n), (e_a, e_n) = go(torch), go(ember)
    assert type(e_a[0]) is type(t_a[0]) is ValueError
    assert e_a[1][1].startswith("Error detected in BoomBackward. Traceback of forward call")
    assert "out = Boom.apply(x)  # BOOM-FORWARD" in e_a[1][1]
    assert e_n[1] == t_n[1] == []  # no annotation without anomaly mode


def test_forward_recorded_outside_anomaly_mode():
    def go(lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        y = x.sqrt()

        def fn():
            with lib.autograd.detect_anomaly():
                (y * 0).sum().backward()

        return run(fn)

    (t_err, t_warn), (e_err, e_warn) = go(torch), go(ember)
    assert str(e_err) == str(t_err)
    assert t_warn[1].startswith(e_warn[1])  # "... No forward pass information available. ..."
    assert "No forward pass information available" in e_warn[1]


def test_flags_and_set_detect_anomaly_forms():
    def go(lib):
        res = [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        lib.autograd.set_detect_anomaly(True)
        res.append(lib.is_anomaly_enabled())
        lib.autograd.set_detect_anomaly(False)
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            res += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        res += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                res.append(lib.is_anomaly_enabled())
                with lib.autograd.set_detect_anomaly(False):
                    res.append(lib.is_anomaly_enabled())
                res.append(lib.is_anomaly_enabled())
        lib.set_anomaly_enabled(True, check_nan=False)
        res += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        lib.set_anomaly_enabled(False)
        res.append(lib.is_anomaly_enabled())
        return res

    assert go(ember) == go(torch)


def test_anomaly_mode_is_process_wide():
    def go(lib):
        seen = {}
        lib.autograd.set_detect_anomaly(True)
        t = threading.Thread(target=lambda: seen.update(a=lib.is_anomaly_enabled()))
        t.start()
        t.join()

        def off():
            lib.autograd.set_detect_anomaly(False)

        t = threading.Thread(target=off)
        t.start()
        t.join()
        return seen["a"], lib.is_anomaly_enabled()

    assert go(ember) == go(torch) == (True, False)


def test_detect_anomaly_warns_on_creation():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ember.autograd.detect_anomaly()
    assert not ember.is_anomaly_enabled()  # creating it does not switch anything on


def test_results_unchanged_under_anomaly_mode():
    def go(lib):
        x = lib.tensor([0.5, 1.5, 2.5], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                y = (x.exp() * x.sin()).sum()
                (g,) = lib.autograd.grad(y, x, create_graph=True)
                g.sum().backward()
        return g.detach().tolist(), x.grad.tolist()

    e, t = go(ember), go(torch)
    assert e[0] == pytest.approx(t[0], rel=1e-5) and e[1] == pytest.approx(t[1], rel=1e-5)
