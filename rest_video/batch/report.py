"""The end of a batch: one :class:`FileResult` per input, a summary table and a JSON report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from rest_video.core.atomic import atomic_output


@dataclass
class FileResult:
    input: str
    output: str
    style: str
    status: Literal["done", "skipped", "failed", "stopped"] = "failed"
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None
    segments: int = 1

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "fps": round(self.fps, 3), "seconds": round(self.seconds, 3)}


def summary_table(results: list[FileResult]) -> str:
    """file, status, frames, seconds, fps, error: one line per file and a total line."""
    rows = [("file", "status", "frames", "seconds", "fps", "error")]
    for r in results:
        rows.append((Path(r.input).name, r.status, str(r.frames), f"{r.seconds:.1f}",
                     f"{r.fps:.2f}" if r.status == "done" else "", r.error or ""))
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed", "stopped")}
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) if i in (0, 1) else c.rjust(w) for i, (c, w) in enumerate(zip(row[:5], widths)))
             + (f"  {row[5]}" if row[5] else "") for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no files")
    return "\n".join(lines)


def write_report(path: str | Path, results: list[FileResult], meta: dict) -> None:
    """The JSON report (written atomically): ``meta`` (backend, workers, wall seconds ...) and the files."""
    data = {**meta, "files": [r.as_dict() for r in results],
            "counts": {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed", "stopped")}}
    p = Path(path)
    with atomic_output(p) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
