"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict against PyTorch."""

from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.oracle import check_raises, needs_torch, rand, same_message, to_numpy, torch

pytestmark = needs_torch


def layers(lib, n=3):
    return [lib.nn.Linear(i + 2, i + 3) for i in range(n)]


def keys_and_repr(m):
    return list(m.state_dict()), repr(m)


# ------------------------------------------------------------------------------ Sequential


def test_sequential_forward_matches_torch():
    t = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Flatten(0),
                            torch.nn.Unflatten(0, (2, 5)))
    e = ember.nn.Sequential(ember.nn.Linear(4, 5), ember.nn.Flatten(0),
                            ember.nn.Unflatten(0, (2, 5)))
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = rand(2, 4)
    np.testing.assert_allclose(to_numpy(e(ember.tensor(x))), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    assert repr(e) == repr(t)


def test_sequential_ordereddict_form():
    def build(lib):
        return lib.nn.Sequential(OrderedDict([("conv", lib.nn.Identity()),
                                              ("fc", lib.nn.Linear(2, 2))]))

    e, t = build(ember), build(torch)
    assert keys_and_repr(e) == keys_and_repr(t)
    assert isinstance(e.fc, ember.nn.Linear) and e[1] is e.fc


@pytest.mark.parametrize("op", [
    lambda s: [type(m).__name__ for m in s],
    lambda s: len(s),
    lambda s: repr(s[-1]),
    lambda s: repr(s[0]),
    lambda s: repr(s[1:]),
    lambda s: repr(s[::-1]),
    lambda s: repr(s[5:]),
    lambda s: type(s[0:2]).__name__,
])
def test_sequential_indexing(op):
    assert op(torch.nn.Sequential(*layers(torch))) == op(ember.nn.Sequential(*layers(ember)))


def _mutate_sequential(lib, which):
    s = lib.nn.Sequential(*layers(lib))
    new = lib.nn.Identity()
    if which == "append":
        s.append(new)
    elif which == "insert":
        s.insert(1, new)
    elif which == "insert_neg":
        s.insert(-1, new)
    elif which == "insert_end":
        s.insert(3, new)
    elif which == "extend":
        s.extend([new, lib.nn.Flatten()])
    elif which == "pop":
        popped = s.pop(1)
        return keys_and_repr(s), repr(popped)
    elif which == "del":
        del s[0]
    elif which == "del_slice":
        del s[0:2]
    elif which == "setitem":
        s[-1] = new
    elif which == "add":
        s = s + lib.nn.Sequential(new)
    elif which == "iadd":
        s += lib.nn.Sequential(new)
    elif which == "mul":
        s = s * 2
    elif which == "rmul":
        s = 2 * s
    elif which == "imul":
        s *= 2
    return keys_and_repr(s)


@pytest.mark.parametrize("which", ["append", "insert", "insert_neg", "insert_end", "extend",
                                   "pop", "del", "del_slice", "setitem", "add", "iadd", "mul",
                                   "rmul", "imul"])
def test_sequential_mutation(which):
    assert _mutate_sequential(ember, which) == _mutate_sequential(torch, which)


def test_sequential_mul_shares_modules():
    s = ember.nn.Sequential(ember.nn.Linear(2, 2)) * 3
    assert s[0] is s[1] is s[2]
    assert len(list(s.parameters())) == 2


@pytest.mark.parametrize("action", [
    lambda lib, s: s[3],
    lambda lib, s: s[-4],
    lambda lib, s: s["a"],
    lambda lib, s: s + 3,
    lambda lib, s: s * 0,
    lambda lib, s: s * 1.5,
    lambda lib, s: s.insert(5, lib.nn.Identity()),
    lambda lib, s: s.insert(0, 3),
    lambda lib, s: s.append(3),
])
def test_sequential_errors(action):
    e_msg, t_msg = check_raises(lambda lib: action(lib, lib.nn.Sequential(*layers(lib))))
    # messages that print a class show ember's module path where PyTorch shows torch's
    assert e_msg.replace("'ember.", "'torch.") == t_msg


def test_sequential_dir_hides_indices():
    s = ember.nn.Sequential(ember.nn.Identity())
    assert "0" not in dir(s) and "append" in dir(s)


# ------------------------------------------------------------------------------ ModuleList


def _modulelist_ops(lib):
    out = []
    ml = lib.nn.ModuleList(layers(lib))
    out.append(keys_and_repr(ml))
    out.append(repr(ml[-1]))
    out.append(repr(ml[1:]))
    ml.append(lib.nn.Identity())
    ml.extend([lib.nn.Linear(1, 1)])
    ml += [lib.nn.Identity()]
    ml.insert(0, lib.nn.Flatten())
    out.append(keys_and_repr(ml))
    ml[2] = lib.nn.Identity()
    del ml[1]
    out.append(keys_and_repr(ml))
    out.append(repr(ml.pop(0)))
    del ml[::2]
    out.append(keys_and_repr(ml))
    combined = ml + lib.nn.ModuleList([lib.nn.Identity()])
    out.append((type(combined).__name__, keys_and_repr(combined)))
    out.append(len(ml))
    out.append(repr(lib.nn.ModuleList()))
    return out


def test_modulelist_matches_torch():
    assert _modulelist_ops(ember) == _modulelist_ops(torch)


def test_modulelist_repeated_blocks_repr():
    def build(lib):
        blk = [lib.nn.Linear(2, 2) for _ in range(3)]
        return lib.nn.ModuleList(blk + [lib.nn.Identity(), lib.nn.Identity(),
                                        lib.nn.Sequential(lib.nn.Linear(1, 1))])

    assert repr(build(ember)) == repr(build(torch))


@pytest.mark.parametrize("action", [
    lambda lib, m: m[3],
    lambda lib, m: m[-4],
    lambda lib, m: m.extend(3),
    lambda lib, m: m.append(3),
    lambda lib, m: m.__setitem__(7, lib.nn.Identity()),
    lambda lib, m: m(lib.ones(1)),
])
def test_modulelist_errors(action):
    same_message(lambda lib: action(lib, lib.nn.ModuleList(layers(lib))))


def test_modulelist_parameters_visible():
    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = ember.nn.ModuleList([ember.nn.Linear(2, 2) for _ in range(2)])

    assert [n for n, _ in Net().named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


# ------------------------------------------------------------------------------ ModuleDict


def _moduledict_ops(lib):
    out = []
    md = lib.nn.ModuleDict({"b": lib.nn.Linear(1, 2), "a": lib.nn.Identity()})
    out.append(keys_and_repr(md))
    md["c"] = lib.nn.Linear(2, 2)
    md.update([("d", lib.nn.Identity()), ("a", lib.nn.Linear(3, 3))])
    md.update(OrderedDict(e=lib.nn.Flatten()))
    out.append(keys_and_repr(md))
    out.append((list(md.keys()), len(md), "c" in md, "z" in md, list(iter(md))))
    out.append([type(v).__name__ for v in md.values()])
    out.append([k for k, _ in md.items()])
    out.append(repr(md.pop("c")))
    del md["d"]
    out.append(keys_and_repr(md))
    md.clear()
    out.append(keys_and_repr(md))
    return out


def test_moduledict_matches_torch():
    assert _moduledict_ops(ember) == _moduledict_ops(torch)


@pytest.mark.parametrize("action", [
    lambda lib, m: m["zz"],
    lambda lib, m: m.update(3),
    lambda lib, m: m.update([3]),
    lambda lib, m: m.update([("a", lib.nn.Identity(), 1)]),
    lambda lib, m: m.__setitem__("x.y", lib.nn.Identity()),
])
def test_moduledict_errors(action):
    same_message(lambda lib: action(lib, lib.nn.ModuleDict({"a": lib.nn.Identity()})))


# ------------------------------------------------------------------------------ ParameterList


def _parameterlist_ops(lib):
    out = []
    pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(3),
                               lib.ones(1, dtype=lib.float64)])
    out.append(keys_and_repr(pl))
    out.append([type(p).__name__ for p in pl])
    out.append(len(pl))
    pl.append(lib.ones(4))
    pl.extend([lib.nn.Parameter(lib.zeros(1)), "not a tensor"])
    pl += [lib.ones(5)]
    out.append(keys_and_repr(pl))
    pl[0] = lib.ones(7)
    out.append((type(pl[0]).__name__, tuple(pl[0].shape), pl[0].requires_grad))
    out.append(keys_and_repr(pl[1:4]))
    out.append(pl[-2])
    out.append([n for n, _ in pl.named_parameters()])
    return out


