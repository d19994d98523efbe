"""``rest-video batch INPUTS... --style STYLE --out-dir DIR``: many files, local worker processes or Ray."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from rest_video.cli.common import finite_float, load_config
from rest_video.cli.stylize import add_file_options, overrides_from_args
from rest_video.core.errors import ConfigError, MediaError
from rest_video.core.log import verbose_log

EPILOG = """\
examples:
  rest-video batch clips/ --style look.jpg --out-dir graded/             one worker per core
  rest-video batch 'shoot/**/*.mov' --style look.jpg --out-dir out --resume
  rest-video batch --manifest jobs.csv --out-dir out                     per-file style/output/strength
  rest-video batch long.mp4 --style look.jpg --out-dir out --segment-seconds 30
  rest-video batch clips/ --style look.jpg --out-dir out --ray           a local Ray instance
  rest-video batch clips/ --style look.jpg --out-dir out --ray auto      the Ray cluster of `ray start`

exit status: 0 every file done (or skipped), 1 any file failed, 2 bad usage, 130 interrupted.
"""

_ADDRESS = re.compile(r"^(auto|local|ray://\S+|[\w.-]+:\d+)$")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="video or image files, folders (searched for videos and images), glob patterns",
    )
    p.add_argument(
        "--style", metavar="STYLE", help="reference photo for every file (a manifest row may name its own)"
    )
    p.add_argument("--out-dir", metavar="DIR", help="folder for the outputs (created if missing)")
    p.add_argument(
        "--manifest", metavar="FILE.csv", help="CSV with columns input, style, output and optionally strength"
    )
    p.add_argument("--name", default="{stem}-{style}.{ext}", metavar="PATTERN",
                   help="output file name: {stem} {style} {ext} {name} {parent} (default: %(default)s; "
                        "{ext} keeps the input's container where it can, else mp4)")
    add_file_options(p, masks=False)  # the main job's: --pipeline, --strength, --set, -y, -q ...
    p.add_argument(
        "--resume",
        action="store_true",
        help="skip outputs that exist and are complete (frame count checked); redo the others",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes (default: one per core); with --ray and no address, the CPUs of the local "
        "Ray instance",
    )
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch threads per worker (default: cores // workers; Ray: 1 CPU per task)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray: no ADDRESS starts a local instance; 'auto' or ray://host:port joins a cluster "
        "(pip install -e '.[ray]')",
    )
    p.add_argument(
        "--segment-seconds",
        type=finite_float,
        metavar="S",
        help="split each video at keyframes about every S seconds; the pieces run on separate workers and "
        "are joined without re-encoding",
    )
    p.add_argument(
        "--warmup",
        type=finite_float,
        default=2.0,
        metavar="S",
        help="seconds of frames before each segment that warm up the temporal filters (default %(default)s)",
    )
    p.add_argument("--report", metavar="FILE.json", help="write a JSON report of every file")


def run(args: argparse.Namespace) -> int:
    from rest_video.batch.inputs import check_jobs, jobs_from_inputs, jobs_from_manifest
    from rest_video.batch.report import summary_table, write_report
    from rest_video.batch.runner import BatchOptions, run_batch

    verbose_log(args.verbose)
    inputs = list(args.inputs)
    if args.ray is not None and not _ADDRESS.match(args.ray):
        if Path(args.ray).exists() or any(c in args.ray for c in "*?["):
            inputs.insert(0, args.ray)  # `--ray clips/`: argparse took an input for the address
            args.ray = "local"
        else:
            raise ConfigError(
                f"--ray {args.ray!r}: expected no address, 'auto', ray://host:port or host:port"
            )
    if args.ray is not None:
        from rest_video.batch.ray_pool import import_ray

        import_ray()  # one line on how to install it, before any work
    for name in ("workers", "threads"):
        v = getattr(args, name)
        if v is not None and not 1 <= v <= 1024:
            raise ConfigError(f"--{name} must be in 1..1024, got {v}")
    if args.segment_seconds is not None and args.segment_seconds <= 0:
        raise ConfigError(f"--segment-seconds must be > 0, got {args.segment_seconds}")
    if args.warmup < 0:
        raise ConfigError(f"--warmup must be >= 0, got {args.warmup}")
    if not inputs and not args.manifest:
        raise ConfigError("give input files, folders or patterns, or --manifest FILE.csv")
    if inputs and args.manifest:
        raise ConfigError("give either inputs or --manifest, not both")
    style = Path(args.style) if args.style else None
    if style is not None and not style.is_file():
        raise MediaError(f"style image not found: {style}")
    if not args.manifest and style is None:
        raise ConfigError("--style is required (or a --manifest with a style column)")
    if not args.manifest and not args.out_dir:
        raise ConfigError("--out-dir is required")
    out_dir = Path(args.out_dir) if args.out_dir else None
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise MediaError(f"--out-dir is a file: {out_dir}")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise MediaError(f"cannot create --out-dir {out_dir}: {e.strerror}") from None
    if args.report:
        from rest_video.core.atomic import check_writable

        check_writable(args.report, overwrite=True)

    if args.max_frames is not None and args.max_frames < 1:
        raise ConfigError("--max-frames must be >= 1")
    if args.max_frames is not None and args.segment_seconds is not None:
        raise ConfigError("--max-frames and --segment-seconds do not go together")
    cfg = load_config(args, overrides_from_args(args))
    if args.manifest:
        jobs = jobs_from_manifest(Path(args.manifest), style, out_dir, args.name, None, cfg.output)
    else:
        jobs = jobs_from_inputs(inputs, style, out_dir, args.name, None, cfg.output)
    check_jobs(jobs)
    opts = BatchOptions(workers=args.workers, threads=args.threads, ray=args.ray,
                        segment_seconds=args.segment_seconds, warmup=args.warmup, overwrite=args.overwrite,
                        resume=args.resume, progress=False if args.quiet else None,
                        max_frames=args.max_frames, strict=args.strict)
    results, meta = run_batch(jobs, cfg, opts)
    if not args.quiet:
        print(summary_table(results), file=sys.stderr)
        print(
            f"{meta['seconds']:.1f} s on {meta.get('workers', 0)} {meta['backend']} worker(s)",
            file=sys.stderr,
        )
    if args.report:
        write_report(args.report, results, meta)
    return 1 if any(r.status == "failed" for r in results) else 0
