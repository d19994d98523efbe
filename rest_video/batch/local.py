"""The local backend: a pool of worker processes (spawned), each holding one Stylizer.

The driver hands each idle worker one task at a time through its own inbox, so it always knows which
task a worker holds: a worker that dies (killed, out of memory) has its task retried on a fresh worker
(up to ``retries`` times), then reported as failed. Progress (frames) and results come back on a
pipe of its own per worker (a worker killed in the middle of a write damages only its own pipe,
which goes with it). :meth:`LocalPool.interrupt` sends each worker SIGINT: the task stops as the
main command does on Ctrl-C (its temporary output removed) and the worker exits.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections import deque
from multiprocessing.connection import wait

from rest_video.batch.pool import PoolEvent
from rest_video.batch.tasks import Task, TaskResult, WorkerState, execute
from rest_video.core.config import PipelineConfig
from rest_video.core.errors import MediaError


def _worker_main(wid: int, inbox, conn, cfg: PipelineConfig, styles: dict, threads: int) -> None:
    import threading

    from rest_video.core.signals import stop_signals_raise

    lock = threading.Lock()  # progress comes from the encode thread, results from this one

    def send(item) -> None:
        with lock:
            conn.send(item)

    try:
        with stop_signals_raise():
            from rest_video.core.log import show_library_log

            show_library_log()
            import torch

            torch.set_num_threads(max(1, threads))
            state = WorkerState(cfg)
            for key, arrays in styles.items():
                state.style(key, arrays)
            send(("ready", wid, None))
            while True:
                task = inbox.get()
                if task is None:
                    return
                result = execute(task, state, lambda tid, n: send(("frames", tid, n)), worker=f"local-{wid}")
                send(("done", wid, result))
    except KeyboardInterrupt:
        return


class LocalPool:
    """``workers`` processes with ``threads`` torch threads each."""

    name = "local"

    def __init__(
        self, workers: int, cfg: PipelineConfig, styles: dict, threads: int = 1, retries: int = 2
    ) -> None:
        self.workers, self.cfg, self.styles, self.threads, self.retries = (
            workers,
            cfg,
            styles,
            threads,
            retries,
        )
        self.ctx = mp.get_context("spawn")
        self.conns: dict[int, object] = {}          # worker -> the read end of its event pipe
        self.procs: dict[int, mp.Process] = {}
        self.inboxes: dict[int, object] = {}
        self.holding: dict[int, Task | None] = {}   # worker -> task it runs (None: idle, not ready: absent)
        self.backlog: deque[Task] = deque()
        self.attempts: dict[int, int] = {}
        self._next = 0
        self.failed_starts = 0
        self.facts: dict = {}

    def start(self) -> None:
        for _ in range(self.workers):
            self._spawn()

    def _spawn(self) -> None:
        wid = self._next
        self._next += 1
        inbox = self.ctx.Queue()
        reader, writer = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(target=_worker_main, name=f"rest-video-worker-{wid}",
                             args=(wid, inbox, writer, self.cfg, self.styles, self.threads), daemon=True)
        # the worker starts with SIGINT ignored (inherited) until its own handlers are in place: a
        # Ctrl-C while it is still importing would otherwise print a traceback; interrupt() ends
        # such a worker with SIGTERM instead
        old = _ignore_sigint()
        try:
            p.start()
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        writer.close()  # the worker holds the write end: its death ends the pipe
        self.procs[wid], self.inboxes[wid], self.conns[wid] = p, inbox, reader

    def submit(self, task: Task) -> None:
        self.backlog.append(task)
        self._dispatch()

    def _dispatch(self) -> None:
        for wid, held in list(self.holding.items()):
            if held is None and self.backlog:
                task = self.backlog.popleft()
                self.holding[wid] = task
                self.attempts[task.id] = self.attempts.get(task.id, 0) + 1
                self.inboxes[wid].put(task)

    def poll(self, timeout: float = 0.2) -> list[PoolEvent]:
        """Events since the last call: frames written, retries and finished tasks."""
        out: list[PoolEvent] = []
        for conn in wait(list(self.conns.values()), timeout):
            try:
                while conn.poll():
                    out.extend(self._handle(conn.recv()))
            except (EOFError, OSError):
                pass  # its worker is gone: _check_dead handles it
        out.extend(self._check_dead())
        self._dispatch()
        return out

    def _handle(self, item) -> list[PoolEvent]:
        kind, a, b = (
            item  # what a worker sends: ("ready", wid, None), ("frames", tid, n), ("done", wid, result)
        )
        if kind == "ready":
            self.holding[a] = None
            return []
        if kind == "frames":
            return [PoolEvent.frames(a, b)]
        self.holding[a] = None
        return [PoolEvent.done(b)]

    def _check_dead(self) -> list[PoolEvent]:
        out = []
        for wid, p in list(self.procs.items()):
            if p.is_alive():
                continue
            started = wid in self.holding
            task = self.holding.pop(wid, None)
            del self.procs[wid], self.inboxes[wid]
            self.conns.pop(wid).close()
            if not started:
                self.failed_starts += 1
                if self.failed_starts > self.workers + self.retries:
                    raise MediaError(
                        f"batch worker processes keep dying on start ({_exit_reason(p.exitcode)})"
                    )
            self._spawn()
            if task is None:
                continue
            why = f"worker process died ({_exit_reason(p.exitcode)})"
            if self.attempts.get(task.id, 0) <= self.retries:
                self.backlog.appendleft(task)
                out.append(PoolEvent.retry(task.id, why))
            else:
                out.append(PoolEvent.done(TaskResult(task.id, False, error=f"{why}, {self.retries} retries")))
        return out

    def close(self) -> None:
        for inbox in self.inboxes.values():
            inbox.put(None)
        for p in self.procs.values():
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)

    def interrupt(self) -> None:
        """Stop every worker now, as Ctrl-C stops the main command (temporary outputs removed)."""
        for wid, p in self.procs.items():
            if p.is_alive() and p.pid is not None:
                try:
                    os.kill(p.pid, signal.SIGINT if wid in self.holding else signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs.values():
            p.join(timeout=15)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)


def _ignore_sigint():
    """Ignore SIGINT (returns the previous handler), where this thread may; else None."""
    try:
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        return None


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"
