"""Small generated media for tests: clips with moving content, optional audio, chosen timestamps."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def make_frame(w: int, h: int, i: int) -> np.ndarray:
    """A textured RGB frame that moves with ``i`` (gradients, a square, noise-free)."""
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1) + 7 * i) % 256
    g = (y * 255 // max(h - 1, 1) + 3 * i) % 256
    b = ((x + y + 5 * i) * 4) % 256
    img = np.stack([r, g, b], axis=-1).astype(np.uint8)
    s = max(2, min(w, h) // 4)
    x0 = (3 * i) % max(1, w - s)
    img[h // 3 : h // 3 + s, x0 : x0 + s] = (240, 240, 40)
    return img


def make_clip(path: Path, w: int = 64, h: int = 48, n: int = 12, fps: int = 10, audio: bool = False,
              pts: list[int] | None = None, time_base: Fraction | None = None, rotation: int = 0,
              codec: str = "libx264", pix_fmt: str = "yuv420p", audio_codec: str = "aac",
              gop: int | None = None, frames: list[np.ndarray] | None = None,
              colour: tuple[int, int, int, int] | None = None) -> Path:
    """Write a clip of ``n`` frames; ``pts`` (in ``time_base``) makes variable frame rate; ``gop``:
    a keyframe every ``gop`` frames (x264); ``frames``: these pictures instead of :func:`make_frame`'s;
    ``colour``: (matrix, range, primaries, transfer) tags, FFmpeg's numbers, the pixels converted with
    that matrix and range (2 = unspecified matrix: converted as BT.601, FFmpeg's default, untagged)."""
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        if codec == "libx264":
            s.options = {"crf": "10", "preset": "ultrafast", **({"g": str(gop)} if gop else {})}
        tb = time_base or Fraction(1, fps)
        s.codec_context.time_base = tb
        if rotation:
            s.set_display_rotation(rotation)
        if colour is not None:
            cc = s.codec_context
            cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = colour
        a = None
        if audio:
            a = c.add_stream(audio_codec, rate=44100)
            a.layout = "mono"
        for i in range(n):
            pic = frames[i] if frames is not None else make_frame(w, h, i)
            f = av.VideoFrame.from_ndarray(pic, format="rgb48le" if pic.dtype == np.uint16 else "rgb24")
            if colour is not None:
                f = f.reformat(format=pix_fmt, dst_colorspace=colour[0] if colour[0] in (1, 4, 7, 9) else 5,
                               src_color_range=2, dst_color_range=colour[1] or 1)
                f.colorspace, f.color_range, f.color_primaries, f.color_trc = colour
            f.pts = pts[i] if pts else i
            f.time_base = tb
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
        if a is not None:
            total = int(44100 * n / fps)
            t = np.arange(total) / 44100.0
            wave = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
            for start in range(0, total, 1024):
                chunk = wave[start : start + 1024]
                af = av.AudioFrame.from_ndarray(chunk[None, :], format="s16", layout="mono")
                af.sample_rate = 44100
                af.pts = start
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return path


def read_frames(path: Path) -> tuple[list[np.ndarray], list[int], Fraction]:
    """Every frame of ``path`` as RGB, decoded by its colour tags (as rest-video reads it), with pts."""
    from rest_video.io.colour import ColourTags, to_rgb

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        tags = ColourTags.of(s.codec_context, s.codec_context.pix_fmt)
        frames, pts = [], []
        for f in c.decode(s):
            frames.append(to_rgb(f, tags))
            pts.append(f.pts)
        return frames, pts, s.time_base


def audio_duration(path: Path) -> float | None:
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None
        a = c.streams.audio[0]
        total = 0
        for f in c.decode(a):
            total += f.samples
        return total / a.codec_context.sample_rate


def smooth_image(rng, h, w, lo, hi):
    """A smooth random RGB uint8 image ``(h, w, 3)`` with values inside [lo, hi]."""
    small = rng.uniform(lo, hi, size=(4, 5, 3)).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(big, lo, hi).round().astype(np.uint8)


def make_rich_clip(path: Path, tmp: Path, w: int = 64, h: int = 48, n: int = 5, fps: int = 10,
                   subtitles: bool = True, languages: tuple[str, str] = ("eng", "fra")) -> Path:
    """A clip with what a film file carries besides the picture: two audio tracks with languages,
    titles and dispositions (the second not default), a German subtitle stream (SubRip in MKV) and
    container metadata (title, creation time, location)."""
    srt = tmp / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,300\nHallo Welt\n\n"
                   "2\n00:00:00,300 --> 00:00:00,450\nTschuess\n")
    with av.open(str(path), "w") as c:
        c.metadata.update({"title": "Holiday", "creation_time": "2024-05-01T10:00:00.000000Z",
                           "location": "+48.8584+002.2945/"})
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"crf": "10", "preset": "ultrafast"}
        v.codec_context.time_base = Fraction(1, fps)
        auds = []
        for lang, title in zip(languages, ("Main", "Commentary"), strict=True):
            a = c.add_stream("aac", rate=44100)
            a.layout = "mono"
            a.metadata["language"], a.metadata["title"] = lang, title
            auds.append(a)
        auds[1].disposition = 0
        sub_in = av.open(str(srt)) if subtitles else None
        sub = None
        if sub_in is not None:
            sub = c.add_stream_from_template(sub_in.streams.subtitles[0])
            sub.metadata["language"], sub.metadata["title"] = "deu", "Deutsch"
            sub.disposition = 2  # forced
        for i in range(n):
            f = av.VideoFrame.from_ndarray(make_frame(w, h, i), format="rgb24")
            f.pts, f.time_base = i, Fraction(1, fps)
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        total = int(44100 * n / fps)
        for k, a in enumerate(auds):
            tone = np.sin(2 * np.pi * (300 + 200 * k) * np.arange(total) / 44100)
            wave = (0.2 * tone * 32767).astype(np.int16)
            for start in range(0, total, 1024):
                af = av.AudioFrame.from_ndarray(wave[None, start:start + 1024], format="s16", layout="mono")
                af.sample_rate, af.pts = 44100, start
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
        if sub_in is not None:
            for p in sub_in.demux(sub_in.streams.subtitles[0]):
                if p.size:
                    p.stream = sub
                    c.mux(p)
            sub_in.close()
    return path


