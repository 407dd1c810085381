"""nn.Module and nn.Parameter compared with the same models built in PyTorch."""

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, rand, same_message, to_numpy, torch

pytestmark = needs_torch


def make_net(lib):
    """The same nested model in torch or ember: parameters, (non-)persistent buffers, nested
    containers, a shared submodule and a None child."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.register_buffer("count", lib.zeros(1))

        def forward(self, x):
            return self.fc(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lib.ones(1))
            self.enc = nn.Sequential(nn.Linear(4, 4), nn.Identity(), Block())
            self.blocks = nn.ModuleList([Block(), Block(), nn.Linear(4, 4, bias=False)])
            self.head = nn.Linear(4, 2)
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("tmp", lib.ones(2), persistent=False)
            self.flat = nn.Flatten()
            self.nothing = None
            self.register_module("absent", None)
            self.shared = self.enc[0]

        def forward(self, x):
            h = self.enc(x)
            for b in self.blocks:
                h = b(h)
            return self.head(self.shared(h)) * self.scale

    return Net()


def torch_to_numpy_state(t_mod):
    return {k: v.detach().numpy() for k, v in t_mod.state_dict().items()}


def names(it):
    return [n for n, _ in it]


@pytest.fixture
def nets():
    t, e = make_net(torch), make_net(ember)
    e.load_state_dict(torch_to_numpy_state(t))
    return t, e


# ------------------------------------------------------------------------------ Parameter


def test_parameter_basics():
    p = ember.nn.Parameter(ember.ones(2, 3))
    tp = torch.nn.Parameter(torch.ones(2, 3))
    assert isinstance(p, ember.Tensor) and isinstance(p, ember.nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert repr(p) == repr(tp) and str(p) == str(tp)
    assert repr(ember.nn.Parameter(ember.ones(2, dtype=ember.float64), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.ones(2, dtype=torch.float64), requires_grad=False))
    assert repr(ember.nn.Parameter()) == repr(torch.nn.Parameter())
    assert type(p * 2) is ember.Tensor and type(p.detach()) is ember.Tensor
    assert type(p.data) is ember.Tensor
    assert not isinstance(ember.ones(1), ember.nn.Parameter)


def test_parameter_shares_storage_and_version():
    t = ember.zeros(3)
    p = ember.nn.Parameter(t)
    t.add_(1)
    np.testing.assert_array_equal(to_numpy(p), [1, 1, 1])
    assert p._version == t._version == 1


def test_parameter_of_parameter_and_nonleaf():
    x = ember.ones(2, requires_grad=True)
    p = ember.nn.Parameter(x * 2)
    assert p.is_leaf and p.requires_grad
    q = ember.nn.Parameter(p, requires_grad=False)
    assert type(q) is ember.nn.Parameter and not q.requires_grad


def test_parameter_integer_requires_grad_error():
    same_message(lambda lib: lib.nn.Parameter(lib.tensor([1, 2])))
    p = ember.nn.Parameter(ember.tensor([1, 2]), requires_grad=False)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1, 2]), requires_grad=False))


def test_parameter_deepcopy_and_pickle():
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    p.grad = ember.ones(2)
    p.note = "kept by pickle"
    q = copy.deepcopy(p)
    assert type(q) is ember.nn.Parameter and q.requires_grad
    assert q.grad is None and not hasattr(q, "note")  # PyTorch's deepcopy drops both
    np.testing.assert_array_equal(to_numpy(q), [1, 2])
    assert q.data_ptr() != p.data_ptr()
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is ember.nn.Parameter and r.requires_grad and r.note == "kept by pickle"
    assert r.grad is None
    s = pickle.loads(pickle.dumps(ember.nn.Parameter(ember.ones(2), requires_grad=False)))
    assert type(s) is ember.nn.Parameter and not s.requires_grad


def test_buffer_marker():
    b = ember.nn.Buffer(ember.ones(2), persistent=False)
    assert type(b) is ember.Tensor and isinstance(b, ember.nn.Buffer) and not b.persistent
    assert not isinstance(ember.ones(1), ember.nn.Buffer)
    m = ember.nn.Module()
    m.buf = b
    m.pbuf = ember.nn.Buffer(ember.zeros(1))
    assert list(m.state_dict()) == ["pbuf"]
    assert names(m.named_buffers()) == ["buf", "pbuf"]


# ------------------------------------------------------------------------------ structure


def test_repr_matches_torch(nets):
    t, e = nets
    assert repr(e) == repr(t)
    assert repr(ember.nn.Module()) == "Module()"


def test_repr_multiline_extra_repr():
    def build(lib):
        class X(lib.nn.Module):
            def extra_repr(self):
                return "a=1\nb=2"
        return lib.nn.Sequential(X(), lib.nn.Linear(1, 1), lib.nn.ModuleList())

    assert repr(build(ember)) == repr(build(torch))


def test_named_members_match_torch(nets):
    t, e = nets
    for fn in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert names(getattr(e, fn)()) == names(getattr(t, fn)()), fn
    for kw in ({"prefix": "model"}, {"recurse": False}, {"remove_duplicate": False}):
        assert names(e.named_parameters(**kw)) == names(t.named_parameters(**kw)), kw
        assert names(e.named_buffers(**kw)) == names(t.named_buffers(**kw)), kw
    assert names(e.named_modules(prefix="m", remove_duplicate=False)) == \
        names(t.named_modules(prefix="m", remove_duplicate=False))
    shapes = [tuple(p.shape) for p in e.parameters()]
    assert shapes == [tuple(p.shape) for p in t.parameters()]
    assert len(list(e.modules())) == len(list(t.modules()))
    assert len(list(e.children())) == len(list(t.children()))
    assert len(list(e.buffers(recurse=False))) == 2


def test_shared_parameter_counted_once():
    lin = ember.nn.Linear(2, 2)
    seq = ember.nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_dir_lists_members(nets):
    t, e = nets
    own = {"scale", "enc", "blocks", "head", "running", "tmp", "flat", "nothing", "shared",
           "absent", "training", "forward", "state_dict", "load_state_dict"}
    assert own <= set(dir(e))
    assert set(dir(e)) - set(dir(t)) == set()
    assert not any(k[0].isdigit() for k in dir(e.enc))


def test_getattr_error_and_delattr():
    same_message(lambda lib: lib.nn.Linear(1, 1).foo)
    m = ember.nn.Linear(2, 2)
    m.register_buffer("b", ember.zeros(1), persistent=False)
    m.sub = ember.nn.Identity()
    del m.weight, m.b, m.sub
    assert names(m.named_parameters()) == ["bias"]
    assert "b" not in m._non_persistent_buffers_set and list(m.children()) == []
    m.plain = 3
    del m.plain
    with pytest.raises(AttributeError):
        del m.plain


# ------------------------------------------------------------------------------ registration errors


def _before_init(lib, what):
    class M(lib.nn.Module):
        def __init__(self):
            if what == "module":
                self.x = lib.nn.Identity()
            elif what == "param":
                self.x = lib.nn.Parameter(lib.ones(1))
            elif what == "buffer":
                self.register_buffer("x", lib.ones(1))
            else:
                self.register_parameter("x", None)
    return M()


@pytest.mark.parametrize("what", ["module", "param", "buffer", "register_param"])
def test_assign_before_init(what):
    same_message(lambda lib: _before_init(lib, what))


@pytest.mark.parametrize("action", [
    lambda lib, m: setattr(m, "weight", lib.ones(3, 2)),
    lambda lib, m: setattr(m, "weight", 3),
    lambda lib, m: setattr(m, "rb", 3),
    lambda lib, m: setattr(m, "child", [1]),
    lambda lib, m: m.register_buffer("weight", lib.ones(1)),
    lambda lib, m: m.register_buffer(1, lib.ones(1)),
    lambda lib, m: m.register_buffer("a.b", lib.ones(1)),
    lambda lib, m: m.register_buffer("", lib.ones(1)),
    lambda lib, m: m.register_buffer("x", [1]),
    lambda lib, m: m.register_parameter("x", lib.ones(1)),
    lambda lib, m: m.register_parameter("x", lib.nn.Parameter(lib.ones(1)) * 2),
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.register_parameter("", None),
    lambda lib, m: m.register_parameter(2, None),
    lambda lib, m: m.register_parameter("rb", None),
    lambda lib, m: m.add_module("x", 3),
    lambda lib, m: m.add_module("x.y", lib.nn.Identity()),
    lambda lib, m: m.add_module("", lib.nn.Identity()),
    lambda lib, m: m.add_module(1, lib.nn.Identity()),
    lambda lib, m: m.add_module("weight", lib.nn.Identity()),
    lambda lib, m: m.train(1),
    lambda lib, m: m.to(lib.int64),
    lambda lib, m: m.get_submodule("child.z"),
    lambda lib, m: m.get_submodule("weight"),
    lambda lib, m: m.get_parameter("rb"),
    lambda lib, m: m.get_parameter("nope"),
    lambda lib, m: m.get_buffer("weight"),
    lambda lib, m: m.get_buffer("child.q"),
    lambda lib, m: m.set_submodule("", lib.nn.Identity()),
    lambda lib, m: m.set_submodule("child", 3),
    lambda lib, m: m.set_submodule("nope", lib.nn.Identity(), strict=True),
    lambda lib, m: m.set_submodule("weight", lib.nn.Identity()),
    lambda lib, m: m.load_state_dict(3),
    lambda lib, m: lib.nn.Module()(1),
    lambda lib, m: lib.nn.Module(3),
    lambda lib, m: lib.nn.Module(a=3),
])
def test_error_messages(action):
    def run(lib):
        m = lib.nn.Linear(2, 3)
        m.register_buffer("rb", lib.ones(1))
        m.child = lib.nn.Identity()
        action(lib, m)

    same_message(run)


def test_reassignment_moves_between_kinds():
    m = ember.nn.Module()
    m.x = ember.nn.Parameter(ember.ones(1))
    m.x = None  # None keeps the slot as a parameter
    assert "x" in m._parameters and m.x is None
    m.register_buffer("b", ember.ones(1))
    m.b = ember.zeros(2)  # a tensor assigned to a buffer name stays a buffer
    assert tuple(m._buffers["b"].shape) == (2,)
    m.b = ember.nn.Identity()  # a module replaces the buffer
    assert "b" not in m._buffers and "b" in m._modules
    m.b = None  # None keeps the slot as a module
    assert m._modules["b"] is None
    m.c = ember.nn.Identity()
    m.c = ember.nn.Parameter(ember.ones(1))  # a parameter replaces the module
    assert "c" not in m._modules and "c" in m._parameters
    m.register_parameter("p", None)
    m.p = ember.nn.Parameter(ember.ones(3))
    assert tuple(m.p.shape) == (3,)


def test_set_submodule_and_get():
    m = make_net(ember)
    m.set_submodule("enc.1", ember.nn.Linear(4, 4))
    assert isinstance(m.enc[1], ember.nn.Linear)
    m.set_submodule("enc.extra", ember.nn.Identity())
    assert isinstance(m.get_submodule("enc.extra"), ember.nn.Identity)
    assert m.get_parameter("enc.2.fc.weight") is m.enc[2].fc.weight
    assert m.get_buffer("blocks.0.count") is m.blocks[0].count
    assert m.get_submodule("") is m


# ------------------------------------------------------------------------------ state_dict


def test_state_dict_keys_order_and_values(nets):
    t, e = nets
    esd, tsd = e.state_dict(), t.state_dict()
    assert isinstance(esd, OrderedDict)
    assert list(esd) == list(tsd)
    for k in tsd:
        np.testing.assert_array_equal(to_numpy(esd[k]), tsd[k].numpy(), err_msg=k)
        assert type(esd[k]) is ember.Tensor and not esd[k].requires_grad
    assert dict(esd._metadata) == dict(tsd._metadata)
    assert list(e.state_dict(prefix="m.")) == list(t.state_dict(prefix="m."))
    kv = e.state_dict(keep_vars=True)
    assert kv["scale"] is e.scale and kv["scale"].requires_grad
    # detached values share storage with the parameters, as in PyTorch
    assert esd["head.weight"].data_ptr() == e.head.weight.data_ptr()


def test_state_dict_positional_args_warn():
    m = ember.nn.Linear(1, 1)
    dest = OrderedDict()
    with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
        out = m.state_dict(dest, "p.")
    assert out is dest and list(dest) == ["p.weight", "p.bias"]


def test_load_state_dict_from_torch_numpy(nets):
    t, e = nets
    x = rand(5, 4)
    np.testing.assert_allclose(to_numpy(e(ember.tensor(x))), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_load_state_dict_returns_incompatible_keys():
    e = make_net(ember)
    r = e.load_state_dict(e.state_dict())
    assert repr(r) == "<All keys matched successfully>" and r.missing_keys == []
    sd = e.state_dict()
    del sd["head.bias"]
    sd["extra.key"] = ember.ones(1)
    r = e.load_state_dict(sd, strict=False)
    t = make_net(torch)
    tsd = t.state_dict()
    del tsd["head.bias"]
    tsd["extra.key"] = torch.ones(1)
    tr = t.load_state_dict(tsd, strict=False)
    assert r.missing_keys == tr.missing_keys == ["head.bias"]
    assert r.unexpected_keys == tr.unexpected_keys == ["extra.key"]
    assert repr(r) == repr(tr)


def _bad_state(lib, sd):
    sd = dict(sd)
    del sd["head.bias"]
    sd["blocks.0.fc.weight"] = lib.ones(3, 4)
    sd["enc.0.bias"] = lib.ones(5)
    sd["zzz"] = lib.ones(1)
    sd["enc.9.weight"] = lib.ones(1)
    sd["scale"] = 3
    return sd


def test_load_state_dict_error_text_and_atomicity():
    t, e = make_net(torch), make_net(ember)
    e.load_state_dict(torch_to_numpy_state(t))
    before = {k: to_numpy(v).copy() for k, v in e.state_dict().items()}
    tsd = _bad_state(torch, {k: v.clone() for k, v in t.state_dict().items()})
    esd = _bad_state(ember, {k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(tsd)
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(esd)
    assert str(ee.value) == str(te.value)
    assert str(ee.value).startswith('Error(s) in loading state_dict for Net:\n\tMissing key(s) '
                                    'in state_dict: "head.bias". ')
    after = e.state_dict()
    for k, v in before.items():
        np.testing.assert_array_equal(to_numpy(after[k]), v, err_msg=k)
    # size mismatches are errors even when strict=False
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(tsd, strict=False)
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(esd, strict=False)
    assert str(ee.value) == str(te.value)


def test_load_state_dict_casts_and_reshapes_scalars():
    m = ember.nn.Linear(3, 2)
    p = m.weight
    sd = {"weight": np.arange(6, dtype=np.float64).reshape(2, 3), "bias": np.ones(2, np.int64)}
    m.load_state_dict(sd)
    assert m.weight is p and m.weight.dtype is ember.float32
    np.testing.assert_array_equal(to_numpy(m.weight), sd["weight"])
    assert m.weight.requires_grad and m.weight.grad_fn is None
    s = ember.nn.Module()
    s.register_buffer("v", ember.zeros(()))
    s.load_state_dict({"v": ember.tensor([4.0])})  # shape (1,) into a 0-d buffer
    assert float(s.v) == 4.0


def test_load_state_dict_assign():
    m = ember.nn.Linear(3, 2)
    w = ember.ones(2, 3, dtype=ember.float64)
    m.load_state_dict({"weight": w, "bias": ember.zeros(2)}, assign=True)
    assert type(m.weight) is ember.nn.Parameter and m.weight.dtype is ember.float64
    assert m.weight.requires_grad and m.weight.data_ptr() == w.data_ptr()
    t = torch.nn.Linear(3, 2)
    t.load_state_dict({"weight": torch.ones(2, 3, dtype=torch.float64),
                       "bias": torch.zeros(2)}, assign=True)
    assert str(t.weight.dtype) == str(m.weight.dtype)


def test_load_state_dict_hooks():
    def run(lib):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2))
        log = []

        def pre(module, sd, prefix, *rest):
            log.append(("pre", type(module).__name__, prefix))
            if prefix + "old_weight" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "old_weight")

        def post(module, keys):
            log.append(("post", type(module).__name__, list(keys.missing_keys)))
            keys.unexpected_keys.clear()

        m[0].register_load_state_dict_pre_hook(pre)
        m[0].register_load_state_dict_post_hook(post)
        m.register_load_state_dict_post_hook(post)
        res = m.load_state_dict({"0.old_weight": lib.ones(2, 2), "junk": lib.ones(1)},
                                strict=False)
        return log, res.missing_keys, res.unexpected_keys, m[0].weight.sum().item()

    assert run(ember) == run(torch)


def test_load_post_hook_must_return_none():
    m = ember.nn.Linear(1, 1)
    m.register_load_state_dict_post_hook(lambda mod, keys: 1)
    with pytest.raises(AssertionError, match="are not expected to return new values"):
        m.load_state_dict(m.state_dict())


def test_state_dict_hooks():
    def run(lib):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2))
        log = []
        m[0].register_state_dict_pre_hook(lambda mod, prefix, kv: log.append(("pre", prefix)))

        def post(mod, sd, prefix, meta):
            log.append(("post", prefix, sorted(sd)))
            sd[prefix + "added"] = lib.zeros(1)

        m[0].register_state_dict_post_hook(post)
        m._register_state_dict_hook(lambda mod, sd, prefix, meta: OrderedDict(new=1))
        return log, list(m.state_dict())

    assert run(ember) == run(torch)
    m = ember.nn.Linear(1, 1)
    m.register_state_dict_post_hook(lambda *a: 1)
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()


class _WithExtra(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = ember.nn.Linear(1, 1)
        self.state = {"step": 0}

    def get_extra_state(self):
        return dict(self.state)

    def set_extra_state(self, state):
        self.state = dict(state)


def test_extra_state():
    m = _WithExtra()
    m.state["step"] = 7
    sd = m.state_dict()
    assert list(sd) == ["_extra_state", "lin.weight", "lin.bias"]
    n = _WithExtra()
    n.load_state_dict(sd)
    assert n.state == {"step": 7}
    del sd["_extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        n.load_state_dict(sd)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "_extra_state"'):
        ember.nn.Linear(1, 1).load_state_dict({"weight": ember.ones(1, 1), "bias": ember.ones(1),
                                               "_extra_state": 1})


# ------------------------------------------------------------------------------ modes, conversion


def test_train_eval_requires_grad_zero_grad(nets):
    t, e = nets
    assert e.training and all(m.training for m in e.modules())
    e.eval()
    assert not any(m.training for m in e.modules())
    assert e.train() is e and e.blocks[0].fc.training
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())
    e.requires_grad_()
    out = e(ember.tensor(rand(3, 4)))
    out.sum().backward()
    g = e.head.weight.grad
    assert g is not None
    e.zero_grad(set_to_none=False)
    assert e.head.weight.grad is g and float(np.abs(to_numpy(g)).sum()) == 0
    assert g._version > 0
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())


def test_dtype_conversion_keeps_parameter_identity():
    m = ember.nn.Linear(2, 3)
    m.register_buffer("idx", ember.zeros(2, dtype=ember.int64))
    w = m.weight
    w.grad = ember.ones(3, 2)
    assert m.double() is m
    assert m.weight is w and w.dtype is ember.float64 and w.grad.dtype is ember.float64
    assert m.idx.dtype is ember.int64
    m.to(ember.float16)
    assert w.dtype is ember.float16 and m.idx.dtype is ember.int64
    m.to(ember.ones(1, dtype=ember.float64))
    assert w.dtype is ember.float64
    m.to("cpu", ember.float32, non_blocking=True)
    assert w.dtype is ember.float32
    m.to(device="cpu", dtype=ember.bfloat16)
    assert w.dtype is ember.bfloat16
    m.float()
    assert w.dtype is ember.float32 and w.requires_grad and w.is_leaf
    m.half()
    assert w.dtype is ember.float16
    m.bfloat16()
    assert w.dtype is ember.bfloat16
    m.type(ember.float64)
    assert w.dtype is ember.float64 and m.idx.dtype is ember.float64  # type() casts all
    assert m.cpu() is m and m.share_memory() is m


def test_to_memory_format_converts_4d_and_5d_tensors():
    """Module.to(memory_format=) restrides 4-D (channels_last) and 5-D (channels_last_3d)
    parameters and buffers, leaves other ranks alone, and keeps outputs unchanged."""
    x = rand(2, 3, 6, 5)
    strides, outs, state = [], [], None
    for lib in (torch, ember):
        m = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.Flatten(),
                              lib.nn.Linear(48, 2))
        if state is None:
            state = {k: v.numpy() for k, v in m.state_dict().items()}
        else:
            m.load_state_dict({k: ember.tensor(v) for k, v in state.items()})
        w = m[0].weight
        assert m.to(memory_format=lib.channels_last) is m and m[0].weight is w
        strides.append([p.stride() for p in m.parameters()])
        outs.append(to_numpy(m(lib.tensor(x).to(memory_format=lib.channels_last))))
        m.to(lib.float64, memory_format=lib.contiguous_format)
        strides.append([p.stride() for p in m.parameters()] + [str(w.dtype)])
        c3 = lib.nn.Conv3d(1, 2, 2).to(memory_format=lib.channels_last_3d)
        strides.append(c3.weight.stride())
    assert strides[:3] == strides[3:]
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5)
    same_message(lambda lib: lib.nn.Conv3d(1, 2, 2).to(memory_format=lib.channels_last))


def test_apply_visits_children_first():
    def run(lib):
        order = []
        net = make_net(lib)
        net.apply(lambda mod: order.append(type(mod).__name__))
        return order

    assert run(ember) == run(torch)


def test_init_in_apply_changes_values():
    net = make_net(ember)

    def init(mod):
        if isinstance(mod, ember.nn.Linear):
            ember.nn.init.constant_(mod.weight, 0.5)

    net.apply(init)
    assert np.all(to_numpy(net.head.weight) == 0.5) and np.all(to_numpy(net.enc[0].weight) == 0.5)


# ------------------------------------------------------------------------------ forward hooks


def test_forward_hooks_order_replacement_and_removal():
    def run(lib):
        log = []

        class K(lib.nn.Module):
            def forward(self, x, scale=1.0):
                log.append("forward")
                return x * scale

        m = K()
        h1 = m.register_forward_pre_hook(lambda mod, args: log.append("pre1"))
        m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True)
        m.register_forward_pre_hook(lambda mod, args, kw: ((args[0] + 1,), {"scale": 3.0}),
                                    with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append("post1"))
        m.register_forward_hook(lambda mod, args, kw, out: out + kw["scale"], with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append("post0"), prepend=True)
        y1 = m(lib.ones(2)).tolist()
        h1.remove()
        y2 = m(lib.ones(2), scale=5.0).tolist()
        return log, y1, y2

    assert run(ember) == run(torch)


def test_forward_pre_hook_single_value_becomes_args():
    def run(lib):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args: 5)
        return m(1)

    assert run(ember) == run(torch) == 5


def test_forward_pre_hook_bad_return():
    def run(lib):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args, kw: 3, with_kwargs=True)
        m(lib.ones(1))

    same_message(run)


def test_forward_hook_always_call():
    def run(lib):
        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        seen = []
        b = Boom()
        b.register_forward_hook(lambda mod, args, out: seen.append(("always", out)),
                                always_call=True)
        b.register_forward_hook(lambda mod, args, out: seen.append("normal"))
        with pytest.raises(ValueError, match="boom"):
            b(lib.ones(1))
        return seen

    assert run(ember) == run(torch) == [("always", None)]


def test_global_forward_hooks():
    from ember.nn.modules import module as mm

    log = []
    h1 = mm.register_module_forward_pre_hook(lambda mod, args: log.append(("pre", type(mod))))
    h2 = mm.register_module_forward_hook(lambda mod, args, out: log.append(("post", type(mod))))
    try:
        ember.nn.Sequential(ember.nn.Identity())(ember.ones(1))
    finally:
        h1.remove()
        h2.remove()
    assert [k for k, _ in log] == ["pre", "pre", "post", "post"]
    assert log[0][1] is ember.nn.Sequential and log[1][1] is ember.nn.Identity
    log.clear()
    ember.nn.Identity()(ember.ones(1))
    assert log == []


def test_registration_hooks():
    from ember.nn.modules import module as mm

    seen = []
    hs = [mm.register_module_parameter_registration_hook(lambda m, n, v: seen.append(("p", n))),
          mm.register_module_buffer_registration_hook(lambda m, n, v: seen.append(("b", n))),
          mm.register_module_module_registration_hook(lambda m, n, v: seen.append(("m", n)))]
    try:
        m = ember.nn.Module()
        m.w = ember.nn.Parameter(ember.ones(1))
        m.register_buffer("r", ember.ones(1))
        m.c = ember.nn.Identity()
    finally:
        for h in hs:
            h.remove()
    assert seen == [("p", "w"), ("b", "r"), ("m", "c")]


# ------------------------------------------------------------------------------ backward hooks


def _two_input_module(lib):
    class TwoIn(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)

        def forward(self, x, flag, y):
            h = self.fc(x) * y
            return h, h.sum(dim=0) * 2 if hasattr(h, "sum") else None

    return TwoIn()


def _run_backward_hooks(lib, state, x_np, y_np, y_grad=True, modify=False):
    m = _two_input_module(lib)
    m.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    log = {}

    def pre(mod, grad_out):
        log["pre"] = [None if g is None else g.detach().numpy().copy() for g in grad_out]
        if modify:
            return tuple(None if g is None else g * 2 for g in grad_out)
        return None

    def post(mod, grad_in, grad_out):
        log["gin"] = [None if g is None else g.detach().numpy().copy() for g in grad_in]
        log["gout"] = [None if g is None else g.detach().numpy().copy() for g in grad_out]
        if modify:
            return tuple(None if g is None else g + 1 for g in grad_in)
        return None

    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(post)
    x = lib.tensor(x_np, requires_grad=True)
    y = lib.tensor(y_np, requires_grad=y_grad)
    out, s = m(x, "flag", y)
    (out.sum() + (s * s).sum()).backward()
    log["x.grad"] = x.grad.numpy().copy()
    log["y.grad"] = None if y.grad is None else y.grad.numpy().copy()
    log["w.grad"] = m.fc.weight.grad.numpy().copy()
    return log


@pytest.mark.parametrize("y_grad", [True, False])
@pytest.mark.parametrize("modify", [False, True])
def test_full_backward_hooks_match_torch(y_grad, modify):
    t = _two_input_module(torch)
    state = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    x_np, y_np = rand(2, 3), rand(2, 3)
    te = _run_backward_hooks(torch, state, x_np, y_np, y_grad, modify)
    ee = _run_backward_hooks(ember, state, x_np, y_np, y_grad, modify)
    assert set(te) == set(ee)
    for k in te:
        tv, ev = te[k], ee[k]
        if isinstance(tv, list):
            assert len(tv) == len(ev), k
            for a, b in zip(tv, ev):
                assert (a is None) == (b is None), k
                if a is not None:
                    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=k)
        elif tv is None:
            assert ev is None, k
        else:
            np.testing.assert_allclose(ev, tv, rtol=1e-5, atol=1e-6, err_msg=k)


def test_full_backward_hooks_get_none_for_outputs_without_grad():
    """A tuple output whose second element needs no gradient reaches the pre-hook and the hook
    as None in grad_output; an input that is a tensor not requiring grad gets a zero gradient."""
    def run(lib):
        class Two(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 2)

            def forward(self, a, b, scale=1.0):
                return self.lin(a) * scale, (b * 2).sum()

        lib.manual_seed(0)
        m = Two()
        with lib.no_grad():
            m.lin.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, -1.0]]))
        seen = []
        m.register_full_backward_pre_hook(lambda mod, go: seen.append(
            [None if g is None else to_numpy(g).tolist() for g in go]))
        m.register_full_backward_hook(lambda mod, gi, go: seen.append(
            ([None if g is None else to_numpy(g).tolist() for g in gi],
             [None if g is None else to_numpy(g).tolist() for g in go])))
        a = lib.ones(1, 2, requires_grad=True)
        y, _ = m(a, lib.ones(3), scale=2.0)
        y.sum().backward()
        return seen, to_numpy(a.grad).tolist()

    assert run(ember) == run(torch)


def test_full_backward_hook_no_input_requires_grad():
    got = []
    m = ember.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: got.append((gi, go)))
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients"):
        m(ember.ones(1, 2)).sum().backward()
    assert got[0][0] == (None,) and tuple(got[0][1][0].shape) == (1, 2)
    assert m.weight.grad is not None


def test_backward_hook_wrong_count():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        m(lib.ones(1, 2, requires_grad=True)).sum().backward()

    same_message(run)


def test_backward_hook_kinds_cannot_mix():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda *a: None)
        m.register_backward_hook(lambda *a: None)

    same_message(run)


def test_full_backward_hook_prepend_order():
    order = []
    m = ember.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda *a: order.append("a"))
    m.register_full_backward_hook(lambda *a: order.append("b"), prepend=True)
    m.register_full_backward_pre_hook(lambda *a: order.append("pre"))
    m(ember.ones(1, 2, requires_grad=True)).sum().backward()
    assert order == ["pre", "b", "a"]


def test_non_full_backward_hook():
    got = []
    m = ember.nn.Linear(2, 2)
    m.register_backward_hook(lambda mod, gi, go: got.append((len(gi), go[0].shape)))
    x = ember.ones(3, 2, requires_grad=True)
    m(x).sum().backward()
    assert got and got[0][1] == (3, 2)


# ------------------------------------------------------------------------------ pickling, copies


class PickleNet(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = ember.nn.Linear(3, 3)
        self.seq = ember.nn.Sequential(self.a, ember.nn.Linear(3, 1))
        self.register_buffer("steps", ember.zeros(1, dtype=ember.int64))
        self.register_buffer("scratch", ember.ones(2), persistent=False)
        self.note = "attr"

    def forward(self, x):
        return self.seq(x)


def _assert_same_model(a, b):
    assert repr(a) == repr(b)
    assert list(a.state_dict()) == list(b.state_dict())
    for (n1, t1), (_, t2) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(t1), to_numpy(t2), err_msg=n1)
    x = ember.tensor(rand(2, 3))
    np.testing.assert_array_equal(to_numpy(a(x)), to_numpy(b(x)))


def test_pickle_round_trip():
    m = PickleNet()
    m.eval()
    m2 = pickle.loads(pickle.dumps(m))
    _assert_same_model(m, m2)
    assert m2.seq[0] is m2.a and not m2.training and m2.note == "attr"
    assert type(m2.a.weight) is ember.nn.Parameter and m2.a.weight.requires_grad
    assert "scratch" in m2._non_persistent_buffers_set
    assert m2.a.weight.data_ptr() != m.a.weight.data_ptr()


def test_deepcopy():
    m = PickleNet()
    m2 = copy.deepcopy(m)
    _assert_same_model(m, m2)
    assert m2.seq[0] is m2.a and m2.a.weight is not m.a.weight
    with ember.no_grad():
        m2.a.weight.copy_(ember.zeros(3, 3))
    assert float(np.abs(to_numpy(m.a.weight)).sum()) > 0


def test_setstate_fills_missing_hook_dicts():
    m = ember.nn.Linear(1, 1)
    state = m.__getstate__()
    for k in ("_forward_hooks_with_kwargs", "_state_dict_pre_hooks", "_backward_pre_hooks",
              "_non_persistent_buffers_set", "_is_full_backward_hook"):
        state.pop(k)
    n = ember.nn.Linear.__new__(ember.nn.Linear)
    n.__setstate__(state)
    assert n(ember.ones(1, 1)).shape == (1, 1)
    assert n.state_dict().keys() == m.state_dict().keys()


# ------------------------------------------------------------------------------ misc


def test_call_super_init_and_forward_missing():
    same_message(lambda lib: lib.nn.Module()(lib.ones(1)))

    class Mixin:
        def __init__(self, *a, **k):
            self.mixin_args = (a, k)

    class M(ember.nn.Module, Mixin):
        call_super_init = True

    m = M(1, k=2)
    assert m.mixin_args == ((1,), {"k": 2})


def test_warnings_not_raised_for_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = make_net(ember)
        net(ember.tensor(rand(2, 4))).sum().backward()
        net.load_state_dict(net.state_dict())


def test_training_steps_match_torch(nets):
    """Three manual SGD steps on the nested model give PyTorch's parameters."""
    t, e = nets
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.standard_normal((6, 4)).astype(np.float32)
        for lib, m in ((torch, t), (ember, e)):
            m.zero_grad()
            out = m(lib.tensor(x))
            (out * out).mean().backward()
            with lib.no_grad():
                for p in m.parameters():
                    p.sub_(p.grad * 0.1)
    tp = dict(t.named_parameters())
    for n, p in e.named_parameters():
        np.testing.assert_allclose(to_numpy(p), tp[n].detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=n)
