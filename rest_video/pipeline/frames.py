"""Where file mode's frames come from and where they go: one source and one sink interface.

A :class:`FrameSource` yields decoded frames (a whole file: :class:`ReaderSource`; a segment of a
long video with its warm-up frames: :class:`SegmentSource`). A :class:`FrameSink` takes stylized
frames (a file: :class:`FileSink`; live mode's virtual camera and memory sinks have the same
``send``/``close``). :class:`~rest_video.pipeline.file.Stages` joins one of each.
"""

from __future__ import annotations

import queue
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

import numpy as np

from rest_video.core.config import OutputCfg
from rest_video.core.errors import MediaError
from rest_video.io.clips import frame_count
from rest_video.io.image import is_image_path
from rest_video.io.masks import ContentMaskSource
from rest_video.io.video import Frame, VideoInfo, VideoReader
from rest_video.io.writers import open_writer


class FrameSource(Protocol):
    info: VideoInfo
    audio_streams: list       # streams the sink copies (audio), and the other ones (subtitles, data)
    other_streams: list
    warm_until: int | None    # frames before this timestamp only warm the temporal filters up

    def frames(self, on_audio: Callable | None = None) -> Iterable[Frame]:
        """The frames in order; audio packets met on the way go to ``on_audio``."""


class FrameSink(Protocol):
    def send(self, rgb: np.ndarray, frame: Frame | None = None) -> None:
        """Take one stylized frame (``frame``: the decoded one it came from: timestamp, rotation)."""

    def close(self) -> None:
        """Finish (flush) the output."""


class ReaderSource:
    """The frames of ``reader`` from where it stands, with its audio and other streams."""

    warm_until = None

    def __init__(self, reader: VideoReader, max_frames: int | None = None) -> None:
        self.reader, self.max_frames, self.info = reader, max_frames, reader.info
        self.audio_streams, self.other_streams = reader.audio_streams, reader.other_streams

    def frames(self, on_audio: Callable | None = None) -> Iterable[Frame]:
        return self.reader.frames(on_audio=on_audio, max_frames=self.max_frames)


class SegmentSource:
    """The frames of one segment of a long video (no audio: the join copies it once). The reader
    is sought to the keyframe at or before ``warm_from``; frames in ``[warm_from, start)`` only
    warm the filters up, frames from ``end`` on are not read."""

    def __init__(
        self, reader: VideoReader, warm_from: int | None, start: int | None, end: int | None
    ) -> None:
        self.reader, self.info = reader, reader.info
        self.audio_streams: list = []
        self.other_streams: list = []
        self.warm_from, self.warm_until, self.end = warm_from, start, end
        if warm_from is not None:
            reader.seek(warm_from)

    def frames(self, on_audio: Callable | None = None) -> Iterator[Frame]:
        for fr in self.reader.frames():
            if fr.pts is None:
                raise MediaError(
                    f"{self.reader.path}: a frame without a timestamp; run it without --segment-seconds"
                )
            if self.warm_from is not None and fr.pts < self.warm_from:
                continue  # decoded from the keyframe before the warm-up: not needed
            if self.end is not None and fr.pts >= self.end:
                return
            yield fr


def mask_source(content_mask: str | Path | None, src: Path, info: VideoInfo) -> ContentMaskSource | None:
    """The content masks of video ``src``, one per frame (one image for all, or a mask video of the
    same frame count); None without a mask."""
    if content_mask is None:
        return None
    frames = None if is_image_path(content_mask) else (info.frames if info.frames > 0 else frame_count(src))
    return ContentMaskSource(content_mask, (info.width, info.height), frames)


class FileSink:
    """Stylized frames into a video file (or image sequence, GIF), the source's streams copied.

    The writer opens with the first frame (it takes that frame's rotation); audio packets handed to
    :meth:`put_audio` (from the decode thread) are written between frames, in order."""

    def __init__(self, tmp: Path, source: FrameSource, output: OutputCfg, name: Path | None = None) -> None:
        self.tmp, self.info, self.output = tmp, source.info, output
        self.name = name or tmp  # the output as the user named it (messages never name the temporary file)
        self.audio_streams, self.other_streams = source.audio_streams, source.other_streams
        self.audio: queue.SimpleQueue = queue.SimpleQueue()
        self.writer = None
        self.rotation = 0

    @property
    def copies_streams(self) -> bool:
        return bool(self.audio_streams or self.other_streams)

    def put_audio(self, packet) -> None:
        self.audio.put(packet)

    def send(self, rgb: np.ndarray, frame: Frame | None = None) -> None:
        if frame is None:
            raise MediaError("internal error: a file sink needs each frame's timestamp")
        self.rotation = self.rotation or frame.rotation
        if self.writer is None:
            info = replace(self.info, rotation=self.rotation) if self.rotation else self.info
            self.writer = open_writer(self.tmp, info, self.output, self.audio_streams, name=self.name,
                                      other_streams=self.other_streams)
        self._drain_audio()
        self.writer.write(rgb, frame.pts)

    def _drain_audio(self) -> None:
        while True:
            try:
                pkt = self.audio.get_nowait()
            except queue.Empty:
                return
            self.writer.write_audio(pkt)

    def close(self) -> None:
        if self.writer is not None:
            self._drain_audio()
            self.writer.close()

    def abort(self) -> None:
        """Close without flushing (the temporary output is removed anyway)."""
        if self.writer is not None:
            try:
                self.writer.close(flush=False)
            except Exception:  # noqa: BLE001 - the temporary output is removed anyway
                pass
