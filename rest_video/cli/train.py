"""``rest-video train --config pipelines/train.yaml [--resume]``."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, metavar="FILE", help="training YAML (see pipelines/train.yaml)")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/last.pt if it exists")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set steps=5000 --set data.crop=128")
    p.add_argument("--no-progress", action="store_true", help="plain log lines instead of a progress bar")
    p.add_argument("--export", metavar="OUT.safetensors",
                   help="do not train: write the weights of OUT_DIR/last.pt (as far as it got) to this file")


def run(args: argparse.Namespace) -> int:
    from rest_video.train import export, train

    if args.export:
        out = export(args.config, args.set, args.export)
        print(f"weights written to {out}", file=sys.stderr)
        return 0
    final = train(args.config, args.set, resume=args.resume, progress=False if args.no_progress else None)
    print(f"weights written to {final}", file=sys.stderr)
    return 0
