"""The render queue: jobs run one after another in one worker thread, and can be cancelled.

A job's state lives here, on the server, so a page reloaded (or a second tab) sees the same list.
A render is :func:`rest_video.stylize_file`, the command's pipeline, writing to a temporary file
beside its output that is renamed when it is complete; cancelling one raises :class:`JobCancelled`
from its per-frame callback, the pipeline removes the temporary file, and no partial output remains.
Every job writes its own output file (named by its id), so two tabs rendering do not share a file.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rest_video.core.errors import MediaError, RestVideoError
from rest_video.studio.workspace import check_id, new_id

log = logging.getLogger(__name__)


class JobCancelled(RestVideoError):
    """Raised inside a running job when the user cancelled it."""


@dataclass
class Job:
    """One unit of work; ``work(job)`` does it and returns the output file (or raises)."""

    session: str
    kind: str                         # "render", "cube", "batch"
    title: str
    work: Callable[["Job"], Path]
    download_name: str
    total: int = 0                    # frames expected (0: unknown)
    id: str = field(default_factory=new_id)
    status: str = "queued"            # queued, running, done, failed, cancelled
    done: int = 0
    error: str | None = None
    output: Path | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel_requested: bool = False

    def tick(self, frames: int = 1) -> None:
        """Progress: ``frames`` more written (the pipeline's ``on_frame``); raises when cancelled."""
        if self.cancel_requested:
            raise JobCancelled("cancelled")
        self.done += frames

    def public(self) -> dict:
        elapsed = ((self.finished or time.time()) - self.started) if self.started else 0.0
        fps = self.done / elapsed if elapsed > 0 and self.done else 0.0
        eta = (self.total - self.done) / fps if fps > 0 and self.total > self.done else None
        pct = 100.0 if self.status == "done" else (100.0 * self.done / self.total if self.total else 0.0)
        return {"id": self.id, "kind": self.kind, "title": self.title, "status": self.status,
                "frames": self.done, "total": self.total, "percent": round(min(pct, 100.0), 1),
                "fps": round(fps, 2), "eta": None if eta is None else round(eta, 1), "error": self.error,
                "download": self.status == "done", "name": self.download_name,
                "media": _media_kind(self.download_name)}


def _media_kind(name: str) -> str:
    ext = Path(name).suffix.lower()
    if ext in (".mp4", ".webm", ".mov", ".mkv"):
        return "video"
    return "image" if ext in (".jpg", ".png", ".webp") else "file"


def internal_error(e: BaseException) -> str:
    """The one line a page gets for a failure that is not the user's (the traceback goes to the log)."""
    return f"internal error ({type(e).__name__}); see the studio's log"


class JobQueue:
    """Jobs of every session, run in order of submission by one worker thread."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []
        self._cond = threading.Condition()
        self._closed = False
        self.version = 0                  # bumps on any change (the progress socket sends on a change)
        self._thread = threading.Thread(target=self._run, name="rest-video-studio-jobs", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> Job:
        with self._cond:
            if self._closed:
                raise MediaError("the studio is stopping")
            self._jobs[job.id] = job
            self._order.append(job.id)
            self.version += 1
            self._cond.notify_all()
        return job

    def get(self, session: str, jid: str) -> Job:
        check_id(jid, "job")
        with self._cond:
            job = self._jobs.get(jid)
        if job is None or job.session != session:
            raise MediaError("unknown job")
        return job

    def of_session(self, session: str) -> list[dict]:
        with self._cond:
            return [self._jobs[j].public() for j in self._order if self._jobs[j].session == session]

    def cancel(self, session: str, jid: str) -> Job:
        job = self.get(session, jid)
        with self._cond:
            if job.status == "queued":
                job.status, job.finished = "cancelled", time.time()
            elif job.status == "running":
                job.cancel_requested = True
            self.version += 1
            self._cond.notify_all()
        return job

    def changed(self) -> None:
        with self._cond:
            self.version += 1

    def wait_change(self, version: int, timeout: float) -> int:
        """Block until :attr:`version` differs from ``version`` or ``timeout`` passes; the version."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != version or self._closed, timeout)
            return self.version

    def forget(self, session_ids: list[str]) -> None:
        with self._cond:
            for jid in [j for j in self._order if self._jobs[j].session in session_ids]:
                job = self._jobs[jid]
                if job.status == "running":
                    job.cancel_requested = True
                    continue
                if job.status == "queued":
                    job.status = "cancelled"
                self._order.remove(jid)
                del self._jobs[jid]

    def _next(self) -> Job | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                for jid in self._order:
                    job = self._jobs[jid]
                    if job.status == "queued":
                        job.status, job.started = "running", time.time()
                        self.version += 1
                        return job
                self._cond.wait()

    def _run(self) -> None:
        while (job := self._next()) is not None:
            try:
                out = job.work(job)
                status, error = "done", None
            except JobCancelled:
                out, status, error = None, "cancelled", None
            except RestVideoError as e:
                out, status, error = None, "failed", str(e)
            except Exception as e:  # noqa: BLE001 - one line for the page; the traceback to the log
                log.exception("studio job %s failed", job.id)
                out, status, error = None, "failed", internal_error(e)
            with self._cond:
                job.output, job.status, job.error, job.finished = out, status, error, time.time()
                if status == "done" and job.total == 0:
                    job.total = job.done
                self.version += 1
                self._cond.notify_all()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel what runs, drop what waits, stop the worker."""
        with self._cond:
            self._closed = True
            for job in self._jobs.values():
                if job.status == "running":
                    job.cancel_requested = True
            self._cond.notify_all()
        self._thread.join(timeout)
