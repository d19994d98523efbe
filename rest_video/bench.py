"""Speed measurements: the reference network vs its inference form, pipeline stages, end to end.

:func:`run_bench` measures, per frame size,

* ``eager``: the straightforward eager fp32 :class:`~rest_video.models.rest.REST` module (what
  ``runtime.optimized: false`` runs), the reference, in the same run;
* ``optimized``: the inference form the Stylizer uses (:mod:`rest_video.models.inference`), timed
  alternately with the reference frame by frame so both see the same machine load; ``speedup``
  is the ratio of the medians and ``max_u8_diff`` the largest output difference in uint8 levels;
* each pipeline stage alone (ms/frame): ``decode`` (PyAV, of an H.264 clip of that size),
  ``upload`` (uint8 frame -> network input tensor: on CPU a host conversion, on CUDA pinned
  copy + conversion on the device), ``infer`` (the optimized network), ``download`` (output ->
  uint8 HWC frame on the host), ``encode`` (PyAV libx264 with the pipeline's output settings, to
  a temporary file);

and on a real video, the file-to-file rate of :func:`rest_video.pipeline.file.stylize_file` and its
overlap efficiency: end-to-end fps divided by the fps of the slowest single stage (1.0 would be
perfect overlap; on a CPU the stages share the cores, so less is expected).

Timings are medians over ``frames`` frames after one warm-up call.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rest_video.core.config import PipelineConfig, load_pipeline
from rest_video.core.errors import ConfigError, MediaError

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared" / "data"
DEFAULT_SIZES: tuple[tuple[int, int], ...] = ((640, 360), (1280, 720), (1920, 1080), (3840, 2160))
DEFAULT_VIDEO = SHARED / "video" / "vtest.avi"
DEFAULT_STYLE = SHARED / "photos" / "bsds500" / "test" / "100007.jpg"
STAGES = ("decode", "upload", "infer", "download", "encode")

__all__ = ["parse_sizes", "run_bench", "format_report", "load_bench_model", "run_variants", "run_variants_report",
           "format_variants", "run_layer_variants", "format_layer_variants", "SizeResult", "VideoResult"]


# ------------------------------------------------------------------------------ inputs
def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"640x360,1280x720"`` -> ``[(640, 360), (1280, 720)]`` (width x height)."""
    sizes = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        try:
            w, h = (int(v) for v in part.lower().split("x"))
        except ValueError:
            raise ConfigError(f"--sizes: {part!r} is not WIDTHxHEIGHT (e.g. 1280x720)") from None
        if w < 1 or h < 1 or w > 16384 or h > 16384:
            raise ConfigError(f"--sizes: {part!r} is out of range (1..16384)")
        sizes.append((w, h))
    if not sizes:
        raise ConfigError("--sizes: no sizes given")
    return sizes


@dataclass
class BenchModel:
    model: torch.nn.Module
    source: str
    checkpoint: str | None
    note: str | None = None


def load_bench_model(checkpoint: str | None = None, name: str = "rest_16x5") -> BenchModel:
    """``checkpoint`` if given, else the shipped weights, else random init (speed does not depend
    on the weight values; the note says so)."""
    from rest_video.models import REST, create_model
    from rest_video.models._registry import WEIGHTS_DIR, _REGISTRY, default_cfgs

    if checkpoint is not None:
        return BenchModel(create_model(name, checkpoint=checkpoint), f"checkpoint {checkpoint}", checkpoint)
    key = f"{name}.default"
    if key in default_cfgs and (WEIGHTS_DIR / default_cfgs[key].file).is_file():
        return BenchModel(create_model(name), f"shipped weights {default_cfgs[key].file}", None)
    torch.manual_seed(0)
    model = REST(_REGISTRY[name]()).eval().requires_grad_(False)
    return BenchModel(model, "random init", None,
                      note="no shipped weights and no --checkpoint: random initial weights "
                           "(speed does not depend on weight values; outputs are not meaningful)")


