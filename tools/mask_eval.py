"""Mask-guided stylization against global stylization on photo pairs with sky / not-sky masks
(EVAL.md, "Mask-guided stylization").

    python tools/mask_eval.py --pairs docs/mask-pairs.tsv --sheet docs/mask-sheet.jpg
    python tools/mask_eval.py --candidates ../shared/data/photos/bsds500   # how the pairs were found

The masks are derived by one rule (:func:`sky_mask`), not drawn: sky is the bright, bluish-or-grey,
smooth pixels connected to the top edge of the photo. ``--candidates`` lists the photos whose
rule-derived sky covers 15-60 % of the picture and at least 60 % of its top row; the pairs of
docs/mask-pairs.tsv were picked by eye among them where the rule had found real sky (it also
takes a blurred wall or the sea for sky). Printed per pair and averaged, for the
global (unmasked) and the masked run at the same settings: SSIM to the content (structure kept),
Gram loss to the whole style (VGG-16 teacher), palette distance to the whole style, and the
*region palette*: the palette distance of each output region to the style's region of the same
label (sky to sky, ground to ground), averaged over the two regions: what masks are meant to lower.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from rest_video import RestVideoError, Stylizer, load_pipeline
from rest_video.core.mask_colours import colour_label
from rest_video.io.image import IMAGE_EXTS, read_image
from rest_video.metrics import gram_loss, gram_matrices, palette_distance, ssim_gray

SKY, GROUND = colour_label("light-blue"), colour_label("black")


def sky_mask(rgb: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 labels: :data:`SKY` where the rule finds sky, :data:`GROUND` elsewhere.

    Sky candidates: value (max of R, G, B) above 0.45, blue at least red - 0.03 (blue or grey sky),
    and smooth (standard deviation of the grey level over 7x7 pixels below 0.035). Sky is the
    candidates' connected parts that touch the top row, closed (9x9) and with holes filled, then
    grown twice by up to 4 pixels into pixels within 0.12 (RGB distance, 0..1 levels) of the sky's
    mean colour (the smoothness test fails within 3 pixels of an edge, and a rim of sky labelled
    ground takes the ground's look: a bright halo).
    """
    f = rgb.astype(np.float32) / 255.0
    grey = f.mean(axis=2)
    mean = cv2.blur(grey, (7, 7))
    std = np.sqrt(np.maximum(cv2.blur(grey * grey, (7, 7)) - mean * mean, 0.0))
    colour = (f.max(axis=2) > 0.45) & (f[..., 2] >= f[..., 0] - 0.03)
    cand = colour & (std < 0.035)
    n, comp = cv2.connectedComponents(cand.astype(np.uint8), connectivity=4)
    top = set(np.unique(comp[0][cand[0]]).tolist())
    sky = np.isin(comp, list(top)) & cand if top else np.zeros_like(cand)
    sky = cv2.morphologyEx(sky.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)).astype(bool)
    # fill holes: ground parts not connected to the bottom or sides below the sky become sky
    ground = (~sky).astype(np.uint8)
    n, comp = cv2.connectedComponents(ground, connectivity=4)
    border = set(np.unique(np.concatenate([comp[-1], comp[:, 0], comp[:, -1]])).tolist()) - {0}
    sky |= ~np.isin(comp, list(border)) & (ground > 0)
    if sky.any():
        near = np.linalg.norm(f - f[sky].mean(axis=0), axis=2) < 0.12
        for _ in range(2):
            sky |= cv2.dilate(sky.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & colour & near
    return np.where(sky, SKY, GROUND).astype(np.uint8)


def candidates(folder: Path, side: int = 256) -> list[Path]:
    """Photos under ``folder`` (sorted by path) whose rule-derived sky, at ``side`` pixels, covers
    15-60 % of the picture and at least 60 % of the top row."""
    picked = []
    for p in sorted(q for q in folder.rglob("*") if q.suffix.lower() in IMAGE_EXTS):
        m = sky_mask(read_image(p, side)) == SKY
        if 0.15 <= m.mean() <= 0.60 and m[0].mean() >= 0.60:
            picked.append(p)
    return picked


def region_palette(out: np.ndarray, cmask: np.ndarray, style: np.ndarray, smask: np.ndarray) -> float:
    """Mean over the labels of both masks of the palette distance between the output's region and
    the style's region of that label."""
    d = []
    for lab in sorted(set(np.unique(cmask).tolist()) & set(np.unique(smask).tolist())):
        a, b = out[cmask == lab], style[smask == lab]
        d.append(palette_distance(a[None], b[None]))
    return float(np.mean(d))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/mask_eval.py", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--pairs", help="content<TAB>style TSV (default docs/mask-pairs.tsv)", default="docs/mask-pairs.tsv"
    )
    p.add_argument(
        "--candidates", metavar="FOLDER", help="only list the photos of FOLDER the sky rule accepts"
    )
    p.add_argument("--max-side", type=int, default=512, help="photos shrunk to this long side")
    p.add_argument("--feather", type=float, help="masks.feather (default: the pipeline's)")
    p.add_argument("--checkpoint", help="weights (default: shipped)")
    p.add_argument(
        "--sheet", help="write a contact sheet: style | style mask | content | content mask | global | masked"
    )
    p.add_argument("--masks-out", help="folder to write the derived masks to (PNG)")
    args = p.parse_args(argv)
    try:
        return _run(args)
    except RestVideoError as e:
        print(f"tools/mask_eval.py: {e}", file=sys.stderr)
        return 2


