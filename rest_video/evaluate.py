"""Quality and speed of REST and simple baselines on content/style pairs (paper section 4.3).

Usable without the CLI::

    from rest_video.evaluate import read_pairs, default_methods, evaluate_pairs, format_markdown
    from rest_video.train.teacher import load_teacher

    pairs = read_pairs("../shared/data/dev-pairs.tsv", limit=5)
    methods = default_methods(checkpoint="runs/rest/last.pt")
    rows = evaluate_pairs(pairs, methods, load_teacher("vgg16-lpips"))
    print(format_markdown(rows))

Metrics, per method, averaged over the pairs:

- **SSIM** (content fidelity, higher is better): between the grayscale output and the grayscale
  content (ITU-R BT.601 luma) at the content's resolution, with ``kornia.metrics.ssim``: 11x11
  Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, data range 1, ``padding="valid"`` (the
  5-pixel border where the window does not fit is not scored, as in Wang et al. 2004), mean of
  the SSIM map. The output must have exactly the content's size.
- **Gram loss** (style distance, lower is better): ``sum_l ||G_l(out) - G_l(style)||_F^2`` over
  relu1_1 .. relu5_1 of a frozen VGG teacher, with ``G = F F^T / (C H W)`` for features ``F`` of
  shape ``(C, H*W)``; output and style are each fed at their own resolution.
- **palette distance** (look taken, lower is better): sliced Wasserstein-1 distance between the
  output's and the style photo's pixel colours in CIE Lab (:func:`rest_video.ops.palette.palette_distance`:
  64 seeded directions, 20,000 pixels each, 100 quantiles at 0.5 % .. 99.5 %, mean absolute
  difference in Lab units). It charges for a wrong palette, tone curve or contrast.
- **seconds / image**: wall time of the stylization only (style statistics included, image
  loading and metrics not), on CPU, after one untimed warm-up call per method.

Every method maps an RGB uint8 content ``(H, W, 3)`` and style ``(h, w, 3)`` to an RGB uint8
output ``(H, W, 3)``: what a user of the tool gets, so rounding to 8 bits is part of the result.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
import numpy as np
import torch
from torch import Tensor

from rest_video.core.errors import ConfigError, MediaError, ShapeError, WeightsError
from rest_video.io.atomic import check_writable
from rest_video.io.image import read_image
from rest_video.models import REST, create_model, load_checkpoint
from rest_video.ops.palette import palette_distance
from rest_video.evaluation.sheet import ContactSheet, sheet_columns  # noqa: F401 - re-exported
from rest_video.train.teacher import VGGTeacher, load_teacher

__all__ = [
    "Pair", "Method", "EvalRow", "StylizeFn",
    "read_pairs", "parse_ablation",
    "reinhard_transfer", "rgb_adain_transfer", "histogram_match",
    "baseline_methods", "rest_method", "untrained_rest", "load_rest_weights", "default_methods",
    "to_gray", "ssim_gray", "gram", "gram_matrices", "gram_loss", "style_distance",
    "evaluate_pairs", "format_markdown", "render_section", "machine_description", "write_section",
    "run_eval", "load_teacher", "SECTION",
]

StylizeFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(content (H, W, 3) uint8, style (h, w, 3) uint8) -> output (H, W, 3) uint8``, all RGB."""

SECTION = "dev-pairs"
GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma, as cv2.COLOR_RGB2GRAY
SSIM_WINDOW = 11
BUILTIN_NAMES = ("rest", "rest-untrained", "reinhard", "rgb-adain", "histmatch")


# --------------------------------------------------------------------------- pairs
@dataclass(frozen=True)
class Pair:
    """One content/style pair (absolute or cwd-relative paths)."""

    content: Path
    style: Path


