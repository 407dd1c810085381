"""Run by tests/distributed/test_collectives.py under ``mpiexec -n N``: every collective against
values computed here with NumPy from each rank's known inputs. Usage: collectives.py cpu|cuda.
An assertion failure aborts the job (nonzero exit) with the failing check in the message."""

import sys

import numpy as np

import ember
import ember.distributed as dist

DEVICE = sys.argv[1] if len(sys.argv) > 1 else "cpu"
dist.init_process_group("nccl" if DEVICE == "cuda" else "gloo")
if DEVICE == "cuda":
    ember.cuda.set_device(dist.get_rank() % ember.cuda.device_count())
R, N = dist.get_rank(), dist.get_world_size()
Op = dist.ReduceOp


def vals(r: int, shape=(2, 3)) -> np.ndarray:
    """Rank r's input: small integers, so products stay exact in int8 and float16."""
    return (np.arange(int(np.prod(shape))).reshape(shape) % 3 + r + 1).astype(np.float64)


def t(a, dtype) -> ember.Tensor:
    return ember.tensor(a, dtype=dtype, device=DEVICE)


def check(name: str, got: ember.Tensor, expected, dtype) -> None:
    want = t(np.asarray(expected), dtype)
    assert got.dtype == dtype, f"{name}: dtype {got.dtype}, expected {dtype}"
    assert got.shape == want.shape, f"{name}: shape {tuple(got.shape)} vs {tuple(want.shape)}"
    conv = (lambda a: a.cpu().numpy()) if dtype.is_complex else (lambda a: a.cpu().double().numpy())
    g, w = conv(got), conv(want)
    assert np.allclose(g, w, rtol=1e-3, atol=1e-3), f"rank {R} {name}:\n{g}\nexpected\n{w}"


FLOATS = [ember.float32, ember.float64, ember.float16, ember.bfloat16]
INTS = [ember.int8, ember.uint8, ember.int32, ember.int64]
if DEVICE == "cpu":
    FLOATS.append(ember.complex64)
allv = np.stack([vals(r) for r in range(N)])
REF = {Op.SUM: allv.sum(0), Op.PRODUCT: allv.prod(0), Op.MIN: allv.min(0),
       Op.MAX: allv.max(0), Op.AVG: allv.mean(0)}

# ---- all_reduce: every dtype with every op it supports; version counter bumped in place
for dt in FLOATS + INTS:
    for op, ref in REF.items():
        if (op in (Op.MIN, Op.MAX) and dt.is_complex) or (op == Op.AVG and not
                                                          dt.is_floating_point):
            continue
        x = t(vals(R), dt)
        arr, v0 = x._data, x._version
        assert dist.all_reduce(x, op=op) is None
        check(f"all_reduce {op} {dt}", x, ref, dt)
        assert x._data is arr and x._version == v0 + 1, "all_reduce must write in place"
ints = np.stack([(np.arange(6) * 5 + 3 * r) % 8 for r in range(N)]).astype(np.int64)
if DEVICE == "cpu":
    for dt in INTS:
        for op, f in ((Op.BAND, np.bitwise_and), (Op.BOR, np.bitwise_or),
                      (Op.BXOR, np.bitwise_xor)):
            x = t(ints[R], dt)
            dist.all_reduce(x, op=op)
            check(f"all_reduce {op} {dt}", x, f.reduce(ints, 0), dt)
bools = np.stack([(np.arange(6) + r) % 3 == 0 for r in range(N)])
for op, ref in ((Op.SUM, bools.any(0)), (Op.MAX, bools.any(0)), (Op.MIN, bools.all(0)),
                (Op.PRODUCT, bools.all(0))):
    x = t(bools[R], ember.bool)
    dist.all_reduce(x, op=op)
    check(f"all_reduce {op} bool", x, ref, ember.bool)

# non-contiguous tensors are reduced and written back through their own view
base = t(np.zeros((3, 2)), ember.float32)
view = base.t()
view.copy_(t(vals(R), ember.float32))
dist.all_reduce(view)
check("all_reduce non-contiguous", base.t(), REF[Op.SUM], ember.float32)

# ---- async: Work.wait / is_completed
x = t(vals(R), ember.float32)
w = dist.all_reduce(x, op=Op.MAX, async_op=True)
assert w.wait() is True and w.is_completed()
check("async all_reduce", x, REF[Op.MAX], ember.float32)
works = [dist.broadcast(t(vals(R) * k, ember.float32), src=0, async_op=True) for k in range(3)]
for w in works:
    w.wait()

