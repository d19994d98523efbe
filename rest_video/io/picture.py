"""Still images with what travels with their pixels: alpha, ICC profile and EXIF (README, "What is
kept, converted or dropped", the still-image table).

:func:`read_picture` gives the pixels upright (EXIF orientation applied, the orientation tag reset to
1), 8-bit RGB, the alpha channel apart, and the profile and EXIF as bytes; :func:`to_srgb` and
:func:`from_srgb` convert a non-sRGB picture (Display P3, Adobe RGB) for the network and back;
:func:`write_picture` writes alpha where the format holds it (PNG, WebP, TIFF, AVIF), flattens it
onto white otherwise (JPEG, BMP), and embeds the profile and EXIF.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from rest_video.core.errors import MediaError
from rest_video.io.image import IMAGE_EXTS, read_image_bytes

log = logging.getLogger(__name__)

ALPHA_EXTS = frozenset({".png", ".webp", ".tif", ".tiff", ".avif"})
"""Output formats that keep an alpha channel."""

ORIENTATION = 0x0112


@dataclass(frozen=True)
class Picture:
    """``rgb`` ``(H, W, 3)`` uint8 upright; ``alpha`` ``(H, W)`` uint8 or None; ``icc``: the embedded
    ICC profile; ``exif``: the EXIF block with orientation 1 (both bytes or None)."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    icc: bytes | None = None
    exif: bytes | None = None


def _pil():
    from PIL import Image

    return Image


def upright_exif(img, orientation: int) -> np.ndarray:
    """``img`` ``(H, W, ...)`` as shown under EXIF ``orientation`` (1-8), as Pillow's exif_transpose."""
    ops = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
           7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
           8: lambda a: np.rot90(a, 1)}
    op = ops.get(orientation)
    return img if op is None else np.ascontiguousarray(op(img))


def read_picture(path: str | Path) -> Picture:
    """Read a still image with its alpha, ICC profile and EXIF (one note for a 16-bit one)."""
    p = Path(path)
    data = read_image_bytes(p)
    icc, exif, orientation = _metadata(data.tobytes())
    rgb, alpha = _decode(data, p)
    del data
    if rgb is None:
        raise MediaError(f"not a readable image: {p}")
    rgb = upright_exif(rgb, orientation)
    alpha = None if alpha is None else upright_exif(alpha, orientation)
    return Picture(rgb, alpha, icc, exif)


def _decode(data: np.ndarray, p: Path) -> tuple[np.ndarray | None, np.ndarray | None]:
    """RGB uint8 and alpha (or None) of an encoded image, as stored (not turned upright)."""
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        return None, None
    tiff_alpha = img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 4
    if p.suffix.lower() in (".tif", ".tiff") and tiff_alpha:
        got = _decode_pil(data.tobytes())  # OpenCV premultiplies an 8-bit TIFF's colour by its alpha
        if got is not None:
            return got
    if img.dtype != np.uint8:
        log.info("note: %s has %d-bit samples; it is stylized and written as 8-bit", p.name,
                 img.dtype.itemsize * 8)
        img = (img.astype(np.float32) * (255.0 / np.iinfo(img.dtype).max) if img.dtype.kind in "ui"
               else img.astype(np.float32) * 255.0)
        img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = img[..., None]
    alpha = None
    if img.shape[2] in (2, 4):
        alpha = np.ascontiguousarray(img[..., -1])
        img = img[..., :-1]
    rgb = (cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.shape[2] == 1
           else cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2RGB))
    return rgb, alpha


def _decode_pil(data: bytes) -> tuple[np.ndarray, np.ndarray | None] | None:
    """An 8-bit image through Pillow (None for other sample depths: OpenCV reads those)."""
    Image = _pil()
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.mode not in ("RGB", "RGBA", "L", "LA", "P", "PA", "1"):
                return None
            has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
            a = np.array(im.convert("RGBA" if has_alpha else "RGB"))
    except Exception:  # noqa: BLE001 - Pillow cannot read it: OpenCV tries
        return None
    return (np.ascontiguousarray(a[..., :3]), np.ascontiguousarray(a[..., 3])) if has_alpha else (a, None)


def _metadata(data: bytes) -> tuple[bytes | None, bytes | None, int]:
    """The ICC profile, the EXIF block (orientation reset to 1) and the orientation of an image file."""
    Image = _pil()
    try:
        with Image.open(io.BytesIO(data)) as im:
            icc = im.info.get("icc_profile") or None
            ex = im.getexif()
    except Exception:  # a format Pillow does not read: pixels only
        return None, None, 1
    orientation = int(ex.get(ORIENTATION, 1) or 1)
    if ORIENTATION in ex:
        ex[ORIENTATION] = 1  # the pixels are upright now
    return icc, (ex.tobytes() if len(ex) else None), orientation


