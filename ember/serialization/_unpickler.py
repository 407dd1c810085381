"""The restricted unpickler behind ``weights_only=True``, written for ember.

It interprets pickle opcodes itself instead of handing the stream to ``pickle``: globals resolve
only through the allowlist (``_globals``), never by importing; REDUCE/NEWOBJ call only
allowlisted callables; BUILD sets state only on tensors, OrderedDicts and allowlisted classes;
SETITEM(S)/APPEND(S)/ADDITEMS act only on plain dicts, lists and sets; the only persistent ids
are storages. Opcodes that could reach anything else (INST, OBJ, EXT*, out-of-band buffers) are
refused. Malformed streams raise ``UnpicklingError`` rather than a bare ``struct``/``IndexError``.
"""

from __future__ import annotations

import codecs
import pickle
import pickletools
import struct
from collections import Counter, OrderedDict
from pickle import UnpicklingError

from .._tensor import Tensor
from . import _globals

__all__ = ["WeightsUnpickler", "globals_in_pickle"]

_I4 = struct.Struct("<i")
_U2 = struct.Struct("<H")
_U4 = struct.Struct("<I")
_U8 = struct.Struct("<Q")
_F8 = struct.Struct(">d")

_DICT_TYPES = (dict, OrderedDict, Counter)


class _Stop(Exception):
    def __init__(self, value):
        self.value = value


class _Raised(Exception):
    """Carries an exception from the caller's ``persistent_load`` past the conversion of
    malformed-stream errors: those are the caller's errors, not the stream's."""

    def __init__(self, exc: BaseException):
        self.exc = exc


class WeightsUnpickler:
    """Unpickle ``data`` (bytes, or any buffer supporting slicing and ``find``, such as an
    mmap) from ``start``; ``persistent_load(pid)`` turns storage ids into storages.
    ``load()`` returns the object; ``end`` is the position after its STOP opcode."""

    def __init__(self, data, persistent_load, *, encoding: str = "utf-8",
                 errors: str = "strict", start: int = 0):
        self._data = data
        self._pos = start
        self._persistent_load = persistent_load
        self._encoding = encoding
        self._errors = errors
        self.end = start

    # ------------------------------------------------------------------------------ reading
    def _read(self, n: int):
        p = self._pos
        if n < 0 or p + n > len(self._data):
            raise UnpicklingError("pickle data was truncated")
        self._pos = p + n
        return self._data[p:p + n]

    def _readline(self):
        p = self._pos
        q = self._data.find(b"\n", p)
        if q < 0:
            raise UnpicklingError("pickle data was truncated")
        self._pos = q + 1
        return self._data[p:q]

    def _pop_mark(self) -> list:
        items = self._stack
        if not self._metastack:
            raise UnpicklingError("unexpected MARK-consuming opcode without a MARK")
        self._stack = self._metastack.pop()
        return items

    def _pop(self):
        if not self._stack:
            raise UnpicklingError("unpickling stack underflow")
        return self._stack.pop()

    def _top(self):
        if not self._stack:
            raise UnpicklingError("unpickling stack underflow")
        return self._stack[-1]

    def load(self):
        self._stack: list = []
        self._metastack: list = []
        self._memo: dict = {}
        self._user = _globals.user_globals()
        self._allowed_ids = {id(v) for v in _globals.torch_globals().values()}
        self._user_ids = {id(v) for v in self._user.values()}
        self._allowed_ids |= self._user_ids
        data, dispatch = self._data, _DISPATCH
        n = len(data)
        try:
            while True:
                p = self._pos
                if p >= n:
                    raise UnpicklingError("pickle data was truncated (no STOP opcode)")
                op = data[p]
                self._pos = p + 1
                handler = dispatch.get(op)
                if handler is None:
                    raise UnpicklingError(f"Unsupported pickle opcode {bytes([op])!r} at byte {p} "
                                          "in a weights_only load")
                handler(self)
        except _Stop as stop:
            self.end = self._pos
            return stop.value
        except _Raised as raised:
            raise raised.exc from None
        except (IndexError, KeyError, struct.error, UnicodeDecodeError, ValueError, TypeError,
                AttributeError, OverflowError, RecursionError) as e:
            raise UnpicklingError(f"corrupt pickle data near byte {self._pos} "
                                  f"({type(e).__name__}: {e})") from None

    # ------------------------------------------------------------------------------ risky ops
    def _global(self, module, name):
        if not isinstance(module, str) or not isinstance(name, str):
            raise UnpicklingError("STACK_GLOBAL requires two str arguments")
        self._stack.append(_globals.resolve_restricted(module, name, self._user))

    def _check_callable(self, func, op: str):
        if id(func) not in self._allowed_ids or func is Tensor:
            raise UnpicklingError(f"Trying to call {op} for unrecognized function {func!r}; only "
                                  "allowlisted functions and classes may be called")

    def _call(self, func, args, kwargs=None, op: str = "REDUCE"):
        self._check_callable(func, op)
        if not isinstance(args, tuple):
            raise UnpicklingError(f"{op} arguments must be a tuple, got {type(args).__name__}")
        from ..nn.parameter import Parameter

        if op != "REDUCE" and func is not Parameter:
            if not isinstance(func, type):
                raise UnpicklingError(f"{op} needs a class, got {func!r}")
            return func.__new__(func, *args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))

    def _build(self, state):
        inst = self._top()
        from ..nn.parameter import Parameter

        t = type(inst)
        if t is OrderedDict:
            if not isinstance(state, dict):
                raise UnpicklingError(f"BUILD state for an OrderedDict must be a dict, got "
                                      f"{type(state).__name__}")
            inst.__dict__.update(state)
        elif t is Tensor or t is Parameter:
            from ._rebuild import _set_state

            try:
                _set_state(inst, state, "BUILD")
            except RuntimeError as e:
                raise UnpicklingError(str(e)) from None
        elif id(t) in self._user_ids:
            if getattr(t, "__setstate__", None) is not None:
                inst.__setstate__(state)
                return
            slots = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slots = state
            if state:
                inst.__dict__.update(state)
            if slots:
                for k, v in slots.items():
                    setattr(inst, k, v)
        else:
            raise UnpicklingError(f"Can only build Tensor, Parameter, OrderedDict or types "
                                  f"allowlisted via `add_safe_globals`, but got {t}")

    def _persid(self, pid):
        if not isinstance(pid, tuple) or not pid or _ascii(pid[0]) != "storage":
            raise UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r}")
        try:
            storage = self._persistent_load(pid)
        except Exception as e:
            raise _Raised(e) from None
        self._stack.append(storage)

    def _target(self, kinds, op: str):
        obj = self._top()
        if type(obj) not in kinds:
            names = ", ".join(k.__name__ for k in kinds)
            raise UnpicklingError(f"{op} is only allowed on {names}, but got {type(obj)}")
        return obj


