"""``rest-video IN STYLE OUT``: stylize a video or an image."""

from __future__ import annotations

import argparse
import sys

from rest_video.cli.common import add_pipeline_argument, add_set_argument, finite_float, load_config
from rest_video.core.errors import ConfigError
from rest_video.core.log import verbose_log
from rest_video.io.containers import check_encoder
from rest_video.io.image import is_image_path
from rest_video.io.sequence import is_sequence_pattern
from rest_video.pipeline.checks import check_masks, check_paths
from rest_video.pipeline.file import stylize_file


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("input", metavar="IN", help="input video or image")
    p.add_argument("style", metavar="STYLE", help="reference photo whose look to take")
    p.add_argument(
        "output", metavar="OUT", help="output video (.mp4, .mkv, .webm, .mov) or image (.png, .jpg)"
    )
    add_file_options(p)


def add_file_options(p: argparse.ArgumentParser, masks: bool = True) -> None:
    """The per-file options, shared with ``rest-video batch`` (``masks=False``: a mask belongs to one
    file, so batch leaves the mask options out)."""
    add_pipeline_argument(p, "; default: built-in defaults = pipelines/default.yaml")
    p.add_argument(
        "--strength",
        type=finite_float,
        metavar="A",
        help="the look's opacity over the input: 0 = the input itself, 1 = the full look (default)",
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where to run the network")
    p.add_argument("--precision", choices=["auto", "fp32", "fp16", "bf16", "int8"],
                   help="compute precision (default auto: fp16 on CUDA; on the CPU the fastest that keeps "
                        "the picture: fp32, bf16 or int8, measured once per machine)")
    p.add_argument("--checkpoint", metavar="FILE", help="weights file instead of the shipped weights")
    p.add_argument("--method", choices=["adain", "wct"], help="stylization transform (default adain)")
    p.add_argument(
        "--path",
        choices=["auto", "full", "lut"],
        help="full: the network on every frame; lut: a 3D colour LUT fitted to the network at scene "
        "cuts and drifts renders the frames, many times faster; auto (default): full where it "
        "keeps up with the encoder, else lut (one line says which)",
    )
    p.add_argument(
        "--smoothing",
        type=finite_float,
        metavar="F",
        help="temporal smoothing of content statistics (0 = off)",
    )
    p.add_argument("--pixel-smoothing", type=finite_float, metavar="F",
                   help="temporal smoothing of output pixels where the input stood still (0 = off)")
    p.add_argument("--crf", type=int, help="encoder quality (lower = better, default 18)")
    p.add_argument("--preset", help="encoder preset (x264: ultrafast .. veryslow)")
    p.add_argument("--codec", help="video encoder (default auto: libx264, libvpx-vp9 for .webm)")
    p.add_argument(
        "--pix-fmt", help="output pixel format (default auto: yuv420p, yuv420p10le for 10-bit input)"
    )
    p.add_argument("--sdr", action="store_true",
                   help="an HDR (PQ/HLG) input gives an SDR BT.709 output, tone-mapped "
                        "(default: HDR, with the input's tags)")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument(
        "--fps",
        type=finite_float,
        metavar="RATE",
        help="frame rate of an image sequence IN (frame_%%04d.png or a folder of frames; default 25)",
    )
    p.add_argument("--strict", action="store_true",
                   help="an input that ends before its stated frame count (truncated, damaged) is an error "
                        "and nothing is written (default: a warning)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write cached style statistics")
    if masks:
        m = p.add_argument_group(
            "masks",
            "mask-guided stylization: label masks painted in flat colours (black, white, red, green, "
            "blue, yellow, grey, light-blue, purple); each content region takes its look from the style "
            "region of the same colour. AdaIN only: --method wct, the live LUT fast path and "
            "'rest-video lut' (.cube) stay global, a LUT has no regions",
        )
        m.add_argument(
            "--content-mask",
            metavar="CMASK",
            help="label mask of IN: an image (for a video: used on every frame), or a mask video with IN's "
            "frame count",
        )
        m.add_argument("--style-mask", metavar="SMASK", help="label mask of STYLE")
        m.add_argument(
            "--mask-feather",
            type=finite_float,
            metavar="PX",
            help="blend region borders over about PX pixels (0 = hard borders; default masks.feather = 8)",
        )
        m.add_argument(
            "--protect",
            metavar="COLOUR",
            help="keep the original look (strength 0) in this mask colour's region, e.g. --protect white",
        )
    add_set_argument(p)
    p.add_argument("-y", "--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also the run's setup: the precision 'auto' chose and why, tiling plans")


def overrides_from_args(args: argparse.Namespace) -> dict:
    """Command-line flags as pipeline overrides (flags win over the YAML file; None: not given)."""
    return {
        "style.strength": args.strength,
        "runtime.device": args.device,
        "runtime.precision": args.precision,
        "model.checkpoint": args.checkpoint,
        "model.method": args.method,
        "runtime.path": args.path,
        "temporal.smoothing": args.smoothing,
        "temporal.pixel_smoothing": args.pixel_smoothing,
        "output.crf": args.crf,
        "output.preset": args.preset,
        "output.codec": args.codec,
        "output.pix_fmt": args.pix_fmt,
        "output.sdr": True if getattr(args, "sdr", False) else None,
        "style.cache": False if args.no_cache else None,
        "masks.feather": getattr(args, "mask_feather", None),
        "masks.protect": getattr(args, "protect", None),
    }


def run(args: argparse.Namespace) -> int:
    verbose_log(args.verbose)
    cfg = load_config(args, overrides_from_args(args))
    if args.protect is not None and args.content_mask is None:
        raise ConfigError("--protect needs --content-mask (the mask that paints the region to keep)")
    check_paths(args.input, args.style, args.output, args.overwrite)  # fail fast, before loading the model
    check_masks(args.content_mask, args.style_mask, cfg)
    if args.fps is not None and not 0 < args.fps <= 1000:
        raise ConfigError(f"--fps must be in (0, 1000], got {args.fps:g}")
    if not is_image_path(args.output) and not is_sequence_pattern(args.output):
        check_encoder(args.output, cfg.output)
    result = stylize_file(args.input, args.style, args.output, cfg, overwrite=args.overwrite,
                          max_frames=args.max_frames, progress=None if not args.quiet else False,
                          strict=args.strict, content_mask=args.content_mask, style_mask=args.style_mask,
                          fps=args.fps)
    if not args.quiet:
        print(f"wrote {args.output}: {result.frames} frame{'s' if result.frames != 1 else ''} "
              f"in {result.seconds:.1f} s ({result.fps:.2f} fps)", file=sys.stderr)
    return 0
