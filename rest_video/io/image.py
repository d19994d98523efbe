"""Reading and writing still images (RGB uint8 arrays)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from rest_video.core.errors import MediaError

IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".avif"})
"""Extensions read and written as still images (lower case, with the dot); the only list of them."""


def is_image_path(path: str | Path) -> bool:
    """True when ``path`` has a still-image extension (:data:`IMAGE_EXTS`)."""
    return Path(path).suffix.lower() in IMAGE_EXTS


def read_image_bytes(path: str | Path) -> np.ndarray:
    """The bytes of an image file (uint8); a missing file or a folder is a one-line :class:`MediaError`."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"file not found: {p}")
    if p.is_dir():
        raise MediaError(f"is a folder, not an image: {p}")
    return np.fromfile(str(p), dtype=np.uint8)


def read_image(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` RGB uint8, optionally shrunk so its long side <= ``max_side``."""
    p = Path(path)
    data = read_image_bytes(p)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    del data  # the file's bytes go before anything else of the picture's size is made
    if img is None:
        raise MediaError(f"not a readable image: {p}")
    cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=img)  # in place: a 96 MP photo is 288 MB a copy
    if max_side:
        h, w = img.shape[:2]
        if max(h, w) > max_side:
            s = max_side / max(h, w)
            img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return img


def write_image(path: str | Path, rgb: np.ndarray, quality: int = 95) -> None:
    """Write ``(H, W, 3)`` RGB uint8 to ``path`` (format from the extension), atomically."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in IMAGE_EXTS:
        raise MediaError(f"unsupported image extension {ext!r}: {p}")
    params: list[int] = []
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    ok, buf = cv2.imencode(ext, cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise MediaError(f"could not encode image {p}")
    from rest_video.core.atomic import atomic_output

    with atomic_output(p) as tmp:
        tmp.write_bytes(buf)  # the encoded array itself, not a bytes copy of it
