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

    def __call__(self, stats: dict[int, tuple[Tensor, Tensor]]) -> dict[int, tuple[Tensor, Tensor]]:
        if self.smoothing <= 0:
            return stats
        if self._state is None or any(self._state[l][0].shape != stats[l][0].shape for l in stats):
            self._state = {l: (m.detach().clone(), s.detach().clone()) for l, (m, s) in stats.items()}
            return stats
        a = self.smoothing
        new = {}
        for l, (m, s) in stats.items():
            pm, ps = self._state[l]
            new[l] = (a * pm + (1 - a) * m, a * ps + (1 - a) * s)
        self._state = {l: (m.detach(), s.detach()) for l, (m, s) in new.items()}
        return new


def motion_map(inp: np.ndarray, prev: np.ndarray, radius: int = 5, blur: int = 2) -> np.ndarray:
    """How much the input moved around each pixel, in levels: ``(H, W)`` uint8.

    The largest per-channel change ``|inp - prev|``, averaged over a ``(2 blur + 1)^2`` square (codec
    noise is uncorrelated from pixel to pixel and averages out; motion is coherent and stays), then
    the maximum over a ``(2 (radius - blur) + 1)^2`` square, so any change within ``radius`` pixels
    counts: with the defaults the whole 11x11 window a 5-layer 3x3 network sees.
    """
    import cv2

    diff = cv2.absdiff(inp, prev)
    b, g, r = cv2.split(diff)
    m = cv2.max(cv2.max(b, g), r)
    if blur > 0:
        m = cv2.blur(m, (2 * blur + 1, 2 * blur + 1))
    spread = radius - blur
    if spread > 0:
        m = cv2.dilate(m, np.ones((2 * spread + 1, 2 * spread + 1), np.uint8))
    return m


def smooth_chroma(rgb: np.ndarray, sigma: float, out: np.ndarray | None = None,
                  work: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Blur the colour of ``rgb`` (``(H, W, 3)``, uint8 or float32) by a Gaussian of ``sigma`` pixels,
    keeping its brightness: float32 ``(H, W, 3)``, same luma (BT.601) as the input.

    The network maps brightness to colour, so the codec's brightness noise comes out as colour
    speckle that changes from frame to frame (on still pixels of the clips in EVAL.md, 3.7-18x the
    input's own colour change). Luma ``Y`` carries the detail and stays; the rest, ``rgb - Y``, depends on the
    chroma alone (YCrCb is linear in RGB), so blurring it is blurring Cr and Cb. With ``sigma`` 1
    it is finer than the half-resolution chroma a yuv420p encode keeps anyway.

    ``out`` receives the result; ``work`` keeps scratch arrays between calls (a stream of frames of
    one size then allocates nothing: fresh multi-megabyte arrays cost more in page faults than the
    arithmetic).
    """
    import cv2

    if work is None:
        f = rgb.astype(np.float32, copy=False)
    else:
        f = _scratch(work, "f", rgb.shape)
        np.copyto(f, rgb)
    y = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY, dst=_scratch(work, "y", rgb.shape[:2]))   # BT.601 luma, float
    y3 = cv2.merge([y, y, y], dst=_scratch(work, "y3", rgb.shape))
    colour = cv2.subtract(f, y3, dst=_scratch(work, "colour", rgb.shape))
    colour = cv2.GaussianBlur(colour, (0, 0), sigma, dst=_scratch(work, "blurred", rgb.shape),
                              borderType=cv2.BORDER_REFLECT)
    return cv2.add(colour, y3, dst=out)


def _scratch(work: dict[str, np.ndarray] | None, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """The float32 scratch array ``name`` of ``shape`` kept in ``work`` (None without ``work``: let OpenCV allocate)."""
    if work is None:
        return None
    a = work.get(name)
    if a is None or a.shape != shape:
        a = work[name] = np.empty(shape, np.float32)
    return a


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

    def __init__(self, smoothing: float = 0.93, still: float = 4.0, moving: float = 16.0, radius: int = 5,
                 scene_cut: float = 0.25, blur: int = 2, hold_limit: float = 6.0, chroma_sigma: float = 1.0) -> None:
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
        """The per-frame part alone (the chroma blur), float32; what the hold starts from and is bounded by."""
        return smooth_chroma(out, self.chroma_sigma) if self.chroma_sigma > 0 else out.astype(np.float32)

    def __call__(self, inp: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``inp`` and ``out``: ``(H, W, 3)`` uint8 of the same frame; returns the filtered output."""
        import cv2

        if self.smoothing <= 0 and self.chroma_sigma <= 0:
            return out
        work = self._work
        y = _scratch(work, "y_out", out.shape)                # this frame's output after the spatial part
        if self.chroma_sigma > 0:
            smooth_chroma(out, self.chroma_sigma, y, work)
        else:
            np.copyto(y, out)
        if self.smoothing <= 0:
            return to_uint8(y)
        cut = self._cut(inp)
        acc = self._acc
        if cut or acc is None or acc.shape != out.shape or self._ref8 is None or self._ref8.shape != inp.shape:
            self._acc = y.copy()
            self._ref = inp.astype(np.float32)
            self._ref8 = inp.copy()
            return to_uint8(y)
        motion = motion_map(inp, self._ref8, self.radius, self.blur)
        past = cv2.LUT(motion, self._past_lut, dst=_scratch(work, "past", motion.shape))   # weight of the past
        now = cv2.LUT(motion, self._now_lut, dst=_scratch(work, "now", motion.shape))
        cv2.blendLinear(acc, y, past, now, dst=acc)           # in place: acc is this filter's own array
        if self.hold_limit < 255.0:                          # never further than hold_limit from y
            k = (self.hold_limit,) * 3 + (0.0,)              # a per-channel scalar (a bare float is channel 0 only)
            bound = _scratch(work, "bound", out.shape)
            cv2.min(acc, cv2.add(y, k, dst=bound), dst=acc)
            cv2.max(acc, cv2.subtract(y, k, dst=bound), dst=acc)
        inp_f = _scratch(work, "inp", inp.shape)
        np.copyto(inp_f, inp)
        cv2.blendLinear(self._ref, inp_f, past, now, dst=self._ref)
        to_uint8(self._ref, self._ref8)
        return to_uint8(acc)


def to_uint8(img: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """Round and saturate a float32 ``(H, W, 3)`` image to uint8 (into ``dst`` when given)."""
    import cv2

    if dst is None:
        dst = np.empty(img.shape, np.uint8)
    cv2.multiply(img, (1.0, 1.0, 1.0, 0.0), dst=dst, dtype=cv2.CV_8U)
    return dst


def make_stabilizer(temporal) -> PixelStabilizer | None:
    """The :class:`PixelStabilizer` a ``TemporalCfg`` asks for, or None when both its parts
    (``pixel_smoothing`` and ``chroma_sigma``) are off."""
    if temporal.pixel_smoothing <= 0 and temporal.chroma_sigma <= 0:
        return None
    return PixelStabilizer(temporal.pixel_smoothing, temporal.still, temporal.moving, scene_cut=temporal.scene_cut,
                           hold_limit=temporal.hold_limit, chroma_sigma=temporal.chroma_sigma)
