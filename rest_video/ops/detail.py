"""The LUT path's local-contrast term: what a colour LUT cannot say about the look.

The network changes local contrast as well as colour (fine detail up, mid-scale contrast down,
differently per channel), which no global colour LUT can reproduce. The term adds to the LUT's
output, per channel, a fixed mix of three bands of the input's luma:

    out_c = lut_c(rgb) + sum_b gain[b, c] * band_b,    band_b = blur_{b}(luma) - blur_{b+1}(luma)

with the blurs at 0 (the luma itself), 1, 2 and about 6 px. The network is translation-invariant
and works in pixels, so gains fitted by least squares on the small frame the network ran on
(:func:`fit_detail`) carry over to the full-resolution frame (:func:`add_detail`), bands taken at
the same pixel scales (EVAL.md, "The LUT path for files"). Zero gains (the network's identity at
strength 0) change nothing.
"""

from __future__ import annotations

import cv2
import numpy as np

from rest_video.ops.color import scratch

BANDS = 3
RIDGE = 1e-3          # least-squares ridge, relative to the mean band energy: numerical safety only


def _levels(rgb: np.ndarray, work: dict | None) -> list[np.ndarray]:
    """uint8 luma and its blurs at 1, 2 and about 6 px (the last: shrunk 4x by area, blurred by
    1.5 px there, grown back), into ``work``'s arrays. uint8 all through: OpenCV's fixed-point
    paths, a few times faster than float; the fit sees the same rounded levels as the apply."""
    shape = rgb.shape[:2]
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY, dst=scratch(work, "detail_y", shape, np.uint8))
    b1 = cv2.GaussianBlur(y, (5, 5), 1.0, dst=scratch(work, "detail_b1", shape, np.uint8))
    b2 = cv2.GaussianBlur(y, (9, 9), 2.0, dst=scratch(work, "detail_b2", shape, np.uint8))
    h, w = shape
    small = cv2.resize(y, (max(1, (w + 2) // 4), max(1, (h + 2) // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 1.5)
    b3 = cv2.resize(small, (w, h), dst=scratch(work, "detail_b3", shape, np.uint8),
                    interpolation=cv2.INTER_LINEAR)
    return [y, b1, b2, b3]


def fit_detail(inputs: np.ndarray, mapped: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Gains ``(BANDS, 3)`` float32 so that ``add_detail(inputs, mapped, gains) ~ target``, by
    ridge least squares per channel; ``inputs``, ``mapped`` (the LUT's output), ``target`` (the
    network's): uint8 ``(H, W, 3)``.

    >>> rng = np.random.default_rng(0)
    >>> x = cv2.GaussianBlur(rng.integers(0, 256, (64, 64, 3), np.uint8), (0, 0), 1.0)
    >>> fit_detail(x, x, x).tolist() == np.zeros((3, 3)).tolist()        # nothing to explain
    True
    """
    levels = [x.astype(np.float32) for x in _levels(inputs, None)]
    bands = np.stack([levels[i] - levels[i + 1] for i in range(BANDS)], -1).reshape(-1, BANDS)
    residual = target.astype(np.float32).reshape(-1, 3) - mapped.astype(np.float32).reshape(-1, 3)
    a = bands.T.astype(np.float64) @ bands
    if np.trace(a) < len(bands):                  # under a level of detail on average: nothing to fit
        return np.zeros((BANDS, 3), np.float32)
    a += RIDGE * np.trace(a) / BANDS * np.eye(BANDS)
    return np.linalg.solve(a, bands.T.astype(np.float64) @ residual).astype(np.float32)


def add_detail(rgb: np.ndarray, mapped: np.ndarray, gains: np.ndarray | None,
               work: dict | None = None) -> np.ndarray:
    """``mapped`` (uint8 ``(H, W, 3)``) plus the term of ``gains`` taken from ``rgb``'s luma, rounded
    and saturated to uint8; ``mapped`` itself when the gains are None or zero. ``work`` keeps
    scratch arrays between calls (one per thread)."""
    if gains is None or not np.any(gains):
        return mapped
    levels = _levels(rgb, work)
    shape = rgb.shape[:2]
    bands = [cv2.subtract(levels[i], levels[i + 1], dtype=cv2.CV_16S,
                          dst=scratch(work, f"detail_d{i}", shape, np.int16)) for i in range(BANDS)]
    planes = []
    for c in range(3):
        g = [float(x) for x in gains[:, c]]
        p = scratch(work, f"detail_p{c}", shape, np.int16)
        p = cv2.addWeighted(bands[0], g[0], bands[1], g[1], 0.0, dst=p)
        planes.append(cv2.addWeighted(p, 1.0, bands[2], g[2], 0.0, dst=p))
    delta = cv2.merge(planes, dst=scratch(work, "detail_delta", (*shape, 3), np.int16))
    np.add(mapped, delta, out=delta, dtype=np.int16)
    return np.clip(delta, 0, 255, out=delta).astype(np.uint8)
