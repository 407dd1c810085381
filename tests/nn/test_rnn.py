"""Recurrent layers against PyTorch: RNN (tanh/relu), LSTM (with proj_size) and GRU over a grid
of num_layers / bidirectional / batch_first / bias, unbatched and packed input, initial states,
dropout; the cells; outputs, final states and gradients of inputs, states and every parameter
(PyTorch's state dict copied into ember). Also gradcheck/gradgradcheck of the fused ops, 500-step
backprop, the packing utilities of ``nn.utils.rnn`` (errors included), initialisation, repr and
state-dict interchange."""

import itertools
import math
import warnings

import numpy as np
import pytest

import ember
from ember.ops import rnn as ops_rnn
from tests.oracle import (
    DEVICE,
    assert_close,
    check,
    check_raises,
    needs_torch,
    rand,
    same_message,
    to_numpy,
    torch,
)

pytestmark = needs_torch


@pytest.fixture(autouse=True)
def _torch_without_onednn():
    # PyTorch's oneDNN LSTM takes seconds on these tiny shapes (11 s for 500 steps); its
    # default CPU path computes the same function
    prev = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    yield
    torch.backends.mkldnn.enabled = prev

MODES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
MODE_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def _pair(cls, *args, dtype=np.float32, **kw):
    """The same layer in PyTorch and ember, ember holding PyTorch's state dict."""
    t = getattr(torch.nn, cls)(*args, **kw)
    e = getattr(ember.nn, cls)(*args, **kw)
    if dtype == np.float64:
        t, e = t.double(), e.double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    if DEVICE != "cpu":
        e = e.to(DEVICE)
    return t, e


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flat(o)]
    return [out]


def _states(cls, layers_dirs, batch, hidden, proj=0, dtype=np.float32):
    """Random initial states: (h0,) or (h0, c0); batch None means unbatched."""
    lead = (layers_dirs,) if batch is None else (layers_dirs, batch)
    h0 = rand(*lead, proj or hidden, dtype=dtype)
    if cls == "LSTM":
        return (h0, rand(*lead, hidden, dtype=dtype))
    return (h0,)


def _call(m, x, states):
    if not states:
        return m(x)
    return m(x, states if len(states) == 2 else states[0])


def _compare(t, e, fn, arrays, atol=1e-5, rtol=1e-4):
    """Outputs and input/state gradients through ``tests.oracle.check``, then the gradient of
    every parameter under one random upstream gradient per output."""
    mods = {torch: t, ember: e}
    check(lambda lib, *xs: fn(mods[lib], lib, *xs), *arrays, atol=atol, rtol=rtol)
    rng = np.random.default_rng(7)
    t_in = [torch.tensor(a) for a in arrays]
    e_in = [ember.tensor(a).to(DEVICE) for a in arrays]
    t_out = [o for o in _flat(fn(t, torch, *t_in)) if isinstance(o, torch.Tensor)
             and o.requires_grad]
    e_out = [o for o in _flat(fn(e, ember, *e_in)) if isinstance(o, ember.Tensor)
             and o.requires_grad]
    assert len(t_out) == len(e_out)
    ups = [rng.standard_normal(tuple(o.shape)).astype(to_numpy(o).dtype) for o in t_out]
    torch.autograd.backward(t_out, [torch.tensor(u) for u in ups])
    ember.autograd.backward(e_out, [ember.tensor(u).to(DEVICE) for u in ups])
    tp, ep = dict(t.named_parameters()), dict(e.named_parameters())
    assert list(tp) == list(ep)
    for name in tp:
        assert_close(ep[name].grad, tp[name].grad, atol=atol, rtol=rtol, what=f"grad of {name}")


def _layer_fn(states_given):
    def fn(m, lib, x, *states):
        return _call(m, x, states if states_given else ())
    return fn


# ---------------------------------------------------------------------------------------------
# the layers over a grid of configurations
# ---------------------------------------------------------------------------------------------

GRID = list(itertools.product(range(len(MODES)), [1, 2, 3], [False, True], [False, True],
                              [True, False]))


@pytest.mark.parametrize("mode,layers,bidir,batch_first,bias", GRID,
                         ids=[f"{MODE_IDS[g[0]]}-L{g[1]}-{'bi' if g[2] else 'uni'}-"
                              f"{'bf' if g[3] else 'tf'}-{'bias' if g[4] else 'nobias'}"
                              for g in GRID])
