"""Running an evaluation: every method on every pair, SSIM / Gram loss / palette distance / seconds
averaged per method (:func:`evaluate_pairs`), and the whole ``rest-video eval`` (:func:`run_eval`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rest_video.core.atomic import check_writable
from rest_video.core.errors import ConfigError, ShapeError
from rest_video.evaluation.methods import Method, StylizeFn, default_methods
from rest_video.evaluation.pairs import Pair, read_pairs
from rest_video.evaluation.report import SECTION, EvalRow, machine_description, render_section, write_section
from rest_video.evaluation.sheet import ContactSheet, sheet_columns
from rest_video.io.image import read_image
from rest_video.metrics import Teacher, gram_loss, gram_matrices, palette_distance, ssim_gray
from rest_video.train.teacher import load_teacher


@dataclass
class _Acc:
    ssim: list[float] = field(default_factory=list)
    gram: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    palette: list[float] = field(default_factory=list)


def _timed(fn: StylizeFn, content: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, float]:
    """Run ``fn`` once; returns its output and the wall time in seconds."""
    t0 = time.perf_counter()
    out = fn(content, style)
    return out, time.perf_counter() - t0


def _check_output(name: str, out: np.ndarray, content: np.ndarray) -> None:
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != content.shape:
        got = (getattr(out, "dtype", type(out).__name__), tuple(getattr(out, "shape", ())))
        raise ShapeError(
            f"method {name!r} returned {got}, expected uint8 {tuple(content.shape)} (the content's size)"
        )


def evaluate_pairs(pairs: Sequence[Pair], methods: Sequence[Method], teacher: Teacher,
                   max_side: int | None = None, warmup: bool = True,
                   progress: Callable[[str], None] | None = None,
                   sheet: "ContactSheet | None" = None) -> list[EvalRow]:
    """Stylize every pair with every method and average SSIM, Gram loss, palette distance and seconds.

    Images are read with :func:`read_image` (``max_side`` shrinks both). With ``warmup`` each
    method runs once, untimed, on the first pair before timing starts. ``progress`` receives one
    line per pair. Rows come back in the order of ``methods``. With ``sheet`` every pair's
    style, content and outputs are added to that contact sheet as one row.
    """
    if not pairs:
        raise ConfigError("no pairs to evaluate")
    if not methods:
        raise ConfigError("no methods to evaluate")
    teacher = teacher.eval()
    acc = {m.name: _Acc() for m in methods}
    for i, pair in enumerate(pairs):
        t0 = time.perf_counter()
        content = read_image(pair.content, max_side)
        style = read_image(pair.style, max_side)
        style_grams = gram_matrices(teacher, style)
        if warmup and i == 0:
            for m in methods:
                m.fn(content, style)
        outputs = {}
        for m in methods:
            out, dt = _timed(m.fn, content, style)
            _check_output(m.name, out, content)
            outputs[m.name] = out
            a = acc[m.name]
            a.seconds.append(dt)
            a.ssim.append(ssim_gray(out, content))
            a.gram.append(gram_loss(gram_matrices(teacher, out), style_grams))
            a.palette.append(palette_distance(out, style))
        if sheet is not None:
            sheet.add_row(style, content, outputs)
        if progress:
            progress(f"pair {i + 1}/{len(pairs)}: {pair.content.name} + {pair.style.name} "
                     f"({time.perf_counter() - t0:.1f} s)")
    return [EvalRow(m.name, m.weights, float(np.mean(acc[m.name].ssim)), float(np.mean(acc[m.name].gram)),
                    float(np.mean(acc[m.name].seconds)), len(pairs), float(np.mean(acc[m.name].palette)))
            for m in methods]


def run_eval(pairs_file: str | Path, *, checkpoint: str | Path | None = None,
             ablations: Sequence[tuple[str, str | Path]] = (), max_side: int | None = None,
             limit: int | None = None, out: str | Path | None = "EVAL.md",
             teacher_kind: str = "vgg16-lpips", teacher_path: str | Path | None = None,
             optimized: bool = True, command: str = "", section: str = SECTION,
             progress: Callable[[str], None] | None = None, sheet: str | Path | None = None) -> list[EvalRow]:
    """Everything ``rest-video eval`` does: read pairs, load weights and teacher, evaluate, write.

    Inputs are checked (pairs, every weights file, the teacher) before any image is stylized.
    With ``out`` set, the section ``section`` of that Markdown file is replaced by
    :func:`render_section` (``command`` is shown verbatim). With ``sheet`` a contact sheet
    (one row per pair: style, content, then every method but ``rest-untrained`` and ``histmatch``)
    is written there as an image. Returns the rows.
    """
    if max_side is not None and max_side < 16:
        raise ConfigError(f"--max-side must be >= 16, got {max_side}")
    pairs = read_pairs(pairs_file, limit)
    if out is not None:
        check_writable(out, overwrite=True)
    if sheet is not None:
        check_writable(sheet, overwrite=True)
    machine = machine_description()  # load average before our own work starts
    methods = default_methods(checkpoint, ablations, optimized)
    teacher = load_teacher(teacher_kind, teacher_path)
    t0 = time.perf_counter()
    contact = ContactSheet(sheet_columns([m.name for m in methods])) if sheet is not None else None
    rows = evaluate_pairs(pairs, methods, teacher, max_side=max_side, progress=progress, sheet=contact)
    wall = time.perf_counter() - t0
    if contact is not None:
        contact.save(sheet)
    if out is not None:
        tdesc = f"{teacher_kind} ({teacher_path})" if teacher_path else teacher_kind
        body = render_section(rows, command, pairs_file, tdesc, max_side, machine, wall_seconds=wall)
        write_section(out, body, section)
    return rows
