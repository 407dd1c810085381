"""Recurrent cells and layers: the arithmetic behind ``ember.nn.RNN``/``LSTM``/``GRU`` and the
``*Cell`` modules (PyTorch's ``_VF.lstm``, ``_VF.gru``, ``_VF.rnn_tanh``/``rnn_relu`` and the
``*_cell`` functions).

A layer runs one GEMM for the input-to-hidden projection of every time step at once, then per
time step one GEMM with ``weight_hh`` and one fused cell op. The LSTM and GRU cells are fused
ops (``_LSTMCell``, PyTorch's ``_thnn_fused_lstm_cell``; ``_GRUCell``, ``_thnn_fused_gru_cell``):
forward applies the gate nonlinearities in a few whole-array passes and keeps the activated
gates, backward computes the gate gradients on arrays. Under ``create_graph=True`` backward is
built from ember ops instead (recomputing the activations from the saved pre-activations), so
double backward works. ``benchmarks/layers.py --fused`` measures the fused cells against the
same cell as a composite of ember ops (chunk/sigmoid/tanh/mul/add), forward+backward on a batch
of 32 with hidden size 256 (float32, one thread, same run): LSTM cell 0.69x and GRU cell 0.48x
the composite's time. Inside ``nn.LSTM``/``GRU``/``RNN`` a whole layer and direction is one op
(``_Layer``, see its docstring), built on the same array code.

float16/bfloat16 gate arithmetic runs in float32 (PyTorch's opmath), rounded back.
"""

from __future__ import annotations

import numpy as np

from .._backend import array_module
from .._tensor import Tensor, _legacy_scalar_name
from ..autograd.function import Op
from ..autograd.grad_mode import state as _state
from . import _util
from . import linalg as _linalg
from . import pointwise as _pw
from . import shape as _shape
from .creation import Alias
from .dropout import dropout as _dropout
from .pointwise import _HALF

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]

_F32 = np.dtype(np.float32)


def _work(a):
    """``a`` in the dtype the gate arithmetic runs in (float32 for 16-bit floats)."""
    return a.astype(_F32) if a.dtype in _HALF else a


def _const(arr) -> Tensor:
    return Tensor._make(arr)


# ---------------------------------------------------------------------------------------------
# cell arithmetic on arrays, shared by the cell ops and the layer op. NumPy's exp is vectorised
# where its tanh is not (about 3x faster on float32), so both nonlinearities go through exp:
# sigmoid(x) = 1 / (1 + exp(-x)) and tanh(x) = 2 / (1 + exp(-2x)) - 1 (exact limits at both
# tails: exp overflows to inf, giving 0 and -1).
# ---------------------------------------------------------------------------------------------

def _sigmoid_(xp, a):
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.divide(1, a, out=a)


def _tanh_(xp, a):
    a *= -2
    xp.exp(a, out=a)
    a += 1
    xp.divide(2, a, out=a)
    a -= 1


def _lstm_activate_(xp, a) -> None:
    """Pre-activation gates ``a`` (B, 4, H), in place, to (sigmoid i, f; tanh g; sigmoid o)."""
    a[:, 2] *= 2
    _sigmoid_(xp, a)
    g = a[:, 2]
    g *= 2
    g -= 1


def _lstm_state(xp, act, c_prev, c, tc, h) -> None:
    """``c = f * c_prev + i * g``, ``tc = tanh(c)``, ``h = o * tc``, into the given arrays."""
    xp.multiply(act[:, 1], c_prev, out=c)
    xp.multiply(act[:, 0], act[:, 2], out=tc)
    c += tc
    tc[...] = c
    _tanh_(xp, tc)
    xp.multiply(act[:, 3], tc, out=h)


def _lstm_grads(xp, act, c_prev, tc, dh, dc, dgates, tmp):
    """Gradients of one LSTM step: the pre-activation gates' into ``dgates`` (B, 4, H) and the
    gradient reaching ``c`` (returned; ``dc_prev`` is it times f). ``dh``/``dc`` may be None;
    ``tmp`` is a (B, 4, H) scratch array."""
    i, g, o = act[:, 0], act[:, 2], act[:, 3]
    if dh is not None:
        dct = tc * tc
        xp.subtract(1, dct, out=dct)
        dct *= o
        dct *= dh
        if dc is not None:
            dct += dc
        xp.multiply(dh, tc, out=dgates[:, 3])
    else:
        dct = dc
        dgates[:, 3] = 0
    xp.multiply(dct, g, out=dgates[:, 0])
    xp.multiply(dct, c_prev, out=dgates[:, 1])
    xp.multiply(dct, i, out=dgates[:, 2])
    # activation derivatives from the activations: a - a^2 (sigmoid), 1 - a^2 (tanh)
    xp.multiply(act, act, out=tmp)
    xp.subtract(act, tmp, out=tmp)
    xp.multiply(g, g, out=tmp[:, 2])
    xp.subtract(1, tmp[:, 2], out=tmp[:, 2])
    dgates *= tmp
    return dct


