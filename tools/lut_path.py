"""The LUT path against the full network on video (issue 28): PSNR per frame, and file mode's speed
against its ceiling (decode + encode alone).

    python tools/lut_path.py quality --clip samples/street.mp4 --clip ../shared/data/video/vtest.avi \
        --cuts-clip
    python tools/lut_path.py speed --video ../shared/data/video/vtest.avi --sizes 1280x720,1920x1080,3840x2160

``quality``: every frame of each clip through the full network and through the LUT path (the same
:class:`~rest_video.stream.StreamStylizer`, synchronous refits, statistics smoothing as configured,
no pixel stabilizer on either), PSNR of each LUT frame against the network's. ``--cuts-clip`` adds
a generated clip with two scene cuts and a slow fade to black (vtest.avi, tree.avi, vtest.avi).

``speed``: vtest.avi resized to each size (x264 crf 18), then file mode end to end on it: decode +
encode alone (the ceiling: no stylization), ``--path lut`` and ``--path full`` (``--full-frames
0``: not run), frames per second and each as a share of the ceiling, with the peak resident memory
of each run (a child process), and the CPU time (user + system) a frame of the ceiling and of the
LUT path with their ratio: what the share would be with the cores to themselves, and less shaken
by other work on a shared machine than the wall-clock share. ``--repeat N`` alternates the ceiling
and the LUT run N times and gives medians, with each run's share: shared machines drift by 10-20 %
from one minute to the next.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "video"


def cuts_clip(out: Path, side: int = 768) -> Path:
    """vtest 0-59 | cut | tree.avi 0-59 | cut | vtest 400-479, its last 50 frames fading to black."""
    import av
    import cv2

    from rest_video.io.clips import read_clip

    a = read_clip(DATA / "vtest.avi", 60, size=(side, side * 3 // 4))
    b = read_clip(DATA / "tree.avi", 60, size=(side, side * 3 // 4))
    c = read_clip(DATA / "vtest.avi", 80, start=400, size=(side, side * 3 // 4))
    c = [
        np.clip(f.astype(np.float32) * min(1.0, (79 - i) / 50), 0, 255).astype(np.uint8)
        for i, f in enumerate(c)
    ]
    with av.open(str(out), "w") as ctr:
        s = ctr.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = side, side * 3 // 4, "yuv420p"
        s.options = {"crf": "16", "preset": "veryfast"}
        for i, f in enumerate(a + b + c):
            vf = av.VideoFrame.from_ndarray(cv2.resize(f, (s.width, s.height)), format="rgb24")
            vf.pts, vf.time_base = i, Fraction(1, 10)
            for p in s.encode(vf):
                ctr.mux(p)
        for p in s.encode():
            ctr.mux(p)
    return out


def quality(clips: list[Path], style: Path, frames: int | None, overrides: list[str] | None = None) -> None:
    from rest_video import Stylizer, load_pipeline
    from rest_video.io.clips import read_clip
    from rest_video.metrics import psnr
    from rest_video.stream import StreamStylizer

    st = Stylizer(load_pipeline(None, overrides or []))
    stats = st.load_style(style)
    print("| clip | frames | mean PSNR (dB) | worst frame (dB) | refits | of them drifts | cuts |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for clip in clips:
        video = read_clip(clip, frames)
        full = StreamStylizer(st, stats, stabilize=False)
        lut = StreamStylizer(st, stats, path="lut", background=False, stabilize=False)
        per = [psnr([lut(f)], [full(f)]) for f in video]
        print(f"| {clip.name} | {len(video)} | {np.mean(per):.2f} | {min(per):.2f} | {lut.lut.refits} | "
              f"{lut.lut.drifts} | {lut.cuts} |", flush=True)


PEAK = ("def peak_mb():\n"
        " for line in open('/proc/self/status'):\n"
        "  if line.startswith('VmHWM'):\n   return int(line.split()[1]) // 1024\n")
RUN = PEAK + (
    "import json, resource, sys, time; from rest_video import load_pipeline, stylize_file; "
    "from rest_video.core.devices import apply_runtime; cfg = load_pipeline(None, json.loads(sys.argv[4])); "
    "apply_runtime(cfg.runtime); n = int(sys.argv[5]); "
    "r = stylize_file(sys.argv[1], sys.argv[2], sys.argv[3], cfg, overwrite=True, max_frames=n, "
    "progress=False); "
    "print(r.frames, r.seconds, peak_mb())"
)
CEILING = PEAK + ("import resource, sys, time; from rest_video.core.config import OutputCfg; "
           "from rest_video.io.video import VideoReader; from rest_video.io.video_writer import VideoWriter; "
           "t = time.perf_counter(); n = 0\n"
           "with VideoReader(sys.argv[1]) as r:\n"
           " w = VideoWriter(sys.argv[2], r.info, OutputCfg(), r.audio_streams)\n"
           " for fr in r.frames(max_frames=int(sys.argv[3])):\n  w.write(fr.rgb, fr.pts); n += 1\n"
           " w.close()\n"
           "print(n, time.perf_counter() - t, peak_mb())")


def _child(code: str, *args: str) -> tuple[int, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        raise SystemExit(f"tools/lut_path.py: a run failed: {r.stderr.strip().splitlines()[-1:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    n, secs, peak = r.stdout.split()[-3:]
    return int(n), float(secs), int(peak)


CPU: list[float] = []   # CPU seconds (user + system) of each child run, in order


def speed(video: Path, sizes: list[tuple[int, int]], frames: int, full_frames: int, style: Path,
          repeat: int = 1, overrides: list[str] | None = None) -> None:
    import av
    import cv2

    from rest_video.core.config import parse_override
    from rest_video.io.clips import read_clip

    sets = dict(parse_override(o) for o in overrides or [])

    print("| size | ceiling: decode + encode (fps) | LUT path (fps) | share (median; each run) | "
          "full network (fps) | share | "
          "peak RSS ceiling / LUT / full (MB) | CPU ms a frame ceiling / LUT | CPU share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    src = read_clip(video, frames)
    with tempfile.TemporaryDirectory() as d:
        for w, h in sizes:
            clip = Path(d) / f"in-{w}x{h}.mp4"
            with av.open(str(clip), "w") as ctr:
                s = ctr.add_stream("libx264", rate=10)
                s.width, s.height, s.pix_fmt, s.options = w, h, "yuv420p", {"crf": "18", "preset": "veryfast"}
                for i, f in enumerate(src):
                    vf = av.VideoFrame.from_ndarray(
                        cv2.resize(f, (w, h), interpolation=cv2.INTER_CUBIC), format="rgb24"
                    )
                    vf.pts, vf.time_base = i, Fraction(1, 10)
                    for p in s.encode(vf):
                        ctr.mux(p)
                for p in s.encode():
                    ctr.mux(p)
            out = str(Path(d) / "out.mp4")
            ceil, lut, cpu0, cpu1, m0, m1 = [], [], [], [], 0, 0
            for _ in range(repeat):          # ceiling and LUT path one after the other, each time
                n0, t0, p0 = _child(CEILING, str(clip), out, str(frames))
                cpu0.append(1000 * CPU[-1] / n0)
                n1, t1, p1 = _child(
                    RUN, str(clip), str(style), out, json.dumps({**sets, "runtime.path": "lut"}), str(frames)
                )
                cpu1.append(1000 * CPU[-1] / n1)
                ceil.append(n0 / t0)
                lut.append(n1 / t1)
                m0, m1 = max(m0, p0), max(m1, p1)
            n2, t2, m2 = (0, 1.0, 0)  # --full-frames 0: not run
            if full_frames > 0:
                n2, t2, m2 = _child(
                    RUN, str(clip), str(style), out, json.dumps({**sets, "runtime.path": "full"}),
                    str(full_frames),
                )
            shares = [b / a for a, b in zip(ceil, lut, strict=True)]
            c, full, c0, c1 = float(np.median(ceil)), n2 / t2, float(np.median(cpu0)), float(np.median(cpu1))
            each = " " + " / ".join(f"{x:.2f}" for x in shares) if repeat > 1 else ""
            print(f"| {w}x{h} | {c:.2f} | {np.median(lut):.2f} | {np.median(shares):.2f}{each} | "
                  f"{full:.3f} | {full / c:.3f} | {m0} / {m1} / {m2} | "
                  f"{c0:.0f} / {c1:.0f} | {c0 / c1:.2f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/lut_path.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--clip", action="append", type=Path, default=[])
    q.add_argument("--cuts-clip", action="store_true")
    q.add_argument("--frames", type=int, default=None)
    q.add_argument("--style", type=Path, default=ROOT / "samples" / "styles" / "evening-glow.jpg")
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a pipeline setting for both paths (live.refit_every=30)")
    s = sub.add_parser("speed")
    s.add_argument("--video", type=Path, default=DATA / "vtest.avi")
    s.add_argument("--sizes", default="1280x720,1920x1080,3840x2160")
    s.add_argument("--frames", type=int, default=60)
    s.add_argument("--full-frames", type=int, default=6)
    s.add_argument("--repeat", type=int, default=1,
                   help="ceiling and LUT runs, alternated; the table gives medians (shares: each run too)")
    s.add_argument("--style", type=Path, default=ROOT / "samples" / "styles" / "evening-glow.jpg")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a pipeline setting for the stylized runs (live.detail=false)")
    args = p.parse_args(argv)
    if args.cmd == "quality":
        clips = list(args.clip)
        with tempfile.TemporaryDirectory() as d:
            if args.cuts_clip:
                clips.append(cuts_clip(Path(d) / "cuts-and-fade.mp4"))
            quality(clips, args.style, args.frames, args.set)
    else:
        from rest_video.evaluation.speed import parse_sizes

        sizes = parse_sizes(args.sizes)
        speed(args.video, sizes, args.frames, args.full_frames, args.style, args.repeat, args.set)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