def test_layer_grid_matches_torch(mode, layers, bidir, batch_first, bias):
    cls, kw = MODES[mode]
    t, e = _pair(cls, 4, 6, layers, bias=bias, batch_first=batch_first, bidirectional=bidir,
                 **kw)
    assert repr(e) == repr(t)
    x = rand(3, 5, 4) if batch_first else rand(5, 3, 4)
    states = _states(cls, layers * (2 if bidir else 1), 3, 6)
    _compare(t, e, _layer_fn(True), (x, *states))


@pytest.mark.parametrize("mode", range(len(MODES)), ids=MODE_IDS)
def test_layer_zero_initial_state_default(mode):
    cls, kw = MODES[mode]
    t, e = _pair(cls, 4, 5, 2, bidirectional=True, **kw)
    _compare(t, e, _layer_fn(False), (rand(6, 2, 4),))


@pytest.mark.parametrize("layers,bidir,batch_first,bias",
                         list(itertools.product([1, 2, 3], [False, True], [False, True],
                                                [True, False])))
def test_lstm_proj_size_matches_torch(layers, bidir, batch_first, bias):
    t, e = _pair("LSTM", 4, 6, layers, bias=bias, batch_first=batch_first,
                 bidirectional=bidir, proj_size=3)
    assert repr(e) == repr(t)
    assert e._flat_weights_names == t._flat_weights_names
    x = rand(3, 5, 4) if batch_first else rand(5, 3, 4)
    states = _states("LSTM", layers * (2 if bidir else 1), 3, 6, proj=3)
    _compare(t, e, _layer_fn(True), (x, *states))


@pytest.mark.parametrize("mode", range(len(MODES)), ids=MODE_IDS)
@pytest.mark.parametrize("given", [False, True])
def test_layer_unbatched_input(mode, given):
    cls, kw = MODES[mode]
    t, e = _pair(cls, 4, 5, 2, bidirectional=True, batch_first=True, **kw)
    states = _states(cls, 4, None, 5) if given else ()
    _compare(t, e, _layer_fn(given), (rand(7, 4), *states))


@pytest.mark.parametrize("mode", range(len(MODES)), ids=MODE_IDS)
def test_layer_float64_matches_tightly(mode):
    cls, kw = MODES[mode]
    t, e = _pair(cls, 3, 4, 2, bidirectional=True, dtype=np.float64, **kw)
    x = rand(6, 2, 3, dtype=np.float64)
    _compare(t, e, _layer_fn(True), (x, *_states(cls, 4, 2, 4, dtype=np.float64)),
             atol=1e-12, rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# packed sequences through the layers
# ---------------------------------------------------------------------------------------------

def _packed_fn(lengths, batch_first, given, enforce_sorted=False):
    def fn(m, lib, x, *states):
        R = lib.nn.utils.rnn
        packed = R.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                        enforce_sorted=enforce_sorted)
        out, hidden = _call(m, packed, states if given else ())
        assert isinstance(out, R.PackedSequence)
        padded, lens = R.pad_packed_sequence(out, batch_first=batch_first)
        return padded, lens, out.data, out.batch_sizes, hidden
    return fn


@pytest.mark.parametrize("mode", range(len(MODES)), ids=MODE_IDS)
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True), (3, False)])
@pytest.mark.parametrize("given", [False, True])
def test_layer_packed_unsorted_lengths(mode, layers, bidir, given):
    cls, kw = MODES[mode]
    t, e = _pair(cls, 4, 5, layers, bidirectional=bidir, **kw)
    lengths = [3, 6, 1, 6, 4]
    states = _states(cls, layers * (2 if bidir else 1), 5, 5) if given else ()
    _compare(t, e, _packed_fn(lengths, False, given), (rand(6, 5, 4), *states))


@pytest.mark.parametrize("bidir", [False, True])
def test_lstm_proj_packed_batch_first_sorted(bidir):
    t, e = _pair("LSTM", 4, 6, 2, bidirectional=bidir, batch_first=True, proj_size=2)
    states = _states("LSTM", 2 * (2 if bidir else 1), 4, 6, proj=2)
    _compare(t, e, _packed_fn([5, 5, 3, 1], True, True, enforce_sorted=True),
             (rand(4, 5, 4), *states))


