"""Strength as opacity: the stylized picture laid over the input, as every photo tool's slider.

``out = input + strength * (stylized - input)``, per pixel, rounded to the nearest level. At 0 it
is the input itself (a copy, bit for bit); at 1 the stylized picture; in between each pixel moves
in a straight line, so the look grows smoothly and monotonically. A 3D LUT follows the same rule
(:func:`blend_lut`), so the LUT path and ``.cube`` export keep the definition.
"""

from __future__ import annotations

import numpy as np

from rest_video.ops.lut import identity_lut


def blend(content: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """uint8 ``content`` and ``stylized`` (same shape) -> ``content`` moved ``strength`` of the way.

    >>> a, b = np.array([0, 100, 255], np.uint8), np.array([255, 0, 255], np.uint8)
    >>> blend(a, b, 0.0).tolist(), blend(a, b, 0.5).tolist(), blend(a, b, 1.0).tolist()
    ([0, 100, 255], [128, 50, 255], [255, 0, 255])
    """
    if content.shape != stylized.shape:
        raise ValueError(f"content {content.shape} and stylized {stylized.shape} differ in shape")
    if strength >= 1.0:
        return stylized
    if strength <= 0.0:
        return content.copy()
    c = content.astype(np.float32)
    out = c + np.float32(strength) * (stylized.astype(np.float32) - c)
    return np.rint(out, out=out).astype(np.uint8)


def blend_lut(table: np.ndarray, strength: float) -> np.ndarray:
    """A 3D LUT (:mod:`rest_video.ops.lut`'s layout) moved ``strength`` of the way from the
    identity: applying it is :func:`blend` of the input and the full LUT's output (before rounding).

    >>> t = np.zeros((2, 2, 2, 3), np.float32)
    >>> blend_lut(t, 0.0)[1, 0, 1].tolist(), blend_lut(t, 0.5)[1, 1, 1].tolist()
    ([1.0, 0.0, 1.0], [0.5, 0.5, 0.5])
    """
    identity = identity_lut(table.shape[0])
    if strength <= 0.0:
        return identity
    return (identity + np.float32(strength) * (table.astype(np.float32) - identity)).astype(np.float32)
