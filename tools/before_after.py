"""A before/after picture of two sets of weights (README's picture): style | content | before | after.

    python tools/before_after.py --before-pipeline subtle --labels subtle default --out docs/before-after.jpg
    python tools/before_after.py --before-pipeline no-guard.yaml --out docs/shadows.jpg  # one setting

Each ``--pair CONTENT STYLE`` adds a row (an image, or a video's first frame); the default rows are
the sample clip with each shipped style. ``--after`` defaults to the shipped weights.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from rest_video import RestVideoError, Stylizer
from rest_video.core.config import load_pipeline
from rest_video.evaluation.sheet import ContactSheet
from rest_video.io.clips import read_clip
from rest_video.io.image import is_image_path, read_image

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAIRS = [(ROOT / "samples/street.mp4", ROOT / "samples/styles" / name)
                 for name in ("evening-glow.jpg", "darkest-hour.jpg", "forest-path.jpg")]


def read_content(path: Path, max_side: int) -> np.ndarray:
    """An image, or the first frame of a video, as RGB uint8 with its long side at most ``max_side``."""
    if is_image_path(path):
        return read_image(path, max_side)
    return read_clip(path, 1, side=max_side)[0]


def render(before: str | None, after: str | None, pairs: list[tuple[Path, Path]], max_side: int,
           labels: tuple[str, str] = ("before", "after"),
           pipelines: tuple[str | None, str | None] = (None, None), gain: float = 1.0,
           crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """The before/after sheet as RGB uint8, its two output columns headed ``labels``: each column's
    weights (None: the pipeline's) through its pipeline (a name or file; None: the default);
    ``gain`` brightens the outputs (to look into a dark look's shadows), and ``crop``
    ``(x, y, w, h)`` shows that part of them (after stylizing the whole picture)."""
    stylizers = {name: Stylizer(load_pipeline(pipe, {"model.checkpoint": ckpt, "style.cache": False}))
                 for name, ckpt, pipe in zip(labels, (before, after), pipelines, strict=False)}
    sheet = ContactSheet(list(stylizers), tile=(240, 320))
    for content_path, style_path in pairs:
        content = read_content(content_path, max_side)
        style = read_image(style_path, max_side)
        outputs = {name: st.stylize(content, st.load_style(style)) for name, st in stylizers.items()}
        if crop is not None:
            x, y, w, h = crop
            content, outputs = content[y:y + h, x:x + w], {k: v[y:y + h, x:x + w] for k, v in outputs.items()}
        if gain != 1.0:
            lift = lambda img: np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)  # noqa: E731
            outputs = {k: lift(v) for k, v in outputs.items()}
        sheet.add_row(style, content, outputs)
    return sheet.render()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/before_after.py", description=__doc__.splitlines()[0])
    ap.add_argument("--before", default=None, help="weights for the 'before' column (.safetensors or .pt; "
                                                   "default: its pipeline's)")
    ap.add_argument("--after", default=None, help="weights for the 'after' column (default: its pipeline's)")
    ap.add_argument("--before-pipeline", default=None, help="pipeline of the 'before' column (name or file; "
                                                            "default: the default pipeline)")
    ap.add_argument("--after-pipeline", default=None, help="pipeline of the 'after' column")
    ap.add_argument("--pair", nargs=2, action="append", metavar=("CONTENT", "STYLE"), type=Path,
                    help="one row (repeatable; default: the sample clip with each shipped style)")
    ap.add_argument("--max-side", type=int, default=640, help="shrink content and style to this long side")
    ap.add_argument("--labels", nargs=2, default=("before", "after"), metavar=("BEFORE", "AFTER"),
                    help="the two output columns' headings")
    ap.add_argument(
        "--gain", type=float, default=1.0, help="brighten the outputs (look into a dark look's shadows)"
    )
    ap.add_argument("--crop", type=lambda t: tuple(int(v) for v in t.split(",")), metavar="X,Y,W,H",
                    help="show this part of content and outputs")
    ap.add_argument("--out", required=True, type=Path, help="picture to write (.jpg, .png, .webp)")
    args = ap.parse_args(argv)
    try:
        from rest_video.io.image import write_image

        sheet = render(args.before, args.after, args.pair or DEFAULT_PAIRS, args.max_side, tuple(args.labels),
                       (args.before_pipeline, args.after_pipeline), args.gain, args.crop)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_image(args.out, sheet, quality=88)
    except RestVideoError as e:
        print(f"before_after: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
