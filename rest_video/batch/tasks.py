"""The unit of work a batch worker runs (:class:`Task`) and how a worker runs it (:func:`execute`).

The same :func:`execute` runs in a local worker process and in a Ray task. A whole file goes through
:func:`~rest_video.pipeline.file.stylize_file`, the main command's pipeline; a segment of a long video
through :func:`~rest_video.pipeline.segment.stylize_segment`; the join of a video's segments through
:func:`~rest_video.pipeline.segment.join_segments`. A worker keeps one :class:`Stylizer` for all its
tasks. A user-visible failure (not a video, corrupt, unwritable) comes back as a failed
:class:`TaskResult` with its one-line message; it is never retried.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable

import numpy as np

from rest_video.core.config import PipelineConfig
from rest_video.core.errors import RestVideoError
from rest_video.pipeline.segment import Segment


class TaskKind(str, Enum):
    FILE = "file"        # a whole file through stylize_file
    SEGMENT = "segment"  # one piece of a long video, through stylize_segment
    JOIN = "join"        # a video's pieces joined without re-encoding

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Task:
    id: int
    kind: TaskKind
    job: int                   # index of the file in the batch
    input: str
    output: str                # the output file; a segment's part file
    style: str                 # key of the style statistics
    strength: float | None = None
    overwrite: bool = False
    max_frames: int | None = None
    strict: bool = False
    segment: Segment | None = None
    parts: tuple[str, ...] = ()  # join: the part files, in order
    parts_dir: str | None = None  # join: removed after the join


@dataclass
class TaskResult:
    id: int
    ok: bool
    frames: int = 0
    started: float = 0.0       # wall clock (time.time) on the worker
    finished: float = 0.0
    error: str | None = None
    worker: str = ""


def stats_to_arrays(stats) -> dict[str, np.ndarray]:
    """Style statistics as plain arrays: pickled to worker processes and put in Ray's object store."""
    return {k: v.numpy() for k, v in stats.state_dict().items()}


def stats_from_arrays(arrays: dict[str, np.ndarray], device):
    import torch

    from rest_video.style import StyleStats

    return StyleStats.from_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}).to(
        device
    )


@dataclass
class WorkerState:
    """What a worker keeps between tasks: the config, one Stylizer (made on first use), styles on its
    device."""

    cfg: PipelineConfig
    stylizer: object = None
    styles: dict = field(default_factory=dict)

    def get_stylizer(self):
        if self.stylizer is None:
            from rest_video.engine.stylizer import Stylizer

            self.stylizer = Stylizer(self.cfg)
        return self.stylizer

    def style(self, key: str, arrays: dict[str, np.ndarray] | None = None):
        if key not in self.styles:
            if arrays is None:
                raise KeyError(key)
            self.styles[key] = stats_from_arrays(arrays, self.get_stylizer().device)
        return self.styles[key]


class Throttle:
    """Frame counts to ``send(task_id, n)`` at most every ``every`` seconds (and at :meth:`flush`)."""

    def __init__(self, task_id: int, send: Callable[[int, int], None] | None, every: float = 0.25) -> None:
        self.task_id, self.send, self.every = task_id, send, every
        self.pending, self.last = 0, time.monotonic()

    def __call__(self, n: int) -> None:
        self.pending += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.flush()
            self.last = now

    def flush(self) -> None:
        if self.pending and self.send is not None:
            self.send(self.task_id, self.pending)
        self.pending = 0


def execute(task: Task, state: WorkerState, send_frames: Callable[[int, int], None] | None = None,
            style_arrays: dict[str, np.ndarray] | None = None, worker: str = "") -> TaskResult:
    """Run one task; user-visible failures are a failed result, anything else raises only when it is
    not an ``Exception`` (an interrupt)."""
    started = time.time()
    progress = Throttle(task.id, send_frames)
    try:
        frames = _run(task, state, progress, style_arrays)
        ok, error = True, None
    except RestVideoError as e:
        frames, ok, error = 0, False, str(e)
    except Exception as e:  # noqa: BLE001 - reported for this file; the rest of the batch goes on
        frames, ok, error = 0, False, f"{type(e).__name__}: {e}"
    finally:
        progress.flush()
    return TaskResult(task.id, ok, frames, started, time.time(), error, worker)


def _run(task: Task, state: WorkerState, progress: Throttle, style_arrays) -> int:
    if task.kind == TaskKind.JOIN:
        from rest_video.pipeline.segment import join_segments

        n = join_segments(task.input, list(task.parts), task.output, state.cfg, overwrite=task.overwrite)
        if task.parts_dir:
            shutil.rmtree(task.parts_dir, ignore_errors=True)
        return n
    stylizer = state.get_stylizer()
    style = state.style(task.style, style_arrays)
    if task.kind == TaskKind.SEGMENT:
        from rest_video.pipeline.segment import stylize_segment

        Path(task.output).parent.mkdir(parents=True, exist_ok=True)
        res = stylize_segment(task.input, style, task.output, state.cfg, task.segment, stylizer=stylizer,
                              strength=task.strength, on_frame=progress)
        return res.frames
    from rest_video.pipeline.file import stylize_file

    res = stylize_file(
        task.input,
        style,
        task.output,
        state.cfg,
        overwrite=task.overwrite,
        progress=False,
        stylizer=stylizer,
        strength=task.strength,
        on_frame=progress,
        max_frames=task.max_frames,
        strict=task.strict,
    )
    return res.frames
