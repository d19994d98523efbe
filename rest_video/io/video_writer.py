"""Thin PyAV writer: RGB uint8 frames encoded in the input's colour standard, time base and
timestamps; audio packets copied into template streams.

``VideoWriter`` encodes with the encoder :mod:`rest_video.io.containers` picks for the container,
converts each RGB frame with the input's matrix and range and writes the input's colour tags
(:mod:`rest_video.io.colour`), and copies audio packets (re-encoding to AAC/Opus when the output
container cannot hold the input's audio codec). It is a context manager and always closes its
container.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from rest_video.core.config import OutputCfg
from rest_video.core.errors import MediaError
from rest_video.io.colour import from_rgb, tag_codec
from rest_video.io.containers import encoder_options, output_pix_fmt, video_codec
from rest_video.io.video import VideoInfo, short_error

log = logging.getLogger(__name__)


@dataclass
class _AudioTrack:
    in_stream: object
    out_stream: object = None
    decoder: object = None
    reencode: bool = False
    extra: dict = field(default_factory=dict)


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
            raise MediaError(f"cannot write {self.path} ({short_error(e)})") from None
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
        codec = video_codec(self.path, cfg, self.container.format.name.split(",")[0])
        pix_fmt = output_pix_fmt(codec, cfg.pix_fmt, info.width, info.height, info.bit_depth)
        try:
            rate = info.rate if info.rate else Fraction(25)
            if rate.denominator > 1001 or rate > 1000:
                rate = rate.limit_denominator(1001)
            s = self.container.add_stream(codec, rate=rate)
        except (av.FFmpegError, ValueError, TypeError) as e:
            raise MediaError(f"output codec {codec!r} is not available ({short_error(e)})") from None
        s.width, s.height = info.width, info.height
        s.pix_fmt = pix_fmt
        s.time_base = info.time_base
        s.codec_context.time_base = info.time_base
        s.options = encoder_options(codec, cfg)
        tag_codec(s.codec_context, info.colour, pix_fmt)
        self.pix_fmt = pix_fmt
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
            raise MediaError(f"cannot copy {template.codec_context.name} video into {self.path} "
                             f"({short_error(e)})") from None
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
                log.info("note: cannot copy %s audio (%s), re-encoding", name, short_error(e))
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
        frame = from_rgb(rgb, self.info.colour, self.pix_fmt)
        frame.pts = pts
        frame.time_base = self.info.time_base
        try:
            for p in self.vstream.encode(frame):
                self.container.mux(p)
        except av.FFmpegError as e:
            raise MediaError(f"encoding failed for {self.path} ({short_error(e)})") from None
        self.frames_written += 1

    def mux_video(self, packet) -> None:
        """Copy one already encoded video packet (``video_template`` writers)."""
        packet.stream = self.vstream
        try:
            self.container.mux(packet)
        except av.FFmpegError as e:
            raise MediaError(f"cannot write {self.path} ({short_error(e)})") from None
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


_MOV_FAMILY = {".mp4", ".mov", ".m4v", ".3gp"}


def _container_options(path: Path, options: dict[str, str]) -> dict[str, str]:
    """Container options for this output; movflags only mean something to the MP4/MOV muxer."""
    out = dict(options)
    if path.suffix.lower() not in _MOV_FAMILY:
        out.pop("movflags", None)
    return out
