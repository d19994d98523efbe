"""Long videos in pieces: split at keyframes, stylize each piece on its own, join without re-encoding.

    plan = plan_segments("long.mp4", seconds=10)                       # keyframe scan: demux, no decode
    for seg in plan.segments:                                           # each on any worker
        stylize_segment("long.mp4", style, part_path(seg), cfg, seg)   # video only, one encode per piece
    join_segments("long.mp4", [part paths...], "out.mp4", cfg)         # packets copied, audio copied once

Each segment holds the frames whose timestamps lie in ``[start, end)``, ``start`` being a keyframe
of the input. Before its first output frame a segment runs the temporal filters
(:class:`~rest_video.stream.processor.StreamStylizer`) over the ``warmup`` seconds of frames just
before ``start`` and writes nothing for them, so the filters are in (nearly) the state a single run
would have there and no seam shows. Decoding starts at the keyframe at or before the warm-up.

Every segment is its own encode, so it begins with a keyframe; the join copies the segments' video
packets and the input's audio packets (copied, or re-encoded when the output container needs it,
as in :class:`~rest_video.io.video.VideoWriter`) into one file: the frame count, timestamps and audio
are those of a single run. The pieces are files in the output's container, next to the output.
"""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av

from rest_video.core.atomic import atomic_output, check_writable
from rest_video.core.config import PipelineConfig
from rest_video.core.errors import MediaError, first_line
from rest_video.engine.stylizer import Stylizer
from rest_video.io.containers import video_codec
from rest_video.io.hdr import hdr_note
from rest_video.io.video import VideoReader
from rest_video.io.video_writer import VideoWriter
from rest_video.pipeline.file import PipelineResult, Stages
from rest_video.pipeline.frames import FileSink, SegmentSource
from rest_video.stream.processor import StreamStylizer
from rest_video.style import StyleStats

log = logging.getLogger(__name__)

DEFAULT_WARMUP = 2.0
"""Seconds of frames before a segment that warm its temporal filters up (EMAs of 0.9 and 0.93
keep 0.9**20 = 12 % and 0.93**20 = 23 % of a state 20 frames old; see tests/batch for the seam PSNR)."""


@dataclass(frozen=True)
class Segment:
    """Frames with ``start <= pts < end`` (None: open), decoded from the keyframe at or before
    ``warm_from``; frames in ``[warm_from, start)`` only warm the filters. Timestamps in ``time_base``."""

    index: int
    start: int | None
    end: int | None
    warm_from: int | None
    time_base: Fraction

    def seconds(self) -> tuple[float | None, float | None]:
        tb = self.time_base
        return (None if self.start is None else float(self.start * tb),
                None if self.end is None else float(self.end * tb))


@dataclass(frozen=True)
class SegmentPlan:
    path: Path
    segments: tuple[Segment, ...]
    frames: int  # video packets in the input (the frame count, for progress)


def scan_keyframes(path: str | Path) -> tuple[list[int], int, Fraction, bool]:
    """Demux (no decoding) the first video stream: keyframe timestamps, packet count, time base,
    and whether every packet had a timestamp. :class:`MediaError` when it is no readable video."""
    p = Path(path)
    try:
        container = av.open(str(p))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise MediaError(f"not a readable video: {p} ({first_line(e)})") from None
    with container:
        if not container.streams.video:
            raise MediaError(f"no video stream in {p}")
        stream = container.streams.video[0]
        keys, n, timed = [], 0, True
        try:
            for pkt in container.demux(stream):
                if not pkt.size:
                    continue
                n += 1
                if pkt.pts is None:
                    timed = False
                elif pkt.is_keyframe:
                    keys.append(int(pkt.pts))
        except av.FFmpegError as e:
            raise MediaError(f"cannot read {p} ({first_line(e)})") from None
        tb = stream.time_base or Fraction(1, 25)
    return sorted(set(keys)), n, Fraction(tb), timed


def plan_segments(path: str | Path, seconds: float, warmup: float = DEFAULT_WARMUP) -> SegmentPlan:
    """Cut ``path`` at the first keyframe at or after every ``seconds`` (one segment when it has no
    usable keyframes or timestamps: then a single run is all there is)."""
    if not seconds > 0:
        raise MediaError(f"--segment-seconds must be > 0, got {seconds}")
    keys, n, tb, timed = scan_keyframes(path)
    cuts: list[int] = []
    if timed and len(keys) > 1:
        first = keys[0]
        step = seconds / tb  # in time-base units
        for k in keys[1:]:
            if k - (cuts[-1] if cuts else first) >= step:
                cuts.append(k)
    bounds: list[int | None] = [None, *cuts, None]
    segs = []
    for i in range(len(bounds) - 1):
        start, end = bounds[i], bounds[i + 1]
        warm = None
        if start is not None:
            warm = max(int(start - warmup / tb), keys[0]) if warmup > 0 else start
        segs.append(Segment(i, start, end, warm, tb))
    return SegmentPlan(Path(path), tuple(segs), n)


