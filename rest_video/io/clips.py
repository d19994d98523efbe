"""Frames of a clip as a list, for measurements and LUT fitting: the one clip reader.

Long clips belong to the streaming :class:`~rest_video.io.video.VideoReader`; this is for the few
dozen frames a measurement or a LUT fit looks at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Collection

import numpy as np

from rest_video.core.errors import MediaError
from rest_video.io.image import is_image_path, read_image
from rest_video.io.video import VideoReader
from rest_video.ops.color import downscale, resize


def read_clip(path: str | Path, frames: int | None = None, *, start: int = 0, side: int | None = None,
              size: tuple[int, int] | None = None, pick: Collection[int] | None = None) -> list[np.ndarray]:
    """RGB uint8 frames of a video: ``frames`` of them from index ``start`` (None: to the end), or
    the indices in ``pick``; each shrunk so its long side is at most ``side``, or resized to ``size``
    ``(width, height)``."""
    last = None if frames is None else start + frames
    if pick is not None:
        pick = set(pick)
        last = max(pick) + 1 if pick else 0
    out = []
    with VideoReader(path) as reader:
        for fr in reader.frames(max_frames=last):
            if fr.index < start or (pick is not None and fr.index not in pick):
                continue
            rgb = downscale(fr.rgb, side) if side else fr.rgb
            out.append(resize(rgb, size) if size else rgb)
    return out


def frame_count(path: str | Path) -> int:
    """Frames in a video: the container's count, or decoded and counted when it does not say."""
    with VideoReader(path) as reader:
        total = reader.info.frames
    if total <= 0:
        with VideoReader(path) as reader:
            total = sum(1 for _ in reader.frames())
    return total


def spread_frames(path: str | Path, count: int = 8) -> list[np.ndarray]:
    """An image as one frame, or ``count`` frames spread evenly over a video (RGB uint8)."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"content not found: {p}")
    if is_image_path(p):
        return [read_image(p)]
    total = frame_count(p)
    want = np.linspace(0, max(total - 1, 0), min(count, max(total, 1))).round().astype(int).tolist()
    frames = read_clip(p, pick=want)
    if not frames:
        raise MediaError(f"no decodable frames in {p}")
    return frames
