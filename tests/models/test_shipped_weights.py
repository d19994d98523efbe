"""The weights in the package really transfer the look while keeping the picture (issue: main job)."""

from pathlib import Path

import numpy as np
import pytest
from media import read_frames

from rest_video import Stylizer
from rest_video.metrics import ssim_gray
from rest_video.io.image import read_image
from rest_video.models import shipped_weights

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_weights_exist_and_are_small():
    path = shipped_weights("rest_16x5")
    assert path.is_file(), "rest_video/weights/rest_16x5.safetensors must ship with the package"
    assert path.stat().st_size < 1_000_000
    assert (path.parent / "MODEL_CARD.md").is_file()


@pytest.mark.parametrize("style_name", ["evening-glow.jpg", "forest-path.jpg"])
def test_stylized_frames_take_the_style_and_keep_the_content(style_name):
    frames, _, _ = read_frames(ROOT / "samples" / "street.mp4")
    frames = np.stack(frames[:3])[:, ::2, ::2].copy()  # a few frames, half size to stay fast
    style_path = ROOT / "samples" / "styles" / style_name
    st = Stylizer()
    out = st.stylize(frames, st.load_style(style_path))
    style_mean = read_image(style_path).reshape(-1, 3).mean(0)
    for f, o in zip(frames, out):
        before = np.abs(f.reshape(-1, 3).mean(0) - style_mean).sum()
        after = np.abs(o.reshape(-1, 3).mean(0) - style_mean).sum()
        assert after < before  # the mean colour moves toward the style
        assert ssim_gray(o, f) >= 0.6  # while the picture stays the same