# ---------------------------------------------------------------------------------------------
# dropout between layers
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", range(len(MODES)), ids=MODE_IDS)
def test_dropout_is_off_in_eval_mode(mode):
    cls, kw = MODES[mode]
    t, e = _pair(cls, 4, 5, 3, dropout=0.5, **kw)
    t.eval()
    e.eval()
    _compare(t, e, _layer_fn(True), (rand(5, 2, 4), *_states(cls, 3, 2, 5)))


@pytest.mark.parametrize("mode", range(len(MODES)), ids=MODE_IDS)
def test_dropout_in_train_mode(mode):
    cls, kw = MODES[mode]
    m = getattr(ember.nn, cls)(4, 5, 3, dropout=0.5, **kw).to(DEVICE)
    x = ember.tensor(rand(5, 2, 4)).to(DEVICE)
    ember.manual_seed(3)
    a = _flat(m(x))
    ember.manual_seed(3)
    b = _flat(m(x))
    m.eval()
    c = _flat(m(x))
    for u, v, w in zip(a, b, c):
        assert u.shape == w.shape
        np.testing.assert_array_equal(to_numpy(u), to_numpy(v))
    assert not np.allclose(to_numpy(a[0]), to_numpy(c[0]))
    # only the inner layers' outputs are dropped: the first layer's final state is unaffected
    np.testing.assert_allclose(to_numpy(a[1])[0], to_numpy(c[1])[0], rtol=1e-6, atol=1e-7)
    m.train()
    out = m(x)[0]
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_dropout_warning_and_argument_errors():
    for kw in [{"dropout": 1.5}, {"dropout": True}, {"dropout": "x"}]:
        check_raises(lambda lib, kw=kw: lib.nn.LSTM(3, 4, **kw))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        ember.nn.GRU(3, 4, dropout=0.2)
    assert any("non-zero dropout expects num_layers greater than 1" in str(w.message)
               for w in rec)


# ---------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------

CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {})]
CELL_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


