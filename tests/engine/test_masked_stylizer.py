"""Mask-guided stylization through the Stylizer (both network forms), on generated pairs."""

import numpy as np
import pytest

from rest_video import Stylizer, load_pipeline
from rest_video.core.mask_colours import colour_label
from rest_video.stream import StreamStylizer

H, W = 96, 128
BLUE, ORANGE = np.array([40, 60, 200]), np.array([220, 140, 30])
RED = colour_label("red")


def _textured(rng, colour, h, w):
    return np.clip(colour + rng.integers(-30, 31, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def pair():
    """A style whose top is blue and bottom orange (mask: black / red), and a grey content whose
    left half is black and right half red in its mask."""
    rng = np.random.default_rng(0)
    style = np.concatenate([_textured(rng, BLUE, H // 2, W), _textured(rng, ORANGE, H // 2, W)])
    smask = np.zeros((H, W), np.uint8)
    smask[H // 2:] = RED
    content = _textured(rng, np.array([128, 128, 128]), H, W)
    cmask = np.zeros((H, W), np.uint8)
    cmask[:, W // 2:] = RED
    return style, smask, content, cmask


def _stylizer(**sets):
    return Stylizer(load_pipeline(None, {"style.cache": False, **sets}))


def _own_region_wins(out):
    left, right = out[:, : W // 2].reshape(-1, 3).mean(0), out[:, W // 2:].reshape(-1, 3).mean(0)
    d = np.linalg.norm
    return d(left - BLUE) < d(left - ORANGE) and d(right - ORANGE) < d(right - BLUE)


@pytest.mark.parametrize("optimized", [True, False])
def test_each_region_moves_toward_its_own_style_region(pair, optimized):
    style, smask, content, cmask = pair
    st = _stylizer(**{"runtime.optimized": optimized})
    regions = st.load_style(style, mask=smask)
    assert _own_region_wins(st.stylize(content, regions, content_mask=cmask))
    assert not _own_region_wins(st.stylize(content, regions.whole))  # the global run fails the same test


def test_training_and_inference_forms_agree(pair):
    style, smask, content, cmask = pair
    a, b = _stylizer(), _stylizer(**{"runtime.optimized": False})
    oa = a.stylize(content, a.load_style(style, mask=smask), content_mask=cmask)
    ob = b.stylize(content, b.load_style(style, mask=smask), content_mask=cmask)
    assert np.abs(oa.astype(int) - ob).max() <= 2


@pytest.mark.parametrize("optimized", [True, False])
def test_equal_masks_covering_everything_give_the_unmasked_output(pair, optimized):
    style, _, content, _ = pair
    st = _stylizer(**{"runtime.optimized": optimized})
    full = np.full((H, W), RED, np.uint8)
    masked = st.stylize(content, st.load_style(style, mask=full), content_mask=full)
    assert np.array_equal(masked, st.stylize(content, st.load_style(style)))


def _interior_equal(a, b, cols):
    return np.abs(a[:, cols].astype(int) - b[:, cols]).max() <= 1


def test_a_label_only_in_the_content_mask_takes_the_global_look(pair):
    style, smask, content, cmask = pair
    st = _stylizer(**{"masks.feather": 0})
    cm = cmask.copy()
    cm[:, W // 2:] = colour_label("green")  # not in the style mask
    regions = st.load_style(style, mask=smask)
    out = st.stylize(content, regions, content_mask=cm)
    plain = st.stylize(content, regions.whole)
    far = slice(W // 2 + 12, W)  # beyond the network's 10-pixel reach from the border
    assert _interior_equal(out, plain, far)
    assert not _interior_equal(out, plain, slice(0, W // 2 - 12))  # the matched region has its own look


def test_a_tiny_style_region_falls_back_to_the_global_look(pair):
    style, smask, content, cmask = pair
    sm = smask.copy()
    sm[:, :] = 0
    sm[:10, :10] = RED  # 100 pixels of red in the style: too few for statistics
    far = slice(W // 2 + 12, W)
    st = _stylizer(**{"masks.feather": 0})
    out = st.stylize(content, st.load_style(style, mask=sm), content_mask=cmask)
    assert _interior_equal(out, st.stylize(content, st.load_style(style)), far)
    low = _stylizer(**{"masks.feather": 0, "masks.min_region": 50})
    out = low.stylize(content, low.load_style(style, mask=sm), content_mask=cmask)
    assert not _interior_equal(out, low.stylize(content, low.load_style(style)), far)


@pytest.mark.parametrize("feather", [0, 8])
def test_masked_frames_over_the_budget_run_in_bands_with_the_same_output(feather):
    rng = np.random.default_rng(3)
    h, w = 300, 420
    style = np.concatenate([_textured(rng, BLUE, h // 2, w), _textured(rng, ORANGE, h - h // 2, w)])
    smask = np.zeros((h, w), np.uint8)
    smask[h // 2:] = RED
    content = _textured(rng, np.array([120, 130, 110]), h, w)
    cmask = np.zeros((h, w), np.uint8)
    cmask[:, w // 2:] = RED
    cmask[100:150, 10:60] = colour_label("blue")  # content only: the fallback slot
    whole = _stylizer(**{"masks.feather": feather})
    bands = _stylizer(**{"masks.feather": feather, "runtime.max_memory_mb": 20})
    assert not bands.fits(1, h, w, 3)
    regions = whole.load_style(style, mask=smask)
    assert np.array_equal(whole.stylize(content, regions, content_mask=cmask),
                          bands.stylize(content, regions, content_mask=cmask))


def test_protect_keeps_the_input_pixels_in_its_region(pair):
    style, smask, content, cmask = pair
    st = _stylizer(**{"masks.feather": 4})
    regions = st.load_style(style, mask=smask)
    out = st.stylize(content, regions, content_mask=cmask, protect="red")
    assert np.array_equal(out[:, W // 2 + 8:], content[:, W // 2 + 8:])
    assert np.array_equal(
        out[:, : W // 2 - 8], st.stylize(content, regions, content_mask=cmask)[:, : W // 2 - 8]
    )
    with pytest.raises(ValueError, match="content mask"):
        st.stylize(content, regions, protect="red")


def test_region_statistics_are_cached_with_the_mask_in_the_key(pair, tmp_path):
    import cv2

    style, smask, content, cmask = pair
    sp, mp, mp2 = tmp_path / "s.png", tmp_path / "m.png", tmp_path / "m2.png"
    cv2.imwrite(str(sp), style[..., ::-1])
    colours = np.array([[0, 0, 0], [255, 255, 255], [0, 0, 255]], np.uint8)  # BGR: black, white, red
    cv2.imwrite(str(mp), colours[np.where(smask == RED, 2, 0)])
    cv2.imwrite(str(mp2), colours[np.where(smask == RED, 1, 0)])
    st = Stylizer(load_pipeline(None, {}))
    first = st.load_style(sp, mask=mp)
    assert len(list(st.cache.root.glob("*.safetensors"))) == 1
    again = st.load_style(sp, mask=mp)
    assert all(
        np.array_equal(first.regions[RED].mean[layer].cpu(), again.regions[RED].mean[layer].cpu())
        for layer in first.whole.mean
    )
    other = st.load_style(sp, mask=mp2)
    assert sorted(other.regions) == [0, 1] and len(list(st.cache.root.glob("*.safetensors"))) == 2


def test_a_stream_with_regions_that_come_and_go(pair):
    style, smask, content, cmask = pair
    st = _stylizer()
    stream = StreamStylizer(st, st.load_style(style, mask=smask), masked=True)
    masks = [cmask, np.zeros_like(cmask), cmask, cmask]
    outs = [stream(content, m) for m in masks]
    assert all(o.shape == content.shape for o in outs)
    with pytest.raises(ValueError, match="LUT"):
        StreamStylizer(st, st.load_style(style), path="lut", masked=True)