def _gru_state(xp, xg, hg, h_prev, rz, n, h) -> None:
    """``r, z = sigmoid(x_rz + h_rz)``, ``n = tanh(x_n + r * h_n)``, ``h = n + z (h_prev - n)``
    into ``rz`` (B, 2H), ``n`` and ``h``."""
    hs = n.shape[1]
    xp.add(xg[:, :2 * hs], hg[:, :2 * hs], out=rz)
    _sigmoid_(xp, rz)
    xp.multiply(rz[:, :hs], hg[:, 2 * hs:], out=n)
    n += xg[:, 2 * hs:]
    _tanh_(xp, n)
    xp.subtract(h_prev, n, out=h)
    h *= rz[:, hs:]
    h += n


def _gru_grads(xp, rz, n, hg_n, h_prev, dh, dx, dhg, tmp):
    """Gradients of one GRU step into ``dx`` (input projection) and ``dhg`` (hidden
    projection), both (B, 3H); returns the direct part of ``dh_prev`` (``dh * z``). ``tmp`` is
    a (B, H) scratch array."""
    hs = n.shape[1]
    r, z = rz[:, :hs], rz[:, hs:]
    dr, dz, dn = dx[:, :hs], dx[:, hs:2 * hs], dx[:, 2 * hs:]
    xp.subtract(1, z, out=tmp)
    xp.multiply(n, n, out=dn)
    xp.subtract(1, dn, out=dn)
    dn *= tmp
    dn *= dh
    xp.subtract(h_prev, n, out=dz)
    dz *= dh
    dz *= z
    dz *= tmp
    xp.multiply(dn, hg_n, out=dr)
    dr *= r
    xp.subtract(1, r, out=tmp)
    dr *= tmp
    dhg[:, :2 * hs] = dx[:, :2 * hs]
    xp.multiply(dn, r, out=dhg[:, 2 * hs:])
    return dh * z


# ---------------------------------------------------------------------------------------------
# fused cells
# ---------------------------------------------------------------------------------------------

class _LSTMCell(Op, name="ThnnFusedLstmCellBackward0"):
    """``(h, c) = lstm_cell(gates, c_prev)`` for pre-activation ``gates`` (B, 4H) laid out as
    PyTorch's (i, f, g, o), all biases included: ``c = f * c_prev + i * g``,
    ``h = o * tanh(c)``.

    Keeps the activated gates and ``tanh(c)`` (for the array backward) and references to
    ``gates``, ``c_prev`` and ``c`` (for the graph backward).
    """

    _materialize = False

    @staticmethod
    def forward(ctx, gates, cx):
        xp = array_module(gates)
        b, hs = cx.shape[0], cx.shape[-1]
        act = gates.reshape(b, 4, hs).astype(_F32 if gates.dtype in _HALF else gates.dtype)
        _lstm_activate_(xp, act)
        cy, tc, hy = (xp.empty((b, hs), dtype=act.dtype) for _ in range(3))
        _lstm_state(xp, act, _work(cx), cy, tc, hy)
        if ctx._edges is not None:
            ctx.act, ctx.tc = act, tc
            ctx.save_for_backward(gates, cx, cy)
        return hy.astype(gates.dtype, copy=False), cy.astype(gates.dtype, copy=False)

    @staticmethod
    def backward(ctx, dh, dc):
        gates, cx, cy = ctx.saved_tensors
        if _state.enabled:
            return _lstm_cell_backward_graph(ctx, gates, cx, cy, dh, dc)
        e = ctx._edges
        act, tc = ctx.act, ctx.tc
        xp = array_module(act)
        dgates = xp.empty_like(act)
        dct = _lstm_grads(xp, act, _work(cx._data), tc,
                          None if dh is None else _work(dh._data),
                          None if dc is None else _work(dc._data), dgates, xp.empty_like(act))
        gg = gc = None
        if e[0]:
            gg = _const(dgates.reshape(act.shape[0], -1).astype(gates._data.dtype, copy=False))
        if e[1]:
            gc = _const((dct * act[:, 1]).astype(cx._data.dtype, copy=False))
        return gg, gc