@pytest.mark.parametrize("cell", range(len(CELLS)), ids=CELL_IDS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("given", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(cell, batched, given, bias):
    cls, kw = CELLS[cell]
    t, e = _pair(cls, 4, 5, bias=bias, **kw)
    assert repr(e) == repr(t)
    lead = (3,) if batched else ()
    states = ()
    if given:
        states = (rand(*lead, 5), rand(*lead, 5)) if cls == "LSTMCell" else (rand(*lead, 5),)
    _compare(t, e, _layer_fn(given), (rand(*lead, 4), *states))


def test_cell_sequence_loop_matches_torch():
    t, e = _pair("LSTMCell", 3, 4)

    def fn(m, lib, x, h, c):
        outs = []
        for k in range(x.shape[0]):
            h, c = m(x[k], (h, c))
            outs.append(h)
        return lib.stack(outs), c

    _compare(t, e, fn, (rand(6, 2, 3), rand(2, 4), rand(2, 4)))


@pytest.mark.parametrize("name,k", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1),
                                    ("rnn_relu_cell", 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_functions_match_torch(name, k, bias):
    def fn(lib, x, h, w_ih, w_hh, *b):
        hx = (h, h * 0.5) if name == "lstm_cell" else h
        return getattr(lib, name)(x, hx, w_ih, w_hh, *b)

    biases = (rand(k * 4), rand(k * 4)) if bias else ()
    check(fn, rand(2, 3), rand(2, 4), rand(k * 4, 3), rand(k * 4, 4), *biases, rtol=1e-5)


def test_cell_grad_fn_names():
    x = ember.randn(2, 3)
    h, c = ember.nn.LSTMCell(3, 4)(x)
    assert h.grad_fn.name() == "ThnnFusedLstmCellBackward0"
    assert ember.nn.GRUCell(3, 4)(x).grad_fn.name() == "ThnnFusedGruCellBackward0"
    assert ember.nn.RNNCell(3, 4)(x).grad_fn.name() == "TanhBackward0"


# ---------------------------------------------------------------------------------------------
# numerical gradients (float64) and double backward
# ---------------------------------------------------------------------------------------------

def _leaf(a):
    return ember.tensor(a).to(DEVICE).requires_grad_(True)


def test_fused_lstm_cell_gradcheck_and_gradgradcheck():
    gates = _leaf(rand(3, 8, dtype=np.float64, low=-2, high=2))
    c = _leaf(rand(3, 2, dtype=np.float64))
    fn = ops_rnn._LSTMCell.apply
    assert ember.autograd.gradcheck(fn, (gates, c))
    assert ember.autograd.gradgradcheck(fn, (gates, c))
    # each output alone (the other's gradient is None)
    assert ember.autograd.gradcheck(lambda g, cc: fn(g, cc)[0], (gates, c))
    assert ember.autograd.gradcheck(lambda g, cc: fn(g, cc)[1], (gates, c))
    assert ember.autograd.gradgradcheck(lambda g, cc: fn(g, cc)[1], (gates, c))


def test_fused_gru_cell_gradcheck_and_gradgradcheck():
    xg, hg, h = (_leaf(rand(3, 6, dtype=np.float64, low=-2, high=2)),
                 _leaf(rand(3, 6, dtype=np.float64, low=-2, high=2)),
                 _leaf(rand(3, 2, dtype=np.float64)))
    assert ember.autograd.gradcheck(ops_rnn._GRUCell.apply, (xg, hg, h))
    assert ember.autograd.gradgradcheck(ops_rnn._GRUCell.apply, (xg, hg, h))


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("packed", [False, True])
def test_layer_op_gradcheck_and_gradgradcheck(mode, packed):
    k = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    sizes = (3, 3, 2, 1) if packed else (3, 3, 3)
    n = sum(sizes)
    xg = _leaf(rand(n, 2 * k, dtype=np.float64))
    h0 = _leaf(rand(3, 2, dtype=np.float64))
    c0 = _leaf(rand(3, 2, dtype=np.float64)) if mode == "LSTM" else None
    w_hh = _leaf(rand(2 * k, 2, dtype=np.float64))
    b_hh = _leaf(rand(2 * k, dtype=np.float64)) if mode == "GRU" else None
    for reverse in (False, True):
        def fn(xg, h0, w_hh, c0=c0, b_hh=b_hh, reverse=reverse):
            return ops_rnn._Layer.apply(xg, h0, c0, w_hh, b_hh, None, mode, sizes, reverse)
        args = (xg, h0, w_hh)
        assert ember.autograd.gradcheck(fn, args)
        assert ember.autograd.gradgradcheck(fn, args)
        # the layer op agrees with its per-step composite
        fused = fn(*args)
        comp = ops_rnn._layer_composite(mode, xg, h0, c0, w_hh, b_hh, None, sizes, reverse)
        for a, b in zip(fused, comp):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, atol=1e-12)


def test_lstm_proj_layer_op_gradgradcheck_with_dependent_states():
    # h0 computed from c0: each input's partial derivative must stay its own
    xg = _leaf(rand(6, 8, dtype=np.float64))
    c0 = _leaf(rand(2, 2, dtype=np.float64))
    w_hh = _leaf(rand(8, 1, dtype=np.float64))
    w_hr = _leaf(rand(1, 2, dtype=np.float64))

    def fn(xg, c0, w_hh, w_hr):
        h0 = ember.tanh(c0).sum(1, keepdim=True)
        return ops_rnn._Layer.apply(xg, h0, c0, w_hh, None, w_hr, "LSTM", (2, 2, 2), False)

    assert ember.autograd.gradcheck(fn, (xg, c0, w_hh, w_hr))
    assert ember.autograd.gradgradcheck(fn, (xg, c0, w_hh, w_hr))


@pytest.mark.parametrize("mode", range(len(MODES)), ids=MODE_IDS)
def test_layer_double_backward_matches_torch(mode):
    cls, kw = MODES[mode]
    t, e = _pair(cls, 3, 4, 2, bidirectional=True, dtype=np.float64, **kw)

    def fn(m, lib, x):
        out = m(x)[0]
        (g,) = lib.autograd.grad((out * out).sum(), x, create_graph=True)
        return (g * g).sum()

    mods = {torch: t, ember: e}
    check(lambda lib, x: fn(mods[lib], lib, x), rand(4, 2, 3, dtype=np.float64), atol=1e-10,
          rtol=1e-8)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_500_steps_backpropagate(cls):
    t, e = _pair(cls, 3, 4)
    _compare(t, e, _layer_fn(False), (rand(500, 2, 3),), atol=1e-4)


# ---------------------------------------------------------------------------------------------
# bad input: PyTorch's exceptions and messages
# ---------------------------------------------------------------------------------------------

def _mods(cls, *args, **kw):
    t, e = _pair(cls, *args, **kw)
    return {torch: t, ember: e}


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_layer_input_errors(cls):
    mods = _mods(cls, 10, 20)
    for shape in [(5, 3, 5), (5, 3, 10, 1), (5,), (0, 3, 10)]:
        same_message(lambda lib, x: mods[lib](x), rand(*shape))
    same_message(lambda lib, x: mods[lib](x.double()), rand(5, 3, 10))
    same_message(lambda lib, x: mods[lib](x.long()), rand(5, 3, 10))


@pytest.mark.parametrize("cls", ["RNN", "GRU"])
def test_layer_hidden_errors(cls):
    mods = _mods(cls, 10, 20)
    for xs, hs in [((5, 3, 10), (1, 4, 20)), ((5, 3, 10), (3, 20)), ((5, 10), (1, 3, 20)),
                   ((5, 10), (2, 20)), ((5, 3, 10), (2, 3, 20))]:
        same_message(lambda lib, x, h: mods[lib](x, h), rand(*xs), rand(*hs))
    same_message(lambda lib, x, h: mods[lib](x, h.double()), rand(5, 3, 10), rand(1, 3, 20))


def test_lstm_hidden_errors():
    mods = _mods("LSTM", 10, 20, proj_size=5)
    cases = [((1, 3, 5), (2, 3, 20)), ((1, 4, 5), (1, 3, 20)), ((1, 3, 20), (1, 3, 20)),
             ((3, 5), (1, 3, 20)), ((1, 3, 5), (1, 3, 5))]
    for hs, cs in cases:
        same_message(lambda lib, x, h, c: mods[lib](x, (h, c)), rand(5, 3, 10), rand(*hs),
                     rand(*cs))
    same_message(lambda lib, x, h, c: mods[lib](x, (h, c)), rand(5, 10), rand(1, 3, 5),
                 rand(1, 3, 20))
    # a tensor instead of a tuple, a 1-tuple: indexing errors like PyTorch's
    check_raises(lambda lib, x, h: mods[lib](x, h), rand(5, 3, 10), rand(1, 3, 5))
    check_raises(lambda lib, x, h: mods[lib](x, (h,)), rand(5, 3, 10), rand(1, 3, 5))
    check_raises(lambda lib, x, h, c: mods[lib](x, (h.double(), c)), rand(5, 3, 10),
                 rand(1, 3, 5), rand(1, 3, 20))


def test_packed_input_hidden_size_error():
    mods = _mods("GRU", 3, 4)

    def fn(lib, x, h):
        return mods[lib](lib.nn.utils.rnn.pack_padded_sequence(x, [4, 2]), h)

    same_message(fn, rand(4, 2, 3), rand(1, 3, 4))


def test_constructor_errors():
    cases = [("LSTM", (10, 20), {"proj_size": 20}), ("LSTM", (10, 20), {"proj_size": -1}),
             ("GRU", (10, 20), {"proj_size": 2}), ("RNN", (10, 20), {"proj_size": 2}),
             ("RNN", (10, 20), {"nonlinearity": "foo"}), ("LSTM", (10, 0), {}),
             ("LSTM", (0, 10), {}), ("LSTM", (10, 10, 0), {}), ("LSTM", (10.0, 10), {}),
             ("LSTM", (10, 10.0), {}), ("LSTM", (10, 10), {"bias": 1}),
             ("LSTM", (10, 10), {"batch_first": 1})]
    for cls, args, kw in cases:
        same_message(lambda lib, cls=cls, args=args, kw=kw: getattr(lib.nn, cls)(*args, **kw))


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_errors(cls):
    mods = _mods(cls, 3, 4)
    lstm = cls == "LSTMCell"

    def run(lib, x, h=None):
        m = mods[lib]
        if h is None:
            return m(x)
        return m(x, (h, h)) if lstm else m(x, h)

    for xs, hs in [((2, 5), None), ((2, 3), (3, 4)), ((2, 3), (2, 5)), ((3,), (2, 4)),
                   ((2, 3, 3), None), ((2, 3), (4,)), ((2, 3), (2, 4, 1))]:
        if hs is None:
            same_message(run, rand(*xs))
        else:
            same_message(run, rand(*xs), rand(*hs))
    same_message(lambda lib, x: mods[lib](x.double()), rand(2, 3))
    if lstm:
        same_message(lambda lib, x, h, c: mods[lib](x, (h, c)), rand(2, 3), rand(2, 4),
                     rand(3, 4))
        same_message(lambda lib, x, h, c: mods[lib](x, (h, c)), rand(2, 3), rand(2, 4),
                     rand(2, 5))


def test_rnn_cell_unknown_nonlinearity_raises_at_forward():
    mods = _mods("RNNCell", 3, 4, nonlinearity="foo")
    assert repr(mods[ember]) == repr(mods[torch])
    same_message(lambda lib, x: mods[lib](x), rand(2, 3))


# ---------------------------------------------------------------------------------------------
# parameters: names, init, repr, state dicts
# ---------------------------------------------------------------------------------------------

def _ks_distance(a, b):
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return np.abs(np.searchsorted(a, grid, side="right") / a.size
                  - np.searchsorted(b, grid, side="right") / b.size).max()


@pytest.mark.parametrize("cls,args,kw", [
    ("LSTM", (16, 64, 2), {"bidirectional": True, "proj_size": 16}),
    ("GRU", (16, 64, 2), {}), ("RNN", (16, 64), {"nonlinearity": "relu"}),
    ("LSTMCell", (16, 64), {}), ("GRUCell", (16, 64), {}), ("RNNCell", (16, 64), {})])
def test_fresh_init_matches_torch_distribution(cls, args, kw):
    torch.manual_seed(0)
    t = getattr(torch.nn, cls)(*args, **kw)
    e = getattr(ember.nn, cls)(*args, **kw)
    bound = 1 / math.sqrt(64)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    for (name, pt), (_, pe) in zip(t.named_parameters(), e.named_parameters()):
        ev, tv = to_numpy(pe).ravel(), pt.detach().numpy().ravel()
        assert pe.requires_grad and pe.dtype == ember.float32
        assert np.abs(ev).max() <= bound * (1 + 1e-6), name
        n = ev.size
        assert _ks_distance(ev, tv) < 1.95 * math.sqrt(2 / n), name
        assert abs(ev.std() - bound / math.sqrt(3)) < 6 * bound / math.sqrt(n), name


@pytest.mark.parametrize("cls,args,kw", [
    ("LSTM", (10, 20), {}), ("LSTM", (10, 10, 2, True, True, 0.5, True, 3), {}),
    ("LSTM", (10, 20), {"bias": False, "num_layers": 3}),
    ("GRU", (10, 20), {"dropout": 1, "num_layers": 2}), ("RNN", (10, 20, 2, "relu"), {}),
    ("RNN", (10, 20), {"nonlinearity": "tanh", "bidirectional": True}),
    ("RNNCell", (3, 4), {"bias": False, "nonlinearity": "relu"}), ("LSTMCell", (3, 4), {}),
    ("GRUCell", (3, 4), {"bias": False})])
def test_repr_and_parameter_names(cls, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = getattr(torch.nn, cls)(*args, **kw)
        e = getattr(ember.nn, cls)(*args, **kw)
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    if cls in ("LSTM", "GRU", "RNN"):
        assert e._flat_weights_names == t._flat_weights_names
        assert e._all_weights == t._all_weights
        assert [[tuple(w.shape) for w in ws] for ws in e.all_weights] == \
            [[tuple(w.shape) for w in ws] for ws in t.all_weights]
        assert all(a is b for a, b in zip(e._flat_weights, e.parameters()))


def test_state_dict_round_trip_both_ways():
    t, e = _pair("LSTM", 3, 5, 2, bidirectional=True, proj_size=2)
    x = rand(4, 2, 3)
    # ember -> torch
    e2 = ember.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)
    t2 = torch.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)
    t2.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in e2.state_dict().items()})
    assert_close(e2(ember.tensor(x))[0], t2(torch.tensor(x))[0], atol=1e-5, rtol=1e-4)
    assert_close(e(ember.tensor(x).to(DEVICE))[0], t(torch.tensor(x))[0], atol=1e-5, rtol=1e-4)


