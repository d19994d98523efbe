"""Preview frames: one frame of the content under a style, fast enough to follow a slider.

Two qualities of the same look:

- ``lut`` (while a slider moves): the network runs on a small copy of the frame (``live.fit_side``,
  384 px), a 3D colour LUT is fitted to it, as the LUT path of live and file mode does, and the
  frame is mapped through it;
- ``full`` (once the slider rests): the network on the whole frame, as a render gives it.

Either is kept at full strength for each (pipeline, content, frame, style), so a strength change
is only a blend (:func:`~rest_video.ops.opacity.blend`) and a JPEG encode. Frames are shown at most
``side`` pixels on their long side (1280: 720p).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from rest_video.core.errors import ConfigError, MediaError

PREVIEW_SIDE = 1280


def studio_pipelines() -> list[str]:
    """The shipped pipelines a user can pick (``train`` is the training command's)."""
    from rest_video.resources import pipeline_names

    return [n for n in pipeline_names() if n != "train"]


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MediaError("could not encode the preview")
    return buf.tobytes()


SEEK_FROM = 48
"""Frames from this index on are reached by seeking to the keyframe before them (by time), not by
decoding every frame from the start: a scrubber over a long video stays quick."""


def video_frame(path: Path, index: int) -> np.ndarray:
    """Frame ``index`` of a video (RGB uint8, decoded as every other path decodes it)."""
    from rest_video.io.clips import read_clip
    from rest_video.io.video import VideoReader

    if index >= SEEK_FROM:
        with VideoReader(path) as reader:
            rate, tb = reader.info.rate, reader.info.time_base
            if rate and tb:
                step = 1 / (rate * tb)                       # one frame, in time-base units
                target = (reader.stream.start_time or 0) + index * step
                reader.seek(int(target))
                last = None
                for fr in reader.frames():
                    last = fr
                    if fr.pts is not None and fr.pts >= target - step / 2:
                        return fr.rgb
                if last is not None and reader.info.frames and index < reader.info.frames:
                    return last.rgb
                raise MediaError(f"frame {index} is past the end of the video")
    got = read_clip(path, 1, start=index)
    if not got:
        raise MediaError(f"frame {index} is past the end of the video")
    return got[0]


class _Lru(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)

    def hit(self, key):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return None


class PreviewEngine:
    """Stylizers (one per pipeline, made on first use), style statistics and rendered looks, cached.

    Thread-safe. The network runs under one lock (the CPU's cores are all the network's anyway);
    the caches have their own, so a strength change (a cached look, blended) never waits behind a
    full-network preview that is still being computed.
    """

    def __init__(self, side: int = PREVIEW_SIDE, cache_size: int = 48) -> None:
        self.side = side
        self._stylizers: dict[str, object] = {}
        self._frames = _Lru(16)
        self._looks = _Lru(cache_size)
        self._styles = _Lru(64)
        self._lock = threading.RLock()        # the network and stylizers
        self._cache = threading.Lock()        # the LRU caches

    # -- pieces ---------------------------------------------------------------------------
    def stylizer(self, pipeline: str):
        """The :class:`~rest_video.engine.stylizer.Stylizer` of a shipped pipeline, by name."""
        if pipeline not in studio_pipelines():
            raise ConfigError(f"unknown pipeline {pipeline!r} (shipped: {', '.join(studio_pipelines())})")
        with self._lock:
            st = self._stylizers.get(pipeline)
            if st is None:
                from rest_video import Stylizer, load_pipeline

                st = self._stylizers[pipeline] = Stylizer(load_pipeline(pipeline))
            return st

    def style(self, pipeline: str, path: Path):
        key = (pipeline, str(path))
        with self._lock:
            stats = self._styles.hit(key)
            if stats is None:
                stats = self.stylizer(pipeline).load_style(path)
                self._styles.put(key, stats)
            return stats  # (the style LRU is only touched under the network's lock)

    def frame(self, path: Path, index: int, is_video: bool) -> np.ndarray:
        """Frame ``index`` of a video (or the photo), shrunk to the preview size."""
        key = (str(path), index if is_video else 0)
        with self._cache:
            rgb = self._frames.hit(key)
        if rgb is not None:
            return rgb
        from rest_video.io.image import read_image
        from rest_video.ops.color import downscale

        if is_video:
            rgb = video_frame(path, max(0, int(index)))
        else:
            rgb = read_image(path, self.side)
        rgb = np.ascontiguousarray(downscale(rgb, self.side))
        with self._cache:
            self._frames.put(key, rgb)
        return rgb

    # -- looks ----------------------------------------------------------------------------
    def look(self, pipeline: str, content: Path, index: int, is_video: bool, style: Path,
             quality: str) -> tuple[np.ndarray, np.ndarray]:
        """(original, full-strength look) of a frame at the preview size; ``quality`` "lut" or "full"."""
        if quality not in ("lut", "full"):
            raise ConfigError("quality must be 'lut' or 'full'")
        rgb = self.frame(content, index, is_video)
        key = (pipeline, str(content), index if is_video else 0, str(style), quality)
        with self._cache:
            out = self._looks.hit(key)
        if out is not None:
            return rgb, out
        with self._lock:
            with self._cache:
                out = self._looks.hit(key)                 # made meanwhile by another request
            if out is None:
                st = self.stylizer(pipeline)
                stats = self.style(pipeline, style)
                out = self._full(st, rgb, stats) if quality == "full" else self._lut(st, rgb, stats)
                with self._cache:
                    self._looks.put(key, out)
        return rgb, out

    @staticmethod
    def _full(st, rgb: np.ndarray, stats) -> np.ndarray:
        return st.stylize(rgb, stats, 1.0)

    @staticmethod
    def _lut(st, rgb: np.ndarray, stats) -> np.ndarray:
        from rest_video.ops.color import downscale
        from rest_video.ops.detail import add_detail
        from rest_video.ops.lut import LutApplier
        from rest_video.stream.lut import fit_look

        live = st.cfg.live
        small = np.ascontiguousarray(downscale(rgb, live.fit_side))
        table, gains = fit_look(small, st.stylize(small, stats, 1.0), live.lut_size, detail=live.detail)
        mapped = LutApplier(table)(rgb)       # finished as the LUT path finishes (LutStylizer.finish)
        return st.finish(rgb, mapped) if gains is None else add_detail(rgb, mapped, gains)

    def render(self, pipeline: str, content: Path, index: int, is_video: bool, style: Path, strength: float,
               quality: str) -> tuple[bytes, float]:
        """(JPEG of the look at ``strength``, milliseconds it took)."""
        from rest_video.core.config import check_strength
        from rest_video.ops.opacity import blend

        t0 = time.perf_counter()
        strength = check_strength(strength)
        rgb, out = self.look(pipeline, content, index, is_video, style, quality)
        jpeg = encode_jpeg(blend(rgb, out, strength))
        return jpeg, 1000 * (time.perf_counter() - t0)

    def original(self, content: Path, index: int, is_video: bool) -> bytes:
        return encode_jpeg(self.frame(content, index, is_video))
