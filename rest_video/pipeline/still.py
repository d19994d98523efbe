"""One still image through the network with its alpha, ICC profile and EXIF (README, "What is
kept, converted or dropped").

- The picture goes to the network in sRGB (:func:`~rest_video.io.picture.to_srgb`) and comes back
  into its own profile, which the output embeds; EXIF is kept with orientation 1 (the pixels are upright).
- Alpha: fully transparent pixels are left out of the content statistics (the network's AdaIN
  statistics are computed on the other pixels only, ``Stylizer.stylize(stats_mask=...)``), and
  before the network they are filled with the mean colour of the others, so what they held reaches
  no visible pixel through the convolutions either. The output keeps the input's alpha and, under
  fully transparent pixels, the input's own colours (strength 0 gives the input back bit for bit).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from rest_video.core.errors import MediaError
from rest_video.engine.stylizer import Stylizer
from rest_video.io.hdr import bt709_from_sdr, hdr_note
from rest_video.io.image import write_image
from rest_video.io.masks import read_mask
from rest_video.io.picture import Picture, from_srgb, read_picture, to_srgb, with_pixels, write_picture
from rest_video.io.video import VideoReader, upright
from rest_video.ops.opacity import blend
from rest_video.pipeline.frames import mask_source

log = logging.getLogger(__name__)


def read_picture_or_none(path: Path) -> Picture | None:
    """The picture at ``path``, or None when it is no readable image (then it is read as a video)."""
    try:
        return read_picture(path)
    except MediaError:
        return None


def hide_transparent(rgb: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(pixels, counted)``: ``rgb`` with its fully transparent pixels set to the mean colour of the
    others, and the mask of the others (None when every pixel counts, or none does)."""
    if alpha is None:
        return rgb, None
    counted = alpha > 0
    n = int(counted.sum())
    if n == counted.size or n == 0:
        return rgb, None
    mean = rgb[counted].reshape(-1, 3).astype(np.float64).mean(0)
    out = rgb.copy()
    out[~counted] = np.rint(mean).astype(np.uint8)
    return out, counted


def stylize_picture(pic: Picture, stylizer: Stylizer, stats, strength: float,
                    content_mask: str | Path | None = None) -> Picture:
    """The stylized picture: same size, alpha, profile and EXIF.

    A picture with a non-sRGB profile takes the full look in sRGB, brought back into its profile,
    and ``strength`` blends that over the input in the input's own colours (strength 0: the input,
    colours outside sRGB included)."""
    if strength <= 0.0:
        return with_pixels(pic, pic.rgb.copy())
    srgb = to_srgb(pic)
    converted = srgb is not pic.rgb
    pixels, counted = hide_transparent(srgb, pic.alpha)
    if counted is not None and stylizer.method != "adain":
        log.info("note: --method %s has no masked statistics; transparent pixels count in them "
                 "(filled with the mean colour)", stylizer.method)
        counted = None
    h, w = pixels.shape[:2]
    labels = None if content_mask is None else read_mask(content_mask, (w, h))
    out = stylizer.stylize(pixels, stats, 1.0 if converted else strength, content_mask=labels,
                           stats_mask=counted)
    del pixels, srgb
    if converted:
        out = blend(pic.rgb, from_srgb(pic, out), strength)
    if pic.alpha is not None:
        hidden = pic.alpha == 0
        out[hidden] = pic.rgb[hidden]  # what the input held there, unseen
    return with_pixels(pic, out)


def stylize_image_file(pic: Picture, dst: Path, stylizer: Stylizer, stats, strength: float, quality: int,
                       content_mask: str | Path | None = None) -> None:
    """Stylize ``pic`` and write it to ``dst`` with what travels with it."""
    write_picture(dst, stylize_picture(pic, stylizer, stats, strength, content_mask), quality)


def first_frame_to_image(src: Path, dst: Path, stylizer: Stylizer, stats, strength: float, quality: int,
                         content_mask: str | Path | None = None, fps: float | None = None) -> None:
    """A video's first frame stylized into image ``dst`` (upright, SDR)."""
    with VideoReader(src, fps=fps) as reader:
        first = next(iter(reader.frames(max_frames=1)), None)
        masks = mask_source(content_mask, src, reader.info)
    if first is None:
        raise MediaError(f"no decodable video frames in {src}")
    with masks or nullcontext():
        labels = masks.next() if masks is not None else None
    out = stylizer.stylize(first.rgb, stats, strength, content_mask=labels)
    if reader.info.colour.hdr:
        log.info(hdr_note(src.name, reader.info.colour.trc, "image"))
        out = bt709_from_sdr(out)
    if first.rotation % 360:
        log.info("note: the video is shown rotated %d degrees; the image is turned upright", first.rotation)
        out = upright(out, first.rotation)
    write_image(dst, out, quality)