def read_pairs(path: str | Path, limit: int | None = None) -> list[Pair]:
    """Read a ``content<TAB>style`` TSV (with that header); paths are relative to the TSV's folder.

    Blank lines and lines starting with ``#`` are skipped. Every image must exist.
    Raises :class:`MediaError` (missing files) or :class:`ConfigError` (bad layout).
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"pairs file not found: {p}" if not p.exists() else f"pairs file is not a file: {p}")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise MediaError(f"cannot read pairs file {p}: {e}") from None
    rows = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not rows or [c.strip() for c in rows[0][1].split("\t")] != ["content", "style"]:
        raise ConfigError(f"{p}: first line must be the header 'content<TAB>style'")
    pairs = []
    for lineno, ln in rows[1:]:
        fields = ln.split("\t")
        if len(fields) != 2 or not all(f.strip() for f in fields):
            raise ConfigError(f"{p}:{lineno}: expected 'content<TAB>style', got {ln!r}")
        c, s = (p.parent / f.strip() for f in fields)
        for kind, img in (("content", c), ("style", s)):
            if not img.is_file():
                raise MediaError(f"{p}:{lineno}: {kind} image not found: {img}")
        pairs.append(Pair(c, s))
    if not pairs:
        raise ConfigError(f"{p}: no pairs")
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be >= 1, got {limit}")
        pairs = pairs[:limit]
    return pairs


def parse_ablation(spec: str) -> tuple[str, Path]:
    """``"NAME=PATH"`` -> ``(NAME, Path(PATH))``; the name must not shadow a built-in method."""
    name, sep, path = spec.partition("=")
    name = name.strip()
    if not sep or not name or not path.strip():
        raise ConfigError(f"--ablation expects NAME=PATH, got {spec!r}")
    if name in BUILTIN_NAMES:
        raise ConfigError(f"--ablation name {name!r} is a built-in method; pick another name")
    return name, Path(path.strip())


# --------------------------------------------------------------------------- baselines
def _to_float(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 -> float32 in [0, 1]."""
    return img.astype(np.float32) / 255.0


