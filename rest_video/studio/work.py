"""What a studio job does: a render (``stylize_file``), a ``.cube`` export, a batch.

Each returns the finished output file, written whole or not at all: the render through
``stylize_file``'s temporary file, the ``.cube`` through :func:`~rest_video.ops.lut.write_cube`, the
batch's zip through :func:`~rest_video.core.atomic.atomic_output`.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np

from rest_video.core.errors import MediaError
from rest_video.studio.jobs import Job


def render(job: Job, engine, pipeline: str, content: Path, style: Path, out: Path, strength: float) -> Path:
    """The command's file pipeline (``rest-video IN STYLE OUT``), its frames counted into ``job``."""
    from rest_video import stylize_file

    stylize_file(content, engine.style(pipeline, style), out, engine.stylizer(pipeline).cfg,
                 stylizer=engine.stylizer(pipeline), strength=strength, progress=False, on_frame=job.tick)
    return out


def export_cube(job: Job, engine, pipeline: str, content: Path, style: Path, out: Path, strength: float,
                frames: int = 8, size: int = 33, title: str | None = None) -> Path:
    """``rest-video lut``'s export: a 3D LUT fitted to the network's rendering of frames spread over
    the content, at ``strength``, written as a ``.cube``."""
    from rest_video.io.clips import spread_frames
    from rest_video.ops.lut import write_cube
    from rest_video.ops.lut_fit import EXPORT_FIT, fit_lut
    from rest_video.ops.opacity import blend_lut

    st = engine.stylizer(pipeline)
    stats = engine.style(pipeline, style)
    picked = spread_frames(content, frames)
    job.total = len(picked) + 1
    rendered = []
    for f in picked:
        job.tick(0)  # a cancel lands between frames
        rendered.append(st.stylize(f, stats, 1.0))
        job.tick()
    inputs = np.concatenate([f.reshape(-1, 3) for f in picked])
    outputs = np.concatenate([r.reshape(-1, 3) for r in rendered])
    table = blend_lut(fit_lut(inputs, outputs, size, **EXPORT_FIT), strength)
    job.tick(0)
    write_cube(out, table, title or style.stem)
    job.tick()
    return out


def batch(job: Job, pipeline: str, contents: list[tuple[Path, str]], style: Path, folder: Path,
          out: Path, strength: float) -> Path:
    """``rest-video batch``'s engine over the session's uploaded contents (one worker process), the
    results zipped. ``contents``: (file, display name) pairs. A cancel takes effect when the batch
    engine returns (it has no per-frame hook): nothing is kept then."""
    from rest_video import load_pipeline
    from rest_video.batch.inputs import Job as BatchJob
    from rest_video.batch.runner import BatchOptions, run_batch
    from rest_video.core.atomic import atomic_output

    folder.mkdir(parents=True, exist_ok=False)
    try:
        jobs = [BatchJob(src, style, folder / f"{i:03d}-{Path(name).stem}{_out_ext(src)}", strength)
                for i, (src, name) in enumerate(contents)]
        job.total = len(jobs)
        job.tick(0)
        results, _ = run_batch(jobs, load_pipeline(pipeline), BatchOptions(workers=1, progress=False))
        failed = [r for r in results if r.status != "done"]
        if failed:
            raise MediaError(f"{Path(failed[0].input).name}: {failed[0].error or failed[0].status}")
        job.tick(len(results))  # raises when cancelled while the batch ran: no zip then
        with atomic_output(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            for r in results:
                z.write(r.output, Path(r.output).name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the files are in the zip (or not wanted)
    return out


def _out_ext(src: Path) -> str:
    """A photo stays a photo of its own format; a video becomes an MP4."""
    from rest_video.io.image import is_image_path

    return src.suffix if is_image_path(src) else ".mp4"
