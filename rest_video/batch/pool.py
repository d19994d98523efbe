"""What a batch backend is (:class:`Pool`) and what it reports (:class:`PoolEvent`).

The driver (:mod:`rest_video.batch.runner`) submits tasks and polls events; the local process pool
(:mod:`rest_video.batch.local`) and the Ray backend (:mod:`rest_video.batch.ray_pool`) implement it.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple, Protocol

from rest_video.batch.tasks import Task, TaskResult


class EventKind(str, Enum):
    """What a :class:`PoolEvent` says (the value equals its name in lower case)."""

    FRAMES = "frames"  # value: frames written since the last event (progress)
    RETRY = "retry"    # value: why the task runs again (its worker died)
    DONE = "done"      # value: the task's TaskResult

    def __str__(self) -> str:
        return self.value


class PoolEvent(NamedTuple):
    kind: EventKind
    task_id: int
    value: int | str | TaskResult

    @classmethod
    def frames(cls, task_id: int, n: int) -> PoolEvent:
        return cls(EventKind.FRAMES, task_id, n)

    @classmethod
    def retry(cls, task_id: int, why: str) -> PoolEvent:
        return cls(EventKind.RETRY, task_id, why)

    @classmethod
    def done(cls, result: TaskResult) -> PoolEvent:
        return cls(EventKind.DONE, result.id, result)


class Pool(Protocol):
    """A batch backend: runs submitted tasks on its workers and reports what happened."""

    name: str
    facts: dict  # what the report says about the backend (workers, Ray address ...); may stay empty

    def start(self) -> None:
        """Start the workers (the driver submits only after this)."""

    def submit(self, task: Task) -> None:
        """Queue ``task``; a worker takes it when it is free."""

    def poll(self, timeout: float = 0.2) -> list[PoolEvent]:
        """The events since the last call, waiting up to ``timeout`` seconds for one."""

    def close(self) -> None:
        """Every task is done: let the workers go."""

    def interrupt(self) -> None:
        """Stop every task now, as Ctrl-C stops the main command (temporary outputs removed)."""
