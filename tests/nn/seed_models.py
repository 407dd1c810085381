"""The models the seed articles build, written once against a ``lib`` (``torch`` or ``ember``).

Each builder returns ``(model, input_shape)``; the shape is one batch the model accepts. The seed
texts are followed as printed, except the MNIST CNN, whose printed ``padding=1`` cannot feed its
``Linear(9216, 128)``: it is built the way that works (no padding), as the examples do. The
``Dropout2d`` layers the seeds apply to 2-D activations are kept (PyTorch warns about them and drops
whole features, as ember does).
"""

from __future__ import annotations


def cifar_convnet(lib):
    """Seed 000: the CIFAR-10 ConvNet (conv 6/16, 5x5, max-pool, fc 400-120-84-10)."""
    nn, F = lib.nn, lib.nn.functional

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return ConvNet(), (4, 3, 32, 32)


def mlp(lib):
    """Seed 001: the 784-128-64-10 MLP."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 64)
            self.fc3 = nn.Linear(64, 10)

        def forward(self, x):
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net(), (64, 1, 28, 28)


def alexnet_like(lib):
    """Seed 002: the AlexNet-style ``nn.Sequential`` CNN with a 256*4*4 classifier."""
    nn = lib.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(in_channels=3, out_channels=64, kernel_size=7, stride=2),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(64, 192, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(192, 384, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.Conv2d(384, 256, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.Conv2d(256, 256, kernel_size=3, padding=1),
                nn.ReLU(),
            )
            self.fc = nn.Linear(256 * 4 * 4, 10)

        def forward(self, x):
            x = self.conv(x)
            x = x.view(-1, 256 * 4 * 4)
            return self.fc(x)

    return CNN(), (2, 3, 48, 48)


def dqn(lib):
    """Seed 002: the DQN's 4-128-128-2 ``nn.Sequential`` (CartPole's sizes)."""
    nn = lib.nn

    class DQN(nn.Module):
        def __init__(self, num_inputs, num_actions):
            super().__init__()
            self.layers = nn.Sequential(
                nn.Linear(num_inputs, 128),
                nn.ReLU(),
                nn.Linear(128, 128),
                nn.ReLU(),
                nn.Linear(128, num_actions),
            )

        def forward(self, state):
            return self.layers(state)

    return DQN(4, 2), (32, 4)


def mnist_small_cnn(lib):
    """Seed 002: the MNIST CNN with conv 10/20, ``Dropout2d`` and a 320-50-10 classifier."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.cnn = nn.Sequential(
                nn.Conv2d(1, 10, kernel_size=5),
                nn.MaxPool2d(kernel_size=2),
                nn.ReLU(),
                nn.Conv2d(10, 20, kernel_size=5),
                nn.Dropout2d(),
                nn.MaxPool2d(kernel_size=2),
                nn.ReLU(),
            )
            self.fc = nn.Sequential(
                nn.Linear(320, 50),
                nn.ReLU(),
                nn.Dropout2d(),
                nn.Linear(50, 10),
            )

        def forward(self, x):
            x = self.cnn(x)
            x = x.view(-1, 320)
            return self.fc(x)

    return Net(), (16, 1, 28, 28)


def mnist_cnn(lib):
    """Seed 003: the MNIST CNN (conv 32/64, max-pool, dropout, fc 9216-128-10, log_softmax)."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, kernel_size=3, stride=1)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=1)
            self.dropout1 = nn.Dropout2d(0.25)
            self.dropout2 = nn.Dropout2d(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)

    return Net(), (20, 1, 28, 28)


def linear_regression(lib):
    """Seed 003: ``nn.Linear(1, 1)`` fitted with MSELoss."""
    return lib.nn.Linear(1, 1), (32, 1)


SEED_MODELS = {
    "cifar_convnet": cifar_convnet,
    "mlp": mlp,
    "alexnet_like": alexnet_like,
    "dqn": dqn,
    "mnist_small_cnn": mnist_small_cnn,
    "mnist_cnn": mnist_cnn,
    "linear_regression": linear_regression,
}