def test_flat_weights_follow_dtype_changes_and_flatten_is_noop():
    m = ember.nn.GRU(3, 4, 2)
    m.flatten_parameters()
    m.double()
    assert all(w.dtype == ember.float64 for w in m._flat_weights)
    out, h = m(ember.randn(5, 2, 3, dtype=ember.float64))
    assert out.dtype == ember.float64 and h.shape == (2, 2, 4)
    with pytest.raises(ValueError, match="does not match weight dtype"):
        m(ember.randn(5, 2, 3))


def test_float16_layer_runs_close_to_float32():
    m = ember.nn.LSTM(3, 4, 2)
    x = ember.randn(5, 2, 3)
    ref = m(x)[0]
    m.half()
    out = m(x.half())[0]
    assert out.dtype == ember.float16
    np.testing.assert_allclose(to_numpy(out), to_numpy(ref), atol=5e-3)


def test_layer_output_grad_fn_and_layout():
    m = ember.nn.LSTM(3, 4, batch_first=True)
    out, (h, c) = m(ember.randn(2, 5, 3, requires_grad=True))
    assert out.shape == (2, 5, 4) and h.shape == (1, 2, 4) and c.shape == (1, 2, 4)
    t = torch.nn.LSTM(3, 4, batch_first=True)(torch.randn(2, 5, 3))[0]
    assert out.stride() == t.stride()
    names = set()
    stack = [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node.name() not in names:
            names.add(node.name())
            stack.extend(f for f, _ in node.next_functions)
    assert "MkldnnRnnLayerBackward0" in names


# ---------------------------------------------------------------------------------------------
# nn.utils.rnn
# ---------------------------------------------------------------------------------------------

def _R(lib):
    return lib.nn.utils.rnn


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [5, 3, 3, 1]),
                                                    (False, [3, 5, 1, 3]),
                                                    (False, ember.tensor([2, 5, 4, 4]))])
