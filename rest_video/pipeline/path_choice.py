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

import av
import cv2
import numpy as np

from rest_video.core.config import OutputCfg, PipelineConfig
from rest_video.core.errors import ConfigError
from rest_video.engine.stylizer import Stylizer
from rest_video.engine.timing import PathChoice, measure_full_ms
from rest_video.io.containers import encoder_options
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
        frame = av.VideoFrame.from_ndarray(np.roll(base, 4 * i, axis=1), format="rgb24").reformat(format=pix_fmt)
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
        return PathChoice("full", full, f"the full network ({about}{full:.0f} ms a frame at {w}x{h}) keeps up "
                                        f"with the encoder ({enc:.0f} ms)")
    return PathChoice("lut", full, f"the full network takes {about}{full:.0f} ms a frame at {w}x{h} here, the "
                                   f"encoder {enc:.0f} ms: a 3D LUT fitted to the network renders the frames "
                                   f"(--path full: the network's own output, {full / max(enc, 1e-3):.0f}x slower)")