def _ascii(s):
    return s.decode("ascii") if isinstance(s, bytes) else s


# ---------------------------------------------------------------------------------------------
# opcode table
# ---------------------------------------------------------------------------------------------

_DISPATCH: dict = {}


def _op(code: bytes):
    def register(fn):
        _DISPATCH[code[0]] = fn
        return fn

    return register


@_op(pickle.PROTO)
def _proto(u):
    proto = u._read(1)[0]
    if proto > pickle.HIGHEST_PROTOCOL:
        raise UnpicklingError(f"unsupported pickle protocol: {proto}")


@_op(pickle.FRAME)
def _frame(u):
    u._read(8)  # the whole pickle is in memory: frames need no handling


@_op(pickle.STOP)
def _stop(u):
    raise _Stop(u._pop())


@_op(pickle.MARK)
def _mark(u):
    u._metastack.append(u._stack)
    u._stack = []


@_op(pickle.POP)
def _pop(u):
    if u._stack:
        u._stack.pop()
    else:
        u._pop_mark()


@_op(pickle.POP_MARK)
def _pop_mark(u):
    u._pop_mark()


@_op(pickle.DUP)
def _dup(u):
    u._stack.append(u._top())


# simple values
_DISPATCH[pickle.NONE[0]] = lambda u: u._stack.append(None)
_DISPATCH[pickle.NEWTRUE[0]] = lambda u: u._stack.append(True)
_DISPATCH[pickle.NEWFALSE[0]] = lambda u: u._stack.append(False)
_DISPATCH[pickle.BININT[0]] = lambda u: u._stack.append(_I4.unpack(u._read(4))[0])
_DISPATCH[pickle.BININT1[0]] = lambda u: u._stack.append(u._read(1)[0])
_DISPATCH[pickle.BININT2[0]] = lambda u: u._stack.append(_U2.unpack(u._read(2))[0])
_DISPATCH[pickle.BINFLOAT[0]] = lambda u: u._stack.append(_F8.unpack(u._read(8))[0])
_DISPATCH[pickle.LONG1[0]] = lambda u: u._stack.append(
    int.from_bytes(u._read(u._read(1)[0]), "little", signed=True))


