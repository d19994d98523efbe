"""Which encoder goes with which output container, decided (and checked) before any work starts.

``output.codec: auto`` (the default) picks the encoder from OUT's extension: VP9 for ``.webm``
(the only video codecs WebM allows are VP8, VP9 and AV1), H.264 for ``.mp4``, ``.mkv``, ``.mov``
and the rest. An explicit codec is checked against the container, so a mismatch such as
``--codec libx264`` with ``.webm`` is one line before the model loads, not an FFmpeg error after it.
Audio follows in :class:`~rest_video.io.video.VideoWriter` (copied when the container takes it,
else re-encoded: AAC, or Opus in WebM).
"""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av

from rest_video.core.config import OutputCfg
from rest_video.core.errors import MediaError

log = logging.getLogger(__name__)

MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi",
          ".ts": "mpegts", ".mts": "mpegts", ".m2ts": "mpegts", ".flv": "flv"}
"""The FFmpeg muxer of each common video extension (others are looked up among FFmpeg's muxers)."""

CHECKED_MUXERS = frozenset({"mp4", "mov", "matroska", "webm", "avi", "flv", "gif"})
"""Muxers that tell FFmpeg which codecs they hold; for others (MPEG-TS lists only its defaults)
the combination is left to the writer."""

AUTO_CODECS = {"webm": ("libvpx-vp9", "libaom-av1", "libsvtav1", "libvpx"), "gif": ("gif",),
               "avi": ("mpeg4",)}
"""``codec: auto`` per muxer, first available wins; any other muxer: :data:`DEFAULT_CODECS`."""

DEFAULT_CODECS = ("libx264", "h264", "libvpx-vp9", "mpeg4")

ROTATION_MUXERS = frozenset({"mp4", "mov", "matroska", "webm"})
"""Muxers with a place for display rotation (a display matrix); others lose it, with a note."""

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)

# x264's preset names as libvpx-vp9 speeds ("good" deadline: 0 slowest .. 5 fastest)
_VP9_SPEED = {"ultrafast": 5, "superfast": 5, "veryfast": 5, "faster": 4, "fast": 4, "medium": 3, "slow": 2,
              "slower": 1, "veryslow": 0, "placebo": 0}


def muxer_for(path: str | Path) -> str:
    """The FFmpeg muxer that writes ``path`` (by extension); :class:`MediaError` if none does."""
    ext = Path(path).suffix.lower()
    if ext in MUXERS:
        return MUXERS[ext]
    name = _muxers_by_extension().get(ext.lstrip("."))
    if name is None:
        raise MediaError(f"no video container is written as {ext or 'a file without extension'} "
                         f"(use .mp4, .mkv, .mov or .webm)")
    return name


# encoders that write no colour tags into their bitstream (FFmpeg's MPEG-4 part 2, AVI's default);
# AVI itself has no place for them either
TAGLESS_CODECS = frozenset({"mpeg4", "msmpeg4", "msmpeg4v2", "mjpeg"})


def holds_colour_tags(path: str | Path, cfg: OutputCfg) -> bool:
    """Whether ``path`` written under ``cfg`` can say its colour standard (an untagged output is
    written in the standard players assume for untagged pictures, see io/colour.py)."""
    return video_codec(path, cfg) not in TAGLESS_CODECS


def video_codec(path: str | Path, cfg: OutputCfg, muxer: str | None = None) -> str:
    """The encoder for ``path`` (written by ``muxer``, default: by its extension) under ``cfg``:
    ``cfg.codec``, or the container's choice for ``auto``. Raises :class:`MediaError` (one line)
    when the encoder does not exist here, the container cannot hold it, or it cannot encode
    ``cfg.pix_fmt``."""
    muxer = muxer or muxer_for(path)
    allowed = supported_codecs(muxer)
    ext = Path(path).suffix.lower()
    if cfg.codec == "auto":
        for name in AUTO_CODECS.get(muxer, DEFAULT_CODECS):
            if name in av.codecs_available and (allowed is None or name in allowed):
                codec = name
                break
        else:
            raise MediaError(f"no encoder available here can write a {ext} file")
    else:
        codec = cfg.codec
        if codec not in av.codecs_available or not _is_video_encoder(codec):
            raise MediaError(f"output codec {codec!r} is not a video encoder available here")
        if allowed is not None and codec not in allowed:
            fit = next((c for c in AUTO_CODECS.get(muxer, DEFAULT_CODECS) if c in allowed), None)
            hint = f"--codec {fit}, or " if fit else ""
            raise MediaError(f"output codec {codec} cannot go in a {ext} file (use {hint}--codec auto, "
                             f"or another container such as .mkv)")
    formats = _pixel_formats(codec)
    if formats and cfg.pix_fmt != "auto" and cfg.pix_fmt not in formats:
        raise MediaError(
            f"{codec} cannot encode pixel format {cfg.pix_fmt!r} (it takes {', '.join(sorted(formats))})"
        )
    return codec