def _lstm_cell_backward_graph(ctx, gates, cx, cy, dh, dc):
    """The LSTM cell's gradients as ember ops (differentiable again)."""
    e = ctx._edges
    hs = cx._data.shape[-1]
    gw = _util.cast(gates, _F32) if gates._data.dtype in _HALF else gates
    i, f, g, o = (_shape.narrow(gw, 1, k * hs, hs) for k in range(4))
    i, f, o = _pw.sigmoid(i), _pw.sigmoid(f), _pw.sigmoid(o)
    g = _pw.tanh(g)
    tc = _pw.tanh(_util.cast(cy, gw.dtype))
    dct = None
    if dh is not None:
        dhw = _util.cast(dh, gw.dtype)
        dct = dhw * o * (1 - tc * tc)
    if dc is not None:
        dcw = _util.cast(dc, gw.dtype)
        dct = dcw if dct is None else dct + dcw
    gg = gc = None
    if e[0]:
        do = dhw * tc * o * (1 - o) if dh is not None else o * 0
        di = dct * g * i * (1 - i)
        df = dct * _util.cast(cx, gw.dtype) * f * (1 - f)
        dg = dct * i * (1 - g * g)
        gg = _util.cast(_shape.cat([di, df, dg, do], 1), gates.dtype)
    if e[1]:
        gc = _util.cast(dct * f, cx.dtype)
    return gg, gc


class _GRUCell(Op, name="ThnnFusedGruCellBackward0"):
    """``h = gru_cell(xg, hg, h_prev)`` for the input and hidden projections ``xg``, ``hg``
    (B, 3H) laid out as PyTorch's (r, z, n), each with its bias: ``r = sigmoid(x_r + h_r)``,
    ``z = sigmoid(x_z + h_z)``, ``n = tanh(x_n + r * h_n)``, ``h = (1 - z) * n + z * h_prev``.
    """

    @staticmethod
    def forward(ctx, xg, hg, hx):
        xp = array_module(xg)
        b, hs = hx.shape[0], hx.shape[-1]
        wd = _F32 if xg.dtype in _HALF else xg.dtype
        rz = xp.empty((b, 2 * hs), dtype=wd)
        n, hy = xp.empty((b, hs), dtype=wd), xp.empty((b, hs), dtype=wd)
        _gru_state(xp, _work(xg), _work(hg), _work(hx), rz, n, hy)
        if ctx._edges is not None:
            ctx.rz, ctx.n = rz, n
            ctx.save_for_backward(xg, hg, hx)
        return hy.astype(xg.dtype, copy=False)

    @staticmethod
    def backward(ctx, dh):
        xg, hg, hx = ctx.saved_tensors
        if _state.enabled:
            return _gru_cell_backward_graph(ctx, xg, hg, hx, dh)
        e = ctx._edges
        rz, n = ctx.rz, ctx.n
        xp = array_module(rz)
        hs = n.shape[1]
        dx, dhg = xp.empty((n.shape[0], 3 * hs), dtype=n.dtype), xp.empty((n.shape[0], 3 * hs),
                                                                            dtype=n.dtype)
        dprev = _gru_grads(xp, rz, n, _work(hg._data)[:, 2 * hs:], _work(hx._data),
                           _work(dh._data), dx, dhg, xp.empty_like(n))
        gx = _const(dx.astype(xg._data.dtype, copy=False)) if e[0] else None
        gh = _const(dhg.astype(hg._data.dtype, copy=False)) if e[1] else None
        gp = _const(dprev.astype(hx._data.dtype, copy=False)) if e[2] else None
        return gx, gh, gp


def _gru_cell_backward_graph(ctx, xg, hg, hx, dh):
    """The GRU cell's gradients as ember ops (differentiable again)."""
    e = ctx._edges
    hs = hx._data.shape[-1]
    half = xg._data.dtype in _HALF
    xw, hw, pw, dhw = ((_util.cast(t, _F32) if half else t) for t in (xg, hg, hx, dh))
    xr, xz, xn = (_shape.narrow(xw, 1, k * hs, hs) for k in range(3))
    hr, hz, hn = (_shape.narrow(hw, 1, k * hs, hs) for k in range(3))
    r = _pw.sigmoid(xr + hr)
    z = _pw.sigmoid(xz + hz)
    n = _pw.tanh(xn + r * hn)
    dn = dhw * (1 - z) * (1 - n * n)
    dz = dhw * (pw - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    gx = _util.cast(_shape.cat([dr, dz, dn], 1), xg.dtype) if e[0] else None
    gh = _util.cast(_shape.cat([dr, dz, dn * r], 1), hg.dtype) if e[1] else None
    gp = _util.cast(dhw * z, hx.dtype) if e[2] else None
    return gx, gh, gp


# ---------------------------------------------------------------------------------------------
# products shared by cells and layers
# ---------------------------------------------------------------------------------------------

def _proj(x: Tensor, w_t: Tensor, add: Tensor | None) -> Tensor:
    """``add + x @ w_t`` (``w_t`` a transposed weight view) as one op."""
    if add is None:
        return _linalg.Mm.apply(x, w_t)
    return _linalg.Addmm.apply(add, x, w_t, 1, 1)


# ---------------------------------------------------------------------------------------------
# cell functions (torch.lstm_cell, torch.gru_cell, torch.rnn_tanh_cell, torch.rnn_relu_cell)
# ---------------------------------------------------------------------------------------------

def _check_cell(input: Tensor, hiddens, w_ih: Tensor, w_hh: Tensor) -> None:
    """PyTorch's checks of a cell's input and hidden states (sizes, then dtypes/devices)."""
    in_size = w_ih._data.shape[1]
    hs = w_hh._data.shape[1]
    if input._data.shape[1] != in_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input._data.shape[1]} "
                           f"expected {in_size}")
    for k, h in enumerate(hiddens):
        hshape = h._data.shape
        if hshape[0] != input._data.shape[0]:
            raise RuntimeError(f"Input batch size {input._data.shape[0]} doesn't match hidden{k} "
                               f"batch size {hshape[0]}")
        if len(hshape) < 2:
            raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but "
                             "got 1)")
        if hshape[1] != hs:
            raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {hshape[1]}, "
                               f"expected {hs}")
    for t in (input,) + tuple(hiddens):
        if t.dtype is not w_ih.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{_legacy_scalar_name(t.dtype)} and "
                               f"{_legacy_scalar_name(w_ih.dtype)}")
    _util.check_same_device(input, w_ih, *hiddens)


