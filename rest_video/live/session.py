"""The live loop: newest camera frame -> processor -> sinks and preview, with hotkeys and timing.

    capture thread (LatestFrame) -> processor (StreamStylizer) -> sinks (virtual camera, memory)
                                                                  -> preview window (overlay, hotkeys)

Latency is measured per frame from capture to hand-over to every output.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rest_video.core.errors import DeviceError
from rest_video.core.signals import signal_name
from rest_video.live.camera import LatestFrame
from rest_video.live.preview import Controls, PreviewWindow, View, compose, draw_overlay
from rest_video.live.sinks import Sink
from rest_video.style import StyleStats

log = logging.getLogger(__name__)


@dataclass
class LiveStats:
    """What a session did: frames out, wall time, per-frame latency and processing time (seconds)."""

    path: str
    frames: int = 0
    seconds: float = 0.0
    captured: int = 0
    dropped: int = 0
    latencies: list[float] = field(default_factory=list)
    process: list[float] = field(default_factory=list)
    snapshots: list[Path] = field(default_factory=list)
    detail: str = ""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, q: float) -> float:
        return 1000 * float(np.percentile(self.latencies, q)) if self.latencies else 0.0

    def process_ms(self, q: float = 50) -> float:
        return 1000 * float(np.percentile(self.process, q)) if self.process else 0.0

    def summary(self) -> str:
        return (f"{self.frames} frames in {self.seconds:.1f} s: {self.fps:.1f} fps, latency p50 "
                f"{self.latency_ms(50):.0f} ms / p95 {self.latency_ms(95):.0f} ms, processing p50 "
                f"{self.process_ms(50):.1f} ms/frame, {self.dropped} of {self.captured} captured frames "
                f"dropped, path {self.path}" + (f" ({self.detail})" if self.detail else ""))


class LiveSession:
    """Runs the live loop until the source ends, ``max_frames`` frames, q/Esc, or Ctrl-C (or SIGTERM /
    SIGHUP).

    Args:
        grabber: newest-frame capture (started).
        processor: a :class:`~rest_video.stream.StreamStylizer` (callable with ``set_style``,
            ``set_strength``).
        styles: the styles hotkeys 1-9 switch between.
        controls: initial style / strength / view; changed by hotkeys.
        sinks: receive the stylized frame (the original in the ``original`` view) every frame.
        preview: a window (None: headless).
        max_frames: stop after this many frames (None: until the source ends or q).
        snapshot_dir: where ``s`` writes PNG snapshots.
        frame_timeout: seconds without a frame before the camera counts as stalled.
    """

    def __init__(self, grabber: LatestFrame, processor, styles: Sequence[StyleStats], controls: Controls,
                 sinks: Sequence[Sink] = (), preview: PreviewWindow | None = None,
                 max_frames: int | None = None, snapshot_dir: str | Path = ".",
                 frame_timeout: float = 10.0, clock: Callable[[], float] = time.perf_counter) -> None:
        self.grabber, self.processor, self.styles = grabber, processor, list(styles)
        self.controls, self.sinks, self.preview = controls, list(sinks), preview
        self.max_frames, self.snapshot_dir = max_frames, Path(snapshot_dir)
        self.frame_timeout, self.clock = frame_timeout, clock
        self.stats = LiveStats(path=getattr(processor, "name", "?"))
        self._rate = 0.0

    def run(self) -> LiveStats:
        st = self.stats
        t_start = None
        t_prev = None
        try:
            while self.max_frames is None or st.frames < self.max_frames:
                cap = self.grabber.get(timeout=self.frame_timeout)
                if cap is None:
                    if not self.grabber.ended:
                        raise DeviceError(f"the camera delivered no frame for {self.frame_timeout:g} s")
                    break
                if t_start is None:
                    t_start = cap.t_capture
                t0 = self.clock()
                out = self.processor(cap.rgb)
                st.process.append(self.clock() - t0)
                view = compose(cap.rgb, out, self.controls.view)
                to_sinks = cap.rgb if self.controls.view == View.ORIGINAL else out
                for sink in self.sinks:
                    sink.send(to_sinks)
                key = -1
                if self.preview is not None:
                    key = self.preview.show(draw_overlay(view, self._overlay_lines(st)))
                now = self.clock()
                st.latencies.append(now - cap.t_capture)
                st.frames += 1
                if t_prev is not None and now > t_prev:
                    inst = 1.0 / (now - t_prev)
                    self._rate = inst if self._rate == 0 else 0.9 * self._rate + 0.1 * inst
                t_prev = now
                if self._on_key(key, view):
                    break
        except KeyboardInterrupt as e:  # Ctrl-C, SIGTERM, SIGHUP (rest_video.core.signals): a clean stop
            signum = getattr(e, "signum", None)
            log.info("stopped (%s)", "Ctrl-C" if signum in (None, signal.SIGINT) else signal_name(signum))
        finally:
            end = self.clock()
            st.seconds = (end - t_start) if t_start is not None else 0.0
            st.captured, st.dropped = self.grabber.captured, self.grabber.dropped
            describe = getattr(self.processor, "describe", None)
            st.detail = describe() if describe else ""
        return st

    def _overlay_lines(self, st: LiveStats) -> list[str]:
        c = self.controls
        lat = 1000 * st.latencies[-1] if st.latencies else 0.0
        return [f"{st.path} | {self._rate:.1f} fps | latency {lat:.0f} ms",
                f"style {c.style_index + 1}/{len(self.styles)} | strength {c.strength:.1f} | {c.view.value}",
                "1-9 style  +/- strength  v view  s snapshot  q quit"]

    def _on_key(self, key: int, view: np.ndarray) -> bool:
        """Act on a hotkey; True means quit."""
        event = self.controls.handle_key(key)
        if event == "quit":
            return True
        if event == "style":
            self.processor.set_style(self.styles[self.controls.style_index])
        elif event == "strength":
            self.processor.set_strength(self.controls.strength)
        elif event == "snapshot":
            self.stats.snapshots.append(self.snapshot(view))
        return False

    def snapshot(self, rgb: np.ndarray) -> Path:
        """Write ``rgb`` as a new PNG in ``snapshot_dir``; returns its path."""
        from rest_video.io.image import write_image

        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        i = 0
        while True:
            path = self.snapshot_dir / f"rest-video-{stamp}-{i:02d}.png"
            if not path.exists():
                break
            i += 1
        write_image(path, rgb)
        log.info("snapshot %s", path)
        return path
