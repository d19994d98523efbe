"""The end of a batch: one :class:`FileResult` per input, a summary table and a JSON report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

from rest_video.core.atomic import atomic_output


class FileStatus(str, Enum):
    """Where an input of the batch stands; the report's and the summary's word for it."""

    PENDING = "pending"  # still to run (never in a finished report)
    DONE = "done"
    SKIPPED = "skipped"  # its output exists and is complete (a rerun without --overwrite)
    FAILED = "failed"
    STOPPED = "stopped"  # interrupted

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


REPORTED = (FileStatus.DONE, FileStatus.SKIPPED, FileStatus.FAILED, FileStatus.STOPPED)


@dataclass
class FileResult:
    input: str
    output: str
    style: str
    status: FileStatus = FileStatus.FAILED
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None
    segments: int = 1

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "status": self.status.value, "fps": round(self.fps, 3),
                "seconds": round(self.seconds, 3)}


def summary_table(results: list[FileResult]) -> str:
    """file, status, frames, seconds, fps, error: one line per file and a total line."""
    rows = [("file", "status", "frames", "seconds", "fps", "error")]
    for r in results:
        rows.append((Path(r.input).name, r.status.value, str(r.frames), f"{r.seconds:.1f}",
                     f"{r.fps:.2f}" if r.status == FileStatus.DONE else "", r.error or ""))
    counts = _counts(results)
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(
            c.ljust(w) if i in (0, 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(row[:5], widths, strict=False))
        )
        + (f"  {row[5]}" if row[5] else "")
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no files")
    return "\n".join(lines)


def write_report(path: str | Path, results: list[FileResult], meta: dict) -> None:
    """The JSON report (written atomically): ``meta`` (backend, workers, wall seconds ...) and the files."""
    data = {**meta, "files": [r.as_dict() for r in results],
            "counts": _counts(results)}
    p = Path(path)
    with atomic_output(p) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _counts(results: list[FileResult]) -> dict[str, int]:
    return {s.value: sum(r.status == s for r in results) for s in REPORTED}