def _run(args) -> int:
    import torch

    from rest_video.evaluation.pairs import read_pairs

    if args.candidates:
        print("\n".join(str(p) for p in candidates(Path(args.candidates))))
        return 0
    from rest_video.core.mask_colours import COLOURS
    from rest_video.evaluation.sheet import fit_tile, spaced
    from rest_video.io.image import write_image
    from rest_video.train.teacher import load_teacher

    torch.set_num_threads(1)
    sets = {"style.cache": False, "runtime.device": "cpu", "model.checkpoint": args.checkpoint}
    if args.feather is not None:
        sets["masks.feather"] = args.feather
    st = Stylizer(load_pipeline(None, {k: v for k, v in sets.items() if v is not None}))
    teacher = load_teacher("vgg16-lpips", None).eval()
    palette = np.array([c for _, c in COLOURS], np.uint8)
    pairs = [(pr.content, pr.style) for pr in read_pairs(args.pairs)]
    rows, tiles = [], []
    print("content\tstyle\tsky% c/s\tSSIM g/m\tGram g/m\tpalette g/m\tregion palette g/m")
    for cp, sp in pairs:
        content, style = read_image(cp, args.max_side), read_image(sp, args.max_side)
        cm, sm = sky_mask(content), sky_mask(style)
        if args.masks_out:
            Path(args.masks_out).mkdir(parents=True, exist_ok=True)
            write_image(Path(args.masks_out) / f"{cp.stem}-mask.png", palette[cm])
            write_image(Path(args.masks_out) / f"{sp.stem}-mask.png", palette[sm])
        rs = st.load_style(style, mask=sm)
        outs = {"global": st.stylize(content, rs.whole), "masked": st.stylize(content, rs, content_mask=cm)}
        sg = gram_matrices(teacher, style)
        r = {}
        for k, o in outs.items():
            r[k] = (
                ssim_gray(o, content),
                gram_loss(gram_matrices(teacher, o), sg),
                palette_distance(o, style),
                region_palette(o, cm, style, sm),
            )
        rows.append(r)
        print(
            f"{cp.name}\t{sp.name}\t{100 * (cm == SKY).mean():.0f}/{100 * (sm == SKY).mean():.0f}\t"
            + "\t".join(
                f"{r['global'][i]:.3f}/{r['masked'][i]:.3f}"
                if i == 0
                else f"{r['global'][i]:.2f}/{r['masked'][i]:.2f}"
                for i in range(4)
            ),
            flush=True,
        )
        if args.sheet:
            h, w = 150, 225
            tiles.append(
                np.concatenate(
                    spaced(
                        [
                            fit_tile(x, h, w)
                            for x in (
                                style,
                                palette[sm],
                                content,
                                palette[cm],
                                outs["global"],
                                outs["masked"],
                            )
                        ],
                        1,
                    ),
                    1,
                )
            )
    mean = {k: np.mean([r[k] for r in rows], axis=0) for k in ("global", "masked")}
    print(f"mean ({len(rows)} pairs)\t\t\t{mean['global'][0]:.3f}/{mean['masked'][0]:.3f}\t"
          + "\t".join(f"{mean['global'][i]:.2f}/{mean['masked'][i]:.2f}" for i in (1, 2, 3)))
    if args.sheet and tiles:
        width = tiles[0].shape[1]
        header = np.full((22, width, 3), 255, np.uint8)
        for i, name in enumerate(["style", "style mask", "content", "content mask", "global", "masked"]):
            cv2.putText(
                header, name, (i * 229 + 4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA
            )
        write_image(args.sheet, np.concatenate(spaced([header, *tiles], 0), 0), 90)
        print(f"wrote {args.sheet}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