def _cell_gates(input, hx, w_ih, w_hh, b_ih, b_hh) -> Tensor:
    """``input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh`` as two chained addmm ops."""
    xg = _proj(input, _shape.t(w_ih), b_ih)
    return _linalg.Addmm.apply(xg if b_hh is None else xg + b_hh, hx, _shape.t(w_hh), 1, 1)


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple:
    """``torch.lstm_cell``: one LSTM step on 2-D ``input`` with ``hx = (h, c)``."""
    h, c = hx
    _check_cell(input, (h, c), w_ih, w_hh)
    return _LSTMCell.apply(_cell_gates(input, h, w_ih, w_hh, b_ih, b_hh), c)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """``torch.gru_cell``: one GRU step on 2-D ``input`` (n-gate uses ``r * (W_hn h + b_hn)``)."""
    _check_cell(input, (hx,), w_ih, w_hh)
    return _GRUCell.apply(_proj(input, _shape.t(w_ih), b_ih), _proj(hx, _shape.t(w_hh), b_hh),
                          hx)


def _rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, act) -> Tensor:
    _check_cell(input, (hx,), w_ih, w_hh)
    return act(_cell_gates(input, hx, w_ih, w_hh, b_ih, b_hh))


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """``torch.rnn_tanh_cell``: ``tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``."""
    return _rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, _pw.Tanh.apply)


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """``torch.rnn_relu_cell``: ``relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``."""
    return _rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, _pw.Relu.apply)


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _offsets(sizes) -> list:
    """First row of each time step in packed (time-major) order."""
    offs, r = [], 0
    for s in sizes:
        offs.append(r)
        r += s
    return offs


def _final_rows(sizes, reverse: bool, batch: int):
    """The row holding each sequence's final state: its last step (forward direction) or
    step 0 (reverse direction)."""
    b = np.arange(batch)
    if reverse:
        return b
    sz = np.asarray(sizes, dtype=np.int64)
    lengths = (sz[:, None] > b[None, :]).sum(axis=0)
    return np.asarray(_offsets(sizes), dtype=np.int64)[lengths - 1] + b


