"""The alternatives behind the CPU defaults of the inference form, timed against each other (the lab's
part of BENCHMARKS.md): eager / channels_last / padding / thread variants of the whole network at
one size, and the ways one replication-padded conv + ReLU can run.

    python tools/bench_variants.py [--sizes 1280x720] [--frames 3] [--video V] [--style S] [--bf16] [--json F]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from rest_video import RestVideoError, Stylizer
from rest_video.core.config import load_pipeline
from rest_video.core.errors import MediaError
from rest_video.core.log import show_library_log
from rest_video.engine.tensors import tensor_to_uint8
from rest_video.evaluation.report import machine_info
from rest_video.evaluation.speed import content_frames, default_style, load_bench_model, parse_sizes
from rest_video.evaluation.speed_report import write_json
from rest_video.models.backends import conv_mkldnn
from rest_video.models.build import build_inference
from rest_video.models.threads import num_threads


def _median_ms(ts: list[float]) -> float:
    return 1e3 * statistics.median(ts)


def run_variants_report(sizes: list[tuple[int, int]], rounds: int = 3, video: str | Path | None = None,
                        style: str | Path | None = None, checkpoint: str | None = None, threads: int = 0,
                        bf16: bool = False, log: Callable[[str], None] | None = None) -> dict:
    """:func:`run_variants` on the CPU at the first of ``sizes``, with the bench's model / style / frame."""
    w, h = sizes[0]
    style_path = Path(style) if style is not None else default_style()
    if not style_path.is_file():
        raise MediaError(f"style image not found: {style_path} (use --style)")
    if threads:
        torch.set_num_threads(int(threads))
    bm = load_bench_model(checkpoint)
    cfg = load_pipeline(None, {"runtime.device": "cpu", "style.cache": False})
    st = Stylizer(cfg, model=bm.model)
    stats = st.load_style(style_path, use_cache=False)
    if video is not None and not Path(video).is_file():
        raise MediaError(f"video not found: {video}")
    frame = content_frames(w, h, 1, Path(video) if video else None)[0]
    layer = run_layer_variants(w, h, rounds=max(3, 2 * int(rounds) + 1), log=log)
    rows = run_variants(st.model, stats, frame, rounds=max(1, int(rounds)), log=log, bf16=bf16)
    return {"machine": machine_info(torch.device("cpu")), "weights": bm.source, "note": bm.note,
            "width": w, "height": h, "rounds": rounds, "layer_variants": layer, "variants": rows}


