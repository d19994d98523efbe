"""Temporal flicker of a stylized clip, and how much temporal smoothing removes.

    flicker = sum_t mean|out_t - out_{t-1}|  /  sum_t mean|in_t - in_{t-1}|

over consecutive frames: 1.0 means the output changes exactly as much as the input, more means
the stylization adds frame-to-frame change of its own (the look "breathing" as per-frame content
statistics move). On real footage most of it is real motion, so the change of the output where
the input stood still (every channel within ``rest_video.metrics.STILL`` levels) is reported too:
that part is pure flicker. The flicker from clear motion (the *motion floor*) is split off, and of
it the *halo*: the change on unchanged pixels next to the motion, which only the network's window
can put there. Structure is checked with the mean grayscale SSIM of each output to its input
(:func:`rest_video.metrics.ssim_gray`, as in EVAL.md's dev-pair table); the metrics
themselves are in :mod:`rest_video.metrics`, the frames come from the same
:class:`~rest_video.stream.StreamStylizer` as file and live mode.

    python tools/flicker.py --video clip.mp4 --style s.jpg --smoothing 0 0.9 [--frames 100]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from rest_video import PipelineConfig, RestVideoError, Stylizer
from rest_video.cli.common import add_set_argument, load_config
from rest_video.core.errors import MediaError
from rest_video.core.log import show_library_log
from rest_video.evaluation.methods import baseline_methods
from rest_video.io.clips import read_clip
from rest_video.io.image import read_image
from rest_video.metrics import (
    LAG,
    STILL,
    edge_gain,
    flicker_ratio,
    lag_share,
    motion_floor,
    psnr,
    ssim_gray,
    still_change,
    still_change_ycc,
)
from rest_video.ops.color import to_uint8
from rest_video.stream import PixelStabilizer, StreamStylizer, make_stabilizer
from rest_video.style import StyleStats


@dataclass(frozen=True)
class FlickerResult:
    smoothing: float
    path: str
    frames: int
    flicker: float        # output change / input change over consecutive frames
    ssim: float           # mean grayscale SSIM of output to input
    still: float = 0.0    # mean |out_t - out_{t-1}| (levels) on pixels whose input stood still
    cuts: int = 0         # scene cuts the smoother detected
    pixel_smoothing: float = 0.0
    floor: float = 0.0    # flicker left if the output were held perfectly where the input stood still
    lag: float = 0.0      # share of pixels more than LAG levels from the per-frame output (trails)
    hold_limit: float = 255.0  # the stabilizer's bound on the held output's distance (levels; 255 = none)
    chroma_sigma: float = 0.0  # the stabilizer's colour blur (pixels; 0 = none)
    psnr: float = float("inf")  # dB of the output against the network's own per-frame output (inf = the same)
    halo: float = 0.0     # the part of the floor on still pixels next to motion: what the network spreads
    edge_gain: float = float("nan")  # output / input neighbour contrast over clearly moving pixels

    def row(self, base: "FlickerResult | None" = None) -> str:
        """A markdown table row; with ``base``, also the change against it."""
        change = (
            " | | "
            if base is None or base is self
            else (
                f"{_pct(self.flicker, base.flicker)} | {_pct(self.still, base.still)} | "
                f"{self.ssim - base.ssim:+.4f}"
            )
        )
        bound = "-" if self.pixel_smoothing <= 0 or self.hold_limit >= 255 else f"{self.hold_limit:g}"
        psnr = "-" if self.psnr == float("inf") else f"{self.psnr:.1f}"
        return (
            f"| {self.path} | {self.smoothing:g} | {self.chroma_sigma:g} | {self.pixel_smoothing:g} | "
            f"{bound} | {self.frames} "
            f"| {self.flicker:.3f} | {self.still:.3f} | {self.ssim:.4f} | {100 * self.lag:.3f}% | {psnr} "
            f"| {self.floor:.3f} | {self.halo:.3f} | {self.floor / self.edge_gain:.3f} | {change} |"
        )


def _pct(value: float, base: float) -> str:
    return f"{100 * (value / base - 1):+.1f}%" if base > 0 else "n/a"


def stylize_clip(stylizer: Stylizer, style: StyleStats, frames: Iterable[np.ndarray], smoothing: float,
                 scene_cut: float = 0.25, strength: float | None = None, path: str = "full",
                 cfg: PipelineConfig | None = None) -> tuple[list[np.ndarray], int]:
    """Stylize frames in order as file mode (``full``) or live's fast path (``lut``, refits in the
    frame loop, with ``cfg.live``'s settings) would: the same :class:`StreamStylizer`, with
    ``smoothing`` of the content statistics and no pixel stabilizer; returns outputs, cuts."""
    cfg = cfg or stylizer.cfg
    temporal = replace(cfg.temporal, smoothing=smoothing, scene_cut=scene_cut)
    stream = StreamStylizer(stylizer, style, cfg, strength=strength, path=path, temporal=temporal,
                            background=False, stabilize=False)
    try:
        outs = [stream(f) for f in frames]
    finally:
        stream.close()
    return outs, stream.cuts


def reinhard_clip(frames: Sequence[np.ndarray], style_path: str) -> list[np.ndarray]:
    """Each frame through the Reinhard baseline of ``rest-video eval`` (Lab mean/std matched to the
    style photo's), as uint8: how much a plain global colour transfer of the same look flickers."""
    reinhard = next(m for m in baseline_methods() if m.name == "reinhard")
    style = read_image(style_path)
    return [reinhard.fn(f, style) for f in frames]


def stabilize(frames: Sequence[np.ndarray], outputs: Sequence[np.ndarray],
              stabilizer: PixelStabilizer | None) -> list[np.ndarray]:
    """The outputs after the pixel stabilizer (a filter on the stylized stream, in both paths)."""
    return (
        list(outputs)
        if stabilizer is None
        else [stabilizer(f, o) for f, o in zip(frames, outputs, strict=False)]
    )


def per_frame(outputs: Sequence[np.ndarray], stabilizer: PixelStabilizer | None) -> Iterable[np.ndarray]:
    """The outputs after the stabilizer's per-frame (spatial) part alone: what trails are measured
    against, so that ``lag`` counts what the hold over time adds and nothing else."""
    if stabilizer is None or stabilizer.chroma_sigma <= 0:
        return outputs
    return (to_uint8(stabilizer.spatial(o)) for o in outputs)


def score(
    frames: Sequence[np.ndarray],
    outs: Sequence[np.ndarray],
    raw: Sequence[np.ndarray],
    smoothing: float,
    path: str = "full",
    pixel_smoothing: float = 0.0,
    cuts: int = 0,
    moving: float = 16.0,
    hold_limit: float = 255.0,
    chroma_sigma: float = 0.0,
    per_frame_ref: Iterable[np.ndarray] | None = None,
) -> FlickerResult:
    """Flicker, still-pixel change, SSIM to the input, motion floor, lag and PSNR of ``outs``.

    ``raw`` is the network's per-frame output (PSNR is against it); trails (lag) are measured against
    ``per_frame_ref``, the per-frame output after the stabilizer's spatial part (default ``raw``)."""
    ssim = float(np.mean([ssim_gray(o, f) for o, f in zip(outs, frames, strict=False)]))
    lag = lag_share(outs, raw if per_frame_ref is None else per_frame_ref)
    return FlickerResult(
        smoothing,
        path,
        len(frames),
        flicker_ratio(frames, outs),
        ssim,
        still_change(frames, outs),
        cuts,
        pixel_smoothing,
        motion_floor(frames, outs, moving),
        lag,
        hold_limit,
        chroma_sigma,
        psnr(outs, raw),
        motion_floor(frames, outs, moving, still=STILL),
        edge_gain(frames, outs, moving)[1],
    )


def measure_flicker(stylizer: Stylizer, style: StyleStats, frames: Sequence[np.ndarray], smoothing: float,
                    scene_cut: float = 0.25, strength: float | None = None, path: str = "full",
                    cfg: PipelineConfig | None = None, pixel_smoothing: float = 0.0, moving: float = 16.0,
                    still: float = 4.0, hold_limit: float = 6.0, chroma_sigma: float = 0.0) -> FlickerResult:
    """Flicker ratio and mean grayscale SSIM to the input of ``frames`` stylized with ``smoothing``
    (content statistics) and ``pixel_smoothing`` (:class:`~rest_video.stream.PixelStabilizer`)."""
    raw, cuts = stylize_clip(stylizer, style, frames, smoothing, scene_cut, strength, path, cfg)
    stab = (PixelStabilizer(pixel_smoothing, still, moving, scene_cut=scene_cut, hold_limit=hold_limit,
                            chroma_sigma=chroma_sigma) if pixel_smoothing > 0 or chroma_sigma > 0 else None)
    return score(
        frames,
        stabilize(frames, raw, stab),
        raw,
        smoothing,
        path,
        pixel_smoothing,
        cuts,
        moving,
        hold_limit,
        chroma_sigma,
        per_frame(raw, stab),
    )


def _colour_line(path: str, frames: Sequence[np.ndarray], outs: Sequence[np.ndarray]) -> str:
    inp, out = still_change_ycc(frames, frames), still_change_ycc(frames, outs)
    def fmt(v):
        return " / ".join(f"{x:.3f}" for x in v)

    return (
        f"{path}: on still pixels the input changes by Y / Cr / Cb {fmt(inp)} levels a frame, the first "
        "row's "
        f"output by {fmt(out)} ({out[1] / max(inp[1], 1e-9):.1f}x / {out[2] / max(inp[2], 1e-9):.1f}x the "
        "input's colour change)"
    )


def _stabilizer_settings(chroma_sigmas: Sequence[float], pixel_smoothing: Sequence[float],
                         hold_limits: Sequence[float]) -> list[tuple[float, float, float]]:
    """Every (chroma sigma, pixel smoothing, hold limit) to measure; without the hold the bound means
    nothing, so pixel smoothing 0 is measured once per chroma sigma."""
    return [(c, px, bound) for c in chroma_sigmas for px in pixel_smoothing
            for bound in ([hold_limits[0]] if px <= 0 else hold_limits)]


def main(argv: list[str] | None = None) -> int:
    """The command; a user's mistake (bad option value, missing file) is one line on stderr, exit 2."""
    try:
        return _main(argv)
    except RestVideoError as e:
        print(f"tools/flicker.py: {e}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog="python tools/flicker.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--video", required=True)
    p.add_argument("--style", required=True)
    p.add_argument("--smoothing", type=float, nargs="+", default=[0.0, 0.9], metavar="F",
                   help="EMA factors for content statistics (temporal.smoothing)")
    p.add_argument(
        "--pixel-smoothing",
        type=float,
        nargs="+",
        default=[0.0],
        metavar="F",
        help="EMA factors for still output pixels (temporal.pixel_smoothing); every pair is measured",
    )
    p.add_argument(
        "--hold-limit",
        type=float,
        nargs="+",
        metavar="L",
        help="bounds of the held output (temporal.hold_limit, levels; 255 = none); every combination "
        "with --pixel-smoothing is measured (default: the pipeline's)",
    )
    p.add_argument(
        "--chroma-sigma",
        type=float,
        nargs="+",
        metavar="S",
        help="colour blurs before the hold (temporal.chroma_sigma, pixels; 0 = none); every combination "
        "is measured (default: the pipeline's)",
    )
    p.add_argument("--frames", type=int, default=100, help="frames to measure (0: the whole clip)")
    p.add_argument("--start", type=int, default=0, help="first frame")
    p.add_argument(
        "--side", type=int, default=384, help="shrink frames so the long side is at most this (0: no)"
    )
    p.add_argument(
        "--path",
        choices=["full", "lut", "reinhard"],
        nargs="+",
        default=["full"],
        help="file mode's full network and/or live's LUT fast path; reinhard: a plain global colour "
        "transfer per frame (Lab mean/std to the style photo's, no statistics smoothing), for scale",
    )
    p.add_argument("--strength", type=float)
    p.add_argument("--checkpoint")
    p.add_argument(
        "--pipeline", help="pipeline YAML (temporal.still / temporal.moving / temporal.scene_cut, live.*)"
    )
    add_set_argument(p, "temporal.still=3")
    args = p.parse_args(argv)
    show_library_log()
    cfg = load_config(args, {"model.checkpoint": args.checkpoint})
    t = cfg.temporal
    # every stabilizer setting to measure, validated before minutes of stylizing (a bad value is a
    # ConfigError)
    variants = [
        (chroma, px, bound, replace(t, pixel_smoothing=px, hold_limit=bound, chroma_sigma=chroma))
        for chroma, px, bound in _stabilizer_settings(
            args.chroma_sigma or [t.chroma_sigma], args.pixel_smoothing, args.hold_limit or [t.hold_limit]
        )
    ]
    stylizer = Stylizer(cfg)
    print(f"precision: {stylizer.precision}", flush=True)
    style = stylizer.load_style(args.style)
    frames = read_clip(args.video, args.frames or None, start=args.start, side=args.side or None)
    if not frames:
        raise MediaError(f"{args.video}: no frames from {args.start}")
    h, w = frames[0].shape[:2]
    print(f"{Path(args.video).name}: frames {args.start}..{args.start + len(frames) - 1} at {w}x{h}, "
          f"style {Path(args.style).name}, still {t.still:g} / moving {t.moving:g} levels", file=sys.stderr)
    print(
        "| path | smoothing | chroma sigma | pixel smoothing | hold limit | frames | flicker | still-pixel "
        "change "
        f"| SSIM to input | lag > {LAG} | PSNR to per-frame (dB) | motion floor | halo | floor / "
        "moving-edge gain "
        "| flicker change | still change | SSIM change |\n" + "| --- " * 17 + "|"
    )
    floors: list[str] = []
    for path in args.path:
        base = None
        for a in ([0.0] if path == "reinhard" else args.smoothing):
            if path == "reinhard":
                raw, cuts = reinhard_clip(frames, args.style), 0
            else:
                raw, cuts = stylize_clip(stylizer, style, frames, a, t.scene_cut, args.strength, path, cfg)
            for chroma, px, bound, temporal in variants:
                stab = make_stabilizer(temporal)
                r = score(
                    frames,
                    stabilize(frames, raw, stab),
                    raw,
                    a,
                    path,
                    px,
                    cuts,
                    t.moving,
                    bound,
                    chroma,
                    per_frame(raw, stab),
                )
                if base is None:
                    base = r
                    floors.append(_colour_line(path, frames, raw))
                    floors.append(
                        f"{path}: motion floor {r.floor:.3f}: the flicker from pixels whose input moved "
                        f"by > {t.moving:g} levels (clear motion) alone; a filter that keeps that motion "
                        f"removes at most {_pct(r.floor, r.flicker).lstrip('-')}; of it {r.halo:.3f} is "
                        f"halo (still pixels next to the motion, which the network's window spreads it to)"
                    )
                print(r.row(base), flush=True)
            del raw
    for line in floors:
        print(f"\n{line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
