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


@pytest.mark.parametrize("name", ["rest_16x5", "rest_16x5.look"])
def test_shipped_weights_exist_and_are_small(name):
    path = shipped_weights(name)
    assert path.is_file(), f"{path.name} must ship with the package"
    assert path.stat().st_size < 1_000_000
    card = (path.parent / "MODEL_CARD.md").read_text()
    assert path.name in card  # the model card says how each shipped file was trained


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


def _tone_matched(out: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``out`` with each channel's mean and std moved to ``ref``'s: the look taken off, its structure left."""
    o, r = out.astype(np.float32), ref.astype(np.float32)
    m = (o - o.mean((0, 1))) / (o.std((0, 1)) + 1e-6) * r.std((0, 1)) + r.mean((0, 1))
    return np.clip(m + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("style_name", ["forest-path.jpg", "darkest-hour.jpg"])
def test_strong_look_pipeline_carries_more_of_the_style_and_keeps_the_structure(style_name):
    from rest_video.core.config import load_pipeline
    from rest_video.metrics import palette_distance

    cfg = load_pipeline("strong-look", {"style.cache": False})
    assert cfg.model.name == "rest_16x5.look" and shipped_weights(cfg.model.name).is_file()
    frames, _, _ = read_frames(ROOT / "samples" / "street.mp4")
    frames = np.stack(frames[:3])[:, ::2, ::2].copy()
    style_path = ROOT / "samples" / "styles" / style_name
    style = read_image(style_path)
    palettes = []
    for st in (Stylizer(load_pipeline(None, {"style.cache": False})), Stylizer(cfg)):
        out = st.stylize(frames, st.load_style(style_path))
        palettes.append(np.mean([palette_distance(o, style) for o in out]))
    assert palettes[1] < 0.7 * palettes[0]  # the look arrives: much nearer the style photo's colours
    for f, o in zip(frames, out):
        assert ssim_gray(_tone_matched(o, f), f) >= 0.8  # with the picture's detail (its tone is the look's)
