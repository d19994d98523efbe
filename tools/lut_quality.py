"""How close the LUT fast path and exported ``.cube`` LUTs come to the full network (PSNR).

    python tools/lut_quality.py --pairs ../shared/data/dev-pairs.tsv --video ../shared/data/video/vtest.avi \\
        --checkpoint runs/rest/last.pt

Three numbers per content/style pair, each against the network's own full-resolution rendering:

- ``fast path``: live's LUT path, the network run on the frame downscaled to ``fit_side``, the LUT
  (and, with ``live.detail``, the local-contrast term) fitted to that and applied to the
  full-resolution frame (on a video: frames run through
  the :class:`~rest_video.stream.StreamStylizer` LUT path in order, refits every ``refit_every`` frames, so a
  frame may be shown with a LUT fitted up to ``refit_every - 1`` frames earlier);
- ``best LUT``: a LUT fitted to the full-resolution rendering itself (what any colour LUT can reach);
- ``.cube``: ``rest-video lut``'s export of that LUT applied by FFmpeg's ``lut3d`` (tetrahedral).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from rest_video import RestVideoError, Stylizer
from rest_video.cli.common import load_config
from rest_video.core.log import show_library_log
from rest_video.evaluation.pairs import read_pairs
from rest_video.io.clips import read_clip
from rest_video.io.image import read_image
from rest_video.metrics import psnr as stream_psnr
from rest_video.ops.color import downscale
from rest_video.ops.detail import add_detail
from rest_video.ops.lut import LutApplier, apply_cube_ffmpeg, write_cube
from rest_video.ops.lut_fit import EXPORT_FIT, fit_lut
from rest_video.stream import StreamStylizer
from rest_video.stream.lut import fit_look
from rest_video.style import StyleStats


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) of one image against another (:func:`rest_video.metrics.psnr`)."""
    return stream_psnr([a], [b])


def image_scores(stylizer: Stylizer, style: StyleStats, rgb: np.ndarray, fit_side: int = 256,
                 lut_size: int = 33, detail: bool = True) -> dict[str, float]:
    """PSNR of the fast path, the best LUT and its ``.cube`` through FFmpeg, against the network."""
    full = stylizer.stylize(rgb, style)
    small = downscale(rgb, fit_side)
    table, gains = fit_look(small, stylizer.stylize(small, style), lut_size, detail=detail)
    fast = add_detail(rgb, LutApplier(table)(rgb), gains)
    best_table = fit_lut(rgb, full, lut_size, **EXPORT_FIT)
    with tempfile.TemporaryDirectory() as d:
        cube = Path(d) / "look.cube"
        write_cube(cube, best_table)
        ff = apply_cube_ffmpeg(rgb, cube, interp="tetrahedral")
    return {"fast path": psnr(fast, full), "best LUT": psnr(LutApplier(best_table)(rgb), full),
            ".cube (ffmpeg)": psnr(ff, full)}


def video_fast_path_scores(stylizer: Stylizer, style: StyleStats, frames: list[np.ndarray],
                           every: int = 10) -> list[float]:
    """PSNR of the LUT path's output (``stylizer.cfg.live`` settings; no temporal filters) against
    the network for every ``every``-th of consecutive ``frames``."""
    temporal = replace(stylizer.cfg.temporal, smoothing=0.0)
    stream = StreamStylizer(stylizer, style, path="lut", temporal=temporal, background=False, stabilize=False)
    scores = []
    for i, f in enumerate(frames):
        out = stream(f)
        if i % every == every - 1:       # mid-way between refits, not right after one
            scores.append(psnr(out, stylizer.stylize(f, style)))
    stream.close()
    return scores


def main(argv: list[str] | None = None) -> int:
    """The command; a user's mistake (missing file, bad value) is one line on stderr, exit 2."""
    try:
        return _main(argv)
    except RestVideoError as e:
        print(f"tools/lut_quality.py: {e}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog="python tools/lut_quality.py", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--pairs", help="TSV of content<TAB>style paths (relative to its folder), header line first"
    )
    p.add_argument("--limit", type=int, default=0, help="only the first N pairs")
    p.add_argument("--video", help="a video to run the live fast path on")
    p.add_argument("--video-style", help="style for --video (default: the first pair's style)")
    p.add_argument("--video-frames", type=int, default=100)
    p.add_argument("--checkpoint")
    p.add_argument("--pipeline")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a pipeline setting (live.detail=false: the LUT alone)")
    args = p.parse_args(argv)
    show_library_log()
    cfg = load_config(args, {"model.checkpoint": args.checkpoint})
    live = cfg.live
    stylizer = Stylizer(cfg)
    first_style = args.video_style
    if args.pairs:
        pairs = read_pairs(args.pairs, args.limit or None)
        first_style = first_style or str(pairs[0].style)
        totals: dict[str, list[float]] = {}
        for pair in pairs:
            sc = image_scores(stylizer, stylizer.load_style(pair.style), read_image(pair.content),
                              live.fit_side, live.lut_size, live.detail)
            for k, v in sc.items():
                totals.setdefault(k, []).append(v)
            print(
                f"{pair.content.name} / {pair.style.name}: "
                + ", ".join(f"{k} {v:.2f}" for k, v in sc.items()),
                file=sys.stderr,
                flush=True,
            )
        print(f"| dev pairs ({len(pairs)}) | mean | min | >= 30 dB |\n| --- | --- | --- | --- |")
        for k, v in totals.items():
            print(f"| {k} | {np.mean(v):.2f} | {np.min(v):.2f} | {sum(x >= 30 for x in v)}/{len(v)} |")
    if args.video:
        if not first_style:
            p.error("--video needs --video-style or --pairs")
        frames = read_clip(args.video, args.video_frames)
        style = stylizer.load_style(first_style)
        scores = video_fast_path_scores(stylizer, style, frames, 10)
        per_image = [image_scores(stylizer, style, frames[i], live.fit_side, live.lut_size, live.detail)
                     for i in range(0, len(frames), max(1, len(frames) // 4))]
        h, w = frames[0].shape[:2]
        print(f"\n| {Path(args.video).name} {w}x{h}, {len(frames)} frames, style {Path(first_style).name} "
              f"| mean | min |\n| --- | --- | --- |")
        print(
            f"| live fast path (LUT path in order, every 10th frame) | {np.mean(scores):.2f} | "
            f"{np.min(scores):.2f} |"
        )
        for k in per_image[0]:
            v = [s[k] for s in per_image]
            print(f"| {k} ({len(v)} frames) | {np.mean(v):.2f} | {np.min(v):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