# ---- broadcast / reduce from every root
for root in range(N):
    x = t(vals(R), ember.float64)
    dist.broadcast(x, src=root)
    check(f"broadcast src={root}", x, vals(root), ember.float64)
    x = t(vals(R), ember.int32)
    dist.reduce(x, dst=root, op=Op.SUM)
    if R == root:
        check(f"reduce dst={root}", x, REF[Op.SUM], ember.int32)
x = t(vals(R), ember.bfloat16)
dist.broadcast(x, src=N - 1)
check("broadcast bfloat16", x, vals(N - 1), ember.bfloat16)

# ---- gathers and scatters
for dt in (ember.float32, ember.int64, ember.bool):
    out = [t(np.zeros((2, 3)), dt) for _ in range(N)]
    dist.all_gather(out, t(vals(R) % 2 if dt == ember.bool else vals(R), dt))
    for r in range(N):
        check(f"all_gather {dt}[{r}]", out[r], vals(r) % 2 if dt == ember.bool else vals(r), dt)
out = t(np.zeros((2 * N, 3)), ember.float32)
dist.all_gather_into_tensor(out, t(vals(R), ember.float32))
check("all_gather_into_tensor cat", out, np.concatenate([vals(r) for r in range(N)]),
      ember.float32)
out = t(np.zeros((N, 2, 3)), ember.float32)
dist.all_gather_into_tensor(out, t(vals(R), ember.float32))
check("all_gather_into_tensor stack", out, allv, ember.float32)

chunks = np.stack([vals(r, (N, 4)) * (r + 1) for r in range(N)])  # rank r's input, N chunks
out = t(np.zeros(4), ember.float32)
dist.reduce_scatter_tensor(out, t(chunks[R].reshape(-1), ember.float32))
check("reduce_scatter_tensor", out, chunks.sum(0)[R], ember.float32)
out = t(np.zeros(4), ember.float64)
dist.reduce_scatter(out, [t(c, ember.float64) for c in chunks[R]], op=Op.MAX)
check("reduce_scatter max", out, chunks.max(0)[R], ember.float64)

for root in range(N):
    gl = [t(np.zeros(3), ember.int32) for _ in range(N)] if R == root else None
    dist.gather(t(vals(R, (3,)), ember.int32), gl, dst=root)
    if R == root:
        for r in range(N):
            check(f"gather dst={root}[{r}]", gl[r], vals(r, (3,)), ember.int32)
    out = t(np.zeros(3), ember.float32)
    sl = [t(vals(r, (3,)) * 10 + root, ember.float32) for r in range(N)] if R == root else None
    dist.scatter(out, sl, src=root)
    check(f"scatter src={root}", out, vals(R, (3,)) * 10 + root, ember.float32)

# ---- all_to_all_single: equal and uneven splits; all_to_all
inp = t(np.arange(N * 2 * 2).reshape(N * 2, 2) + 100 * R, ember.float32)
out = t(np.zeros((N * 2, 2)), ember.float32)
dist.all_to_all_single(out, inp)
want = np.concatenate([(np.arange(N * 2 * 2).reshape(N * 2, 2) + 100 * r)[2 * R:2 * R + 2]
                       for r in range(N)])
check("all_to_all_single", out, want, ember.float32)
# rank r sends j + 1 rows to rank j; rank j receives j + 1 rows from every rank
send_sizes = [j + 1 for j in range(N)]
rows = sum(send_sizes)
src_rows = {r: np.arange(rows, dtype=np.float64) + 1000 * r for r in range(N)}
out = t(np.zeros(N * (R + 1)), ember.float64)
dist.all_to_all_single(out, t(src_rows[R], ember.float64), [R + 1] * N, send_sizes)
off = sum(send_sizes[:R])
want = np.concatenate([src_rows[r][off:off + R + 1] for r in range(N)])
check("all_to_all_single uneven", out, want, ember.float64)
outs = [t(np.zeros(2), ember.int64) for _ in range(N)]
dist.all_to_all(outs, [t(np.full(2, 10 * R + j), ember.int64) for j in range(N)])
for r in range(N):
    check(f"all_to_all[{r}]", outs[r], np.full(2, 10 * r + R), ember.int64)