def profile_name(icc: bytes) -> str:
    from PIL import ImageCms

    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip() or "unnamed"
    except Exception:  # a profile LittleCMS cannot read
        return ""


def is_srgb(icc: bytes | None) -> bool:
    """True for no profile or an sRGB one (by its description)."""
    return icc is None or "srgb" in profile_name(icc).lower().replace(" ", "").replace("-", "")


def _transform(rgb: np.ndarray, src, dst) -> np.ndarray:
    from PIL import ImageCms

    Image = _pil()
    out = ImageCms.profileToProfile(Image.fromarray(rgb, "RGB"), src, dst, outputMode="RGB")
    return np.array(out)  # writable


def to_srgb(pic: Picture) -> np.ndarray:
    """The picture's pixels in sRGB (perceptual intent of LittleCMS; the pixels themselves when it
    has no profile or an sRGB one). One note names the conversion; an unreadable profile is kept
    and its pixels go to the network as they are, with one note."""
    if is_srgb(pic.icc):
        return pic.rgb
    from PIL import ImageCms

    name = profile_name(pic.icc)
    if not name:
        log.info("note: the image's ICC profile cannot be read; its pixels are taken as sRGB (profile kept)")
        return pic.rgb
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(pic.icc))
        out = _transform(pic.rgb, src, ImageCms.createProfile("sRGB"))
    except (ImageCms.PyCMSError, OSError, ValueError):  # not an RGB profile (grey, Lab ...)
        log.info("note: the image's ICC profile (%s) does not convert RGB; its pixels are taken as sRGB "
                 "(profile kept)", name)
        return pic.rgb
    log.info("note: the image's colours (%s) are converted to sRGB for the network and back", name)
    return out


def from_srgb(pic: Picture, rgb: np.ndarray) -> np.ndarray:
    """The inverse of :func:`to_srgb`: sRGB pixels back into the picture's profile."""
    if is_srgb(pic.icc) or not profile_name(pic.icc):
        return rgb
    from PIL import ImageCms

    return _transform(rgb, ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(io.BytesIO(pic.icc)))


def flatten(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` over white with ``alpha`` (uint8, rounded)."""
    a = alpha[..., None].astype(np.float32) / 255.0
    return np.rint(rgb.astype(np.float32) * a + 255.0 * (1.0 - a)).astype(np.uint8)


def write_picture(path: str | Path, pic: Picture, quality: int = 95) -> None:
    """Write ``pic`` (format from the extension), atomically, with its alpha (flattened onto white,
    one note, where the format has none), ICC profile and EXIF."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in IMAGE_EXTS:
        raise MediaError(f"unsupported image extension {ext!r}: {p}")
    alpha = pic.alpha
    rgb = pic.rgb
    if alpha is not None and ext not in ALPHA_EXTS:
        if (alpha < 255).any():
            log.info("note: %s has no alpha channel; the picture is flattened onto white", ext)
        rgb, alpha = flatten(rgb, alpha), None
    if alpha is None and pic.icc is None and pic.exif is None:
        from rest_video.io.image import write_image

        write_image(p, rgb, quality)
        return
    Image = _pil()
    im = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if alpha is not None:
        im.putalpha(Image.fromarray(np.ascontiguousarray(alpha), "L"))
    kw: dict = {}
    if pic.icc is not None:
        kw["icc_profile"] = pic.icc
    if pic.exif is not None:
        kw["exif"] = pic.exif
    if ext in (".jpg", ".jpeg", ".webp", ".avif"):
        kw["quality"] = int(quality)
    if ext in (".tif", ".tiff"):
        kw["compression"] = "tiff_deflate"
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF",
           ".bmp": "BMP", ".avif": "AVIF"}[ext]
    if fmt == "BMP":
        kw = {}
        if pic.icc is not None or pic.exif is not None:
            log.info("note: .bmp holds no ICC profile or EXIF; they are dropped")
    buf = io.BytesIO()
    try:
        im.save(buf, fmt, **kw)
    except (OSError, KeyError, ValueError) as e:
        raise MediaError(f"could not encode image {p}: {e}") from None
    from rest_video.core.atomic import atomic_output

    with atomic_output(p) as tmp:
        tmp.write_bytes(buf.getbuffer())


def with_pixels(pic: Picture, rgb: np.ndarray) -> Picture:
    """``pic`` with other pixels (same size), its alpha and metadata kept."""
    return replace(pic, rgb=rgb)
