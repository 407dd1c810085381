"""nn.TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder
and Transformer against PyTorch: outputs and gradients of inputs and every parameter (state
dicts copied from PyTorch) over layer arguments, masks, causal hints, batch-first and unbatched
input, train mode (dropout 0) and eval mode (where PyTorch takes its fast paths and nested
tensors), plus reprs, parameter names, initialisation, warnings and errors."""

import warnings

import numpy as np
import pytest

import ember
from tests.nn.test_attention import _bool, compare_modules
from tests.oracle import Const, assert_close, needs_torch, rand, same_message, to_numpy, torch

pytestmark = needs_torch

D, H, FF = 8, 2, 16
S_, T_, N_ = 5, 4, 3


def _act(lib, name):
    if name in ("relu", "gelu"):
        return name
    if name == "F.gelu":
        return lib.nn.functional.gelu
    if name == "F.relu":
        return lib.nn.functional.relu
    if name == "GELU()":
        return lib.nn.GELU()
    return lib.tanh  # any callable


def _pair(cls, *args, activation="relu", **kw):
    torch.manual_seed(0)
    t = getattr(torch.nn, cls)(*args, activation=_act(torch, activation), **kw)
    e = getattr(ember.nn, cls)(*args, activation=_act(ember, activation), **kw)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    return t, e


LAYER_CONFIGS = {
    "default": {},
    "batch first": {"batch_first": True},
    "norm first": {"norm_first": True},
    "no bias": {"bias": False},
    "gelu": {"activation": "gelu", "batch_first": True},
    "F.gelu norm first": {"activation": "F.gelu", "norm_first": True, "batch_first": True},
    "GELU module": {"activation": "GELU()"},
    "callable": {"activation": "tanh", "batch_first": True},
    "eps": {"layer_norm_eps": 1e-3, "batch_first": True, "bias": False},
}


def _seq(n, batch_first, batched=True):
    if not batched:
        return rand(n, D)
    return rand(N_, n, D) if batch_first else rand(n, N_, D)


ENC_MASKS = ["none", "mask bool", "mask float", "mask 3d", "kpm bool", "kpm float", "both",
             "causal"]


def _enc_masks(case, n=S_, batched=True):
    """(specs, kwarg names, extra kwargs) for an encoder-style mask case (True = masked)."""
    specs, names, extra = [], [], {}
    if case in ("mask bool", "both"):
        m = _bool(n, n, p=0.3)
        m[:, 0] = False
        specs.append(Const(m))
        names.append("src_mask")
    elif case == "mask float":
        specs.append(Const(rand(n, n)))
        names.append("src_mask")
    elif case == "mask 3d":
        specs.append(Const(rand(N_ * H if batched else H, n, n)))
        names.append("src_mask")
    elif case == "causal":
        specs.append(Const(np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)))
        names.append("src_mask")
        extra["is_causal"] = True
    if case in ("kpm bool", "both"):
        m = _bool(N_, n, p=0.3)
        m[:, 0] = False
        specs.append(Const(m if batched else m[0]))
        names.append("src_key_padding_mask")
    elif case == "kpm float":
        m = np.where(_bool(N_, n, p=0.3), -np.inf, 0.0).astype(np.float32)
        m[:, 0] = 0
        specs.append(Const(m if batched else m[0]))
        names.append("src_key_padding_mask")
    if case == "both" and specs[0].a.dtype != specs[1].a.dtype:
        raise AssertionError("mask types must agree")
    return specs, names, extra


def _run_enc(names, extra):
    def run(mod, lib, x, *masks):
        return mod(x, **dict(zip(names, masks)), **extra)
    return run


def _set_mode(mods, mode):
    for m in mods:
        m.train(mode == "train")


# eval mode with gradients takes the regular path, like train mode: a few cases suffice
ENC_CASES = [(c, m) for m in ("train", "eval") for c in ENC_MASKS] + \
    [(c, "eval grad") for c in ("none", "kpm bool", "both")]


@pytest.mark.parametrize("config", list(LAYER_CONFIGS))
@pytest.mark.parametrize("case,mode", ENC_CASES)
def test_encoder_layer(config, case, mode):
    cfg = dict(LAYER_CONFIGS[config])
    dropout = 0.0 if mode == "train" else 0.3
    t, e = _pair("TransformerEncoderLayer", D, H, FF, dropout, **cfg)
    _set_mode((t, e), mode)
    specs, names, extra = _enc_masks(case)
    compare_modules(t, e, _run_enc(names, extra), _seq(S_, cfg.get("batch_first", False)),
                    *specs, grad=mode != "eval")


