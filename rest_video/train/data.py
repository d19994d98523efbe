"""Training photos: folders of images, held in memory, served as random crops."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from rest_video.core.errors import ConfigError
from rest_video.io.image import IMAGE_EXTS


def list_images(folders: list[str] | tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        p = Path(folder)
        if not p.is_dir():
            raise ConfigError(f"data.folders: not a folder: {p}")
        files += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise ConfigError(f"data.folders: no images found in {list(folders)}")
    return files


class PhotoCrops:
    """Random ``crop`` x ``crop`` RGB crops (with horizontal flips) from a set of photos.

    Images are decoded once and resized so their short side is ``min_side`` (never below ``crop``).
    """

    def __init__(self, folders, crop: int = 192, min_side: int = 256) -> None:
        self.files = list_images(folders)
        self.crop = crop
        short = max(min_side, crop)
        self.images: list[np.ndarray] = []
        for f in self.files:
            img = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if img is None:
                continue
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            h, w = img.shape[:2]
            s = short / min(h, w)
            if s < 1.0 or min(h, w) < crop:
                img = cv2.resize(
                    img, (max(crop, round(w * s)), max(crop, round(h * s))), interpolation=cv2.INTER_AREA
                )
            self.images.append(img)
        if not self.images:
            raise ConfigError("data.folders: none of the images could be read")

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, n: int, rng: np.random.Generator) -> Tensor:
        """``(n, 3, crop, crop)`` float in ``[0, 1]``."""
        out = np.empty((n, self.crop, self.crop, 3), dtype=np.uint8)
        for i in range(n):
            img = self.images[int(rng.integers(len(self.images)))]
            h, w = img.shape[:2]
            y = int(rng.integers(h - self.crop + 1))
            x = int(rng.integers(w - self.crop + 1))
            c = img[y : y + self.crop, x : x + self.crop]
            if rng.random() < 0.5:
                c = c[:, ::-1]
            out[i] = c
        return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255.0)