def describe_streams(path: Path) -> tuple[dict, list]:
    """A file's container metadata and, per stream, (type, codec, language, title, disposition)."""
    with av.open(str(path)) as c:
        meta = {k: v for k, v in c.metadata.items() if k.lower() in ("title", "creation_time", "location")}
        streams = [(s.type, s.codec_context.name if s.codec_context else None, s.metadata.get("language"),
                    s.metadata.get("title"), int(s.disposition)) for s in c.streams if s.type != "video"]
        return meta, streams


def make_icc_profile(primaries: tuple[tuple[float, float], ...], description: str,
                     white: tuple[float, float] = (0.3127, 0.3290)) -> bytes:
    """An ICC v2 RGB display profile: ``primaries`` (R, G, B chromaticities x, y) around ``white``,
    adapted to D50 with Bradford, and the sRGB tone curve (Display P3's: ``make_icc_profile(P3, ...)``)."""
    import struct

    def xyz(x, y):
        return np.array([x / y, 1.0, (1 - x - y) / y])

    m = np.stack([xyz(*p) for p in primaries], axis=1)
    m = m * np.linalg.solve(m, xyz(*white))  # columns scaled so R+G+B = white
    brad = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    d50 = np.array([0.9642, 1.0, 0.8249])
    lms_w, lms_d = brad @ xyz(*white), brad @ d50
    m = np.linalg.inv(brad) @ np.diag(lms_d / lms_w) @ brad @ m
    s15 = lambda v: struct.pack(">i", int(round(v * 65536)))  # noqa: E731
    xyz_tag = lambda v: b"XYZ \0\0\0\0" + b"".join(s15(c) for c in v)  # noqa: E731
    para = b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(
        s15(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    tags = [(b"desc", desc), (b"wtpt", xyz_tag(d50)), (b"rXYZ", xyz_tag(m[:, 0])),
            (b"gXYZ", xyz_tag(m[:, 1])), (b"bXYZ", xyz_tag(m[:, 2])),
            (b"rTRC", para), (b"gTRC", para), (b"bTRC", para),
            (b"cprt", b"text\0\0\0\0no copyright\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + b"\0" * 12
              + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + b"".join(s15(c) for c in d50) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
"""Display P3's primaries (D65 white)."""


def subtitle_cues(path: Path) -> list[tuple[float, float, str]]:
    """(start s, duration s, text) of the first subtitle stream's cues, empty cues left out."""
    cues = []
    with av.open(str(path)) as c:
        s = c.streams.subtitles[0]
        for p in c.demux(s):
            if not p.size:
                continue
            text = b"".join(r.ass.split(b",", 8)[-1] for r in p.decode()).decode()
            if text:
                cues.append(
                    (round(float(p.pts * p.time_base), 3), round(float(p.duration * p.time_base), 3), text)
                )
    return cues
