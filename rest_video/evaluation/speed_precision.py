"""``rest-video bench``, per precision: ms per frame and the share of the machine's matrix
throughput that REST reaches.

The machine's achievable throughput is measured in the same run and the same precision by a square
GEMM (``torch.mm``, n grown until one product takes ~0.1 s, best of a few), in MAC/s. REST's rate
is its multiply-accumulates per pixel (:meth:`RESTInference.macs_per_pixel`: 23,904 for the shipped
16x5 model, the ten folded 3x3 convs) times the pixels, over the measured time per frame; the
fraction is the one over the other. Outputs of every precision are compared with fp32's on the
same frames (PSNR and largest difference in uint8 levels; real frames when the bench has a video).
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch

from rest_video.engine.precision import DTYPES, auto_candidates
from rest_video.evaluation.timing import DeviceTimer, bench_network
from rest_video.metrics import psnr

PRECISION_NAMES = tuple(DTYPES)


def parse_precisions(text: str, device: torch.device) -> list[str]:
    """``"auto"`` -> this device's candidates (CPU: fp32, + bf16 where the CPU has bf16 matrix units,
    + int8 where it has VNNI / AMX-int8; CUDA: fp32, fp16); else a comma list of fp32 / fp16 / bf16 /
    int8 (fp32 always first: the reference)."""
    from rest_video.core.errors import ConfigError

    text = str(text).replace(" ", "")
    if text == "auto":
        return auto_candidates() if device.type == "cpu" else ["fp32", "fp16"]
    names = [p for p in text.split(",") if p]
    bad = [p for p in names if p not in PRECISION_NAMES]
    if bad or not names:
        raise ConfigError(
            f"--precisions: {','.join(bad) or text!r} is not a list of {', '.join(PRECISION_NAMES)} (or auto)"
        )
    return ["fp32"] + [p for p in dict.fromkeys(names) if p != "fp32"]


def gemm_macs(dtype: torch.dtype, device: torch.device, target_s: float = 0.1, max_n: int = 4096,
              reps: int = 3, int8: bool = False) -> tuple[float, int]:
    """Achievable matrix throughput (MAC/s) of ``torch.mm`` in ``dtype`` here, and the n it used;
    ``int8``: of ``torch._int_mm`` (int8 x int8 -> int32, oneDNN's VNNI / AMX-int8 GEMM on the CPU)."""
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)  # noqa: E731
    mm = torch._int_mm if int8 else torch.mm
    n = 256
    g = torch.Generator(device="cpu").manual_seed(0)
    while True:
        if int8:
            a = torch.randint(-127, 128, (n, n), generator=g, dtype=torch.int8).to(device)
            b = torch.randint(-127, 128, (n, n), generator=g, dtype=torch.int8).to(device)
        else:
            a = torch.randn(n, n, generator=g).to(device, dtype)
            b = torch.randn(n, n, generator=g).to(device, dtype)
        mm(a, b)  # warm-up
        sync()
        t0 = time.perf_counter()
        mm(a, b)
        sync()
        t = time.perf_counter() - t0
        if t >= target_s or n >= max_n:
            break
        n *= 2
    best = t
    for _ in range(reps - 1):
        t0 = time.perf_counter()
        mm(a, b)
        sync()
        best = min(best, time.perf_counter() - t0)
    return n ** 3 / best, n


def bench_precisions(stylizers: dict, frames_by_size: dict, style, log: Callable[[str], None]) -> list[dict]:
    """Per precision (``stylizers``: precision -> Stylizer, fp32 first): GEMM throughput, and per size
    (``frames_by_size``: ``(w, h)`` -> RGB uint8 frames) the median ms per frame, REST's MAC/s and
    its fraction of the GEMM's, PSNR and largest difference against fp32's outputs."""
    rows = []
    ref_out: dict[tuple[int, int], list[np.ndarray]] = {}
    for p, st in stylizers.items():
        net = st.net
        macs = net.macs_per_pixel() if hasattr(net, "macs_per_pixel") else None
        gemm, n = gemm_macs(st.dtype, st.device, int8=p == "int8")
        row = {"precision": p, "inference": getattr(net, "extra_repr", lambda net=net: type(net).__name__)(),
               "macs_per_pixel": macs, "gemm_gmacs": gemm / 1e9, "gemm_n": n, "sizes": []}
        log(f"{p}: GEMM {n}x{n} {gemm / 1e9:.1f} GMAC/s; {row['inference']}")
        dev = DeviceTimer(st)
        for (w, h), frames in frames_by_size.items():
            res = bench_network(dev, frames, style, reference=False, keep_outputs=True)
            outs = res.pop("outputs")
            ms = res["optimized_ms"]
            r = {"width": w, "height": h, "ms": ms, "min_ms": res["optimized_min_ms"]}
            if macs:
                rate = macs * w * h / (ms / 1e3)
                r.update(gmacs=rate / 1e9, fraction_of_gemm=rate / gemm)
            if p == "fp32":
                ref_out[(w, h)] = outs
            elif (w, h) in ref_out:
                ref = ref_out[(w, h)]
                r.update(
                    psnr_db=psnr(outs, ref),
                    max_diff=int(
                        max(np.abs(a.astype(np.int16) - b).max() for a, b in zip(outs, ref, strict=False))
                    ),
                )
            row["sizes"].append(r)
            log(format_precision_size(p, r))
        rows.append(row)
    return rows


def format_precision_size(p: str, r: dict) -> str:
    s = f"{p} {r['width']}x{r['height']}: {r['ms']:.1f} ms/frame"
    if "gmacs" in r:
        s += f", {r['gmacs']:.1f} GMAC/s = {100 * r['fraction_of_gemm']:.0f} % of the GEMM"
    if "psnr_db" in r:
        s += f", {r['psnr_db']:.1f} dB / max diff {r['max_diff']} against fp32"
    return s


def format_precisions(rows: list[dict]) -> list[str]:
    """The per-precision table of the text report."""
    if not rows:
        return []
    macs = rows[0].get("macs_per_pixel")
    lines = [f"per precision (REST {macs:,} MAC/pixel; GEMM: torch.mm n x n in that precision "
             f"(int8: torch._int_mm), same run):"
             if macs else "per precision:"]
    lines.append(f"{'precision':>9} {'size':>10} {'ms/frame':>9} {'GMAC/s':>7} {'GEMM':>7} {'of GEMM':>7} "
                 f"{'dB vs fp32':>10} {'max diff':>8}")
    for row in rows:
        for r in row["sizes"]:
            size = f"{r['width']}x{r['height']}"
            lines.append(
                f"{row['precision']:>9} {size:>10} {r['ms']:9.1f} {r.get('gmacs', float('nan')):7.1f} "
                f"{row['gemm_gmacs']:7.1f} {100 * r.get('fraction_of_gemm', float('nan')):6.0f}%"
                + (f" {r['psnr_db']:10.1f} {r['max_diff']:8d}" if "psnr_db" in r else f" {'-':>10} {'-':>8}")
            )
    return lines