def content_frames(width: int, height: int, n: int, video: Path | None = None) -> list[np.ndarray]:
    """``n`` RGB uint8 frames of ``width x height``: the video's first frames resized, else synthetic."""
    frames: list[np.ndarray] = []
    if video is not None:
        import cv2

        from rest_video.io.video import VideoReader

        with VideoReader(video) as r:
            for fr in r.frames(max_frames=n):
                img = fr.rgb
                if img.shape[1] != width or img.shape[0] != height:
                    interp = cv2.INTER_AREA if width < img.shape[1] else cv2.INTER_LINEAR
                    img = cv2.resize(img, (width, height), interpolation=interp)
                frames.append(np.ascontiguousarray(img))
    if not frames:
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        for i in range(n):
            base = np.stack([xx / max(width, 1), yy / max(height, 1), 0.5 + 0.5 * np.sin((xx + yy + 7 * i) / 23.0)], -1)
            noise = rng.normal(0, 0.05, base.shape).astype(np.float32)
            frames.append((np.clip(base + noise, 0, 1) * 255).astype(np.uint8))
    while len(frames) < n:
        frames.append(frames[len(frames) % max(1, len(frames))].copy())
    return frames[:n]


# ------------------------------------------------------------------------------ results
@dataclass
class SizeResult:
    width: int
    height: int
    frames: int
    eager_ms: float | None
    optimized_ms: float
    speedup: float | None
    max_u8_diff: int | None
    stages_ms: dict[str, float] = field(default_factory=dict)
    eager_min_ms: float | None = None
    optimized_min_ms: float | None = None


@dataclass
class VideoResult:
    path: str
    width: int
    height: int
    frames: int
    seconds: float
    fps: float
    stages_ms: dict[str, float]
    slowest_stage: str
    slowest_stage_fps: float
    overlap_efficiency: float
    stylize_thread_ms: float       # upload + infer + download: one thread in the pipeline
    thread_bound_fps: float        # fps of the slowest pipeline thread (decode | stylize | encode)


# ------------------------------------------------------------------------------ timing
def _median_ms(ts: list[float]) -> float:
    return 1e3 * statistics.median(ts)


class _Device:
    """Upload / download / sync for the bench, mirroring what the pipeline does on each device."""

    def __init__(self, stylizer) -> None:
        self.st = stylizer
        self.device = stylizer.device
        self.cuda = self.device.type == "cuda"
        self.in_dtype = stylizer.dtype if stylizer.net is not stylizer.model else torch.float32
        self._pin: dict[tuple, torch.Tensor] = {}

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def upload(self, frame: np.ndarray) -> torch.Tensor:
        if not self.cuda:
            return self.st._to_tensor(frame[None])  # exactly the Stylizer's conversion
        pin = self._pinned(frame.shape, "in")
        pin.numpy()[...] = frame
        d = pin.to(self.device, non_blocking=True)
        return d.permute(2, 0, 1).unsqueeze(0).to(self.in_dtype).div_(255.0)

    def download(self, y: torch.Tensor) -> np.ndarray:
        from rest_video.engine.stylizer import to_uint8_hwc

        if not self.cuda:
            return to_uint8_hwc(y)[0]
        u8 = y[0].float().mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0)
        pin = self._pinned(tuple(u8.shape), "out")
        pin.copy_(u8, non_blocking=True)
        torch.cuda.synchronize(self.device)
        return pin.numpy().copy()

    def _pinned(self, shape: tuple, kind: str) -> torch.Tensor:
        key = (kind, tuple(shape))
        if key not in self._pin:
            self._pin[key] = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        return self._pin[key]

    def timed(self, fn: Callable[[], object]) -> tuple[float, object]:
        self.sync()
        t0 = time.perf_counter()
        out = fn()
        self.sync()
        return time.perf_counter() - t0, out


def _bench_network(dev: _Device, frames: list[np.ndarray], style, reference: bool) -> dict:
    """Optimized vs eager reference, alternating per frame (order swapped every frame)."""
    st = dev.st
    model, net = st.model, st.net
    opt_t: list[float] = []
    ref_t: list[float] = []
    max_diff = 0
    strength = st.cfg.style.strength
    method = st.method

    def run_opt(x):
        return net(x, style, strength=strength, method=method).clamp_(0.0, 1.0)

    def run_ref(x):
        return model(x.float(), style, strength=strength, method=method).clamp_(0.0, 1.0)

    with torch.inference_mode():
        x0 = dev.upload(frames[0])
        for _ in range(8):  # warm-up: oneDNN primitives, buffers, cuDNN autotuning, the CPU thread tuner
            run_opt(x0)
            if not getattr(net, "tuning", False):
                break
        if reference:
            run_ref(x0)
        for i, f in enumerate(frames):
            x = dev.upload(f)
            order = (("opt", "ref") if i % 2 == 0 else ("ref", "opt")) if reference else ("opt",)
            outs = {}
            for which in order:
                t, outs[which] = dev.timed(lambda: run_opt(x) if which == "opt" else run_ref(x))
                (opt_t if which == "opt" else ref_t).append(t)
            if reference:
                from rest_video.engine.stylizer import to_uint8_hwc

                a = to_uint8_hwc(outs["opt"]).astype(np.int16)
                b = to_uint8_hwc(outs["ref"]).astype(np.int16)
                max_diff = max(max_diff, int(np.abs(a - b).max()))
            del outs
    res = {"optimized_ms": _median_ms(opt_t), "optimized_min_ms": 1e3 * min(opt_t)}
    if reference:
        res.update(eager_ms=_median_ms(ref_t), eager_min_ms=1e3 * min(ref_t), max_u8_diff=max_diff,
                   speedup=statistics.median(ref_t) / statistics.median(opt_t))
    return res


