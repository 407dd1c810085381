"""F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention
against PyTorch: values, attention weights and gradients of inputs, masks and every parameter
over masks (bool/float, 2-D/3-D/broadcast, padding), causal hints, scales, grouped-query
attention, batch dims, module arguments (bias, add_bias_kv, add_zero_attn, kdim/vdim,
batch_first), unbatched input, eval-mode fast-path semantics, reprs, state dicts, errors, and
float64 gradcheck/gradgradcheck."""

import numpy as np
import pytest

import ember
from tests.oracle import (
    DEVICE,
    Const,
    Transposed,
    assert_close,
    check,
    check_raises,
    make_inputs,
    needs_torch,
    rand,
    same_message,
    to_numpy,
    torch,
)

pytestmark = needs_torch


def _f(lib):
    return lib.nn.functional


def _sdpa(lib, q, k, v, *args, **kw):
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, *args, **kw)


def _bool(*shape, p=0.7, dead_rows=()):
    """A boolean mask (True with probability ``p``); rows in ``dead_rows`` all False."""
    m = np.random.default_rng(7).random(shape) < p
    for r in dead_rows:
        m[..., r, :] = False
    return m


# ------------------------------------------------------------------------------ SDPA


SHAPES = [  # q, k, v
    ((5, 8), (6, 8), (6, 3)),
    ((3, 5, 8), (3, 6, 8), (3, 6, 4)),
    ((2, 3, 5, 8), (2, 3, 6, 8), (2, 3, 6, 4)),
    ((2, 2, 3, 5, 8), (2, 2, 3, 6, 8), (2, 2, 3, 6, 4)),
    ((2, 3, 5, 8), (1, 3, 6, 8), (2, 1, 6, 4)),     # broadcast batch / heads
    ((3, 5, 8), (2, 3, 6, 8), (2, 3, 6, 4)),        # query of lower rank
    ((2, 3, 5, 8), (2, 3, 6, 8), (4, 2, 3, 6, 4)),  # value adds a batch dim
    ((2, 1, 5, 8), (2, 3, 6, 8), (2, 3, 6, 4)),
]


@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "x".join(map(str, s[0])) + "-" +
                         "x".join(map(str, s[1])) + "-" + "x".join(map(str, s[2])))
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_shapes(shapes, causal):
    q, k, v = shapes
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, is_causal=causal),
          rand(*q), rand(*k), rand(*v), atol=1e-5, grad_atol=1e-5)


@pytest.mark.parametrize("L,S", [(4, 4), (3, 6), (6, 3), (1, 5), (5, 1)])
def test_sdpa_causal_alignment(L, S):
    # top-left aligned: query i sees keys 0..i, whatever L and S
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, is_causal=True),
          rand(2, 2, L, 8), rand(2, 2, S, 8), rand(2, 2, S, 3))


MASKS = {
    "bool 2d": lambda: Const(_bool(5, 6)),
    "bool full": lambda: Const(_bool(2, 3, 5, 6)),
    "bool heads": lambda: Const(_bool(3, 1, 6)),
    "bool dead rows": lambda: Const(_bool(5, 6, dead_rows=(0, 3))),
    "bool all false": lambda: Const(np.zeros((5, 6), dtype=bool)),
    "float 2d": lambda: Const(rand(5, 6)),
    "float broadcast": lambda: Const(rand(2, 1, 1, 6)),
    "float grad": lambda: rand(3, 5, 6),
    "float grad broadcast": lambda: rand(1, 6),
    "float -inf": lambda: Const(np.where(_bool(5, 6), 0.0, -np.inf).astype(np.float32)),
    "float dead rows": lambda: Const(np.where(_bool(5, 6, dead_rows=(2,)), 0.0, -np.inf)
                                     .astype(np.float32)),
}


@pytest.mark.parametrize("mask", list(MASKS))
def test_sdpa_masks(mask):
    check(lambda lib, q, k, v, m: _sdpa(lib, q, k, v, attn_mask=m),
          rand(2, 3, 5, 8), rand(2, 3, 6, 8), rand(2, 3, 6, 4), MASKS[mask]())


def test_sdpa_mask_nan_propagates():
    m = rand(5, 6)
    m[1, 2] = np.nan
    check(lambda lib, q, k, v, m: _sdpa(lib, q, k, v, attn_mask=m),
          rand(2, 5, 8), rand(2, 6, 8), rand(2, 6, 4), Const(m))


@pytest.mark.parametrize("scale", [None, 0.3, 0.0, -1.5, 2])
def test_sdpa_scale(scale):
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, scale=scale),
          rand(2, 3, 5, 8), rand(2, 3, 6, 8), rand(2, 3, 6, 4))
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, scale=scale, is_causal=True),
          rand(2, 5, 8), rand(2, 6, 8), rand(2, 6, 4))


