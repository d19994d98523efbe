"""Small media the studio tests make for themselves: a clip with audio, a style photo, bad files."""

from __future__ import annotations

import io
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np


def make_clip(path: Path, frames: int = 12, size: tuple[int, int] = (160, 96), fps: int = 12,
              audio: bool = True) -> Path:
    """An H.264 MP4 whose picture moves (a bar sweeps across a gradient) with a sine tone (AAC)."""
    import av

    w, h = size
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast", "crf": "18"}
        a = None
        if audio:
            a = c.add_stream("aac", rate=48000)
            a.layout = "mono"
        yy, xx = np.mgrid[0:h, 0:w]
        for i in range(frames):
            rgb = np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 80 + 10 * i)], -1)
            rgb = rgb.astype(np.uint8)
            x0 = (i * w // frames) % w
            rgb[:, x0:x0 + w // 8] = (230, 200, 40)
            for p in v.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            n = int(48000 * frames / fps)
            t = np.arange(n) / 48000
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            for start in range(0, n, 1024):
                fr = av.AudioFrame.from_ndarray(samples[:, start:start + 1024], format="fltp", layout="mono")
                fr.sample_rate = 48000
                fr.pts = start
                fr.time_base = Fraction(1, 48000)
                for p in a.encode(fr):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return path


def make_style(path: Path, size: tuple[int, int] = (128, 96), warm: bool = True) -> Path:
    """A colourful photo-like picture (smooth gradients and blobs) as a PNG or JPEG."""
    from PIL import Image

    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 200 + 50 * np.sin(xx / 9) if warm else 60 + 40 * np.sin(xx / 9)
    g = 120 + 60 * np.cos(yy / 7)
    b = 60 + 40 * np.sin((xx + yy) / 11) if warm else 190 + 50 * np.sin((xx + yy) / 11)
    rgb = np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A valid, tiny PNG header that claims ``width`` x ``height`` pixels, followed by a small
    compressed stream of zeros: a decompression bomb by its size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])  # 8-bit grey
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(comp.compress(row) for _ in range(64)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def truncated(path: Path, keep: float = 0.3) -> bytes:
    data = path.read_bytes()
    return data[: int(len(data) * keep)]


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG")
    return buf.getvalue()
