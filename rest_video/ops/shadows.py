"""The shadow guard: a dark look keeps the detail of the shadows it darkens.

A dark style darkens the picture, which is its look, but where the network renders the input's
shadows a few levels above black it loses some of their detail (EVAL.md, "Shadows").
:func:`keep_shadow_detail` keeps the output's local tone (its blurred luma) and gives those
shadows back the input's detail, scaled by how much darker the output is there:

    out_luma = blur(out_luma) + gain * (in_luma - blur(in_luma)),  gain = blur(out) / blur(in) <= 1

where the output is dark (blurred BT.601 luma <= 16 levels, fading out by 32) over the input's
shadows (<= 64, fading out by 128). Everywhere else the network's own detail, which is part of
the look, stays as it is. The change is added to the three channels alike, so colours stay.
"""

from __future__ import annotations

import cv2
import numpy as np

from rest_video.ops.color import scratch

SIGMA = 2.0        # px: the scale that separates tone (blurred) from detail
SHADOW = 64.0      # input luma (blurred) up to which the guard applies fully
FADE = 128.0       # ... and from which it does not apply
DARK = 16.0        # output luma (blurred) up to which the guard applies fully
DARK_FADE = 32.0   # ... and from which it does not apply


def keep_shadow_detail(content: np.ndarray, stylized: np.ndarray,
                       work: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """uint8 RGB ``stylized`` (``(H, W, 3)`` or ``(N, H, W, 3)``) with the detail of ``content``'s
    shadows put back at the output's tone; a new array. ``work`` keeps scratch arrays between calls
    (one stream of frames of one size then allocates nothing); one per thread.

    >>> c = np.full((16, 16, 3), 40, np.uint8); c[:, ::2] = 50           # faint shadow texture
    >>> flat = np.full_like(c, 10)                                       # a dark look that lost it
    >>> out = keep_shadow_detail(c, flat)
    >>> int(out[8, 8, 0]) != int(out[8, 9, 0]), abs(float(out.mean()) - 10) < 1
    (True, True)
    """
    if content.shape != stylized.shape:
        raise ValueError(f"content {content.shape} and stylized {stylized.shape} differ in shape")
    if stylized.ndim == 4:
        return np.stack([keep_shadow_detail(c, s, work) for c, s in zip(content, stylized, strict=False)])
    work = {} if work is None else work
    yo_full = cv2.cvtColor(stylized, cv2.COLOR_RGB2GRAY,
                           dst=scratch(work, "yo", stylized.shape[:2], np.uint8))
    dark = np.nonzero((yo_full < DARK_FADE).any(axis=1))[0]
    if dark.size == 0:                        # a blur never goes under the darkest pixel: nothing to do
        return stylized.copy()
    cols = np.nonzero((yo_full[dark[0]:dark[-1] + 1] < DARK_FADE).any(axis=0))[0]
    # the guard can only change pixels within the blur's reach of a dark one, and needs twice that
    h, w = yo_full.shape
    r = _REACH
    y0, y1, x0, x1 = dark[0], dark[-1] + 1, cols[0], cols[-1] + 1
    cy0, cy1, cx0, cx1 = max(0, y0 - 2 * r), min(h, y1 + 2 * r), max(0, x0 - 2 * r), min(w, x1 + 2 * r)
    out = stylized.copy()
    part = _guard(content[cy0:cy1, cx0:cx1], stylized[cy0:cy1, cx0:cx1], yo_full[cy0:cy1, cx0:cx1], work)
    wy0, wy1, wx0, wx1 = max(0, y0 - r), min(h, y1 + r), max(0, x0 - r), min(w, x1 + r)
    out[wy0:wy1, wx0:wx1] = part[wy0 - cy0:wy1 - cy0, wx0 - cx0:wx1 - cx0]
    return out


def _guard(content: np.ndarray, stylized: np.ndarray, yo: np.ndarray,
           work: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`keep_shadow_detail` on a window (``yo``: the stylized window's uint8 luma), into
    ``work``'s arrays: the module docstring's formula, step by step in float32."""
    shape = yo.shape
    yi = cv2.cvtColor(content, cv2.COLOR_RGB2GRAY, dst=scratch(work, "yi", shape, np.uint8))
    # the Gaussian blur of the float luma, straight from uint8 (the same values)
    bi = cv2.sepFilter2D(yi, cv2.CV_32F, _KERNEL, _KERNEL, dst=scratch(work, "bi", shape))
    bo = cv2.sepFilter2D(yo, cv2.CV_32F, _KERNEL, _KERNEL, dst=scratch(work, "bo", shape))
    weight, t, gain = (scratch(work, name, shape) for name in ("weight", "t", "gain"))
    _ramp(bi, FADE, FADE - SHADOW, weight)                     # 1 in the input's shadows, 0 from FADE
    cv2.multiply(weight, _ramp(bo, DARK_FADE, DARK_FADE - DARK, t), dst=weight)  # ... and the output dark
    np.divide(bo, cv2.max(bi, 4.0, dst=gain), out=gain)
    cv2.min(gain, 1.0, dst=gain)                               # gain = blur(out) / blur(in) <= 1
    np.multiply(gain, np.subtract(yi, bi, out=t), out=t)       # gain * (in_luma - blur(in_luma))
    np.subtract(t, np.subtract(yo, bo, out=gain), out=t)       # ... - (out_luma - blur(out_luma))
    cv2.multiply(t, weight, dst=t)
    delta = cv2.merge([t, t, t], dst=scratch(work, "delta", (*shape, 3)))
    return cv2.add(stylized, delta, dtype=cv2.CV_8U)           # rounded, saturated


def _ramp(x: np.ndarray, top: float, width: float, out: np.ndarray) -> np.ndarray:
    """``clip((top - x) / width, 0, 1)`` into ``out``."""
    np.multiply(np.subtract(np.float32(top), x, out=out), np.float32(1.0 / width), out=out)
    return cv2.min(cv2.max(out, 0.0, dst=out), 1.0, dst=out)


_RADIUS = int(round(SIGMA * 4))  # OpenCV's Gaussian for float images is 8 sigma + 1 wide
_REACH = _RADIUS + 1             # pixels a Gaussian of SIGMA reaches
_KERNEL = cv2.getGaussianKernel(2 * _RADIUS + 1, SIGMA, cv2.CV_32F)  # GaussianBlur's, for float
