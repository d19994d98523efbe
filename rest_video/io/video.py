"""Thin PyAV reader: RGB uint8 frames with their exact timestamps, decoded in the stream's own
colour standard (:mod:`rest_video.io.colour`); the other streams handed on as packets.

``VideoReader`` demuxes one video stream (decoded, threaded) and the audio streams (as packets,
not decoded), and tells afterwards whether the input ended before its stated frame count. It is a
context manager and always closes its container. The writer is :mod:`rest_video.io.video_writer`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from rest_video.core.errors import MediaError, first_line
from rest_video.io.colour import ColourTags, to_rgb
from rest_video.io.sequence import demuxer_args
from rest_video.io.streams import user_metadata

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoInfo:
    """What the writer needs to reproduce the input's geometry and timing."""

    width: int
    height: int
    time_base: Fraction
    rate: Fraction | None          # average frame rate (None if unknown)
    frames: int                    # frame count from the container (0 if unknown)
    rotation: int = 0              # display rotation in degrees (metadata only, pixels untouched)
    audio_codecs: tuple[str, ...] = ()
    duration: float | None = None  # seconds
    colour: ColourTags = field(default_factory=ColourTags)  # matrix, range, primaries, transfer
    bit_depth: int = 8             # bits per component of the decoded pixel format
    metadata: dict = field(default_factory=dict)        # the container's (creation time, title ...)
    video_metadata: dict = field(default_factory=dict)  # the video stream's (language, title ...)


@dataclass
class Frame:
    """One decoded frame: RGB pixels and its timestamp in ``time_base`` units."""

    rgb: np.ndarray
    pts: int | None
    index: int
    rotation: int = 0   # display rotation (read on the first frame only)


def probe_video(path: str | Path) -> VideoInfo:
    """Open ``path`` only to read its :class:`VideoInfo` (raises :class:`MediaError` if not a video)."""
    with VideoReader(path) as r:
        return r.info