def _bench_transfers(dev: _Device, frames: list[np.ndarray], style) -> dict[str, float]:
    st = dev.st
    up: list[float] = []
    down: list[float] = []
    with torch.inference_mode():
        dev.upload(frames[0])
        y = st.stylize_tensor(dev.upload(frames[0]), style)
        dev.download(y)
        for f in frames:
            t, _ = dev.timed(lambda: dev.upload(f))
            up.append(t)
            t, _ = dev.timed(lambda: dev.download(y))
            down.append(t)
    return {"upload": _median_ms(up), "download": _median_ms(down)}


def _encode_ms(frames: list[np.ndarray], path: Path, cfg: PipelineConfig) -> float:
    from rest_video.io.video import VideoInfo, VideoWriter

    h, w = frames[0].shape[:2]
    info = VideoInfo(width=w, height=h, time_base=Fraction(1, 25), rate=Fraction(25), frames=len(frames))
    t0 = time.perf_counter()
    with VideoWriter(path, info, cfg.output) as wr:
        for i, f in enumerate(frames):
            wr.write(f, i)
    return 1e3 * (time.perf_counter() - t0) / len(frames)


def _decode_ms(path: Path, max_frames: int | None = None) -> tuple[float, int]:
    from rest_video.io.video import VideoReader

    n = 0
    t0 = time.perf_counter()
    with VideoReader(path) as r:
        for _ in r.frames(max_frames=max_frames):
            n += 1
    if n == 0:
        raise MediaError(f"no decodable frames in {path}")
    return 1e3 * (time.perf_counter() - t0) / n, n


def _codec_frames(frames: list[np.ndarray], n: int) -> list[np.ndarray]:
    return [frames[i % len(frames)] for i in range(n)]


