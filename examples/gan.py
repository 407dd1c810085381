"""A generative adversarial network that learns to draw Fashion-MNIST clothes (or MNIST digits).

    python -m ember.compat examples/gan.py [--epochs 10] [--device cuda]
    python -m ember.compat examples/gan.py --dataset mnist --split test  # digits

Fully connected generator (64-d noise -> 256 -> 512 -> 784, tanh) and discriminator
(784 -> 512 -> 256 -> 1 logit), both trained with Adam on BCEWithLogitsLoss. After every epoch
the generator draws the same 64 noise vectors into a ``make_grid`` sheet,
runs/gan_epoch_<n>.png; runs/gan_losses.png plots both losses.
(../shared/data holds MNIST's 10,000 test digits only; elsewhere the training split downloads.)
"""

import os

import torch
import torch.nn as nn
from common import Timer, first, parser, plot, setup
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from torchvision.utils import make_grid, save_image
from tqdm import tqdm

LATENT = 64


def generator():
    return nn.Sequential(nn.Linear(LATENT, 256), nn.LeakyReLU(0.2),
                         nn.Linear(256, 512), nn.LeakyReLU(0.2),
                         nn.Linear(512, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))


def discriminator():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.LeakyReLU(0.2),
                         nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))


def main():
    p = parser(__doc__.splitlines()[0], epochs=10, batch_size=128, lr=2e-4)
    p.add_argument("--dataset", choices=["fashion", "mnist"], default="fashion")
    p.add_argument("--split", choices=["train", "test"], default="train")
    args = p.parse_args()
    device = setup(args)
    timer = Timer()
    kind = datasets.FashionMNIST if args.dataset == "fashion" else datasets.MNIST
    data = kind(args.data, train=args.split == "train", download=True,
                transform=transforms.Compose([transforms.ToTensor(),
                                              transforms.Normalize((0.5,), (0.5,))]))
    loader = DataLoader(first(data, 3 * args.batch_size, args.smoke),
                        batch_size=args.batch_size, shuffle=True, drop_last=True)

    G, D = generator().to(device), discriminator().to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    criterion = nn.BCEWithLogitsLoss()
    fixed_noise = torch.randn(64, LATENT, device=device)
    history = {"discriminator": [], "generator": []}

    for epoch in range(1, args.epochs + 1):
        sums = [0.0, 0.0]
        for real, _ in tqdm(loader, desc=f"epoch {epoch}", leave=False):
            real = real.to(device)
            n = real.size(0)
            ones = torch.ones(n, 1, device=device)
            zeros = torch.zeros(n, 1, device=device)

            # discriminator: real images -> 1, generated ones -> 0
            fake = G(torch.randn(n, LATENT, device=device))
            loss_d = criterion(D(real), ones) + criterion(D(fake.detach()), zeros)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()

            # generator: make the discriminator answer 1
            loss_g = criterion(D(fake), ones)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            sums[0] += loss_d.item()
            sums[1] += loss_g.item()

        history["discriminator"].append(sums[0] / len(loader))
        history["generator"].append(sums[1] / len(loader))
        with torch.no_grad():
            G.eval()
            sheet = make_grid(G(fixed_noise).cpu(), nrow=8, normalize=True, value_range=(-1, 1))
            G.train()
        path = os.path.join(args.out, f"gan_epoch_{epoch}.png")
        save_image(sheet, path)
        print(f"epoch {epoch}: D loss {history['discriminator'][-1]:.3f}, G loss "
              f"{history['generator'][-1]:.3f}, samples in {path}  [{timer.minutes:.1f} min]",
              flush=True)
    plot(os.path.join(args.out, "gan_losses.png"), {"loss": history})


if __name__ == "__main__":
    main()
