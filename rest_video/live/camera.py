"""Live frame sources and the capture thread that keeps only the newest frame.

- :class:`OpenCVCamera`: a camera by index (``cv2.VideoCapture``).
- :class:`FileCamera`: a video file played at its own frame rate (paced by the wall clock), as if
  it were a camera: a consumer that is too slow misses frames instead of slowing the clip down.
- :class:`LatestFrame`: runs a source in its own thread and hands out only the newest frame, so
  latency stays bounded when stylizing is slower than the camera; older frames are dropped.

A source has ``read() -> (rgb uint8 (H, W, 3), capture time from time.perf_counter()) | None``
(None: no more frames), ``close()``, ``size`` ``(width, height)`` and ``fps``.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import cv2
import numpy as np

from rest_video.core.errors import ConfigError, DeviceError, MediaError
from rest_video.io.video import VideoReader, upright
from rest_video.ops.color import resize

Clock = Callable[[], float]


class FrameSource(Protocol):
    size: tuple[int, int]
    fps: float

    def read(self) -> tuple[np.ndarray, float] | None: ...

    def close(self) -> None: ...


@contextmanager
def _quiet_opencv():
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    old = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(old)


class OpenCVCamera:
    """A camera by index through ``cv2.VideoCapture``; frames RGB, resized to ``size`` if the camera won't."""

    def __init__(self, index: int, size: tuple[int, int] | None = None, fps: float | None = None,
                 mirror: bool = False) -> None:
        with _quiet_opencv():  # OpenCV logs every backend it tried; the error below says it once
            self.cap = cv2.VideoCapture(index)
        if not self.cap.isOpened():
            self.cap.release()
            raise DeviceError(f"cannot open camera {index} (is a camera connected and free? "
                              "--camera FILE plays a video file as a camera)")
        if size is not None:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        if fps:
            self.cap.set(cv2.CAP_PROP_FPS, fps)
        ok, bgr = self.cap.read()
        if not ok or bgr is None:
            self.cap.release()
            raise DeviceError(f"camera {index} opened but delivers no frames")
        self._first: np.ndarray | None = bgr
        self.want = size
        self.mirror = mirror
        self.size = size or (bgr.shape[1], bgr.shape[0])
        cam_fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps or (cam_fps if cam_fps and cam_fps > 0 else 30.0))

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._first is not None:
            bgr, self._first = self._first, None
        else:
            ok, bgr = self.cap.read()
            if not ok or bgr is None:
                return None
        t = time.perf_counter()
        rgb = _fit(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.want)
        return (rgb[:, ::-1].copy() if self.mirror else rgb), t

    def close(self) -> None:
        self.cap.release()


class FileCamera:
    """A video file as a camera: frame ``i`` becomes available at ``start + i / fps`` wall-clock seconds.

    Args:
        path: any video PyAV reads.
        size: ``(width, height)`` to resize frames to (None: the file's size).
        fps: playback rate (None: the file's own rate).
        loop: start again at the end instead of ending.
        mirror: flip left-right (like a selfie camera).
        clock, sleep: injectable for tests.
    """

    def __init__(self, path: str | Path, size: tuple[int, int] | None = None, fps: float | None = None,
                 loop: bool = False, mirror: bool = False, clock: Clock = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if fps is not None and fps <= 0:
            raise ConfigError(f"--fps must be > 0, got {fps:g}")
        self.path = Path(path)
        self.reader = VideoReader(self.path)
        info = self.reader.info
        self.fps = float(fps) if fps else (float(info.rate) if info.rate else 25.0)
        self._frames = self.reader.frames()
        self._pending = next(self._frames, None)   # its display rotation decides the shown size
        self.rotation = self._pending.rotation if self._pending is not None else 0
        shown = (info.height, info.width) if self.rotation % 180 == 90 else (info.width, info.height)
        self.size = tuple(size) if size else shown
        self.want = tuple(size) if size else None
        self.loop, self.mirror = loop, mirror
        self.clock, self.sleep = clock, sleep
        self._start: float | None = None
        self.index = 0

    def _next_rgb(self) -> np.ndarray | None:
        fr, self._pending = self._pending, None
        if fr is None:
            fr = next(self._frames, None)
        if fr is None and self.loop and self.index > 0:
            self.reader.close()
            self.reader = VideoReader(self.path)
            self._frames = self.reader.frames()
            fr = next(self._frames, None)
        return None if fr is None else upright(fr.rgb, self.rotation)

    def read(self) -> tuple[np.ndarray, float] | None:
        rgb = self._next_rgb()
        if rgb is None:
            return None
        if self._start is None:
            self._start = self.clock()
        due = self._start + self.index / self.fps
        wait = due - self.clock()
        if wait > 0:
            self.sleep(wait)
        self.index += 1
        t = self.clock()
        rgb = _fit(rgb, self.want)
        if self.mirror:
            rgb = rgb[:, ::-1].copy()
        return rgb, t

    def close(self) -> None:
        self.reader.close()


CAMERA_FPS = 30.0
"""The frame rate requested from a camera when the config names none (``live.fps: null``)."""


def open_source(spec: str, size: tuple[int, int] | None = None, fps: float | None = None,
                mirror: bool = False, loop: bool = False) -> FrameSource:
    """``--camera`` value -> source: digits are a camera index, anything else a video file."""
    spec = str(spec).strip()
    if spec.isdigit():
        return OpenCVCamera(int(spec), size, CAMERA_FPS if fps is None else fps, mirror)
    p = Path(spec).expanduser()
    if not p.exists():
        raise MediaError(f"--camera {spec}: neither a camera index nor an existing video file")
    return FileCamera(p, size, fps, loop=loop, mirror=mirror)


@dataclass(frozen=True)
class Captured:
    """A frame handed out by :class:`LatestFrame`: pixels, capture time, sequence number (from 0)."""

    rgb: np.ndarray
    t_capture: float
    seq: int


class LatestFrame:
    """Read a source in a background thread, keeping only the newest frame.

    ``get()`` returns a frame newer than the previous one returned (waiting for it if needed), or
    None once the source has ended and the last frame was taken (or after ``stop()``). ``dropped``
    counts frames that were replaced before anyone took them.
    """

    def __init__(self, source: FrameSource, start: bool = True) -> None:
        self.source = source
        self._cond = threading.Condition()
        self._latest: Captured | None = None
        self._taken = -1
        self._ended = False
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self.captured = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="rest-video-capture", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the capture thread has ended (the source ran out, or :meth:`stop`)."""
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                got = self.source.read()
                if got is None:
                    break
                rgb, t = got
                with self._cond:
                    if self._latest is not None and self._latest.seq > self._taken:
                        self.dropped += 1
                    self._latest = Captured(rgb, t, self.captured)
                    self.captured += 1
                    self._cond.notify_all()
        except BaseException as e:  # noqa: BLE001 - handed to the consumer by get()
            self.error = e
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    @property
    def ended(self) -> bool:
        """True once the source has no more frames (or ``stop()`` was called)."""
        return self._ended or self._stop.is_set()

    def get(self, timeout: float | None = None) -> Captured | None:
        """The newest frame not yet returned; None at the end of the source or on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._latest is not None and self._latest.seq > self._taken:
                    self._taken = self._latest.seq
                    return self._latest
                if self.error is not None:
                    err, self.error = self.error, None
                    raise err
                if self._ended or self._stop.is_set():
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self.source.close()

    def __enter__(self) -> "LatestFrame":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _fit(rgb: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    return rgb if size is None else resize(rgb, size)
