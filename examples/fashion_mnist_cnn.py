"""Fashion-MNIST with the classic MNIST CNN: ember's main example job.

An ordinary PyTorch program. Run it on ember (on a fresh machine: README's first command):

    python -m ember.compat examples/fashion_mnist_cnn.py              # 2 epochs, >= 89% accuracy
    python -m ember.compat examples/fashion_mnist_cnn.py --epochs 4 --resume   # two more
    python -m ember.compat examples/fashion_mnist_cnn.py --device cuda

The network: conv 32 -> conv 64 -> max-pool -> dropout -> fc 128 -> dropout -> fc 10 with
log_softmax, trained with NLLLoss and SGD with momentum, the learning rate stepped down by StepLR
each epoch. Each epoch prints the training loss and the test loss and accuracy; at the end the
curves go to runs/fashion_mnist_cnn.png and a checkpoint (model, optimizer, scheduler, history)
to runs/fashion_mnist_cnn.pt, from which --resume continues.
"""

import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from common import Timer, first, parser, plot, setup
from torch import optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from tqdm import tqdm


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def train(model, device, loader, optimizer, epoch):
    model.train()
    total, seen = 0.0, 0
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False)
    for data, target in bar:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(data)
        seen += len(data)
        bar.set_postfix(loss=f"{total / seen:.4f}")
    return total / seen


def test(model, device, loader):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            loss += F.nll_loss(output, target, reduction="sum").item()
            correct += (output.argmax(dim=1) == target).sum().item()
    n = len(loader.dataset)
    return loss / n, 100.0 * correct / n


def main():
    p = parser(__doc__.splitlines()[0], epochs=2, batch_size=64, lr=0.03)
    p.add_argument("--test-batch-size", type=int, default=250)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--gamma", type=float, default=0.7, help="StepLR factor per epoch")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    args = p.parse_args()
    device = setup(args)
    timer = Timer()

    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.2860,), (0.3530,))])
    train_set = datasets.FashionMNIST(args.data, train=True, download=True, transform=transform)
    test_set = datasets.FashionMNIST(args.data, train=False, transform=transform)
    train_set = first(train_set, 3 * args.batch_size, args.smoke)
    test_set = first(test_set, 2 * args.batch_size, args.smoke)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.workers)
    test_loader = DataLoader(test_set, batch_size=args.test_batch_size,
                             num_workers=args.workers)

    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    history = {"train loss": [], "test loss": [], "test accuracy": []}
    start = 1
    checkpoint = os.path.join(args.out, "fashion_mnist_cnn.pt")
    if args.resume:
        state = torch.load(checkpoint, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history = state["history"]
        start = state["epoch"] + 1
        print(f"resumed from {checkpoint} after epoch {state['epoch']}")

    for epoch in range(start, args.epochs + 1):
        train_loss = train(model, device, train_loader, optimizer, epoch)
        test_loss, accuracy = test(model, device, test_loader)
        scheduler.step()
        for key, value in zip(history, (train_loss, test_loss, accuracy)):
            history[key].append(value)
        print(f"epoch {epoch}: train loss {train_loss:.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {accuracy:.2f}%  [{timer.minutes:.1f} min]", flush=True)

    torch.save({"epoch": args.epochs, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "history": history}, checkpoint)
    print(f"wrote {checkpoint}")
    plot(os.path.join(args.out, "fashion_mnist_cnn.png"),
         {"loss": {k: history[k] for k in ("train loss", "test loss")},
          "test accuracy (%)": {"test accuracy": history["test accuracy"]}})
    if history["test accuracy"]:
        print(f"final test accuracy: {history['test accuracy'][-1]:.2f}% after "
              f"{len(history['test accuracy'])} epochs ({timer.minutes:.1f} min on {device})")


if __name__ == "__main__":
    main()
