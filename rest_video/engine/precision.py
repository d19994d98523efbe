"""``runtime.precision: auto`` on the CPU: the fastest precision that keeps the picture.

Candidates are decided from the CPU's features (:mod:`rest_video.core.cpu`), never guessed:

* ``fp32`` always (the in-place oneDNN path, the reference);
* ``bf16`` when the CPU has bf16 matrix instructions (AMX-bf16 or AVX512-bf16) and torch's oneDNN
  runs bf16 convs natively there: the same folded, channels-last, in-place fused form in bf16.
  Without them oneDNN falls back to slow kernels (measured 0.06-0.3x of fp32, BENCHMARKS.md), so
  on such CPUs bf16 is no candidate and nothing is probed;
* ``int8`` when the CPU has int8 dot-product instructions (AVX512-VNNI, AVX-VNNI or AMX-int8) and
  torch has oneDNN's quantized convs: :mod:`rest_video.models.int8`, uint8 activations whose scales
  follow the video and never clip, int8 weights rounded to keep each kernel's sum. (Static
  calibrated scales lost the picture: up to 45 levels off where an activation clipped,
  ``tools/precision_quality.py``, BENCHMARKS.md.)

With more than one candidate a short probe at first use times each on a real photo of
:data:`PROBE_SIZE` (alternating, after a warm-up) and compares its output with fp32's; a reduced
precision is chosen only when it is at least :data:`SPEED_MARGIN` faster and keeps the accuracy
contract (:data:`CONTRACT`). The result is cached per machine in the user cache folder, keyed by
the CPU model, its flags, torch's version and capability, the thread count and the weights.

Accuracy contract, output against the fp32 output on the same input (uint8 levels):

* ``fp32``: the reference (the folded form equals the unfolded model to 1 level; tests);
* ``bf16``: PSNR >= 45 dB and largest difference <= 8 levels (tests on generated frames;
  BENCHMARKS.md has the numbers on real frames);
* ``int8``: the same, on real frames (tests on photos and on generated frames; BENCHMARKS.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rest_video.core.cpu import CpuFeatures, cpu_features
from rest_video.core.paths import cache_dir
from rest_video.core.precision import Precision

log = logging.getLogger(__name__)

DTYPES = {p.value: p.dtype for p in Precision}
"""Per precision name, the dtype its folded float form computes in (:attr:`Precision.dtype`; int8:
fp32, the form around its int8 convs, whose frames enter as uint8)."""
PROBE_SIZE = (512, 288)
"""(width, height) of the probe frame: large enough that the convs dominate, a fraction of a second."""
SPEED_MARGIN = 0.9
"""A reduced precision is chosen only when it takes at most this share of fp32's time."""
CACHE_VERSION = 1


@dataclass(frozen=True)
class Contract:
    """Least PSNR (dB) and largest difference (uint8 levels) of a precision's output against fp32's."""

    min_psnr_db: float
    max_diff: int


CONTRACT = {"bf16": Contract(45.0, 8), "int8": Contract(45.0, 8)}


@dataclass
class PrecisionChoice:
    """What ``auto`` chose on this machine, and why."""

    precision: str                      # "fp32", "bf16" or "int8"
    reason: str
    source: str                         # "features" (no probe needed), "probe" or "cache"
    candidates: list[str] = field(default_factory=list)
    ms: dict[str, float] = field(default_factory=dict)        # probe ms/frame per candidate
    psnr_db: dict[str, float] = field(default_factory=dict)   # probe output against fp32
    max_diff: dict[str, int] = field(default_factory=dict)

    @property
    def dtype(self) -> torch.dtype:
        return Precision(self.precision).dtype

    def describe(self) -> str:
        """One line: the choice, its reason and where it came from."""
        return f"{self.precision} ({self.reason}; {self.source})"


def auto_candidates(features: CpuFeatures | None = None) -> list[str]:
    """The precisions worth probing on this CPU (fp32 first)."""
    from rest_video.models.backends import mkldnn_bf16_available
    from rest_video.models.int8 import int8_available

    f = features or cpu_features()
    cands = ["fp32"]
    if f.native_bf16 and mkldnn_bf16_available():
        cands.append("bf16")
    if f.vnni and int8_available():
        cands.append("int8")
    return cands


def meets_contract(precision: str, psnr_db: float, max_diff: int) -> bool:
    c = CONTRACT.get(precision)
    return c is None or (psnr_db >= c.min_psnr_db and max_diff <= c.max_diff)