# ------------------------------------------------------------------------------ driver
def machine_info(device: torch.device) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpu_capability": getattr(torch.backends.cpu, "get_cpu_capability", lambda: "?")(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "device": str(device),
    }
    try:
        info["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def run_bench(device: str = "auto", sizes: list[tuple[int, int]] | None = None, frames: int | None = None,
              video: str | Path | None = None, style: str | Path | None = None, checkpoint: str | None = None,
              threads: int = 0, video_frames: int | None = None, reference: bool = True,
              use_video: bool = True, log: Callable[[str], None] | None = None) -> dict:
    """Run the benchmark; returns a JSON-able report (see :func:`format_report`).

    Args:
        device: ``auto``, ``cpu`` or ``cuda``.
        sizes: ``(width, height)`` list (default: 640x360, 1280x720, 1920x1080, 3840x2160).
        frames: timed frames per size (default 3 on CPU, 30 on CUDA).
        video: the video for content frames and the end-to-end run (default: the shared vtest.avi
            when it exists).
        style: style image (default: the shared BSDS500 test/100007.jpg).
        checkpoint: weights instead of the shipped ones.
        threads: torch CPU threads (0: torch's default).
        video_frames: frames of the end-to-end run (default 20 on CPU, 300 on CUDA).
        reference: also time the eager fp32 reference.
        use_video: run the end-to-end part (needs a video).
        log: progress lines (e.g. ``print``).
    """
    from rest_video.core.devices import resolve_device
    from rest_video.engine.stylizer import Stylizer

    log = log or (lambda s: None)
    dev_t = resolve_device(device)
    sizes = list(sizes or DEFAULT_SIZES)
    frames = int(frames or (30 if dev_t.type == "cuda" else 3))
    if frames < 1:
        raise ConfigError("--frames must be >= 1")
    video_path = _resolve_video(video) if use_video else None
    style_path = Path(style) if style is not None else DEFAULT_STYLE
    if not style_path.is_file():
        raise MediaError(f"style image not found: {style_path} (use --style)")

    bm = load_bench_model(checkpoint)
    overrides = {"runtime.device": dev_t.type, "runtime.optimized": True, "runtime.threads": int(threads),
                 "style.cache": False}
    if checkpoint is not None:
        overrides["model.checkpoint"] = str(checkpoint)
    cfg = load_pipeline(None, overrides)
    stylizer = Stylizer(cfg, model=bm.model)
    style_stats = stylizer.load_style(style_path, use_cache=False)
    dev = _Device(stylizer)
    report: dict = {
        "machine": machine_info(dev_t),
        "weights": bm.source,
        "note": bm.note,
        "style": str(style_path),
        "video": str(video_path) if video_path else None,
        "frames_per_size": frames,
        "dtype": str(stylizer.dtype).replace("torch.", ""),
        "inference": type(stylizer.net).__name__ + (f" ({stylizer.net.extra_repr()})" if hasattr(stylizer.net, "extra_repr") else ""),
        "sizes": [],
        "end_to_end": None,
    }
    if bm.note:
        log(f"note: {bm.note}")
    with tempfile.TemporaryDirectory(prefix="rest-video-bench-") as td:
        tmp = Path(td)
        for (w, h) in sizes:
            log(f"{w}x{h}: {frames} frames ...")
            fr = content_frames(w, h, frames, video_path)
            net = _bench_network(dev, fr, style_stats, reference)
            stages = _bench_transfers(dev, fr, style_stats)
            stages["infer"] = net["optimized_ms"]
            codec_fr = _codec_frames(fr, max(frames, 8))
            clip = tmp / f"clip_{w}x{h}.mp4"
            stages["encode"] = _encode_ms(codec_fr, clip, cfg)
            stages["decode"] = _decode_ms(clip)[0]
            clip.unlink(missing_ok=True)
            res = SizeResult(width=w, height=h, frames=frames, eager_ms=net.get("eager_ms"),
                             optimized_ms=net["optimized_ms"], speedup=net.get("speedup"),
                             max_u8_diff=net.get("max_u8_diff"), stages_ms={k: stages[k] for k in STAGES},
                             eager_min_ms=net.get("eager_min_ms"), optimized_min_ms=net.get("optimized_min_ms"))
            report["sizes"].append(asdict(res))
            log(_format_size(res))
        if video_path is not None:
            report["end_to_end"] = asdict(_bench_video(stylizer, dev, cfg, video_path, style_path, style_stats,
                                                       video_frames or (300 if dev_t.type == "cuda" else 20),
                                                       frames, tmp, log))
    return report


def run_variants_report(sizes: list[tuple[int, int]], rounds: int = 3, video: str | Path | None = None,
                        style: str | Path | None = None, checkpoint: str | None = None, threads: int = 0,
                        bf16: bool = False, log: Callable[[str], None] | None = None) -> dict:
    """:func:`run_variants` on the CPU at the first of ``sizes``, with the bench's model / style / frame."""
    from rest_video.engine.stylizer import Stylizer

    w, h = sizes[0]
    style_path = Path(style) if style is not None else DEFAULT_STYLE
    if not style_path.is_file():
        raise MediaError(f"style image not found: {style_path} (use --style)")
    if threads:
        torch.set_num_threads(int(threads))
    bm = load_bench_model(checkpoint)
    cfg = load_pipeline(None, {"runtime.device": "cpu", "style.cache": False})
    st = Stylizer(cfg, model=bm.model)
    stats = st.load_style(style_path, use_cache=False)
    frame = content_frames(w, h, 1, _resolve_video(video))[0]
    layer = run_layer_variants(w, h, rounds=max(3, 2 * int(rounds) + 1), log=log)
    rows = run_variants(st.model, stats, frame, rounds=max(1, int(rounds)), log=log, bf16=bf16)
    return {"machine": machine_info(torch.device("cpu")), "weights": bm.source, "note": bm.note,
            "width": w, "height": h, "rounds": rounds, "layer_variants": layer, "variants": rows}


def _resolve_video(video: str | Path | None) -> Path | None:
    if video is not None:
        p = Path(video)
        if not p.is_file():
            raise MediaError(f"video not found: {p}")
        return p
    return DEFAULT_VIDEO if DEFAULT_VIDEO.is_file() else None


