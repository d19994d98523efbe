"""Refuse a style image with no look to transfer: a single colour (or a 1x1 image).

AdaIN gives every output pixel the style's feature statistics; a single-colour style has feature
standard deviations of zero, so every frame would come out as one flat colour. Such a style is
refused with one clear line rather than producing a useless video. The test is on the pixels, so
it means the same for every set of weights: the style is flat when no colour channel varies by
more than :data:`FLAT_LEVELS` (standard deviation, in 0..255 levels). A photo of fog at a tenth
of its contrast still varies by about 5 levels; a flat colour with JPEG or sensor noise of a level
or so does not.
"""

from __future__ import annotations

import numpy as np

from rest_video.core.errors import StyleError

FLAT_LEVELS = 2.0


def check_not_flat(img: np.ndarray, name: str = "style image") -> None:
    """Raise :class:`StyleError` when ``img`` (``(H, W, 3)`` uint8) is a single colour."""
    pixels = img.reshape(-1, img.shape[-1]).astype(np.float32)
    spread = float(pixels.std(axis=0).max()) if pixels.shape[0] > 1 else 0.0
    if spread < FLAT_LEVELS:
        h, w = img.shape[:2]
        raise StyleError(f"{name} ({w}x{h}) is a single colour (its pixels vary by {spread:.1f} levels, "
                         f"less than {FLAT_LEVELS:g}); it has no look to transfer, choose a photo")
