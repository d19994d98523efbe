"""Label masks: images (or a video) painted in the flat colours of :mod:`rest_video.core.mask_colours`,
read as ``(H, W)`` uint8 label maps.

- Every pixel gets the label of the nearest table colour. A pixel that is not clearly inside a
  region (more than :data:`CONFIDENT` levels from the nearest colour, or with another colour among
  its 3x3 neighbours) then takes the label of the nearest pixel that is: anti-aliased border pixels
  join a region on either side, and a black-white border does not grow a thin "grey" region of
  its mid-grey pixels. (So a region thinner than 3 pixels is dropped into its neighbours; a mask
  with no such clear pixel at all is snapped pixel by pixel.)
- A mask of another size than its image is resized to it with nearest neighbour (after snapping).
- A content mask for a video is one image (a static camera) or a mask video with exactly the
  video's frame count (:class:`ContentMaskSource`).

Problems are :class:`~rest_video.core.errors.MediaError` with one line (the CLI: exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from rest_video.core.errors import MediaError, ShapeError
from rest_video.core.mask_colours import COLOURS
from rest_video.io.image import is_image_path, read_image

PALETTE = np.array([rgb for _, rgb in COLOURS], dtype=np.int32)  # (L, 3)

CONFIDENT = 48
"""Levels (RGB Euclidean distance) within which a pixel is clearly one table colour. The table's
closest pair (grey to any other colour) is 128 apart, so JPEG and codec noise stay well inside."""


def snap_labels(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 mask colours -> ``(H, W)`` uint8 labels (see the module docstring)."""
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ShapeError(f"a colour mask must be (H, W, 3), got shape {tuple(rgb.shape)}")
    h, w = rgb.shape[:2]
    labels, best = _nearest(rgb.reshape(-1, 3))
    grid = labels.reshape(h, w)
    k = np.ones((3, 3), np.uint8)
    mixed = cv2.erode(grid, k, borderType=cv2.BORDER_REPLICATE) != cv2.dilate(
        grid, k, borderType=cv2.BORDER_REPLICATE
    )
    unsure = (best > CONFIDENT ** 2) | mixed.reshape(-1)
    if unsure.any() and not unsure.all():
        src = unsure.reshape(h, w).astype(np.uint8)  # 0 at the sure pixels: the seeds
        _, nearest = cv2.distanceTransformWithLabels(src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        seeds = labels[~unsure]  # label i + 1 of distanceTransformWithLabels = the i-th seed in raster order
        labels = seeds[nearest.reshape(-1) - 1]
    return labels.reshape(h, w)


_TABLE: tuple[np.ndarray, np.ndarray] | None = None


def _nearest(px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest table colour (label, squared distance) of ``px`` ``(N, 3)`` uint8, looked up on a
    32^3 grid of colours (5 bits per channel; a colour is at most 4 levels per channel from its
    grid cell's centre, far below :data:`CONFIDENT`): one gather per pixel."""
    global _TABLE
    if _TABLE is None:
        c = (np.arange(32, dtype=np.int32) << 3) + 4
        grid = np.stack(np.meshgrid(c, c, c, indexing="ij"), -1).reshape(-1, 3)
        d2 = ((grid[:, None, :] - PALETTE[None]) ** 2).sum(-1)
        _TABLE = (d2.argmin(1).astype(np.uint8), d2.min(1).astype(np.int32))
    idx = (
        (px[:, 0].astype(np.int32) >> 3) << 10
        | (px[:, 1].astype(np.int32) >> 3) << 5
        | (px[:, 2].astype(np.int32) >> 3)
    )
    return _TABLE[0][idx], _TABLE[1][idx]


def fit_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``labels`` ``(h, w)`` resized to ``size`` ``(width, height)`` with nearest neighbour (as is
    when equal)."""
    w, h = size
    if labels.shape == (h, w):
        return labels
    return cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)


def as_labels(mask: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """A mask given as an array: ``(H, W)`` integer labels (indices into the colour table) or
    ``(H, W, 3)`` uint8 colours (snapped); resized to ``size`` ``(width, height)`` if given."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 3 and mask.dtype == np.uint8:
        labels = snap_labels(mask)
    elif mask.ndim == 2 and np.issubdtype(mask.dtype, np.integer):
        if mask.size and (int(mask.min()) < 0 or int(mask.max()) >= len(COLOURS)):
            raise ShapeError(
                f"mask labels must be in 0..{len(COLOURS) - 1}, got {int(mask.min())}..{int(mask.max())}"
            )
        labels = mask.astype(np.uint8, copy=False)
    else:
        raise ShapeError(f"a mask must be (H, W) integer labels or (H, W, 3) uint8 colours, "
                         f"got {mask.dtype} {tuple(mask.shape)}")
    return fit_labels(labels, size) if size is not None else labels


def read_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """A mask image as ``(H, W)`` uint8 labels, resized (nearest) to ``size`` ``(width, height)``."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"mask not found: {p}" if not p.exists() else f"mask is not a file: {p}")
    try:
        rgb = read_image(p)
    except MediaError:
        raise MediaError(f"not a readable mask image: {p}") from None
    return as_labels(rgb, size)


class ContentMaskSource:
    """The content mask of a video, frame by frame: one image for every frame, or a mask video
    whose frame count must equal the video's (checked when opened).

    Args:
        path: mask image or mask video.
        size: the video's frame size ``(width, height)``; masks are resized to it.
        frames: the video's frame count (needed for a mask video; None: not checked).
    """

    def __init__(self, path: str | Path, size: tuple[int, int], frames: int | None = None) -> None:
        self.path, self.size = Path(path), size
        self._static: np.ndarray | None = None
        self._iter: Iterator | None = None
        self._reader = None
        if not self.path.is_file():
            raise MediaError(f"content mask not found: {self.path}")
        if is_image_path(self.path):
            self._static = read_mask(self.path, size)
            return
        from rest_video.io.clips import frame_count

        try:
            n = frame_count(self.path)
        except MediaError:
            raise MediaError(f"content mask is neither an image nor a readable video: {self.path}") from None
        if frames is not None and n != frames:
            raise MediaError(f"content mask video {self.path} has {n} frames, the video has {frames}; "
                             "they must be equal (or give one mask image for every frame)")
        self.frames = n

    @property
    def static(self) -> np.ndarray | None:
        """The labels of a one-image mask (None for a mask video)."""
        return self._static

    def next(self) -> np.ndarray:
        """The labels for the next video frame."""
        if self._static is not None:
            return self._static
        if self._iter is None:
            from rest_video.io.video import VideoReader

            self._reader = VideoReader(self.path)
            self._iter = iter(self._reader.frames())
        fr = next(self._iter, None)
        if fr is None:
            raise MediaError(f"content mask video {self.path} ended before the video did")
        return as_labels(fr.rgb, self.size)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = self._iter = None

    def __enter__(self) -> "ContentMaskSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
