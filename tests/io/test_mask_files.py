import cv2
import numpy as np
import pytest

from rest_video.core.errors import MediaError, ShapeError
from rest_video.core.mask_colours import COLOURS, colour_label
from rest_video.io.masks import ContentMaskSource, as_labels, read_mask, snap_labels


def _write(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def test_every_table_colour_is_its_label():
    rgb = np.array([[c for _, c in COLOURS]], np.uint8)
    assert snap_labels(np.repeat(np.repeat(rgb, 5, 0), 5, 1))[2, ::5].tolist() == list(range(len(COLOURS)))


def test_anti_aliased_borders_join_a_neighbour_region_not_a_new_one():
    m = np.zeros((8, 12, 3), np.uint8)
    m[:, 6:] = 255
    m[:, 5] = 128          # mid-grey: exactly the table's grey, but a 1-pixel sliver
    m[:, 6] = (200, 200, 200)
    labels = snap_labels(m)
    assert set(np.unique(labels).tolist()) == {0, 1}
    assert (labels[:, :5] == 0).all() and (labels[:, 7:] == 1).all()
    noisy = m.copy()
    noisy[:, :5] = (20, 10, 25)  # JPEG-like noise near black stays black
    assert (snap_labels(noisy)[:, :5] == 0).all()


def test_a_real_grey_region_stays_grey():
    m = np.zeros((10, 10, 3), np.uint8)
    m[:, 5:] = 128
    assert (snap_labels(m)[:, 6:] == colour_label("grey")).all()


def test_a_mask_of_another_size_is_resized_with_nearest_neighbour(tmp_path):
    m = np.zeros((4, 6, 3), np.uint8)
    m[:, 3:] = (255, 0, 0)
    labels = read_mask(_write(tmp_path / "m.png", m), (12, 8))
    assert labels.shape == (8, 12)
    assert set(np.unique(labels).tolist()) == {0, 2}
    assert (labels[:, :6] == 0).all() and (labels[:, 6:] == 2).all()


def test_missing_and_unreadable_masks_are_one_line_errors(tmp_path):
    with pytest.raises(MediaError, match="mask not found"):
        read_mask(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(MediaError, match="not a readable mask"):
        read_mask(tmp_path / "bad.png")
    with pytest.raises(ShapeError):
        as_labels(np.full((4, 4), 99, np.int32))


def test_colour_names():
    assert colour_label("white") == 1 and colour_label("Light-Blue") == 7 and colour_label("gray") == 6
    assert colour_label("#fe0101") == 2
    with pytest.raises(ValueError, match="unknown mask colour"):
        colour_label("orange")


def test_mask_video_frame_count_is_checked(tmp_path):
    from media import make_clip

    clip = make_clip(tmp_path / "m.mp4", w=32, h=24, n=5)
    with pytest.raises(MediaError, match="has 5 frames, the video has 7"):
        ContentMaskSource(clip, (32, 24), frames=7)
    with ContentMaskSource(clip, (64, 48), frames=5) as src:
        got = [src.next() for _ in range(5)]
        assert all(g.shape == (48, 64) for g in got)
        with pytest.raises(MediaError, match="ended before"):
            src.next()
    img = _write(tmp_path / "one.png", np.zeros((6, 8, 3), np.uint8))
    src = ContentMaskSource(img, (16, 12), frames=100)  # one image: any frame count
    assert src.static.shape == (12, 16) and src.next() is src.static
