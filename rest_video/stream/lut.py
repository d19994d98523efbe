"""The real-time 3D-LUT path for CPUs that cannot run the network at camera rate (:class:`LutStylizer`).

A background thread runs the full network on a downscaled copy of the current frame (long side
``fit_side``), fits a 3D colour LUT to its (input, output) pixel pairs and swaps it in; every
full-resolution frame is mapped through the newest LUT with trilinear interpolation (~5 ms at
768x576). Refits happen at once on a scene cut, when the content's colours drift from the frame
of the last fit (file mode's pans and light changes), when the style changes, and at the latest
every ``refit_every`` frames. A refitted LUT blends in over ``fade`` frames (the two tables
crossfaded), so a refit never pops; on a scene cut it takes over at once. With each table comes the
network's change of local contrast, which no colour table holds (:mod:`rest_video.ops.detail`):
its gains are fitted with the table, crossfade with it, and are added to the mapped frame by
:meth:`LutStylizer.finish`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from rest_video.engine.stylizer import Stylizer
from rest_video.ops.color import downscale
from rest_video.ops.detail import BANDS, add_detail, fit_detail
from rest_video.ops.lut import LutApplier
from rest_video.ops.lut_fit import LutFit
from rest_video.stream.smoothing import SceneCutDetector, StatsSmoother
from rest_video.style import StyleStats


@dataclass
class _FitRequest:
    small: np.ndarray
    style: StyleStats
    strength: float
    cut: bool
    frames: int = 1      # frames since the statistics filter last took one in (this one included)


class LutStylizer:
    """Real-time path: a 3D LUT fitted to the full network's output, refitted in the background.

    Args:
        stylizer, style, strength: the full network and what it renders.
        lut_size: lattice points per axis.
        refit_every: frames between refits at most (a scene cut, a drift or a style change refits sooner).
        fit_side: long side of the downscaled frame the network runs on for a fit.
        smoothing: per-frame EMA factor for content statistics (as ``temporal.smoothing``); a fit
            ``n`` frames after the last network run weighs the past by ``smoothing ** n``, so the
            statistics follow the content as the full path's do, however often the LUT refits.
        scene_cut: threshold of the scene-cut detector (as ``temporal.scene_cut``).
        background: refit in a thread (False: refit synchronously: file mode, tests, measurements).
        drift: mean absolute change (0..1) of an 8x8 colour thumbnail since the frame of the last
            fit that refits (None: never).
        fade: frames over which a refitted table replaces the one in use (0: at once).
        fit_iterations: conjugate-gradient steps of :func:`~rest_video.ops.lut_fit.fit_lut`.
        detail: fit and add the local-contrast term (:mod:`rest_video.ops.detail`) with each table.

    The pixel stabilizer is not part of it: :class:`~rest_video.stream.processor.StreamStylizer`
    applies it to this output as to the full network's.
    """

    def __init__(self, stylizer: Stylizer, style: StyleStats, strength: float, *,
                 lut_size: int = 33, refit_every: int = 15, fit_side: int = 256, smoothing: float = 0.0,
                 scene_cut: float = 0.25, background: bool = True, fit_iterations: int = 0,
                 drift: float | None = None, fade: int = 0, detail: bool = False) -> None:
        self.stylizer, self.style, self.strength = stylizer, style, strength
        self.lut_size, self.refit_every, self.fit_side = lut_size, refit_every, fit_side
        self.fit_iterations = fit_iterations
        self.drift, self.fade = drift, int(fade)
        self.detail = detail
        self.gains: np.ndarray | None = None    # the detail term's gains for the frame last mapped
        self._fade_gains: np.ndarray | None = None
        self._fit_thumb: np.ndarray | None = None
        self._incoming: tuple[np.ndarray, np.ndarray | None, bool] | None = None  # fitted, not yet in use
        self._fade_from: np.ndarray | None = None
        self._target: tuple[np.ndarray, np.ndarray | None] | None = None   # what a crossfade goes to
        self._fade_step = 0
        self.drifts = 0
        self.smoothing = float(smoothing)
        self.smoother = StatsSmoother(smoothing, scene_cut) if smoothing > 0 else None
        self._unseen = 0             # frames since the statistics filter last took one in
        self._cuts = SceneCutDetector(scene_cut)
        self.background = background
        self._applier: LutApplier | None = None
        self._since_fit = 0
        self._dirty = False
        self.refits = 0
        self.fit_seconds: list[float] = []
        self._cond = threading.Condition()
        self._pending: _FitRequest | None = None
        self._busy = False
        self._closed = False
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._work: dict = {}        # the shadow guard's scratch arrays, for __call__'s thread
        if background:
            self._thread = threading.Thread(target=self._worker, name="rest-video-lut-fit", daemon=True)
            self._thread.start()

    # -- controls -------------------------------------------------------------------------
    def set_style(self, style: StyleStats) -> None:
        self.style = style
        self._dirty = True

    def set_strength(self, strength: float) -> None:
        self.strength = strength
        self._dirty = True

    @property
    def cuts(self) -> int:
        """Scene cuts seen so far."""
        return self._cuts.cuts

    def describe(self) -> str:
        mean = 1000 * float(np.mean(self.fit_seconds)) if self.fit_seconds else 0.0
        term = " and local contrast" if self.detail else ""
        return (f"3D LUT {self.lut_size}^3{term}, refit every {self.refit_every} frames from a "
                f"{self.fit_side}px run of the network ({self.refits} refits, {mean:.0f} ms each)")

    # -- frames ---------------------------------------------------------------------------
    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The next frame ``(H, W, 3)`` uint8 -> its stylized output: :meth:`map`, then :meth:`finish`."""
        mapped = self.map(rgb)
        return self.finish(rgb, mapped, self._work, self.gains)

    def finish(self, rgb: np.ndarray, mapped: np.ndarray, work: dict | None = None,
               gains: np.ndarray | None | str = "current") -> np.ndarray:
        """``mapped`` (:meth:`map`'s output for ``rgb``) finished: with the detail term of ``gains``
        (the default: those in use now; pass :attr:`gains` read right after :meth:`map` when this
        runs later), or without the term, the shadow guard as on the full path. Pure, so it may run
        in another thread than :meth:`map` (``work``: that thread's scratch arrays).

        With the term the guard needs no pass of its own: the network's output the table and the
        term are fitted to has it already, and the term carries the input's detail into the
        shadows at full resolution (EVAL.md, "The local-contrast term": shadow detail 0.905-0.993
        on the shipped styles, 0.01-0.1 dB from the full path with its guard, 35 CPU ms a 1080p
        frame saved)."""
        if not self.detail:
            return self.stylizer.finish(rgb, mapped, work)
        return add_detail(rgb, mapped, self.gains if isinstance(gains, str) else gains, work)

    def map(self, rgb: np.ndarray) -> np.ndarray:
        """The next frame through the newest table (refitting first when one is due); frames in order."""
        if self.error is not None:
            err, self.error = self.error, None
            raise err
        cut = self._cuts(rgb)
        self._since_fit += 1
        self._unseen += 1
        thumb = _thumbnail(rgb) if self.drift is not None else None
        drifted = (thumb is not None and self._fit_thumb is not None and thumb.shape == self._fit_thumb.shape
                   and float(np.abs(thumb - self._fit_thumb).mean()) > self.drift)
        if self._applier is None:                      # first frame: fit before showing anything
            self._fit(self._request(rgb, cut=True, thumb=thumb))
        elif cut or drifted or self._dirty or self._since_fit >= self.refit_every:
            self.drifts += int(drifted and not cut)
            req = self._request(rgb, cut, thumb)
            if self.background:
                self._submit(req)
            else:
                self._fit(req)
        self._take_incoming()
        return self._applier(rgb)

    def _take_incoming(self) -> None:
        """Put the newest fitted table in use: at once on a cut (or with no fade), else crossfaded
        from the table in use over ``fade`` frames, one step a frame."""
        with self._cond:
            incoming, self._incoming = self._incoming, None
        if incoming is not None:
            table, gains, cut = incoming
            if self._applier is None or cut or self.fade <= 0:
                self._fade_from, self._fade_step = None, 0
                self._applier, self.gains = LutApplier(table), gains
                return
            self._fade_from, self._fade_gains = self._applier.table, self.gains  # what this frame would show
            self._fade_step = 0
            self._target = (table, gains)
        if self._fade_from is not None:
            self._fade_step += 1
            t = np.float32(min(1.0, self._fade_step / self.fade))
            table, gains = self._target
            self._applier = LutApplier(self._fade_from + t * (table - self._fade_from))
            self.gains = _blend(self._fade_gains, gains, t)
            if t >= 1.0:
                self._fade_from = None

    def _request(self, rgb: np.ndarray, cut: bool, thumb: np.ndarray | None = None) -> _FitRequest:
        self._since_fit = 0
        self._dirty = False
        self._fit_thumb = thumb
        frames, self._unseen = self._unseen, 0
        return _FitRequest(downscale(rgb, self.fit_side).copy(), self.style, self.strength, cut, frames)

    def _submit(self, req: _FitRequest) -> None:
        with self._cond:
            if self._pending is not None:             # a replaced request: its cut and its frames still count
                req.cut = req.cut or self._pending.cut
                req.frames += self._pending.frames
            self._pending = req
            self._cond.notify()

    def _fit(self, req: _FitRequest) -> None:
        t0 = time.perf_counter()
        if self.smoother is not None:
            if req.cut:
                self.smoother.reset()
        out = self.stylizer.stylize(req.small, req.style, req.strength, self._smoother_for(req.frames))
        table, gains = fit_look(req.small, out, self.lut_size, self.fit_iterations, self.detail)
        with self._cond:                               # the frame loop puts it in use (a swap, or a fade)
            self._incoming = (table, gains, req.cut)
        self.refits += 1
        self.fit_seconds.append(time.perf_counter() - t0)

    def _smoother_for(self, frames: int) -> StatsSmoother | None:
        """The statistics filter, weighing the past by ``smoothing ** frames``."""
        if self.smoother is not None:
            self.smoother.smoothing = self.smoothing ** frames
        return self.smoother

    def _worker(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                req, self._pending = self._pending, None
                self._busy = True
            try:
                self._fit(req)
            except BaseException as e:  # noqa: BLE001 - raised in the frame loop's thread
                self.error = e
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until no refit is pending or running (tests, measurements)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._pending is not None or self._busy) and time.monotonic() < deadline:
                self._cond.wait(0.05)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)


