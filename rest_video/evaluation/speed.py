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

Timings are medians over ``frames`` frames after one warm-up call. Without ``--video`` the frames
are synthetic and there is no end-to-end run; the style defaults to the first shipped style photo.
The variants behind the CPU defaults are the lab's: ``python tools/bench_variants.py``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rest_video.core.config import PipelineConfig, load_pipeline
from rest_video.core.devices import apply_runtime, resolve_device
from rest_video.core.errors import ConfigError, MediaError
from rest_video.core.schema import parse_size
from rest_video.engine.stylizer import Stylizer
from rest_video.evaluation.report import machine_info
from rest_video.evaluation.speed_report import STAGES, SizeResult, VideoResult, format_size
from rest_video.evaluation.timing import DeviceTimer, bench_network, bench_transfers
from rest_video.io.clips import read_clip
from rest_video.io.video import VideoInfo, VideoReader
from rest_video.io.video_writer import VideoWriter
from rest_video.models import REST, create_model, load_weights, shipped_weights
from rest_video.pipeline.file import stylize_file
from rest_video.resources import styles_dir

DEFAULT_SIZES: tuple[tuple[int, int], ...] = ((640, 360), (1280, 720), (1920, 1080), (3840, 2160))
DEFAULT_STYLE = "evening-glow.jpg"  # in the shipped styles

__all__ = ["parse_sizes", "run_bench", "load_bench_model", "content_frames", "default_style", "BenchModel"]


# ------------------------------------------------------------------------------ inputs
def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"640x360,1280x720"`` -> ``[(640, 360), (1280, 720)]`` (width x height)."""
    sizes = [parse_size(part, "--sizes") for part in str(text).replace(" ", "").split(",") if part]
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
    if checkpoint is not None:
        return BenchModel(load_weights(checkpoint, name)[0], f"checkpoint {checkpoint}", checkpoint)
    if shipped_weights(name).is_file():
        return BenchModel(load_weights(None, name)[0], f"shipped weights {shipped_weights(name).name}", None)
    torch.manual_seed(0)
    model: REST = create_model(name, pretrained=False)
    return BenchModel(model, "random init", None,
                      note="no shipped weights and no --checkpoint: random initial weights "
                           "(speed does not depend on weight values; outputs are not meaningful)")


def content_frames(width: int, height: int, n: int, video: Path | None = None) -> list[np.ndarray]:
    """``n`` RGB uint8 frames of ``width x height``: the video's first frames resized, else synthetic."""
    frames: list[np.ndarray] = []
    if video is not None:
        frames = [np.ascontiguousarray(f) for f in read_clip(video, n, size=(width, height))]
    if not frames:
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        for i in range(n):
            base = np.stack(
                [xx / max(width, 1), yy / max(height, 1), 0.5 + 0.5 * np.sin((xx + yy + 7 * i) / 23.0)], -1
            )
            noise = rng.normal(0, 0.05, base.shape).astype(np.float32)
            frames.append((np.clip(base + noise, 0, 1) * 255).astype(np.uint8))
    while len(frames) < n:
        frames.append(frames[len(frames) % max(1, len(frames))].copy())
    return frames[:n]


def default_style() -> Path:
    """The style a measurement uses when none is given: a shipped photo."""
    return styles_dir() / DEFAULT_STYLE


def _encode_ms(frames: list[np.ndarray], path: Path, cfg: PipelineConfig) -> float:
    h, w = frames[0].shape[:2]
    info = VideoInfo(width=w, height=h, time_base=Fraction(1, 25), rate=Fraction(25), frames=len(frames))
    t0 = time.perf_counter()
    with VideoWriter(path, info, cfg.output) as wr:
        for i, f in enumerate(frames):
            wr.write(f, i)
    return 1e3 * (time.perf_counter() - t0) / len(frames)


