"""Many files at once: ``rest-video batch`` as a library.

    from rest_video.batch import BatchOptions, jobs_from_inputs, run_batch
    jobs = jobs_from_inputs(["clips/"], Path("look.jpg"), Path("out"))
    results, meta = run_batch(jobs, load_pipeline(), BatchOptions(workers=2))    # or ray="auto"

:mod:`~rest_video.batch.inputs` finds the files and names the outputs, :mod:`~rest_video.batch.runner`
drives the batch, :mod:`~rest_video.batch.local` and :mod:`~rest_video.batch.ray_pool` are the two
backends, :mod:`~rest_video.batch.tasks` is what a worker runs, :mod:`~rest_video.batch.report` the end.
"""

from rest_video.batch.inputs import Job, find_inputs, jobs_from_inputs, jobs_from_manifest
from rest_video.batch.report import FileResult, summary_table, write_report
from rest_video.batch.runner import BatchOptions, run_batch

__all__ = ["BatchOptions", "FileResult", "Job", "find_inputs", "jobs_from_inputs", "jobs_from_manifest",
           "run_batch", "summary_table", "write_report"]