@pytest.mark.parametrize("heads", [(6, 2, 2), (6, 3, 3), (6, 1, 1), (6, 2, 3), (6, 6, 6),
                                   (4, 2, 1)])
@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_sdpa_gqa(heads, mask):
    hq, hk, hv = heads
    extra = []
    kw = {"enable_gqa": True}
    if mask == "bool":
        extra = [Const(_bool(2, hq, 5, 6))]
    elif mask == "float":
        extra = [rand(hq, 5, 6)]
    elif mask == "causal":
        kw["is_causal"] = True
    check(lambda lib, q, k, v, *m: _sdpa(lib, q, k, v, *m, **kw),
          rand(2, hq, 5, 8), rand(2, hk, 6, 8), rand(2, hv, 6, 4), *extra)


def test_sdpa_gqa_3d_and_5d():
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, enable_gqa=True),
          rand(4, 5, 8), rand(2, 6, 8), rand(1, 6, 4))
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, enable_gqa=True, scale=0.5),
          rand(2, 3, 4, 5, 8), rand(2, 1, 2, 6, 8), rand(2, 3, 2, 6, 4))


@pytest.mark.parametrize("shapes", [((2, 0, 8), (2, 6, 8), (2, 6, 4)),
                                    ((2, 5, 8), (2, 0, 8), (2, 0, 4)),
                                    ((2, 5, 8), (2, 6, 8), (2, 6, 0)),
                                    ((0, 5, 8), (0, 6, 8), (0, 6, 4)),
                                    ((2, 5, 0), (2, 6, 0), (2, 6, 4))])
def test_sdpa_empty(shapes):
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v), *(rand(*s) for s in shapes))


def test_sdpa_noncontiguous_inputs():
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, is_causal=True),
          Transposed(rand(3, 5, 8)), Transposed(rand(3, 6, 8)), Transposed(rand(3, 6, 4)))
    check(lambda lib, q, k, v: _sdpa(lib, q.transpose(0, 1), k.transpose(0, 1),
                                     v.transpose(0, 1)),
          rand(5, 3, 8), rand(6, 3, 8), rand(6, 3, 4))


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_sdpa_dtypes(dtype):
    args = [rand(2, 3, 5, 8, dtype=dtype), rand(2, 3, 6, 8, dtype=dtype),
            rand(2, 3, 6, 4, dtype=dtype)]
    tol = 1e-10 if dtype == np.float64 else 1e-2
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, is_causal=True), *args, atol=tol,
          grad_atol=tol)
    # a float32 mask is allowed with any query dtype; a bool one too
    check(lambda lib, q, k, v, m: _sdpa(lib, q, k, v, attn_mask=m), *args,
          Const(rand(5, 6)), atol=tol, grad_atol=tol)
    check(lambda lib, q, k, v, m: _sdpa(lib, q, k, v, attn_mask=m), *args,
          Const(_bool(5, 6, dead_rows=(1,))), atol=tol, grad_atol=tol)


def test_sdpa_bfloat16():
    q, k, v = (ember.tensor(rand(2, 5, 8), dtype=ember.bfloat16) for _ in range(3))
    out = _sdpa(ember, q, k, v, is_causal=True)
    tq, tk, tv = (torch.tensor(to_numpy(t)).bfloat16() for t in (q, k, v))
    assert out.dtype is ember.bfloat16
    assert_close(out, _sdpa(torch, tq, tk, tv, is_causal=True), atol=1e-2, rtol=1e-2)


def test_sdpa_grad_fn_and_no_grad():
    q, k, v = (ember.tensor(rand(2, 4, 8), requires_grad=True) for _ in range(3))
    assert _sdpa(ember, q, k, v).grad_fn.name() == "UnsafeViewBackward0"
    with ember.no_grad():
        assert _sdpa(ember, q, k, v).grad_fn is None
    # only some inputs need gradients
    for req in [(True, False, False), (False, True, False), (False, False, True)]:
        ins = [rand(2, 4, 8), rand(2, 5, 8), rand(2, 5, 3)]
        specs = [a if r else Const(a) for a, r in zip(ins, req)]
        check(lambda lib, q, k, v: _sdpa(lib, q, k, v, is_causal=True), *specs)


def test_sdpa_inputs_modified_after_forward():
    # PyTorch saves the scaled query (a new tensor) and forgets the mask: changing either in
    # place after forward is no error and does not change the gradients; v is saved as is
    arrs = [rand(2, 4, 8), rand(2, 4, 8), rand(2, 4, 3), rand(4, 4)]
    grads = []
    for lib in (torch, ember):
        q, m = lib.tensor(arrs[0]), lib.tensor(arrs[3])
        k = lib.tensor(arrs[1], requires_grad=True)
        v = lib.tensor(arrs[2], requires_grad=True)
        out = _sdpa(lib, q, k, v, attn_mask=m)
        q.mul_(2.0)
        m.add_(1.0)
        out.sum().backward()
        grads.append((k.grad, v.grad))
        v2 = v * 1
        out = _sdpa(lib, q, k, v2)
        v2.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    for e, t in zip(grads[1], grads[0]):
        assert_close(e, t)