@_op(pickle.LONG4)
def _long4(u):
    n = _I4.unpack(u._read(4))[0]
    if n < 0:
        raise UnpicklingError("LONG pickle has negative byte count")
    u._stack.append(int.from_bytes(u._read(n), "little", signed=True))


@_op(pickle.INT)
def _int(u):
    line = u._readline()
    if line == b"00":
        u._stack.append(False)
    elif line == b"01":
        u._stack.append(True)
    else:
        u._stack.append(int(line, 0))


@_op(pickle.LONG)
def _long(u):
    line = u._readline()
    u._stack.append(int(line[:-1] if line.endswith(b"L") else line, 0))


_DISPATCH[pickle.FLOAT[0]] = lambda u: u._stack.append(float(u._readline()))


# strings and bytes
def _utf8(raw) -> str:
    return str(raw, "utf-8", "surrogatepass")


def _sized(length: struct.Struct | None, make):
    """An opcode whose argument is raw data after its length (a ``length``-encoded count, or
    one byte when None)."""
    def handler(u):
        n = u._read(1)[0] if length is None else length.unpack(u._read(length.size))[0]
        u._stack.append(make(u._read(n)))

    return handler


for _code, _length, _make in [
        (pickle.BINUNICODE, _U4, _utf8), (pickle.SHORT_BINUNICODE, None, _utf8),
        (pickle.BINUNICODE8, _U8, _utf8), (pickle.BINBYTES, _U4, bytes),
        (pickle.SHORT_BINBYTES, None, bytes), (pickle.BINBYTES8, _U8, bytes),
        (pickle.BYTEARRAY8, _U8, bytearray)]:
    _DISPATCH[_code[0]] = _sized(_length, _make)
_DISPATCH[pickle.UNICODE[0]] = lambda u: u._stack.append(
    str(u._readline(), "raw-unicode-escape"))


def _py2_str(u, raw):
    """A Python 2 ``str``: bytes, decoded with the load's ``encoding`` unless it is 'bytes'."""
    raw = bytes(raw)
    u._stack.append(raw if u._encoding == "bytes" else raw.decode(u._encoding, u._errors))


@_op(pickle.BINSTRING)
def _binstring(u):
    n = _I4.unpack(u._read(4))[0]
    if n < 0:
        raise UnpicklingError("BINSTRING pickle has negative byte count")
    _py2_str(u, u._read(n))


_DISPATCH[pickle.SHORT_BINSTRING[0]] = lambda u: _py2_str(u, u._read(u._read(1)[0]))


@_op(pickle.STRING)
def _string(u):
    line = bytes(u._readline())
    if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b'"', b"'"):
        raise UnpicklingError("the STRING opcode argument must be quoted")
    _py2_str(u, codecs.escape_decode(line[1:-1])[0])


# containers
_DISPATCH[pickle.EMPTY_TUPLE[0]] = lambda u: u._stack.append(())
_DISPATCH[pickle.EMPTY_LIST[0]] = lambda u: u._stack.append([])
_DISPATCH[pickle.EMPTY_DICT[0]] = lambda u: u._stack.append({})
_DISPATCH[pickle.EMPTY_SET[0]] = lambda u: u._stack.append(set())


def _from_mark(make):
    def handler(u):
        items = u._pop_mark()  # before touching u._stack: popping the mark replaces it
        u._stack.append(make(items))

    return handler


_DISPATCH[pickle.TUPLE[0]] = _from_mark(tuple)
_DISPATCH[pickle.LIST[0]] = _from_mark(list)
_DISPATCH[pickle.FROZENSET[0]] = _from_mark(frozenset)


@_op(pickle.TUPLE1)
def _tuple1(u):
    u._stack.append((u._pop(),))


@_op(pickle.TUPLE2)
def _tuple2(u):
    b = u._pop()
    u._stack.append((u._pop(), b))


@_op(pickle.TUPLE3)
def _tuple3(u):
    c = u._pop()
    b = u._pop()
    u._stack.append((u._pop(), b, c))


@_op(pickle.DICT)
def _dict(u):
    items = u._pop_mark()
    if len(items) % 2:
        raise UnpicklingError("odd number of items for DICT")
    u._stack.append(dict(zip(items[::2], items[1::2])))


@_op(pickle.APPEND)
def _append(u):
    item = u._pop()
    u._target((list,), "APPEND").append(item)


