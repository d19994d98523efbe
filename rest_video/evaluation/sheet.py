"""Contact sheets: one row per content/style pair (style | content | each method's output), labelled.

So anyone can look at an evaluation, not only read its numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from rest_video.core.errors import ConfigError

SHEET_SKIP = ("rest-untrained", "histmatch")  # rows of the table that the sheet leaves out
SHEET_FIRST = ("reinhard", "rgb-adain")  # the baselines come first, then rest-video and its ablations
_LABEL_H = 22
_GAP = 4


def sheet_columns(methods: Sequence[str]) -> list[str]:
    """The methods a sheet shows, in sheet order: baselines, then the rest (rest-video, ablations)."""
    shown = [m for m in methods if m not in SHEET_SKIP]
    return [m for m in SHEET_FIRST if m in shown] + [m for m in shown if m not in SHEET_FIRST]


def fit_tile(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize ``img`` (RGB uint8) to fit ``height`` x ``width``, centred on a white tile."""
    h, w = img.shape[:2]
    s = min(height / h, width / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    tile = np.full((height, width, 3), 255, np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    tile[y:y + nh, x:x + nw] = small
    return tile


class ContactSheet:
    """Collects rows of images and writes them as one labelled picture.

    Columns: ``style``, ``content``, then ``methods`` in the given order.
    """

    def __init__(self, methods: Sequence[str], tile: tuple[int, int] = (150, 225)) -> None:
        self.columns = ["style", "content", *methods]
        self.methods = list(methods)
        self.tile = tile
        self.rows: list[np.ndarray] = []

    def add_row(self, style: np.ndarray, content: np.ndarray, outputs: Mapping[str, np.ndarray]) -> None:
        """Add one pair; ``outputs`` maps every sheet method to its RGB uint8 output (others are ignored)."""
        missing = [m for m in self.methods if m not in outputs]
        if missing:
            raise ConfigError(f"contact sheet: no output for {', '.join(missing)}")
        h, w = self.tile
        tiles = [fit_tile(style, h, w), fit_tile(content, h, w)] + [
            fit_tile(outputs[m], h, w) for m in self.methods
        ]
        self.rows.append(np.concatenate(spaced(tiles, axis=1), axis=1))

    def render(self) -> np.ndarray:
        """The sheet as RGB uint8: a header of column names, then the rows."""
        if not self.rows:
            raise ConfigError("contact sheet has no rows")
        width = self.rows[0].shape[1]
        header = np.full((_LABEL_H, width, 3), 255, np.uint8)
        for i, name in enumerate(self.columns):
            x = i * (self.tile[1] + _GAP) + 4
            cv2.putText(
                header, name, (x, _LABEL_H - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA
            )
        return np.concatenate(spaced([header, *self.rows], axis=0), axis=0)

    def save(self, path: str | Path) -> Path:
        """Write the sheet (PNG, JPEG or WebP by extension), atomically."""
        from rest_video.io.image import write_image

        write_image(path, self.render(), quality=90)
        return Path(path)


def spaced(parts: list[np.ndarray], axis: int) -> list[np.ndarray]:
    """``parts`` with white gaps of ``_GAP`` pixels between them along ``axis``."""
    out: list[np.ndarray] = []
    for i, p in enumerate(parts):
        if i:
            shape = list(p.shape)
            shape[axis] = _GAP
            out.append(np.full(shape, 255, np.uint8))
        out.append(p)
    return out