def test_sdpa_dropout():
    q, k, v = (ember.tensor(rand(2, 3, 6, 8), requires_grad=True) for _ in range(3))
    ember.manual_seed(0)
    a = _sdpa(ember, q, k, v, dropout_p=0.5)
    ember.manual_seed(0)
    b = _sdpa(ember, q, k, v, dropout_p=0.5)
    assert np.array_equal(to_numpy(a), to_numpy(b))
    assert not np.allclose(to_numpy(a), to_numpy(_sdpa(ember, q, k, v)))
    # p = 1 drops every weight (PyTorch gives zeros too)
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, dropout_p=1.0),
          rand(2, 5, 8), rand(2, 6, 8), rand(2, 6, 4))
    # negative p is no dropout in PyTorch's kernel
    check(lambda lib, q, k, v: _sdpa(lib, q, k, v, dropout_p=-0.5),
          rand(2, 5, 8), rand(2, 6, 8), rand(2, 6, 4))


def test_sdpa_dropout_matches_its_weights():
    # dropout in attention zeroes weights and rescales the rest by 1/(1-p): seen through the
    # weights MultiheadAttention returns, against the same module without dropout
    m = ember.nn.MultiheadAttention(8, 2, dropout=0.25)
    x = ember.tensor(rand(6, 3, 8))
    ember.manual_seed(1)
    _, wd = m(x, x, x, average_attn_weights=False)
    m.eval()
    _, w = m(x, x, x, average_attn_weights=False)
    wd, w = to_numpy(wd), to_numpy(w)
    kept = wd != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(wd[kept], w[kept] / 0.75, rtol=1e-5)


def test_sdpa_dropout_gradcheck():
    r = np.random.default_rng(3)
    q, k, v = (ember.tensor(r.standard_normal(s), dtype=ember.float64, requires_grad=True)
               for s in [(2, 4, 3), (2, 5, 3), (2, 5, 2)])

    def fn(q, k, v):
        ember.manual_seed(5)  # the same noise at every evaluation
        return _sdpa(ember, q, k, v, dropout_p=0.3)

    assert ember.autograd.gradcheck(fn, (q, k, v))


def _f64(r, *shape):
    return ember.tensor(r.standard_normal(shape), dtype=ember.float64, requires_grad=True)


@pytest.mark.parametrize("case", ["plain", "causal", "bool", "float", "gqa", "dead"])
def test_sdpa_gradcheck(case):
    r = np.random.default_rng(11)
    q, k, v = _f64(r, 1, 4, 3, 3), _f64(r, 1, 2, 4, 3), _f64(r, 1, 2, 4, 2)
    kw = {"enable_gqa": True}
    args = (q, k, v)
    if case == "plain":
        args = (q[:, :2], k, v)
        kw = {}
    elif case == "causal":
        kw["is_causal"] = True
    elif case == "bool":
        kw["attn_mask"] = ember.tensor(_bool(3, 4))
    elif case == "dead":
        kw["attn_mask"] = ember.tensor(_bool(3, 4, dead_rows=(1,)))
    if case == "float":
        args = (q, k, v, _f64(r, 4, 3, 4))

        def fn(q, k, v, m):
            return _sdpa(ember, q, k, v, attn_mask=m, enable_gqa=True)
    else:
        def fn(q, k, v):
            return _sdpa(ember, q, k, v, **kw)
    assert ember.autograd.gradcheck(fn, args)
    assert ember.autograd.gradgradcheck(fn, args)