def _to_uint8(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` float in [0, 1] -> uint8 (rounded, clipped)."""
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def _match_mean_std(x: np.ndarray, ref: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Per-channel affine map of ``x`` ``(H, W, C)`` to the mean/std of ``ref`` ``(h, w, C)``."""
    xm, xs = x.mean(axis=(0, 1)), x.std(axis=(0, 1))
    rm, rs = ref.mean(axis=(0, 1)), ref.std(axis=(0, 1))
    return ((x - xm) / np.maximum(xs, eps) * rs + rm).astype(np.float32)


def reinhard_transfer(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Reinhard et al. 2001 colour transfer: per-channel mean/std matching in CIE Lab.

    Uses OpenCV's Lab of float32 RGB (L in [0, 100]) instead of the paper's l-alpha-beta.

    Args:
        content: ``(H, W, 3)`` float32 RGB in [0, 1].
        style: ``(h, w, 3)`` float32 RGB in [0, 1].

    Returns:
        ``(H, W, 3)`` float32 RGB, clipped to [0, 1].
    """
    c = cv2.cvtColor(np.ascontiguousarray(content, np.float32), cv2.COLOR_RGB2Lab)
    s = cv2.cvtColor(np.ascontiguousarray(style, np.float32), cv2.COLOR_RGB2Lab)
    out = cv2.cvtColor(_match_mean_std(c, s), cv2.COLOR_Lab2RGB)
    return np.clip(out, 0.0, 1.0)


def rgb_adain_transfer(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """AdaIN on pixels: per-channel RGB mean/std matching.

    ``(H, W, 3)`` and ``(h, w, 3)`` float32 RGB in [0, 1] -> ``(H, W, 3)`` float32 clipped to [0, 1].
    """
    return np.clip(_match_mean_std(content.astype(np.float32), style.astype(np.float32)), 0.0, 1.0)


def _match_channel(src: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Histogram matching of one channel ``(H, W)`` to ``ref`` ``(h, w)`` by CDF interpolation."""
    s_vals, s_idx, s_counts = np.unique(src.ravel(), return_inverse=True, return_counts=True)
    r_vals, r_counts = np.unique(ref.ravel(), return_counts=True)
    s_cdf = np.cumsum(s_counts) / src.size
    r_cdf = np.cumsum(r_counts) / ref.size
    mapped = np.interp(s_cdf, r_cdf, r_vals)
    return mapped[s_idx.ravel()].reshape(src.shape).astype(np.float32)


def histogram_match(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Per-channel RGB histogram matching (each content value -> style value at the same CDF).

    ``(H, W, 3)`` and ``(h, w, 3)`` float32 RGB in [0, 1] -> ``(H, W, 3)`` float32 in [0, 1].
    """
    return np.stack([_match_channel(content[..., k], style[..., k]) for k in range(3)], axis=-1)


# --------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class Method:
    """A named stylization function (see :data:`StylizeFn`) and a description of its weights."""

    name: str
    fn: StylizeFn
    weights: str = "-"


def _float_method(name: str, transfer: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Method:
    """Wrap a float ``(H, W, 3)`` transfer as a uint8 :class:`Method`."""
    return Method(name, lambda c, s: _to_uint8(transfer(_to_float(c), _to_float(s))))


def baseline_methods() -> list[Method]:
    """The classical colour-transfer baselines: ``reinhard``, ``rgb-adain``, ``histmatch``."""
    return [_float_method("reinhard", reinhard_transfer),
            _float_method("rgb-adain", rgb_adain_transfer),
            _float_method("histmatch", histogram_match)]


def rest_method(model: REST, name: str = "rest", weights: str = "-", optimized: bool = True) -> Method:
    """A REST model as a :class:`Method`, run on CPU in fp32 through :class:`~rest_video.Stylizer`.

    ``optimized`` uses the folded inference form (what the tool runs); False runs the module as is.
    Each call computes the style statistics (no cache) and stylizes at strength 1 with AdaIN.
    """
    from rest_video.core.config import PipelineConfig, RuntimeCfg, StyleCfg
    from rest_video.engine.stylizer import Stylizer

    cfg = PipelineConfig(runtime=RuntimeCfg(device="cpu", precision="fp32", optimized=optimized),
                         style=StyleCfg(cache=False))
    st = Stylizer(cfg, model=model)

    def fn(content: np.ndarray, style: np.ndarray) -> np.ndarray:
        return st.stylize(content, st.load_style(style, use_cache=False))

    return Method(name, fn, weights)


def untrained_rest(seed: int = 0) -> REST:
    """``rest_16x5`` with random initial weights (``torch.manual_seed(seed)``), eval mode.

    The global torch RNG state is restored afterwards.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return create_model("rest_16x5", pretrained=False)


def load_rest_weights(checkpoint: str | Path | None = None) -> tuple[REST, str]:
    """The shipped ``rest_16x5`` weights, or a ``.safetensors`` / training ``.pt`` file.

    Returns the model (eval mode) and a label for the table (file, and training step for ``.pt``).
    Raises :class:`WeightsError` with what to do when the shipped weights do not exist yet.
    """
    if checkpoint is None:
        from rest_video.models._registry import WEIGHTS_DIR, default_cfgs

        path = WEIGHTS_DIR / default_cfgs["rest_16x5.default"].file
        if not path.is_file():
            raise WeightsError(f"no shipped weights yet ({path} does not exist); "
                               "pass --checkpoint FILE, e.g. --checkpoint runs/rest/last.pt")
        return create_model("rest_16x5"), f"shipped {path.name}"
    path = Path(checkpoint)
    model = load_checkpoint(path).eval().requires_grad_(False)
    label = str(path)
    if path.suffix != ".safetensors":
        try:
            step = torch.load(path, map_location="cpu", weights_only=True).get("step")
        except Exception:  # noqa: BLE001 - the label is informative only
            step = None
        if step is not None:
            label += f" (step {int(step)})"
    return model, label


def default_methods(checkpoint: str | Path | None = None,
                    ablations: Sequence[tuple[str, str | Path]] = (),
                    optimized: bool = True) -> list[Method]:
    """``rest``, ``rest-untrained``, the baselines, then one row per ``(name, checkpoint)`` ablation.

    All weights are loaded here, so missing files fail before any evaluation work.
    """
    names = [n for n, _ in ablations]
    dup = {n for n in names if names.count(n) > 1 or n in BUILTIN_NAMES}
    if dup:
        raise ConfigError(f"duplicate method name(s): {', '.join(sorted(dup))}")
    model, label = load_rest_weights(checkpoint)
    methods = [rest_method(model, "rest", label, optimized),
               rest_method(untrained_rest(0), "rest-untrained", "random init (seed 0)", optimized)]
    methods += baseline_methods()
    for name, path in ablations:
        m, lab = load_rest_weights(path)
        methods.append(rest_method(m, name, lab, optimized))
    return methods


# --------------------------------------------------------------------------- metrics
def to_gray(img: np.ndarray) -> Tensor:
    """``(H, W, 3)`` RGB uint8 -> ``(1, 1, H, W)`` float32 luma in [0, 1] (BT.601 weights)."""
    x = torch.from_numpy(np.ascontiguousarray(img)).float().div_(255.0)
    w = torch.tensor(GRAY_WEIGHTS, dtype=torch.float32)
    return (x * w).sum(-1)[None, None]


def ssim_gray(output: np.ndarray, content: np.ndarray) -> float:
    """Mean SSIM between grayscale ``output`` and ``content``, both ``(H, W, 3)`` RGB uint8, same size.

    11x11 Gaussian window (sigma 1.5), data range 1, valid region only (``kornia.metrics.ssim``).
    """
    import kornia

    if output.shape != content.shape:
        raise ShapeError(f"output {tuple(output.shape)} must have the content's shape {tuple(content.shape)}")
    if min(content.shape[:2]) < SSIM_WINDOW:
        raise ShapeError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {content.shape[:2]}")
    m = kornia.metrics.ssim(to_gray(output), to_gray(content), SSIM_WINDOW, max_val=1.0, padding="valid")
    return float(m.mean())


def gram(feat: Tensor) -> Tensor:
    """Gram matrices ``F F^T / (C H W)``: ``(B, C, H, W)`` -> ``(B, C, C)`` float32."""
    b, c, h, w = feat.shape
    f = feat.float().reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / float(c * h * w)


@torch.inference_mode()
def gram_matrices(teacher: VGGTeacher, img: np.ndarray) -> list[Tensor]:
    """Gram matrices of the teacher's relu1_1 .. relu5_1 for one ``(H, W, 3)`` RGB uint8 image.

    Returns 5 tensors ``(C_l, C_l)`` (64, 128, 256, 512, 512 for VGG).
    """
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float().div_(255.0)
    return [gram(f)[0] for f in teacher(x)]


def gram_loss(a: Sequence[Tensor], b: Sequence[Tensor]) -> float:
    """``sum_l ||a_l - b_l||_F^2`` over matching lists of ``(C_l, C_l)`` Gram matrices."""
    if len(a) != len(b):
        raise ShapeError(f"Gram lists differ in length: {len(a)} vs {len(b)}")
    return float(sum(((x.double() - y.double()) ** 2).sum() for x, y in zip(a, b)))


def style_distance(teacher: VGGTeacher, output: np.ndarray, style: np.ndarray) -> float:
    """Gram loss between an output ``(H, W, 3)`` and a style ``(h, w, 3)`` image (RGB uint8)."""
    return gram_loss(gram_matrices(teacher, output), gram_matrices(teacher, style))


# --------------------------------------------------------------------------- runner
@dataclass
class EvalRow:
    """One method's averages over ``pairs`` pairs."""

    method: str
    weights: str
    ssim: float
    gram: float
    seconds: float
    pairs: int
    palette: float = float("nan")


@dataclass
class _Acc:
    ssim: list[float] = field(default_factory=list)
    gram: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    palette: list[float] = field(default_factory=list)


def _timed(fn: StylizeFn, content: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, float]:
    """Run ``fn`` once; returns its output and the wall time in seconds."""
    t0 = time.perf_counter()
    out = fn(content, style)
    return out, time.perf_counter() - t0


def _check_output(name: str, out: np.ndarray, content: np.ndarray) -> None:
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != content.shape:
        got = (getattr(out, "dtype", type(out).__name__), tuple(getattr(out, "shape", ())))
        raise ShapeError(f"method {name!r} returned {got}, expected uint8 {tuple(content.shape)} (the content's size)")


def evaluate_pairs(pairs: Sequence[Pair], methods: Sequence[Method], teacher: VGGTeacher,
                   max_side: int | None = None, warmup: bool = True,
                   progress: Callable[[str], None] | None = None,
                   sheet: "ContactSheet | None" = None) -> list[EvalRow]:
    """Stylize every pair with every method and average SSIM, Gram loss, palette distance and seconds.

    Images are read with :func:`read_image` (``max_side`` shrinks both). With ``warmup`` each
    method runs once, untimed, on the first pair before timing starts. ``progress`` receives one
    line per pair. Rows come back in the order of ``methods``. With ``sheet`` every pair's
    style, content and outputs are added to that contact sheet as one row.
    """
    if not pairs:
        raise ConfigError("no pairs to evaluate")
    if not methods:
        raise ConfigError("no methods to evaluate")
    teacher = teacher.eval()
    acc = {m.name: _Acc() for m in methods}
    for i, pair in enumerate(pairs):
        t0 = time.perf_counter()
        content = read_image(pair.content, max_side)
        style = read_image(pair.style, max_side)
        style_grams = gram_matrices(teacher, style)
        if warmup and i == 0:
            for m in methods:
                m.fn(content, style)
        outputs = {}
        for m in methods:
            out, dt = _timed(m.fn, content, style)
            _check_output(m.name, out, content)
            outputs[m.name] = out
            a = acc[m.name]
            a.seconds.append(dt)
            a.ssim.append(ssim_gray(out, content))
            a.gram.append(gram_loss(gram_matrices(teacher, out), style_grams))
            a.palette.append(palette_distance(out, style))
        if sheet is not None:
            sheet.add_row(style, content, outputs)
        if progress:
            progress(f"pair {i + 1}/{len(pairs)}: {pair.content.name} + {pair.style.name} "
                     f"({time.perf_counter() - t0:.1f} s)")
    return [EvalRow(m.name, m.weights, float(np.mean(acc[m.name].ssim)), float(np.mean(acc[m.name].gram)),
                    float(np.mean(acc[m.name].seconds)), len(pairs), float(np.mean(acc[m.name].palette)))
            for m in methods]


# --------------------------------------------------------------------------- reporting
def format_markdown(rows: Iterable[EvalRow]) -> str:
    """A Markdown table: method, weights, SSIM, Gram loss, palette distance, seconds per image, pairs."""
    lines = ["| method | weights | SSIM ↑ | Gram loss ↓ | palette ↓ | s / image (CPU) | pairs |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.method} | {r.weights} | {r.ssim:.4f} | {r.gram:.4g} | {r.palette:.3f} | "
                     f"{r.seconds:.4f} | {r.pairs} |")
    return "\n".join(lines)


def machine_description() -> str:
    """CPU name (``platform.processor()``, else /proc/cpuinfo), CPU count, torch threads, load."""
    proc = platform.processor() or ""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    name = ", ".join(x for x in (model, proc or platform.machine()) if x) or "unknown CPU"
    parts = [f"{name}; {os.cpu_count()} CPUs; {platform.system()} {platform.release()}",
             f"torch {torch.__version__} with {torch.get_num_threads()} threads"]
    if hasattr(os, "getloadavg"):
        parts.append("load average {:.1f} / {:.1f} / {:.1f} (1 / 5 / 15 min) at the start".format(*os.getloadavg()))
    return "; ".join(parts)


def render_section(rows: Sequence[EvalRow], command: str, pairs_file: str | Path, teacher: str,
                   max_side: int | None = None, machine: str | None = None,
                   date: str | None = None, wall_seconds: float | None = None) -> str:
    """The EVAL.md section body: provenance (command, date, machine), the table, metric definitions."""
    date = date or _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    machine = machine or machine_description()
    n = rows[0].pairs if rows else 0
    size = f"long side shrunk to <= {max_side} px" if max_side else "full size"
    lines = [
        "## Dev pairs: content fidelity, style distance, speed",
        "",
        "```",
        command,
        "```",
        "",
        f"- date: {date}",
        f"- machine: {machine}",
        f"- pairs: {n} from `{pairs_file}`, {size}",
        f"- teacher for the Gram loss: {teacher}",
    ]
    if wall_seconds is not None:
        lines.append(f"- whole run: {wall_seconds:.0f} s")
    lines += [
        "",
        format_markdown(rows),
        "",
        "SSIM: grayscale (BT.601 luma) output vs content at the content's size, `kornia.metrics.ssim`, "
        "11x11 Gaussian window (sigma 1.5), valid region, mean. "
        "Gram loss: sum over relu1_1..relu5_1 of ||G(out) - G(style)||_F^2 with G = F F^T / (C H W). "
        "palette: sliced Wasserstein-1 distance between output and style pixel colours in CIE Lab "
        "(64 seeded directions, 20,000 pixels each, quantiles 0.5 %..99.5 %, mean absolute difference). "
        "s / image: wall time of the stylization alone (style statistics included), CPU fp32, "
        "mean over pairs after one untimed warm-up; REST rows run through `Stylizer` with the "
        "inference form unless the command says `--no-optimized`. Outputs are 8-bit, as the tool writes them. "
        "`reinhard`: mean/std in OpenCV Lab; `rgb-adain`: mean/std per RGB channel; "
        "`histmatch`: per-channel RGB histogram matching; `rest-untrained`: REST with random weights "
        "(seed 0), a floor for what training adds.",
    ]
    return "\n".join(lines)


