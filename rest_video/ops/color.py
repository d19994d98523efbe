"""Pure colour and image functions on RGB ``(H, W, 3)`` arrays (numpy / OpenCV): rounding to uint8,
resizing, local motion, chroma blur. The one place each of these is written."""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(img: np.ndarray, scale: float = 1.0, dst: np.ndarray | None = None) -> np.ndarray:
    """``img * scale`` rounded (half to even) and saturated to uint8, into ``dst`` when given.

    ``img``: a float ``(H, W, C)`` image (C <= 4); ``scale`` 255 turns [0, 1] into levels. One
    OpenCV pass (scale, round, saturate): every rounding to uint8 in rest-video goes through here
    (on a device, :func:`rest_video.engine.tensors.tensor_to_uint8` rounds the same way).
    """
    if dst is None:
        dst = np.empty(img.shape, np.uint8)
    if img.ndim == 3 and img.shape[2] in (1, 3) and img.flags.c_contiguous and dst.flags.c_contiguous:
        # the same arithmetic on a one-channel view: OpenCV's per-channel scalar path is 3-4x slower
        h = img.shape[0]
        cv2.multiply(img.reshape(h, -1), scale, dst=dst.reshape(h, -1), dtype=cv2.CV_8U)
        return dst
    cv2.multiply(img, (scale, scale, scale, 0.0), dst=dst, dtype=cv2.CV_8U)
    return dst


def resize(rgb: np.ndarray, size: tuple[int, int], interpolation: int | None = None) -> np.ndarray:
    """``rgb`` resized to ``size`` ``(width, height)``; the same array when it has that size already.

    The filter is area averaging when the picture shrinks, bilinear when it grows (unless
    ``interpolation`` names another OpenCV flag)."""
    w, h = size
    if (rgb.shape[1], rgb.shape[0]) == (w, h):
        return rgb
    if interpolation is None:
        interpolation = cv2.INTER_AREA if w * h < rgb.shape[0] * rgb.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(rgb, (w, h), interpolation=interpolation)


def fit_size(h: int, w: int, scale: float) -> tuple[int, int]:
    """``(width, height)`` of an ``h`` x ``w`` picture scaled by ``scale`` (rounded, at least 1)."""
    return max(1, round(w * scale)), max(1, round(h * scale))


def downscale(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` shrunk (area filter) so its long side is at most ``side``; the same array when it is."""
    h, w = rgb.shape[:2]
    if max(h, w) <= side:
        return rgb
    return resize(rgb, fit_size(h, w, side / max(h, w)), cv2.INTER_AREA)


def motion_map(inp: np.ndarray, prev: np.ndarray, radius: int = 5, blur: int = 2) -> np.ndarray:
    """How much the input moved around each pixel, in levels: ``(H, W)`` uint8.

    The largest per-channel change ``|inp - prev|``, averaged over a ``(2 blur + 1)^2`` square (codec
    noise is uncorrelated from pixel to pixel and averages out; motion is coherent and stays), then
    the maximum over a ``(2 (radius - blur) + 1)^2`` square, so any change within ``radius`` pixels
    counts: with the defaults the whole 11x11 window a 5-layer 3x3 network sees.
    """
    diff = cv2.absdiff(inp, prev)
    b, g, r = cv2.split(diff)
    m = cv2.max(cv2.max(b, g), r)
    if blur > 0:
        m = cv2.blur(m, (2 * blur + 1, 2 * blur + 1))
    spread = radius - blur
    if spread > 0:
        m = cv2.dilate(m, np.ones((2 * spread + 1, 2 * spread + 1), np.uint8))
    return m


def smooth_chroma(rgb: np.ndarray, sigma: float, out: np.ndarray | None = None,
                  work: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Blur the colour of ``rgb`` (``(H, W, 3)``, uint8 or float32) by a Gaussian of ``sigma`` pixels,
    keeping its brightness: float32 ``(H, W, 3)``, same luma (BT.601) as the input.

    The network maps brightness to colour, so the codec's brightness noise comes out as colour
    speckle that changes from frame to frame (on still pixels of the clips in EVAL.md, 3.7-18x the
    input's own colour change). Luma ``Y`` carries the detail and stays; the rest, ``rgb - Y``, depends on the
    chroma alone (YCrCb is linear in RGB), so blurring it is blurring Cr and Cb. With ``sigma`` 1
    it is finer than the half-resolution chroma a yuv420p encode keeps anyway.

    ``out`` receives the result; ``work`` keeps scratch arrays between calls (a stream of frames of
    one size then allocates nothing: fresh multi-megabyte arrays cost more in page faults than the
    arithmetic).
    """
    if work is None:
        f = rgb.astype(np.float32, copy=False)
    else:
        f = scratch(work, "f", rgb.shape)
        np.copyto(f, rgb)
    y = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY, dst=scratch(work, "y", rgb.shape[:2]))   # BT.601 luma, float
    y3 = cv2.merge([y, y, y], dst=scratch(work, "y3", rgb.shape))
    colour = cv2.subtract(f, y3, dst=scratch(work, "colour", rgb.shape))
    colour = cv2.GaussianBlur(colour, (0, 0), sigma, dst=scratch(work, "blurred", rgb.shape),
                              borderType=cv2.BORDER_REFLECT)
    return cv2.add(colour, y3, dst=out)


def scratch(work: dict[str, np.ndarray] | None, name: str, shape: tuple[int, ...],
            dtype=np.float32) -> np.ndarray | None:
    """A scratch array of ``shape`` over ``work``'s flat buffer ``name`` (None without ``work``: let
    OpenCV allocate). The buffer grows but is never given back, so a window that changes size
    from frame to frame (the shadow guard's) allocates only when it grows past its largest."""
    if work is None:
        return None
    n = int(np.prod(shape))
    a = work.get(name)
    if a is None or a.size < n or a.dtype != dtype:
        a = work[name] = np.empty(n, dtype)
    return a[:n].reshape(shape)
