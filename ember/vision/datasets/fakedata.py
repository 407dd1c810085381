"""``FakeData``: random images, following ``torchvision.datasets.FakeData``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import _backend
from ...ops.random import randint, randn
from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``size`` random images of ``image_size`` (C, H, W) with targets in ``[0, num_classes)``.

    Item ``i`` is drawn from a generator seeded with ``i + random_offset``, so it is the same
    every time and the global RNG is left untouched (torchvision saves and restores it).
    Images are ``randn`` noise turned into PIL images by ``ToPILImage``.
    """

    def __init__(self, size: int = 1000, image_size: tuple[int, int, int] = (3, 224, 224),
                 num_classes: int = 10, transform: Callable | None = None,
                 target_transform: Callable | None = None, random_offset: int = 0) -> None:
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        from ..transforms import functional as F

        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        gen = _backend.Generator()
        gen.manual_seed(index + self.random_offset)
        img = randn(*self.image_size, generator=gen)
        target = int(randint(0, self.num_classes, size=(1,), generator=gen)[0])
        img = F.to_pil_image(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return self.size
