"""Batch throughput (BENCHMARKS.md, "Batch"): many short clips, and one long video in segments.

    python tools/bench_batch.py clips    [--video V] [--clips 8] [--frames 30] [--workers 2]
    python tools/bench_batch.py segments [--video V] [--seconds 10] [--workers 2]

``clips`` cuts ``--clips`` pieces of ``--frames`` frames from ``--video`` (default
../shared/data/video/vtest.avi, re-encoded as H.264 .mp4), then stylizes them, in this order, in one
run: one ``rest-video IN STYLE OUT`` process per clip one after another (what a user does without
batch), ``rest-video batch --workers 1``, ``--workers N`` and ``--ray`` (a local Ray instance with N
CPUs, started and stopped by the command). ``segments`` stylizes the whole video with one
``rest-video IN STYLE OUT`` and with ``rest-video batch --segment-seconds S --workers N``, and checks
that both outputs have the same frames count and timestamps. Every line prints the wall time of the
whole command (process start-up included), frames per second over all frames, and the load average
before it. Style: samples/styles/evening-glow.jpg; outputs in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
VIDEO = ROOT.parent / "shared" / "data" / "video" / "vtest.avi"
STYLE = ROOT / "samples" / "styles" / "evening-glow.jpg"
CLI = [sys.executable, "-c", "import sys; from rest_video.cli.main import main; sys.exit(main())"]


def cut_clips(video: Path, out: Path, count: int, frames: int) -> list[Path]:
    """``count`` clips of ``frames`` frames each, from consecutive stretches of ``video``."""
    paths = [out / f"clip{i:02d}.mp4" for i in range(count)]
    with av.open(str(video)) as src:
        s = src.streams.video[0]
        rate = s.average_rate or 25
        decoded = src.decode(s)
        for p in paths:
            with av.open(str(p), "w") as dst:
                o = dst.add_stream("libx264", rate=rate)
                o.width, o.height, o.pix_fmt = s.codec_context.width, s.codec_context.height, "yuv420p"
                o.options = {"crf": "18", "preset": "veryfast"}
                for i in range(frames):
                    f = next(decoded).reformat(format="yuv420p")
                    f.pts, f.time_base = i, Fraction(1, int(rate))
                    for pkt in o.encode(f):
                        dst.mux(pkt)
                for pkt in o.encode():
                    dst.mux(pkt)
    return paths


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd[3:])}\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def frames_of(path: Path) -> tuple[int, list]:
    with av.open(str(path)) as c:
        pts = [f.pts for f in c.decode(video=0)]
    return len(pts), pts


def bench_clips(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        clips = cut_clips(args.video, tmp / "in", args.clips, args.frames)
        total = args.clips * args.frames
        rows = []

        def run(name: str, cmd_or_cmds) -> None:
            before = load()
            if isinstance(cmd_or_cmds[0], list):
                seconds = sum(timed(c) for c in cmd_or_cmds)
            else:
                seconds = timed(cmd_or_cmds)
            rows.append((name, seconds, before))
            print(
                f"{name:<34} {seconds:7.1f} s  {total / seconds:5.2f} fps  {seconds / args.clips:5.2f} s/file"
                f"  (load before: {before})",
                flush=True,
            )

        style = str(args.style)
        run("sequential: 8 x rest-video IN STYLE OUT".replace("8", str(args.clips)),
            [[*CLI, str(c), style, str(tmp / f"seq-{c.stem}.mp4"), "-q"] for c in clips])
        base = [*CLI, "batch", str(tmp / "in"), "--style", style, "-q"]
        run("batch --workers 1", [*base, "--out-dir", str(tmp / "w1"), "--workers", "1"])
        run(
            f"batch --workers {args.workers}",
            [*base, "--out-dir", str(tmp / "wn"), "--workers", str(args.workers)],
        )
        report = tmp / "ray.json"
        run(
            f"batch --ray (local, {args.workers} CPUs)",
            [
                *base,
                "--out-dir",
                str(tmp / "ray"),
                "--ray",
                "--workers",
                str(args.workers),
                "--report",
                str(report),
            ],
        )
        meta = json.loads(report.read_text())
        local, ray = rows[2][1], rows[3][1]
        print(
            f"Ray over local --workers {args.workers}: {ray - local:+.1f} s in all, "
            f"{(ray - local) / args.clips:+.2f} s per file; put of styles/config "
            f"{meta.get('ray_setup_seconds')} s"
        )
        for d in ("w1", "wn", "ray"):
            n = sum(frames_of(p)[0] for p in (tmp / d).iterdir())
            assert n == total, (d, n, total)


def bench_segments(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        style = str(args.style)
        whole, seg = tmp / "whole.mp4", tmp / "seg"
        before = load()
        t1 = timed([*CLI, str(args.video), style, str(whole), "-q"])
        n, pts = frames_of(whole)
        print(
            f"whole: rest-video IN STYLE OUT              {t1:7.1f} s  {n / t1:5.2f} fps  (load before: "
            f"{before})",
            flush=True,
        )
        before = load()
        report = tmp / "seg.json"
        t2 = timed(
            [
                *CLI,
                "batch",
                str(args.video),
                "--style",
                style,
                "--out-dir",
                str(seg),
                "--name",
                "{stem}.mp4",
                "--segment-seconds",
                str(args.seconds),
                "--workers",
                str(args.workers),
                "-q",
                "--report",
                str(report),
            ]
        )
        m, pts2 = frames_of(seg / f"{args.video.stem}.mp4")
        segs = json.loads(report.read_text())["files"][0]["segments"]
        print(f"batch --segment-seconds {args.seconds:g} --workers {args.workers} ({segs} segments) "
              f"{t2:7.1f} s  {m / t2:5.2f} fps  (load before: {before})")
        print(
            f"speed-up {t1 / t2:.2f}x; frames {n} vs {m}, timestamps {'equal' if pts == pts2 else 'DIFFER'}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["clips", "segments"])
    p.add_argument("--video", type=Path, default=VIDEO)
    p.add_argument("--style", type=Path, default=STYLE)
    p.add_argument("--clips", type=int, default=8)
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    bench_clips(args) if args.what == "clips" else bench_segments(args)


if __name__ == "__main__":
    main()
