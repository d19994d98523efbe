"""The batch driver: jobs -> tasks -> a backend (local processes or Ray) -> one result per file.

    results = run_batch(jobs, cfg, BatchOptions(workers=2))              # local worker processes
    results = run_batch(jobs, cfg, BatchOptions(ray="auto"))             # an existing Ray cluster

It checks every job before any work (``--resume`` skips outputs that are complete, a corrupt input is
a failed file at once), computes each style's statistics once (here, in the driver; the backends
ship them to their workers once), splits long videos into segments (``segment_seconds``) and joins
them when their last segment is done, shows one progress bar over the frames of all files, and stops
cleanly on Ctrl-C (each worker removes its temporary output; the segments' folders are removed).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rest_video.batch.inputs import Job, count_frames, is_complete
from rest_video.batch.pool import EventKind, Pool
from rest_video.batch.report import FileResult, FileStatus
from rest_video.batch.tasks import Task, TaskKind, TaskResult, stats_to_arrays
from rest_video.core.atomic import check_writable, stale_temporaries
from rest_video.core.config import PipelineConfig
from rest_video.core.errors import MediaError, RestVideoError
from rest_video.io.image import is_image_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchOptions:
    workers: int | None = None          # local processes (None: one per core, at most one per task)
    threads: int | None = None  # torch threads per worker (None: cores // workers; Ray: 1)
    ray: str | None = None  # None: local pool; "local": a Ray instance of our own; else its address
    segment_seconds: float | None = None
    warmup: float = 2.0                 # seconds of frames that warm a segment's temporal filters
    overwrite: bool = False
    resume: bool = False
    progress: bool | None = None        # None: when stderr is a terminal
    retries: int = 2                    # a task lost to a worker fault is run again this many times
    max_frames: int | None = None       # per file, as the main job's --max-frames
    strict: bool = False                # an input that ends early is a failed file (--strict)


@dataclass
class _FileState:
    job: Job
    result: FileResult
    frames: int = 0                     # expected frames (progress)
    tasks: set = field(default_factory=set)
    parts: list = field(default_factory=list)
    parts_dir: Path | None = None
    started: float | None = None
    finished: float = 0.0
    done_frames: int = 0
    tasks_ran: bool = False


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_batch(
    jobs: list[Job], cfg: PipelineConfig, opts: BatchOptions = BatchOptions()
) -> tuple[list[FileResult], dict]:
    """Stylize every job; returns one :class:`FileResult` per job (in order) and facts about the run
    (backend, workers, threads, wall seconds) for the report. Raises :class:`KeyboardInterrupt` after
    a clean stop."""
    t0 = time.perf_counter()
    states = [_FileState(j, FileResult(str(j.input), str(j.output), str(j.style))) for j in jobs]
    _check(states, opts)
    styles, precision = _style_stats(states, cfg)
    cfg = _pin_precision(cfg, precision)
    tasks = _plan(states, opts)
    total = sum(s.frames for s in states if s.result.status == FileStatus.PENDING)
    meta = {"backend": "ray" if opts.ray else "local", "segment_seconds": opts.segment_seconds}
    if tasks:
        workers, threads = _sizes(opts, len(tasks))
        meta.update(workers=workers, threads=threads)
        pool = _backend(opts, cfg, styles, workers, threads)
        _drive(pool, tasks, states, total, opts)
        meta.update(pool.facts)
    for s in states:
        if (
            s.result.status == FileStatus.PENDING
        ):  # a file some of whose tasks never reported (cannot happen normally)
            s.result.status, s.result.error = FileStatus.FAILED, s.result.error or "not finished"
    meta["seconds"] = round(time.perf_counter() - t0, 3)
    return [s.result for s in states], meta


def _check(states: list[_FileState], opts: BatchOptions) -> None:
    for s in states:
        out = s.job.output
        try:
            s.frames = count_frames(s.job.input)
            if opts.max_frames:
                s.frames = min(s.frames, opts.max_frames)
        except MediaError as e:
            s.result.status, s.result.error = FileStatus.FAILED, str(e)
            continue
        if opts.resume and is_complete(out, s.frames):
            s.result.status, s.result.frames = FileStatus.SKIPPED, s.frames
            continue
        if out.exists() and not (opts.overwrite or opts.resume):
            raise MediaError(
                f"output exists: {out} (use -y to overwrite, or --resume to skip complete outputs)"
            )
        try:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise MediaError(f"cannot create the folder of {out}: {e.strerror}") from None
            check_writable(out, overwrite=True)
        except MediaError as e:
            s.result.status, s.result.error = FileStatus.FAILED, str(e)
            continue
        s.result.status = FileStatus.PENDING


def _pin_precision(cfg: PipelineConfig, precision: str | None) -> PipelineConfig:
    """``cfg`` with ``runtime.precision: auto`` replaced by what it resolved to here: every worker
    then computes in the same precision (a worker on fewer threads would otherwise probe again and
    might choose differently, and the segments of one file must match the whole file's bits)."""
    if precision is None or cfg.runtime.precision != "auto":
        return cfg
    return cfg.with_precision(precision)


def _style_stats(states: list[_FileState], cfg: PipelineConfig) -> tuple[dict[str, dict], str | None]:
    """Each style's statistics, computed once (a style that cannot be used fails its files), and the
    precision the stylizer computing them resolved to."""
    keys = sorted({str(s.job.style) for s in states if s.result.status == FileStatus.PENDING})
    if not keys:
        return {}, None
    from rest_video.engine.stylizer import Stylizer

    stylizer = Stylizer(cfg)
    out = {}
    for key in keys:
        try:
            out[key] = stats_to_arrays(stylizer.load_style(key))
        except RestVideoError as e:
            for s in states:
                if str(s.job.style) == key and s.result.status == FileStatus.PENDING:
                    s.result.status, s.result.error = FileStatus.FAILED, f"style {key}: {e}"
    return out, stylizer.precision


def _plan(states: list[_FileState], opts: BatchOptions) -> list[Task]:
    tasks: list[Task] = []
    for i, s in enumerate(states):
        if s.result.status != FileStatus.PENDING:
            continue
        j = s.job
        common = dict(job=i, input=str(j.input), style=str(j.style), strength=j.strength, overwrite=True,
                      max_frames=opts.max_frames, strict=opts.strict)
        segs = ()
        if opts.segment_seconds and not is_image_path(j.input) and not is_image_path(j.output):
            from rest_video.pipeline.segment import plan_segments

            try:
                segs = plan_segments(j.input, opts.segment_seconds, opts.warmup).segments
            except MediaError as e:
                s.result.status, s.result.error = FileStatus.FAILED, str(e)
                continue
        if len(segs) > 1:
            s.parts_dir = j.output.with_name(f".{j.output.stem}.parts-{secrets.token_hex(4)}")
            s.parts = [str(s.parts_dir / f"{k:05d}{j.output.suffix}") for k in range(len(segs))]
            s.result.segments = len(segs)
            for seg, part in zip(segs, s.parts, strict=False):
                tasks.append(Task(len(tasks), TaskKind.SEGMENT, output=part, segment=seg, **common))
        else:
            tasks.append(Task(len(tasks), TaskKind.FILE, output=str(j.output), **common))
        s.tasks = {t.id for t in tasks if t.job == i}
        s.tasks_ran = True
    return tasks


def _sizes(opts: BatchOptions, ntasks: int) -> tuple[int, int]:
    cores = cpu_count()
    if opts.ray:
        workers = opts.workers or cores
        return workers, opts.threads or 1
    workers = opts.workers or max(1, min(cores, ntasks))
    return workers, opts.threads or max(1, cores // workers)


def _backend(opts: BatchOptions, cfg: PipelineConfig, styles: dict, workers: int, threads: int) -> Pool:
    if opts.ray:
        from rest_video.batch.ray_pool import RayPool

        return RayPool(None if opts.ray == "local" else opts.ray, cfg, styles, threads=threads,
                       retries=opts.retries, num_cpus=opts.workers)
    from rest_video.batch.local import LocalPool

    return LocalPool(workers, cfg, styles, threads=threads, retries=opts.retries)


def _drive(pool: Pool, tasks: list[Task], states: list[_FileState], total: int, opts: BatchOptions) -> None:
    by_id = {t.id: t for t in tasks}
    outstanding = set(by_id)
    show = sys.stderr.isatty() if opts.progress is None else opts.progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="batch", unit="frame", dynamic_ncols=True, smoothing=0.1)
    files_total = sum(s.result.status == FileStatus.PENDING for s in states)
    files_done = 0
    started = False
    try:
        pool.start()
        for t in tasks:
            pool.submit(t)
        while outstanding:
            for kind, tid, value in pool.poll(0.2):
                task = by_id.get(tid)
                if task is None:
                    continue
                st = states[task.job]
                if kind == EventKind.FRAMES:
                    if task.kind != TaskKind.JOIN:
                        st.done_frames += value
                        if bar is not None:
                            if (
                                not started
                            ):  # the clock starts with the first frame, not the workers' start-up
                                bar.reset(total=bar.total)
                                started = True
                            bar.update(value)
                elif kind == EventKind.RETRY:
                    log.warning("%s: %s; retrying", Path(task.input).name, value)
                elif kind == EventKind.DONE:
                    outstanding.discard(tid)
                    follow = _finish_task(st, task, value, len(by_id))
                    if follow is not None:
                        by_id[follow.id] = follow
                        outstanding.add(follow.id)
                        pool.submit(follow)
                    if st.result.status != FileStatus.PENDING and not st.tasks:
                        files_done += 1
                        if st.result.status == FileStatus.FAILED:
                            if bar is not None:  # its frames will not come: the total shrinks
                                bar.total = max(bar.n, bar.total - max(0, st.frames - st.done_frames))
                            log.warning("%s: failed: %s", st.job.input, st.result.error)
                        if bar is not None:
                            bar.set_postfix_str(f"{files_done}/{files_total} files", refresh=False)
                            bar.refresh()
        pool.close()
    except BaseException:
        try:
            pool.interrupt()
        finally:
            for s in states:
                if s.result.status == FileStatus.PENDING:
                    s.result.status, s.result.error = FileStatus.STOPPED, "interrupted"
            _remove_parts(states)
        raise
    finally:
        if bar is not None:
            bar.close()
    _remove_parts(states)


def _finish_task(st: _FileState, task: Task, res: TaskResult, next_id: int) -> Task | None:
    """Record a finished task; returns the join task once the last segment of a file is done."""
    st.tasks.discard(task.id)
    if res.started:
        st.started = res.started if st.started is None else min(st.started, res.started)
    st.finished = max(st.finished, res.finished or time.time())
    if st.result.status != FileStatus.PENDING:  # an earlier segment failed: the rest only finish
        return None
    if not res.ok:
        st.result.status, st.result.error = FileStatus.FAILED, res.error
        if task.kind == TaskKind.SEGMENT and st.tasks:
            st.result.error = f"segment {task.segment.index}: {res.error}"
        return None
    if task.kind == TaskKind.SEGMENT:
        st.result.frames += res.frames
        if st.tasks:
            return None
        join = Task(
            next_id,
            TaskKind.JOIN,
            job=task.job,
            input=task.input,
            output=str(st.job.output),
            style=task.style,
            overwrite=True,
            strict=task.strict,
            parts=tuple(st.parts),
            parts_dir=str(st.parts_dir),
        )
        st.tasks.add(join.id)
        return join
    if task.kind == TaskKind.JOIN and res.frames != st.result.frames:
        st.result.status, st.result.error = (
            FileStatus.FAILED,
            f"joined {res.frames} frames of {st.result.frames}",
        )
        return None
    st.result.frames = res.frames
    st.result.status = FileStatus.DONE
    st.result.seconds = max(0.0, st.finished - (st.started or st.finished))
    return None


def _remove_parts(states: list[_FileState]) -> None:
    """The segments' folders, and what a worker killed outright (a lost task, retried) left behind."""
    for s in states:
        if s.parts_dir is not None and s.parts_dir.exists():
            shutil.rmtree(s.parts_dir, ignore_errors=True)
        if s.tasks_ran:
            for tmp in stale_temporaries(s.job.output):
                tmp.unlink(missing_ok=True)
