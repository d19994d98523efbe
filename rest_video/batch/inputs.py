"""What a batch works on: inputs found from files, folders and globs, or a manifest, each with its
style, strength and output (:class:`Job`); and whether an output is already complete (``--resume``)."""

from __future__ import annotations

import csv
import glob
import os
from dataclasses import dataclass
from pathlib import Path

from rest_video.core.config import OutputCfg, check_strength
from rest_video.core.errors import ConfigError, MediaError
from rest_video.io.containers import MUXERS, video_codec
from rest_video.io.image import IMAGE_EXTS, is_image_path, read_image

VIDEO_EXTS = frozenset(MUXERS) | {".mpg", ".mpeg", ".wmv", ".3gp", ".ogv", ".vob", ".mxf", ".y4m"}
"""Extensions a folder is searched for as videos (an explicit file is tried whatever its name)."""

DEFAULT_NAME = "{stem}-{style}.{ext}"


@dataclass(frozen=True)
class Job:
    """One input file to stylize with one style into one output."""

    input: Path
    style: Path
    output: Path
    strength: float | None = None


def find_inputs(items: list[str]) -> list[Path]:
    """Files as given, folders searched (recursively, sorted) for videos and images, glob patterns
    expanded; each file once, in order. :class:`MediaError` for an item that matches nothing."""
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)

    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")
                           and f.suffix.lower() in VIDEO_EXTS | IMAGE_EXTS)
            if not found:
                raise MediaError(f"no videos or images in folder {p}")
            for f in found:
                add(f)
        elif p.is_file():
            add(p)
        elif glob.has_magic(item):
            found = sorted(Path(f) for f in glob.glob(item, recursive=True) if Path(f).is_file())
            if not found:
                raise MediaError(f"no files match {item}")
            for f in found:
                add(f)
        else:
            raise MediaError(f"input not found: {p}")
    return out


def output_name(src: Path, style: Path, pattern: str = DEFAULT_NAME, output: OutputCfg | None = None) -> str:
    """The output file name of ``src`` under ``pattern`` (``{stem}``, ``{style}``, ``{ext}``,
    ``{name}``, ``{parent}``). ``{ext}`` is the input's own extension when rest-video can write that
    container (images: that image format), else ``mp4`` (images: ``png``)."""
    ext = default_ext(src, output or OutputCfg())
    try:
        name = pattern.format(stem=src.stem, style=style.stem, ext=ext, name=src.name, parent=src.parent.name)
    except (KeyError, IndexError, ValueError) as e:
        raise ConfigError(f"--name {pattern!r}: unknown or malformed field {e} "
                          f"(use {{stem}}, {{style}}, {{ext}}, {{name}}, {{parent}})") from None
    if not name or "/" in name or os.sep in name or name in (".", ".."):
        raise ConfigError(f"--name {pattern!r} gives {name!r} for {src}, not a file name")
    return name


def default_ext(src: Path, output: OutputCfg) -> str:
    ext = src.suffix.lower()
    if is_image_path(src):
        return ext.lstrip(".") if ext else "png"
    if ext in MUXERS:
        try:
            video_codec(Path("x" + ext), output)
            return ext.lstrip(".")
        except MediaError:
            pass
    return "mp4"


def jobs_from_inputs(items: list[str], style: Path, out_dir: Path, pattern: str = DEFAULT_NAME,
                     strength: float | None = None, output: OutputCfg | None = None) -> list[Job]:
    return [
        Job(p, style, out_dir / output_name(p, style, pattern, output), strength) for p in find_inputs(items)
    ]


def jobs_from_manifest(path: Path, style: Path | None, out_dir: Path | None, pattern: str = DEFAULT_NAME,
                       strength: float | None = None, output: OutputCfg | None = None) -> list[Job]:
    """Rows of a CSV with the columns ``input, style, output`` and optionally ``strength``. Relative
    inputs and styles are relative to the manifest's folder; relative outputs to ``out_dir`` (else the
    manifest's folder). An empty style, output or strength takes ``style``, ``pattern``, ``strength``."""
    if not path.is_file():
        raise MediaError(f"manifest not found: {path}")
    base = path.parent
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            fields = [c.strip() for c in (reader.fieldnames or [])]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise MediaError(f"cannot read manifest {path}: {e}") from None
    unknown = set(fields) - {"input", "style", "output", "strength"}
    if "input" not in fields or unknown:
        raise ConfigError(
            f"manifest {path}: the header must name the columns input, style, output "
            f"(and optionally strength){'; unknown: ' + ', '.join(sorted(unknown)) if unknown else ''}"
        )
    jobs = []
    for line, row in enumerate(rows, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not row.get("input"):
            raise ConfigError(f"manifest {path}, line {line}: no input")
        src = _rel(row["input"], base)
        if not src.is_file():
            raise MediaError(f"manifest {path}, line {line}: input not found: {src}")
        st = _rel(row["style"], base) if row.get("style") else style
        if st is None:
            raise ConfigError(f"manifest {path}, line {line}: no style (give one in the row or --style)")
        k = strength
        if row.get("strength"):
            try:
                k = check_strength(float(row["strength"]), f"manifest {path}, line {line}: strength")
            except ValueError:
                raise ConfigError(f"manifest {path}, line {line}: strength must be a number in [0, 1], "
                                  f"got {row['strength']!r}") from None
        if row.get("output"):
            out = _rel(row["output"], out_dir if out_dir is not None else base)
        else:
            out = (out_dir if out_dir is not None else base) / output_name(src, st, pattern, output)
        jobs.append(Job(src, st, out, k))
    if not jobs:
        raise ConfigError(f"manifest {path} has no rows")
    return jobs


def check_jobs(jobs: list[Job]) -> None:
    """Two jobs must not write one output, and no output may be an input or a style."""
    outs: dict[Path, Job] = {}
    ins = {j.input.resolve() for j in jobs} | {j.style.resolve() for j in jobs}
    for j in jobs:
        key = j.output.resolve()
        if key in outs:
            raise ConfigError(f"{outs[key].input} and {j.input} would both write {j.output} "
                              f"(use --name with {{parent}}, or a manifest)")
        if key in ins:
            raise MediaError(f"output {j.output} is an input or a style; refusing to overwrite an input")
        outs[key] = j


def is_complete(output: Path, frames: int) -> bool:
    """True when ``output`` exists and holds ``frames`` video frames (an image: when it is readable)."""
    if not output.is_file():
        return False
    if is_image_path(output):
        try:
            read_image(output)
            return True
        except MediaError:
            return False
    try:
        return count_frames(output) == frames
    except MediaError:
        return False


def count_frames(path: Path) -> int:
    """Frames of a video (its video packets, counted without decoding); 1 for an image."""
    if is_image_path(path):
        return 1
    from rest_video.pipeline.segment import scan_keyframes

    return scan_keyframes(path)[1]


def _rel(text: str, base: Path) -> Path:
    p = Path(text).expanduser()
    return p if p.is_absolute() else base / p