# ---- point to point and groups (they need a peer: one NCCL GPU gives a single rank)
if N > 1:
    nxt, prv = (R + 1) % N, (R - 1) % N
    x = t(vals(R), ember.float32)
    y = t(np.zeros((2, 3)), ember.float32)
    if R % 2 == 0:
        dist.send(x, nxt)
        assert dist.recv(y, prv) == prv
    else:
        assert dist.recv(y, prv) == prv
        dist.send(x, nxt)
    check("send/recv ring", y, vals(prv), ember.float32)
    y = t(np.zeros((2, 3)), ember.float16)
    ws = [dist.isend(t(vals(R), ember.float16), nxt, tag=7), dist.irecv(y, prv, tag=7)]
    for w in ws:
        w.wait()
    assert all(w.is_completed() for w in ws)
    check("isend/irecv", y, vals(prv), ember.float16)
    if DEVICE == "cpu":
        if R == 0:
            got = set()
            for _ in range(N - 1):
                z = t(np.zeros(1), ember.int64)
                src = dist.recv(z)
                assert int(z.item()) == src * 11, (src, z)
                got.add(src)
            assert got == set(range(1, N))
        else:
            dist.send(t([R * 11], ember.int64), 0)

    # ---- groups
    g = dist.new_group([0, N - 1])
    if R in (0, N - 1):
        assert dist.get_world_size(g) == 2 and dist.get_rank(g) == (0 if R == 0 else 1)
        assert dist.get_process_group_ranks(g) == [0, N - 1]
        x = t(vals(R), ember.float32)
        dist.all_reduce(x, group=g)
        check("group all_reduce", x, vals(0) + vals(N - 1), ember.float32)
        x = t(vals(R), ember.float32)
        dist.broadcast(x, src=N - 1, group=g)  # src is a global rank, as in PyTorch
        check("group broadcast", x, vals(N - 1), ember.float32)
    else:
        assert g is dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(g) == -1 and dist.get_world_size(g) == -1
        x = t(vals(R), ember.float32)
        assert dist.all_reduce(x, group=g) is None  # not a member: no-op
        check("non-member untouched", x, vals(R), ember.float32)
    assert dist.get_backend(g) == dist.get_backend() if R in (0, N - 1) else True

# ---- objects
objs = [{"rank": R}, "x" * R, None] if R == 1 else [None, None, None]
dist.broadcast_object_list(objs, src=1 if N > 1 else 0)
if N > 1:
    assert objs == [{"rank": 1}, "x", None], objs
gathered = [None] * N
dist.all_gather_object(gathered, ("r", R, [R] * R))
assert gathered == [("r", r, [r] * r) for r in range(N)], gathered
lst = [None] * N if R == 0 else None
dist.gather_object(R * 2, lst, dst=0)
if R == 0:
    assert lst == [2 * r for r in range(N)]
out = [None]
dist.scatter_object_list(out, [f"to{r}" for r in range(N)] if R == 0 else None, src=0)
assert out == [f"to{R}"]

# ---- errors: PyTorch's types and messages, nothing sent
x = t(vals(R), ember.float32)
for call, exc, msg in [
    (lambda: dist.all_reduce([1, 2]), TypeError, "Expected parameter `tensor`"),
    (lambda: dist.all_reduce(x, op=Op.BAND), RuntimeError, "non-integral"),
    (lambda: dist.broadcast(x, src=N + 5), ValueError, "not part of group"),
    (lambda: dist.all_gather([x] * (N + 1), x), RuntimeError, "expected length"),
    (lambda: dist.all_gather([t(np.zeros(2), ember.float32)] * N, x), RuntimeError,
     "invalid tensor size"),
    (lambda: dist.all_gather_into_tensor(t(np.zeros(5), ember.float32), x), ValueError,
     "world_size times"),
    (lambda: dist.send(x, R), ValueError, "should not be the same"),
    (lambda: dist.gather(x, None, dst=R), ValueError, "must be specified on destination"),
    (lambda: dist.scatter(x, None, src=R), ValueError, "must be specified on source"),
    (lambda: dist.new_group(list(range(N + 1))), ValueError, "world size"),
    (lambda: dist.init_process_group("gloo"), ValueError, "twice"),
]:
    try:
        call()
    except exc as e:
        assert msg in str(e), (msg, str(e))
    else:
        raise AssertionError(f"expected {exc.__name__} ({msg})")
check("untouched after errors", x, vals(R), ember.float32)
if DEVICE == "cuda":
    try:
        dist.all_reduce(ember.ones(2))
    except RuntimeError as e:
        assert "device type cpu" in str(e)
    else:
        raise AssertionError("nccl with a CPU tensor must raise")

dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
try:
    dist.get_rank()
except ValueError as e:
    assert "has not been initialized" in str(e)
else:
    raise AssertionError("get_rank after destroy must raise")
print(f"rank {R}/{N} OK", flush=True)
