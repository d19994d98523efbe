"""Stand-ins for the network in stream and live tests: a known global colour grade (what a LUT can
represent exactly) and a moving test pattern."""

import time

import cv2
import numpy as np

from rest_video.core.config import PipelineConfig, check_strength


class GradeStylizer:
    """Stands in for Stylizer: a global colour grade scaled by strength (what a LUT can represent)."""

    cfg = PipelineConfig()

    def __init__(self, delay: float = 0.0) -> None:
        self.calls, self.delay, self.filters, self.weights = [], delay, [], []

    def resolve_strength(self, strength):
        return 1.0 if strength is None else check_strength(strength)

    def stylize(self, frames, style, strength=None, stats_filter=None):
        self.calls.append(frames.shape)
        self.filters.append(stats_filter)
        self.weights.append(
            getattr(stats_filter, "smoothing", None)
        )  # the weight of the past it was called with
        if self.delay:
            time.sleep(self.delay * frames.shape[0] * frames.shape[1] / (64 * 48))
        a = 1.0 if strength is None else strength
        x = frames.astype(np.float32) / 255
        y = np.stack([x[..., 0] ** 0.7, 0.8 * x[..., 1] + 0.1 * style, x[..., 2] ** 1.3], -1)
        return np.rint(255 * np.clip(a * y + (1 - a) * x, 0, 1)).astype(np.uint8)

    def finish(self, frames, stylized, work=None):
        return stylized


def frame(i: int, w: int = 96, h: int = 72) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(x * 2 + i) % 256, (y * 3 + 2 * i) % 256, (x + y + 5 * i) % 256], -1).astype(np.uint8)


def psnr(a, b):
    return 10 * np.log10(255 ** 2 / max(np.mean((a.astype(float) - b.astype(float)) ** 2), 1e-12))


class MeanStylizer(GradeStylizer):
    """A look that depends on the frame's own statistics (as AdaIN's does): each channel's mean is
    pulled to mid-grey, so a LUT fitted on one frame differs from one fitted on a brighter frame."""

    def stylize(self, frames, style, strength=None, stats_filter=None):
        self.calls.append(frames.shape)
        x = frames.astype(np.float32) / 255
        y = x + (0.5 - x.reshape(-1, 3).mean(0))
        return np.rint(255 * np.clip(y, 0, 1)).astype(np.uint8)


class SharpenStylizer(GradeStylizer):
    """The grade plus more local contrast (fine detail of the luma doubled, per channel alike): a look
    no colour LUT alone can hold, as the real network's is (:mod:`rest_video.ops.detail`)."""

    def stylize(self, frames, style, strength=None, stats_filter=None):
        graded = super().stylize(frames, style, strength, stats_filter).astype(np.float32)
        y = cv2.cvtColor(frames, cv2.COLOR_RGB2GRAY).astype(np.float32)
        fine = y - cv2.GaussianBlur(y, (0, 0), 1.5)
        a = 1.0 if strength is None else strength
        return np.clip(np.rint(graded + a * fine[..., None]), 0, 255).astype(np.uint8)


def textured(i: int, w: int = 96, h: int = 72) -> np.ndarray:
    """:func:`frame` with a fixed fine texture on it (detail for :class:`SharpenStylizer`)."""
    tex = np.random.default_rng(7).integers(-24, 25, (h, w, 1))
    return np.clip(frame(i, w, h).astype(int) // 2 + 64 + tex, 0, 255).astype(np.uint8)
