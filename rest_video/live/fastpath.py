"""Frame processors for live mode: the full network, or the real-time 3D-LUT fast path.

Both are callables ``frame (H, W, 3) uint8 -> stylized frame`` with ``set_style``,
``set_strength`` and ``close``.

- :class:`FullPath`: the REST network on every frame, with temporal smoothing of the content
  statistics (:class:`~rest_video.stream.temporal.StatsSmoother`).
- :class:`LutPath`: for CPUs that cannot run the network at camera rate. A background thread runs
  the full network on a downscaled copy of the current frame (long side ``fit_side``), fits a 3D
  colour LUT to its (input, output) pixel pairs and swaps it in; every full-resolution frame is
  mapped through the newest LUT with trilinear interpolation (~5 ms at 768x576). Refits happen
  every ``refit_every`` frames, at once on a scene cut, and when the style or strength changes.
- :func:`choose_path`: ``auto`` measures the full network at the target size and picks the LUT
  path when it cannot keep the frame rate.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from rest_video.engine.stylizer import Stylizer
from rest_video.models.rest import StyleStats
from rest_video.ops.lut import LutApplier, fit_lut
from rest_video.stream.temporal import PixelStabilizer, SceneCutDetector, StatsSmoother


def downscale(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` shrunk (area filter) so its long side is at most ``side``."""
    h, w = rgb.shape[:2]
    if max(h, w) <= side:
        return rgb
    k = side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)


class FullPath:
    """The full network on every frame (with optional temporal smoothing of content statistics)."""

    name = "full"

    def __init__(self, stylizer: Stylizer, style: StyleStats, strength: float | None = None,
                 smoothing: float = 0.0, scene_cut: float = 0.25, stabilizer: PixelStabilizer | None = None) -> None:
        self.stylizer, self.style, self.strength = stylizer, style, strength
        self.smoother = StatsSmoother(smoothing, scene_cut) if smoothing > 0 else None
        self.stabilizer = stabilizer

    def set_style(self, style: StyleStats) -> None:
        self.style = style

    def set_strength(self, strength: float) -> None:
        self.strength = strength

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if self.smoother is not None:
            self.smoother.observe(rgb)
        out = self.stylizer.stylize(rgb, self.style, self.strength, self.smoother)
        return self.stabilizer(rgb, out) if self.stabilizer is not None else out

    def describe(self) -> str:
        return "full network"

    def close(self) -> None:
        pass


@dataclass
class _FitRequest:
    small: np.ndarray
    style: StyleStats
    strength: float | None
    cut: bool


class LutPath:
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
    """

    name = "lut"

    def __init__(self, stylizer: Stylizer, style: StyleStats, strength: float | None = None, *,
                 lut_size: int = 33, refit_every: int = 15, fit_side: int = 256, smoothing: float = 0.0,
                 scene_cut: float = 0.25, background: bool = True, fit_iterations: int = 0,
                 stabilizer: PixelStabilizer | None = None) -> None:
        self.stylizer, self.style, self.strength = stylizer, style, strength
        self.stabilizer = stabilizer
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
        out = self._applier(rgb)
        return self.stabilizer(rgb, out) if self.stabilizer is not None else out

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


def fit_threads() -> int:
    """Torch threads for the background refits: leave one core to capture and LUT apply."""
    return max(1, (os.cpu_count() or 2) - 1)


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


def choose_path(requested: str, stylizer: Stylizer, style: StyleStats, size: tuple[int, int],
                fps: float, probe_side: int = 256) -> PathChoice:
    """``full``/``lut`` as asked; ``auto``: the full network if it keeps ``fps`` at ``size``, else the LUT."""
    if requested in ("full", "lut"):
        return PathChoice(requested, None, f"--path {requested}")
    budget = 1000.0 / fps
    ms, exact = measure_full_ms(stylizer, style, size, budget, probe_side)
    about = "" if exact else "~"
    if ms <= budget:
        return PathChoice("full", ms, f"full network {about}{ms:.0f} ms/frame at {size[0]}x{size[1]} "
                                      f"keeps {fps:g} fps")
    return PathChoice("lut", ms, f"full network {about}{ms:.0f} ms/frame at {size[0]}x{size[1]} is over "
                                 f"{budget:.0f} ms ({fps:g} fps): using the LUT fast path")


def set_fit_threads(configured: int) -> None:
    """With ``runtime.threads`` 0, give torch all cores but one (the frame loop's) for LUT refits."""
    if configured == 0:
        n = fit_threads()
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
