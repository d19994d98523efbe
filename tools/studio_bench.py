"""The studio's measurements (BENCHMARKS.md, "Studio"): preview latency at 720p, render throughput
through the studio against the CLI, and the live feed's rate and latency, in a real browser.

    python tools/studio_bench.py [--video V] [--moves 30] [--frames 50] [--runs 3] [--live-seconds 15]
                                 [--only preview|render|live]

- preview: a 1280x720 clip (``--video``'s first frames, default ../shared/data/video/vtest.avi,
  resized) is uploaded in headless Chromium; the strength slider is moved ``--moves`` times (each
  move waits for its picture) and the time from the slider's input event to the new picture decoded
  on the page is read from the page (``window.__studio.previewTimes``): LUT previews while it
  moves, the full network once it rests. A pipeline switch (a new LUT fit) is timed as well;
- render: the same clip (``--frames`` frames) through ``rest-video IN STYLE OUT`` (a process; the
  fps it prints, which leaves out its start-up) and through the studio's queue (fps of the job:
  frames over the job's run time), alternated ``--runs`` times;
- live: /live with the clip as the studio's camera (played at 25 fps, looped) for
  ``--live-seconds``; fps and capture-to-display latency as the browser measured them.

Prints the CPU model and the load average: the numbers are only comparable within one run.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.studio_browser import chromium, serve, why_no_browser  # noqa: E402

VIDEO = ROOT.parent / "shared" / "data" / "video" / "vtest.avi"
STYLE = ROOT / "samples" / "styles" / "evening-glow.jpg"
CLI = [sys.executable, "-c", "import sys; from rest_video.cli.main import main; sys.exit(main())"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def make_720p(video: Path, out: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``video`` at 1280x720, H.264 at 25 fps."""
    import cv2

    with av.open(str(video)) as src, av.open(str(out), "w") as dst:
        s = dst.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 1280, 720, "yuv420p"
        s.options = {"crf": "18", "preset": "veryfast"}
        for i, fr in enumerate(src.decode(video=0)):
            if i >= frames:
                break
            rgb = cv2.resize(fr.to_ndarray(format="rgb24"), (1280, 720), interpolation=cv2.INTER_CUBIC)
            for p in s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                dst.mux(p)
        for p in s.encode():
            dst.mux(p)
    return out