def stylize_segment(in_path: str | Path, style: StyleStats, part_path: str | Path, cfg: PipelineConfig,
                    segment: Segment, *, stylizer: Stylizer | None = None, strength: float | None = None,
                    on_frame: Callable[[int], None] | None = None) -> PipelineResult:
    """Stylize the frames of ``segment`` into ``part_path`` (video only, written atomically, in the
    container its extension names). The frames before ``segment.start`` from ``warm_from`` on run
    through the temporal filters first and are not written."""
    src, dst = Path(in_path), Path(part_path)
    check_writable(dst, overwrite=True)
    video_codec(dst, cfg.output)
    stylizer = stylizer or Stylizer(cfg)
    strength = stylizer.resolve_strength(strength)
    t0 = time.perf_counter()
    stream = StreamStylizer(stylizer, style, cfg, strength=strength)
    with VideoReader(src, log_errors=False) as reader, atomic_output(dst) as tmp:
        source = SegmentSource(reader, segment.warm_from, segment.start, segment.end)
        stages = Stages(source, FileSink(tmp, source, cfg.output), stream, queue_size=cfg.runtime.queue_size,
                        progress=on_frame)
        n = stages.run_overlapped()
        if n == 0:
            raise MediaError(f"{src}: no frames in segment {segment.index} (from {segment.seconds()[0]} s)")
        if reader.decode_error is not None:
            raise MediaError(f"{src}: decoding failed in segment {segment.index} ({reader.decode_error})")
        first = stages.first_pts
        if segment.start is not None and first != segment.start:
            raise MediaError(
                f"{src}: segment {segment.index} should start at timestamp {segment.start} "
                f"but starts at {first} (the input cannot be cut here; run it without --segment-seconds)"
            )
    return PipelineResult(n, time.perf_counter() - t0, "video")


def join_segments(in_path: str | Path, parts: list[str | Path], out_path: str | Path, cfg: PipelineConfig,
                  overwrite: bool = False) -> int:
    """Copy the video packets of ``parts`` (in order) and the audio of ``in_path`` into ``out_path``
    (atomically); no frame is re-encoded. Returns the number of video frames written."""
    src, dst = Path(in_path), Path(out_path)
    check_writable(dst, overwrite)
    opened = [av.open(str(p)) for p in parts]
    try:
        first = opened[0].streams.video[0]
        for c, p in zip(opened[1:], parts[1:], strict=False):
            s = c.streams.video[0]
            if (s.codec_context.name, s.codec_context.extradata) != (
                first.codec_context.name,
                first.codec_context.extradata,
            ):
                raise MediaError(
                    f"segment {p} was encoded with other codec parameters; cannot join without re-encoding"
                )
        with VideoReader(src, threads=False) as reader, atomic_output(dst) as tmp:
            if reader.info.colour.hdr:  # once per run (the segments were encoded as --sdr said)
                log.info(hdr_note(src.name, reader.info.colour.trc, "sdr" if cfg.output.sdr else "hdr"))
            rotation = _first_rotation(parts[0])
            info = (
                reader.info
                if not rotation
                else type(reader.info)(**{**reader.info.__dict__, "rotation": rotation})
            )
            writer = VideoWriter(tmp, info, cfg.output, reader.audio_streams, video_template=first, name=dst)
            ok = False
            try:
                last_dts = None
                shift = _decode_delay(parts)
                for kind, pkt in _interleave(_video_packets(opened, shift), _audio_packets(reader)):
                    if kind == "a":
                        writer.write_audio(pkt)
                        continue
                    if last_dts is not None and pkt.dts is not None and pkt.dts <= last_dts:
                        raise MediaError(f"segments of {src} overlap in decode time; cannot join them")
                    last_dts = pkt.dts if pkt.dts is not None else last_dts
                    writer.mux_video(pkt)
                ok = True
            finally:
                writer.close(flush=ok)
            return writer.frames_written
    finally:
        for c in opened:
            c.close()


def _decode_delay(parts: list[str | Path]) -> int | None:
    """How far decode time runs behind presentation time in the parts (their time base), when a part
    lacks decode timestamps: Matroska stores none, its demuxer leaves some unset, and FFmpeg's muxer
    cannot guess them across B-frames. None when every packet has one."""
    delay, missing = 0, False
    for p in parts:
        with av.open(str(p)) as c:
            times = [(pkt.pts, pkt.dts) for pkt in c.demux(video=0) if pkt.size]
        missing = missing or any(dts is None for _, dts in times)
        pts = [t for t, _ in times]
        if None not in pts:
            delay = max([delay, *(a - b for a, b in zip(sorted(pts), pts, strict=False))])
    return delay if missing else None


def _video_packets(opened, shift: int | None) -> Iterator[tuple[float, object]]:
    """The parts' video packets in order; with ``shift`` (see :func:`_decode_delay`), each part's
    decode timestamps made anew: its presentation times in order, ``shift`` earlier."""
    for c in opened:
        s = c.streams.video[0]
        packets = (pkt for pkt in c.demux(s) if pkt.size)
        if shift is not None:
            packets = list(packets)
            for pkt, t in zip(packets, sorted(pkt.pts for pkt in packets), strict=False):
                pkt.dts = t - shift
        for pkt in packets:
            t = pkt.dts if pkt.dts is not None else pkt.pts
            yield (float(t * s.time_base) if t is not None else 0.0), pkt


def _audio_packets(reader: VideoReader) -> Iterator[tuple[float, object]]:
    if not reader.audio_streams:
        return
    for pkt in reader.container.demux(reader.audio_streams):
        if pkt.size:
            t = pkt.dts if pkt.dts is not None else pkt.pts
            yield (float(t * pkt.stream.time_base) if t is not None else 0.0), pkt


def _interleave(video, audio) -> Iterator[tuple[str, object]]:
    """Both packet streams in time order (each already is), video first on ties."""
    tagged_v = ((t, 0, i, "v", p) for i, (t, p) in enumerate(video))
    tagged_a = ((t, 1, i, "a", p) for i, (t, p) in enumerate(audio))
    for _, _, _, kind, pkt in heapq.merge(tagged_v, tagged_a):
        yield kind, pkt


def _first_rotation(path: str | Path) -> int:
    with VideoReader(path, threads=False) as r:
        fr = next(iter(r.frames(max_frames=1)), None)
    return fr.rotation if fr is not None else 0