@pytest.mark.parametrize("case", ["none", "mask bool", "mask 3d", "kpm bool", "causal"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_encoder_layer_unbatched(case, mode):
    t, e = _pair("TransformerEncoderLayer", D, H, FF, 0.0, batch_first=True)
    _set_mode((t, e), mode)
    specs, names, extra = _enc_masks(case, batched=False)
    compare_modules(t, e, _run_enc(names, extra), _seq(S_, True, False), *specs,
                    grad=mode == "train")


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("nhead", [2, 1])
def test_encoder_layer_fully_padded_sequence(batch_first, nhead):
    # PyTorch's native layer (eval, batch-first, even heads, no grad) gives NaN for a fully
    # padded sequence; its regular path gives finite values
    t, e = _pair("TransformerEncoderLayer", D, nhead, FF, 0.1, batch_first=batch_first)
    _set_mode((t, e), "eval")
    kpm = _bool(N_, S_, p=0.3)
    kpm[1] = True
    for grad in (False, True):
        compare_modules(t, e, _run_enc(["src_key_padding_mask"], {}), _seq(S_, batch_first),
                        Const(kpm), grad=grad)


def test_encoder_layer_is_causal_needs_mask():
    t, e = _pair("TransformerEncoderLayer", D, H, FF, 0.0)
    x = rand(S_, N_, D)
    same_message(lambda lib, x: (t if lib is torch else e)(x, is_causal=True), x)
    # PyTorch's fast path ignores the hint (and needs no mask)
    t.eval()
    e.eval()
    tb, eb = _pair("TransformerEncoderLayer", D, H, FF, 0.0, batch_first=True)
    _set_mode((tb, eb), "eval")
    compare_modules(tb, eb, lambda m, lib, x: m(x, is_causal=True), _seq(S_, True), grad=False)


def test_encoder_layer_hooks_disable_fast_path():
    t, e = _pair("TransformerEncoderLayer", D, H, FF, 0.1, batch_first=True)
    _set_mode((t, e), "eval")
    for m in (t, e):
        m.linear1.register_forward_hook(lambda *a: None)
    kpm = _bool(N_, S_, p=0.3)
    kpm[0] = True  # regular path: zeros instead of NaN
    compare_modules(t, e, _run_enc(["src_key_padding_mask"], {}), _seq(S_, True), Const(kpm),
                    grad=False)


DEC_MASKS = ["none", "tgt causal", "tgt causal hint", "memory bool", "memory float",
             "tgt kpm", "memory kpm", "all"]


def _dec_masks(case, batched=True):
    specs, names, extra = [], [], {}
    if case in ("tgt causal", "tgt causal hint", "all"):
        specs.append(Const(np.triu(np.ones((T_, T_), dtype=bool), 1)))
        names.append("tgt_mask")
        if case == "tgt causal hint":
            extra["tgt_is_causal"] = True
    if case in ("memory bool", "all"):
        m = _bool(T_, S_, p=0.3)
        m[:, 0] = False
        specs.append(Const(m))
        names.append("memory_mask")
    elif case == "memory float":
        specs.append(Const(rand(T_, S_)))
        names.append("memory_mask")
        extra["memory_is_causal"] = False
    if case in ("tgt kpm", "all"):
        m = _bool(N_, T_, p=0.3)
        m[:, 0] = False
        specs.append(Const(m if batched else m[0]))
        names.append("tgt_key_padding_mask")
    if case in ("memory kpm", "all"):
        m = _bool(N_, S_, p=0.3)
        m[:, 0] = False
        specs.append(Const(m if batched else m[0]))
        names.append("memory_key_padding_mask")
    return specs, names, extra


def _run_dec(names, extra):
    def run(mod, lib, tgt, mem, *masks):
        return mod(tgt, mem, **dict(zip(names, masks)), **extra)
    return run


@pytest.mark.parametrize("config", list(LAYER_CONFIGS))
@pytest.mark.parametrize("case", DEC_MASKS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_decoder_layer(config, case, mode):
    cfg = dict(LAYER_CONFIGS[config])
    t, e = _pair("TransformerDecoderLayer", D, H, FF, 0.0 if mode == "train" else 0.3, **cfg)
    _set_mode((t, e), mode)
    bf = cfg.get("batch_first", False)
    specs, names, extra = _dec_masks(case)
    compare_modules(t, e, _run_dec(names, extra), _seq(T_, bf), _seq(S_, bf), *specs,
                    grad=mode == "train")


@pytest.mark.parametrize("case", ["none", "all"])
def test_decoder_layer_unbatched(case):
    t, e = _pair("TransformerDecoderLayer", D, H, FF, 0.0, norm_first=True)
    specs, names, extra = _dec_masks(case, batched=False)
    compare_modules(t, e, _run_dec(names, extra), _seq(T_, False, False),
                    _seq(S_, False, False), *specs)


def test_decoder_layer_eval_fully_masked_self_attention():
    # batch-first self-attention with a bool mask in eval mode is MultiheadAttention's fast
    # path: a fully masked target row is NaN there
    t, e = _pair("TransformerDecoderLayer", D, H, FF, 0.1, batch_first=True)
    _set_mode((t, e), "eval")
    m = np.triu(np.ones((T_, T_), dtype=bool), 1)
    m[2] = True
    compare_modules(t, e, _run_dec(["tgt_mask"], {}), _seq(T_, True), _seq(S_, True), Const(m),
                    grad=False)


# ------------------------------------------------------------------------------ stacks


def _stack_pair(kind, num_layers, norm=True, batch_first=False, **kw):
    layer_kw = {"batch_first": batch_first}
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # enable_nested_tensor warnings (tested below)
        tl = getattr(torch.nn, f"Transformer{kind}Layer")(D, H, FF, 0.0, **layer_kw)
        el = getattr(ember.nn, f"Transformer{kind}Layer")(D, H, FF, 0.0, **layer_kw)
        t = getattr(torch.nn, f"Transformer{kind}")(
            tl, num_layers, torch.nn.LayerNorm(D) if norm else None, **kw)
        e = getattr(ember.nn, f"Transformer{kind}")(
            el, num_layers, ember.nn.LayerNorm(D) if norm else None, **kw)
    # distinct weights per layer (the clones start identical)
    for p in t.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    return t, e


@pytest.mark.parametrize("case", ENC_MASKS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm", [True, False])
def test_encoder_stack(case, batch_first, norm):
    t, e = _stack_pair("Encoder", 2, norm, batch_first)
    specs, names, extra = _enc_masks(case)
    names = ["mask" if n == "src_mask" else n for n in names]
    compare_modules(t, e, _run_enc(names, extra), _seq(S_, batch_first), *specs)


@pytest.mark.parametrize("auto", [True, False])
def test_encoder_stack_detects_causal_mask(auto):
    # is_causal=None: a mask equal to the causal one becomes the is_causal hint
    t, e = _stack_pair("Encoder", 2, True, False)
    m = np.triu(np.full((S_, S_), -np.inf, dtype=np.float32), 1)
    extra = {} if auto else {"is_causal": False}
    compare_modules(t, e, _run_enc(["mask"], extra), _seq(S_, False), Const(m))


NESTED = {
    "left aligned": ([3, 5, 0], True),
    "all full": ([5, 5, 5], True),
    "ragged": (None, True),
    "ragged unchecked": (None, False),
}


@pytest.mark.parametrize("case", list(NESTED))
@pytest.mark.parametrize("float_kpm", [False, True])
def test_encoder_stack_nested_tensor_path(case, float_kpm):
    lengths, mask_check = NESTED[case]
    t, e = _stack_pair("Encoder", 2, True, True, mask_check=mask_check)
    assert t.use_nested_tensor and e.use_nested_tensor
    _set_mode((t, e), "eval")
    if lengths is None:
        kpm = np.array([[False, True, False, True, True], [False] * 5,
                        [True, False, False, False, True]])
    else:
        kpm = np.arange(S_)[None, :] >= np.array(lengths)[:, None]
    if float_kpm:
        kpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    compare_modules(t, e, _run_enc(["src_key_padding_mask"], {}), _seq(S_, True), Const(kpm),
                    grad=False)
    # with gradients PyTorch takes the regular path (no zeroed positions)
    compare_modules(t, e, _run_enc(["src_key_padding_mask"], {}), _seq(S_, True), Const(kpm))


def test_encoder_nested_warning_and_flags():
    cases = [({"batch_first": False}, {}), ({"batch_first": True, "norm_first": True}, {}),
             ({"batch_first": True, "activation": "tanh"}, {}),
             ({"batch_first": True, "bias": False}, {}), ({"batch_first": True}, {}),
             ({"batch_first": True}, {"enable_nested_tensor": False})]
    for layer_kw, kw in cases:
        msgs = []
        for lib in (torch, ember):
            act = layer_kw.get("activation", "relu")
            lkw = {**layer_kw, "activation": _act(lib, act)}
            nhead = 1 if act == "tanh" else H
            layer = lib.nn.TransformerEncoderLayer(D, nhead, FF, **lkw)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                enc = lib.nn.TransformerEncoder(layer, 2, **kw)
            msgs.append(([str(x.message) for x in w], enc.use_nested_tensor,
                          enc.enable_nested_tensor))
        assert msgs[0] == msgs[1], (layer_kw, kw)


@pytest.mark.parametrize("case", DEC_MASKS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_stack(case, batch_first):
    t, e = _stack_pair("Decoder", 2, True, batch_first)
    specs, names, extra = _dec_masks(case)
    compare_modules(t, e, _run_dec(names, extra), _seq(T_, batch_first), _seq(S_, batch_first),
                    *specs)


# ------------------------------------------------------------------------------ Transformer


def _model_pair(**kw):
    torch.manual_seed(0)
    args = dict(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=2,
                dim_feedforward=FF)
    args.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.Transformer(**{**args, "activation": _act(torch, args.get("activation",
                                                                              "relu"))})
        e = ember.nn.Transformer(**{**args, "activation": _act(ember, args.get("activation",
                                                                              "relu"))})
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    return t, e


def _run_model(names, extra):
    def run(mod, lib, src, tgt, *masks):
        return mod(src, tgt, **dict(zip(names, masks)), **extra)
    return run


MODEL_CONFIGS = {
    "default": {"dropout": 0.0},
    "batch first norm first": {"dropout": 0.0, "batch_first": True, "norm_first": True},
    "gelu no bias": {"dropout": 0.0, "activation": "gelu", "bias": False},
    "eps callable": {"dropout": 0.0, "layer_norm_eps": 1e-4, "activation": "tanh"},
}


@pytest.mark.parametrize("config", list(MODEL_CONFIGS))
@pytest.mark.parametrize("masks", ["none", "all"])
def test_transformer(config, masks):
    cfg = MODEL_CONFIGS[config]
    t, e = _model_pair(**cfg)
    bf = cfg.get("batch_first", False)
    specs, names, extra = [], [], {}
    if masks == "all":
        src_mask = _bool(S_, S_, p=0.2)
        src_mask[:, 0] = False
        kpm_s = _bool(N_, S_, p=0.2)
        kpm_s[:, 0] = False
        kpm_t = _bool(N_, T_, p=0.2)
        kpm_t[:, 0] = False
        specs = [Const(src_mask), Const(np.triu(np.ones((T_, T_), dtype=bool), 1)),
                 Const(_bool(T_, S_, p=0.0)), Const(kpm_s), Const(kpm_t), Const(kpm_s)]
        names = ["src_mask", "tgt_mask", "memory_mask", "src_key_padding_mask",
                 "tgt_key_padding_mask", "memory_key_padding_mask"]
        extra = {"tgt_is_causal": True}
    compare_modules(t, e, _run_model(names, extra), _seq(S_, bf), _seq(T_, bf), *specs,
                    grad_atol=2e-4)


@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_eval(batch_first):
    t, e = _model_pair(dropout=0.2, batch_first=batch_first)
    _set_mode((t, e), "eval")
    kpm = np.arange(S_)[None, :] >= np.array([5, 2, 4])[:, None]
    mask = ember.nn.Transformer.generate_square_subsequent_mask(T_)
    compare_modules(t, e, _run_model(["src_key_padding_mask", "memory_key_padding_mask",
                                      "tgt_mask"], {}),
                    _seq(S_, batch_first), _seq(T_, batch_first), Const(kpm), Const(kpm),
                    Const(to_numpy(mask)), grad=False)


def test_transformer_unbatched():
    t, e = _model_pair(dropout=0.0)
    compare_modules(t, e, _run_model([], {}), _seq(S_, False, False), _seq(T_, False, False))


def test_transformer_custom_encoder_decoder():
    torch.manual_seed(0)
    mods = []
    for lib in (torch, ember):
        enc = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, H, FF, 0.0), 1,
                                        enable_nested_tensor=False)
        dec = lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(D, H, FF, 0.0), 1)
        mods.append(lib.nn.Transformer(D, H, custom_encoder=enc, custom_decoder=dec))
    assert repr(mods[1]) == repr(mods[0])
    compare_modules(mods[0], mods[1], _run_model([], {}), _seq(S_, False), _seq(T_, False))


def test_transformer_init():
    e = ember.nn.Transformer(16, 4, 1, 1, 32)
    t = torch.nn.Transformer(16, 4, 1, 1, 32)
    assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    for n, p in e.named_parameters():
        a = to_numpy(p)
        if p.dim() > 1:  # xavier uniform everywhere, including the FF and output weights
            fan_out, fan_in = a.shape[:2]
            bound = (6 / (fan_in + fan_out)) ** 0.5
            assert np.abs(a).max() <= bound, n
            assert np.abs(a).max() > 0.7 * bound, n
    assert not to_numpy(e.encoder.layers[0].self_attn.in_proj_bias).any()
    assert (e.d_model, e.nhead, e.batch_first) == (16, 4, False)
    layer = ember.nn.TransformerEncoderLayer(8, 2, dtype=ember.float64)
    assert all(p.dtype is ember.float64 for p in layer.parameters())
    assert layer.activation_relu_or_gelu == 1
    assert ember.nn.TransformerEncoderLayer(8, 2, activation="gelu").activation_relu_or_gelu \
        == 2
    assert ember.nn.TransformerEncoderLayer(8, 2, activation=ember.nn.ReLU()) \
        .activation_relu_or_gelu == 1
    assert ember.nn.TransformerEncoderLayer(8, 2, activation=ember.tanh) \
        .activation_relu_or_gelu == 0


@pytest.mark.parametrize("args", [(4,), (1,), (0,), (3, None, "float64")])
def test_generate_square_subsequent_mask(args):
    sz = args[0]
    dt = args[2] if len(args) > 2 else None
    e = ember.nn.Transformer.generate_square_subsequent_mask(
        sz, device=None, dtype=getattr(ember, dt) if dt else None)
    t = torch.nn.Transformer.generate_square_subsequent_mask(
        sz, device=None, dtype=getattr(torch, dt) if dt else None)
    assert_close(e, t)
    assert str(e) == str(t).replace("torch.", "ember.") or str(e) == str(t)


def test_encoder_decoder_layer_reprs_with_module_activation():
    for cls in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        t = getattr(torch.nn, cls)(D, H, FF, activation=torch.nn.GELU())
        e = getattr(ember.nn, cls)(D, H, FF, activation=ember.nn.GELU())
        assert repr(e) == repr(t)
        assert "(activation): GELU(approximate='none')" in repr(e)


TRANSFORMER_ERRORS = [
    ("batch", lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 3, 8),
                                                             lib.zeros(4, 2, 8))),
    ("batch first", lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16, batch_first=True)(
        lib.zeros(3, 5, 8), lib.zeros(2, 4, 8))),
    ("d_model", lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 3, 6),
                                                               lib.zeros(4, 3, 6))),
    ("activation", lambda lib: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh")),
    ("decoder activation", lambda lib: lib.nn.TransformerDecoderLayer(8, 2, activation="elu")),
    ("heads", lambda lib: lib.nn.TransformerEncoderLayer(8, 3)),
    ("mask type", lambda lib: lib.nn.TransformerEncoderLayer(8, 2)(
        lib.zeros(5, 3, 8), src_mask=lib.zeros(5, 5, dtype=lib.int32))),
    ("encoder mask type", lambda lib: lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(8, 2), 1, enable_nested_tensor=False)(
        lib.zeros(5, 3, 8), src_key_padding_mask=lib.zeros(3, 5, dtype=lib.int32))),
    ("encoder d_model", lambda lib: lib.nn.TransformerEncoderLayer(8, 2)(lib.zeros(5, 3, 4))),
]


@pytest.mark.parametrize("name,fn", TRANSFORMER_ERRORS, ids=[e[0] for e in TRANSFORMER_ERRORS])
def test_transformer_errors(name, fn):
    same_message(fn)


def test_mask_type_mismatch_warns_once_in_encoder_layer():
    t, e = _pair("TransformerEncoderLayer", D, H, FF, 0.0)
    kpm = _bool(N_, S_, p=0.2)
    kpm[:, 0] = False
    with pytest.warns(UserWarning, match="Support for mismatched src_key_padding_mask and "
                                         "src_mask is deprecated"):
        compare_modules(t, e, _run_enc(["src_mask", "src_key_padding_mask"], {}),
                        _seq(S_, False), Const(rand(S_, S_)), Const(kpm))