# ------------------------------------------------------------------------------ probe
def _first_line(e: Exception) -> str:
    """The first line of a kernel's error (oneDNN's run to many), for a one-line log."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


@dataclass
class ProbeResult:
    ms: float
    psnr_db: float
    max_diff: int


def probe_images(size: tuple[int, int] = PROBE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(content, style) RGB uint8 for the probe: two shipped photos, the content cropped and resized
    to ``size`` ``(w, h)`` (a smooth synthetic frame where the photos are missing)."""
    import cv2

    from rest_video.io.image import read_image
    from rest_video.resources import styles_dir

    w, h = size
    try:
        content = read_image(styles_dir() / "evening-glow.jpg", 2048)
        style = read_image(styles_dir() / "forest-path.jpg", 512)
    except Exception:  # noqa: BLE001 - the shipped photos are a convenience, not a requirement
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        img = np.stack([xx / w, yy / h, 0.5 + 0.5 * np.sin((xx + yy) / 17.0)], -1)
        content = (img * 255).astype(np.uint8)
        style = np.ascontiguousarray(content[::-1, ::-1, ::-1])
    ch, cw = content.shape[:2]
    s = min(ch / h, cw / w)  # crop the centre to the aspect ratio, then resize
    ph, pw = int(round(h * s)), int(round(w * s))
    y0, x0 = (ch - ph) // 2, (cw - pw) // 2
    content = cv2.resize(content[y0:y0 + ph, x0:x0 + pw], (w, h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(content), style


def probe(model, candidates: list[str], size: tuple[int, int] = PROBE_SIZE, runs: int = 3,
          images: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, ProbeResult]:
    """Time each candidate's inference form on one frame (alternating order, after a warm-up call;
    best of ``runs``) and compare its uint8 output with fp32's. ``fp32`` is always measured."""
    from rest_video.core.errors import ConfigError
    from rest_video.engine.tensors import frames_to_tensor, tensor_to_uint8
    from rest_video.metrics import psnr
    from rest_video.models.build import build_inference

    cands = ["fp32"] + [c for c in candidates if c != "fp32"]
    content, style_img = images or probe_images(size)
    cpu = torch.device("cpu")
    model = model.eval()
    with torch.inference_mode():
        style = model.style_stats(frames_to_tensor(style_img[None], cpu, torch.float32).float())
        nets, xs = {}, {}
        outs: dict[str, np.ndarray] = {}
        for c in list(cands):
            try:
                nets[c] = build_inference(model, cpu, c)
                if hasattr(nets[c], "conv_threads"):
                    nets[c].conv_threads = torch.get_num_threads()  # like for like, no tuning in the probe
                xs[c] = frames_to_tensor(content[None], cpu, Precision(c).dtype)
                # the first call warms up: primitives, buffers
                outs[c] = tensor_to_uint8(nets[c](xs[c], style).clamp_(0, 1))[0]
            except (RuntimeError, ConfigError) as e:
                if c == "fp32":
                    raise
                # a kernel this CPU / torch refuses: that candidate only is out
                first = _first_line(e)
                log.warning("precision auto: %s does not run here (%s): not a candidate", c, first)
                cands.remove(c)
                nets.pop(c, None)
        times: dict[str, list[float]] = {c: [] for c in cands}
        for r in range(max(1, runs)):
            for c in (cands if r % 2 == 0 else cands[::-1]):
                t0 = time.perf_counter()
                nets[c](xs[c], style)
                times[c].append(time.perf_counter() - t0)
        for net in nets.values():
            if hasattr(net, "release"):
                net.release()
    ref = outs["fp32"].astype(np.int16)
    return {c: ProbeResult(1e3 * min(times[c]), psnr([outs[c]], [ref]),
                           int(np.abs(outs[c].astype(np.int16) - ref).max())) for c in cands}


def pick(results: dict[str, ProbeResult]) -> tuple[str, str]:
    """``(precision, reason)`` from probe results: the fastest candidate that keeps its accuracy
    contract and takes at most :data:`SPEED_MARGIN` of fp32's time; fp32 otherwise."""
    base = results["fp32"].ms
    best, why = "fp32", []
    for c, r in results.items():
        if c == "fp32":
            continue
        if not meets_contract(c, r.psnr_db, r.max_diff):
            why.append(f"{c} breaks its contract ({r.psnr_db:.1f} dB, max diff {r.max_diff})")
        elif r.ms > SPEED_MARGIN * base:
            why.append(f"{c} {r.ms:.0f} ms is not faster than fp32 {base:.0f} ms")
        elif r.ms < results[best].ms:
            best = c
    if best == "fp32":
        return "fp32", "probe: " + ("; ".join(why) or "fp32 only")
    r = results[best]
    return best, (f"probe: {best} {r.ms:.0f} ms vs fp32 {base:.0f} ms "
                  f"per {PROBE_SIZE[0]}x{PROBE_SIZE[1]} frame "
                  f"({base / r.ms:.2f}x), {r.psnr_db:.1f} dB from fp32, max diff {r.max_diff}")


# ------------------------------------------------------------------------------ cache
def cache_key(features: CpuFeatures, weights_id: str, threads: int | None = None) -> str:
    """Hash of what the probe's answer depends on: CPU model and flags, torch, threads, weights."""
    ident = {
        "v": CACHE_VERSION, "cpu": features.model, "flags": sorted(features.flags),
        "cap": features.capability,
        "torch": torch.__version__, "threads": int(threads or torch.get_num_threads()), "weights": weights_id,
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]


def cache_path(key: str, root: Path | None = None) -> Path:
    return (root or cache_dir() / "precision") / f"{key}.json"


def load_cached(key: str, candidates: list[str], root: Path | None = None) -> PrecisionChoice | None:
    """The cached choice, or None (missing, unreadable, or naming a precision no longer a candidate)."""
    p = cache_path(key, root)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        choice = PrecisionChoice(**{k: d[k] for k in ("precision", "reason", "source", "candidates",
                                                      "ms", "psnr_db", "max_diff")})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.debug("ignoring the precision cache %s: %s", p, e)
        return None
    if choice.precision not in candidates or sorted(choice.candidates) != sorted(candidates):
        return None
    choice.source = "cache"
    return choice


def save_cached(key: str, choice: PrecisionChoice, root: Path | None = None) -> None:
    """Write the choice atomically; a cache that cannot be written only costs a probe next time."""
    from rest_video.core.atomic import atomic_output

    p = cache_path(key, root)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(p) as tmp:
            tmp.write_text(json.dumps(asdict(choice), indent=1) + "\n", encoding="utf-8")
    except Exception as e:  # noqa: BLE001 - an unwritable cache folder is not an error of the run
        log.debug("cannot write the precision cache %s: %s", p, e)


# ------------------------------------------------------------------------------ choice
def choose_cpu_precision(model, weights_id: str, features: CpuFeatures | None = None,
                         use_cache: bool = True, cache_root: Path | None = None,
                         probe_fn: Callable[..., dict[str, ProbeResult]] | None = None) -> PrecisionChoice:
    """``auto`` on the CPU for ``model`` (weights ``weights_id``): see the module docstring."""
    f = features or cpu_features()
    if getattr(getattr(model, "cfg", None), "variant", "rest") != "rest":
        return PrecisionChoice("fp32", "this model variant runs fp32 only", "features", ["fp32"])
    cands = auto_candidates(f)
    if cands == ["fp32"]:
        return PrecisionChoice("fp32", f"no bf16 or int8 matrix units on this CPU ({f.matrix_units()}): fp32",
                               "features", cands)
    key = cache_key(f, weights_id)
    if use_cache:
        hit = load_cached(key, cands, cache_root)
        if hit is not None:
            return hit
    t0 = time.perf_counter()
    try:
        results = (probe_fn or probe)(model, cands)
    except RuntimeError as e:  # a kernel this CPU / torch refuses: the run goes on in fp32
        first = _first_line(e)
        log.warning("precision auto: the probe failed (%s): running fp32", first)
        return PrecisionChoice("fp32", f"the probe failed ({first}): fp32", "probe", cands)
    precision, reason = pick(results)
    choice = PrecisionChoice(precision, reason, "probe", cands,
                             ms={c: round(r.ms, 2) for c, r in results.items()},
                             psnr_db={c: round(r.psnr_db, 2) for c, r in results.items() if c != "fp32"},
                             max_diff={c: r.max_diff for c, r in results.items() if c != "fp32"})
    # -v only: a first run that then fails on the user's input must still say one line
    log.debug("precision auto: measured once on this machine (%.1f s, cached): %s",
             time.perf_counter() - t0, choice.describe())
    if use_cache:
        save_cached(key, choice, cache_root)
    return choice


def decide_precision(runtime, device: torch.device, model,
                     weights_id: str) -> tuple[Precision, PrecisionChoice | None]:
    """The precision a Stylizer computes in, decided once from ``runtime`` (a ``RuntimeCfg``):
    ``runtime.precision`` as set, or for ``auto`` fp16 on CUDA, and on the CPU what
    :func:`choose_cpu_precision` picks for the folded form (fp32 for the plain model). Returns the
    precision and, where auto chose on the CPU, the choice with its reason."""
    if runtime.precision != "auto":
        return Precision(runtime.precision), None
    if device.type == "cpu" and runtime.optimized:
        choice = choose_cpu_precision(model, weights_id)
        log.debug("precision auto: %s", choice.describe())  # -v; a probe logs INFO itself
        return Precision(choice.precision), choice
    return (Precision.FP16 if device.type == "cuda" else Precision.FP32), None