SDPA_ERRORS = [
    ("dtype", lambda lib, q, k, v: _sdpa(lib, q, k.double(), v)),
    ("dtype v", lambda lib, q, k, v: _sdpa(lib, q, k, v.double())),
    ("mask dtype", lambda lib, q, k, v: _sdpa(lib, q, k, v, attn_mask=lib.zeros(5, 6).double())),
    ("mask long", lambda lib, q, k, v: _sdpa(lib, q, k, v,
                                             attn_mask=lib.zeros(5, 6, dtype=lib.long))),
    ("mask half", lambda lib, q, k, v: _sdpa(lib, q, k, v,
                                             attn_mask=lib.zeros(5, 6, dtype=lib.half))),
    ("causal and mask", lambda lib, q, k, v: _sdpa(lib, q, k, v, attn_mask=lib.zeros(5, 6),
                                                   is_causal=True)),
    ("embed", lambda lib, q, k, v: _sdpa(lib, q, k[..., :7], v)),
    ("seq", lambda lib, q, k, v: _sdpa(lib, q, k, v[..., :4, :])),
    ("batch", lambda lib, q, k, v: _sdpa(lib, q, k[:, :2], v[:, :2])),
    ("batch v", lambda lib, q, k, v: _sdpa(lib, q, k, v[:, :2])),
    ("mask shape", lambda lib, q, k, v: _sdpa(lib, q, k, v, attn_mask=lib.zeros(4, 6))),
    ("mask batch", lambda lib, q, k, v: _sdpa(lib, q, k, v, attn_mask=lib.zeros(2, 2, 5, 6))),
    ("mask rank", lambda lib, q, k, v: _sdpa(lib, q, k, v, attn_mask=lib.zeros(7, 2, 3, 5, 6))),
    ("mask expands", lambda lib, q, k, v: _sdpa(lib, q[:1], k[:1], v[:1],
                                                attn_mask=lib.zeros(2, 3, 5, 6))),
    ("bool mask 1d", lambda lib, q, k, v: _sdpa(lib, q, k, v,
                                                attn_mask=lib.ones(6, dtype=lib.bool))),
    ("bool mask 0d", lambda lib, q, k, v: _sdpa(lib, q, k, v,
                                                attn_mask=lib.ones((), dtype=lib.bool))),
    ("float mask 1d", lambda lib, q, k, v: _sdpa(lib, q, k, v, attn_mask=lib.ones(6))),
    ("1d", lambda lib, q, k, v: _sdpa(lib, q[0, 0, 0], k[0, 0, 0], v[0, 0, 0])),
    ("gqa heads", lambda lib, q, k, v: _sdpa(lib, q, k[:, :2], v[:, :2], enable_gqa=True)),
    ("gqa v heads", lambda lib, q, k, v: _sdpa(lib, q, k, v[:, :2], enable_gqa=True)),
    ("gqa 2d", lambda lib, q, k, v: _sdpa(lib, q[0, 0], k[0, 0], v[0, 0], enable_gqa=True)),
    ("dropout", lambda lib, q, k, v: _sdpa(lib, q, k, v, dropout_p=1.5)),
    ("int", lambda lib, q, k, v: _sdpa(lib, q.int(), k.int(), v.int())),
    ("bool", lambda lib, q, k, v: _sdpa(lib, q.bool(), k.bool(), v.bool())),
    ("complex", lambda lib, q, k, v: _sdpa(lib, q.to(lib.complex64), k.to(lib.complex64),
                                           v.to(lib.complex64))),
    ("mask type", lambda lib, q, k, v: _sdpa(lib, q, k, v, attn_mask=3.0)),
    ("query type", lambda lib, q, k, v: _sdpa(lib, 1.0, k, v)),
]


@pytest.mark.parametrize("name,fn", SDPA_ERRORS, ids=[e[0] for e in SDPA_ERRORS])
def test_sdpa_errors(name, fn):
    args = (Const(rand(2, 3, 5, 8)), Const(rand(2, 3, 6, 8)), Const(rand(2, 3, 6, 4)))
    if name == "query type":
        check_raises(fn, *args, match="argument 'query' (position 1) must be Tensor")
    else:
        same_message(fn, *args)


# ------------------------------------------------------------------------------ modules


def _copy(e_mod, t_mod):
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    if DEVICE != "cpu":
        e_mod.to(DEVICE)


def compare_modules(t_mod, e_mod, run, *inputs, grad=True, atol=2e-5, grad_atol=1e-4):
    """``run(mod, lib, *tensors)`` on both modules (ember's loaded with torch's state dict):
    same outputs and, with ``grad``, same gradients of inputs and of every parameter."""
    _copy(e_mod, t_mod)
    t_args, t_leaves = make_inputs(torch, inputs, grad, device="cpu")
    e_args, e_leaves = make_inputs(ember, inputs, grad)
    if grad:
        t_out, e_out = run(t_mod, torch, *t_args), run(e_mod, ember, *e_args)
    else:
        with torch.no_grad():
            t_out = run(t_mod, torch, *t_args)
        with ember.no_grad():
            e_out = run(e_mod, ember, *e_args)
    t_outs = list(t_out) if isinstance(t_out, tuple) else [t_out]
    e_outs = list(e_out) if isinstance(e_out, tuple) else [e_out]
    assert len(t_outs) == len(e_outs)
    for i, (e, t) in enumerate(zip(e_outs, t_outs)):
        if t is None:
            assert e is None, f"output {i}: torch None, ember {type(e).__name__}"
            continue
        assert_close(e, t, atol=atol, rtol=1e-4, what=f"output {i}")
    if not grad:
        return e_out
    rng = np.random.default_rng(0)
    pairs = [(e, t) for e, t in zip(e_outs, t_outs) if t is not None and t.requires_grad]
    ups = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for _, t in pairs]
    t_params = [p for _, p in t_mod.named_parameters()]
    e_named = list(e_mod.named_parameters())
    assert [n for n, _ in e_named] == [n for n, _ in t_mod.named_parameters()]
    t_grads = torch.autograd.grad([t for _, t in pairs], t_leaves + t_params,
                                  [torch.tensor(u) for u in ups], allow_unused=True)
    e_grads = ember.autograd.grad([e for e, _ in pairs], e_leaves + [p for _, p in e_named],
                                  [ember.tensor(u).to(DEVICE) for u in ups], allow_unused=True)
    names = [f"input {i}" for i in range(len(t_leaves))] + [n for n, _ in e_named]
    for n, e, t in zip(names, e_grads, t_grads):
        if t is None:
            assert e is None or not np.abs(to_numpy(e)).max(initial=0), f"{n}: torch None"
            continue
        assert e is not None, f"grad of {n}: ember None"
        assert_close(e, t, atol=grad_atol, rtol=1e-3, what=f"grad of {n}")
    return e_out


