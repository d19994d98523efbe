"""rest_video.io.clips: the one clip reader (ranges, picks, resizing) and evenly spread frames."""

import numpy as np
import pytest
from media import make_clip, make_frame, read_frames

from rest_video.core.errors import MediaError
from rest_video.io.clips import frame_count, read_clip, spread_frames
from rest_video.io.image import write_image


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "c.mp4", w=64, h=48, n=8)


def test_read_clip_ranges_and_sizes(clip):
    every, _, _ = read_frames(clip)
    assert len(read_clip(clip)) == 8 and np.array_equal(read_clip(clip)[3], every[3])
    part = read_clip(clip, 3, start=2)
    assert len(part) == 3 and np.array_equal(part[0], every[2])
    assert read_clip(clip, 2, side=32)[0].shape == (24, 32, 3)
    assert read_clip(clip, 1, size=(20, 10))[0].shape == (10, 20, 3)
    picked = read_clip(clip, pick=[1, 5])
    assert len(picked) == 2 and np.array_equal(picked[1], every[5])


def test_spread_frames_and_count(clip, tmp_path):
    assert frame_count(clip) == 8
    frames = spread_frames(clip, 3)
    every, _, _ = read_frames(clip)
    assert len(frames) == 3 and np.array_equal(frames[0], every[0]) and np.array_equal(frames[-1], every[7])
    write_image(tmp_path / "still.png", make_frame(16, 12, 0))
    assert len(spread_frames(tmp_path / "still.png", 5)) == 1
    with pytest.raises(MediaError, match="not found"):
        spread_frames(tmp_path / "none.mp4")