def run_variants(model, style, frame: np.ndarray, rounds: int = 3, log: Callable[[str], None] | None = None,
                 bf16: bool = False) -> list[dict]:
    """The alternatives behind the CPU defaults, on one frame, interleaved round by round (the order
    reversed every round) so that all see the same machine load. Returns one row per variant:
    median / min ms, speedup over the eager reference, max uint8 difference to it."""
    log = log or (lambda s: None)
    cl = torch.channels_last
    x = torch.from_numpy(np.ascontiguousarray(frame[None])).permute(0, 3, 1, 2).float().div_(255.0)
    model = model.eval().cpu()
    model_cl = copy.deepcopy(model).to(memory_format=cl)
    gen_nchw = build_inference(model, "cpu", torch.float32, backend="generic", channels_last=False)
    gen_cl = build_inference(model, "cpu", torch.float32, backend="generic")
    opt = build_inference(model, "cpu", torch.float32)
    nt = torch.get_num_threads()

    def threads(n: int, fn):
        def run(x):
            old = torch.get_num_threads()
            torch.set_num_threads(n)
            try:
                return fn(x)
            finally:
                torch.set_num_threads(old)
        return run

    def small_ops_all_threads(x):
        opt.small_op_threads, opt.conv_threads = 0, nt
        try:
            return opt(x, style)
        finally:
            opt.small_op_threads, opt.conv_threads = 1, 0

    def convs_on_all_threads(x):
        opt.conv_threads = nt
        try:
            return opt(x, style)
        finally:
            opt.conv_threads = 0

    variants: dict[str, Callable] = {
        "eager fp32 (reference)": lambda x: model(x, style),
        "eager fp32, channels_last": lambda x: model_cl(x.contiguous(memory_format=cl), style),
        "folded, F.pad + conv, NCHW": lambda x: gen_nchw(x, style),
        "folded, F.pad + conv, channels_last": lambda x: gen_cl(x, style),
        "folded, oneDNN in place + border fix (default)": lambda x: opt(x, style),
        f"  same, convs fixed on {nt} threads, small ops on 1": convs_on_all_threads,
        f"  same, everything on {nt} threads": small_ops_all_threads,
        "  same, everything on 1 thread": threads(1, lambda x: opt(x, style)),
        "eager fp32, 1 thread": threads(1, lambda x: model(x, style)),
    }
    if bf16:
        gen_bf = build_inference(model, "cpu", torch.bfloat16, backend="generic")
        variants["folded, F.pad + conv, channels_last, bf16"] = lambda x: gen_bf(x, style)
    times: dict[str, list[float]] = {k: [] for k in variants}
    diffs: dict[str, int] = {}
    with torch.inference_mode():
        ref = tensor_to_uint8(model(x, style).clamp_(0, 1)).astype(np.int16)
        for k, fn in variants.items():  # also the warm-up
            diffs[k] = int(np.abs(tensor_to_uint8(fn(x).float().clamp_(0, 1)).astype(np.int16) - ref).max())
        for _ in range(8):  # let the default's conv thread tuner settle before timing it
            if not opt.tuning:
                break
            opt(x, style)
        for r in range(rounds):
            items = list(variants.items())
            for k, fn in (items if r % 2 == 0 else items[::-1]):
                t0 = time.perf_counter()
                fn(x)
                times[k].append(time.perf_counter() - t0)
            log(f"variants: round {r + 1}/{rounds}")
    tuned = [b for b in opt.tuned_conv_threads() if b is not None]
    if tuned:
        log(f"variants: the default's tuner chose {tuned[0]} conv thread(s)")
    base = statistics.median(times["eager fp32 (reference)"])
    return [{"variant": k, "median_ms": _median_ms(v), "min_ms": 1e3 * min(v),
             "speedup": base / statistics.median(v), "max_u8_diff": diffs[k]} for k, v in times.items()]