def _pair(cls, *args, **kw):
    torch.manual_seed(0)
    return getattr(torch.nn, cls)(*args, **kw), getattr(ember.nn, cls)(*args, **kw)


MHA_CONFIGS = {
    "default": {},
    "no bias": {"bias": False},
    "bias kv": {"add_bias_kv": True},
    "zero attn": {"add_zero_attn": True},
    "bias kv zero attn": {"add_bias_kv": True, "add_zero_attn": True, "bias": False},
    "kdim vdim": {"kdim": 5, "vdim": 7},
    "kdim vdim bias kv": {"kdim": 5, "vdim": 7, "add_bias_kv": True, "add_zero_attn": True},
    "batch first": {"batch_first": True},
    "batch first kdim": {"batch_first": True, "kdim": 6, "vdim": 6},
    "4 heads": {"num_heads": 4},
    "1 head": {"num_heads": 1},
}

L_, S_, N_, E_ = 4, 5, 3, 8


def _mha_inputs(cfg, mode):
    """Query/key/value arrays (seq-first or batch-first) for a config; ``mode`` picks the
    identities: "self" (q is k is v), "kv" (k is v) or "sep"."""
    bf = cfg.get("batch_first", False)
    kd, vd = cfg.get("kdim", E_), cfg.get("vdim", E_)

    def shp(n, e):
        return (N_, n, e) if bf else (n, N_, e)

    if mode == "self":
        return [rand(*shp(L_, E_))]
    if mode == "kv":
        return [rand(*shp(L_, E_)), rand(*shp(S_, kd))]
    return [rand(*shp(L_, E_)), rand(*shp(S_, kd)), rand(*shp(S_, vd))]


def _modes(cfg):
    kd, vd = cfg.get("kdim", E_), cfg.get("vdim", E_)
    if kd != E_ or vd != E_:
        return ["kv", "sep"] if kd == vd else ["sep"]
    return ["self", "kv", "sep"]


def _qkv(args, mode):
    if mode == "self":
        return args[0], args[0], args[0], args[1:]
    if mode == "kv":
        return args[0], args[1], args[1], args[2:]
    return args[0], args[1], args[2], args[3:]


MASK_CASES = ["none", "attn bool 2d", "attn float 2d", "attn bool 3d", "attn float 3d",
              "kpm bool", "kpm float", "kpm and attn", "causal", "causal kpm",
              "attn float grad"]


def _mask_args(case, L, S, heads, seq_grad=False):
    """(mask specs, kwargs builder) for a mask case; masks are True = *not* attended."""
    specs, names = [], []
    if case in ("attn bool 2d", "kpm and attn", "causal", "causal kpm"):
        m = np.triu(np.ones((L, S), dtype=bool), 1) if case.startswith("causal") else \
            _bool(L, S, p=0.3)
        m[:, 0] = False  # every query attends somewhere
        specs.append(Const(m))
        names.append("attn_mask")
    elif case == "attn float 2d":
        specs.append(Const(rand(L, S)))
        names.append("attn_mask")
    elif case == "attn float grad":
        specs.append(rand(L, S))
        names.append("attn_mask")
    elif case == "attn bool 3d":
        m = _bool(N_ * heads, L, S, p=0.3)
        m[..., 0] = False
        specs.append(Const(m))
        names.append("attn_mask")
    elif case == "attn float 3d":
        specs.append(Const(rand(N_ * heads, L, S)))
        names.append("attn_mask")
    if case in ("kpm bool", "kpm and attn", "causal kpm"):
        m = _bool(N_, S, p=0.3)
        m[:, 0] = False
        specs.append(Const(m))
        names.append("key_padding_mask")
    elif case == "kpm float":
        specs.append(Const(np.where(_bool(N_, S, p=0.3), -np.inf, 0).astype(np.float32)))
        names.append("key_padding_mask")
    return specs, names


