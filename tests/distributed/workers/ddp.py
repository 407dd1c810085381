"""Run by tests/distributed/test_ddp.py under ``mpiexec -n N``: DistributedDataParallel on split
batches against single-process training on the full batch (and, through torch_ddp.py, against
PyTorch's DDP).
Usage: ddp.py [OUT.npz]: rank 0 saves the initial and DDP-trained parameters there for the
PyTorch DDP check (torch_ddp.py)."""

import os
import sys

import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import LR, MOMENTUM, STEPS  # noqa: E402
from common import data as full_data  # noqa: E402

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()
B = 4 * N


def make_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def data(step: int):
    return full_data(step, B)


def train(model, shard: bool) -> None:
    opt = ember.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    for step in range(STEPS):
        x, y = data(step)
        if shard:
            x, y = x[R::N], y[R::N]
        opt.zero_grad()
        nn.functional.mse_loss(model(ember.tensor(x)), ember.tensor(y)).backward()
        opt.step()


def params(model) -> dict:
    return {k.removeprefix("module."): v.detach().numpy().copy()
            for k, v in model.state_dict().items()}


# ---- parity: every rank starts from a different init; DDP broadcasts rank 0's
ember.manual_seed(0)
ref = make_model()
init = params(ref)
ember.manual_seed(R)
model = make_model()
ddp = DDP(model)
assert all(k.startswith("module.") for k in ddp.state_dict()), list(ddp.state_dict())
for k, v in params(ddp).items():
    np.testing.assert_array_equal(v, init[k], err_msg=f"init broadcast {k}")
train(ddp, shard=True)
train(ref, shard=False)
got, want = params(ddp), params(ref)
for k in want:
    np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=f"DDP vs full {k}")

if R == 0 and len(sys.argv) > 1:
    np.savez(sys.argv[1], **{f"init/{k}": v for k, v in init.items()},
             **{f"final/{k}": v for k, v in got.items()})

# ---- no_sync: local accumulation, averaged by the next synced backward
ember.manual_seed(0)
ref = make_model()
ddp = DDP(make_model())
(x1, y1), (x2, y2) = data(10), data(11)
loss = nn.functional.mse_loss
with ddp.no_sync():
    loss(ddp(ember.tensor(x1[R::N])), ember.tensor(y1[R::N])).backward()
g = ddp.module[0].weight.grad.clone()
gs = [ember.zeros_like(g) for _ in range(N)]
dist.all_gather(gs, g)
assert N == 1 or not ember.equal(gs[0], gs[1]), "no_sync must not average"
loss(ddp(ember.tensor(x2[R::N])), ember.tensor(y2[R::N])).backward()
ref.load_state_dict({k.removeprefix("module."): v for k, v in ddp.state_dict().items()})
loss(ref(ember.tensor(x1)), ember.tensor(y1)).backward()
loss(ref(ember.tensor(x2)), ember.tensor(y2)).backward()
for (k, p), q in zip(ddp.module.named_parameters(), ref.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6,
                               err_msg=f"no_sync accumulation {k}")


# ---- unused parameters
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.never = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)

    def forward(self, x, use_b):
        return self.b(self.a(x)) if use_b else self.a(x)


ember.manual_seed(0)
net = DDP(Branchy(), find_unused_parameters=True)
x = ember.ones(3, 2) * (R + 1)
net(x, use_b=(R == 0)).sum().backward()
assert net.module.never.weight.grad is None, "a parameter no rank used keeps grad None"
ember.manual_seed(0)
solo = Branchy()
solo.load_state_dict(net.module.state_dict())
solo(ember.ones(3, 2), use_b=True).sum().backward()  # rank 0's contribution
np.testing.assert_allclose(net.module.b.weight.grad.numpy(), solo.b.weight.grad.numpy() / N,
                           rtol=1e-6, err_msg="locally unused parameter gets the average")
strict = DDP(Branchy())
strict(x, use_b=False).sum().backward()
try:
    strict(x, use_b=False)
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e)
else:
    raise AssertionError("an unused parameter without find_unused_parameters must raise")

# ---- buffers follow rank 0 at every forward
bn = DDP(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
bn.eval()
bn.module[1].running_mean.fill_(float(R + 5))
with ember.no_grad():
    bn(ember.ones(2, 2))
assert ember.equal(bn.module[1].running_mean, ember.full((2,), 5.0))

# ---- DistributedSampler takes rank and world size from the process group
sampler = ember.utils.data.DistributedSampler(list(range(10)), shuffle=False)
assert (sampler.num_replicas, sampler.rank) == (N, R)
assert list(sampler) == list(range(10 + (-10) % N))[R::N][:len(sampler)] or \
    list(sampler) == [i % 10 for i in range(R, 10 + (-10) % N, N)]

# ---- constructor errors (PyTorch's types and messages)
for make, exc, msg in [(lambda: DDP(nn.ReLU()), RuntimeError, "doesn't have any parameter"),
                       (lambda: DDP(nn.Linear(2, 2), device_ids=[0]), ValueError, "device_ids"),
                       (lambda: DDP(nn.Linear(2, 2), mixed_precision=object()),
                        NotImplementedError, "mixed_precision")]:
    try:
        make()
    except exc as e:
        assert msg in str(e), (msg, str(e))
    else:
        raise AssertionError(f"expected {exc.__name__} ({msg})")

# ---- a forward without backward (grad enabled) does not trip the unfinished-reduction check
net = DDP(Branchy(), find_unused_parameters=True)
net(x, use_b=True)
net(x, use_b=True).sum().backward()
assert net.module.never.weight.grad is None and net.module.a.weight.grad is not None

dist.destroy_process_group()
print(f"rank {R}/{N} OK", flush=True)
