"""The real-time 3D-LUT path for CPUs that cannot run the network at camera rate (:class:`LutStylizer`).

A background thread runs the full network on a downscaled copy of the current frame (long side
``fit_side``), fits a 3D colour LUT to its (input, output) pixel pairs and swaps it in; every
full-resolution frame is mapped through the newest LUT with trilinear interpolation (~5 ms at
768x576). Refits happen every ``refit_every`` frames, at once on a scene cut, and when the style
or strength changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from rest_video.engine.stylizer import Stylizer
from rest_video.ops.color import downscale
from rest_video.ops.lut import LutApplier, fit_lut
from rest_video.stream.smoothing import SceneCutDetector, StatsSmoother
from rest_video.style import StyleStats


@dataclass
class _FitRequest:
    small: np.ndarray
    style: StyleStats
    strength: float
    cut: bool


class LutStylizer:
    """Real-time path: a 3D LUT fitted to the full network's output, refitted in the background.

    Args:
        stylizer, style, strength: the full network and what it renders.
        lut_size: lattice points per axis.
        refit_every: frames between refits (a scene cut or a style / strength change refits at once).
        fit_side: long side of the downscaled frame the network runs on for a fit.
        smoothing: per-frame EMA factor for content statistics (as ``temporal.smoothing``); fits
            are ``refit_every`` frames apart, so the fits use ``smoothing ** refit_every``.
        scene_cut: threshold of the scene-cut detector (as ``temporal.scene_cut``).
        background: refit in a thread (False: refit synchronously, for tests and measurements).
        fit_iterations: conjugate-gradient steps of :func:`~rest_video.ops.lut.fit_lut`.

    The pixel stabilizer is not part of it: :class:`~rest_video.stream.processor.StreamStylizer`
    applies it to this output as to the full network's.
    """

    def __init__(self, stylizer: Stylizer, style: StyleStats, strength: float, *,
                 lut_size: int = 33, refit_every: int = 15, fit_side: int = 256, smoothing: float = 0.0,
                 scene_cut: float = 0.25, background: bool = True, fit_iterations: int = 0) -> None:
        self.stylizer, self.style, self.strength = stylizer, style, strength
        self.lut_size, self.refit_every, self.fit_side = lut_size, refit_every, fit_side
        self.fit_iterations = fit_iterations
        per_fit = smoothing ** refit_every if smoothing > 0 else 0.0
        self.smoother = StatsSmoother(per_fit, scene_cut) if per_fit > 1e-4 else None
        self._cuts = SceneCutDetector(scene_cut)
        self.background = background
        self._applier: LutApplier | None = None
        self.table: np.ndarray | None = None
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
        return (f"3D LUT {self.lut_size}^3, refit every {self.refit_every} frames from a {self.fit_side}px "
                f"run of the network ({self.refits} refits, {mean:.0f} ms each)")

    # -- frames ---------------------------------------------------------------------------
    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if self.error is not None:
            err, self.error = self.error, None
            raise err
        cut = self._cuts(rgb)
        self._since_fit += 1
        if self._applier is None:                      # first frame: fit before showing anything
            self._fit(self._request(rgb, cut=True))
        elif cut or self._dirty or self._since_fit >= self.refit_every:
            req = self._request(rgb, cut)
            if self.background:
                self._submit(req)
            else:
                self._fit(req)
        return self.stylizer.finish(rgb, self._applier(rgb))  # the shadow guard, as on the full path

    def _request(self, rgb: np.ndarray, cut: bool) -> _FitRequest:
        self._since_fit = 0
        self._dirty = False
        return _FitRequest(downscale(rgb, self.fit_side).copy(), self.style, self.strength, cut)

    def _submit(self, req: _FitRequest) -> None:
        with self._cond:
            if self._pending is not None and self._pending.cut:
                req.cut = True                        # a replaced request still carries its cut
            self._pending = req
            self._cond.notify()

    def _fit(self, req: _FitRequest) -> None:
        t0 = time.perf_counter()
        if self.smoother is not None:
            if req.cut:
                self.smoother.reset()
        out = self.stylizer.stylize(req.small, req.style, req.strength, self.smoother)
        table = fit_lut(req.small, out, self.lut_size, iterations=self.fit_iterations)
        applier = LutApplier(table)
        self.table, self._applier = table, applier     # one reference swap: the frame loop never waits
        self.refits += 1
        self.fit_seconds.append(time.perf_counter() - t0)

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
