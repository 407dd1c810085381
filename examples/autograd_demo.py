"""A short tour of ember's autograd: the same code runs under PyTorch.

    python examples/autograd_demo.py
"""

import ember as torch

# f(x, y) = x^2 + y^2 at (1, 2): df/dx = 2, df/dy = 4
x = torch.tensor([1.0], requires_grad=True)
y = torch.tensor([2.0], requires_grad=True)
z = x**2 + y**2
z.backward()
print("z =", z)
print("dz/dx =", x.grad, " dz/dy =", y.grad)

# Fit y = 3x + 1 by gradient descent on a dynamic graph.
torch.manual_seed(0)
xs = torch.linspace(-1, 1, 64).reshape(64, 1)
ys = 3 * xs + 1 + 0.05 * torch.randn(64, 1)
w = torch.zeros(1, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for _ in range(200):
    loss = ((xs @ w + b - ys) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    w.grad = None
    b.grad = None
print(f"fitted w = {w.item():.3f}, b = {b.item():.3f} (true 3, 1), loss = {loss.item():.5f}")
