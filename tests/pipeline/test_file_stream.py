"""File mode is the stream processor: a lossless stylize_file run decodes to exactly what
StreamStylizer gives frame by frame (and image mode to Stylizer.stylize), with pinned random weights."""

import numpy as np
from media import make_clip, read_frames

from rest_video import Stylizer, load_pipeline, stylize_file
from rest_video.io.image import read_image, write_image
from rest_video.stream import StreamStylizer

LOSSLESS = {"output.codec": "ffv1", "output.pix_fmt": "bgr0"}   # exact in MKV


def test_file_mode_equals_the_stream_processor_bit_for_bit(tmp_path, random_weights, style_image):
    cfg = load_pipeline(None, {**LOSSLESS, "model.checkpoint": str(random_weights), "runtime.device": "cpu",
                               "style.strength": 0.7})
    src = make_clip(tmp_path / "in.mp4", w=48, h=32, n=6)
    out = tmp_path / "out.mkv"
    stylize_file(src, style_image, out, cfg, progress=False)
    frames, _, _ = read_frames(src)
    stylizer = Stylizer(cfg)
    stream = StreamStylizer(stylizer, stylizer.load_style(style_image))
    expected = [stream(f) for f in frames]
    got, _, _ = read_frames(out)
    assert len(got) == len(expected) == 6
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=False))


def test_image_mode_equals_stylize(tmp_path, random_weights, style_image):
    cfg = load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu"})
    img = read_frames(make_clip(tmp_path / "c.mp4", w=40, h=30, n=1))[0][0]
    write_image(tmp_path / "in.png", img)
    stylize_file(tmp_path / "in.png", style_image, tmp_path / "out.png", cfg, progress=False, strength=0.5)
    st = Stylizer(cfg)
    assert np.array_equal(read_image(tmp_path / "out.png"), st.stylize(img, st.load_style(style_image), 0.5))
