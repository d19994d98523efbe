"""Thin PyAV reader and writer: RGB uint8 frames with their exact timestamps, audio remux.

``VideoReader`` demuxes one video stream (decoded, threaded) and the audio streams (as packets,
not decoded), and tells afterwards whether the input ended before its stated frame count.
``VideoWriter`` encodes RGB frames, with the encoder :mod:`rest_video.io.containers` picks for the
container, in the input's time base and timestamps, and copies audio packets into template streams
(re-encoding to AAC/Opus when the output container cannot hold the input's audio codec). Both are
context managers and always close their container.
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

from rest_video.core.config import OutputCfg
from rest_video.core.errors import MediaError
from rest_video.io.containers import encoder_options, video_codec

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


@dataclass
class Frame:
    """One decoded frame: RGB pixels and its timestamp in ``time_base`` units."""

    rgb: np.ndarray
    pts: int | None
    index: int
    rotation: int = 0   # display rotation (read on the first frame only)


@dataclass
class _AudioTrack:
    in_stream: object
    out_stream: object = None
    decoder: object = None
    reencode: bool = False
    extra: dict = field(default_factory=dict)


def probe_video(path: str | Path) -> VideoInfo:
    """Open ``path`` only to read its :class:`VideoInfo` (raises :class:`MediaError` if not a video)."""
    with VideoReader(path) as r:
        return r.info


class VideoReader:
    """Decode the first video stream of a file as RGB frames; hand audio packets to a callback."""

    def __init__(self, path: str | Path, threads: bool = True, log_errors: bool = True) -> None:
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
        if not self.path.exists():
            raise MediaError(f"file not found: {self.path}")
        if self.path.is_dir():
            raise MediaError(f"is a folder, not a video: {self.path}")
        try:
            self.container = av.open(str(self.path))
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
            raise MediaError(f"not a readable video or image: {self.path} ({_short(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise MediaError(f"no video stream in {self.path}")
        self.stream = self.container.streams.video[0]
        if threads:
            self.stream.thread_type = "AUTO"
        self.audio_streams = list(self.container.streams.audio)
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
        )
        if self.info.width <= 0 or self.info.height <= 0:
            self.close()
            raise MediaError(f"video stream of {self.path} has no picture size")

    def seek(self, pts: int) -> None:
        """Go to the keyframe at or before ``pts`` (video time base): :meth:`frames` decodes from there."""
        try:
            self.container.seek(int(pts), stream=self.stream, backward=True, any_frame=False)
        except av.FFmpegError as e:
            raise MediaError(f"cannot seek in {self.path} ({_short(e)})") from None

    def frames(self, on_audio=None, max_frames: int | None = None) -> Iterator[Frame]:
        """Yield frames in presentation order; audio packets go to ``on_audio(packet)`` as demuxed."""
        for fr in self._decode(on_audio):
            yield fr
            if max_frames is not None and fr.index + 1 >= max_frames:
                return

    def _decode(self, on_audio) -> Iterator[Frame]:
        index = 0
        streams = [self.stream, *self.audio_streams]
        try:
            demux = self.container.demux(streams)
            while True:
                with self._lock:  # the container is touched only under the lock, never across a yield
                    if self._closed:
                        return
                    packet = next(demux, None)
                    if packet is None:
                        return
                    if packet.stream.type == "audio":
                        if on_audio is not None and packet.size:
                            on_audio(packet)
                        continue
                    decoded = [(f.to_ndarray(format="rgb24"), f.pts, _frame_rotation(f) if index + k == 0 else 0)
                               for k, f in enumerate(packet.decode())]
                for rgb, pts, rotation in decoded:
                    self.decoded = index + 1
                    if pts is not None and (self.last_pts is None or pts > self.last_pts):
                        self.last_pts = pts
                    yield Frame(rgb, pts, index, rotation)
                    index += 1
        except av.FFmpegError as e:
            if index == 0:
                raise MediaError(f"cannot decode video in {self.path} ({_short(e)})") from None
            self.decode_error = _short(e)
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


class VideoWriter:
    """Encode RGB frames with explicit pts in the input's time base; copy (or re-encode) audio.

    With ``video_template`` (a video stream of another file) nothing is encoded: the video stream is
    a copy of that one's codec parameters and takes its packets through :meth:`mux_video` (joining
    separately encoded segments, :mod:`rest_video.pipeline.segment`)."""

    def __init__(self, path: str | Path, info: VideoInfo, cfg: OutputCfg | None = None,
                 audio_streams: list | None = None, container_format: str | None = None,
                 video_template=None) -> None:
        self.cfg = cfg or OutputCfg()
        self.path = Path(path)
        self.info = info
        try:
            self.container = av.open(str(self.path), "w", format=container_format,
                                     options=_container_options(self.path, self.cfg.container_options))
        except (av.FFmpegError, ValueError) as e:
            raise MediaError(f"cannot write {self.path} ({_short(e)})") from None
        self.template = video_template
        try:
            if video_template is None:
                self._setup_video()
            else:
                self._setup_remux(video_template)
            self.audio: dict[int, _AudioTrack] = {}
            if self.cfg.audio != "drop":
                for s in audio_streams or []:
                    self._setup_audio(s)
        except BaseException:
            self.container.close()
            raise
        self._last_pts: int | None = None
        self.frames_written = 0

    # -- setup ----------------------------------------------------------------------------
    def _setup_video(self) -> None:
        cfg, info = self.cfg, self.info
        pix_fmt = cfg.pix_fmt
        if pix_fmt in ("yuv420p", "yuvj420p", "nv12") and (info.width % 2 or info.height % 2):
            # 4:2:0 needs even sizes; keep the exact picture size with full-resolution chroma instead
            pix_fmt = "yuv444p"
            log.info("note: %dx%d is odd-sized; %s needs even sizes, encoding yuv444p to keep the exact picture size",
                     info.width, info.height, cfg.pix_fmt)
        codec = video_codec(self.path, cfg, self.container.format.name.split(",")[0])
        try:
            rate = info.rate if info.rate else Fraction(25)
            if rate.denominator > 1001 or rate > 1000:
                rate = rate.limit_denominator(1001)
            s = self.container.add_stream(codec, rate=rate)
        except (av.FFmpegError, ValueError, TypeError) as e:
            raise MediaError(f"output codec {codec!r} is not available ({_short(e)})") from None
        s.width, s.height = info.width, info.height
        s.pix_fmt = pix_fmt
        s.time_base = info.time_base
        s.codec_context.time_base = info.time_base
        s.options = encoder_options(codec, cfg)
        if info.rotation:
            try:
                s.set_display_rotation(info.rotation)
            except Exception:  # noqa: BLE001 - rotation is metadata; a container without it still plays
                log.warning("output container cannot store rotation metadata")
        self.vstream = s

    def _setup_remux(self, template) -> None:
        try:
            s = self.container.add_stream_from_template(template)
        except (av.FFmpegError, ValueError) as e:
            raise MediaError(f"cannot copy {template.codec_context.name} video into {self.path} ({_short(e)})") from None
        s.time_base = template.time_base
        if self.info.rotation:
            try:
                s.set_display_rotation(self.info.rotation)
            except Exception:  # noqa: BLE001 - as in _setup_video
                log.warning("output container cannot store rotation metadata")
        self.vstream = s

    def _setup_audio(self, in_stream) -> None:
        name = in_stream.codec_context.name
        supported = getattr(self.container, "supported_codecs", None)
        can_copy = self.cfg.audio == "copy" and (supported is None or name in supported)
        track = _AudioTrack(in_stream)
        if can_copy:
            try:
                track.out_stream = self.container.add_stream_from_template(in_stream)
            except (av.FFmpegError, ValueError) as e:
                log.info("note: cannot copy %s audio (%s), re-encoding", name, _short(e))
                can_copy = False
        if not can_copy:
            codec = "aac" if supported is None or "aac" in supported else "libopus"
            if supported is not None and codec not in supported:
                codec = next((c for c in ("libopus", "opus", "libvorbis", "mp3") if c in supported), None)
                if codec is None:
                    log.warning("%s cannot hold audio, audio dropped", self.path.suffix)
                    return
            rate = in_stream.codec_context.sample_rate or 48000
            if codec in ("libopus", "opus") and rate not in (8000, 12000, 16000, 24000, 48000):
                rate = 48000
            track.out_stream = self.container.add_stream(codec, rate=rate)
            layout = in_stream.codec_context.layout
            if layout is not None:
                try:
                    track.out_stream.layout = layout.name
                except Exception:  # noqa: BLE001
                    pass
            track.decoder = av.CodecContext.create(in_stream.codec_context.name, "r")
            track.decoder.extradata = in_stream.codec_context.extradata
            try:
                track.decoder.sample_rate = in_stream.codec_context.sample_rate
                track.decoder.layout = in_stream.codec_context.layout
                track.decoder.format = in_stream.codec_context.format
            except Exception:  # noqa: BLE001
                pass
            track.reencode = True
            if self.cfg.audio == "copy":
                log.info("note: %s cannot hold %s audio, re-encoding to %s", self.path.suffix, name, codec)
        self.audio[in_stream.index] = track

    # -- writing --------------------------------------------------------------------------
    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        """Encode one RGB frame at ``pts`` (input time base); None pts continue from the last one."""
        if pts is None:
            step = int(round(1 / (self.info.rate * self.info.time_base))) if self.info.rate else 1
            pts = 0 if self._last_pts is None else self._last_pts + max(step, 1)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # encoders need strictly increasing pts
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = pts
        frame.time_base = self.info.time_base
        try:
            for p in self.vstream.encode(frame):
                self.container.mux(p)
        except av.FFmpegError as e:
            raise MediaError(f"encoding failed for {self.path} ({_short(e)})") from None
        self.frames_written += 1

    def mux_video(self, packet) -> None:
        """Copy one already encoded video packet (``video_template`` writers)."""
        packet.stream = self.vstream
        try:
            self.container.mux(packet)
        except av.FFmpegError as e:
            raise MediaError(f"cannot write {self.path} ({_short(e)})") from None
        self.frames_written += 1

    def write_audio(self, packet) -> None:
        """Copy (or re-encode) one audio packet from the input."""
        track = self.audio.get(packet.stream.index)
        if track is None or track.out_stream is None:
            return
        if not track.reencode:
            packet.stream = track.out_stream
            self.container.mux(packet)
            return
        for f in track.decoder.decode(packet):
            f.pts = None
            for p in track.out_stream.encode(f):
                self.container.mux(p)

    def close(self, flush: bool = True) -> None:
        try:
            if flush:
                if self.template is None:
                    for p in self.vstream.encode():
                        self.container.mux(p)
                for track in self.audio.values():
                    if track.reencode and track.out_stream is not None:
                        for f in track.decoder.decode(None):
                            f.pts = None
                            for p in track.out_stream.encode(f):
                                self.container.mux(p)
                        for p in track.out_stream.encode():
                            self.container.mux(p)
        finally:
            self.container.close()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(flush=exc_type is None)


def _short(e: Exception) -> str:
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


_MOV_FAMILY = {".mp4", ".mov", ".m4v", ".3gp"}


def _container_options(path: Path, options: dict[str, str]) -> dict[str, str]:
    """Container options for this output; movflags only mean something to the MP4/MOV muxer."""
    out = dict(options)
    if path.suffix.lower() not in _MOV_FAMILY:
        out.pop("movflags", None)
    return out