class _Layer(Op, name="MkldnnRnnLayerBackward0"):
    """One layer in one direction over all time steps (PyTorch's ``mkldnn_rnn_layer``):
    ``(y, h_n[, c_n]) = layer(xg, h0, c0, w_hh, b_hh, w_hr)``.

    ``xg`` (N, G) is the input projection of every step in packed (time-major) order with the
    biases that enter it (both for LSTM/RNN; ``b_ih`` for GRU, whose ``b_hh`` stays inside
    ``r * (W_hn h + b_hn)``); ``sizes`` gives each step's batch size (decreasing for packed
    input), ``reverse`` runs the steps backwards. Per step: one GEMM with ``w_hh`` into the
    step's slice of a preallocated gate buffer and the cell arithmetic in place (the same
    array code as the fused cells). Backward runs the steps in reverse on arrays and forms
    ``dW_hh`` (and ``dW_hr``) as one GEMM over all steps instead of one per step.

    A fused exception (DESIGN.md) measured by ``benchmarks/layers.py --fused``: forward+backward
    of the recurrence of LSTM(256, 256) over 50 steps at batch 32 takes 0.67x the time of the
    same layer as per-step ember ops (addmm + fused cell op) and GRU 0.72x (float32, one
    thread, same run). Under ``create_graph=True``
    backward recomputes the layer as those per-step ops and differentiates them with
    ``autograd.grad(create_graph=True)``, so double backward works.
    """

    _materialize = False

    @staticmethod
    def forward(ctx, xg, h0, c0, w_hh, b_hh, w_hr, mode, sizes, reverse):
        xp = array_module(xg)
        lstm, gru = mode == "LSTM", mode == "GRU"
        xw, h0w, whh = _work(xg), _work(h0), _work(w_hh)
        wd = xw.dtype
        whh_t = whh.T
        n_rows, n_gates = xg.shape
        batch, p = h0.shape
        hs = n_gates // _GATES[mode]
        need = ctx._edges is not None
        emp = xp.empty
        y = emp((n_rows, p), dtype=wd)
        bufs = {"y": y}
        if need:
            bufs["hp"] = emp((n_rows, p), dtype=wd)  # each step's h_prev, for dW_hh
        if lstm:
            c0w = _work(c0)
            bufs["act"] = act = emp((n_rows, n_gates), dtype=wd)
            c_all = emp((n_rows, hs), dtype=wd)
            bufs["tc"] = tc = emp((n_rows, hs), dtype=wd)
            if need:
                bufs["cp"] = emp((n_rows, hs), dtype=wd)
            hf = None
            if w_hr is not None:
                bufs["hf"] = hf = emp((n_rows, hs), dtype=wd)
                whr_t = _work(w_hr).T
        elif gru:
            bufs["rz"] = rz = emp((n_rows, 2 * hs), dtype=wd)
            bufs["n"] = nn = emp((n_rows, hs), dtype=wd)
            if need:
                bufs["hgn"] = emp((n_rows, hs), dtype=wd)
            hg_buf = emp((batch, n_gates), dtype=wd)
            bhh = None if b_hh is None else _work(b_hh)
        offs = _offsets(sizes)
        order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
        cur = sizes[order[0]]
        h = h0w[:cur]
        c = c0w[:cur] if lstm else None
        for t in order:
            bs = sizes[t]
            r0, r1 = offs[t], offs[t] + bs
            if bs != cur:
                if bs < cur:  # (forward) the last cur - bs sequences have ended
                    h = h[:bs]
                    c = c[:bs] if lstm else None
                else:  # (reverse) sequences start here, from their initial states
                    h = xp.concatenate([h, h0w[cur:bs]])
                    c = xp.concatenate([c, c0w[cur:bs]]) if lstm else None
                cur = bs
            if need:
                bufs["hp"][r0:r1] = h
            if lstm:
                a = act[r0:r1]
                xp.matmul(h, whh_t, out=a)
                a += xw[r0:r1]
                av = a.reshape(bs, 4, hs)
                _lstm_activate_(xp, av)
                if need:
                    bufs["cp"][r0:r1] = c
                hout = y[r0:r1] if hf is None else hf[r0:r1]
                _lstm_state(xp, av, c, c_all[r0:r1], tc[r0:r1], hout)
                if hf is not None:
                    xp.matmul(hout, whr_t, out=y[r0:r1])
                c = c_all[r0:r1]
            elif gru:
                hg = hg_buf[:bs]
                xp.matmul(h, whh_t, out=hg)
                if bhh is not None:
                    hg += bhh
                if need:
                    bufs["hgn"][r0:r1] = hg[:, 2 * hs:]
                _gru_state(xp, xw[r0:r1], hg, h, rz[r0:r1], nn[r0:r1], y[r0:r1])
            else:
                a = y[r0:r1]
                xp.matmul(h, whh_t, out=a)
                a += xw[r0:r1]
                if mode == "RNN_TANH":
                    _tanh_(xp, a)
                else:
                    xp.maximum(a, 0, out=a)
            h = y[r0:r1]
        last = xp.asarray(_final_rows(sizes, reverse, batch))
        outs = [y, y[last]] + ([c_all[last]] if lstm else [])
        if need:
            ctx.bufs = bufs
            ctx.meta = (mode, sizes, reverse)
            ctx.save_for_backward(xg, h0, c0, w_hh, b_hh, w_hr)
        return tuple(o.astype(xg.dtype, copy=False) for o in outs)

    @staticmethod
    def backward(ctx, dy, dhn, dcn=None):
        if _state.enabled:
            return _layer_backward_graph(ctx, (dy, dhn, dcn))
        xg, h0, c0, w_hh, b_hh, w_hr = ctx.saved_tensors
        mode, sizes, reverse = ctx.meta
        bufs = ctx.bufs
        e = ctx._edges
        lstm, gru = mode == "LSTM", mode == "GRU"
        y = bufs["y"]
        xp = array_module(y)
        wd = y.dtype
        whh = _work(w_hh._data)
        n_rows, n_gates = xg._data.shape
        batch, p = h0._data.shape
        hs = n_gates // _GATES[mode]
        dh_c = xp.zeros((batch, p), dtype=wd)  # gradient reaching h_prev (then h0)
        if dhn is not None:
            dh_c += _work(dhn._data)
        dyw = None if dy is None else _work(dy._data)
        dg = xp.empty((n_rows, n_gates), dtype=wd)
        if lstm:
            act, tc, cp, hf = bufs["act"], bufs["tc"], bufs["cp"], bufs.get("hf")
            dc_c = xp.zeros((batch, hs), dtype=wd)
            if dcn is not None:
                dc_c += _work(dcn._data)
            tmp = xp.empty((batch, 4, hs), dtype=wd)
            if hf is not None:
                whr = _work(w_hr._data)
                dhy = xp.empty((n_rows, p), dtype=wd)
        elif gru:
            dhg = xp.empty((n_rows, n_gates), dtype=wd)
            tmp = xp.empty((batch, hs), dtype=wd)
            rz, nn, hgn, hp = bufs["rz"], bufs["n"], bufs["hgn"], bufs["hp"]
        offs = _offsets(sizes)
        order = range(len(sizes)) if reverse else range(len(sizes) - 1, -1, -1)
        for t in order:
            bs = sizes[t]
            r0, r1 = offs[t], offs[t] + bs
            dh = dh_c[:bs] + dyw[r0:r1] if dyw is not None else dh_c[:bs].copy()
            if lstm:
                if hf is not None:
                    dhy[r0:r1] = dh
                    dh = dh @ whr
                av = act[r0:r1].reshape(bs, 4, hs)
                dct = _lstm_grads(xp, av, cp[r0:r1], tc[r0:r1], dh, dc_c[:bs],
                                  dg[r0:r1].reshape(bs, 4, hs), tmp[:bs])
                xp.multiply(dct, av[:, 1], out=dc_c[:bs])
                xp.matmul(dg[r0:r1], whh, out=dh_c[:bs])
            elif gru:
                direct = _gru_grads(xp, rz[r0:r1], nn[r0:r1], hgn[r0:r1], hp[r0:r1], dh,
                                    dg[r0:r1], dhg[r0:r1], tmp[:bs])
                xp.matmul(dhg[r0:r1], whh, out=dh_c[:bs])
                dh_c[:bs] += direct
            else:
                a, yt = dg[r0:r1], y[r0:r1]
                if mode == "RNN_TANH":
                    xp.multiply(yt, yt, out=a)
                    xp.subtract(1, a, out=a)
                    a *= dh
                else:
                    xp.multiply(dh, yt > 0, out=a)
                xp.matmul(a, whh, out=dh_c[:bs])
        grads = [None] * 6
        if e[0]:
            grads[0] = dg
        if e[1]:
            grads[1] = dh_c
        if lstm and e[2]:
            grads[2] = dc_c
        if e[3]:
            grads[3] = (dhg if gru else dg).T @ bufs["hp"]
        if gru and e[4]:
            grads[4] = dhg.sum(axis=0)
        if lstm and hf is not None and e[5]:
            grads[5] = dhy.T @ hf
        ins = (xg, h0, c0, w_hh, b_hh, w_hr)
        return tuple(None if g is None else _const(g.astype(ins[k]._data.dtype, copy=False))
                     for k, g in enumerate(grads))