class VideoReader:
    """Decode the first video stream of a file as RGB frames; hand audio packets to a callback."""

    def __init__(self, path: str | Path, threads: bool = True, log_errors: bool = True,
                 fps: float | None = None) -> None:
        """``fps``: the frame rate of an image sequence input (``frame_%04d.png`` or a folder)."""
        self.path = Path(path)
        self.log_errors = log_errors      # False: the caller reports decode errors (see ended_early)
        self.decoded = 0                  # frames decoded so far
        self.last_pts: int | None = None  # the latest timestamp among them
        self.decode_error: str | None = None
        # decoding may run in another thread (file mode's decode stage) than close() (the caller's
        # clean-up on an interrupt): closing the container under a running demux or decode is a
        # segfault in FFmpeg, so both hold this lock and a closed reader decodes no more
        self._lock = threading.Lock()
        self._closed = False
        sequence = demuxer_args(self.path, fps)
        if sequence is None and not self.path.exists():
            raise MediaError(f"file not found: {self.path}")
        url, fmt, options = sequence or (str(self.path), None, None)
        try:
            self.container = av.open(url, format=fmt, options=options)
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
            raise MediaError(f"not a readable video or image: {self.path} ({first_line(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise MediaError(f"no video stream in {self.path}")
        self.stream = self.container.streams.video[0]
        if threads:
            self.stream.thread_type = "AUTO"
        self.audio_streams = list(self.container.streams.audio)
        # subtitle and data streams, handed on as packets with the audio (ffmpeg's -map 0)
        self.other_streams = [s for s in self.container.streams if s.type in ("subtitle", "data")]
        cc = self.stream.codec_context
        rate = self.stream.average_rate or self.stream.guessed_rate
        dur = None
        if self.container.duration:
            dur = self.container.duration / av.time_base
        self.info = VideoInfo(
            width=cc.width,
            height=cc.height,
            time_base=self.stream.time_base or Fraction(1, int(rate or 25)),
            rate=Fraction(rate) if rate else None,
            frames=int(self.stream.frames or 0),
            rotation=0,
            audio_codecs=tuple(a.codec_context.name for a in self.audio_streams),
            duration=dur,
            colour=ColourTags.of(cc, cc.pix_fmt),
            bit_depth=pixel_bit_depth(cc.pix_fmt),
            metadata=user_metadata(self.container.metadata),
            video_metadata=user_metadata(self.stream.metadata),
        )
        if self.info.width <= 0 or self.info.height <= 0:
            self.close()
            raise MediaError(f"video stream of {self.path} has no picture size")

    def seek(self, pts: int) -> None:
        """Go to the keyframe at or before ``pts`` (video time base): :meth:`frames` decodes from there."""
        try:
            self.container.seek(int(pts), stream=self.stream, backward=True, any_frame=False)
        except av.FFmpegError as e:
            raise MediaError(f"cannot seek in {self.path} ({first_line(e)})") from None

    def frames(self, on_audio=None, max_frames: int | None = None) -> Iterator[Frame]:
        """Yield frames in presentation order; audio packets go to ``on_audio(packet)`` as demuxed."""
        for fr in self._decode(on_audio):
            yield fr
            if max_frames is not None and fr.index + 1 >= max_frames:
                return

    def _decode(self, on_audio) -> Iterator[Frame]:
        index = 0
        streams = [self.stream, *self.audio_streams, *self.other_streams]
        try:
            demux = self.container.demux(streams)
            while True:
                with self._lock:  # the container is touched only under the lock, never across a yield
                    if self._closed:
                        return
                    packet = next(demux, None)
                    if packet is None:
                        return
                    if packet.stream.type != "video":
                        if on_audio is not None and packet.size:
                            on_audio(packet)
                        continue
                    decoded = [(to_rgb(f, self.info.colour), f.pts,
                                 _frame_rotation(f) if index + k == 0 else 0)
                               for k, f in enumerate(packet.decode())]
                for rgb, pts, rotation in decoded:
                    self.decoded = index + 1
                    if pts is not None and (self.last_pts is None or pts > self.last_pts):
                        self.last_pts = pts
                    yield Frame(rgb, pts, index, rotation)
                    index += 1
        except av.FFmpegError as e:
            if index == 0:
                raise MediaError(f"cannot decode video in {self.path} ({first_line(e)})") from None
            self.decode_error = first_line(e)
            if self.log_errors:
                log.warning("%s: decoding stopped after %d frames (%s)", self.path, index, self.decode_error)

    def ended_early(self) -> str | None:
        """After decoding to the end: why the input gave fewer frames than it says it holds
        (``input ended after N of M frames``), or None when it gave them all.

        The container's frame count alone is not enough: a variable-rate AVI counts ticks of its
        time base, most of which hold no frame. So a shortfall counts only when the frames also
        stop short of the stream's duration (by more than two frame intervals), or decoding
        failed."""
        n, declared = self.decoded, self.info.frames
        of = f" of {declared}" if declared > n else ""
        if self.decode_error is not None:
            return f"input ended after {n}{of} frames ({self.decode_error})"
        if not declared or n >= declared:
            return None
        end = self._stream_end()
        if end is not None and self.last_pts is not None:
            step = 1 / (self.info.rate * self.info.time_base) if self.info.rate else 0
            if self.last_pts + 2 * step >= end:
                return None
        return f"input ended after {n}{of} frames"

    def _stream_end(self) -> float | None:
        """Where the video stream ends, in its time base (None if the container does not say)."""
        s = self.stream
        if s.duration:
            return (s.start_time or 0) + s.duration
        if self.container.duration:
            return self.container.duration / av.time_base / self.info.time_base
        return None

    def close(self) -> None:
        """Close the file; waits for a demux or decode step running in another thread, after which
        that thread's frames() ends."""
        with self._lock:
            self._closed = True
            self.container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _frame_rotation(frame) -> int:
    try:
        return int(round(frame.rotation or 0))
    except (AttributeError, TypeError, ValueError):
        return 0


def upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """The picture as a player shows it: turned by the display rotation (degrees counter-clockwise,
    as FFmpeg's display matrix and PyAV's ``frame.rotation`` give it; multiples of 90 only)."""
    k = (int(round(rotation / 90)) % 4) if rotation else 0
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def pixel_bit_depth(pix_fmt: str | None) -> int:
    """Bits per component of a pixel format (8 when unknown)."""
    try:
        return max(c.bits for c in av.VideoFormat(pix_fmt).components) if pix_fmt else 8
    except (ValueError, TypeError, av.FFmpegError):
        return 8