def output_pix_fmt(codec: str, pix_fmt: str, width: int, height: int, bit_depth: int = 8) -> str:
    """The pixel format to encode: ``pix_fmt``, or for ``auto`` 4:2:0 at the input's bit depth
    (``yuv420p10le`` for a high-bit-depth input where ``codec`` can write it, with a note where it
    cannot). An odd-sized picture gets full-resolution chroma (4:2:0 needs even sizes), with a note."""
    formats = _pixel_formats(codec)
    chosen = pix_fmt
    if pix_fmt == "auto":
        chosen = "yuv420p"
        if bit_depth > 8:
            if "yuv420p10le" in formats:
                chosen = "yuv420p10le"
            else:
                log.info("note: %d-bit input, %s writes 8 bits per component (the output is 8-bit)",
                         bit_depth, codec)
    if chosen in ("yuv420p", "yuvj420p", "nv12", "yuv420p10le") and (width % 2 or height % 2):
        wide = "yuv444p10le" if chosen.endswith("10le") else "yuv444p"
        if not formats or wide in formats:
            log.info("note: %dx%d is odd-sized; %s needs even sizes, encoding %s to keep the exact "
                     "picture size",
                     width, height, chosen, wide)
            chosen = wide
    return chosen


def check_encoder(path: str | Path, cfg: OutputCfg) -> str:
    """Everything about the video encoder that can be known before any work: the codec fits the
    container (:func:`video_codec`), the preset is one the codec knows, and the encoder opens with
    these options here (a GPU encoder on a machine without that GPU does not). Returns the codec;
    raises :class:`MediaError` with one line that names the output, never a temporary file."""
    codec = video_codec(path, cfg)
    if codec in ("libx264", "libx265", "libvpx-vp9") and cfg.preset not in X264_PRESETS:
        raise MediaError(f"--preset {cfg.preset} is not a preset of {codec} "
                         f"(use one of {', '.join(X264_PRESETS)})")
    if codec == "gif":
        return codec
    pix_fmt = output_pix_fmt(codec, cfg.pix_fmt, 64, 64) if cfg.pix_fmt == "auto" else cfg.pix_fmt
    cc = av.CodecContext.create(codec, "w")
    cc.width, cc.height, cc.pix_fmt = 64, 64, pix_fmt
    cc.time_base = Fraction(1, 25)
    cc.framerate = Fraction(25)
    cc.options = encoder_options(codec, cfg)
    try:
        cc.open()
    except (av.FFmpegError, ValueError, OSError) as e:
        why = str(e).split(":")[0] if isinstance(e, OSError) and e.strerror is None else (
            getattr(e, "strerror", None) or str(e).splitlines()[0])
        raise MediaError(f"the {codec} encoder cannot start here with these options ({why}); "
                         f"try --codec auto") from None
    return codec


def encoder_options(codec: str, cfg: OutputCfg) -> dict[str, str]:
    """Quality and speed options of ``codec`` from ``cfg`` (crf, and preset where it means something)."""
    if codec in ("libx264", "libx265", "h264", "hevc"):
        return {"crf": str(cfg.crf), "preset": cfg.preset}
    if codec == "libvpx-vp9":
        return {"crf": str(cfg.crf), "b": "0", "row-mt": "1", "cpu-used": str(_VP9_SPEED.get(cfg.preset, 3))}
    if codec in ("libaom-av1", "libsvtav1", "libvpx"):
        return {"crf": str(cfg.crf), "b": "0"}
    return {}


@lru_cache(maxsize=None)
def supported_codecs(muxer: str) -> frozenset[str] | None:
    """Codec names the muxer can hold (None when FFmpeg cannot tell)."""
    if muxer not in CHECKED_MUXERS:
        return None
    try:
        with av.open(io.BytesIO(), "w", format=muxer) as c:
            names = getattr(c, "supported_codecs", None)
    except (av.FFmpegError, ValueError):
        return None
    return frozenset(names) if names else None


@lru_cache(maxsize=1)
def _muxers_by_extension() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sorted(av.formats_available):
        try:
            fmt = av.ContainerFormat(name, "w")
        except (ValueError, av.FFmpegError):
            continue
        for ext in fmt.extensions or ():
            out.setdefault(ext, name)
    return out


def _is_video_encoder(name: str) -> bool:
    try:
        return av.Codec(name, "w").type == "video"
    except (av.FFmpegError, ValueError):
        return False


def _pixel_formats(codec: str) -> set[str]:
    try:
        return {f.name for f in (av.Codec(codec, "w").video_formats or ())}
    except (av.FFmpegError, ValueError):
        return set()
