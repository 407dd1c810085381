"""An image classifier trained from a folder of images (torchvision's ImageFolder layout).

    python -m ember.compat examples/imagefolder_classifier.py --make-demo-folder
    python -m ember.compat examples/imagefolder_classifier.py --folder path/to/images

The folder holds ``train/<class>/*.png`` and ``val/<class>/*.png`` (any image format Pillow
reads). ``--make-demo-folder`` first writes such a folder from Fashion-MNIST: colour-tinted
48x48 RGB images, ``--per-class`` of them per class for training and a quarter as many for
validation. Images are resized, centre-cropped, converted and normalised by DataLoader worker
processes; a small CNN is trained with Adam. Prints the validation accuracy per epoch and saves
runs/imagefolder_classifier.png: validation images with predicted and true classes.
"""

import os
import random

import torch
import torch.nn as nn
from common import Timer, parser, plot, setup
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from tqdm import tqdm


def make_demo_folder(root, data, per_class, seed):
    """Write Fashion-MNIST images as tinted RGB PNGs into root/{train,val}/<class>/."""
    source = datasets.FashionMNIST(data, train=True, download=True)
    rng = random.Random(seed)
    want = {"train": per_class, "val": max(1, per_class // 4)}
    counts = {(split, c): 0 for split in want for c in range(10)}
    for i in rng.sample(range(len(source)), len(source)):
        img, label = source[i]
        split = next((s for s in want if counts[s, label] < want[s]), None)
        if split is None:
            if all(counts[k] >= want[k[0]] for k in counts):
                break
            continue
        name = source.classes[label].replace("/", "-")
        folder = os.path.join(root, split, name)
        os.makedirs(folder, exist_ok=True)
        tint = [rng.uniform(0.4, 1.0) for _ in range(3)]
        grey = img.resize((48, 48))
        channels = [grey.point(lambda v, f=f: int(v * f)) for f in tint]
        Image.merge("RGB", channels).save(os.path.join(folder, f"{counts[split, label]}.png"))
        counts[split, label] += 1
    print(f"wrote {sum(counts.values())} images to {root}")


def small_cnn(num_classes):
    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True), nn.MaxPool2d(2))

    return nn.Sequential(block(3, 16), block(16, 32), block(32, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes))


def show_predictions(path, images, predicted, truth, classes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(len(images), 16)
    fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(1.6 * ((n + 1) // 2), 4), squeeze=False)
    mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, p, t in zip(axes.flat, images[:n], predicted[:n], truth[:n]):
        ax.imshow((img * std + mean).clamp(0, 1).permute(1, 2, 0).numpy())
        ax.set_title(f"{classes[p]}\n({classes[t]})", fontsize=7,
                     color="green" if p == t else "red")
    fig.suptitle("predicted (true)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")


MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def main():
    p = parser(__doc__.splitlines()[0], epochs=5, batch_size=32, lr=1e-3)
    p.add_argument("--folder", default=os.path.join("data", "demo_images"))
    p.add_argument("--make-demo-folder", action="store_true")
    p.add_argument("--per-class", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    device = setup(args)
    timer = Timer()
    if args.make_demo_folder:
        make_demo_folder(args.folder, args.data, 4 if args.smoke else args.per_class, args.seed)
    if not os.path.isdir(os.path.join(args.folder, "train")):
        p.error(f"{args.folder}/train does not exist: pass --make-demo-folder to create it")

    transform = transforms.Compose([transforms.Resize(36), transforms.CenterCrop(32),
                                    transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    train_set = datasets.ImageFolder(os.path.join(args.folder, "train"), transform=transform)
    val_set = datasets.ImageFolder(os.path.join(args.folder, "val"), transform=transform)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.workers, persistent_workers=args.workers > 0)
    val_loader = DataLoader(val_set, batch_size=64, num_workers=args.workers)
    print(f"{len(train_set)} training and {len(val_set)} validation images, "
          f"classes: {', '.join(train_set.classes)}")

    model = small_cnn(len(train_set.classes)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    losses, accuracies = [], []
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for images, labels in tqdm(train_loader, desc=f"epoch {epoch}", leave=False):
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(images)
        losses.append(total / len(train_set))

        model.eval()
        correct = 0
        shown = None
        with torch.no_grad():
            for images, labels in val_loader:
                predicted = model(images.to(device)).argmax(1).cpu()
                correct += (predicted == labels).sum().item()
                if shown is None:
                    shown = (images, predicted.tolist(), labels.tolist())
        accuracies.append(100 * correct / len(val_set))
        print(f"epoch {epoch}: train loss {losses[-1]:.4f}, validation accuracy "
              f"{accuracies[-1]:.1f}%  [{timer.minutes:.1f} min]", flush=True)

    show_predictions(os.path.join(args.out, "imagefolder_classifier.png"), *shown,
                     train_set.classes)
    plot(os.path.join(args.out, "imagefolder_classifier_curves.png"),
         {"training loss": {"loss": losses}, "validation accuracy (%)": {"val": accuracies}})


if __name__ == "__main__":
    main()
