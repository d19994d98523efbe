"""rest_video.io.picture: alpha, ICC profiles and EXIF read and written with the pixels."""

import io
import logging

import cv2
import numpy as np
import pytest
from media import P3, make_frame, make_icc_profile
from PIL import Image, ImageOps

from rest_video.io.picture import Picture, from_srgb, read_picture, to_srgb, upright_exif, write_picture


def smooth(w=40, h=30):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) * 2], -1).astype(np.uint8)


def rgba(w=40, h=30):
    img = smooth(w, h)
    a = np.zeros((h, w), np.uint8)
    a[5:25, 8:30] = 255
    a[10:20, 12:20] = 128
    return img, a


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillows_exif_transpose(orientation):
    img = make_frame(7, 5, 0)
    im = Image.fromarray(img)
    ex = im.getexif()
    ex[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "PNG", exif=ex.tobytes())
    want = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    assert np.array_equal(upright_exif(img, orientation), want)


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif", ".tiff", ".avif"])
def test_alpha_is_kept(tmp_path, ext):
    img, a = rgba()
    write_picture(tmp_path / f"a{ext}", Picture(img, a))
    back = read_picture(tmp_path / f"a{ext}")
    assert back.alpha is not None and np.array_equal(back.alpha, a)
    seen = a > 0
    err = np.abs(back.rgb.astype(int) - img)[seen].max()
    assert err <= {".webp": 8, ".avif": 8}.get(ext, 0)  # lossy at quality 95 (measured: WebP 7, AVIF 5)


def test_jpeg_flattens_onto_white_with_one_note(tmp_path, caplog):
    img, a = rgba()
    with caplog.at_level(logging.INFO):
        write_picture(tmp_path / "a.jpg", Picture(img, a))
    assert [r.message for r in caplog.records if "note" in r.message] == [
        "note: .jpg has no alpha channel; the picture is flattened onto white"]
    back = read_picture(tmp_path / "a.jpg")
    assert back.alpha is None
    want = img.astype(float)
    want[a == 0] = 255                                                           # fully transparent: white
    want[a == 128] = img[a == 128] * (128 / 255) + 255 * (127 / 255)             # half: half white
    assert np.abs(back.rgb - want).mean() < 4      # JPEG's loss at sharp 40x30 edges (measured 2.8)


def test_icc_and_exif_are_kept_orientation_reset(tmp_path):
    icc = make_icc_profile(P3, "Display P3 (test)")
    img = make_frame(20, 10, 0)
    im = Image.fromarray(img)
    ex = im.getexif()
    ex[0x0112] = 6   # stored sideways: shown turned 90 degrees clockwise
    ex[0x010F] = "TestCam"
    im.save(tmp_path / "in.jpg", quality=95, icc_profile=icc, exif=ex.tobytes())
    pic = read_picture(tmp_path / "in.jpg")
    assert pic.rgb.shape == (20, 10, 3) and pic.icc == icc
    for ext in (".jpg", ".png", ".webp", ".tif", ".avif"):
        write_picture(tmp_path / f"out{ext}", pic)
        with Image.open(tmp_path / f"out{ext}") as out:
            assert out.size == (10, 20) and out.info.get("icc_profile") == icc, ext
            assert out.getexif().get(0x010F) == "TestCam" and out.getexif().get(0x0112, 1) == 1, ext


def test_a_profile_that_does_not_convert_rgb_is_one_note(caplog):
    from PIL import ImageCms

    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    img = make_frame(8, 6, 0)
    with caplog.at_level(logging.INFO):
        assert to_srgb(Picture(img, icc=lab)) is img
    assert [r.message for r in caplog.records] == [
        "note: the image's ICC profile (Lab identity built-in) does not convert RGB; its pixels are taken "
        "as sRGB (profile kept)"]


def test_p3_goes_to_srgb_and_back(tmp_path):
    icc = make_icc_profile(P3, "Display P3 (test)")
    img = (96 + make_frame(48, 32, 3) // 4).astype(np.uint8)   # inside sRGB's gamut
    pic = Picture(img, icc=icc)
    srgb = to_srgb(pic)
    assert np.abs(srgb.astype(int) - img).max() > 5                # converted
    back = from_srgb(pic, srgb)
    assert np.abs(back.astype(int) - img).max() <= 2             # measured: 1 (8-bit LittleCMS both ways)
    assert to_srgb(Picture(img)) is img                          # no profile: as it is


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_is_read_as_8_bit_with_a_note(tmp_path, caplog, ext):
    img16 = make_frame(16, 8, 0).astype(np.uint16) * 257 + 100      # rounds up, truncation would not
    cv2.imwrite(str(tmp_path / f"a{ext}"), cv2.cvtColor(img16, cv2.COLOR_RGB2BGR))
    with caplog.at_level(logging.INFO):
        pic = read_picture(tmp_path / f"a{ext}")
    assert np.array_equal(pic.rgb, np.rint(img16 / 257).astype(np.uint8))
    assert sum("16-bit" in r.message for r in caplog.records) == 1
