"""The Ray backend: the batch's tasks as Ray tasks, on a Ray instance of its own or an existing cluster.

- ``address=None``: a local Ray instance, started here and shut down at the end (``num_cpus`` CPUs,
  no dashboard); ``"auto"`` or ``"ray://host:port"``: an existing cluster (left running). A Ray
  instance this process already started (tests) is used as it is.
- Each style's statistics go into the object store once (``ray.put``); every task gets the reference.
- Each task asks for ``threads`` CPUs and runs with as many torch threads. A Ray worker process keeps
  one Stylizer per pipeline config between tasks (:data:`_STATES`).
- A task lost to a worker fault (the process died, its node went away) is retried by Ray
  (``max_retries``); a file that fails for a user-visible reason comes back as a failed result and is
  not retried (``retry_exceptions=False``; :func:`~rest_video.batch.tasks.execute` returns it).
- Progress: tasks report frames to a small actor that the driver drains.
- Input and output paths must be the same on every node (a shared file system).
"""

from __future__ import annotations

import os
import time

from rest_video.batch.pool import EventKind, PoolEvent
from rest_video.batch.tasks import Task, TaskResult, WorkerState, execute
from rest_video.core.config import PipelineConfig
from rest_video.core.errors import ConfigError, first_line

INSTALL_HINT = "--ray needs Ray, which is not installed: pip install -e '.[ray]'"

_STATES: dict[str, WorkerState] = {}


def import_ray():
    """The ``ray`` module, or a :class:`ConfigError` saying in one line how to get it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


def remote_execute(task: Task, cfg: PipelineConfig, style_arrays: dict, progress, threads: int) -> TaskResult:
    """The body of every Ray task (runs in a Ray worker process)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    key = repr(cfg)
    state = _STATES.get(key)
    if state is None:
        _STATES.clear()  # one Stylizer per worker process
        state = _STATES[key] = WorkerState(cfg)
    send = (lambda tid, n: progress.add.remote(tid, n)) if progress is not None else None
    worker = f"ray-{os.uname().nodename}-{os.getpid()}"
    return execute(task, state, send, style_arrays, worker=worker)


class _Progress:
    """Frames done per task, reported by the tasks and drained by the driver."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int]] = []

    def add(self, task_id: int, n: int) -> None:
        self.items.append((task_id, n))

    def take(self) -> list[tuple[int, int]]:
        out, self.items = self.items, []
        return out


class RayPool:
    name = "ray"

    def __init__(
        self,
        address: str | None,
        cfg: PipelineConfig,
        styles: dict,
        threads: int = 1,
        retries: int = 2,
        num_cpus: int | None = None,
    ) -> None:
        self.ray = import_ray()
        self.address, self.cfg, self.styles = address, cfg, styles
        self.threads, self.retries, self.num_cpus = threads, retries, num_cpus
        self.owned = False
        self.refs: dict = {}
        self.facts: dict = {}

    def start(self) -> None:
        ray = self.ray
        if not ray.is_initialized():
            if self.address is None:
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=True,
                         configure_logging=False)
            else:
                try:
                    ray.init(address=self.address, log_to_driver=True, configure_logging=False)
                except (ConnectionError, ValueError, RuntimeError) as e:
                    raise ConfigError(f"--ray {self.address}: cannot connect to a Ray cluster "
                                      f"({first_line(e, None)})") from None
            self.owned = True
        cpus = ray.cluster_resources().get("CPU", 0)
        self.facts = {"ray_address": self.address or "local", "ray_cpus": cpus,
                      "ray_nodes": len([n for n in ray.nodes() if n.get("Alive")])}
        t = time.perf_counter()
        self.cfg_ref = ray.put(self.cfg)
        self.style_refs = {k: ray.put(v) for k, v in self.styles.items()}  # once per style
        self.progress = ray.remote(num_cpus=0)(_Progress).remote()
        self.task_options = dict(num_cpus=self.threads, max_retries=self.retries, retry_exceptions=False)
        self.fn = ray.remote(remote_execute).options(**self.task_options)
        self.facts["ray_setup_seconds"] = round(time.perf_counter() - t, 3)

    def submit(self, task: Task) -> None:
        ref = self.fn.remote(task, self.cfg_ref, self.style_refs.get(task.style), self.progress, self.threads)
        self.refs[ref] = task

    def poll(self, timeout: float = 0.2) -> list[PoolEvent]:
        ray = self.ray
        out: list[PoolEvent] = []
        if self.refs:
            ready, _ = ray.wait(list(self.refs), num_returns=len(self.refs), timeout=timeout)
            for ref in ready:
                task = self.refs.pop(ref)
                try:
                    res = ray.get(ref)
                except ray.exceptions.TaskCancelledError:
                    res = TaskResult(task.id, False, error="cancelled")
                except ray.exceptions.RayError as e:  # the worker or node died after all retries
                    msg = first_line(e, None)
                    res = TaskResult(
                        task.id, False, error=f"{type(e).__name__} after {self.retries} retries: {msg}"
                    )
                out.append(PoolEvent(EventKind.DONE, task.id, res))
        for tid, n in ray.get(self.progress.take.remote()):
            out.append(PoolEvent.frames(tid, n))
        # frames before results: a file's bar moves before it is counted done
        out.sort(key=lambda e: e.kind != EventKind.FRAMES)
        return out

    def close(self) -> None:
        if self.owned:
            self.ray.shutdown()

    def interrupt(self) -> None:
        """Cancel every task (KeyboardInterrupt in it: its temporary output is removed), wait for them."""
        ray = self.ray
        if not ray.is_initialized():
            return
        refs = list(self.refs)
        for ref in refs:
            try:
                ray.cancel(ref, force=False)
            except Exception:  # noqa: BLE001 - finished meanwhile
                pass
        deadline = time.monotonic() + 15
        pending = refs
        while pending and time.monotonic() < deadline:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
        self.close()