def _mha_run(mode, names, **fw):
    def run(mod, lib, *args):
        q, k, v, masks = _qkv(args, mode)
        kw = dict(zip(names, masks))
        return mod(q, k, v, **kw, **fw)
    return run


@pytest.mark.parametrize("config", list(MHA_CONFIGS))
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_configs(config, need_weights, average):
    cfg = dict(MHA_CONFIGS[config])
    heads = cfg.pop("num_heads", 2)
    t_mod, e_mod = _pair("MultiheadAttention", E_, heads, **cfg)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    cfg["num_heads"] = heads
    for mode in _modes(cfg):
        compare_modules(t_mod, e_mod, _mha_run(mode, [], need_weights=need_weights,
                                               average_attn_weights=average),
                        *_mha_inputs(cfg, mode))


@pytest.mark.parametrize("config", ["default", "bias kv zero attn", "kdim vdim", "batch first",
                                    "4 heads"])
@pytest.mark.parametrize("case", MASK_CASES)
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks(config, case, need_weights):
    cfg = dict(MHA_CONFIGS[config])
    heads = cfg.pop("num_heads", 2)
    t_mod, e_mod = _pair("MultiheadAttention", E_, heads, **cfg)
    mode = _modes({**cfg})[-1]
    specs, names = _mask_args(case, L_, S_, heads)
    fw = {"need_weights": need_weights}
    if case.startswith("causal"):
        fw["is_causal"] = True
    compare_modules(t_mod, e_mod, _mha_run(mode, names, **fw), *_mha_inputs(cfg, mode), *specs)