def _bench_video(stylizer, dev: _Device, cfg: PipelineConfig, video: Path, style_path: Path, style_stats,
                 n: int, frames: int, tmp: Path, log) -> VideoResult:
    from rest_video.io.video import VideoReader
    from rest_video.pipeline.file import stylize_file

    with VideoReader(video) as r:
        w, h, total = r.info.width, r.info.height, r.info.frames
    n = max(1, min(n, total) if total else n)
    log(f"{video.name} ({w}x{h}): stages and end-to-end on {n} frames ...")
    stages: dict[str, float] = {}
    stages["decode"], n_dec = _decode_ms(video, n)
    n = min(n, n_dec)
    fr = content_frames(w, h, min(n, max(frames, 1)), video)
    net = _bench_network(dev, fr, style_stats, reference=False)
    stages.update(_bench_transfers(dev, fr, style_stats))
    stages["infer"] = net["optimized_ms"]
    stages["encode"] = _encode_ms(_codec_frames(fr, n), tmp / "enc.mp4", cfg)
    result = stylize_file(video, style_path, tmp / "e2e.mp4", cfg=cfg, overwrite=True, max_frames=n,
                          progress=False, stylizer=stylizer)
    stage_fps = {k: 1e3 / v for k, v in stages.items() if v > 0}
    slowest = min(stage_fps, key=stage_fps.get)
    thread_ms = stages["upload"] + stages["infer"] + stages["download"]
    thread_bound = 1e3 / max(stages["decode"], thread_ms, stages["encode"])
    return VideoResult(path=str(video), width=w, height=h, frames=result.frames, seconds=result.seconds,
                       fps=result.fps, stages_ms={k: stages[k] for k in STAGES}, slowest_stage=slowest,
                       slowest_stage_fps=stage_fps[slowest], overlap_efficiency=result.fps / stage_fps[slowest],
                       stylize_thread_ms=thread_ms, thread_bound_fps=thread_bound)


# ------------------------------------------------------------------------------ variants
def run_variants(model, style, frame: np.ndarray, rounds: int = 3, log: Callable[[str], None] | None = None,
                 bf16: bool = False) -> list[dict]:
    """The alternatives behind the CPU defaults, on one frame, interleaved round by round (the order
    reversed every round) so that all see the same machine load. Returns one row per variant:
    median / min ms, speedup over the eager reference, max uint8 difference to it."""
    import copy

    from rest_video.engine.stylizer import to_uint8_hwc
    from rest_video.models.inference import build_inference

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
        ref = to_uint8_hwc(model(x, style).clamp_(0, 1)).astype(np.int16)
        for k, fn in variants.items():  # also the warm-up
            diffs[k] = int(np.abs(to_uint8_hwc(fn(x).float().clamp_(0, 1)).astype(np.int16) - ref).max())
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
    tuned = [st["best"] for st in opt._tuner.state.values() if st["best"] is not None]
    if tuned:
        log(f"variants: the default's tuner chose {tuned[0]} conv thread(s)")
    base = statistics.median(times["eager fp32 (reference)"])
    return [{"variant": k, "median_ms": _median_ms(v), "min_ms": 1e3 * min(v),
             "speedup": base / statistics.median(v), "max_u8_diff": diffs[k]} for k, v in times.items()]


