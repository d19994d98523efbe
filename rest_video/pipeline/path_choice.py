"""File mode's path (``runtime.path``): the full network on every frame, or the LUT path.

``auto`` takes the full network where it keeps up with the encoder (a GPU, a fast CPU at small
sizes) or renders the whole clip within :data:`FULL_WITHIN_S`, and the LUT path elsewhere: there
the network fits a 3D colour LUT on a small copy of the frame at scene cuts and drifts, and the
LUT renders every frame at the encoder's pace (README, "Speed"). Masks and ``--method wct`` need
the full network.
"""

from __future__ import annotations

import logging
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from rest_video.core.config import OutputCfg, PipelineConfig
from rest_video.core.errors import ConfigError, MediaError
from rest_video.engine.stylizer import Stylizer
from rest_video.engine.timing import PathChoice, measure_full_ms
from rest_video.io.containers import encoder_options, video_codec
from rest_video.style import StyleStats

log = logging.getLogger(__name__)

PROBE_FRAMES = 6
FULL_WITHIN_S = 60.0
"""A clip the full network renders within this many seconds runs on it under ``auto``: the network's
own output costs at most a minute more there."""


def check_path(cfg: PipelineConfig, masked: bool) -> None:
    """``--path lut`` with what only the full network does is one clear error, before any work."""
    if cfg.runtime.path != "lut":
        return
    if masked:
        raise ConfigError("masks need the full network: the LUT path maps colours and has no regions "
                          "(use --path full or auto)")
    if cfg.model.method != "adain":
        raise ConfigError("--method wct needs the full network: the LUT path is fitted to AdaIN's output "
                          "(use --path full or auto)")


def encoder_ms(codec: str, size: tuple[int, int], cfg: OutputCfg, pix_fmt: str) -> float:
    """ms per frame that ``codec`` with ``cfg``'s options takes to encode ``size`` ``(w, h)`` frames
    here (RGB conversion included), timed on a few synthetic frames with some motion."""
    w, h = size
    ctx = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height, ctx.pix_fmt = w, h, pix_fmt
    ctx.time_base = Fraction(1, 25)
    ctx.framerate = Fraction(25)
    ctx.options = encoder_options(codec, cfg)
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 2)
    t0 = time.perf_counter()
    for i in range(PROBE_FRAMES):
        frame = av.VideoFrame.from_ndarray(np.roll(base, 4 * i, axis=1), format="rgb24").reformat(
            format=pix_fmt
        )
        frame.pts = i
        ctx.encode(frame)
    ctx.encode(None)
    return 1000 * (time.perf_counter() - t0) / PROBE_FRAMES


def choose_file_path(cfg: PipelineConfig, stylizer: Stylizer, style: StyleStats, size: tuple[int, int],
                     codec: str, pix_fmt: str, masked: bool = False, frames: int = 0) -> PathChoice:
    """The path a video of ``frames`` frames (0: unknown) of ``size`` ``(w, h)`` takes:
    ``runtime.path`` unless ``auto``; then the full network if it is at least as fast as the
    encoder (``codec``) or renders the clip within :data:`FULL_WITHIN_S`, else the LUT path."""
    requested = cfg.runtime.path
    if requested != "auto":
        return PathChoice(requested, None, f"--path {requested}")
    if masked or cfg.model.method != "adain":
        return PathChoice("full", None, "masks and --method wct need the full network")
    w, h = size
    full, exact = measure_full_ms(stylizer, style, size, budget_ms=0.0)  # the probe, extrapolated: a decision
    about = "" if exact else "~"
    if 0 < frames and frames * full / 1000 <= FULL_WITHIN_S:
        return PathChoice("full", full, f"the full network renders the {frames} frames in about "
                                        f"{frames * full / 1000:.0f} s")
    try:
        enc = encoder_ms(codec, size, cfg.output, pix_fmt)
    except (av.FFmpegError, ValueError) as e:  # the writer reports a real problem; here only speed is lost
        log.debug("encoder probe failed: %s", e)
        return PathChoice("full", full, "the encoder's speed could not be measured")
    if full <= enc:
        return PathChoice(
            "full",
            full,
            f"the full network ({about}{full:.0f} ms a frame at {w}x{h}) keeps up "
            f"with the encoder ({enc:.0f} ms)",
        )
    return PathChoice(
        "lut",
        full,
        f"the full network takes {about}{full:.0f} ms a frame at {w}x{h} here, the "
        f"encoder {enc:.0f} ms: a 3D LUT fitted to the network renders the frames "
        f"(--path full: the network's own output, {full / max(enc, 1e-3):.0f}x slower)",
    )


def choose_video_path(cfg: PipelineConfig, stylizer: Stylizer, style: StyleStats, info, dst: Path,
                      masked: bool = False, max_frames: int | None = None) -> PathChoice:
    """:func:`choose_file_path` for a video (its ``VideoInfo``) going to ``dst``, with one note when
    ``auto`` hands the frames to the LUT path (the picture is then not the network's own)."""
    codec = _probe_codec(dst, cfg)
    choice = choose_file_path(cfg, stylizer, style, (info.width, info.height), codec,
                              _probe_pix_fmt(cfg, info.width, info.height), masked=masked,
                              frames=_expected_frames(info, max_frames))
    (log.info if cfg.runtime.path == "auto" and choice.path == "lut" else log.debug)(
        "path: %s (%s)", choice.path, choice.reason)
    return choice


def _probe_codec(dst: Path, cfg: PipelineConfig) -> str:
    """The encoder whose speed ``auto`` compares the network with (a GIF or an image sequence: x264's,
    for scale)."""
    try:
        return video_codec(dst, cfg.output)
    except MediaError:
        return "libx264"


def _expected_frames(info, max_frames: int | None) -> int:
    """Frames the run will write: the container's count, else its duration times its rate (0: unknown)."""
    n = info.frames
    if n <= 0 and info.duration and info.rate:
        n = int(round(info.duration * float(info.rate)))
    if max_frames:
        n = min(n, max_frames) if n > 0 else max_frames
    return max(n, 0)


def _probe_pix_fmt(cfg: PipelineConfig, w: int, h: int) -> str:
    """The 8-bit pixel format the writer takes for this size (the probe's; no notes)."""
    fmt = "yuv420p" if cfg.output.pix_fmt == "auto" else cfg.output.pix_fmt
    return "yuv444p" if fmt in ("yuv420p", "yuvj420p", "nv12") and (w % 2 or h % 2) else fmt
