"""PyTorch's own DDP over gloo (started with torchrun) on the data of ddp.py, from the same
initial parameters; rank 0 checks its trained parameters against ember's. Usage:
torch_ddp.py EMBER_OUT.npz"""

import os
import sys

import numpy as np
import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import LR, MOMENTUM, STEPS, data  # noqa: E402

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()
saved = np.load(sys.argv[1])
model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                            torch.nn.Linear(4 * 4 * 4, 3))
model.load_state_dict({k[5:]: torch.from_numpy(saved[k]) for k in saved.files
                       if k.startswith("init/")})
ddp = torch.nn.parallel.DistributedDataParallel(model)
opt = torch.optim.SGD(ddp.parameters(), lr=LR, momentum=MOMENTUM)
for step in range(STEPS):
    x, y = data(step, 4 * N)
    opt.zero_grad()
    torch.nn.functional.mse_loss(ddp(torch.from_numpy(x[R::N])),
                                 torch.from_numpy(y[R::N])).backward()
    opt.step()
for k, v in model.state_dict().items():
    np.testing.assert_allclose(v.numpy(), saved[f"final/{k}"], rtol=1e-4, atol=1e-5,
                               err_msg=f"torch DDP vs ember DDP {k}")
dist.destroy_process_group()
print(f"rank {R}/{N} OK", flush=True)