def run_layer_variants(width: int, height: int, rounds: int = 7, log: Callable[[str], None] | None = None) -> list[dict]:
    """One 16 -> 16 channel 3x3 replication-padded conv + ReLU at ``width x height``, the ways it
    can be run on the CPU (and what the pieces cost), interleaved. Rows as :func:`run_variants`
    (speedup relative to the first row; ``max_abs_err`` vs it for the exact variants)."""
    import torch.nn.functional as F

    from rest_video.models.inference import _conv_mkldnn, _num_threads

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
        with _num_threads(1):
            return _conv_mkldnn([(xc, w)], b, True, dst, nt)

    mk = torch.ops.mkldnn._convolution_pointwise
    variants: dict[str, tuple[Callable, bool]] = {
        "NCHW: F.pad(replicate) + conv + relu_ (eager)": (lambda: F.conv2d(F.pad(x, pw, mode="replicate"), w, b).relu_(), True),
        "NHWC: F.pad(replicate) + conv + relu_": (lambda: F.conv2d(F.pad(xc, pw, mode="replicate"), w, b).relu_(), True),
        "NHWC: conv zero pad + relu_ (border wrong)": (lambda: F.conv2d(xc, w, b, padding=1).relu_(), False),
        "NHWC: oneDNN conv+ReLU fused, new tensor (border wrong)": (
            lambda: mk(xc, w, b, [1, 1], [1, 1], [1, 1], 1, "relu", [], ""), False),
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
    return [{"variant": k, "median_ms": _median_ms(v), "min_ms": 1e3 * min(v), "speedup": base / statistics.median(v),
             "max_abs_err": errs[k]} for k, v in times.items()]


def format_layer_variants(rows: list[dict], width: int, height: int) -> str:
    lines = [f"one 16->16 3x3 replication-padded conv + ReLU at {width}x{height}:",
             f"  {'variant':58s} {'median ms':>10} {'min ms':>9} {'speedup':>8} {'max err':>8}"]
    for r in rows:
        err = "-" if r["max_abs_err"] is None else f"{r['max_abs_err']:.0e}"
        lines.append(f"  {r['variant']:58s} {r['median_ms']:10.1f} {r['min_ms']:9.1f} {r['speedup']:7.2f}x {err:>8}")
    return "\n".join(lines)


def format_variants(rows: list[dict], width: int, height: int) -> str:
    lines = [f"variants at {width}x{height} (interleaved rounds; speedup = eager median / median):",
             f"  {'variant':50s} {'median ms':>10} {'min ms':>9} {'speedup':>8} {'|du8|':>6}"]
    for r in rows:
        lines.append(f"  {r['variant']:50s} {r['median_ms']:10.0f} {r['min_ms']:9.0f} {r['speedup']:7.2f}x "
                     f"{r['max_u8_diff']:6d}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ report
def _f(v: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def _format_size(r: SizeResult) -> str:
    s = r.stages_ms
    return (f"{r.width}x{r.height}: eager {_f(r.eager_ms)} ms, optimized {_f(r.optimized_ms)} ms, "
            f"speedup {_f(r.speedup, '{:.2f}')}x, max |diff| {_f(r.max_u8_diff, '{}')} (uint8); "
            + ", ".join(f"{k} {s[k]:.1f}" for k in STAGES) + " ms")


def format_report(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"device: {m['device']}" + (f" ({m['gpu']})" if "gpu" in m else "")
        + f" | CPU: {m['cpu']}, {m['cpu_count']} cores, {m['cpu_capability']}, torch {m['torch']}, {m['threads']} threads",
        f"weights: {report['weights']} | compute dtype: {report['dtype']} | {report['inference']}",
    ]
    if report.get("note"):
        lines.append(f"NOTE: {report['note']}")
    lines.append(f"ms/frame, median of {report['frames_per_size']} frames; stages measured alone")
    hdr = f"{'size':>10} {'eager':>9} {'optimized':>9} {'speedup':>7} {'|du8|':>5}  " + " ".join(f"{k:>8}" for k in STAGES)
    lines.append(hdr)
    for r in report["sizes"]:
        s = r["stages_ms"]
        lines.append(f"{r['width']}x{r['height']:<5}".rjust(10) + f" {_f(r['eager_ms']):>9} {_f(r['optimized_ms']):>9}"
                     f" {_f(r['speedup'], '{:.2f}x'):>7} {_f(r['max_u8_diff'], '{}'):>5}  "
                     + " ".join(f"{s[k]:8.1f}" for k in STAGES))
    e = report.get("end_to_end")
    if e:
        s = e["stages_ms"]
        lines.append(
            f"end to end ({Path(e['path']).name}, {e['width']}x{e['height']}, {e['frames']} frames, stylize_file): "
            f"{e['fps']:.2f} fps ({1e3 / e['fps'] if e['fps'] else 0:.0f} ms/frame)")
        lines.append("  stages alone (ms/frame): " + ", ".join(f"{k} {s[k]:.1f}" for k in STAGES))
        lines.append(f"  slowest stage: {e['slowest_stage']} ({e['slowest_stage_fps']:.2f} fps) -> overlap efficiency "
                     f"{e['overlap_efficiency']:.2f}; slowest pipeline thread (upload+infer+download = "
                     f"{e['stylize_thread_ms']:.1f} ms) bound {e['thread_bound_fps']:.2f} fps")
    elif report.get("video") is None:
        lines.append("end to end: skipped (no video; pass --video PATH)")
    return "\n".join(lines)


def write_json(report: dict, path: str | Path) -> None:
    from rest_video.io.atomic import atomic_output, check_writable

    p = Path(path)
    check_writable(p, overwrite=True)
    with atomic_output(p) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