def test_parameterlist_matches_torch():
    assert _parameterlist_ops(ember) == _parameterlist_ops(torch)


@pytest.mark.parametrize("action", [
    lambda lib, p: p[5],
    lambda lib, p: p.extend(lib.ones(2)),
    lambda lib, p: p.extend(3),
    lambda lib, p: p(1),
])
def test_parameterlist_errors(action):
    same_message(lambda lib: action(lib, lib.nn.ParameterList([lib.ones(1)])))


def test_parameterlist_in_module_trains():
    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = ember.nn.ParameterList([ember.ones(2), ember.ones(2)])

        def forward(self):
            return (self.ws[0] * self.ws[1] * 3).sum()

    n = Net()
    n().backward()
    assert [to_numpy(p.grad).tolist() for p in n.parameters()] == [[3, 3], [3, 3]]
    assert list(n.state_dict()) == ["ws.0", "ws.1"]


# ------------------------------------------------------------------------------ ParameterDict


def _parameterdict_ops(lib):
    out = []
    pd = lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.ones(2)),
                               "b": lib.zeros(1, dtype=lib.float64), "a": "text"})
    out.append(keys_and_repr(pd))
    pd["c"] = lib.ones(2, 2)
    pd.update([("d", lib.ones(1)), ("w", lib.zeros(3))])
    pd.update(OrderedDict(z=lib.ones(1), y=lib.ones(1)))
    out.append(keys_and_repr(pd))
    out.append((list(pd.keys()), len(pd), "c" in pd, list(reversed(pd))))
    out.append([type(v).__name__ for v in pd.values()])
    out.append([k for k, _ in pd.items()])
    out.append(tuple(pd.pop("c").shape))
    out.append(pd.popitem()[0])
    out.append(tuple(pd.setdefault("n", lib.ones(3)).shape))
    out.append(pd.get("missing", "dflt"))
    out.append(keys_and_repr(pd.copy()))
    out.append(keys_and_repr(pd | lib.nn.ParameterDict({"q": lib.ones(1)})))
    out.append(list(pd.fromkeys(["u", "v"], None).keys()))
    pd |= lib.nn.ParameterDict({"r": lib.ones(1)})
    del pd["d"]
    out.append(keys_and_repr(pd))
    pd.clear()
    out.append(keys_and_repr(pd))
    return out


def test_parameterdict_matches_torch():
    assert _parameterdict_ops(ember) == _parameterdict_ops(torch)


@pytest.mark.parametrize("action", [
    lambda lib, p: p[1],
    lambda lib, p: p["zz"],
    lambda lib, p: p.update(3),
    lambda lib, p: p.update([3]),
    lambda lib, p: p.update([("a", lib.ones(1), 1)]),
    lambda lib, p: p(1),
])
def test_parameterdict_errors(action):
    same_message(lambda lib: action(lib, lib.nn.ParameterDict({"a": lib.ones(1)})))


def test_container_deprecated():
    with pytest.warns(FutureWarning, match="nn.Container` is deprecated"):
        c = ember.nn.Container(a=ember.nn.Identity())
    assert list(c.children())[0] is c.a
