"""File mode: decode -> stylize -> encode, as three overlapping stages joined by bounded queues.

    demux+decode (thread) -> [queue] -> stylize (caller's thread, device) -> [queue] -> encode+mux (thread)
          +----------------------- audio packets, copied as they are ----------------------^

The queues bound memory on long videos, and the slowest stage sets the pace. Frames keep their
input timestamps; audio packets are remuxed untouched where the container allows. The output is
written to a temporary file next to ``out_path`` and renamed only when everything succeeded.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from rest_video.core.atomic import atomic_output
from rest_video.core.config import PipelineConfig
from rest_video.core.errors import MediaError, RestVideoError
from rest_video.core.signals import raise_if_stopped
from rest_video.engine.stylizer import Stylizer
from rest_video.io.containers import check_encoder, holds_colour_tags
from rest_video.io.hdr import hdr_note
from rest_video.io.image import is_image_path
from rest_video.io.masks import ContentMaskSource
from rest_video.io.sequence import is_sequence_pattern
from rest_video.io.video import Frame, VideoReader
from rest_video.pipeline.checks import check_masks, check_paths  # noqa: F401 - also the CLI's import
from rest_video.pipeline.frames import FileSink, FrameSource, ReaderSource, mask_source
from rest_video.pipeline.memory import apply_memory_plan
from rest_video.pipeline.path_choice import check_path, choose_video_path
from rest_video.pipeline.still import first_frame_to_image, read_picture_or_none, stylize_image_file
from rest_video.stream.processor import StreamStylizer
from rest_video.style import StyleStats
from rest_video.style.regions import RegionStyle

_END = object()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineResult:
    frames: int
    seconds: float
    mode: str  # "video" or "image"

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class FileOptions:
    """How :func:`stylize_file` runs one file (each also a keyword of it).

    Attributes:
        overwrite: replace an existing output.
        max_frames: stop after this many frames.
        progress: show a progress bar (None: when stderr is a terminal).
        overlap: run decode / stylize / encode concurrently (False: one after another, same frames).
        strength: 0 = content, 1 = full style (None: ``style.strength``).
        strict: an input that ends before the frame count its container states (truncated, or
            a decode error) is a :class:`MediaError` and nothing is written; otherwise the output
            holds the frames there were and a warning says "input ended after N of M frames".
        content_mask: a label mask (image; for a video also a mask video with the same frame
            count) for mask-guided stylization: each region takes its look from the ``style_mask``
            region of the same colour (README, "Masks"); ``masks.protect`` keeps one region's pixels.
        style_mask: the style's label mask (without it every region takes the whole style's look).
        on_frame: called with 1 for each frame written (overall progress of a batch).
        fps: frame rate of an image sequence input (``frame_%04d.png`` or a folder; default 25).
    """

    overwrite: bool = False
    max_frames: int | None = None
    progress: bool | None = None
    overlap: bool = True
    strength: float | None = None
    strict: bool = False
    content_mask: str | Path | None = None
    style_mask: str | Path | None = None
    on_frame: Callable[[int], None] | None = None
    fps: float | None = None


def stylize_file(in_path: str | Path, style: str | Path | StyleStats | RegionStyle, out_path: str | Path,
                 cfg: PipelineConfig | None = None, options: FileOptions | None = None, *,
                 stylizer: Stylizer | None = None, **keywords) -> PipelineResult:
    """Stylize a video or image file into ``out_path`` (video or image, decided by its extension).

    Args:
        in_path: input video or image.
        style: style image path, or precomputed statistics.
        out_path: output file; written to a temporary file beside it and renamed on success.
        cfg: pipeline configuration (default: the ``stylizer``'s, else the built-in defaults).
        options: how to run (:class:`FileOptions`); ``keywords`` (``overwrite=True``, ``strength=0.5``
            ...) set single ones over it.
        stylizer: a loaded :class:`Stylizer` to reuse (default: one made from ``cfg``).
    """
    opts = replace(options or FileOptions(), **keywords)
    cfg = cfg or (stylizer.cfg if stylizer is not None else PipelineConfig())
    named = style if not isinstance(style, (StyleStats, RegionStyle)) else None
    src, dst = check_paths(in_path, named, out_path, opts.overwrite)
    check_masks(opts.content_mask, opts.style_mask, cfg)
    check_path(cfg, opts.content_mask is not None)
    if opts.max_frames is not None and opts.max_frames < 1:
        raise MediaError("--max-frames must be >= 1")
    if not is_image_path(dst):
        check_encoder(dst, cfg.output)  # the encoder fits the container and starts: before the model loads
    stylizer = stylizer or Stylizer(cfg)
    strength = stylizer.resolve_strength(opts.strength)
    stats = style if named is None else stylizer.load_style(style, mask=opts.style_mask)
    t0 = time.perf_counter()
    pic = read_picture_or_none(src) if is_image_path(src) and is_image_path(dst) else None
    if pic is not None:  # decoded once; frames over runtime.max_memory_mb are stylized in bands
        stylize_image_file(pic, dst, stylizer, stats, strength, cfg.output.image_quality, opts.content_mask)
        del pic
        n, mode = 1, "image"
    elif is_image_path(dst) and not is_sequence_pattern(dst):
        first_frame_to_image(src, dst, stylizer, stats, strength, cfg.output.image_quality, opts.content_mask,
                             opts.fps)
        n, mode = 1, "image"
    else:
        return _run_video(src, dst, stylizer, stats, cfg, strength, opts, t0)
    if opts.on_frame is not None:
        opts.on_frame(1)
    return PipelineResult(n, time.perf_counter() - t0, mode)


def _run_video(src: Path, dst: Path, stylizer: Stylizer, stats: StyleStats | RegionStyle, cfg: PipelineConfig,
               strength: float, opts: FileOptions, t0: float) -> PipelineResult:
    max_frames, masked = opts.max_frames, opts.content_mask is not None
    out = nullcontext(dst) if is_sequence_pattern(dst) else atomic_output(dst)  # a sequence: its own folder
    with VideoReader(src, log_errors=False, fps=opts.fps) as reader, out as tmp, \
            (mask_source(opts.content_mask, src, reader.info) or nullcontext()) as masks:
        info = reader.info
        still = is_sequence_pattern(dst) or dst.suffix.lower() == ".gif"
        if info.colour.hdr and (
            still or holds_colour_tags(dst, cfg.output)
        ):  # else the writer's note says it
            kind = "image" if still else "sdr" if cfg.output.sdr else "hdr"
            log.info(hdr_note(src.name, info.colour.trc, kind))
        choice = choose_video_path(
            cfg,
            stylizer,
            stats if isinstance(stats, StyleStats) else stats.whole,
            info,
            dst,
            masked=masked,
            max_frames=max_frames,
        )
        stream = StreamStylizer(stylizer, stats, cfg, strength=strength, masked=masked,
                                path=choice.path, background=False)
        memory = apply_memory_plan(cfg, stylizer, info.width, info.height, choice.path)
        total = min(info.frames, max_frames) if info.frames and max_frames else (info.frames or max_frames)
        bar = _progress_bar(total, src.name, sys.stderr.isatty() if opts.progress is None else opts.progress)
        source = ReaderSource(reader, max_frames)
        stages = Stages(
            source,
            FileSink(tmp, source, cfg.output, name=dst),
            stream,
            queue_size=memory.queue_size,
            masks=masks,
            progress=_progress(bar, opts.on_frame),
        )
        try:
            n = stages.run_overlapped() if opts.overlap else stages.run_sequential()
        finally:
            if bar is not None:
                bar.close()
        if n == 0:
            raise MediaError(f"no decodable video frames in {src}")
        short = reader.ended_early() if max_frames is None or n < max_frames else None
        if short and opts.strict:
            raise MediaError(f"{src}: {short}; nothing written (--strict)")
    if short:
        log.warning("%s: %s (the output has the frames there were; --strict makes this an error)", src, short)
    return PipelineResult(n, time.perf_counter() - t0, "video")


class Stages:
    """The three stages between a :class:`FrameSource` and a :class:`FrameSink`; overlapped (threads
    and bounded queues of ``queue_size``) or one after another. Frames the source marks as warm-up
    (a segment's) go through the temporal filters but not to the sink; ``progress`` is called with 1
    for each frame sent."""

    def __init__(
        self,
        source: FrameSource,
        sink: FileSink,
        stream: StreamStylizer,
        *,
        queue_size: int,
        masks: ContentMaskSource | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.source, self.sink, self.stream, self.runner = source, sink, stream, stream.runner()
        self.queue_size, self.masks, self.progress = queue_size, masks, progress
        self.decoded = self.written = self.warmed = 0
        self.first_pts: int | None = None  # of the first frame written

    def _frames(self) -> Iterable[Frame]:
        return self.source.frames(on_audio=self.sink.put_audio if self.sink.copies_streams else None)

    # stylize one decoded frame; returns finished (out, meta) pairs in order
    def _stylize(self, fr: Frame) -> list:
        raise_if_stopped()
        self.stream.observe(fr.rgb)
        self.decoded += 1
        if self.masks is not None:
            return self.runner.submit(fr.rgb, fr, content_mask=self.masks.next())
        return self.runner.submit(fr.rgb, fr)

    # frames arrive here in order (in the encode thread when overlapped): the place for the
    # order-dependent pixel stabilizer, off the inference thread
    def _encode(self, out, fr: Frame) -> None:
        out = self.stream.stabilize(fr.rgb, out)
        warm_until = self.source.warm_until
        if warm_until is not None and fr.pts is not None and fr.pts < warm_until:
            self.warmed += 1  # a warm-up frame: the filters have seen it, the file does not get it
            return
        if self.written == 0:
            self.first_pts = fr.pts
        self.sink.send(out, fr)
        self.written += 1
        if self.progress is not None:
            self.progress(1)

    def _finish(self) -> int:
        self.sink.close()
        if self.written + self.warmed != self.decoded:
            raise MediaError(f"internal error: {self.decoded} frames decoded but {self.written} encoded")
        return self.written

    def run_sequential(self) -> int:
        try:
            for fr in self._frames():
                for out, meta in self._stylize(fr):
                    self._encode(out, meta)
            for out, meta in self.runner.flush():
                self._encode(out, meta)
        except BaseException:
            self._abort()
            raise
        return self._finish()

    def run_overlapped(self) -> int:
        size = self.queue_size
        in_q: queue.Queue = queue.Queue(maxsize=size)
        out_q: queue.Queue = queue.Queue(maxsize=size)
        stop = threading.Event()
        errors: list[BaseException] = []

        def put(q: queue.Queue, item) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def get(q: queue.Queue):
            while not stop.is_set():
                try:
                    return q.get(timeout=0.1)
                except queue.Empty:
                    continue
            return _END

        def decode() -> None:
            try:
                for fr in self._frames():
                    if not put(in_q, fr):
                        return
                put(in_q, _END)
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                errors.append(e)
                stop.set()

        def encode() -> None:
            try:
                while True:
                    item = get(out_q)
                    if item is _END:
                        return
                    self._encode(*item)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
                stop.set()

        threads = [threading.Thread(target=decode, name="rest-video-decode", daemon=True),
                   threading.Thread(target=encode, name="rest-video-encode", daemon=True)]
        try:
            for t in threads:  # inside the try: an interrupt while they start still stops them
                t.start()
            while True:
                fr = get(in_q)
                if fr is _END:
                    break
                for item in self._stylize(fr):
                    if not put(out_q, item):
                        break
            if not stop.is_set():
                for item in self.runner.flush():
                    put(out_q, item)
                put(out_q, _END)
            threads[1].join()
        except BaseException:
            stop.set()
            for t in threads:
                if t.is_alive():  # started (join() raises on a thread an interrupt caught mid-start)
                    t.join(timeout=5)
            self._abort()
            raise
        stop.set()
        for t in threads:
            t.join(timeout=5)
        if errors:
            self._abort()
            err = errors[0]
            if isinstance(err, RestVideoError) or not isinstance(err, Exception):
                raise err
            raise MediaError(f"processing failed: {type(err).__name__}: {err}") from err
        return self._finish()

    def _abort(self) -> None:
        self.sink.abort()


def _progress(bar, on_frame: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """One callback for the progress bar and the caller's ``on_frame`` (either may be None)."""
    calls = [f for f in (bar.update if bar is not None else None, on_frame) if f is not None]
    if not calls:
        return None
    if len(calls) == 1:
        return calls[0]

    def both(n: int) -> None:
        for f in calls:
            f(n)

    return both


def _progress_bar(total: int | None, name: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=name[:24], unit="frame", dynamic_ncols=True, smoothing=0.1)

