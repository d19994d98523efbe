"""How fast the full network runs here, and which path a run takes (:class:`PathChoice`).

:func:`measure_full_ms` times the network at a frame size (a small probe first, extrapolated when
that is far over the budget); live mode (:mod:`rest_video.live.autopath`) and file mode
(:mod:`rest_video.pipeline.path_choice`) decide between the full network and the LUT path with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from rest_video.engine.stylizer import Stylizer
from rest_video.ops.color import downscale
from rest_video.style import StyleStats


@dataclass(frozen=True)
class PathChoice:
    path: str             # "full" or "lut"
    full_ms: float | None # measured (or extrapolated) full-network ms per frame at the target size
    reason: str


def measure_full_ms(stylizer: Stylizer, style: StyleStats, size: tuple[int, int], budget_ms: float,
                    probe_side: int = 256) -> tuple[float, bool]:
    """Full-network ms per frame at ``size`` ``(w, h)``; returns ``(ms, exact)``.

    A probe at long side ``probe_side`` is timed first; when its extrapolation by pixel count is
    far over ``budget_ms`` that estimate is returned (``exact`` False), else the real size is timed.
    """
    w, h = size
    rng = np.random.default_rng(0)

    def time_it(frame: np.ndarray, runs: int) -> float:
        stylizer.stylize(frame, style)                 # warm-up (allocations, oneDNN primitives)
        best = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            stylizer.stylize(frame, style)
            best = min(best, time.perf_counter() - t0)
        return best * 1000

    frame = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 3)
    probe = downscale(frame, probe_side)
    if probe is not frame:
        estimate = time_it(probe, 1) * (w * h) / (probe.shape[0] * probe.shape[1])
        if estimate > 3 * budget_ms:
            return estimate, False
    return time_it(frame, 2), True
