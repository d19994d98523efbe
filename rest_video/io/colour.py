"""Colour standards of a video stream: read its tags, convert to and from the network's RGB with the
right matrix and range, and write the same tags back.

A stream says how its numbers mean colours with four tags (FFmpeg's names): the matrix
(``colorspace``: BT.601, BT.709, BT.2020 ...), the range (``color_range``: limited 16-235 "tv" or full
0-255 "pc"), the primaries and the transfer (``color_trc``). Decoding uses the matrix and range;
the output is encoded with the same matrix and range and carries the same four tags.

Untagged input follows FFmpeg's and the players' conventions (mpv, VLC, browsers):

- matrix unspecified: BT.709 when the picture is HD (width >= 1280 or height > 576), else BT.601;
- range unspecified: limited for YUV, full for the ``yuvj*`` formats and for RGB;
- primaries and transfer unspecified stay unspecified (the output is as untagged as the input, so a
  player makes the same guess for both).
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

# FFmpeg's AVColorSpace values
SPC_RGB, SPC_BT709, SPC_UNSPECIFIED = 0, 1, 2
SPC_FCC, SPC_BT470BG, SPC_SMPTE170M, SPC_SMPTE240M, SPC_BT2020_NCL, SPC_BT2020_CL = 4, 5, 6, 7, 9, 10
RANGE_UNSPECIFIED, RANGE_LIMITED, RANGE_FULL = 0, 1, 2
UNSPECIFIED = 2  # AVCOL_PRI_UNSPECIFIED and AVCOL_TRC_UNSPECIFIED
TRC_PQ, TRC_HLG = 16, 18  # SMPTE ST 2084, ARIB STD-B67

# swscale knows these matrices (everything else converts as BT.601, as FFmpeg does)
_SWS_MATRIX = {SPC_BT709: Colorspace.ITU709, SPC_FCC: Colorspace.FCC, SPC_BT470BG: Colorspace.ITU601,
               SPC_SMPTE170M: Colorspace.ITU601, SPC_SMPTE240M: Colorspace.SMPTE240M,
               SPC_BT2020_NCL: Colorspace.BT2020, SPC_BT2020_CL: Colorspace.BT2020}

MATRIX_NAMES = {SPC_RGB: "RGB", SPC_BT709: "BT.709", SPC_UNSPECIFIED: "untagged", SPC_BT470BG: "BT.601",
                SPC_SMPTE170M: "BT.601", SPC_SMPTE240M: "SMPTE 240M", SPC_BT2020_NCL: "BT.2020",
                SPC_BT2020_CL: "BT.2020 (CL)", SPC_FCC: "FCC"}


# exact rounding and full-resolution chroma on both sides: a YUV 4:2:0 -> RGB -> YUV 4:2:0 round trip
# comes back within 0.01 levels on average (swscale's default, bilinear, loses about 1 level of luma)
SWS_FLAGS = (Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
             | Interpolation.FULL_CHR_H_INP)


def is_hd(width: int, height: int) -> bool:
    """The players' line between SD (BT.601 when untagged) and HD (BT.709 when untagged)."""
    return width >= 1280 or height > 576


def is_rgb_format(pix_fmt: str) -> bool:
    """True for packed or planar RGB pixel formats (no matrix applies to them)."""
    name = pix_fmt.lower()
    return name.startswith(("rgb", "bgr", "gbr", "argb", "abgr", "0rgb", "0bgr", "pal8"))


