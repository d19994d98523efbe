"""Large frames (BENCHMARKS.md, "Large frames: tiled inference"): tiled against whole-frame speed,
working memory per pixel against the estimate the tile plan uses, and the peak RSS of the CLI on a
big photo.

    python tools/bench_tiles.py speed  [--size 3840x2160] [--reps 3] [--budget 1024]
    python tools/bench_tiles.py memory [--size 2400x1600] [--budget 256] [--precision bf16]
    python tools/bench_tiles.py rss    [--size 12000x8000] [--set key=value ...]

``speed`` runs the same frame whole (a budget it fits) and tiled (``--budget`` MB), alternately in
one process, and checks the outputs are equal. ``memory`` runs each way once in a fresh process and
reports the growth of its peak RSS per pixel. ``rss`` writes a photo of ``--size`` (a real photo
scaled up, with grain, as PNG) and runs ``python -m rest_video PHOTO STYLE OUT.png`` on it, the peak
RSS of that process from ``wait4``. Content: ``--photo`` (default: a BSDS500 photo from
../shared/data when present, else a synthetic picture); style: ``--style``
(default samples/styles/evening-glow.jpg).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from rest_video import RestVideoError
from rest_video.core.errors import ConfigError
from rest_video.core.schema import parse_size as size_of

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "bsds500" / "test" / "100007.jpg"
STYLE = ROOT / "samples" / "styles" / "evening-glow.jpg"
WHOLE_MB = 1 << 20  # a budget any test frame fits whole


class UsageError(Exception):
    pass


def parse_size(text: str) -> tuple[int, int]:
    try:
        return size_of(text)
    except ConfigError as e:
        raise UsageError(str(e)) from None


def content(w: int, h: int, photo: Path | None = None, seed: int = 0) -> np.ndarray:
    """An RGB uint8 picture of ``w`` x ``h``: a photo scaled to it, with some grain (else a gradient)."""
    src = photo if photo is not None else (PHOTO if PHOTO.is_file() else None)
    if src is not None:
        bgr = cv2.imread(str(src), cv2.IMREAD_COLOR)
        if bgr is None:
            raise UsageError(f"not a readable image: {src}")
        img = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (w, h), interpolation=cv2.INTER_CUBIC)
    else:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        img = (
            np.stack([x / w, y / h, 0.5 + 0.25 * np.sin(x / 9.0) + 0.25 * np.cos(y / 7.0)], -1) * 255
        ).astype(np.uint8)
    rng = np.random.default_rng(seed)
    for y0 in range(0, h, 1024):  # grain, a block of rows at a time (no whole-frame int16 copy)
        blk = img[y0:y0 + 1024]
        blk[...] = np.clip(blk.astype(np.int16) + rng.integers(-6, 7, blk.shape, dtype=np.int16), 0, 255)
    return img


def _stylizer(mb: int, style: Path, precision: str = "auto"):
    from rest_video import Stylizer, load_pipeline

    st = Stylizer(
        load_pipeline(
            None,
            {
                "runtime.device": "cpu",
                "runtime.max_memory_mb": mb,
                "style.cache": False,
                "runtime.precision": precision,
            },
        )
    )
    return st, st.load_style(style, use_cache=False)


def speed(w: int, h: int, reps: int, budget: int, photo: Path | None, style: Path) -> dict:
    """ms per frame, whole and tiled, alternating; the two outputs must be equal."""
    tiled, stats = _stylizer(budget, style)
    if tiled.fits(1, h, w):
        raise UsageError(f"{w}x{h} fits a {budget} MB budget whole: give a smaller --budget")
    whole, _ = _stylizer(WHOLE_MB, style)
    frame = content(w, h, photo)
    times: dict[str, list[float]] = {"whole": [], "tiled": []}
    outs = {}
    for r in range(reps + 1):  # the first round warms up (buffers, thread tuning), untimed
        for name, st in (("whole", whole), ("tiled", tiled)):
            t0 = time.perf_counter()
            outs[name] = st.stylize(frame, stats)
            if r:
                times[name].append(time.perf_counter() - t0)
    plan = tiled.plan
    bands, strips = plan.bands(h, w), plan.strips(h, w)
    res = {name: 1e3 * statistics.median(ts) for name, ts in times.items()}
    return {
        "size": f"{w}x{h}",
        "budget_mb": budget,
        "reps": reps,
        "whole_ms": round(res["whole"]),
        "tiled_ms": round(res["tiled"]),
        "ratio": round(res["tiled"] / res["whole"], 3),
        "equal": bool(np.array_equal(outs["whole"], outs["tiled"])),
        "all_ms": {k: [round(1e3 * t) for t in v] for k, v in times.items()},
        "bands": len(bands),
        "band_rows": bands[0].win[1] - bands[0].win[0],
        "strips": len(strips),
        "strip_rows": strips[0].rows[1] - strips[0].rows[0],
    }


def probe(w: int, h: int, mb: int, style: Path, precision: str = "auto") -> dict:
    """In this (fresh) process: growth of peak RSS when one frame is stylized, per pixel (the peak
    is reset first through /proc/self/clear_refs, so the style's computation does not hide it)."""
    st, stats = _stylizer(mb, style, precision)
    st.stylize(content(64, 48), stats)  # model, style and code paths warm
    frame = content(w, h)
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    base = _status_kb("VmRSS") * 1024
    out = st.stylize(frame, stats)
    peak = _status_kb("VmHWM") * 1024
    from rest_video.engine.tiling import bytes_per_pixel

    n = w * h
    tiled = not st.fits(1, h, w)
    if tiled:
        band = st.plan.bands(h, w)[0].win
        estimate = (band[1] - band[0]) * w * st.plan.bpp["tile"] + 3 * n  # a band + the uint8 output
    else:
        estimate = (bytes_per_pixel(st.net, "frame") - 3) * n  # the uint8 input existed before
    return {
        "size": f"{w}x{h}",
        "way": "tiled" if tiled else "whole",
        "budget_mb": mb,
        "out": out.shape[:2] == (h, w),
        "backend": f"{st.net.backend} {str(st.dtype).replace('torch.', '')}",
        "peak_growth_mb": round((peak - base) / 2**20, 1),
        "estimate_mb": round(estimate / 2**20, 1),
        "per_pixel": round((peak - base) / n, 1),
    }


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise UsageError(f"no {key} in /proc/self/status (the memory probe needs Linux)")


def memory(w: int, h: int, budget: int, style: Path, precision: str = "auto") -> list[dict]:
    rows = []
    for mb in (WHOLE_MB, budget):
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "_probe",
            "--size",
            f"{w}x{h}",
            "--budget",
            str(mb),
            "--style",
            str(style),
            "--precision",
            precision,
        ]
        r = subprocess.run(cmd, capture_output=True, text=True, env=_env())
        if r.returncode != 0:
            raise UsageError(
                "memory probe failed: "
                f"{r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}"
            )
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return rows