def _layer_backward_graph(ctx, grads):
    """``_Layer``'s backward as a graph: the layer recomputed as per-step ember ops from
    aliases of its inputs, differentiated with ``autograd.grad(create_graph=True)``. The
    aliases make each input's captured gradient its own partial derivative even when one
    input depends on another (say ``h0 = tanh(c0)``)."""
    from ..autograd import grad as _grad

    ins = ctx.saved_tensors
    mode, sizes, reverse = ctx.meta
    e = ctx._edges
    want = [k for k in range(6) if e[k] and ins[k] is not None]
    alias = list(ins)
    for k in want:
        alias[k] = Alias.apply(ins[k])
    outs = _layer_composite(mode, *alias, sizes, reverse)
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
    got = _grad([o for o, _ in pairs], [alias[k] for k in want], [g for _, g in pairs],
                create_graph=True, allow_unused=True)
    res = [None] * 6
    for k, g in zip(want, got):
        res[k] = g
    return tuple(res)


def _layer_composite(mode: str, xg: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor,
                     b_hh: Tensor | None, w_hr: Tensor | None, sizes, reverse: bool) -> tuple:
    """``_Layer`` as per-step ember ops (one addmm and one fused cell op per step)."""
    whh_t = _shape.t(w_hh)
    whr_t = None if w_hr is None else _shape.t(w_hr)
    act = _pw.Tanh.apply if mode == "RNN_TANH" else _pw.Relu.apply
    xgs = _shape.split_with_sizes(xg, list(sizes)) if len(sizes) > 1 else [xg]
    n_steps = len(sizes)
    order = range(n_steps - 1, -1, -1) if reverse else range(n_steps)
    cur = sizes[order[0]]
    h = h0 if cur == h0._data.shape[0] else _shape.Narrow.apply(h0, 0, 0, cur)
    c = None
    if c0 is not None:
        c = c0 if cur == c0._data.shape[0] else _shape.Narrow.apply(c0, 0, 0, cur)
    outs = [None] * n_steps
    h_done, c_done = [], []  # final states of sequences that ended early (forward direction)
    for t in order:
        bs = sizes[t]
        if bs != cur:
            if bs < cur:
                h_done.append(_shape.Narrow.apply(h, 0, bs, cur - bs))
                h = _shape.Narrow.apply(h, 0, 0, bs)
                if c is not None:
                    c_done.append(_shape.Narrow.apply(c, 0, bs, cur - bs))
                    c = _shape.Narrow.apply(c, 0, 0, bs)
            else:
                h = _shape.cat([h, _shape.Narrow.apply(h0, 0, cur, bs - cur)])
                if c is not None:
                    c = _shape.cat([c, _shape.Narrow.apply(c0, 0, cur, bs - cur)])
            cur = bs
        if mode == "LSTM":
            h, c = _LSTMCell.apply(_linalg.Addmm.apply(xgs[t], h, whh_t, 1, 1), c)
            if whr_t is not None:
                h = _linalg.Mm.apply(h, whr_t)
        elif mode == "GRU":
            h = _GRUCell.apply(xgs[t], _proj(h, whh_t, b_hh), h)
        else:
            h = act(_linalg.Addmm.apply(xgs[t], h, whh_t, 1, 1))
        outs[t] = h
    if h_done:
        h = _shape.cat([h] + h_done[::-1])
        if c is not None:
            c = _shape.cat([c] + c_done[::-1])
    y = _shape.cat(outs) if n_steps > 1 else outs[0]
    return (y, h, c) if mode == "LSTM" else (y, h)


