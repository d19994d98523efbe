"""Temporal filter of the stylized output where the input stood still (:class:`PixelStabilizer`)."""

from __future__ import annotations

import cv2
import numpy as np

from rest_video.core.config import TemporalCfg
from rest_video.ops.color import motion_map, scratch, smooth_chroma, to_uint8
from rest_video.stream.smoothing import SceneCutDetector


class PixelStabilizer:
    """Temporal filter of the stylized output where the input stood still.

    REST's output at a pixel depends only on the input in a small window around it (11x11 for
    5 layers of 3x3 convolutions) and on the global statistics. Where that window did not change
    in the input, any change of the output is flicker: noise the network amplified, or the look
    "breathing". There the output is an exponential moving average over frames; where the input
    moved, the new output passes straight through (a soft ramp between the two):

        motion = motion_map(in_t, ref_{t-1})  (levels: local mean change, max over the window)
        w      = clip((motion - still) / (moving - still), 0, 1)         (1 = moving)
        a      = smoothing * (1 - w)
        out_t  = clip(a * out_{t-1} + (1 - a) * y_t,  y_t - hold_limit,  y_t + hold_limit)
        ref_t  = a * ref_{t-1} + (1 - a) * in_t

    ``ref`` is the input averaged with the same weights as the output: the input the held output
    stands for. Motion is measured against it rather than against the previous frame, so a slow
    drift (light, exposure, codec refreshes of a level or two per frame) adds up until it releases
    the hold instead of leaving the output lagging behind. Both are kept in float32, so slow
    changes are followed without a dead band. ``hold_limit`` bounds the hold: the output never
    strays more than that many levels from the network's output for the current frame, so whatever
    the motion detector misses (slow textured motion, a drift under the thresholds) can leave no
    trail, only a difference of a few levels. Before the hold, ``chroma_sigma`` removes the colour
    speckle the network makes of codec noise (:func:`smooth_chroma`); brightness is left alone. The
    caller owns one per stream and calls it with each input frame and its stylized output, in order.

    Args:
        smoothing: weight of the past on still pixels (0 = off).
        still: local mean input change (levels) at or below which a pixel counts as still.
        moving: local mean input change (levels) from which a pixel counts as moving.
        radius: half size of the window (pixels); default, the 5-layer network's receptive field.
        blur: half size of the square the input change is averaged over before the window maximum.
        scene_cut: threshold of the :class:`SceneCutDetector` that restarts the filter.
        hold_limit: largest distance (levels, per channel) of the output from the current frame's
            stylized output (255 = unbounded).
        chroma_sigma: Gaussian (pixels) over the output's colour before the hold (0 = off).
    """

    def __init__(
        self,
        smoothing: float = 0.93,
        still: float = 4.0,
        moving: float = 16.0,
        radius: int = 5,
        scene_cut: float = 0.25,
        blur: int = 2,
        hold_limit: float = 6.0,
        chroma_sigma: float = 1.0,
    ) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        if not 0 <= still < moving:
            raise ValueError(f"need 0 <= still < moving, got {still}, {moving}")
        self.smoothing = float(smoothing)
        self.still, self.moving = float(still), float(moving)
        if not 0 <= blur <= radius:
            raise ValueError(f"need 0 <= blur <= radius, got {blur}, {radius}")
        self.radius, self.blur = int(radius), int(blur)
        if not 0.0 < hold_limit <= 255.0:
            raise ValueError(f"hold_limit must be in (0, 255], got {hold_limit}")
        self.hold_limit = float(hold_limit)
        if not 0.0 <= chroma_sigma <= 10.0:
            raise ValueError(f"chroma_sigma must be in [0, 10], got {chroma_sigma}")
        self.chroma_sigma = float(chroma_sigma)
        self._cut = SceneCutDetector(scene_cut)
        w = np.clip((np.arange(256, dtype=np.float64) - self.still) / (self.moving - self.still), 0.0, 1.0)
        self._past_lut = (self.smoothing * (1.0 - w)).astype(np.float32).reshape(1, 256)
        self._now_lut = (1.0 - self._past_lut).astype(np.float32)
        self._ref: np.ndarray | None = None      # float32 input behind the held output
        self._ref8: np.ndarray | None = None     # the same, rounded to uint8
        self._acc: np.ndarray | None = None
        self._work: dict[str, np.ndarray] = {}   # per-frame scratch arrays, reused (see smooth_chroma)

    @property
    def cuts(self) -> int:
        return self._cut.cuts

    def reset(self) -> None:
        self._ref = self._ref8 = self._acc = None
        self._work.clear()

    def spatial(self, out: np.ndarray) -> np.ndarray:
        """The per-frame part alone (the chroma blur), float32; what the hold starts from and is
        bounded by."""
        return smooth_chroma(out, self.chroma_sigma) if self.chroma_sigma > 0 else out.astype(np.float32)

    def __call__(self, inp: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``inp`` and ``out``: ``(H, W, 3)`` uint8 of the same frame; returns the filtered output."""
        if self.smoothing <= 0 and self.chroma_sigma <= 0:
            return out
        work = self._work
        y = scratch(work, "y_out", out.shape)                # this frame's output after the spatial part
        if self.chroma_sigma > 0:
            smooth_chroma(out, self.chroma_sigma, y, work)
        else:
            np.copyto(y, out)
        if self.smoothing <= 0:
            return to_uint8(y)
        cut = self._cut(inp)
        acc = self._acc
        if (
            cut
            or acc is None
            or acc.shape != out.shape
            or self._ref8 is None
            or self._ref8.shape != inp.shape
        ):
            self._acc = y.copy()
            self._ref = inp.astype(np.float32)
            self._ref8 = inp.copy()
            return to_uint8(y)
        motion = motion_map(inp, self._ref8, self.radius, self.blur)
        past = cv2.LUT(motion, self._past_lut, dst=scratch(work, "past", motion.shape))   # weight of the past
        now = cv2.LUT(motion, self._now_lut, dst=scratch(work, "now", motion.shape))
        cv2.blendLinear(acc, y, past, now, dst=acc)           # in place: acc is this filter's own array
        if self.hold_limit < 255.0:  # never further than hold_limit from y
            k = (self.hold_limit,) * 3 + (0.0,)  # a per-channel scalar (a bare float is channel 0 only)
            bound = scratch(work, "bound", out.shape)
            cv2.min(acc, cv2.add(y, k, dst=bound), dst=acc)
            cv2.max(acc, cv2.subtract(y, k, dst=bound), dst=acc)
        inp_f = scratch(work, "inp", inp.shape)
        np.copyto(inp_f, inp)
        cv2.blendLinear(self._ref, inp_f, past, now, dst=self._ref)
        to_uint8(self._ref, dst=self._ref8)
        return to_uint8(acc)


class InputStabilizer:
    """The pixel stabilizer of the LUT path, in the input's domain.

    A LUT's output is a function of the input pixel alone, so holding the output where the input
    stood still is holding the input there and mapping the held input: ``out_t = LUT(ref_t)``, with
    ``ref`` the input averaged as :class:`PixelStabilizer` averages it (the same motion weights),
    kept within ``hold_limit`` levels of the current input. It costs a third of the output filter
    and needs no chroma blur: the codec noise that the map would turn into colour speckle is
    averaged out before the map. ``__call__`` returns the input to map; the array is reused by the
    next call.
    """

    def __init__(self, smoothing: float = 0.93, still: float = 4.0, moving: float = 16.0, radius: int = 5,
                 scene_cut: float = 0.25, blur: int = 2, hold_limit: float = 6.0) -> None:
        self._weights = PixelStabilizer(smoothing, still, moving, radius, scene_cut, blur, hold_limit, 0.0)
        self._ref: np.ndarray | None = None      # float32 held input
        self._ref8: np.ndarray | None = None     # the same, rounded
        self._work: dict[str, np.ndarray] = {}

    @property
    def cuts(self) -> int:
        return self._weights.cuts

    def reset(self) -> None:
        self._ref = self._ref8 = None

    def __call__(self, inp: np.ndarray) -> np.ndarray:
        w = self._weights
        if w.smoothing <= 0:
            return inp
        cut = w._cut(inp)
        if cut or self._ref8 is None or self._ref8.shape != inp.shape:
            self._ref = inp.astype(np.float32)
            self._ref8 = inp.copy()
            return self._ref8
        work = self._work
        motion = motion_map(inp, self._ref8, w.radius, w.blur)
        past = cv2.LUT(motion, w._past_lut, dst=scratch(work, "past", motion.shape))
        now = cv2.LUT(motion, w._now_lut, dst=scratch(work, "now", motion.shape))
        inp_f = scratch(work, "inp", inp.shape)
        np.copyto(inp_f, inp)
        cv2.blendLinear(self._ref, inp_f, past, now, dst=self._ref)
        if w.hold_limit < 255.0:                             # never further than hold_limit from the input
            k = (w.hold_limit,) * 3 + (0.0,)
            bound = scratch(work, "bound", inp.shape)
            cv2.min(self._ref, cv2.add(inp_f, k, dst=bound), dst=self._ref)
            cv2.max(self._ref, cv2.subtract(inp_f, k, dst=bound), dst=self._ref)
        return to_uint8(self._ref, dst=self._ref8)


def make_input_stabilizer(temporal: TemporalCfg) -> InputStabilizer | None:
    """The LUT path's :class:`InputStabilizer` for a ``TemporalCfg`` (None when ``pixel_smoothing``
    is off; ``chroma_sigma`` has no part in it)."""
    if temporal.pixel_smoothing <= 0:
        return None
    return InputStabilizer(
        temporal.pixel_smoothing,
        temporal.still,
        temporal.moving,
        scene_cut=temporal.scene_cut,
        hold_limit=temporal.hold_limit,
    )


def make_stabilizer(temporal: TemporalCfg) -> PixelStabilizer | None:
    """The :class:`PixelStabilizer` a ``TemporalCfg`` asks for, or None when both its parts
    (``pixel_smoothing`` and ``chroma_sigma``) are off."""
    if temporal.pixel_smoothing <= 0 and temporal.chroma_sigma <= 0:
        return None
    return PixelStabilizer(
        temporal.pixel_smoothing,
        temporal.still,
        temporal.moving,
        scene_cut=temporal.scene_cut,
        hold_limit=temporal.hold_limit,
        chroma_sigma=temporal.chroma_sigma,
    )
