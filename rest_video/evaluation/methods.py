"""What ``rest-video eval`` compares: REST (shipped weights, random weights, ablations) and the
classical colour-transfer baselines, each a :class:`Method` mapping RGB uint8 content and style to
an RGB uint8 output (what a user of the tool gets, so rounding to 8 bits is part of the result)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from rest_video.core.config import PipelineConfig, RuntimeCfg, StyleCfg
from rest_video.core.errors import ConfigError
from rest_video.engine.stylizer import Stylizer
from rest_video.evaluation.pairs import BUILTIN_NAMES
from rest_video.models import REST, create_model, load_weights
from rest_video.ops.color import to_uint8

StylizeFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(content (H, W, 3) uint8, style (h, w, 3) uint8) -> output (H, W, 3) uint8``, all RGB."""


@dataclass(frozen=True)
class Method:
    """A named stylization function (see :data:`StylizeFn`) and a description of its weights."""

    name: str
    fn: StylizeFn
    weights: str = "-"


# --------------------------------------------------------------------------- baselines
def _to_float(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 -> float32 in [0, 1]."""
    return img.astype(np.float32) / 255.0


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
def _float_method(name: str, transfer: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Method:
    """Wrap a float ``(H, W, 3)`` transfer as a uint8 :class:`Method`."""
    return Method(
        name,
        lambda c, s: to_uint8(np.ascontiguousarray(transfer(_to_float(c), _to_float(s)), np.float32), 255.0),
    )


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
    """The shipped ``rest_16x5`` weights, or a ``.safetensors`` / training ``.pt`` file, and a label
    for the table (:func:`rest_video.models.load_weights`)."""
    return load_weights(checkpoint)


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
