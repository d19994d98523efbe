"""Still images through the pipeline with what travels with them: alpha (kept in PNG, WebP and
TIFF, flattened into JPEG with one note, fully transparent pixels out of the content statistics),
ICC profiles (a Display P3 photo goes to the network in sRGB and back) and EXIF (orientation reset)."""

import io
import logging

import numpy as np
import pytest
from media import P3, make_frame, make_icc_profile
from PIL import Image, ImageCms

from rest_video import Stylizer
from rest_video.cli.main import main
from rest_video.core.config import load_pipeline
from rest_video.io.picture import Picture, read_picture, write_picture
from rest_video.pipeline.still import hide_transparent, stylize_picture


@pytest.fixture(scope="module")
def stylizer():
    """The shipped default weights (random ones give a nearly flat picture here)."""
    return Stylizer(load_pipeline(None, {"runtime.device": "cpu", "style.cache": False}))


def cutout(background: np.ndarray | int) -> Picture:
    """A 64x48 textured disc on a fully transparent background of the given colour(s)."""
    img = make_frame(64, 48, 2)
    y, x = np.mgrid[0:48, 0:64]
    inside = (x - 32) ** 2 + (y - 24) ** 2 < 18 ** 2
    img[~inside] = background if np.isscalar(background) else background[~inside]
    return Picture(img, np.where(inside, 255, 0).astype(np.uint8))


def test_hidden_pixels_do_not_reach_the_visible_ones(stylizer, style_image):
    style = stylizer.load_style(style_image)
    noise = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    a, b, c = (stylize_picture(cutout(bg), stylizer, style, 1.0) for bg in (0, 255, noise))
    seen = a.alpha > 0
    assert np.array_equal(a.rgb[seen], b.rgb[seen]) and np.array_equal(a.rgb[seen], c.rgb[seen])
    assert np.array_equal(a.alpha, cutout(0).alpha)
    assert np.array_equal(c.rgb[~seen], noise[~seen])          # the hidden colours themselves kept
    assert not np.array_equal(a.rgb[seen], cutout(0).rgb[seen])  # the look is there


def test_transparent_pixels_are_out_of_the_statistics(stylizer, style_image):
    """The same filled pixels with the statistics over every pixel give another picture."""
    style = stylizer.load_style(style_image)
    pic = cutout(0)
    filled, counted = hide_transparent(pic.rgb, pic.alpha)
    assert counted is not None and np.array_equal(counted, pic.alpha > 0)
    masked = stylizer.stylize(filled, style, 1.0, stats_mask=counted)
    assert np.array_equal(stylize_picture(pic, stylizer, style, 1.0).rgb[counted], masked[counted])
    every = stylizer.stylize(filled, style, 1.0)
    assert np.abs(every[counted].astype(int) - masked[counted]).mean() > 1
    # all pixels counted: the masked path is the plain one, bit for bit
    everyone = np.ones(counted.shape, bool)
    assert np.array_equal(stylizer.stylize(filled, style, 1.0, stats_mask=everyone), every)


def test_with_a_content_mask_hidden_pixels_stay_out_too(style_image, tmp_path):
    """Each region's statistics skip the fully transparent pixels (the fallback region's too)."""
    stylizer = Stylizer(load_pipeline(None, {"runtime.device": "cpu", "style.cache": False,
                                             "masks.min_region": 16}))  # the test's regions are small
    half = np.zeros((30, 40, 3), np.uint8)
    half[:, 20:] = 255
    write_picture(tmp_path / "style-mask.png", Picture(half))
    style = stylizer.load_style(style_image, mask=tmp_path / "style-mask.png")
    labels = np.zeros((48, 64, 3), np.uint8)
    labels[:, 32:] = 255
    labels[:8] = (255, 0, 0)      # red: not in the style's mask, falls back to the whole style
    write_picture(tmp_path / "mask.png", Picture(labels))
    noise = np.random.default_rng(2).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    a, b = (stylize_picture(cutout(bg), stylizer, style, 1.0, tmp_path / "mask.png") for bg in (0, noise))
    seen = a.alpha > 0
    assert np.array_equal(a.rgb[seen], b.rgb[seen])
    plain = stylize_picture(cutout(0), stylizer, style, 1.0)
    assert not np.array_equal(a.rgb[seen], plain.rgb[seen])     # the regions took effect


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif"])
def test_alpha_kept_in_png_webp_tiff(tmp_path, style_image, random_weights, ext):
    src = tmp_path / "in.png"
    write_picture(src, cutout(0))
    for strength in ("0", "1"):
        out = tmp_path / f"out{strength}{ext}"
        assert main([str(src), str(style_image), str(out), "--strength", strength,
                     "--checkpoint", str(random_weights), "-q"]) == 0
        back = read_picture(out)
        assert back.alpha is not None and np.array_equal(back.alpha, cutout(0).alpha), (ext, strength)
    if ext != ".webp":  # lossless: strength 0 is the input bit for bit
        assert np.array_equal(read_picture(tmp_path / f"out0{ext}").rgb, cutout(0).rgb)


