"""Frame runners: the stylize stage of the pipeline, frames in order in, frames in order out.

``FrameRunner.submit(frame, meta)`` returns the (output, meta) pairs that are finished;
``flush()`` returns the rest. The CPU runner finishes each frame at once; a device runner may keep
a few frames in flight (upload / compute / download overlapped) and return them later, in order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rest_video.engine.stylizer import Stylizer
from rest_video.style import StatsFilter, StyleStats


class FrameRunner:
    """Synchronous runner: one frame (or batch) at a time on the Stylizer's device."""

    def __init__(self, stylizer: Stylizer, style: StyleStats, strength: float,
                 stats_filter: StatsFilter | None = None) -> None:
        self.stylizer = stylizer
        self.style = style
        self.strength = strength
        self.stats_filter = stats_filter

    def submit(self, frame: np.ndarray, meta: Any = None, content_mask: np.ndarray | None = None
               ) -> list[tuple[np.ndarray, Any]]:
        """Stylize ``frame`` (with its ``content_mask`` labels: mask-guided, see :meth:`Stylizer.stylize`)."""
        masks = {} if content_mask is None else {"content_mask": content_mask}
        out = self.stylizer.stylize(frame, self.style, self.strength, self.stats_filter, **masks)
        return [(out, meta)]

    def flush(self) -> list[tuple[np.ndarray, Any]]:
        return []


def make_runner(stylizer: Stylizer, style: StyleStats, strength: float,
                stats_filter: StatsFilter | None = None, masked: bool = False) -> FrameRunner:
    """The best runner for the Stylizer's device (CUDA: overlapped transfers when available;
    ``masked`` frames, which take a content mask each, run on the synchronous runner)."""
    if stylizer.device.type == "cuda" and not masked:
        try:
            from rest_video.engine.cuda_runner import CudaFrameRunner
        except ImportError:
            pass
        else:
            return CudaFrameRunner(stylizer, style, strength, stats_filter)
    return FrameRunner(stylizer, style, strength, stats_filter)
