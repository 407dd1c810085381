"""Transfer learning: a ResNet-18 backbone, frozen, with a new classification head.

    python -m ember.compat examples/transfer_learning.py [--weights resnet18.pth]

``--weights`` loads the backbone from a local ``.pth`` state dict, e.g. torchvision's
ImageNet weights (resnet18-f37072fd.pth), saved by PyTorch or ember; its ``fc`` layer is
dropped. Without it the backbone keeps its random initialisation, which still gives usable
features. The head (a new ``fc`` layer for 10 classes) is the only part trained, on
Fashion-MNIST images made 3-channel and ``--image-size`` pixels square (32 by default, to keep
the CPU time low; ImageNet weights do better at 64 or more); the backbone runs in eval mode so
its batch-norm statistics stay as loaded. Prints the test accuracy per epoch and plots it, with
the training loss, to runs/transfer_learning.png.
"""

import os

import torch
import torch.nn as nn
from common import Timer, first, parser, plot, setup
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, models, transforms
from tqdm import tqdm


def build_model(weights, num_classes):
    model = models.resnet18(weights=None)
    if weights:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("fc.") for k in missing):
            raise SystemExit(f"{weights} is not a ResNet-18 state dict (missing: {missing}, "
                             f"unexpected: {unexpected})")
        print(f"loaded the backbone from {weights}")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes)  # new, trainable head
    return model


def main():
    p = parser(__doc__.splitlines()[0], epochs=3, batch_size=64, lr=1e-3)
    p.add_argument("--weights", help="a ResNet-18 state dict (.pth) for the backbone")
    p.add_argument("--train-size", type=int, default=2000, help="training images used")
    p.add_argument("--test-size", type=int, default=1000)
    p.add_argument("--image-size", type=int, default=32)
    args = p.parse_args()
    device = setup(args)
    if args.smoke:
        args.batch_size = min(args.batch_size, 8)
    timer = Timer()
    transform = transforms.Compose([
        transforms.Grayscale(num_output_channels=3), transforms.Resize(args.image_size),
        transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406],
                                                    [0.229, 0.224, 0.225])])
    train_set = datasets.FashionMNIST(args.data, train=True, download=True, transform=transform)
    test_set = datasets.FashionMNIST(args.data, train=False, transform=transform)
    train_set = Subset(train_set, torch.randperm(len(train_set))[:args.train_size].tolist())
    test_set = Subset(test_set, range(min(args.test_size, len(test_set))))
    train_loader = DataLoader(first(train_set, 2 * args.batch_size, args.smoke),
                              batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(first(test_set, args.batch_size, args.smoke), batch_size=100)

    model = build_model(args.weights, 10).to(device)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    print(f"training {trainable:,} parameters of the head; {frozen:,} backbone parameters "
          "frozen")
    optimizer = torch.optim.Adam(model.fc.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    losses, accuracies = [], []
    for epoch in range(1, args.epochs + 1):
        model.eval()  # frozen backbone: keep its batch-norm statistics
        total = 0.0
        for images, labels in tqdm(train_loader, desc=f"epoch {epoch}", leave=False):
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(images)
        losses.append(total / len(train_loader.dataset))
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (model(images.to(device)).argmax(1).cpu() == labels).sum().item()
        accuracies.append(100 * correct / len(test_loader.dataset))
        print(f"epoch {epoch}: train loss {losses[-1]:.4f}, test accuracy "
              f"{accuracies[-1]:.1f}%  [{timer.minutes:.1f} min]", flush=True)
    plot(os.path.join(args.out, "transfer_learning.png"),
         {"training loss (head)": {"loss": losses},
          "test accuracy (%)": {"accuracy": accuracies}})


if __name__ == "__main__":
    main()
