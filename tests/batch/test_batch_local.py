"""``rest-video batch`` with local worker processes: good files, a corrupt one, manifests, --resume,
segment mode against a single run, and Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from media import audio_duration, make_clip, make_frame, read_frames, smooth_image

from rest_video.batch import BatchOptions, jobs_from_inputs, jobs_from_manifest, run_batch
from rest_video.cli.main import main
from rest_video.engine.stylizer import Stylizer
from rest_video.pipeline.file import stylize_file
from rest_video.pipeline.segment import join_segments, plan_segments, stylize_segment

FILTERS_OFF = {"temporal.smoothing": 0, "temporal.pixel_smoothing": 0, "temporal.chroma_sigma": 0}


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


@pytest.fixture
def blue_style(tmp_path):
    img = make_frame(40, 30, 9)
    img[..., 2] = 220
    path = tmp_path / "blue.png"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


def test_a_batch_with_a_corrupt_file_does_the_rest_and_reports_it(
    tmp_path, style_image, random_weights, capsys
):
    clips = [make_clip(tmp_path / "a.mp4", n=6, audio=True), make_clip(tmp_path / "b.mkv", n=9),
             make_clip(tmp_path / "c.mov", n=4)]
    cv2.imwrite(str(tmp_path / "d.png"), make_frame(30, 20, 1))
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(clips[0].read_bytes()[:200])  # cut off after the header: corrupt
    out, report = tmp_path / "out", tmp_path / "report.json"
    rc = main(["batch", str(tmp_path / "*.*"), "--style", str(style_image), "--out-dir", str(out),
               "--checkpoint", str(random_weights), "--preset", "ultrafast", "--workers", "2",
               "--report", str(report)])
    assert rc == 1  # one file failed
    for clip, n in zip(clips, (6, 9, 4), strict=False):
        frames, _, _ = read_frames(out / f"{clip.stem}-style{clip.suffix}")
        assert len(frames) == n
    assert audio_duration(out / "a-style.mp4") == pytest.approx(audio_duration(clips[0]), abs=0.03)
    assert cv2.imread(str(out / "d-style.png")).shape == (20, 30, 3)
    data = json.loads(report.read_text())
    by_name = {Path(f["input"]).name: f for f in data["files"]}
    assert by_name["broken.mp4"]["status"] == "failed" and "broken.mp4" in by_name["broken.mp4"]["error"]
    assert [by_name[n]["status"] for n in ("a.mp4", "b.mkv", "c.mov", "d.png")] == ["done"] * 4
    assert by_name["b.mkv"]["frames"] == 9 and data["counts"] == {
        "done": 4,
        "skipped": 0,
        "failed": 1,
        "stopped": 0,
    }
    err = capsys.readouterr().err
    assert "broken.mp4  failed" in err and "4 done, 1 failed" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "a-style.mp4",
        "b-style.mkv",
        "c-style.mov",
        "d-style.png",
    ]


def test_manifest_gives_each_file_its_style_and_strength(tmp_path, batch_cfg, style_image, blue_style):
    a, b = make_clip(tmp_path / "a.mp4", n=5), make_clip(tmp_path / "b.mp4", n=5)
    (tmp_path / "jobs.csv").write_text(f"input,style,output,strength\n"
                                       f"a.mp4,{style_image},red.mp4,\nb.mp4,{blue_style},blue.mkv,0.5\n")
    jobs = jobs_from_manifest(tmp_path / "jobs.csv", None, tmp_path / "out")
    results, _ = run_batch(jobs, batch_cfg, BatchOptions(workers=2, progress=False))
    assert [r.status for r in results] == ["done", "done"]
    st = Stylizer(batch_cfg)
    for src, style, strength, out in ((a, style_image, None, "red.mp4"), (b, blue_style, 0.5, "blue.mkv")):
        ref = tmp_path / f"ref-{out}"
        stylize_file(src, style, ref, batch_cfg, stylizer=st, strength=strength, progress=False)
        got, want = read_frames(tmp_path / "out" / out)[0], read_frames(ref)[0]
        assert len(got) == 5 and all(np.array_equal(g, w) for g, w in zip(got, want, strict=False))
    red, blue = (
        read_frames(tmp_path / "out" / "red.mp4")[0][0],
        read_frames(tmp_path / "out" / "blue.mkv")[0][0],
    )
    assert not np.array_equal(red, blue)


def test_resume_skips_complete_outputs_and_redoes_a_truncated_one(tmp_path, batch_cfg, style_image):
    (tmp_path / "in").mkdir()
    for name in ("a", "b", "c"):
        make_clip(tmp_path / "in" / f"{name}.mp4", n=8)
    out = tmp_path / "out"
    jobs = jobs_from_inputs([str(tmp_path / "in")], style_image, out)
    first, _ = run_batch(jobs, batch_cfg, BatchOptions(workers=2, progress=False))
    assert [r.status for r in first] == ["done"] * 3
    done = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    cut = out / "b-style.mp4"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size * 2 // 3])  # an interrupted copy, say
    with pytest.raises(Exception, match="output exists"):  # neither -y nor --resume
        run_batch(jobs, batch_cfg, BatchOptions(workers=1, progress=False))
    again, _ = run_batch(jobs, batch_cfg, BatchOptions(workers=2, resume=True, progress=False))
    assert [r.status for r in again] == ["skipped", "done", "skipped"]
    assert len(read_frames(cut)[0]) == 8
    assert (out / "a-style.mp4").stat().st_mtime_ns == done["a-style.mp4"]
    assert (out / "c-style.mp4").stat().st_mtime_ns == done["c-style.mp4"]


@pytest.fixture
def long_clip(tmp_path):
    """6 s at 10 fps with audio and a keyframe every second."""
    return make_clip(tmp_path / "long.mp4", w=64, h=48, n=60, fps=10, audio=True, gop=10)


def _same_timing(a: Path, b: Path) -> None:
    fa, pa, ta = read_frames(a)
    fb, pb, tb = read_frames(b)
    assert len(fa) == len(fb) == 60
    assert [p * ta for p in pa] == [p * tb for p in pb]
    assert audio_duration(a) == pytest.approx(audio_duration(b), abs=1e-9)


def test_segments_join_to_the_single_run_exactly_with_filters_off(
    tmp_path, long_clip, style_image, random_weights
):
    from rest_video.core.config import load_pipeline

    cfg = load_pipeline(None, {"model.checkpoint": str(random_weights), "output.preset": "ultrafast",
                               "output.crf": 0, **FILTERS_OFF})
    single = tmp_path / "single.mp4"
    stylize_file(long_clip, style_image, single, cfg, progress=False)
    jobs = jobs_from_inputs([str(long_clip)], style_image, tmp_path / "out")
    results, _ = run_batch(jobs, cfg, BatchOptions(workers=2, segment_seconds=2, progress=False))
    assert results[0].status == "done" and results[0].segments == 3 and results[0].frames == 60
    joined = tmp_path / "out" / "long-style.mp4"
    _same_timing(single, joined)
    assert all(
        np.array_equal(x, y) for x, y in zip(read_frames(single)[0], read_frames(joined)[0], strict=False)
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["long-style.mp4"]  # segments removed


def test_segments_with_filters_on_match_at_the_seams(tmp_path, style_image):
    from rest_video.core.config import load_pipeline

    batch_cfg = load_pipeline(None, {"output.preset": "ultrafast", "output.crf": 0})  # the shipped weights
    # a still picture brightening over time (the filters hold it and lag behind) with a moving square
    base = smooth_image(np.random.default_rng(0), 48, 64, 30, 200).astype(np.float32)
    frames = []
    for i in range(60):
        f = np.clip(base * (0.6 + 0.5 * i / 60), 0, 255)
        f[10:22, 2 * i % 50: 2 * i % 50 + 12] = (240, 240, 40)
        frames.append(f.round().astype(np.uint8))
    src = make_clip(tmp_path / "drift.mp4", n=60, fps=10, audio=True, gop=10, frames=frames)
    st = Stylizer(batch_cfg)
    style = st.load_style(style_image)
    single = tmp_path / "single.mp4"
    stylize_file(src, style, single, batch_cfg, stylizer=st, progress=False)
    a = read_frames(single)[0]
    seams = [19, 20, 21, 39, 40, 41]
    worst = {}
    for warmup in (0.0, 2.0):  # none, and the default
        plan = plan_segments(src, 2, warmup=warmup)
        assert [s.seconds()[0] for s in plan.segments] == [None, 2.0, 4.0]
        parts = []
        for seg in plan.segments:
            parts.append(tmp_path / f"part{warmup}-{seg.index}.mp4")
            stylize_segment(src, style, parts[-1], batch_cfg, seg, stylizer=st)
        joined = tmp_path / f"joined{warmup}.mp4"
        assert join_segments(src, parts, joined, batch_cfg) == 60
        _same_timing(single, joined)
        b = read_frames(joined)[0]
        assert all(
            np.array_equal(a[i], b[i]) for i in range(20)
        )  # the first segment is the single run's start
        worst[warmup] = min(_psnr(a[i], b[i]) for i in seams)
    assert worst[2.0] >= 40, worst
    assert worst[0.0] < 35, worst  # without the warm-up the seams show: the test can tell


def test_ctrl_c_stops_the_batch_and_leaves_no_partial_file(tmp_path, style_image, random_weights):
    src = make_clip(tmp_path / "in.mp4", w=320, h=240, n=300, fps=10, gop=50)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                         os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from rest_video.cli.main import main; sys.exit(main())",
            "batch",
            str(src),
            "--style",
            str(style_image),
            "--out-dir",
            str(out),
            "--checkpoint",
            str(random_weights),
            "--workers",
            "2",
            "--segment-seconds",
            "10",
            "-q",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob(".*parts*/.*part*")):
        time.sleep(0.2)
    assert list(out.glob(".*parts*/.*part*")), "the workers never started writing"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(out.iterdir()) == []  # no output, no segment, no temporary file


def test_a_worker_killed_mid_task_is_retried_on_a_fresh_one(tmp_path, style_image, batch_cfg):
    from rest_video.batch.local import LocalPool
    from rest_video.batch.tasks import Task, TaskKind, stats_to_arrays

    src = make_clip(tmp_path / "in.mp4", w=160, h=120, n=120)
    out = tmp_path / "out.mp4"
    arrays = stats_to_arrays(Stylizer(batch_cfg).load_style(style_image))
    pool = LocalPool(1, batch_cfg, {"s": arrays}, threads=1)
    pool.start()
    pool.submit(Task(0, TaskKind.FILE, 0, str(src), str(out), "s", overwrite=True))
    events, result, deadline = [], None, time.monotonic() + 120
    try:
        while result is None and time.monotonic() < deadline:
            for kind, _tid, value in pool.poll(0.2):
                events.append(kind)
                if kind == "frames" and "retry" not in events and "killed" not in events:
                    wid = next(w for w, t in pool.holding.items() if t is not None)
                    os.kill(pool.procs[wid].pid, signal.SIGKILL)  # as the OOM killer would
                    events.append("killed")
                if kind == "done":
                    result = value
    finally:
        pool.close()
    assert "killed" in events and "retry" in events
    assert result is not None and result.ok and result.frames == 120
    assert len(read_frames(out)[0]) == 120


def test_auto_precision_is_resolved_once_for_every_worker(tmp_path, style_image, random_weights, monkeypatch):
    """Workers run on fewer threads than the parent, so each would probe `auto` on its own and might
    choose differently; the segments of one file must all be computed in the parent's precision."""
    from rest_video.batch import runner
    from rest_video.core.config import load_pipeline

    seen = []
    real_backend = runner._backend
    monkeypatch.setattr(runner, "_backend", lambda opts, cfg, *a: seen.append(cfg.runtime.precision)
                        or real_backend(opts, cfg, *a))
    monkeypatch.setattr(Stylizer, "precision", property(lambda self: "bf16"))  # what auto resolved to
    cfg = load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.precision": "auto"})
    assert runner._pin_precision(cfg, "bf16").runtime.precision == "bf16"
    assert (
        runner._pin_precision(load_pipeline(None, {"runtime.precision": "fp32"}), "bf16").runtime.precision
        == "fp32"
    )
    src = make_clip(tmp_path / "a.mp4", n=4)
    monkeypatch.setattr(runner, "_drive", lambda *a: None)  # the choice is what is tested, not the run
    run_batch(
        jobs_from_inputs([str(src)], style_image, tmp_path / "out"),
        cfg,
        BatchOptions(workers=1, progress=False),
    )
    assert seen == ["bf16"]
