"""What every command shares: flags and ``--set`` overrides -> one frozen config, runtime applied
once; the library's log records shown as ``rest-video: ...`` lines on stderr."""

from __future__ import annotations

import argparse
import math
from typing import Any

from rest_video.core.config import PipelineConfig, load_pipeline, parse_override


def finite_float(text: str) -> float:
    """argparse type of every number flag: a finite float (``nan`` and ``inf`` are not numbers a
    user means: ``--fps nan`` would drop almost every frame)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def add_pipeline_argument(p: argparse.ArgumentParser, note: str = "") -> None:
    """The ``--pipeline`` option, naming the shipped pipelines a user can pick (``train`` is the
    training command's and is left out)."""
    from rest_video.resources import pipeline_names

    names = ", ".join(n for n in pipeline_names() if n != "train")
    p.add_argument(
        "--pipeline", metavar="FILE", help=f"pipeline YAML, or a shipped one by name ({names}){note}"
    )


def add_set_argument(p: argparse.ArgumentParser, example: str = "output.audio=reencode") -> None:
    """The ``--set KEY=VALUE`` option (repeatable) of every command that reads a pipeline."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help=f"override any pipeline key, e.g. --set {example}")


def load_config(args: argparse.Namespace, flags: dict[str, Any]) -> PipelineConfig:
    """The pipeline of ``args.pipeline`` (a file or a shipped name; None: built-in defaults) with
    ``--set`` overrides, then the given flags (a flag left at None does not override) on top, and
    the process-wide runtime settings applied (:func:`~rest_video.core.devices.apply_runtime`)."""
    sets = dict(parse_override(o) for o in (getattr(args, "set", None) or []))
    cfg = load_pipeline(getattr(args, "pipeline", None),
                        {**sets, **{k: v for k, v in flags.items() if v is not None}})
    from rest_video.core.devices import apply_runtime  # torch: imported once the signal handlers are in place

    apply_runtime(cfg.runtime)
    return cfg


MASK_FLAGS = ("--content-mask", "--style-mask", "--protect", "--mask-feather")


def add_mask_refusal(p: argparse.ArgumentParser) -> None:
    """The mask flags of ``rest-video IN STYLE OUT``, accepted (hidden) by commands that cannot use
    them, so that :func:`refuse_masks` can say why in one line instead of "unrecognized arguments"."""
    for flag in MASK_FLAGS:
        p.add_argument(
            flag, dest=f"refused_{flag[2:].replace('-', '_')}", metavar="X", help=argparse.SUPPRESS
        )


def refuse_masks(args: argparse.Namespace, what: str) -> None:
    """A :class:`ConfigError` naming the first mask flag given to ``what`` (a command with no regions)."""
    from rest_video.core.errors import ConfigError

    for flag in MASK_FLAGS:
        if getattr(args, f"refused_{flag[2:].replace('-', '_')}", None) is not None:
            raise ConfigError(f"{flag}: {what} has no regions (masks need the full network in "
                              "'rest-video IN STYLE OUT --content-mask ...')")