def _markers(section: str) -> tuple[str, str]:
    return f"<!-- eval:{section}:start -->", f"<!-- eval:{section}:end -->"


def write_section(path: str | Path, body: str, section: str = SECTION,
                  title: str = "# rest-video evaluation") -> None:
    """Put ``body`` between ``<!-- eval:SECTION:start -->`` and ``<!-- eval:SECTION:end -->`` in ``path``.

    The file is re-read just before writing; everything outside the markers is kept. If the
    markers are absent the section is appended; if the file is absent it is created with ``title``.
    The write is atomic (temporary file + rename, file mode kept).
    """
    from rest_video.io.atomic import atomic_output

    p = Path(path)
    start, end = _markers(section)
    block = f"{start}\n{body.strip()}\n{end}"
    check_writable(p, overwrite=True)
    try:
        text = p.read_text(encoding="utf-8") if p.exists() else None
    except (OSError, UnicodeDecodeError) as e:
        raise MediaError(f"cannot read {p}: {e}") from None
    if text is None:
        new = f"{title}\n\n{block}\n"
    else:
        i = text.find(start)
        j = text.find(end, i + len(start)) if i >= 0 else -1
        if i >= 0 and j < 0:
            raise MediaError(f"{p}: has {start} but no {end} after it; fix the file by hand")
        if i < 0:
            if end in text:
                raise MediaError(f"{p}: has {end} but no {start} before it; fix the file by hand")
            new = text + ("" if text.endswith("\n") or not text else "\n") + ("\n" if text else "") + block + "\n"
        else:
            new = text[:i] + block + text[j + len(end):]
    with atomic_output(p) as tmp:
        tmp.write_text(new, encoding="utf-8")
        if p.exists():
            shutil.copymode(p, tmp)
        else:
            os.chmod(tmp, 0o644)


