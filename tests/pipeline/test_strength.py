"""Strength is the look's opacity over the input: 0 gives the input back exactly (image, video
frames before encoding, LUT path, masks, .cube), and the look grows monotonically with it."""

import cv2
import numpy as np
import pytest
from media import make_clip, make_frame, read_frames

from rest_video import Stylizer
from rest_video.cli.main import main
from rest_video.core.config import load_pipeline
from rest_video.io.video_writer import VideoWriter
from rest_video.metrics import palette_distance
from rest_video.ops.lut import identity_lut, read_cube
from rest_video.stream import StreamStylizer


@pytest.fixture(scope="module")
def stylizer(random_weights):
    return Stylizer(load_pipeline(None, {"model.checkpoint": str(random_weights), "runtime.device": "cpu",
                                         "style.cache": False}))


def test_strength_0_image_is_the_input_bit_for_bit(tmp_path, style_image, random_weights):
    src = tmp_path / "in.png"
    img = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    cv2.imwrite(str(src), img)
    assert main([str(src), str(style_image), str(tmp_path / "out.png"), "--strength", "0",
                 "--checkpoint", str(random_weights), "-q"]) == 0
    assert np.array_equal(cv2.imread(str(tmp_path / "out.png")), img)
    assert (
        main(
            [
                str(src),
                str(style_image),
                str(tmp_path / "full.png"),
                "--checkpoint",
                str(random_weights),
                "-q",
            ]
        )
        == 0
    )
    assert not np.array_equal(cv2.imread(str(tmp_path / "full.png")), img)


def test_strength_0_video_frames_reach_the_encoder_as_decoded(
    tmp_path, style_image, random_weights, monkeypatch
):
    """Identical frames before encoding, with the default temporal filters on."""
    clip = make_clip(tmp_path / "in.mp4", n=6, audio=True)
    decoded, _, _ = read_frames(clip)
    written = []
    real_write = VideoWriter.write

    def spy(self, rgb, pts):
        written.append(rgb.copy())
        return real_write(self, rgb, pts)

    monkeypatch.setattr(VideoWriter, "write", spy)
    assert main([str(clip), str(style_image), str(tmp_path / "out.mp4"), "--strength", "0",
                 "--checkpoint", str(random_weights), "-q"]) == 0
    assert len(written) == len(decoded) == 6
    assert all(np.array_equal(a, b) for a, b in zip(written, decoded, strict=False))


def test_strength_0_on_the_lut_path_and_with_masks(stylizer, style_image):
    style = stylizer.load_style(style_image)
    frames = [make_frame(64, 48, i) for i in range(4)]
    stream = StreamStylizer(stylizer, style, strength=0.0, path="lut", background=False)
    assert all(np.array_equal(stream(f), f) for f in frames)
    stream.set_strength(1.0)
    assert not np.array_equal(stream(frames[0]), frames[0])
    stream.close()
    labels = np.zeros((48, 64), np.uint8)
    labels[:, 32:] = 1
    regions = stylizer.load_style(
        style_image,
        mask=np.where(np.arange(40)[None, :] < 20, 0, 255)
        .astype(np.uint8)
        .repeat(30, 0)[..., None]
        .repeat(3, -1),
    )
    for protect in (None, "white"):
        out = stylizer.stylize(frames[0], regions, 0.0, content_mask=labels, protect=protect)
        assert np.array_equal(out, frames[0])


def test_strength_0_cube_is_the_identity(tmp_path, style_image, random_weights):
    clip = make_clip(tmp_path / "in.mp4", n=3)
    out = tmp_path / "look.cube"
    assert (
        main(
            [
                "lut",
                str(style_image),
                "--content",
                str(clip),
                "-o",
                str(out),
                "--size",
                "9",
                "--strength",
                "0",
                "--checkpoint",
                str(random_weights),
                "-q",
            ]
        )
        == 0
    )
    table, _ = read_cube(out)
    assert np.abs(table - identity_lut(9)).max() < 1e-5


def test_the_look_grows_monotonically_with_strength():
    """The shipped default on a real frame and every shipped style: the palette distance to the
    style photo falls at every step of strength."""
    from pathlib import Path

    from rest_video.io.image import read_image

    root = Path(__file__).resolve().parents[2]
    frames, _, _ = read_frames(root / "samples" / "street.mp4")
    frame = frames[0][::2, ::2].copy()
    st = Stylizer(load_pipeline(None, {"style.cache": False}))
    for style_path in sorted((root / "samples" / "styles").glob("*.jpg")):
        style, photo = st.load_style(style_path), read_image(style_path)
        d = [palette_distance(st.stylize(frame, style, a), photo) for a in (0.0, 0.25, 0.5, 0.75, 1.0)]
        assert all(b < a for a, b in zip(d, d[1:], strict=False)), (style_path.name, d)