def fit_look(small: np.ndarray, out: np.ndarray, lut_size: int = 33, iterations: int = 0,
             detail: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """The table (:func:`~rest_video.ops.lut_fit.fit_lut`) and the detail term's gains (None without
    ``detail``) that take ``small`` to the network's ``out``. With the term: the table, the gains for
    it, the table refitted to what the term leaves and the gains again (the one round gains 0.2 dB
    against the network on the dev pairs)."""
    fit = LutFit(small, lut_size)
    table = fit.table(out, iterations=iterations)
    if not detail:
        return table, None
    base = LutApplier(table)(small)
    term = add_detail(small, base, fit_detail(small, base, out)).astype(np.int16) - base
    table = fit.table(np.clip(out - term, 0, 255).astype(np.uint8), iterations=iterations)
    return table, fit_detail(small, LutApplier(table)(small), out)


def _blend(a: np.ndarray | None, b: np.ndarray | None, t: np.float32) -> np.ndarray | None:
    """``a`` crossfaded to ``b`` at ``t`` (None: no term, as zeros)."""
    if a is None and b is None:
        return None
    a = np.zeros((BANDS, 3), np.float32) if a is None else a
    b = np.zeros_like(a) if b is None else b
    return a + t * (b - a)


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    """An 8x8 colour thumbnail (0..1) of a frame, from a sparse sample: its block means move with
    the content's colours and light, hardly with a small object's motion."""
    step = max(1, min(rgb.shape[0], rgb.shape[1]) // 32)
    sample = np.ascontiguousarray(rgb[::step, ::step])
    return cv2.resize(sample, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