@pytest.mark.parametrize("case", ["none", "attn bool 2d", "attn float 3d", "kpm bool",
                                  "causal"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched(case, need_weights):
    t_mod, e_mod = _pair("MultiheadAttention", E_, 2, add_bias_kv=True)
    specs, names = _mask_args(case, L_, S_, 2)
    # unbatched: (L, E) inputs, (S,) padding mask, (heads, L, S) 3-D mask
    specs = [Const(s.a[0]) if n == "key_padding_mask" else
             Const(s.a[:2]) if s.a.ndim == 3 else s for s, n in zip(specs, names)]
    fw = {"need_weights": need_weights, "is_causal": case == "causal"}
    compare_modules(t_mod, e_mod, _mha_run("kv", names, **fw), rand(L_, E_), rand(S_, E_),
                    *specs)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("case", ["none", "attn bool 2d", "kpm bool", "kpm float",
                                  "kpm and attn", "causal", "dead rows"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_eval_no_grad(batch_first, case, need_weights):
    # eval mode without gradients is PyTorch's fast path for batch-first self-attention
    t_mod, e_mod = _pair("MultiheadAttention", E_, 2, dropout=0.5, batch_first=batch_first)
    t_mod.eval()
    e_mod.eval()
    if case == "dead rows":
        m = _bool(N_, L_, p=0.3)
        m[1] = True  # a fully padded sequence: NaN rows on the fast path, zeros otherwise
        specs, names = [Const(m)], ["key_padding_mask"]
    else:
        specs, names = _mask_args(case, L_, L_, 2)
    fw = {"need_weights": need_weights, "is_causal": case == "causal"}
    x = rand(N_, L_, E_) if batch_first else rand(L_, N_, E_)
    compare_modules(t_mod, e_mod, _mha_run("self", names, **fw), x, *specs, grad=False)


def test_mha_train_fully_masked_rows():
    # regular path: NaN rows with need_weights (plain softmax), zeros without (SDPA)
    t_mod, e_mod = _pair("MultiheadAttention", E_, 2, batch_first=True)
    m = _bool(N_, L_, p=0.3)
    m[2] = True
    for nw in (True, False):
        compare_modules(t_mod, e_mod, _mha_run("self", ["key_padding_mask"], need_weights=nw),
                        rand(N_, L_, E_), Const(m), grad=False)
    compare_modules(t_mod, e_mod, _mha_run("self", ["key_padding_mask"], need_weights=False),
                    rand(N_, L_, E_), Const(m))


def test_mha_init():
    m = ember.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    bound = (6 / (16 + 48)) ** 0.5
    w = to_numpy(m.in_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not to_numpy(m.in_proj_bias).any() and not to_numpy(m.out_proj.bias).any()
    assert m.bias_k.shape == (1, 1, 16) and to_numpy(m.bias_k).std() > 0
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    m2 = ember.nn.MultiheadAttention(16, 4, kdim=3, vdim=5, bias=False)
    assert m2.in_proj_weight is None and m2.in_proj_bias is None and m2.out_proj.bias is None
    assert [n for n, _ in m2.named_parameters()] == \
        [n for n, _ in torch.nn.MultiheadAttention(16, 4, kdim=3, vdim=5, bias=False)
         .named_parameters()]
    assert tuple(m2.k_proj_weight.shape) == (16, 3) and tuple(m2.v_proj_weight.shape) == (16, 5)
    m3 = ember.nn.MultiheadAttention(8, 2, dtype=ember.float64)
    assert all(p.dtype is ember.float64 for p in m3.parameters())
    assert m3.head_dim == 4 and m3._qkv_same_embed_dim and not m3.batch_first


def test_mha_state_dict_from_torch():
    t_mod = torch.nn.MultiheadAttention(8, 2, kdim=4, vdim=4, add_bias_kv=True)
    e_mod = ember.nn.MultiheadAttention(8, 2, kdim=4, vdim=4, add_bias_kv=True)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    t_back = torch.nn.MultiheadAttention(8, 2, kdim=4, vdim=4, add_bias_kv=True)
    t_back.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in e_mod.state_dict().items()})
    for k, v in t_mod.state_dict().items():
        assert torch.equal(v, t_back.state_dict()[k])


def test_mha_float_mask_mismatch_warns():
    t_mod, e_mod = _pair("MultiheadAttention", E_, 2)
    x = rand(L_, N_, E_)
    kpm = Const(_bool(N_, L_, p=0.2))
    am = Const(rand(L_, L_))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                         "attn_mask is deprecated"):
        compare_modules(t_mod, e_mod, _mha_run("self", ["key_padding_mask", "attn_mask"]),
                        x, kpm, am)


def test_mha_double_backward_and_gradcheck():
    r = np.random.default_rng(2)
    E, H = 4, 2
    x = _f64(r, 3, 2, E)
    kv = _f64(r, 5, 2, E)
    w_in, b_in = _f64(r, 3 * E, E), _f64(r, 3 * E)
    w_out, b_out = _f64(r, E, E), _f64(r, E)
    bk, bv = _f64(r, 1, 1, E), _f64(r, 1, 1, E)
    kpm = ember.tensor(np.array([[False, False, True, False, False],
                                 [False, True, False, False, True]]))

    def fn(x, kv, w_in, b_in, w_out, b_out, bk, bv):
        out, w = ember.nn.functional.multi_head_attention_forward(
            x, kv, kv, E, H, w_in, b_in, bk, bv, True, 0.0, w_out, b_out,
            key_padding_mask=kpm, need_weights=True)
        return out, w

    args = (x, kv, w_in, b_in, w_out, b_out, bk, bv)
    assert ember.autograd.gradcheck(fn, args)
    assert ember.autograd.gradgradcheck(lambda *a: fn(*a)[0], args)

    def fn_sdpa(x, w_in, w_out):
        return ember.nn.functional.multi_head_attention_forward(
            x, x, x, E, H, w_in, None, None, None, False, 0.0, w_out, None,
            attn_mask=ember.triu(ember.ones(3, 3, dtype=ember.bool), 1), need_weights=False,
            is_causal=True)[0]

    assert ember.autograd.gradcheck(fn_sdpa, (x, w_in, w_out))
    assert ember.autograd.gradgradcheck(fn_sdpa, (x, w_in, w_out))


def test_mha_functional_static_kv():
    E, H, N = 8, 2, 3
    args = [rand(4, N, E), rand(5, N, E), rand(3 * E, E), rand(3 * E), rand(E, E), rand(E),
            rand(N * H, 6, E // H), rand(N * H, 6, E // H)]

    def run(lib, q, kv, w, b, wo, bo, sk, sv):
        return lib.nn.functional.multi_head_attention_forward(
            q, kv, kv, E, H, w, b, None, None, False, 0.0, wo, bo, static_k=sk, static_v=sv,
            average_attn_weights=False)

    check(run, *args, grad_atol=1e-4, atol=1e-5)


def test_mha_functional_separate_weights_and_dropout():
    E, H = 8, 2
    args = [rand(4, 3, E), rand(5, 3, 6), rand(5, 3, 7), rand(E, E), rand(E, 6), rand(E, 7),
            rand(3 * E), rand(E, E)]

    def run(lib, q, k, v, wq, wk, wv, b, wo):
        return lib.nn.functional.multi_head_attention_forward(
            q, k, v, E, H, None, b, None, None, False, 0.9, wo, None, training=False,
            use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk,
            v_proj_weight=wv)

    check(run, *args, grad_atol=1e-4, atol=1e-5)


def _mha_err_mod(lib, **kw):
    lib.manual_seed(0)
    return lib.nn.MultiheadAttention(8, 2, **kw)


MHA_ERRORS = [
    ("ctor zero", lambda lib: lib.nn.MultiheadAttention(0, 2)),
    ("ctor heads", lambda lib: lib.nn.MultiheadAttention(8, -1)),
    ("ctor divisible", lambda lib: lib.nn.MultiheadAttention(8, 3)),
    ("embed dim", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 6),) * 3)),
    ("query rank", lambda lib: _mha_err_mod(lib)(*(lib.zeros(2, 4, 3, 8),) * 3)),
    ("key rank", lambda lib: _mha_err_mod(lib)(lib.zeros(4, 3, 8), lib.zeros(5, 8),
                                               lib.zeros(5, 8))),
    ("key rank unbatched", lambda lib: _mha_err_mod(lib)(lib.zeros(4, 8), lib.zeros(5, 3, 8),
                                                         lib.zeros(5, 3, 8))),
    ("kv shape", lambda lib: _mha_err_mod(lib)(lib.zeros(4, 3, 8), lib.zeros(5, 3, 8),
                                               lib.zeros(6, 3, 8))),
    ("kv sep shape", lambda lib: _mha_err_mod(lib, kdim=4, vdim=4)(
        lib.zeros(4, 3, 8), lib.zeros(5, 3, 4), lib.zeros(6, 3, 4))),
    ("key weight", lambda lib: _mha_err_mod(lib, kdim=4, vdim=4)(
        lib.zeros(4, 3, 8), lib.zeros(5, 3, 5), lib.zeros(5, 3, 4))),
    ("mask 2d", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                              attn_mask=lib.zeros(3, 4))),
    ("mask 3d", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                              attn_mask=lib.zeros(3, 4, 4))),
    ("mask 4d", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                              attn_mask=lib.zeros(1, 6, 4, 4))),
    ("mask unbatched 3d", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 8),) * 3,
                                                        attn_mask=lib.zeros(3, 4, 4))),
    ("kpm rank", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                               key_padding_mask=lib.zeros(3, dtype=lib.bool))),
    ("kpm unbatched rank", lambda lib: _mha_err_mod(lib)(
        *(lib.zeros(4, 8),) * 3, key_padding_mask=lib.zeros(1, 4, dtype=lib.bool))),
    ("kpm batch", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                                key_padding_mask=lib.zeros(2, 4,
                                                                           dtype=lib.bool))),
    ("kpm len", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                              key_padding_mask=lib.zeros(3, 5, dtype=lib.bool))),
    ("int mask", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                               attn_mask=lib.zeros(4, 4, dtype=lib.long))),
    ("int kpm", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                              key_padding_mask=lib.zeros(3, 4,
                                                                         dtype=lib.long))),
    ("causal no mask", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8),) * 3,
                                                     is_causal=True)),
    ("dtype", lambda lib: _mha_err_mod(lib)(*(lib.zeros(4, 3, 8, dtype=lib.float64),) * 3)),
    ("F bias_k only", lambda lib: lib.nn.functional.multi_head_attention_forward(
        *(lib.zeros(4, 3, 8),) * 3, 8, 2, lib.zeros(24, 8), None, lib.zeros(1, 1, 8), None,
        False, 0.0, lib.zeros(8, 8), None)),
    ("F in_proj None", lambda lib: lib.nn.functional.multi_head_attention_forward(
        *(lib.zeros(4, 3, 8),) * 3, 8, 2, None, None, None, None, False, 0.0, lib.zeros(8, 8),
        None)),
    ("F static_k", lambda lib: lib.nn.functional.multi_head_attention_forward(
        *(lib.zeros(4, 3, 8),) * 3, 8, 2, lib.zeros(24, 8), None, None, None, False, 0.0,
        lib.zeros(8, 8), None, static_k=lib.zeros(5, 4, 4))),
    ("F bias static", lambda lib: lib.nn.functional.multi_head_attention_forward(
        *(lib.zeros(4, 3, 8),) * 3, 8, 2, lib.zeros(24, 8), None, lib.zeros(1, 1, 8),
        lib.zeros(1, 1, 8), False, 0.0, lib.zeros(8, 8), None, static_k=lib.zeros(6, 4, 4))),
    ("F separate None", lambda lib: lib.nn.functional.multi_head_attention_forward(
        *(lib.zeros(4, 3, 8),) * 3, 8, 2, None, None, None, None, False, 0.0, lib.zeros(8, 8),
        None, use_separate_proj_weight=True, q_proj_weight=lib.zeros(8, 8))),
]


@pytest.mark.parametrize("name,fn", MHA_ERRORS, ids=[e[0] for e in MHA_ERRORS])
def test_mha_errors(name, fn):
    same_message(fn)


def test_mha_functional_is_in_nn_functional():
    assert callable(ember.nn.functional.multi_head_attention_forward)
    assert callable(ember.nn.functional.scaled_dot_product_attention)
