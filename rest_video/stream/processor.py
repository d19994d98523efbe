"""One stream of frames, in order: smoothing -> stylize -> stabilize -> strength (:class:`StreamStylizer`).

    stream = StreamStylizer(stylizer, style, cfg)            # full network; path="lut": the 3D-LUT path
    for frame in frames:
        out = stream(frame)                                   # (H, W, 3) uint8 -> (H, W, 3) uint8
    stream.set_style(other); stream.set_strength(0.5)          # between frames (live hotkeys)

It is composed once from the config, and is the only place the per-frame temporal chain is
wired: file mode, live mode and the flicker tool all use it. Strength is resolved (None: the
configured ``style.strength``) and range-checked here, once. The network, the LUT and the
filters always render the full look; strength is applied last, as an opacity over the input
(:func:`~rest_video.ops.opacity.blend`), so strength 0 gives the input frames themselves.

File mode overlaps the three steps (the network may keep frames in flight on a CUDA device): it
calls :meth:`observe` as frames are decoded, stylizes through :meth:`runner`, and calls
:meth:`stabilize` as finished frames reach the encoder, in order.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

import numpy as np

from rest_video.core.config import PipelineConfig, TemporalCfg, check_strength
from rest_video.core.errors import ConfigError
from rest_video.engine.runner import FrameRunner, make_runner
from rest_video.engine.stylizer import Stylizer
from rest_video.ops.opacity import blend
from rest_video.stream.lut import LutStylizer
from rest_video.stream.smoothing import StatsSmoother
from rest_video.stream.stabilizer import (
    InputStabilizer,
    PixelStabilizer,
    make_input_stabilizer,
    make_stabilizer,
)
from rest_video.style import StyleStats


class StreamStylizer:
    """Smoothing of content statistics, stylizing (full network or LUT) and the pixel stabilizer.

    Args:
        stylizer: the network on its device.
        style: style statistics to start with.
        cfg: pipeline config (``temporal``, ``live`` for the LUT path; default: the stylizer's).
        strength: 0 = content, 1 = full style (None: ``cfg.style.strength``).
        path: ``"full"`` (the network on every frame) or ``"lut"`` (:class:`LutStylizer`).
        temporal: the temporal settings instead of ``cfg.temporal`` (measurements).
        background: with ``path="lut"``, refit in a thread (False: synchronously, reproducible).
        stabilize: False leaves the pixel stabilizer out (the network's per-frame output).
        masked: frames come with content masks (mask-guided stylization, full path only; ``style``
            is then a :class:`~rest_video.style.regions.RegionStyle`).
    """

    def __init__(self, stylizer: Stylizer, style: StyleStats, cfg: PipelineConfig | None = None, *,
                 strength: float | None = None, path: Literal["full", "lut"] = "full",
                 temporal: TemporalCfg | None = None, background: bool = True, stabilize: bool = True,
                 masked: bool = False) -> None:
        cfg = cfg or stylizer.cfg
        t = temporal or cfg.temporal
        if path not in ("full", "lut"):
            raise ValueError(f"path must be 'full' or 'lut', got {path!r}")
        if masked and path == "lut":
            raise ConfigError(
                "masks need the full network: the LUT fast path maps colours and has no regions"
            )
        self.masked = masked
        self.stylizer, self.style, self.path = stylizer, style, path
        self.strength = stylizer.resolve_strength(strength)
        # the full path filters the network's output; the LUT path holds the input before the map
        self.stabilizer: PixelStabilizer | None = make_stabilizer(t) if stabilize and path == "full" else None
        self.hold: InputStabilizer | None = make_input_stabilizer(t) if stabilize and path == "lut" else None
        self.smoother: StatsSmoother | None = None
        self.lut: LutStylizer | None = None
        if path == "lut":
            live = cfg.live
            self.lut = LutStylizer(
                stylizer,
                style,
                1.0,
                lut_size=live.lut_size,
                refit_every=live.refit_every,
                fit_side=live.fit_side,
                smoothing=t.smoothing,
                scene_cut=t.scene_cut,
                background=background,
                drift=live.drift,
                fade=live.fade,
                detail=live.detail,
            )
        elif t.smoothing > 0:
            self.smoother = StatsSmoother(t.smoothing, t.scene_cut)

    @property
    def name(self) -> str:
        return self.path

    @property
    def cuts(self) -> int:
        """Scene cuts seen so far by the statistics filter (the LUT path's detector on that path)."""
        if self.lut is not None:
            return self.lut.cuts
        return self.smoother.cuts if self.smoother is not None else 0

    # -- controls -------------------------------------------------------------------------
    def set_style(self, style: StyleStats) -> None:
        self.style = style
        if self.lut is not None:
            self.lut.set_style(style)

    def set_strength(self, strength: float) -> None:
        """A new strength for the next frames (range-checked: 0..1); nothing is refitted or reset."""
        self.strength = check_strength(strength)

    # -- frames ---------------------------------------------------------------------------
    def __call__(self, rgb: np.ndarray, content_mask: np.ndarray | None = None) -> np.ndarray:
        """The next frame ``(H, W, 3)`` uint8 of the stream (and its content mask's labels, for a
        ``masked`` stream) -> its stylized, stabilized output."""
        if self.lut is not None:
            out = self.lut(self.hold(rgb) if self.hold is not None else rgb)
        else:
            self.observe(rgb)
            masks = {} if content_mask is None else {"content_mask": content_mask}
            out = self.stylizer.stylize(rgb, self.style, 1.0, self.smoother, **masks)
        return self.stabilize(rgb, out)

    def observe(self, rgb: np.ndarray) -> None:
        """Show the statistics filter the next input frame (a scene cut restarts it); full path."""
        if self.smoother is not None:
            self.smoother.observe(rgb)

    def runner(self) -> FrameRunner | LutFrameRunner:
        """A frame runner with this stream's style, at the full look: the network with the statistics
        filter (on CUDA, with upload, compute and download overlapped), or the LUT path's. Frames
        must be :meth:`observe`\\ d first, in order, and its outputs go through :meth:`stabilize`."""
        if self.lut is not None:
            return LutFrameRunner(self.lut, self.hold)
        return make_runner(self.stylizer, self.style, 1.0, self.smoother, masked=self.masked)

    def stabilize(self, rgb: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The pixel stabilizer on ``out``, the stylized ``rgb`` (frames in stream order), then the
        strength: the finished frame."""
        if self.stabilizer is not None:
            out = self.stabilizer(rgb, out)
        return blend(rgb, out, self.strength)

    def describe(self) -> str:
        return self.lut.describe() if self.lut is not None else "full network"

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until no LUT refit is pending or running (tests, measurements)."""
        if self.lut is not None:
            self.lut.wait_idle(timeout)

    def close(self) -> None:
        if self.lut is not None:
            self.lut.close()


class LutFrameRunner:
    """The LUT path as a frame runner (file mode's stylize stage): each frame through the input hold
    and :meth:`LutStylizer.map` in order, refits synchronous. The detail term and the shadow guard
    (:meth:`LutStylizer.finish`) run in a thread of their own, up to ``IN_FLIGHT`` frames behind, so
    a frame's finish overlaps the next frame's map; finished frames come back in order."""

    IN_FLIGHT = 2

    def __init__(self, lut: LutStylizer, hold: InputStabilizer | None = None) -> None:
        self.lut, self.hold = lut, hold
        self._guard: ThreadPoolExecutor | None = None
        if lut.stylizer.cfg.style.keep_shadows or lut.detail:
            self._guard = ThreadPoolExecutor(1, thread_name_prefix="rest-video-lut-finish")
        self._pending: deque[tuple[Future, object]] = deque()
        self._work: dict = {}        # the guard thread's scratch arrays

    def submit(self, frame: np.ndarray, meta=None, content_mask: np.ndarray | None = None) -> list:
        if content_mask is not None:
            raise ConfigError("masks need the full network: the LUT path maps colours and has no regions")
        held = self.hold(frame) if self.hold is not None else frame
        mapped = self.lut.map(held)
        if self._guard is None:
            return [(mapped, meta)]
        if held is not frame:
            held = held.copy()       # the hold writes its next frame into the same array
        finish = self._guard.submit(self.lut.finish, held, mapped, self._work, self.lut.gains)
        self._pending.append((finish, meta))
        done = []
        while self._pending and (self._pending[0][0].done() or len(self._pending) > self.IN_FLIGHT):
            future, m = self._pending.popleft()
            done.append((future.result(), m))
        return done

    def flush(self) -> list:
        done = [(future.result(), m) for future, m in self._pending]
        self._pending.clear()
        if self._guard is not None:
            self._guard.shutdown()
        return done