@_op(pickle.APPENDS)
def _appends(u):
    items = u._pop_mark()
    u._target((list,), "APPENDS").extend(items)


@_op(pickle.SETITEM)
def _setitem(u):
    value = u._pop()
    key = u._pop()
    u._target(_DICT_TYPES, "SETITEM")[key] = value


@_op(pickle.SETITEMS)
def _setitems(u):
    items = u._pop_mark()
    if len(items) % 2:
        raise UnpicklingError("odd number of items for SETITEMS")
    target = u._target(_DICT_TYPES, "SETITEMS")
    for i in range(0, len(items), 2):
        target[items[i]] = items[i + 1]


@_op(pickle.ADDITEMS)
def _additems(u):
    items = u._pop_mark()
    u._target((set,), "ADDITEMS").update(items)


# memo
def _put(u, idx: int):
    if idx < 0:
        raise UnpicklingError("negative PUT argument")
    u._memo[idx] = u._top()


def _get(u, idx: int):
    try:
        u._stack.append(u._memo[idx])
    except KeyError:
        raise UnpicklingError(f"Memo value not found at index {idx}") from None


_DISPATCH[pickle.PUT[0]] = lambda u: _put(u, int(u._readline()))
_DISPATCH[pickle.BINPUT[0]] = lambda u: _put(u, u._read(1)[0])
_DISPATCH[pickle.LONG_BINPUT[0]] = lambda u: _put(u, _U4.unpack(u._read(4))[0])
_DISPATCH[pickle.MEMOIZE[0]] = lambda u: _put(u, len(u._memo))
_DISPATCH[pickle.GET[0]] = lambda u: _get(u, int(u._readline()))
_DISPATCH[pickle.BINGET[0]] = lambda u: _get(u, u._read(1)[0])
_DISPATCH[pickle.LONG_BINGET[0]] = lambda u: _get(u, _U4.unpack(u._read(4))[0])

# persistent ids, globals and calls
_DISPATCH[pickle.BINPERSID[0]] = lambda u: u._persid(u._pop())
_DISPATCH[pickle.PERSID[0]] = lambda u: u._persid(_ascii(bytes(u._readline())))


@_op(pickle.GLOBAL)
def _global(u):
    module = bytes(u._readline()).decode("utf-8")
    name = bytes(u._readline()).decode("utf-8")
    u._global(module, name)


@_op(pickle.STACK_GLOBAL)
def _stack_global(u):
    name = u._pop()
    module = u._pop()
    u._global(module, name)


@_op(pickle.REDUCE)
def _reduce(u):
    args = u._pop()
    func = u._pop()
    u._stack.append(u._call(func, args))


@_op(pickle.NEWOBJ)
def _newobj(u):
    args = u._pop()
    cls = u._pop()
    u._stack.append(u._call(cls, args, op="NEWOBJ"))


@_op(pickle.NEWOBJ_EX)
def _newobj_ex(u):
    kwargs = u._pop()
    args = u._pop()
    cls = u._pop()
    if not isinstance(kwargs, dict):
        raise UnpicklingError("NEWOBJ_EX keyword arguments must be a dict")
    u._stack.append(u._call(cls, args, kwargs, op="NEWOBJ_EX"))


_DISPATCH[pickle.BUILD[0]] = lambda u: u._build(u._pop())

_STRINGS = frozenset({"UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "STRING",
                      "BINSTRING", "SHORT_BINSTRING"})


def globals_in_pickle(data) -> set[str]:
    """Every global a pickle names (statically, without running it): GLOBAL arguments, and
    the two strings that precede each STACK_GLOBAL."""
    found: set[str] = set()
    memo: dict = {}
    pushed: list = []  # what recent opcodes pushed: the string, or None for anything else
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name == "GLOBAL":
                module, _, qual = arg.partition(" ")
                found.add("{}.{}".format(*_globals.canonical(module, qual)))
            elif name == "STACK_GLOBAL":
                if len(pushed) >= 2 and isinstance(pushed[-2], str) and \
                        isinstance(pushed[-1], str):
                    found.add("{}.{}".format(*_globals.canonical(pushed[-2], pushed[-1])))
                pushed.append(None)
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = pushed[-1] if pushed else None
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(arg))
            elif name == "STOP":
                break
            else:
                pushed.append(arg if name in _STRINGS else None)
    except ValueError as e:
        raise UnpicklingError(f"corrupt pickle data ({e})") from None
    return found