def run_layer_variants(
    width: int, height: int, rounds: int = 7, log: Callable[[str], None] | None = None
) -> list[dict]:
    """One 16 -> 16 channel 3x3 replication-padded conv + ReLU at ``width x height``, the ways it
    can be run on the CPU (and what the pieces cost), interleaved. Rows as :func:`run_variants`
    (speedup relative to the first row; ``max_abs_err`` vs it for the exact variants)."""
    g = torch.Generator().manual_seed(0)
    cl = torch.channels_last
    x = torch.rand(1, 16, height, width, generator=g)
    xc = x.contiguous(memory_format=cl)
    w = torch.randn(16, 16, 3, 3, generator=g) * 0.1
    b = torch.randn(16, generator=g) * 0.1
    dst = torch.empty(1, 16, height, width, memory_format=cl)
    nt = torch.get_num_threads()
    pw = (1, 1, 1, 1)

    def chosen():  # as inside the inference form: small ops on one thread, the conv on all
        with num_threads(1):
            return conv_mkldnn([(xc, w)], b, True, dst, nt)

    mk = torch.ops.mkldnn._convolution_pointwise
    variants: dict[str, tuple[Callable, bool]] = {
        "NCHW: F.pad(replicate) + conv + relu_ (eager)": (
            lambda: F.conv2d(F.pad(x, pw, mode="replicate"), w, b).relu_(),
            True,
        ),
        "NHWC: F.pad(replicate) + conv + relu_": (
            lambda: F.conv2d(F.pad(xc, pw, mode="replicate"), w, b).relu_(),
            True,
        ),
        "NHWC: conv zero pad + relu_ (border wrong)": (lambda: F.conv2d(xc, w, b, padding=1).relu_(), False),
        "NHWC: oneDNN conv+ReLU fused, new tensor (border wrong)": (
            lambda: mk(xc, w, b, [1, 1], [1, 1], [1, 1], 1, "relu", [], ""),
            False,
        ),
        "NHWC: oneDNN in place, reused buffer, border fix (default)": (chosen, True),
        "piece: F.pad(replicate) alone, NHWC": (lambda: F.pad(xc, pw, mode="replicate"), False),
        "piece: fresh tensor + zero_ (page faults)": (lambda: torch.empty_like(xc).zero_(), False),
        "piece: zero_ of a reused buffer": (lambda: dst.zero_(), False),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    errs: dict[str, float | None] = {}
    with torch.inference_mode():
        ref = F.conv2d(F.pad(x, pw, mode="replicate"), w, b).relu_()
        for k, (fn, exact) in variants.items():
            y = fn()
            errs[k] = float((y - ref).abs().max()) if exact else None
        for r in range(rounds):
            items = list(variants.items())
            for k, (fn, _) in (items if r % 2 == 0 else items[::-1]):
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        log and log(f"layer variants: {rounds} rounds done")
    base = statistics.median(next(iter(times.values())))
    return [
        {
            "variant": k,
            "median_ms": _median_ms(v),
            "min_ms": 1e3 * min(v),
            "speedup": base / statistics.median(v),
            "max_abs_err": errs[k],
        }
        for k, v in times.items()
    ]


def format_layer_variants(rows: list[dict], width: int, height: int) -> str:
    lines = [f"one 16->16 3x3 replication-padded conv + ReLU at {width}x{height}:",
             f"  {'variant':58s} {'median ms':>10} {'min ms':>9} {'speedup':>8} {'max err':>8}"]
    for r in rows:
        err = "-" if r["max_abs_err"] is None else f"{r['max_abs_err']:.0e}"
        lines.append(
            f"  {r['variant']:58s} {r['median_ms']:10.1f} {r['min_ms']:9.1f} {r['speedup']:7.2f}x {err:>8}"
        )
    return "\n".join(lines)


def format_variants(rows: list[dict], width: int, height: int) -> str:
    lines = [f"variants at {width}x{height} (interleaved rounds; speedup = eager median / median):",
             f"  {'variant':50s} {'median ms':>10} {'min ms':>9} {'speedup':>8} {'|du8|':>6}"]
    for r in rows:
        lines.append(f"  {r['variant']:50s} {r['median_ms']:10.0f} {r['min_ms']:9.0f} {r['speedup']:7.2f}x "
                     f"{r['max_u8_diff']:6d}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command; a user's mistake is one line on stderr, exit 2."""
    p = argparse.ArgumentParser(prog="python tools/bench_variants.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1280x720", metavar="WxH,...", help="the first size is measured")
    p.add_argument("--frames", type=int, default=3, metavar="N", help="rounds (default 3)")
    p.add_argument("--video", metavar="PATH", help="content frame from this video (default: synthetic)")
    p.add_argument("--style", metavar="IMAGE", help="style image (default: a shipped style photo)")
    p.add_argument("--checkpoint", metavar="FILE")
    p.add_argument(
        "--threads", type=int, default=0, metavar="N", help="torch CPU threads (0 = torch's default)"
    )
    p.add_argument("--bf16", action="store_true", help="also the bf16 variant (slow without native bf16)")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    show_library_log()
    log = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    try:
        if args.frames < 1 or args.threads < 0:
            raise RestVideoError("--frames must be >= 1 and --threads >= 0")
        report = run_variants_report(
            parse_sizes(args.sizes),
            rounds=args.frames,
            video=args.video,
            style=args.style,
            checkpoint=args.checkpoint,
            threads=args.threads,
            bf16=args.bf16,
            log=log,
        )
        report["command"] = "python tools/bench_variants.py " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        if report.get("note"):
            print(f"NOTE: {report['note']}")
        print(format_layer_variants(report["layer_variants"], report["width"], report["height"]))
        print(format_variants(report["variants"], report["width"], report["height"]))
        if args.json:
            write_json(report, args.json)
    except RestVideoError as e:
        print(f"tools/bench_variants.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
