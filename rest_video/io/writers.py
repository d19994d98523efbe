"""The one place that picks the writer for an output: an image sequence (``out_%04d.png``), an
animated GIF, or a video container."""

from __future__ import annotations

import logging
from pathlib import Path

from rest_video.core.config import OutputCfg
from rest_video.io.containers import muxer_for
from rest_video.io.gif import GifWriter
from rest_video.io.hdr import bt709_from_sdr
from rest_video.io.sequence import SequenceWriter, is_sequence_pattern
from rest_video.io.video import VideoInfo
from rest_video.io.video_writer import VideoWriter

log = logging.getLogger(__name__)


def open_writer(path: str | Path, info: VideoInfo, cfg: OutputCfg, audio_streams: list | None = None,
                name: str | Path | None = None, other_streams: list | None = None):
    """A writer of frames for the output ``name`` (the user's path), writing to ``path`` (its
    temporary file; ignored for a sequence, which makes its own temporary folder)."""
    name = Path(name) if name is not None else Path(path)
    if other_streams and (is_sequence_pattern(name) or muxer_for(name) == "gif"):
        what = ", ".join(f"{s.type} #{s.index} ({s.codec_context.name if s.codec_context else 'data'})"
                         for s in other_streams)
        log.info("note: %s cannot hold %s; dropped", name.suffix, what)
    if is_sequence_pattern(name) or muxer_for(name) == "gif":
        w = (SequenceWriter(name, cfg.image_quality, audio_streams) if is_sequence_pattern(name)
             else GifWriter(path, info, audio_streams, name=name))
        if info.colour.hdr:  # the network's SDR domain (BT.2020 primaries) as SDR BT.709 pictures
            write = w.write
            w.write = lambda rgb, pts=None: write(bt709_from_sdr(rgb), pts)
        return w
    return VideoWriter(path, info, cfg, audio_streams, name=name, other_streams=other_streams)
