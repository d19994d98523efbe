"""The live feed: a camera (the same sources as ``--webcam``) stylized on the LUT path, as JPEGs.

One :class:`LiveFeed` per studio: a thread takes the newest camera frame
(:class:`~rest_video.live.camera.LatestFrame` drops stale ones: latency beats completeness),
stylizes it with a :class:`~rest_video.stream.processor.StreamStylizer` on the LUT path, encodes a
JPEG and hands it to every viewer (``/live`` and ``/live/feed``). Each frame carries its capture
time on the wall clock; the browser subtracts it from the time it shows the frame and reports the
latency back, and the control page shows it. The camera starts with the first viewer and stops
when the last one leaves.

:class:`BrowserCamera` stylizes frames that a page sends from its own camera (getUserMedia), one
stream per WebSocket.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path

import cv2
import numpy as np

from rest_video.core.errors import MediaError
from rest_video.studio.preview import encode_jpeg

log = logging.getLogger(__name__)


class LiveFeed:
    """Args:
        engine: the :class:`~rest_video.studio.preview.PreviewEngine` (stylizers and styles).
        camera: a ``--camera`` value: a camera index, or a video file (played at its rate, looped).
        style: the style photo to start with; ``pipeline``, ``strength`` as the controls.
    """

    def __init__(self, engine, camera: str, style: Path, pipeline: str = "default",
                 strength: float = 1.0) -> None:
        self.engine, self.camera = engine, camera
        self.style, self.pipeline, self.strength = style, pipeline, strength
        self._cond = threading.Condition()
        self._frame: tuple[int, float, bytes] | None = None    # (seq, capture wall time, jpeg)
        self._viewers = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: str | None = None
        self._shown: deque = deque(maxlen=120)     # (wall time, latency ms) reported by browsers
        self._made: deque = deque(maxlen=120)      # wall times frames were made
        self._process_ms: deque = deque(maxlen=120)

    # -- viewers --------------------------------------------------------------------------
    def join(self) -> None:
        with self._cond:
            self._viewers += 1
            if self._thread is None or not self._thread.is_alive() or self._stop.is_set():
                # a loop that is still stopping (its last viewer just left) keeps its own stop
                # event; the new one waits for it to let go of the camera, then opens it again
                self.error = None
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stop, self._thread),
                                                name="rest-video-studio-live", daemon=True)
                self._thread.start()

    def leave(self) -> None:
        with self._cond:
            self._viewers = max(0, self._viewers - 1)
            if self._viewers == 0:
                self._stop.set()
                self._cond.notify_all()

    def next_frame(self, after: int, timeout: float = 2.0) -> tuple[int, float, bytes] | None:
        """The newest frame with a sequence number above ``after`` (None on timeout or an error)."""
        with self._cond:
            self._cond.wait_for(lambda: (self._frame is not None and self._frame[0] > after)
                                or self.error is not None or self._stop.is_set(), timeout)
            f = self._frame
            return f if f is not None and f[0] > after else None

    # -- controls and figures -------------------------------------------------------------
    def set(self, style: Path | None = None, strength: float | None = None,
            pipeline: str | None = None) -> None:
        from rest_video.core.config import check_strength

        if pipeline is not None:
            self.engine.stylizer(pipeline)  # an unknown name fails here, before anything changes
        with self._cond:
            self.style = style or self.style
            self.strength = check_strength(strength) if strength is not None else self.strength
            self.pipeline = pipeline or self.pipeline

    def report(self, latency_ms: float) -> None:
        """A browser showed a frame ``latency_ms`` after its capture."""
        if 0 <= latency_ms < 60_000:
            with self._cond:
                self._shown.append((time.time(), float(latency_ms)))

    def status(self) -> dict:
        now = time.time()
        with self._cond:
            shown = [ms for t, ms in self._shown if now - t < 5]
            made = [t for t in self._made if now - t < 5]
            proc = list(self._process_ms)
        fps = (len(made) - 1) / (made[-1] - made[0]) if len(made) > 2 and made[-1] > made[0] else 0.0
        return {"running": self._thread is not None and self._thread.is_alive(), "error": self.error,
                "viewers": self._viewers, "fps": round(fps, 1), "strength": self.strength,
                "pipeline": self.pipeline, "style": self.style.stem,
                "latency_ms": round(float(np.median(shown)), 1) if shown else None,
                "latency_p95_ms": round(float(np.percentile(shown, 95)), 1) if shown else None,
                "process_ms": round(float(np.median(proc)), 1) if proc else None}

    # -- the loop -------------------------------------------------------------------------
    def _run(self, stop: threading.Event, previous: threading.Thread | None) -> None:
        from rest_video.live.camera import LatestFrame, open_source

        if previous is not None:
            previous.join(timeout=10)
        try:
            loop = not self.camera.strip().isdigit()
            grabber = LatestFrame(open_source(self.camera, loop=loop))
        except Exception as e:  # noqa: BLE001 - one line on the page
            self.error = _one_line(e)
            with self._cond:
                self._cond.notify_all()
            return
        stream, key, seq = None, None, 0
        try:
            while not stop.is_set():
                got = grabber.get(timeout=0.5)
                if got is None:
                    if grabber.ended:
                        raise MediaError("the camera stopped sending frames")
                    continue
                t0 = time.perf_counter()
                wall = time.time() - (t0 - got.t_capture)
                want = (self.pipeline, str(self.style))
                if want != key:
                    if stream is not None:
                        stream.close()
                    stream = _lut_stream(self.engine, *want)
                    key = want
                stream.set_strength(self.strength)
                jpeg = encode_jpeg(stream(got.rgb), 80)
                seq += 1
                with self._cond:
                    self._frame = (seq, wall, jpeg)
                    self._made.append(time.time())
                    self._process_ms.append(1000 * (time.perf_counter() - t0))
                    self._cond.notify_all()
        except Exception as e:  # noqa: BLE001
            log.debug("live feed stopped", exc_info=True)
            self.error = _one_line(e)
        finally:
            grabber.stop()
            if stream is not None:
                stream.close()
            with self._cond:
                if self._stop is stop:  # not a newer loop's frames
                    self._frame = None
                self._cond.notify_all()

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _lut_stream(engine, pipeline: str, style: str):
    from rest_video.stream.processor import StreamStylizer

    st = engine.stylizer(pipeline)
    return StreamStylizer(st, engine.style(pipeline, Path(style)), path="lut", strength=1.0)


def _one_line(e: BaseException) -> str:
    from rest_video.core.errors import RestVideoError

    if isinstance(e, RestVideoError):
        return str(e).splitlines()[0] if str(e) else type(e).__name__
    return f"the camera failed ({type(e).__name__})"


class BrowserCamera:
    """Frames from a page's own camera, stylized on the LUT path: JPEG in, JPEG out."""

    def __init__(self, engine, style: Path, pipeline: str = "default", strength: float = 1.0,
                 max_side: int = 1280) -> None:
        self.engine, self.max_side = engine, max_side
        self.stream = _lut_stream(engine, pipeline, str(style))
        self.stream.set_strength(strength)

    def __call__(self, jpeg: bytes) -> bytes:
        from rest_video.ops.color import downscale

        bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) if jpeg else None
        if bgr is None:
            raise MediaError("the browser sent a frame that is not a JPEG")
        rgb = np.ascontiguousarray(downscale(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.max_side))
        return encode_jpeg(self.stream(rgb), 80)

    def close(self) -> None:
        self.stream.close()