def _layer_weights(mode: str, weights: list, has_biases: bool, proj: bool) -> dict:
    w = {"ih": weights[0], "hh": weights[1]}
    k = 2
    if has_biases:
        w["b_ih"], w["b_hh"] = weights[2], weights[3]
        k = 4
    if proj:
        w["hr"] = weights[k]
    return w


def rnn_forward(mode: str, input: Tensor, batch_sizes: list | None, hx: tuple, weights: list,
                has_biases: bool, num_layers: int, dropout: float, train: bool,
                bidirectional: bool, batch_first: bool) -> tuple:
    """The multi-layer recurrence of ``torch._VF.lstm``/``gru``/``rnn_tanh``/``rnn_relu``.

    ``input`` is (T, B, I) (or (B, T, I) with ``batch_first``), or the data of a packed
    sequence (N, I) with its ``batch_sizes`` as a list of ints. ``hx`` is ``(h0,)`` or
    ``(h0, c0)`` with shape (layers * directions, B, H). ``weights`` are the module's flat
    weights in PyTorch's order (``weight_ih``, ``weight_hh``, [``bias_ih``, ``bias_hh``],
    [``weight_hr``] per layer and direction). Returns ``(output, h_n)`` or
    ``(output, h_n, c_n)``; arguments are assumed checked by the module.
    """
    dirs = 2 if bidirectional else 1
    per = len(weights) // (num_layers * dirs)
    proj = per == (5 if has_biases else 3)
    packed = batch_sizes is not None
    if packed:
        sizes = list(batch_sizes)
        x = input
    else:
        x = _shape.transpose(input, 0, 1) if batch_first else input
        n_steps, batch = x._data.shape[0], x._data.shape[1]
        sizes = [batch] * n_steps
        x = _shape.reshape(x, (n_steps * batch, x._data.shape[2]))
    h0, c0 = hx[0], (hx[1] if mode == "LSTM" else None)
    h_n, c_n = [], []
    for layer in range(num_layers):
        ys = []
        for d in range(dirs):
            idx = layer * dirs + d
            w = _layer_weights(mode, weights[idx * per:(idx + 1) * per], has_biases, proj)
            bias = w.get("b_ih")
            if bias is not None and mode != "GRU":
                bias = bias + w["b_hh"]  # both biases enter once, with the input projection
            xg = _proj(x, _shape.t(w["ih"]), bias)
            h0_k = _shape.select(h0, 0, idx)
            c0_k = None if c0 is None else _shape.select(c0, 0, idx)
            res = _Layer.apply(xg, h0_k, c0_k, w["hh"], w.get("b_hh") if mode == "GRU" else None,
                               w.get("hr"), mode, tuple(sizes), d == 1)
            ys.append(res[0])
            h_n.append(res[1])
            if mode == "LSTM":
                c_n.append(res[2])
        x = ys[0] if dirs == 1 else _shape.cat(ys, 1)
        if dropout > 0 and train and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    if not packed:
        x = _shape.reshape(x, (n_steps, batch, x._data.shape[1]))
        if batch_first:
            x = _shape.transpose(x, 0, 1)
    out = (x, _shape.stack(h_n))
    return out + (_shape.stack(c_n),) if mode == "LSTM" else out


