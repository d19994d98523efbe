"""The report of ``rest-video bench``: per-size and end-to-end results, as text and as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rest_video.core.atomic import atomic_output, check_writable
from rest_video.evaluation.speed_precision import format_precisions

STAGES = ("decode", "upload", "infer", "download", "encode")


@dataclass
class SizeResult:
    width: int
    height: int
    frames: int
    eager_ms: float | None
    optimized_ms: float
    speedup: float | None
    max_u8_diff: int | None
    stages_ms: dict[str, float] = field(default_factory=dict)
    eager_min_ms: float | None = None
    optimized_min_ms: float | None = None


@dataclass
class VideoResult:
    path: str
    width: int
    height: int
    frames: int
    seconds: float
    fps: float
    stages_ms: dict[str, float]
    slowest_stage: str
    slowest_stage_fps: float
    overlap_efficiency: float
    stylize_thread_ms: float       # upload + infer + download: one thread in the pipeline
    thread_bound_fps: float        # fps of the slowest pipeline thread (decode | stylize | encode)


# ------------------------------------------------------------------------------ report
def _f(v: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def format_size(r: SizeResult) -> str:
    s = r.stages_ms
    return (f"{r.width}x{r.height}: eager {_f(r.eager_ms)} ms, optimized {_f(r.optimized_ms)} ms, "
            f"speedup {_f(r.speedup, '{:.2f}')}x, max |diff| {_f(r.max_u8_diff, '{}')} (uint8); "
            + ", ".join(f"{k} {s[k]:.1f}" for k in STAGES) + " ms")


def format_report(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"device: {m['device']}"
        + (f" ({m['gpu']})" if "gpu" in m else "")
        + f" | CPU: {m['cpu']}, {m['cpu_count']} cores, {m['cpu_capability']}, torch {m['torch']}, "
        f"{m['threads']} threads",
        f"weights: {report['weights']} | compute dtype: {report['dtype']} | {report['inference']}",
    ]
    cf = report.get("cpu_features")
    if cf:
        lines.append(f"CPU matrix units: {cf['matrix_units']}")
    auto = report.get("precision_auto")
    if auto:
        lines.append(f"precision auto: {auto['precision']} ({auto['reason']}; {auto['source']})")
    if report.get("note"):
        lines.append(f"NOTE: {report['note']}")
    lines.append(f"ms/frame, median of {report['frames_per_size']} frames; stages measured alone")
    hdr = f"{'size':>10} {'eager':>9} {'optimized':>9} {'speedup':>7} {'|du8|':>5}  " + " ".join(
        f"{k:>8}" for k in STAGES
    )
    lines.append(hdr)
    for r in report["sizes"]:
        s = r["stages_ms"]
        lines.append(
            f"{r['width']}x{r['height']:<5}".rjust(10) + f" {_f(r['eager_ms']):>9} {_f(r['optimized_ms']):>9}"
            f" {_f(r['speedup'], '{:.2f}x'):>7} {_f(r['max_u8_diff'], '{}'):>5}  "
            + " ".join(f"{s[k]:8.1f}" for k in STAGES)
        )
    lines.extend(format_precisions(report.get("precisions") or []))
    runs = [(report.get("end_to_end"), report.get("precision")), (report.get("end_to_end_fp32"), "fp32")]
    for e, precision in runs:
        if not e:
            continue
        s = e["stages_ms"]
        lines.append(
            f"end to end ({Path(e['path']).name}, {e['width']}x{e['height']}, {e['frames']} frames, "
            "stylize_file, "
            f"{precision}): {e['fps']:.2f} fps ({1e3 / e['fps'] if e['fps'] else 0:.0f} ms/frame)"
        )
        lines.append("  stages alone (ms/frame): " + ", ".join(f"{k} {s[k]:.1f}" for k in STAGES))
        lines.append(
            f"  slowest stage: {e['slowest_stage']} ({e['slowest_stage_fps']:.2f} fps) -> overlap efficiency "
            f"{e['overlap_efficiency']:.2f}; slowest pipeline thread (upload+infer+download = "
            f"{e['stylize_thread_ms']:.1f} ms) bound {e['thread_bound_fps']:.2f} fps"
        )
    if runs[0][0] and runs[1][0] and runs[1][0]["fps"]:
        lines.append(
            f"end to end, {report.get('precision')} over fp32: {runs[0][0]['fps'] / runs[1][0]['fps']:.2f}x"
        )
    if not runs[0][0] and report.get("video") is None:
        lines.append("end to end: skipped (no video; pass --video PATH)")
    return "\n".join(lines)


def write_json(report: dict, path: str | Path) -> None:
    """The report as indented JSON, written atomically."""
    p = Path(path)
    check_writable(p, overwrite=True)
    with atomic_output(p) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