def _decode_ms(path: Path, max_frames: int | None = None) -> tuple[float, int]:
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
def run_bench(device: str = "auto", sizes: list[tuple[int, int]] | None = None, frames: int | None = None,
              video: str | Path | None = None, style: str | Path | None = None, checkpoint: str | None = None,
              threads: int = 0, video_frames: int | None = None, reference: bool = True,
              use_video: bool = True, log: Callable[[str], None] | None = None,
              precisions: str | list[str] | None = "auto") -> dict:
    """Run the benchmark; returns a JSON-able report (see :func:`format_report`).

    Args:
        device: ``auto``, ``cpu`` or ``cuda``.
        sizes: ``(width, height)`` list (default: 640x360, 1280x720, 1920x1080, 3840x2160).
        frames: timed frames per size (default 3 on CPU, 30 on CUDA).
        video: the video for content frames and the end-to-end run (None: synthetic frames, no
            end-to-end run).
        style: style image (default: the shipped evening-glow.jpg).
        checkpoint: weights instead of the shipped ones.
        threads: torch CPU threads (0: torch's default).
        video_frames: frames of the end-to-end run (default 20 on CPU, 300 on CUDA).
        reference: also time the eager fp32 reference.
        use_video: run the end-to-end part (needs a video).
        log: progress lines (e.g. ``print``).
        precisions: the per-precision table (:mod:`rest_video.evaluation.speed_precision`):
            ``"auto"`` (this CPU's candidates), a list / comma list of fp32, fp16, bf16, or None
            for none.
    """
    from rest_video.evaluation.speed_precision import bench_precisions, parse_precisions

    log = log or (lambda s: None)
    dev_t = resolve_device(device)
    sizes = list(sizes or DEFAULT_SIZES)
    frames = int(frames or (30 if dev_t.type == "cuda" else 3))
    if frames < 1:
        raise ConfigError("--frames must be >= 1")
    if isinstance(precisions, str):
        precisions = parse_precisions(precisions, dev_t)
    video_path = _resolve_video(video) if use_video else None
    style_path = Path(style) if style is not None else default_style()
    if not style_path.is_file():
        raise MediaError(f"style image not found: {style_path} (use --style)")

    bm = load_bench_model(checkpoint)
    overrides = {"runtime.device": dev_t.type, "runtime.optimized": True, "runtime.threads": int(threads),
                 "style.cache": False}
    if checkpoint is not None:
        overrides["model.checkpoint"] = str(checkpoint)
    cfg = load_pipeline(None, overrides)
    apply_runtime(cfg.runtime)
    stylizer = Stylizer(cfg, model=bm.model)
    choice = stylizer.precision_choice
    log(f"precision auto: {choice.describe() if choice else stylizer.precision}")
    style_stats = stylizer.load_style(style_path, use_cache=False)
    dev = DeviceTimer(stylizer)
    report: dict = {
        "machine": machine_info(dev_t),
        "weights": bm.source,
        "note": bm.note,
        "style": str(style_path),
        "video": str(video_path) if video_path else None,
        "frames_per_size": frames,
        "dtype": str(stylizer.dtype).replace("torch.", ""),
        "precision": stylizer.precision,
        "precision_auto": asdict(choice) if choice else None,
        "cpu_features": _cpu_features(),
        "precisions": [],
        "inference": type(stylizer.net).__name__
        + (f" ({stylizer.net.extra_repr()})" if hasattr(stylizer.net, "extra_repr") else ""),
        "sizes": [],
        "end_to_end": None,
    }
    if bm.note:
        log(f"note: {bm.note}")
    frames_by_size: dict[tuple[int, int], list[np.ndarray]] = {}
    with tempfile.TemporaryDirectory(prefix="rest-video-bench-") as td:
        tmp = Path(td)
        for (w, h) in sizes:
            log(f"{w}x{h}: {frames} frames ...")
            fr = frames_by_size[(w, h)] = content_frames(w, h, frames, video_path)
            net = bench_network(dev, fr, style_stats, reference)
            stages = bench_transfers(dev, fr, style_stats)
            stages["infer"] = net["optimized_ms"]
            codec_fr = _codec_frames(fr, max(frames, 8))
            clip = tmp / f"clip_{w}x{h}.mp4"
            stages["encode"] = _encode_ms(codec_fr, clip, cfg)
            stages["decode"] = _decode_ms(clip)[0]
            clip.unlink(missing_ok=True)
            res = SizeResult(
                width=w,
                height=h,
                frames=frames,
                eager_ms=net.get("eager_ms"),
                optimized_ms=net["optimized_ms"],
                speedup=net.get("speedup"),
                max_u8_diff=net.get("max_u8_diff"),
                stages_ms={k: stages[k] for k in STAGES},
                eager_min_ms=net.get("eager_min_ms"),
                optimized_min_ms=net.get("optimized_min_ms"),
            )
            report["sizes"].append(asdict(res))
            log(format_size(res))
        stylizers = {}
        if precisions:
            stylizers = {p: (stylizer if p == stylizer.precision else _stylizer_in(cfg, bm.model, p))
                         for p in precisions}
            report["precisions"] = bench_precisions(stylizers, frames_by_size, style_stats, log)
            for st in stylizers.values():
                if st is not stylizer and hasattr(st.net, "release"):
                    st.net.release()
        if video_path is not None:
            n_video = video_frames or (300 if dev_t.type == "cuda" else 20)
            report["end_to_end"] = asdict(
                _bench_video(
                    stylizer, dev, cfg, video_path, style_path, style_stats, n_video, frames, tmp, log
                )
            )
            fp32 = stylizers.get("fp32")
            if (
                fp32 is not None and fp32 is not stylizer
            ):  # auto chose another precision: fp32's run beside it
                log(f"{video_path.name}: the same end-to-end run in fp32 ...")
                report["end_to_end_fp32"] = asdict(_bench_video(
                    fp32, DeviceTimer(fp32), cfg.with_precision("fp32"), video_path, style_path, style_stats,
                    n_video, frames, tmp, log))
    return report