def rss(w: int, h: int, photo: Path | None, style: Path, extra: list[str], keep: Path | None) -> dict:
    """Peak RSS and wall time of ``python -m rest_video`` on a ``w`` x ``h`` PNG photo."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-tiles-")) if keep is None else keep
    tmp.mkdir(parents=True, exist_ok=True)
    src, dst = tmp / f"photo-{w}x{h}.png", tmp / f"out-{w}x{h}.png"
    if not src.is_file():
        img = content(w, h, photo)
        ok, buf = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR, dst=img))
        del img
        if not ok:
            raise UsageError("could not encode the photo")
        buf.tofile(str(src))
        del buf
    cmd = [sys.executable, "-m", "rest_video", str(src), str(style), str(dst), "-y", "-q", *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=_env(), stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    res = {"size": f"{w}x{h}", "input_mb": round(src.stat().st_size / 2**20, 1), "rc": proc.returncode,
           "peak_rss_mb": round(usage.ru_maxrss / 1024), "seconds": round(wall, 1),
           "command": " ".join(["rest-video", src.name, str(style), dst.name, "-y", "-q", *extra])}
    if proc.returncode != 0:
        res["stderr"] = err.strip().splitlines()[-1:] if err.strip() else []
    if keep is None:
        for p in (src, dst):
            p.unlink(missing_ok=True)
        tmp.rmdir()
    return res


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _machine() -> str:
    from rest_video.evaluation.report import machine_info

    m = machine_info()
    load = m.get("load_average", "?")
    return (f"{m['cpu_name']}, {m['cpu_count']} CPUs, torch {m['torch']} ({m['threads']} threads), "
            f"load average {load}")


def main(argv: list[str] | None = None) -> int:
    """The command; a user's mistake is one line on stderr, exit 2."""
    p = argparse.ArgumentParser(prog="python tools/bench_tiles.py", description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["speed", "memory", "rss", "_probe"])
    p.add_argument(
        "--size", metavar="WxH", help="frame size (speed 3840x2160, memory 2400x1600, rss 12000x8000)"
    )
    p.add_argument("--reps", type=int, default=3, metavar="N", help="speed: timed rounds (default 3)")
    p.add_argument("--budget", type=int, default=None, metavar="MB",
                   help="the tiled run's runtime.max_memory_mb (speed 1024, memory 256)")
    p.add_argument(
        "--photo", type=Path, metavar="IMAGE", help="content photo to scale (default: a BSDS500 photo)"
    )
    p.add_argument("--style", type=Path, default=STYLE, metavar="IMAGE")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="memory: the network's precision (bf16 runs the generic backend, as on CUDA)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="rss: keep (and reuse) the photo and output here")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="rss: passed to rest-video"
    )
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = p.parse_args(argv)
    default_size = {"speed": "3840x2160", "memory": "2400x1600", "rss": "12000x8000", "_probe": "2400x1600"}
    try:
        w, h = parse_size(args.size or default_size[args.what])
        if args.reps < 1:
            raise UsageError("--reps must be >= 1")
        if args.budget is not None and args.budget < 1:
            raise UsageError("--budget must be >= 1 (MB)")
        if not args.style.is_file():
            raise UsageError(f"style image not found: {args.style}")
        if args.photo is not None and not args.photo.is_file():
            raise UsageError(f"photo not found: {args.photo}")
        if args.what == "_probe":
            print(json.dumps(probe(w, h, args.budget or WHOLE_MB, args.style, args.precision)))
            return 0
        machine = _machine()
        if args.what == "speed":
            res = speed(w, h, args.reps, args.budget or 1024, args.photo, args.style)
            print(
                f"{res['size']}: whole {res['whole_ms']} ms, tiled {res['tiled_ms']} ms "
                f"(x{res['ratio']}, budget {res['budget_mb']} MB: {res['strips']} strips of "
                f"{res['strip_rows']} rows, "
                f"{res['bands']} bands of {res['band_rows']} rows), outputs equal: {res['equal']}; "
                f"median of {res['reps']}, all {res['all_ms']}"
            )
        elif args.what == "memory":
            res = memory(w, h, args.budget or 256, args.style, args.precision)
            for r in res:
                print(
                    f"{r['size']} {r['way']}, {r['backend']} (budget {r['budget_mb']} MB): peak RSS grew "
                    f"{r['peak_growth_mb']} MB "
                    f"({r['per_pixel']} B/pixel), estimate {r['estimate_mb']} MB"
                )
        else:
            extra = [a for kv in args.set for a in ("--set", kv)]
            res = rss(w, h, args.photo, args.style, extra, args.keep)
            print(
                f"{res['size']} ({res['input_mb']} MB PNG): peak RSS {res['peak_rss_mb']} MB, "
                f"{res['seconds']} s, "
                f"exit {res['rc']}" + (f" ({res['stderr']})" if res.get("stderr") else "")
            )
        print(f"machine: {machine}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "result": res,
                        "machine": machine,
                        "command": "python tools/bench_tiles.py " + " ".join(argv or sys.argv[1:]),
                    },
                    indent=2,
                )
                + "\n"
            )
    except (UsageError, RestVideoError) as e:
        print(f"tools/bench_tiles.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