def test_pack_and_pad_round_trip(batch_first, enforce_sorted, lengths):
    x = rand(4, 5, 2) if batch_first else rand(5, 4, 2)

    def fn(lib, x):
        lens = lengths if isinstance(lengths, list) else lib.tensor(to_numpy(lengths))
        p = _R(lib).pack_padded_sequence(x, lens, batch_first=batch_first,
                                         enforce_sorted=enforce_sorted)
        padded, out_lens = _R(lib).pad_packed_sequence(p, batch_first=batch_first,
                                                       padding_value=-1.5, total_length=7)
        return p, padded, out_lens

    check(fn, x)


def test_packed_sequence_object():
    R = _R(ember)
    p = R.pack_sequence([ember.randn(3, 2), ember.randn(5, 2), ember.randn(1, 2)],
                        enforce_sorted=False)
    assert isinstance(p, tuple) and p._fields == ("data", "batch_sizes", "sorted_indices",
                                                 "unsorted_indices")
    assert p.batch_sizes.tolist() == [3, 2, 2, 1, 1]
    assert p.sorted_indices.tolist() == [1, 0, 2] and p.unsorted_indices.tolist() == [1, 0, 2]
    q = p.to(ember.float64)
    assert type(q) is R.PackedSequence and q.data.dtype == ember.float64
    assert p.to(ember.float32) is p
    assert p.double().data.dtype == ember.float64 and not p.is_cuda
    assert repr(R.PackedSequence(ember.ones(3, 2), ember.tensor([2, 1]))).startswith(
        "PackedSequence(data=tensor(")
    data, bs, si, ui = p
    assert si is p.sorted_indices
    assert R.invert_permutation(None) is None
    assert R.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    with pytest.raises(AssertionError):
        R.PackedSequence(ember.ones(3))
    assert R.PackedSequence((ember.ones(3, 2), ember.tensor([2, 1]))).batch_sizes.tolist() == \
        [2, 1]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    seqs = [rand(2, 3), rand(4, 3), rand(1, 3)]
    check(lambda lib, *s: _R(lib).pad_sequence(s, batch_first=batch_first, padding_value=2.0,
                                               padding_side=side), *seqs)
    check(lambda lib, *s: _R(lib).pad_sequence(list(s)), rand(3), rand(2))
    # a sequence broadcast into the trailing shape of the first, a generator of sequences
    check(lambda lib, a, b: _R(lib).pad_sequence([a, b]), rand(3, 2), rand(2))
    check(lambda lib, a, b: _R(lib).pad_sequence(s for s in (a, b)), rand(3, 2), rand(1, 2))