def _stylizer_in(cfg: PipelineConfig, model, precision: str) -> Stylizer:
    """A Stylizer like the bench's, with the same model, in ``precision``."""
    return Stylizer(cfg.with_precision(precision), model=model)


def _cpu_features() -> dict:
    from rest_video.core.cpu import cpu_features

    f = cpu_features()
    return {"model": f.model, "matrix_units": f.matrix_units(), "native_bf16": f.native_bf16,
            "vnni": f.vnni, "flags": " ".join(sorted(f.flags))}


def _resolve_video(video: str | Path | None) -> Path | None:
    if video is not None:
        p = Path(video)
        if not p.is_file():
            raise MediaError(f"video not found: {p}")
        return p
    return None


def _bench_video(stylizer, dev: DeviceTimer, cfg: PipelineConfig, video: Path, style_path: Path, style_stats,
                 n: int, frames: int, tmp: Path, log) -> VideoResult:
    with VideoReader(video) as r:
        w, h, total = r.info.width, r.info.height, r.info.frames
    n = max(1, min(n, total) if total else n)
    log(f"{video.name} ({w}x{h}): stages and end-to-end on {n} frames ...")
    stages: dict[str, float] = {}
    stages["decode"], n_dec = _decode_ms(video, n)
    n = min(n, n_dec)
    fr = content_frames(w, h, min(n, max(frames, 1)), video)
    net = bench_network(dev, fr, style_stats, reference=False)
    stages.update(bench_transfers(dev, fr, style_stats))
    stages["infer"] = net["optimized_ms"]
    stages["encode"] = _encode_ms(_codec_frames(fr, n), tmp / "enc.mp4", cfg)
    result = stylize_file(video, style_path, tmp / "e2e.mp4", cfg=cfg, overwrite=True, max_frames=n,
                          progress=False, stylizer=stylizer)
    stage_fps = {k: 1e3 / v for k, v in stages.items() if v > 0}
    slowest = min(stage_fps, key=stage_fps.get)
    thread_ms = stages["upload"] + stages["infer"] + stages["download"]
    thread_bound = 1e3 / max(stages["decode"], thread_ms, stages["encode"])
    return VideoResult(
        path=str(video),
        width=w,
        height=h,
        frames=result.frames,
        seconds=result.seconds,
        fps=result.fps,
        stages_ms={k: stages[k] for k in STAGES},
        slowest_stage=slowest,
        slowest_stage_fps=stage_fps[slowest],
        overlap_efficiency=result.fps / stage_fps[slowest],
        stylize_thread_ms=thread_ms,
        thread_bound_fps=thread_bound,
    )
