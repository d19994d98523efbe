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
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from rest_video.core.config import OutputCfg
from rest_video.core.errors import MediaError, first_line
from rest_video.io.colour import (
    MATRIX_NAMES,
    SPC_BT470BG,
    SPC_BT709,
    UNSPECIFIED,
    ColourTags,
    from_rgb,
    is_hd,
    tag_codec,
)
from rest_video.io.containers import (
    ROTATION_MUXERS,
    TAGLESS_CODECS,
    encoder_options,
    output_pix_fmt,
    video_codec,
)
from rest_video.io.hdr import bt709_from_sdr
from rest_video.io.streams import AudioTrack, note_lost_languages, setup_audio, setup_copies, user_metadata
from rest_video.io.video import VideoInfo

log = logging.getLogger(__name__)


class VideoWriter:
    """Encode RGB frames with explicit pts in the input's time base; copy (or re-encode) audio.

    With ``video_template`` (a video stream of another file) nothing is encoded: the video stream is
    a copy of that one's codec parameters and takes its packets through :meth:`mux_video` (joining
    separately encoded segments, :mod:`rest_video.pipeline.segment`)."""

    def __init__(self, path: str | Path, info: VideoInfo, cfg: OutputCfg | None = None,
                 audio_streams: list | None = None, container_format: str | None = None,
                 video_template=None, name: str | Path | None = None,
                 other_streams: list | None = None) -> None:
        """``other_streams``: the input's subtitle and data streams, copied where the container can
        hold them (their packets come through :meth:`write_audio` as well)."""
        self.cfg = cfg or OutputCfg()
        self.path = Path(path)
        self.name = Path(name) if name is not None else self.path  # what messages call the output
        self.info = info
        self.colour = info.colour  # the output's tags: the input's, or SDR BT.709 for an HDR input with --sdr
        self.to_709 = info.colour.hdr and self.cfg.sdr
        if self.to_709:
            self.colour = replace(info.colour, matrix=SPC_BT709, primaries=1, trc=1)
        try:
            self.container = av.open(str(self.path), "w", format=container_format,
                                     options=_container_options(self.path, self.cfg.container_options))
        except (av.FFmpegError, ValueError) as e:
            raise MediaError(f"cannot write {self.name} ({first_line(e)})") from None
        self.template = video_template
        try:
            if video_template is None:
                self._setup_video()
            else:
                self._setup_remux(video_template)
            self.audio: dict[int, AudioTrack] = {}
            if self.cfg.audio != "drop":
                notes: list[str] = []
                for s in audio_streams or []:
                    track = setup_audio(self.container, s, self.cfg.audio, self.muxer, self.name.suffix,
                                        notes)
                    if track is not None:
                        self.audio[s.index] = track
                if notes:
                    log.info("note: %s", "; ".join(dict.fromkeys(notes)))
            self.copies = setup_copies(self.container, other_streams or [], self.name.suffix)
            for k, v in user_metadata(info.metadata).items():
                self.container.metadata[k] = v
        except BaseException:
            self.container.close()
            raise
        self._last_pts: int | None = None
        self.frames_written = 0

    # -- setup ----------------------------------------------------------------------------
    def _setup_video(self) -> None:
        cfg, info = self.cfg, self.info
        self.muxer = self.container.format.name.split(",")[0]
        codec = video_codec(self.path, cfg, self.muxer)
        pix_fmt = output_pix_fmt(codec, cfg.pix_fmt, info.width, info.height, info.bit_depth)
        rate = info.rate if info.rate else Fraction(25)
        if rate.denominator > 1001 or rate > 1000:
            rate = rate.limit_denominator(1001)
        try:
            s = self.container.add_stream(codec, rate=rate)
        except (av.FFmpegError, ValueError, TypeError) as e:
            raise MediaError(f"output codec {codec!r} is not available ({first_line(e)})") from None
        s.width, s.height = info.width, info.height
        s.pix_fmt = pix_fmt
        # AVI has one clock, the frame rate: timestamps become frame numbers (else it counts a frame
        # per tick of the input's time base: 600 "fps" and a frame count 24 times too high)
        self.time_base = 1 / rate if self.muxer == "avi" else info.time_base
        s.time_base = self.time_base
        s.codec_context.time_base = self.time_base
        s.options = encoder_options(codec, cfg)
        if codec == "mpeg4":  # fixed quantiser from crf (18 -> 2, the best that is not wasteful)
            s.codec_context.qscale = True
            s.codec_context.global_quality = max(1, min(31, round(cfg.crf / 9))) * 118  # FF_QP2LAMBDA
        if codec in TAGLESS_CODECS:
            self._untagged(codec, pix_fmt)
        tag_codec(s.codec_context, self.colour, pix_fmt)
        self.pix_fmt = pix_fmt
        self.vstream = s
        if info.video_metadata:
            for k, v in info.video_metadata.items():
                s.metadata[k] = v
        self._set_rotation(s)

    def _untagged(self, codec: str, pix_fmt: str) -> None:
        """``codec`` writes no colour tags: encode in the standard players assume for an untagged
        picture of this size (HDR tone-mapped to SDR), with one note when that is not the input's."""
        plain = ColourTags(pix_fmt=pix_fmt)
        w, h = self.info.width, self.info.height
        was = self.info.colour
        if was.hdr:
            self.to_709 = True
        if (was.sws_matrix(w, h), was.full_range(), was.hdr) != (
            plain.sws_matrix(w, h),
            plain.full_range(),
            False,
        ) or (was.primaries, was.trc) != (UNSPECIFIED, UNSPECIFIED):
            what = f"HDR {was.describe()}" if was.hdr else was.describe()
            log.info("note: %s (%s) holds no colour tags: written as %s, what players assume for an "
                     "untagged picture of this size (input: %s)", self.name.suffix, codec,
                     f"{MATRIX_NAMES[SPC_BT709 if is_hd(w, h) else SPC_BT470BG]}, limited range"
                     + (", tone-mapped to SDR" if was.hdr else ""), what)
        self.colour = plain

    def _set_rotation(self, s) -> None:
        if not self.info.rotation:
            return
        if self.muxer not in ROTATION_MUXERS:
            log.info("note: %s has no place for rotation metadata; the picture is stored as decoded "
                        "(rotated %d degrees from how it is shown)", self.name.suffix, self.info.rotation)
            return
        try:
            s.set_display_rotation(self.info.rotation)
        except Exception:  # noqa: BLE001 - rotation is metadata; a container without it still plays
            log.warning("output container cannot store rotation metadata")

    def _setup_remux(self, template) -> None:
        try:
            s = self.container.add_stream_from_template(template)
        except (av.FFmpegError, ValueError) as e:
            raise MediaError(f"cannot copy {template.codec_context.name} video into {self.name} "
                             f"({first_line(e)})") from None
        s.time_base = template.time_base
        self.muxer = self.container.format.name.split(",")[0]
        self.time_base = template.time_base
        self._set_rotation(s)
        self.vstream = s

    # -- writing --------------------------------------------------------------------------
    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        """Encode one RGB frame at ``pts`` (input time base); None pts continue from the last one."""
        if pts is None:
            step = int(round(1 / (self.info.rate * self.time_base))) if self.info.rate else 1
            pts = 0 if self._last_pts is None else self._last_pts + max(step, 1)
        elif self.time_base != self.info.time_base:
            pts = round(pts * self.info.time_base / self.time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # encoders need strictly increasing pts
        self._last_pts = pts
        frame = from_rgb(bt709_from_sdr(rgb) if self.to_709 else rgb, self.colour, self.pix_fmt)
        frame.pts = pts
        frame.time_base = self.time_base
        try:
            for p in self.vstream.encode(frame):
                self.container.mux(p)
        except av.FFmpegError as e:
            raise MediaError(f"encoding failed for {self.name} ({first_line(e)})") from None
        self.frames_written += 1

    def mux_video(self, packet) -> None:
        """Copy one already encoded video packet (``video_template`` writers)."""
        packet.stream = self.vstream
        try:
            self.container.mux(packet)
        except av.FFmpegError as e:
            raise MediaError(f"cannot write {self.name} ({first_line(e)})") from None
        self.frames_written += 1

    def write_audio(self, packet) -> None:
        """Copy (or re-encode) one audio packet from the input; copy a subtitle or data packet."""
        track = self.audio.get(packet.stream.index)
        if track is None or track.out_stream is None:
            copy = self.copies.get(packet.stream.index)
            if copy is not None:
                for p in copy.packets(packet):
                    self.container.mux(p)
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
        wanted = {}   # .mov writes only the languages of QuickTime's table: say which did not survive
        if flush and self.muxer == "mov":
            wanted = {s.index: lang for s in self.container.streams
                      if (lang := s.metadata.get("language")) not in (None, "und")}
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
        if wanted:
            note_lost_languages(self.path, wanted, self.name.suffix)

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
