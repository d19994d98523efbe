"""Animated GIF output: one palette for the whole clip (FFmpeg's ``palettegen`` over every frame, then
``paletteuse`` with error diffusion), the input's frame timing in GIF's 1/100 s clock.

A palette per clip needs every frame before the first is written, so the frames wait in a raw file
beside the output (removed at the end, whatever happens). GIF holds no audio and no colour tags:
one note says the audio is dropped.
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import av.filter
import numpy as np

from rest_video.core.errors import MediaError, first_line
from rest_video.io.video import VideoInfo

log = logging.getLogger(__name__)

GIF_TIME_BASE = Fraction(1, 100)


class GifWriter:
    """The :class:`~rest_video.io.video_writer.VideoWriter` interface for ``.gif`` outputs."""

    def __init__(self, path: str | Path, info: VideoInfo, audio_streams: list | None = None,
                 name: str | Path | None = None) -> None:
        self.path, self.info = Path(path), info
        self.name = Path(name) if name is not None else self.path
        self.spool = self.path.with_name(self.path.name + ".frames")
        self._file = open(self.spool, "wb")  # noqa: SIM115 - closed in close()
        self.pts: list[int] = []
        self.frames_written = 0
        if audio_streams:
            log.info("note: .gif holds no audio; %d audio stream%s dropped", len(audio_streams),
                     "s" if len(audio_streams) > 1 else "")

    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        """Keep one RGB frame (``pts`` in the input's time base; None continues from the last)."""
        step = 1 / self.info.rate if self.info.rate else Fraction(1, 10)
        if pts is None:
            t = (self.pts[-1] * GIF_TIME_BASE + step) if self.pts else Fraction(0)
        else:
            t = pts * self.info.time_base
        cs = round(t / GIF_TIME_BASE)
        if self.pts and cs <= self.pts[-1]:
            cs = self.pts[-1] + 1
        self.pts.append(cs)
        self._file.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
        self.frames_written += 1

    def write_audio(self, packet) -> None:
        """GIF has no audio: nothing to do."""

    def _frames(self):
        w, h = self.info.width, self.info.height
        data = np.memmap(self.spool, dtype=np.uint8, mode="r", shape=(len(self.pts), h, w, 3))
        for rgb, cs in zip(data, self.pts, strict=False):
            f = av.VideoFrame.from_ndarray(np.array(rgb), format="rgb24")
            f.pts, f.time_base = cs, GIF_TIME_BASE
            yield f

    def _palette(self):
        g = av.filter.Graph()
        src = g.add_buffer(width=self.info.width, height=self.info.height, format="rgb24",
                           time_base=GIF_TIME_BASE)
        gen, sink = g.add("palettegen", "stats_mode=full"), g.add("buffersink")
        src.link_to(gen)
        gen.link_to(sink)
        g.configure()
        for f in self._frames():
            src.push(f)
        src.push(None)
        return sink.pull()

    def _encode(self) -> None:
        palette = self._palette()
        g = av.filter.Graph()
        src = g.add_buffer(width=self.info.width, height=self.info.height, format="rgb24",
                           time_base=GIF_TIME_BASE)
        pal = g.add_buffer(width=palette.width, height=palette.height, format=palette.format.name,
                           time_base=GIF_TIME_BASE)
        use, sink = g.add("paletteuse", "dither=sierra2_4a"), g.add("buffersink")
        src.link_to(use, 0, 0)
        pal.link_to(use, 0, 1)
        use.link_to(sink)
        g.configure()
        palette.pts = 0
        pal.push(palette)
        pal.push(None)
        rate = self.info.rate.limit_denominator(1001) if self.info.rate else Fraction(10)
        with av.open(str(self.path), "w", format="gif") as c:
            s = c.add_stream("gif", rate=rate)
            s.width, s.height, s.pix_fmt = self.info.width, self.info.height, "pal8"
            s.time_base = s.codec_context.time_base = GIF_TIME_BASE

            def drain() -> None:
                while True:
                    try:
                        out = sink.pull()
                    except (av.BlockingIOError, av.EOFError):
                        return
                    out.time_base = GIF_TIME_BASE
                    for p in s.encode(out):
                        c.mux(p)

            for f in self._frames():
                src.push(f)
                drain()
            src.push(None)
            drain()
            for p in s.encode():
                c.mux(p)

    def close(self, flush: bool = True) -> None:
        try:
            self._file.close()
            if flush and self.pts:
                try:
                    self._encode()
                except av.FFmpegError as e:
                    raise MediaError(f"encoding failed for {self.name} ({first_line(e)})") from None
        finally:
            try:
                os.unlink(self.spool)
            except OSError:
                pass

    def __enter__(self) -> "GifWriter":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(flush=exc_type is None)
