"""Dark styles keep their detail (EVAL.md, "Shadows"): for each shipped style on real clips, the share
of crushed pixels (every channel <= 2 levels) in the input and the output, and the gradient
correlation of output and input over the frame and over the input's darkest quarter.

    python tools/shadows.py --clip samples/street.mp4 --clip ../shared/data/video/vtest.avi

Frames are spread over each clip (``--frames``), stylized by the pipelines named (default: the
default pipeline, then ``subtle``) at strength 1, CPU fp32, no temporal filters.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rest_video import Stylizer
from rest_video.core.config import load_pipeline
from rest_video.io.clips import spread_frames
from rest_video.metrics import crushed_share, gradient_correlation, shadow_detail, ssim_gray

ROOT = Path(__file__).resolve().parent.parent


def measure(stylizer: Stylizer, frames: list[np.ndarray], style: Path) -> dict[str, float]:
    """Means over ``frames`` of crushed shares (input, output), gradient correlations and grey SSIM."""
    st = stylizer.load_style(style)
    rows = []
    for f in frames:
        o = stylizer.stylize(f, st)
        rows.append((crushed_share(f), crushed_share(o), gradient_correlation(o, f), shadow_detail(o, f),
                     ssim_gray(o, f)))
    m = np.mean(rows, axis=0)
    return dict(zip(("crushed_in", "crushed_out", "gradient", "shadow", "ssim"), map(float, m), strict=False))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", action="append", required=True)
    p.add_argument("--styles", default=str(ROOT / "samples" / "styles"))
    p.add_argument("--pipeline", action="append", help="pipelines to compare (default: default, subtle)")
    p.add_argument("--frames", type=int, default=8)
    args = p.parse_args(argv)
    pipelines = args.pipeline or ["default", "subtle"]
    styles = sorted(Path(args.styles).glob("*.jpg"))
    print("| clip | style | pipeline | crushed in -> out (%) | gradient corr. | shadow detail | grey SSIM |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name in pipelines:
        st = Stylizer(
            load_pipeline(name, {"runtime.device": "cpu", "runtime.precision": "fp32", "style.cache": False})
        )
        for clip in args.clip:
            frames = spread_frames(clip, args.frames)
            for style in styles:
                m = measure(st, frames, style)
                print(
                    f"| {Path(clip).name} | {style.stem} | {name} | {100 * m['crushed_in']:.2f} -> "
                    f"{100 * m['crushed_out']:.2f} | {m['gradient']:.3f} | {m['shadow']:.3f} | "
                    f"{m['ssim']:.3f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
