"""The weights in the package really transfer the look while keeping the picture (issue: main job)."""

from pathlib import Path

import numpy as np
import pytest
from media import read_frames

from rest_video import Stylizer
from rest_video.core.config import load_pipeline
from rest_video.io.image import read_image
from rest_video.metrics import crushed_share, gradient_correlation, palette_distance, shadow_detail
from rest_video.models import shipped_weights

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["rest_16x5", "rest_16x5.look", "rest_16x5.subtle"])
def test_shipped_weights_exist_and_are_small(name):
    path = shipped_weights(name)
    assert path.is_file(), f"{path.name} must ship with the package"
    assert path.stat().st_size < 1_000_000
    card = (path.parent / "MODEL_CARD.md").read_text()
    assert path.name in card  # the model card says how each shipped file was trained


STYLES = sorted(p.name for p in (ROOT / "samples" / "styles").glob("*.jpg"))


def test_the_default_is_the_look_and_subtle_is_the_faint_one_by_name():
    assert (
        shipped_weights("rest_16x5")
        == shipped_weights("rest_16x5.look")
        == shipped_weights("rest_16x5.default")
    )
    assert shipped_weights("rest_16x5.subtle").name == "rest_16x5.safetensors"
    assert load_pipeline(None).model.name == "rest_16x5" and Stylizer().weights_id == Stylizer(
        load_pipeline("strong-look")).weights_id
    assert load_pipeline("subtle").model.name == "rest_16x5.subtle"


@pytest.fixture(scope="module")
def street_frames():
    frames, _, _ = read_frames(ROOT / "samples" / "street.mp4")
    return np.stack(frames[:3])[:, ::2, ::2].copy()  # a few frames, half size to stay fast


@pytest.fixture(scope="module")
def default_stylizer():
    return Stylizer(load_pipeline(None, {"style.cache": False}))


@pytest.mark.parametrize("style_name", STYLES)
def test_every_shipped_style_takes_its_look_and_keeps_the_shadows_detail(
    style_name, street_frames, default_stylizer
):
    """Shadows guard: a dark style may darken the picture (its look) but crush no shadows to black and
    keep the detail (gradient correlation, blind to a darker tone; EVAL.md, "Shadows")."""
    style_path = ROOT / "samples" / "styles" / style_name
    st = default_stylizer
    out = st.stylize(street_frames, st.load_style(style_path))
    style_mean = read_image(style_path).reshape(-1, 3).mean(0)
    for f, o in zip(street_frames, out, strict=False):
        before = np.abs(f.reshape(-1, 3).mean(0) - style_mean).sum()
        after = np.abs(o.reshape(-1, 3).mean(0) - style_mean).sum()
        assert after < before  # the mean colour moves toward the style
        assert crushed_share(o) <= crushed_share(f) + 0.005  # no more than 0.5 % more pixels at <= 2 levels
        assert gradient_correlation(o, f) >= 0.85 and shadow_detail(o, f) >= 0.85


@pytest.mark.parametrize("style_name", STYLES)
def test_the_lut_path_keeps_the_shadows_detail_without_a_guard_pass(
    style_name, street_frames, default_stylizer
):
    """The LUT path with its local-contrast term has no shadow-guard pass of its own (LutStylizer.finish):
    what it renders must keep the shadows as the full path's bar asks."""
    from rest_video.stream.lut import LutStylizer

    st = default_stylizer
    lp = LutStylizer(st, st.load_style(ROOT / "samples" / "styles" / style_name), 1.0, fit_side=192,
                     background=False, detail=True)
    for f in street_frames:
        o = lp(f)
        assert crushed_share(o) <= crushed_share(f) + 0.005
        assert gradient_correlation(o, f) >= 0.85 and shadow_detail(o, f) >= 0.85
    lp.close()


def test_the_shadow_measures_catch_crushed_and_flattened_shadows(street_frames):
    import cv2

    f = street_frames[0]
    darker = (f * 0.4).astype(np.uint8)                           # a darker tone: detail kept
    assert gradient_correlation(darker, f) > 0.99 and shadow_detail(darker, f) > 0.99
    crushed = np.clip(f.astype(int) - 60, 0, 255).astype(np.uint8)           # shadows pushed to black
    assert crushed_share(crushed) > crushed_share(f) + 0.005
    shadows = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) <= 64
    flattened = np.where(shadows[..., None], cv2.GaussianBlur(f, (0, 0), 4), f)   # shadow detail smeared
    assert shadow_detail(flattened, f) < 0.85


@pytest.mark.parametrize("style_name", ["forest-path.jpg", "darkest-hour.jpg"])
def test_the_default_carries_more_of_the_style_than_subtle(style_name, street_frames, default_stylizer):
    style_path = ROOT / "samples" / "styles" / style_name
    style = read_image(style_path)
    palettes = []
    for st in (Stylizer(load_pipeline("subtle", {"style.cache": False})), default_stylizer):
        out = st.stylize(street_frames, st.load_style(style_path))
        palettes.append(np.mean([palette_distance(o, style) for o in out]))
    assert palettes[1] < 0.7 * palettes[0]  # the look arrives: much nearer the style photo's colours
