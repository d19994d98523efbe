"""Image sequences: ``frame_%04d.png`` (or a folder of frames) as input, ``out_%04d.png`` as output.

An input sequence is read by FFmpeg's ``image2`` demuxer at ``--fps`` (25 by default: image files have
no clock). An output sequence is written into a hidden folder beside the first frame's place and moved
into place only when every frame is there, so an interrupted run leaves no frames behind; frames are
numbered from 1, as FFmpeg does.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from rest_video.core.atomic import output_mode
from rest_video.core.errors import MediaError
from rest_video.io.image import IMAGE_EXTS, write_image

log = logging.getLogger(__name__)

_PATTERN = re.compile(r"%0?\d*d")
DEFAULT_SEQUENCE_FPS = 25.0


def is_sequence_pattern(path: str | Path) -> bool:
    """True for an image file name with one printf number (``out_%04d.png``)."""
    p = Path(path)
    return p.suffix.lower() in IMAGE_EXTS and len(_PATTERN.findall(p.name)) == 1


def sequence_files(path: str | Path, limit: int | None = None) -> list[Path]:
    """The files of the sequence ``path`` (a pattern, or a folder of images), in order."""
    p = Path(path)
    if p.is_dir():
        images = [f for f in p.iterdir() if f.suffix.lower() in IMAGE_EXTS and f.is_file()]
        if not images:
            return []
        ext = Counter(f.suffix for f in images).most_common(1)[0][0]
        return sorted(f for f in images if f.suffix == ext)
    if not is_sequence_pattern(p):
        return []
    rx = re.compile("^" + _PATTERN.sub(r"(\\d+)", re.escape(p.name).replace(r"\%", "%")) + "$")
    found = []
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        return []
    for f in parent.iterdir():
        m = rx.match(f.name)
        if m:
            found.append((int(m.group(1)), f))
    found.sort()
    return [f for _, f in found[:limit]] if limit else [f for _, f in found]


def demuxer_args(path: str | Path, fps: float | None) -> tuple[str, str, dict[str, str]] | None:
    """``(url, format, options)`` that open the image sequence ``path`` with FFmpeg, or None when
    ``path`` is no sequence (a plain file)."""
    p = Path(path)
    rate = f"{fps or DEFAULT_SEQUENCE_FPS:g}"
    if p.is_dir():
        files = sequence_files(p)
        if not files:
            raise MediaError(f"folder {p} holds no images ({', '.join(sorted(IMAGE_EXTS))})")
        glob = str(p / f"*{files[0].suffix}").replace("[", "[[]")
        return glob, "image2", {"pattern_type": "glob", "framerate": rate}
    if is_sequence_pattern(p) and not p.exists():
        files = sequence_files(p, limit=1)
        if not files:
            raise MediaError(f"no files match the sequence {p}")
        start = re.match(_PATTERN.sub(r"(\\d+)", re.escape(p.name).replace(r"\%", "%")), files[0].name)
        return str(p), "image2", {"framerate": rate, "start_number": str(int(start.group(1)))}
    return None


class SequenceWriter:
    """The :class:`~rest_video.io.video_writer.VideoWriter` interface for ``out_%04d.png`` outputs."""

    def __init__(self, pattern: str | Path, quality: int = 95, audio_streams: list | None = None) -> None:
        self.pattern = Path(pattern)
        self.name = self.pattern
        self.quality = quality
        parent = self.pattern.parent if str(self.pattern.parent) else Path(".")
        self.folder = parent / f".{self.pattern.stem.replace('%', '')}.{secrets.token_hex(6)}.part"
        self.folder.mkdir()
        self.frames_written = 0
        if audio_streams:
            log.info("note: an image sequence holds no audio; %d audio stream%s dropped", len(audio_streams),
                     "s" if len(audio_streams) > 1 else "")

    def target(self, index: int) -> Path:
        """Where frame ``index`` (0-based) goes."""
        return self.pattern.with_name(self.pattern.name % (index + 1))

    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        write_image(self.folder / self.target(self.frames_written).name, rgb, self.quality)
        self.frames_written += 1

    def write_audio(self, packet) -> None:
        """No audio in a sequence: nothing to do."""

    def close(self, flush: bool = True) -> None:
        try:
            if flush:
                for i in range(self.frames_written):
                    dst = self.target(i)
                    src = self.folder / dst.name
                    src.chmod(output_mode(dst))
                    src.replace(dst)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "SequenceWriter":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(flush=exc_type is None)
