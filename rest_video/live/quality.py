"""How close the LUT fast path and exported ``.cube`` LUTs come to the full network (PSNR).

    python -m rest_video.live.quality --pairs ../shared/data/dev-pairs.tsv --video ../shared/data/video/vtest.avi \\
        --checkpoint runs/rest/last.pt

Three numbers per content/style pair, each against the network's own full-resolution rendering:

- ``fast path``: live's LUT path, the network run on the frame downscaled to ``fit_side``, the LUT
  fitted to that and applied to the full-resolution frame (on a video: frames run through
  :class:`~rest_video.live.fastpath.LutPath` in order, refits every ``refit_every`` frames, so a
  frame may be shown with a LUT fitted up to ``refit_every - 1`` frames earlier);
- ``best LUT``: a LUT fitted to the full-resolution rendering itself (what any colour LUT can reach);
- ``.cube``: ``rest-video lut``'s export of that LUT applied by FFmpeg's ``lut3d`` (tetrahedral).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from rest_video.cli.lut import EXPORT_FIT
from rest_video.engine.stylizer import Stylizer
from rest_video.live.fastpath import LutPath, downscale
from rest_video.models.rest import StyleStats
from rest_video.ops.lut import LutApplier, apply_cube_ffmpeg, fit_lut, write_cube


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))


def image_scores(stylizer: Stylizer, style: StyleStats, rgb: np.ndarray, fit_side: int = 256,
                 lut_size: int = 33) -> dict[str, float]:
    """PSNR of the fast path, the best LUT and its ``.cube`` through FFmpeg, against the network."""
    full = stylizer.stylize(rgb, style)
    small = downscale(rgb, fit_side)
    fast = LutApplier(fit_lut(small, stylizer.stylize(small, style), lut_size))(rgb)
    best_table = fit_lut(rgb, full, lut_size, **EXPORT_FIT)
    with tempfile.TemporaryDirectory() as d:
        cube = Path(d) / "look.cube"
        write_cube(cube, best_table)
        ff = apply_cube_ffmpeg(rgb, cube, interp="tetrahedral")
    return {"fast path": psnr(fast, full), "best LUT": psnr(LutApplier(best_table)(rgb), full),
            ".cube (ffmpeg)": psnr(ff, full)}


def video_fast_path_scores(stylizer: Stylizer, style: StyleStats, frames: list[np.ndarray], every: int = 10,
                           fit_side: int = 256, lut_size: int = 33, refit_every: int = 15) -> list[float]:
    """PSNR of LutPath's output against the network for every ``every``-th of consecutive ``frames``."""
    path = LutPath(stylizer, style, lut_size=lut_size, refit_every=refit_every, fit_side=fit_side, background=False)
    scores = []
    for i, f in enumerate(frames):
        out = path(f)
        if i % every == every - 1:       # mid-way between refits, not right after one
            scores.append(psnr(out, stylizer.stylize(f, style)))
    return scores


def main(argv: list[str] | None = None) -> int:
    from rest_video.core.config import load_pipeline
    from rest_video.evaluate import read_pairs
    from rest_video.flicker import read_clip
    from rest_video.io.image import read_image

    p = argparse.ArgumentParser(prog="python -m rest_video.live.quality", description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", help="TSV of content<TAB>style paths (relative to its folder), header line first")
    p.add_argument("--limit", type=int, default=0, help="only the first N pairs")
    p.add_argument("--video", help="a video to run the live fast path on")
    p.add_argument("--video-style", help="style for --video (default: the first pair's style)")
    p.add_argument("--video-frames", type=int, default=100)
    p.add_argument("--checkpoint")
    p.add_argument("--pipeline")
    args = p.parse_args(argv)
    cfg = load_pipeline(args.pipeline, {"model.checkpoint": args.checkpoint} if args.checkpoint else None)
    live = cfg.live
    stylizer = Stylizer(cfg)
    first_style = args.video_style
    if args.pairs:
        pairs = read_pairs(args.pairs, args.limit or None)
        first_style = first_style or str(pairs[0].style)
        totals: dict[str, list[float]] = {}
        for pair in pairs:
            sc = image_scores(stylizer, stylizer.load_style(pair.style), read_image(pair.content),
                              live.fit_side, live.lut_size)
            for k, v in sc.items():
                totals.setdefault(k, []).append(v)
            print(f"{pair.content.name} / {pair.style.name}: " + ", ".join(f"{k} {v:.2f}" for k, v in sc.items()),
                  file=sys.stderr, flush=True)
        print(f"| dev pairs ({len(pairs)}) | mean | min | >= 30 dB |\n| --- | --- | --- | --- |")
        for k, v in totals.items():
            print(f"| {k} | {np.mean(v):.2f} | {np.min(v):.2f} | {sum(x >= 30 for x in v)}/{len(v)} |")
    if args.video:
        if not first_style:
            p.error("--video needs --video-style or --pairs")
        frames = read_clip(args.video, args.video_frames)
        style = stylizer.load_style(first_style)
        scores = video_fast_path_scores(stylizer, style, frames, 10, live.fit_side, live.lut_size, live.refit_every)
        per_image = [image_scores(stylizer, style, frames[i], live.fit_side, live.lut_size)
                     for i in range(0, len(frames), max(1, len(frames) // 4))]
        h, w = frames[0].shape[:2]
        print(f"\n| {Path(args.video).name} {w}x{h}, {len(frames)} frames, style {Path(first_style).name} "
              f"| mean | min |\n| --- | --- | --- |")
        print(f"| live fast path (LutPath in order, every 10th frame) | {np.mean(scores):.2f} | {np.min(scores):.2f} |")
        for k in per_image[0]:
            v = [s[k] for s in per_image]
            print(f"| {k} ({len(v)} frames) | {np.mean(v):.2f} | {np.min(v):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
