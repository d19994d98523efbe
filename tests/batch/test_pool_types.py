"""The batch's named types: pool events, file statuses, the Pool protocol both backends follow."""

import inspect
import json

from rest_video.batch.local import LocalPool
from rest_video.batch.pool import EventKind, Pool, PoolEvent
from rest_video.batch.ray_pool import RayPool
from rest_video.batch.report import FileResult, FileStatus, summary_table, write_report
from rest_video.batch.tasks import TaskResult


def test_events_are_named_and_still_unpack_as_three():
    e = PoolEvent.done(TaskResult(7, True, frames=3))
    kind, tid, value = e
    assert (kind, tid, value.frames) == (EventKind.DONE, 7, 3) and e.task_id == 7
    assert PoolEvent.frames(2, 5) == (EventKind.FRAMES, 2, 5) and PoolEvent.retry(2, "died").kind == "retry"


def test_both_backends_have_the_pools_methods_with_its_signatures():
    members = ["start", "submit", "poll", "close", "interrupt"]
    for backend in (LocalPool, RayPool):
        for name in members:
            assert list(inspect.signature(getattr(backend, name)).parameters) == \
                list(inspect.signature(getattr(Pool, name)).parameters), (backend, name)
        assert isinstance(backend.name, str)


def test_statuses_read_as_their_words_in_the_table_and_the_json(tmp_path):
    results = [FileResult("a.mp4", "o.mp4", "s.jpg", FileStatus.DONE, 10, 2.0),
               FileResult("b.mp4", "p.mp4", "s.jpg", FileStatus.FAILED, error="not a video")]
    table = summary_table(results)
    assert "a.mp4  done" in table and "1 done, 1 failed" in table and "FileStatus" not in table
    write_report(tmp_path / "r.json", results, {})
    data = json.loads((tmp_path / "r.json").read_text())
    assert [f["status"] for f in data["files"]] == ["done", "failed"]
    assert data["counts"] == {"done": 1, "skipped": 0, "failed": 1, "stopped": 0}
    assert f"{FileStatus.SKIPPED}" == str(FileStatus.SKIPPED) == "skipped"
