"""``rest-video eval --pairs PAIRS.tsv``: SSIM, Gram loss, palette distance, CPU s / image
(rest_video.evaluation).

Prints a Markdown table and writes it, with the command, date and machine, into the
``<!-- eval:dev-pairs:start/end -->`` section of ``--out`` (default EVAL.md).
"""

from __future__ import annotations

import argparse
import shlex
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pairs", required=True, metavar="TSV",
                   help="content<TAB>style file with that header; paths relative to its folder")
    p.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="REST weights for the 'rest' row (.safetensors or training .pt; default: shipped weights)",
    )
    p.add_argument("--ablation", action="append", default=[], metavar="NAME=PATH",
                   help="one more row from a checkpoint, e.g. no-distill=runs/ablation-nodistill/last.pt")
    p.add_argument("--max-side", type=int, metavar="N", help="shrink content and style to long side <= N")
    p.add_argument("--limit", type=int, metavar="N", help="use the first N pairs only")
    p.add_argument("--out", default="EVAL.md", metavar="FILE",
                   help="Markdown file whose eval:dev-pairs section is replaced (default EVAL.md)")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    p.add_argument(
        "--sheet",
        metavar="FILE.png",
        help="also write a contact sheet: one row per pair (style | content | reinhard | rgb-adain | "
        "rest | ablations)",
    )
    p.add_argument("--teacher-kind", default="vgg16-lpips", choices=["vgg16-lpips", "vgg19"],
                   help="VGG for the Gram loss (default vgg16-lpips, see `rest-video fetch-teacher`)")
    p.add_argument("--teacher-path", metavar="FILE", help="teacher weights (required for vgg19)")
    p.add_argument("--threads", type=int, metavar="N", help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-optimized", action="store_true",
                   help="time the plain REST module instead of the folded inference form")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-pair progress lines")


def command_line(args: argparse.Namespace) -> str:
    """The command, every given option spelled out, as one shell-quoted line."""
    parts = ["rest-video", "eval", "--pairs", args.pairs]
    if args.checkpoint:
        parts += ["--checkpoint", args.checkpoint]
    for a in args.ablation:
        parts += ["--ablation", a]
    for flag, value in (("--max-side", args.max_side), ("--limit", args.limit), ("--threads", args.threads)):
        if value is not None:
            parts += [flag, str(value)]
    if args.teacher_kind != "vgg16-lpips":
        parts += ["--teacher-kind", args.teacher_kind]
    if args.teacher_path:
        parts += ["--teacher-path", args.teacher_path]
    if args.no_optimized:
        parts.append("--no-optimized")
    if args.sheet:
        parts += ["--sheet", args.sheet]
    parts += ["--out", args.out]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    import torch

    from rest_video import evaluation as evaluate
    from rest_video.core.config import MAX_THREADS
    from rest_video.core.errors import ConfigError

    if args.threads is not None:
        if not 1 <= args.threads <= MAX_THREADS:
            raise ConfigError(f"--threads must be in 1..{MAX_THREADS}, got {args.threads}")
        torch.set_num_threads(args.threads)
    ablations = [evaluate.parse_ablation(a) for a in args.ablation]
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    rows = evaluate.run_eval(
        args.pairs, checkpoint=args.checkpoint, ablations=ablations, max_side=args.max_side,
        limit=args.limit, out=None if args.no_write else args.out, teacher_kind=args.teacher_kind,
        teacher_path=args.teacher_path, optimized=not args.no_optimized, command=command_line(args),
        progress=progress, sheet=args.sheet)
    print(evaluate.format_markdown(rows))
    if not args.no_write and not args.quiet:
        print(f"wrote section eval:{evaluate.SECTION} of {args.out}", file=sys.stderr)
    if args.sheet and not args.quiet:
        print(f"wrote contact sheet {args.sheet}", file=sys.stderr)
    return 0
