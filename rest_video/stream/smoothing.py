"""Temporal stability: content statistics smoothed over frames (EMA), reset on scene cuts.

Per-frame AdaIN uses each frame's own feature statistics, so the look "breathes" as the content
changes. :class:`StatsSmoother` is a ``stats_filter`` for :meth:`REST.forward`: it blends each
frame's statistics with the running average. The caller owns it (one per stream) and calls
:meth:`observe` with each input frame so a scene cut resets the average.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor


class SceneCutDetector:
    """Tells a scene cut from the mean absolute difference of consecutive frames (0..1) on a small
    grey thumbnail (about 32 px on the short side): above ``threshold`` is a cut. One per stream,
    shared by every temporal filter so they all restart on the same frames."""

    def __init__(self, threshold: float = 0.25) -> None:
        self.threshold = float(threshold)
        self._thumb: np.ndarray | None = None
        self.cuts = 0

    def __call__(self, frame: np.ndarray) -> bool:
        """Look at the next input frame ``(H, W, 3)`` uint8; True when it starts a new scene."""
        step = max(1, min(frame.shape[0], frame.shape[1]) // 32)
        thumb = frame[::step, ::step].mean(axis=2, dtype=np.float32) / 255.0
        cut = (self._thumb is not None and self._thumb.shape == thumb.shape
               and float(np.abs(thumb - self._thumb).mean()) > self.threshold)
        self._thumb = thumb
        self.cuts += int(cut)
        return cut


class StatsSmoother:
    """Exponential moving average of per-layer content ``(mean, std)``.

    Args:
        smoothing: weight of the past (0 = per-frame statistics, 0.9 = slow).
        scene_cut: mean absolute difference of consecutive frames (0..1, on a small grey thumbnail)
            above which the average restarts.
    """

    def __init__(self, smoothing: float = 0.8, scene_cut: float = 0.25) -> None:
        self.smoothing = float(smoothing)
        self.scene_cut = float(scene_cut)
        self._state: dict[int, tuple[Tensor, Tensor]] | None = None
        self._cut = SceneCutDetector(scene_cut)

    @property
    def cuts(self) -> int:
        return self._cut.cuts

    def reset(self) -> None:
        self._state = None

    def observe(self, frame: np.ndarray) -> bool:
        """Look at the next input frame ``(H, W, 3)`` uint8; returns True (and resets) on a scene cut."""
        cut = self._cut(frame)
        if cut:
            self.reset()
        return cut

    def __call__(self, stats: dict) -> dict:
        """Smoothed ``stats`` (keys: layers, or ``(layer, label)`` for mask regions; a key not seen
        on the previous frame starts from its own value, one no longer there is forgotten)."""
        if self.smoothing <= 0:
            return stats
        state = self._state
        if state is None or any(k in state and state[k][0].shape != stats[k][0].shape for k in stats):
            self._state = {layer: (m.detach().clone(), s.detach().clone()) for layer, (m, s) in stats.items()}
            return stats
        a = self.smoothing
        new = {}
        for layer, (m, s) in stats.items():
            if layer not in self._state:  # a region that has just appeared (masks): its own statistics first
                new[layer] = (m.detach().clone(), s.detach().clone())
                continue
            pm, ps = self._state[layer]
            new[layer] = (a * pm + (1 - a) * m, a * ps + (1 - a) * s)
        self._state = {layer: (m.detach(), s.detach()) for layer, (m, s) in new.items()}
        return new