def test_alpha_into_jpeg_is_flattened_with_one_note(tmp_path, style_image, random_weights, capsys):
    src = tmp_path / "in.png"
    write_picture(src, cutout(0))
    out = tmp_path / "out.jpg"
    assert main([str(src), str(style_image), str(out), "--checkpoint", str(random_weights)]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "note:" in line] == [
        "rest-video: note: .jpg has no alpha channel; the picture is flattened onto white"]
    out = read_picture(tmp_path / "out.jpg")
    assert out.alpha is None and out.rgb[:4, :4].min() >= 245


def test_p3_photo_keeps_its_colours_and_profile(tmp_path, style_image, random_weights, caplog, monkeypatch):
    icc = make_icc_profile(P3, "Display P3 (test)")
    img = make_frame(64, 48, 1)          # saturated: partly outside sRGB's gamut in P3
    src = tmp_path / "in.png"
    write_picture(src, Picture(img, icc=icc))
    args = ["--checkpoint", str(random_weights), "-q"]
    assert main([str(src), str(style_image), str(tmp_path / "s0.png"), "--strength", "0", *args]) == 0
    back = read_picture(tmp_path / "s0.png")
    assert back.icc == icc and np.array_equal(back.rgb, img)      # strength 0: the input, bit for bit
    seen = []
    real = Stylizer.stylize

    def spy(self, frames, *a, **k):
        seen.append(frames.copy())
        return real(self, frames, *a, **k)

    monkeypatch.setattr(Stylizer, "stylize", spy)
    with caplog.at_level(logging.INFO):
        assert main([str(src), str(style_image), str(tmp_path / "s1.png"), *args]) == 0
    assert sum("converted to sRGB" in r.message for r in caplog.records) == 1
    srgb = ImageCms.profileToProfile(Image.fromarray(img), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                     ImageCms.createProfile("sRGB"))
    assert len(seen) == 1 and np.array_equal(seen[0], np.asarray(srgb))   # the network saw sRGB
    assert np.abs(seen[0].astype(int) - img).max() > 20
    assert read_picture(tmp_path / "s1.png").icc == icc


def test_exif_kept_with_orientation_reset(tmp_path, style_image, random_weights):
    img = make_frame(40, 20, 0)
    im = Image.fromarray(img)
    ex = im.getexif()
    ex[0x0112], ex[0x010F] = 8, "TestCam"  # shown turned 90 degrees counter-clockwise
    im.save(tmp_path / "in.png", exif=ex.tobytes())
    for ext in (".jpg", ".png"):
        out = str(tmp_path / f"out{ext}")
        assert main([str(tmp_path / "in.png"), str(style_image), out, "--strength", "0",
                     "--checkpoint", str(random_weights), "-q"]) == 0
        with Image.open(tmp_path / f"out{ext}") as out:
            assert out.size == (20, 40)
            assert out.getexif().get(0x0112) == 1 and out.getexif().get(0x010F) == "TestCam"
    assert np.array_equal(read_picture(tmp_path / "out.png").rgb, np.rot90(img, 1))
