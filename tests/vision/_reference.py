"""Reference implementations for the transform tests, written with torch ops from the
formulas torchvision documents (affine/perspective sampling grids fed to
``torch.nn.functional.grid_sample``, Gaussian kernels fed to ``conv2d``)."""

from __future__ import annotations

import math

import torch
from torch.nn.functional import conv2d, grid_sample, pad


def _base(oh: int, ow: int, x0: float, y0: float, dtype) -> torch.Tensor:
    """[1, oh, ow, 3] grid of (x, y, 1) at output pixel centers, starting at (x0, y0)."""
    base = torch.empty(1, oh, ow, 3, dtype=dtype)
    base[..., 0].copy_(torch.linspace(x0, x0 + ow - 1, steps=ow))
    base[..., 1].copy_(torch.linspace(y0, y0 + oh - 1, steps=oh).unsqueeze(-1))
    base[..., 2].fill_(1)
    return base


def affine_grid(matrix, w, h, ow, oh, dtype):
    """Output pixel centers relative to the output center, mapped by the inverse matrix and
    normalised by the input half-size (grid_sample, align_corners=False)."""
    theta = torch.tensor(matrix, dtype=dtype).reshape(2, 3)
    base = _base(oh, ow, -ow * 0.5 + 0.5, -oh * 0.5 + 0.5, dtype)
    scale = torch.tensor([0.5 * w, 0.5 * h], dtype=dtype)
    return (base.view(1, oh * ow, 3) @ (theta.T / scale)).view(1, oh, ow, 2)


def perspective_grid(c, ow, oh, dtype):
    """Pillow's perspective map (x, y) -> ((ax+by+c)/(gx+hy+1), (dx+ey+f)/(gx+hy+1)) at the
    output pixel centers, normalised to [-1, 1]."""
    base = _base(oh, ow, 0.5, 0.5, dtype).view(1, oh * ow, 3)
    num = base @ torch.tensor([[c[0], c[3]], [c[1], c[4]], [c[2], c[5]]], dtype=dtype)
    den = base @ torch.tensor([[c[6], c[6]], [c[7], c[7]], [1.0, 1.0]], dtype=dtype)
    return (num / torch.tensor([0.5 * ow, 0.5 * oh], dtype=dtype) / den - 1.0).view(1, oh, ow, 2)


def sample(img: torch.Tensor, grid: torch.Tensor, mode: str, fill) -> torch.Tensor:
    """grid_sample with zero padding; a fill is blended in through a sampled ones-mask."""
    squeeze = img.ndim < 4
    if squeeze:
        img = img.unsqueeze(0)
    out_dtype = img.dtype
    img = img.to(grid.dtype)
    grid = grid.expand(img.shape[0], *grid.shape[1:])
    if fill is not None:
        img = torch.cat((img, torch.ones_like(img[:, :1])), dim=1)
    img = grid_sample(img, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        img, mask = img[:, :-1], img[:, -1:].expand_as(img[:, :-1])
        fill_img = torch.tensor(fill, dtype=img.dtype).view(1, -1, 1, 1).expand_as(img)
        if mode == "nearest":
            img = torch.where(mask < 0.5, fill_img, img)
        else:
            img = img * mask + (1.0 - mask) * fill_img
    if squeeze:
        img = img.squeeze(0)
    if not out_dtype.is_floating_point:
        img = torch.round(img)
    return img.to(out_dtype)


def inverse_affine(center, angle, translate, scale, shear):
    """Inverse of M = T(translate) C R(angle) S(scale) Shy Shx C^-1 (angles in degrees, the
    rotation clockwise in image coordinates), as a flat 2x3 list; computed by inverting the
    forward 3x3 matrix numerically."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    T = torch.tensor([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=torch.float64)
    C = torch.tensor([[1, 0, cx], [0, 1, cy], [0, 0, 1]], dtype=torch.float64)
    R = torch.tensor([[math.cos(rot), -math.sin(rot), 0], [math.sin(rot), math.cos(rot), 0],
                      [0, 0, 1]], dtype=torch.float64)
    S = torch.diag(torch.tensor([scale, scale, 1.0], dtype=torch.float64))
    SHx = torch.tensor([[1, -math.tan(sx), 0], [0, 1, 0], [0, 0, 1]], dtype=torch.float64)
    SHy = torch.tensor([[1, 0, 0], [-math.tan(sy), 1, 0], [0, 0, 1]], dtype=torch.float64)
    M = T @ C @ R @ S @ SHy @ SHx @ torch.linalg.inv(C)
    return torch.linalg.inv(M)[:2].reshape(-1).tolist()


def gaussian_blur(img: torch.Tensor, ksize, sigma) -> torch.Tensor:
    """Reflect-pad and convolve with the normalised Gaussian kernel the docs define."""
    dtype = img.dtype if img.is_floating_point() else torch.float32

    def k1(k, s):
        x = torch.linspace(-(k - 1) / 2, (k - 1) / 2, k, dtype=dtype)
        p = torch.exp(-0.5 * (x / s) ** 2)
        return p / p.sum()

    kernel = k1(ksize[1], sigma[1])[:, None] * k1(ksize[0], sigma[0])[None, :]
    x = img.to(dtype).unsqueeze(0)
    c = x.shape[1]
    x = pad(x, [ksize[0] // 2, ksize[0] // 2, ksize[1] // 2, ksize[1] // 2], mode="reflect")
    x = conv2d(x, kernel.expand(c, 1, *kernel.shape), groups=c)[0]
    return x if img.is_floating_point() else torch.round(x).to(img.dtype)
