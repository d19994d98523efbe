"""``rest-video batch --ray`` on a local Ray instance (2 CPUs, no dashboard; one for the session)."""

import builtins
from pathlib import Path

import av
import numpy as np
import pytest
from media import make_clip, read_frames

from rest_video.batch import BatchOptions, jobs_from_inputs, run_batch
from rest_video.cli.main import main
from rest_video.pipeline.file import stylize_file


def _cut_off(clip: Path) -> bytes:
    """The first half of ``clip`` remuxed with its index first: it opens, states 30 frames, holds 14."""
    fast = clip.with_name("fast.mp4")
    with av.open(str(clip)) as i, av.open(str(fast), "w", options={"movflags": "+faststart"}) as o:
        s = o.add_stream_from_template(i.streams.video[0])
        for p in i.demux(i.streams.video[0]):
            if p.size:
                p.stream = s
                o.mux(p)
    data = fast.read_bytes()
    return data[: len(data) // 2]


def test_ray_batch_with_a_corrupt_file(tmp_path, ray_local, style_image, batch_cfg):
    (tmp_path / "in").mkdir()
    make_clip(tmp_path / "in" / "a.mp4", n=6, audio=True)
    make_clip(tmp_path / "in" / "b.mkv", n=8)
    (tmp_path / "in" / "bad.mp4").write_bytes(b"\x00" * 100)
    (tmp_path / "in" / "cut.mp4").write_bytes(_cut_off(make_clip(tmp_path / "long.mp4", n=30)))
    jobs = jobs_from_inputs([str(tmp_path / "in")], style_image, tmp_path / "out")
    results, meta = run_batch(jobs, batch_cfg, BatchOptions(ray="local", progress=False, strict=True))
    assert meta["backend"] == "ray" and meta["ray_cpus"] == 2
    by_name = {Path(r.input).name: r for r in results}
    assert by_name["bad.mp4"].status == "failed" and "bad.mp4" in by_name["bad.mp4"].error
    # a failure in the task (not a lost worker) is reported once, not retried
    assert by_name["cut.mp4"].status == "failed" and "--strict" in by_name["cut.mp4"].error
    assert by_name["a.mp4"].status == by_name["b.mkv"].status == "done"
    ref = tmp_path / "ref.mkv"
    stylize_file(tmp_path / "in" / "b.mkv", style_image, ref, batch_cfg, progress=False)
    got, want = read_frames(tmp_path / "out" / "b-style.mkv")[0], read_frames(ref)[0]
    assert len(got) == 8 and all(np.array_equal(g, w) for g, w in zip(got, want, strict=False))


def test_ray_segments_equal_a_single_run(tmp_path, ray_local, style_image, random_weights):
    from rest_video.core.config import load_pipeline

    cfg = load_pipeline(
        None,
        {
            "model.checkpoint": str(random_weights),
            "output.preset": "ultrafast",
            "output.crf": 0,
            "temporal.smoothing": 0,
            "temporal.pixel_smoothing": 0,
            "temporal.chroma_sigma": 0,
        },
    )
    src = make_clip(tmp_path / "long.mp4", n=40, fps=10, audio=True, gop=10)
    single = tmp_path / "single.mp4"
    stylize_file(src, style_image, single, cfg, progress=False)
    jobs = jobs_from_inputs([str(src)], style_image, tmp_path / "out")
    results, _ = run_batch(jobs, cfg, BatchOptions(ray="local", segment_seconds=1.5, progress=False))
    assert results[0].status == "done" and results[0].segments == 2 and results[0].frames == 40
    a, pa, ta = read_frames(single)
    b, pb, tb = read_frames(tmp_path / "out" / "long-style.mp4")
    assert [p * ta for p in pa] == [p * tb for p in pb]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=False))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["long-style.mp4"]


def test_ray_missing_says_how_to_install_it(tmp_path, style_image, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    clip = make_clip(tmp_path / "a.mp4", n=2)
    rc = main(["batch", str(clip), "--style", str(style_image), "--out-dir", str(tmp_path / "out"), "--ray"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "pip install -e '.[ray]'" in err[0]


def test_ray_address_or_input(tmp_path, style_image, monkeypatch, capsys):
    """`--ray clips/`: argparse takes the folder for the address; it is an input."""
    seen = {}
    import rest_video.batch.runner as runner

    def fake(jobs, cfg, opts):
        seen["jobs"], seen["ray"] = jobs, opts.ray
        return [], {"backend": "ray", "seconds": 0.0}

    monkeypatch.setattr(runner, "run_batch", fake)
    pytest.importorskip("ray")
    (tmp_path / "clips").mkdir()
    make_clip(tmp_path / "clips" / "a.mp4", n=2)
    rc = main(["batch", "--ray", str(tmp_path / "clips"), "--style", str(style_image), "--out-dir",
               str(tmp_path / "out"), "-q"])
    assert rc == 0 and seen["ray"] == "local" and [j.input.name for j in seen["jobs"]] == ["a.mp4"]
    rc = main(["batch", str(tmp_path / "clips"), "--ray", "no such place", "--style", str(style_image),
               "--out-dir", str(tmp_path / "out")])
    assert rc == 2 and "--ray 'no such place'" in capsys.readouterr().err


def test_a_task_lost_with_its_worker_is_retried(tmp_path, ray_local, style_image, batch_cfg):
    from rest_video.batch.ray_pool import RayPool, remote_execute
    from rest_video.batch.tasks import Task, TaskKind, stats_to_arrays
    from rest_video.engine.stylizer import Stylizer

    src = make_clip(tmp_path / "in.mp4", n=6)
    marker = tmp_path / "crashed-once"

    def crash_once(*args):  # the first attempt's worker process dies (as with the OOM killer)
        import os

        if not marker.exists():
            marker.touch()
            os._exit(1)
        return remote_execute(*args)

    pool = RayPool(None, batch_cfg, {"s": stats_to_arrays(Stylizer(batch_cfg).load_style(style_image))})
    pool.start()
    pool.fn = ray_local.remote(crash_once).options(**pool.task_options)  # the options the batch uses
    pool.submit(Task(0, TaskKind.FILE, 0, str(src), str(tmp_path / "out.mp4"), "s", overwrite=True))
    done = []
    while not done:
        done = [e for e in pool.poll(0.5) if e[0] == "done"]
    assert marker.exists() and done[0][2].ok and done[0][2].frames == 6