def test_pack_sequence_unpack_unpad():
    seqs = [rand(3, 2), rand(5, 2), rand(1, 2)]
    check(lambda lib, *s: _R(lib).unpack_sequence(_R(lib).pack_sequence(s,
                                                                        enforce_sorted=False)),
          *seqs)
    check(lambda lib, *s: _R(lib).pack_sequence(s), rand(5, 2), rand(3, 2), rand(3, 2))
    check(lambda lib, p: _R(lib).unpad_sequence(p, lib.tensor([4, 2]), batch_first=True),
          rand(2, 4, 3))
    # batch_first=False (PyTorch transposes its argument in place; ember does not)
    padded = rand(4, 3, 2)
    e_out = _R(ember).unpad_sequence(ember.tensor(padded), ember.tensor([4, 1, 2]))
    t_out = _R(torch).unpad_sequence(torch.tensor(padded), torch.tensor([4, 1, 2]))
    assert len(e_out) == 3
    for a, b in zip(e_out, t_out):
        assert_close(a, b)


def test_packing_errors():
    pp = [lambda lib, x: _R(lib).pack_padded_sequence(x, [5, 6, 2]),
          lambda lib, x: _R(lib).pack_padded_sequence(x, [5, 2, 3]),
          lambda lib, x: _R(lib).pack_padded_sequence(x, [5, 2, 0]),
          lambda lib, x: _R(lib).pack_padded_sequence(x, [5, 2]),
          lambda lib, x: _R(lib).pack_padded_sequence(x, [5, 2, -1], enforce_sorted=False),
          lambda lib, x: _R(lib).pack_padded_sequence(x, lib.tensor([[5, 2, 1]])),
          lambda lib, x: _R(lib).pack_padded_sequence(x, lib.tensor(5)),
          lambda lib, x: _R(lib).pack_padded_sequence(x, lib.tensor([[5, 2, 1]]),
                                                      enforce_sorted=False),
          lambda lib, x: _R(lib).pack_padded_sequence(x[:0], []),
          lambda lib, x: _R(lib).pack_padded_sequence(x[:, 0, 0], [5]),
          lambda lib, x: _R(lib).pad_packed_sequence(
              _R(lib).pack_padded_sequence(x, [5, 2, 1]), total_length=3)]
    x = rand(5, 3, 2)
    for fn in pp:
        same_message(fn, x)
    seq_errors = [lambda lib: _R(lib).pad_sequence([]),
                  lambda lib: _R(lib).pad_sequence(5),
                  lambda lib: _R(lib).pad_sequence([lib.ones(2, 3)], padding_side="middle"),
                  lambda lib: _R(lib).pad_sequence([lib.ones(2, 3), lib.ones(3, 4)]),
                  lambda lib: _R(lib).pad_sequence([lib.ones(3, 2), lib.ones(2, 2, 2)]),
                  lambda lib: _R(lib).pad_sequence([lib.ones(3, 2), 5]),
                  lambda lib: _R(lib).pack_sequence([])]
    for fn in seq_errors:
        same_message(fn)
    check_raises(lambda lib: _R(lib).pad_sequence([lib.ones(3), lib.tensor(2.0)]))
    # longer than the padded input: PyTorch reads past its buffer; ember raises
    with pytest.raises(RuntimeError, match="longer than the padded"):
        _R(ember).pack_padded_sequence(ember.ones(5, 3, 2), [6, 2, 1])


def test_lengths_as_float_list_and_int32_tensor():
    check(lambda lib, x: _R(lib).pack_padded_sequence(x, [4.7, 2.2]), rand(5, 2, 3))
    check(lambda lib, x: _R(lib).pack_padded_sequence(
        x, lib.tensor([2, 4], dtype=lib.int32), enforce_sorted=False), rand(5, 2, 3))


def test_pack_grad_fn_names():
    x = ember.randn(4, 2, 3, requires_grad=True)
    p = _R(ember).pack_padded_sequence(x, [4, 2])
    assert p.data.grad_fn.name() == "PackPaddedSequenceBackward0"
    assert p.batch_sizes.dtype == ember.int64 and p.batch_sizes.device.type == "cpu"
