"""Time the colour conversions of file mode at 1080p against the network's time on the same frame.

    PYTHONPATH=. python tools/bench_colour.py [--repeat 10]

Decoding (YUV 4:2:0 BT.709 -> RGB, :func:`rest_video.io.colour.to_rgb`) and encoding (RGB -> YUV,
:func:`rest_video.io.colour.from_rgb`) with the accurate swscale flags, swscale's default (bilinear,
what the code did before), the same for 10-bit SDR and HDR (PQ, HLG: BT.2020 to the network's SDR
domain and back, rest_video/io/hdr.py), and one fp32 stylize call of the shipped network on the CPU.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from rest_video.io.colour import ColourTags, from_rgb, to_rgb


def _ms(fn, repeat: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    tags = ColourTags(1, 1, 1, 1)
    yuv = from_rgb(rgb, tags, "yuv420p")
    rows = [("decode, accurate (to_rgb)", _ms(lambda: to_rgb(yuv, tags), args.repeat)),
            ("encode, accurate (from_rgb)", _ms(lambda: from_rgb(rgb, tags, "yuv420p"), args.repeat))]
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    rows.append(("decode, swscale default", _ms(lambda: yuv.to_ndarray(format="rgb24"), args.repeat)))
    rows.append(("encode, swscale default", _ms(lambda: frame.reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG,
        interpolation=Interpolation.BILINEAR), args.repeat)))
    for name, tags10 in (("10-bit SDR BT.709", ColourTags(1, 1, 1, 1, "yuv420p10le")),
                         ("PQ", ColourTags(9, 1, 9, 16, "yuv420p10le")),
                         ("HLG", ColourTags(9, 1, 9, 18, "yuv420p10le"))):
        y10 = from_rgb(rgb, tags10, "yuv420p10le")
        rows.append((f"decode, {name}", _ms(partial(to_rgb, y10, tags10), args.repeat)))
        rows.append((f"encode, {name}", _ms(partial(from_rgb, rgb, tags10, "yuv420p10le"), args.repeat)))
    from rest_video.core.config import load_pipeline
    from rest_video.engine.stylizer import Stylizer

    cfg = load_pipeline(None, {"runtime.precision": "fp32", "runtime.device": "cpu"})
    st = Stylizer(cfg)
    style = st.load_style("samples/styles/evening-glow.jpg")
    net = _ms(lambda: st.stylize(rgb, style), max(1, args.repeat // 5))
    rows.append(("network, fp32 CPU (stylize)", net))
    for name, ms in rows:
        print(f"{name:<30} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
