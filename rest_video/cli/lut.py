"""``rest-video lut STYLE --content IMAGE_OR_VIDEO -o look.cube``: a style as a 3D LUT.

The network renders the content (an image, or frames spread over a video) in the style; a 3D LUT
is fitted to those (input, output) colour pairs and written as a standard ``.cube`` file that
ffmpeg (``lut3d``), DaVinci Resolve, Premiere, OBS and others load. A LUT maps colours only, so it
reproduces the look, not the network's local (spatial) changes; the fit's PSNR against the
network's rendering is printed. A LUT has no regions: the look is global, and the mask flags
(``--content-mask`` ...) are refused with one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from rest_video.cli.common import (
    add_mask_refusal,
    add_pipeline_argument,
    add_set_argument,
    finite_float,
    load_config,
    refuse_masks,
)
from rest_video.core.errors import ConfigError, MediaError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("style", metavar="STYLE", help="reference photo whose look to export")
    p.add_argument("--content", required=True, metavar="IMAGE_OR_VIDEO",
                   help="what the look is fitted on (an image, or a video: --frames frames spread over it)")
    p.add_argument("-o", "--output", required=True, metavar="LOOK.cube", help="the .cube file to write")
    p.add_argument("--size", type=int, default=33, metavar="N", help="lattice points per axis (default 33)")
    p.add_argument("--frames", type=int, default=8, metavar="K", help="video frames to fit on (default 8)")
    p.add_argument("--title", help="TITLE line of the .cube (default: the style's file name)")
    p.add_argument(
        "--strength",
        type=finite_float,
        metavar="A",
        help="the look's opacity over the input: 0 = the input itself, 1 = the full look (default)",
    )
    p.add_argument("--checkpoint", metavar="FILE", help="weights file instead of the shipped weights")
    add_pipeline_argument(p)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where to run the network")
    add_set_argument(p, "style.max_side=512")
    p.add_argument("-y", "--overwrite", action="store_true", help="replace the output if it exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.epilog = ("The look is global: a LUT maps colours and has no regions, so masks (--content-mask) are "
                "not supported.")
    add_mask_refusal(p)


def run(args: argparse.Namespace) -> int:
    from rest_video.core.atomic import check_writable
    from rest_video.io.clips import spread_frames

    refuse_masks(args, "a .cube LUT")
    if not 2 <= args.size <= 129:
        raise ConfigError(f"--size must be in 2..129, got {args.size}")
    if args.frames < 1:
        raise ConfigError("--frames must be >= 1")
    out = Path(args.output)
    if out.suffix.lower() != ".cube":
        raise ConfigError(f"-o {out}: the output must be a .cube file")
    if not Path(args.style).is_file():
        raise MediaError(f"style image not found: {args.style}")
    check_writable(out, args.overwrite)
    cfg = load_config(args, {"model.checkpoint": args.checkpoint, "style.strength": args.strength,
                             "runtime.device": args.device})
    frames = spread_frames(args.content, args.frames)

    from rest_video.engine.stylizer import Stylizer
    from rest_video.metrics import psnr
    from rest_video.ops.lut import LutApplier, write_cube
    from rest_video.ops.lut_fit import EXPORT_FIT, fit_lut
    from rest_video.ops.opacity import blend, blend_lut

    stylizer = Stylizer(cfg)
    style = stylizer.load_style(args.style)
    rendered = [
        stylizer.stylize(f, style, 1.0) for f in frames
    ]  # the full look; strength is applied to the table
    inputs = np.concatenate([f.reshape(-1, 3) for f in frames])
    outputs = np.concatenate([r.reshape(-1, 3) for r in rendered])
    strength = cfg.style.strength
    table = blend_lut(fit_lut(inputs, outputs, args.size, **EXPORT_FIT), strength)
    rendered = [blend(f, r, strength) for f, r in zip(frames, rendered, strict=False)]
    write_cube(out, table, args.title or Path(args.style).stem)
    if not args.quiet:
        apply = LutApplier(table)
        db = psnr([apply(f) for f in frames], rendered)
        print(
            f"wrote {out}: {args.size}^3 LUT fitted on {len(frames)} frame{'s' if len(frames) != 1 else ''} "
            f"of {Path(args.content).name}; PSNR {db:.1f} dB against the network's rendering",
            file=sys.stderr,
        )
    return 0
