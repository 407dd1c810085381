"""default_collate / default_convert / collate against PyTorch: structures, dtypes, errors."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import ember
from ember.utils import data as E
from ember.utils.data._utils import collate as ecollate
from tests.utils.data._helpers import same

torch = pytest.importorskip("torch")
T = torch.utils.data
from torch.utils.data._utils import collate as tcollate  # noqa: E402

Point = collections.namedtuple("Point", ["x", "y"])


class Tens:
    """A tensor placeholder: built by each library from the same array."""

    def __init__(self, a, requires_grad=False):
        self.a, self.rg = np.asarray(a), requires_grad


def build(obj, lib):
    if isinstance(obj, Tens):
        t = lib.tensor(obj.a)
        return t.requires_grad_() if obj.rg else t
    if isinstance(obj, dict):
        return type(obj)((k, build(v, lib)) for k, v in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(build(v, lib) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(build(v, lib) for v in obj)
    return obj


def compare(fn, batch):
    t = fn(T, build(batch, torch))
    e = fn(E, build(batch, ember))
    same(t, e)
    return e


def errors_alike(fn, batch):
    with pytest.raises(Exception) as te:
        fn(T, build(batch, torch))
    with pytest.raises(type(te.value)) as ee:
        fn(E, build(batch, ember))
    assert str(ee.value) == str(te.value)


F32 = np.float32
CASES = {
    "ints": [0, 1, 2, 3],
    "floats": [0.5, 1.25, -3.0],
    "bools": [True, False, True],
    "bool_int_mix": [True, 2],
    "strings": ["a", "bc", "def"],
    "bytes": [b"x", b"yz"],
    "tensors": [Tens(np.arange(6, dtype=F32).reshape(2, 3)), Tens(np.ones((2, 3), F32))],
    "int_tensors": [Tens(np.array([1, 2])), Tens(np.array([3, 4]))],
    "scalar_tensors": [Tens(np.float64(1.5)), Tens(np.float64(2.5))],
    "bool_tensors": [Tens(np.array([True, False])), Tens(np.array([False, False]))],
    "np_arrays": [np.arange(4, dtype=np.int16), np.arange(4, 8, dtype=np.int16)],
    "np_float_arrays": [np.ones((2, 2), F32), np.zeros((2, 2), F32)],
    "np_0d": [np.array(3.0, dtype=F32), np.array(4.0, dtype=F32)],
    "np_scalars": [np.float32(1), np.float32(2)],
    "np_int_scalars": [np.int8(1), np.int8(-2)],
    "np_bool_scalars": [np.bool_(True), np.bool_(False)],
    "np_mixed_scalars": [np.float64(1), np.float32(2)],
    "tuples": [(1, "a", 2.0), (2, "b", 3.0)],
    "lists": [[1, 2], [3, 4], [5, 6]],
    "dicts": [{"a": 1, "b": "x", "c": Tens(np.zeros(2, F32))},
              {"a": 2, "b": "y", "c": Tens(np.ones(2, F32))}],
    "ordered_dicts": [collections.OrderedDict(z=1, a=2.0), collections.OrderedDict(z=3, a=4.0)],
    "namedtuples": [Point(1, Tens(np.zeros(3, F32))), Point(2, Tens(np.ones(3, F32)))],
    "nested": [({"img": np.ones((1, 2, 2), F32), "meta": (1, "n")}, [0.5, Point(1, 2)]),
               ({"img": np.zeros((1, 2, 2), F32), "meta": (2, "m")}, [1.5, Point(3, 4)])],
    "tensor_and_label": [(Tens(np.ones((1, 2, 2), F32)), 3), (Tens(np.zeros((1, 2, 2), F32)), 7)],
    "single": [(Tens(np.arange(3.0)), 1)],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_default_collate_matches_pytorch(name):
    compare(lambda d, b: d.default_collate(b), CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_default_convert_matches_pytorch(name):
    for sample in CASES[name]:
        compare(lambda d, b: d.default_convert(b), sample)
    compare(lambda d, b: d.default_convert(b), CASES[name])


def test_default_convert_strings_and_objects_untouched():
    arr = np.array(["a", "b"])
    assert E.default_convert(arr) is arr
    obj = object()
    assert E.default_convert(obj) is obj
    assert E.default_convert(np.str_("x")) == "x"


def test_collate_errors_match_pytorch():
    errors_alike(lambda d, b: d.default_collate(b), [Tens(np.zeros(3, F32)),
                                                     Tens(np.zeros(4, F32))])
    errors_alike(lambda d, b: d.default_collate(b), [[1, 2], [3]])
    errors_alike(lambda d, b: d.default_collate(b), [object(), object()])
    errors_alike(lambda d, b: d.default_collate(b), [np.array(["a"]), np.array(["b"])])
    errors_alike(lambda d, b: d.default_collate(b), [np.array([{}], dtype=object)])
    errors_alike(lambda d, b: d.default_collate(b), [Tens(np.zeros(3, F32)), 1])
    errors_alike(lambda d, b: d.default_collate(b), [])


def test_collate_mismatched_size_message():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but "
                                           r"got \[3\] at entry 0 and \[4\] at entry 1"):
        E.default_collate([ember.zeros(3), ember.zeros(4)])


def test_collate_mixed_dtypes_promote_like_stack():
    compare(lambda d, b: d.default_collate(b), [Tens(np.zeros(2, F32)),
                                                Tens(np.ones(2, np.float64))])


def test_collate_keeps_autograd():
    x = ember.ones(3, requires_grad=True)
    out = E.default_collate([x * 2, x * 3])
    assert out.requires_grad and out.grad_fn.name() == "StackBackward0"
    out.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0, 5.0]
    with ember.no_grad():
        assert not E.default_collate([x * 2, x * 3]).requires_grad


def test_collate_fast_path_copies_rows():
    rows = [ember.full((2, 3), float(i)) for i in range(4)]
    out = E.default_collate(rows)
    assert out.is_contiguous() and out.shape == (4, 2, 3)
    rows[0].fill_(9.0)
    assert out[0].sum().item() == 0.0  # a copy, not a view of the samples
    t = ember.arange(12.0).reshape(3, 4)
    out = E.default_collate([t.t()[0], t.t()[1]])  # non-contiguous samples
    assert out.tolist() == [[0.0, 4.0, 8.0], [1.0, 5.0, 9.0]]


def test_collate_subclass_mutable_mapping_and_sequence():
    class MyDict(dict):
        pass

    class MyList(list):
        pass

    out = E.default_collate([MyDict(a=1), MyDict(a=2)])
    assert type(out) is MyDict and out["a"].tolist() == [1, 2]
    out = E.default_collate([MyList([1, 2]), MyList([3, 4])])
    assert type(out) is MyList and [t.tolist() for t in out] == [[1, 3], [2, 4]]
    rng = [range(2), range(2)]  # an immutable sequence that cannot be rebuilt from a list
    compare(lambda d, b: d.default_collate(b), rng)


def test_custom_collate_fn_map():
    def collate_str_upper(batch, *, collate_fn_map=None):
        return [s.upper() for s in batch]

    fmap = dict(ecollate.default_collate_fn_map)
    fmap[str] = collate_str_upper
    out = ecollate.collate([("a", 1), ("b", 2)], collate_fn_map=fmap)
    assert out[0] == ["A", "B"] and out[1].tolist() == [1, 2]

    class Custom:
        def __init__(self, v):
            self.v = v

    fmap = {Custom: lambda batch, *, collate_fn_map: sum(c.v for c in batch)}
    fmap.update(ecollate.default_collate_fn_map)
    out = ecollate.collate([{"c": Custom(1)}, {"c": Custom(2)}], collate_fn_map=fmap)
    assert out == {"c": 3}
    assert set(tcollate.default_collate_fn_map) == set(ecollate.default_collate_fn_map) - {
        ember.Tensor} | {torch.Tensor}