@dataclass(frozen=True)
class ColourTags:
    """A stream's four colour tags, as FFmpeg numbers them (2 = unspecified, range 0 = unspecified)."""

    matrix: int = SPC_UNSPECIFIED
    range: int = RANGE_UNSPECIFIED
    primaries: int = UNSPECIFIED
    trc: int = UNSPECIFIED
    pix_fmt: str = "yuv420p"       # the decoder's pixel format (yuvj*: full range when untagged)

    @classmethod
    def of(cls, obj, pix_fmt: str | None = None) -> "ColourTags":
        """The tags of a codec context or a frame (missing attributes: unspecified)."""
        def num(name: str, default: int) -> int:
            try:
                return int(getattr(obj, name))
            except (AttributeError, TypeError, ValueError):
                return default

        fmt = pix_fmt or getattr(getattr(obj, "format", None), "name", None) or "yuv420p"
        return cls(num("colorspace", SPC_UNSPECIFIED), num("color_range", RANGE_UNSPECIFIED),
                   num("color_primaries", UNSPECIFIED), num("color_trc", UNSPECIFIED), fmt)

    @property
    def hdr(self) -> bool:
        return self.trc in (TRC_PQ, TRC_HLG)

    def full_range(self) -> bool:
        """Whether the numbers span 0-255 (the rule for an unspecified range in the module doc)."""
        if self.range == RANGE_FULL:
            return True
        if self.range == RANGE_LIMITED:
            return False
        return self.pix_fmt.startswith("yuvj") or is_rgb_format(self.pix_fmt)

    def sws_matrix(self, width: int, height: int) -> Colorspace:
        """The swscale matrix that decodes (and encodes) this stream."""
        if self.matrix in _SWS_MATRIX:
            return _SWS_MATRIX[self.matrix]
        return Colorspace.ITU709 if is_hd(width, height) else Colorspace.ITU601

    def describe(self) -> str:
        rng = "full" if self.full_range() else "limited"
        return f"{MATRIX_NAMES.get(self.matrix, f'matrix {self.matrix}')}, {rng} range"


def to_rgb(frame: av.VideoFrame, tags: ColourTags) -> np.ndarray:
    """One decoded frame as ``(H, W, 3)`` RGB uint8, decoded with the stream's matrix and range."""
    if is_rgb_format(frame.format.name):
        return frame.to_ndarray(format="rgb24")
    src_range = ColorRange.JPEG if tags.full_range() else ColorRange.MPEG
    fmt = "rgb48le" if tags.hdr else "rgb24"
    out = frame.reformat(format=fmt, src_colorspace=tags.sws_matrix(frame.width, frame.height),
                         src_color_range=src_range, dst_color_range=ColorRange.JPEG, interpolation=SWS_FLAGS)
    if tags.hdr:  # PQ / HLG: to the network's SDR domain (io/hdr.py)
        from rest_video.io.hdr import sdr_from_hdr16

        return sdr_from_hdr16(out.to_ndarray(), tags.trc)
    return out.to_ndarray()


def from_rgb(rgb: np.ndarray, tags: ColourTags, pix_fmt: str) -> av.VideoFrame:
    """An RGB uint8 picture as a frame in ``pix_fmt``, encoded with the stream's matrix and range and
    carrying its tags (for an RGB ``pix_fmt``: the pixels as they are)."""
    if tags.hdr and not is_rgb_format(pix_fmt):  # back from the SDR domain to PQ / HLG (io/hdr.py)
        from rest_video.io.hdr import hdr16_from_sdr

        frame = av.VideoFrame.from_ndarray(hdr16_from_sdr(rgb, tags.trc), format="rgb48le")
    else:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    if is_rgb_format(pix_fmt):
        return frame if pix_fmt == "rgb24" else frame.reformat(format=pix_fmt)
    h, w = rgb.shape[:2]
    dst_range = ColorRange.JPEG if tags.full_range() else ColorRange.MPEG
    out = frame.reformat(format=pix_fmt, dst_colorspace=tags.sws_matrix(w, h),
                         src_color_range=ColorRange.JPEG,
                         dst_color_range=dst_range, interpolation=SWS_FLAGS)
    tag_frame(out, tags)
    return out


def tag_frame(frame: av.VideoFrame, tags: ColourTags) -> None:
    """Put the stream's tags on a frame (what it says is what the encoder writes)."""
    frame.colorspace = tags.matrix
    frame.color_range = output_range(tags)
    frame.color_primaries = tags.primaries
    frame.color_trc = tags.trc


def output_range(tags: ColourTags) -> int:
    """The range tag to write: the input's; a ``yuvj*`` input's implied full range is written out,
    since the output's pixel format is a plain ``yuv*`` one."""
    if tags.range == RANGE_UNSPECIFIED and tags.full_range() and not is_rgb_format(tags.pix_fmt):
        return RANGE_FULL
    return tags.range


def tag_codec(cc, tags: ColourTags, pix_fmt: str) -> None:
    """Set the encoder's colour tags (written into the bitstream and the container) before it opens."""
    if is_rgb_format(pix_fmt):
        return
    cc.colorspace = tags.matrix
    cc.color_range = output_range(tags)
    cc.color_primaries = tags.primaries
    cc.color_trc = tags.trc
