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

SIGMA = 2.0        # px: the scale that separates tone (blurred) from detail
SHADOW = 64.0      # input luma (blurred) up to which the guard applies fully
FADE = 128.0       # ... and from which it does not apply
DARK = 16.0        # output luma (blurred) up to which the guard applies fully
DARK_FADE = 32.0   # ... and from which it does not apply


def keep_shadow_detail(content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """uint8 RGB ``stylized`` (``(H, W, 3)`` or ``(N, H, W, 3)``) with the detail of ``content``'s
    shadows put back at the output's tone; a new array.

    >>> c = np.full((16, 16, 3), 40, np.uint8); c[:, ::2] = 50           # faint shadow texture
    >>> flat = np.full_like(c, 10)                                       # a dark look that lost it
    >>> out = keep_shadow_detail(c, flat)
    >>> int(out[8, 8, 0]) != int(out[8, 9, 0]), abs(float(out.mean()) - 10) < 1
    (True, True)
    """
    if content.shape != stylized.shape:
        raise ValueError(f"content {content.shape} and stylized {stylized.shape} differ in shape")
    if stylized.ndim == 4:
        return np.stack([keep_shadow_detail(c, s) for c, s in zip(content, stylized, strict=False)])
    yo_full = cv2.cvtColor(stylized, cv2.COLOR_RGB2GRAY)
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
    part = _guard(content[cy0:cy1, cx0:cx1], stylized[cy0:cy1, cx0:cx1],
                  yo_full[cy0:cy1, cx0:cx1].astype(np.float32))
    wy0, wy1, wx0, wx1 = max(0, y0 - r), min(h, y1 + r), max(0, x0 - r), min(w, x1 + r)
    out[wy0:wy1, wx0:wx1] = part[wy0 - cy0:wy1 - cy0, wx0 - cx0:wx1 - cx0]
    return out


def _guard(content: np.ndarray, stylized: np.ndarray, yo: np.ndarray) -> np.ndarray:
    """:func:`keep_shadow_detail` on a window (``yo``: the stylized window's luma, float32)."""
    yi = cv2.cvtColor(content, cv2.COLOR_RGB2GRAY).astype(np.float32)
    bi = cv2.GaussianBlur(yi, (0, 0), SIGMA)
    weight = cv2.min(cv2.max((FADE - bi) * (1.0 / (FADE - SHADOW)), 0.0), 1.0)
    bo = cv2.GaussianBlur(yo, (0, 0), SIGMA)
    weight = cv2.multiply(weight, cv2.min(cv2.max((DARK_FADE - bo) * (1.0 / (DARK_FADE - DARK)), 0.0), 1.0))
    gain = cv2.min(bo / cv2.max(bi, 4.0), 1.0)
    delta = cv2.multiply(gain * (yi - bi) - (yo - bo), weight)
    return cv2.add(stylized, cv2.merge([delta, delta, delta]), dtype=cv2.CV_8U)  # rounded, saturated


_REACH = int(round(SIGMA * 4)) + 1  # pixels a Gaussian of SIGMA reaches (OpenCV's kernel: 8 sigma + 1 wide)