def run_eval(pairs_file: str | Path, *, checkpoint: str | Path | None = None,
             ablations: Sequence[tuple[str, str | Path]] = (), max_side: int | None = None,
             limit: int | None = None, out: str | Path | None = "EVAL.md",
             teacher_kind: str = "vgg16-lpips", teacher_path: str | Path | None = None,
             optimized: bool = True, command: str = "", section: str = SECTION,
             progress: Callable[[str], None] | None = None, sheet: str | Path | None = None) -> list[EvalRow]:
    """Everything ``rest-video eval`` does: read pairs, load weights and teacher, evaluate, write.

    Inputs are checked (pairs, every weights file, the teacher) before any image is stylized.
    With ``out`` set, the section ``section`` of that Markdown file is replaced by
    :func:`render_section` (``command`` is shown verbatim). With ``sheet`` a contact sheet
    (one row per pair: style, content, then every method but ``rest-untrained`` and ``histmatch``)
    is written there as an image. Returns the rows.
    """
    if max_side is not None and max_side < 16:
        raise ConfigError(f"--max-side must be >= 16, got {max_side}")
    pairs = read_pairs(pairs_file, limit)
    if out is not None:
        check_writable(out, overwrite=True)
    if sheet is not None:
        check_writable(sheet, overwrite=True)
    machine = machine_description()  # load average before our own work starts
    methods = default_methods(checkpoint, ablations, optimized)
    teacher = load_teacher(teacher_kind, teacher_path)
    t0 = time.perf_counter()
    contact = ContactSheet(sheet_columns([m.name for m in methods])) if sheet is not None else None
    rows = evaluate_pairs(pairs, methods, teacher, max_side=max_side, progress=progress, sheet=contact)
    wall = time.perf_counter() - t0
    if contact is not None:
        contact.save(sheet)
    if out is not None:
        tdesc = f"{teacher_kind} ({teacher_path})" if teacher_path else teacher_kind
        body = render_section(rows, command, pairs_file, tdesc, max_side, machine, wall_seconds=wall)
        write_section(out, body, section)
    return rows