# ---------------------------------------------------------------------------------------------
# packing (ember.nn.utils.rnn)
# ---------------------------------------------------------------------------------------------

def packed_rows(lengths, batch_first: bool, steps: int):
    """For sorted (decreasing) ``lengths``: the rows of the padded input viewed as
    (T * B, ...) (or (B * T, ...) with ``batch_first``, ``steps`` = T of the input) that make
    up the packed data, in packed (time-major) order, and the batch sizes."""
    lengths = np.asarray(lengths, dtype=np.int64)
    batch = lengths.shape[0]
    mask = np.arange(int(lengths[0]))[:, None] < lengths[None, :]
    t_idx, b_idx = np.nonzero(mask)
    rows = b_idx * steps + t_idx if batch_first else t_idx * batch + b_idx
    return rows, mask.sum(axis=1)


class _PackPadded(Op, name="PackPaddedSequenceBackward0"):
    """Rows ``rows`` of ``x`` with its first two dims flattened (a gather)."""

    @staticmethod
    def forward(ctx, x, rows):
        xp = array_module(x)
        ctx.meta = (rows, x.shape)
        flat = x.reshape((x.shape[0] * x.shape[1],) + x.shape[2:])
        return flat[xp.asarray(rows)]

    @staticmethod
    def backward(ctx, g):
        rows, shape = ctx.meta
        return _PadPacked.apply(g, rows, shape, 0)


class _PadPacked(Op, name="CopySlices"):
    """``data`` scattered to rows ``rows`` of a ``shape`` array (first two dims flattened)
    filled with ``value``; the adjoint of ``_PackPadded``."""

    @staticmethod
    def forward(ctx, data, rows, shape, value):
        xp = array_module(data)
        ctx.rows = rows
        out = xp.full((shape[0] * shape[1],) + tuple(shape[2:]), value, dtype=data.dtype)
        out[xp.asarray(rows)] = data
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return _PackPadded.apply(g, ctx.rows)


def pack_rows(x: Tensor, rows) -> Tensor:
    """Differentiable gather of packed rows (see ``packed_rows``)."""
    return _PackPadded.apply(x, rows)


def pad_rows(data: Tensor, rows, shape: tuple, value) -> Tensor:
    """Differentiable scatter of packed rows into a ``value``-filled ``shape`` tensor."""
    return _PadPacked.apply(data, rows, tuple(shape), value)


class _PadSequence(Op, name="CopySlices"):
    """Sequences (L_i, *) copied into a ``value``-filled (T, B, *) (or (B, T, *)) array."""

    @staticmethod
    def forward(ctx, value, batch_first, left, shape, *arrays):
        xp = array_module(arrays[0])
        out = xp.full(shape, value, dtype=arrays[0].dtype)
        steps = shape[1] if batch_first else shape[0]
        spans = []
        for i, a in enumerate(arrays):
            n = a.shape[0]
            start = steps - n if left else 0
            spans.append((start, n))
            if batch_first:
                out[i, start:start + n] = a
            else:
                out[start:start + n, i] = a
        ctx.meta = (batch_first, spans)
        return out

    @staticmethod
    def backward(ctx, g):
        batch_first, spans = ctx.meta
        tdim = 1 if batch_first else 0
        grads = []
        for i, (start, n) in enumerate(spans):
            gi = _shape.Narrow.apply(g, tdim, start, n)
            grads.append(_shape.Select.apply(gi, 1 - tdim, i))
        return (None, None, None, None) + tuple(grads)


def pad_sequences(sequences: list, batch_first: bool, value, left: bool) -> Tensor:
    """Stack ``sequences`` (already checked) into one padded tensor, differentiably."""
    steps = max(s._data.shape[0] for s in sequences)
    trailing = sequences[0]._data.shape[1:]
    for s in sequences:
        target = (s._data.shape[0],) + tuple(trailing)
        b = _util.broadcast_shapes_or_raise(target, s._data.shape)
        if b != target:
            raise RuntimeError(f"output with shape {list(target)} doesn't match the broadcast "
                               f"shape {list(b)}")
    _util.check_same_device(*sequences)
    lead = (len(sequences), steps) if batch_first else (steps, len(sequences))
    return _PadSequence.apply(value, batch_first, left, lead + tuple(trailing), *sequences)
