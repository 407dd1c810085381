"""A 784-128-64-10 multilayer perceptron on Fashion-MNIST (cross-entropy, plain SGD).

    python -m ember.compat examples/mlp.py [--epochs 10] [--lr 0.01] [--device cuda]

Prints the training loss and test accuracy per epoch and plots both to runs/mlp.png.
"""

import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from common import Timer, first, parser, plot, setup
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from tqdm import tqdm


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main():
    args = parser(__doc__.splitlines()[0], epochs=10, batch_size=64, lr=0.01).parse_args()
    device = setup(args)
    timer = Timer()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    trainset = datasets.FashionMNIST(args.data, train=True, download=True, transform=transform)
    testset = datasets.FashionMNIST(args.data, train=False, transform=transform)
    trainloader = DataLoader(first(trainset, 3 * args.batch_size, args.smoke),
                             batch_size=args.batch_size, shuffle=True)
    testloader = DataLoader(first(testset, 2 * args.batch_size, args.smoke), batch_size=500)

    net = Net().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr)
    losses, accuracies = [], []
    for epoch in range(args.epochs):
        net.train()
        running_loss = 0.0
        for inputs, labels in tqdm(trainloader, desc=f"epoch {epoch + 1}", leave=False):
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        losses.append(running_loss / len(trainloader))

        net.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in testloader:
                images, labels = images.to(device), labels.to(device)
                predicted = net(images).argmax(1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        accuracies.append(100 * correct / total)
        print(f"Epoch {epoch + 1}, loss: {losses[-1]:.4f}, test accuracy: "
              f"{accuracies[-1]:.2f}%  [{timer.minutes:.1f} min]", flush=True)

    plot(os.path.join(args.out, "mlp.png"), {"training loss": {"loss": losses},
                                              "test accuracy (%)": {"accuracy": accuracies}})


if __name__ == "__main__":
    main()