def q(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else float("nan")


def bench_preview(page, url: str, clip: Path, moves: int) -> dict:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    page.set_input_files("#content-file", str(clip))
    page.wait_for_function("window.__studio.lastQuality === 'full'", timeout=300_000)
    page.evaluate("window.__studio.previewTimes = []")
    rng = np.random.default_rng(0)
    for _ in range(moves):
        n = page.evaluate("window.__studio.previewTimes.filter(t => t.quality === 'lut').length")
        page.fill("#strength", f"{rng.uniform(0.05, 1.0):.2f}")
        page.wait_for_function(f"window.__studio.previewTimes.filter(t => t.quality === 'lut').length > {n}",
                               timeout=60_000)
    page.wait_for_function("window.__studio.lastQuality === 'full'", timeout=300_000)
    times = page.evaluate("window.__studio.previewTimes")
    lut = [t["ms"] for t in times if t["quality"] == "lut"]
    full = [t["ms"] for t in times if t["quality"] == "full"]
    switch, network = [], []
    for name in ("subtle", "strong-look", "fast-preview", "default"):   # default's looks are cached
        page.evaluate("window.__studio.previewTimes = []; window.__studio.lastQuality = null")
        page.select_option("#pipeline", name)
        page.wait_for_function("window.__studio.lastQuality === 'full'", timeout=300_000)
        times = page.evaluate("window.__studio.previewTimes")
        switch.append(next(t["ms"] for t in times if t["quality"] == "lut"))
        network.append(next(t["ms"] for t in times if t["quality"] == "full"))
    return {"lut": lut, "full": full, "switch": switch, "network": network}


def settle(page) -> None:
    """Wait until the page's previews are done (a render must not share the CPU with them)."""
    page.wait_for_function("window.__studio.lastQuality === 'full'", timeout=300_000)
    page.wait_for_timeout(1000)


def cli_fps(clip: Path, out: Path, pipeline: str = "default") -> tuple[float, str]:
    """(fps the command prints, the path ``runtime.path: auto`` chose: -v prints it)."""
    r = subprocess.run(CLI + [str(clip), str(STYLE), str(out), "-y", "-v", "--pipeline", pipeline],
                       capture_output=True, text=True, check=True)
    m = re.search(r"\(([\d.]+) fps\)", r.stderr)
    path = re.search(r"path: (\w+) \(", r.stderr)
    if not m:
        raise SystemExit(f"no fps in the CLI's output: {r.stderr[-300:]}")
    return float(m.group(1)), path.group(1) if path else "?"


class PathLog(logging.Handler):
    """The path ``auto`` chose for the studio's renders (the pipeline's log line, in this process)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.last = "?"

    def emit(self, record: logging.LogRecord) -> None:
        m = re.match(r"path: (\w+) \(", record.getMessage())
        if m:
            self.last = m.group(1)


def studio_fps(page, frames: int) -> float:
    """Render through the page; the job's fps as the server reports it (frames over its run time)."""
    n = page.locator("#jobs li").count()
    page.click("#render")
    page.wait_for_function(f"(() => {{ const li = document.querySelectorAll('#jobs li');"
                           f" return li.length > {n} && li[0].dataset.status === 'done'; }})()",
                           timeout=900_000)
    job = page.evaluate("fetch('/api/jobs').then(r => r.json())")[-1]
    assert job["status"] == "done" and job["frames"] == frames, job
    return job["fps"]


def bench_live(context, url: str, seconds: float) -> dict:
    page = context.new_page()
    page.goto(f"{url}/live")
    page.wait_for_function("window.__live.frames >= 5", timeout=120_000)
    page.evaluate("window.__live.latencies = []; window.__live.frames = 0")
    t0 = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    frames = page.evaluate("window.__live.frames")
    lat = page.evaluate("window.__live.latencies")
    server = page.evaluate("window.__live.server")
    page.close()
    return {"fps": frames / (time.monotonic() - t0), "latency": lat, "server": server}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", type=Path, default=VIDEO)
    ap.add_argument("--moves", type=int, default=30)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--live-seconds", type=float, default=15.0)
    ap.add_argument("--only", choices=["preview", "render", "live"], help="run one of the three parts")
    ap.add_argument("--pipeline", default="default",
                    help="the renders' pipeline, in the CLI and on the page (fast-preview pins the LUT path)")
    args = ap.parse_args()
    why = why_no_browser()
    if why:
        raise SystemExit(f"studio_bench: {why}")
    from rest_video.studio.app import StudioSettings

    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = make_720p(args.video, tmp / "clip720.mp4", args.frames)
        with serve(StudioSettings(camera=str(clip), root=str(tmp))) as (url, _), chromium() as context:
            page = context.new_page()
            if args.only in (None, "preview"):
                report_preview(bench_preview(page, url, clip, args.moves))
            else:
                page.goto(url)
                page.wait_for_selector("body[data-ready='1']")
                page.set_input_files("#content-file", str(clip))
                page.wait_for_function("window.__studio.lastQuality === 'full'", timeout=300_000)
            if args.only in (None, "render"):
                report_render(page, clip, tmp, args)
            if args.only in (None, "live"):
                report_live(context, url, args.live_seconds)
    print(f"load average after: {os.getloadavg()}")
    return 0


def report_preview(p: dict) -> None:
    print(f"preview at 1280x720, slider move -> new picture on the page ({len(p['lut'])} moves): "
          f"LUT median {statistics.median(p['lut']):.0f} ms, p95 {q(p['lut'], 95):.0f} ms; "
          f"full network once it rests: median {statistics.median(p['full']):.0f} ms "
          f"({len(p['full'])} rests, a blend of the cached look)")
    print("pipeline switch subtle, strong-look, fast-preview, default (cached): LUT picture (a new fit) "
          + ", ".join(f"{ms:.0f}" for ms in p["switch"]) + " ms; then the full network at 720p "
          + ", ".join(f"{ms:.0f}" for ms in p["network"]) + " ms")


def report_render(page, clip: Path, tmp: Path, args) -> None:
    page.click("#gallery .thumb[data-style='builtin:evening-glow']")
    page.evaluate("window.__studio.lastQuality = null")
    page.fill("#strength", "1")
    if args.pipeline != "default":
        page.select_option("#pipeline", args.pipeline)
    settle(page)
    paths = PathLog()
    logger = logging.getLogger("rest_video.pipeline.path_choice")
    logger.addHandler(paths)
    logger.setLevel(logging.DEBUG)
    cli, studio = [], []
    for i in range(args.runs):
        fps, cli_path = cli_fps(clip, tmp / f"cli{i}.mp4", args.pipeline)
        cli.append(fps)
        studio.append(studio_fps(page, args.frames))
        page.wait_for_timeout(1000)
        print(f"render run {i + 1}: CLI {cli[-1]:.2f} fps ({cli_path} path), studio {studio[-1]:.2f} fps "
              f"({paths.last} path) (load {os.getloadavg()[0]:.1f})")
    c, s = statistics.median(cli), statistics.median(studio)
    print(f"render {args.frames} frames at 1280x720, pipeline {args.pipeline}: CLI median {c:.2f} fps, "
          f"studio {s:.2f} fps: "
          f"{s / c:.2f}x")


def report_live(context, url: str, seconds: float) -> None:
    live = bench_live(context, url, seconds)
    lat = live["latency"]
    print(f"live /live in the browser, 1280x720 file camera at 25 fps: {live['fps']:.1f} fps shown, "
          f"latency capture -> display median {statistics.median(lat):.0f} ms, "
          f"p95 {q(lat, 95):.0f} ms; server: stylize+encode {live['server']['process_ms']} ms a frame")


if __name__ == "__main__":
    raise SystemExit(main())
