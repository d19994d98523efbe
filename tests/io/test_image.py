"""rest_video.io.image: still images in and out (RGB order, shrinking, atomic writes, clear errors)."""

import numpy as np
import pytest
from media import make_frame

from rest_video.core.errors import MediaError
from rest_video.io.image import IMAGE_EXTS, is_image_path, read_image, write_image


def test_png_round_trip_is_exact_and_rgb(tmp_path):
    img = make_frame(40, 30, 2)
    img[0, 0] = (255, 0, 0)
    write_image(tmp_path / "a.png", img)
    back = read_image(tmp_path / "a.png")
    assert back.dtype == np.uint8 and np.array_equal(back, img) and tuple(back[0, 0]) == (255, 0, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]            # no temporary file left


def test_max_side_shrinks_the_long_side(tmp_path):
    write_image(tmp_path / "a.png", make_frame(80, 40, 0))
    assert read_image(tmp_path / "a.png", max_side=20).shape == (10, 20, 3)
    assert read_image(tmp_path / "a.png", max_side=100).shape == (40, 80, 3)


def test_extensions_are_one_list():
    assert {".png", ".jpg", ".jpeg", ".webp"} <= IMAGE_EXTS
    assert is_image_path("x.JPG") and not is_image_path("x.mp4")


def test_errors_are_media_errors(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(MediaError, match="not a readable image"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(MediaError, match="unsupported image extension"):
        write_image(tmp_path / "x.mp4", make_frame(8, 8, 0))
