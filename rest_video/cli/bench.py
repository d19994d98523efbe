"""``rest-video bench``: inference and pipeline speed (see :mod:`rest_video.evaluation.speed`)."""

from __future__ import annotations

import argparse
import sys

from rest_video.evaluation.speed import parse_sizes, run_bench
from rest_video.evaluation.speed_report import format_report, write_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = (
        "Reports per size the eager fp32 reference and the optimized network (ms/frame, speedup, max\n"
        "uint8 difference), each pipeline stage alone, per precision ms/frame and the share of the\n"
        "machine's matrix throughput (a GEMM in that precision, same run) REST reaches, with PSNR and\n"
        "largest difference against fp32, the precision 'auto' picks, and the end-to-end file rate of\n"
        "stylize_file on a video with its overlap efficiency (end-to-end fps / fps of the slowest stage)."
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--sizes", default="640x360,1280x720,1920x1080,3840x2160", metavar="WxH,...",
                   help="frame sizes (default: %(default)s)")
    p.add_argument(
        "--frames", type=int, metavar="N", help="timed frames per size (default 3 on CPU, 30 on CUDA)"
    )
    p.add_argument("--json", metavar="FILE", help="also write the full report as JSON")
    p.add_argument(
        "--video",
        metavar="PATH",
        help="video for content frames and the end-to-end run (default: synthetic frames, no end-to-end run)",
    )
    p.add_argument("--video-frames", type=int, metavar="N",
                   help="frames of the end-to-end run (default 20 on CPU, 300 on CUDA)")
    p.add_argument("--no-video", action="store_true", help="skip the end-to-end run")
    p.add_argument("--style", metavar="IMAGE", help="style image (default: the shipped evening-glow.jpg)")
    p.add_argument(
        "--checkpoint", metavar="FILE", help="weights instead of the shipped ones (e.g. runs/rest/last.pt)"
    )
    p.add_argument(
        "--threads", type=int, default=0, metavar="N", help="torch CPU threads (0 = torch's default)"
    )
    p.add_argument("--no-reference", action="store_true", help="do not time the eager fp32 reference")
    p.add_argument(
        "--precisions",
        default="auto",
        metavar="LIST",
        help="the per-precision table: auto (this CPU's candidates: fp32, bf16 where the CPU has "
        "AMX / AVX512-bf16, int8 where it has VNNI / AMX-int8), a comma list of "
        "fp32,fp16,bf16,int8 (bf16 without those units is very slow), or none (default: %(default)s)",
    )
    p.add_argument("--variants", action="store_true",
                   help="moved to the lab: python tools/bench_variants.py (in a source checkout)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    from rest_video.core.config import MAX_THREADS
    from rest_video.core.errors import ConfigError

    sizes = parse_sizes(args.sizes)
    if args.frames is not None and args.frames < 1:
        raise ConfigError("--frames must be >= 1")
    if args.video_frames is not None and args.video_frames < 1:
        raise ConfigError("--video-frames must be >= 1")
    if not 0 <= args.threads <= MAX_THREADS:
        raise ConfigError(f"--threads must be in 0..{MAX_THREADS}, got {args.threads}")
    if args.variants:
        raise ConfigError(
            "--variants moved to the lab script: python tools/bench_variants.py "
            "(same --sizes / --frames / --video / --style / --checkpoint / --threads / --bf16 / --json)"
        )
    log = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    report = run_bench(
        device=args.device,
        sizes=sizes,
        frames=args.frames,
        video=args.video,
        style=args.style,
        checkpoint=args.checkpoint,
        threads=args.threads,
        video_frames=args.video_frames,
        reference=not args.no_reference,
        use_video=not args.no_video,
        log=log,
        precisions=None if args.precisions == "none" else args.precisions,
    )
    report["command"] = _command(args)
    print(format_report(report))
    if args.json:
        write_json(report, args.json)
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run."""
    parts = ["rest-video bench", f"--device {args.device}", f"--sizes {args.sizes}"]
    for flag, value in (
        ("--frames", args.frames),
        ("--video", args.video),
        ("--video-frames", args.video_frames),
        ("--style", args.style),
        ("--checkpoint", args.checkpoint),
        ("--threads", args.threads or None),
        ("--precisions", None if args.precisions == "auto" else args.precisions),
    ):
        if value is not None:
            parts.append(f"{flag} {value}")
    for flag, on in (("--no-video", args.no_video), ("--no-reference", args.no_reference),
                     ):
        if on:
            parts.append(flag)
    return " ".join(parts)
