"""How the look grows with strength on content/style pairs (EVAL.md, "Strength").

    python tools/strength_sweep.py --pairs ../shared/data/dev-pairs.tsv

For each strength, two mechanisms through the shipped default weights, CPU fp32:
``opacity`` (what the tool does: the full look laid over the input, :mod:`rest_video.ops.opacity`)
and ``feature`` (the AdaIN output blended with the content features inside the network, the
tool's rule before). Prints mean SSIM / Gram loss / palette distance / PSNR to the input per row,
and how many pairs have a palette distance that rises anywhere along the strengths.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from rest_video import Stylizer
from rest_video.core.config import load_pipeline
from rest_video.engine.tensors import tensor_to_uint8
from rest_video.evaluation.pairs import read_pairs
from rest_video.io.image import read_image
from rest_video.metrics import gram_loss, gram_matrices, palette_distance, psnr, ssim_gray
from rest_video.train.teacher import load_teacher


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", required=True)
    p.add_argument("--strengths", default="0,0.25,0.5,0.75,1")
    p.add_argument("--pipeline", default=None, help="pipeline name or file (default: the default pipeline)")
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    strengths = [float(s) for s in args.strengths.split(",")]
    cfg = load_pipeline(
        args.pipeline, {"runtime.device": "cpu", "runtime.precision": "fp32", "style.cache": False}
    )
    st = Stylizer(cfg)
    teacher = load_teacher("vgg16-lpips", None).eval()
    rows: dict[tuple[str, float], list[tuple[float, float, float, float]]] = {}
    rising = {"opacity": 0, "feature": 0}
    pairs = read_pairs(args.pairs, args.limit)
    for i, pair in enumerate(pairs):
        content, style_img = read_image(pair.content), read_image(pair.style)
        style = st.load_style(style_img, use_cache=False)
        grams = gram_matrices(teacher, style_img)
        for mech in ("opacity", "feature"):
            palettes = []
            for a in strengths:
                if mech == "opacity":
                    out = st.stylize(content, style, a)
                else:
                    y = st.stylize_tensor(st.input_tensor(content[None]), style, a)
                    out = tensor_to_uint8(y)[0]
                pal = palette_distance(out, style_img)
                palettes.append(pal)
                db = psnr([out], [content])
                rows.setdefault((mech, a), []).append(
                    (ssim_gray(out, content), gram_loss(gram_matrices(teacher, out), grams), pal, db))
            rising[mech] += any(b > a + 1e-9 for a, b in zip(palettes, palettes[1:], strict=False))
        print(f"pair {i + 1}/{len(pairs)}", file=sys.stderr)
    print("| mechanism | strength | SSIM | Gram loss | palette distance | PSNR to the input (dB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for (mech, a), vals in rows.items():
        s, g, pal, db = (float(np.mean([v[k] for v in vals])) for k in range(4))
        print(f"| {mech} | {a:g} | {s:.4f} | {g:.3f} | {pal:.3f} | {db:.1f} |")
    for mech, n in rising.items():
        print(f"{mech}: palette distance rises somewhere along the strengths on {n} of {len(pairs)} pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
