"""tools/mask_eval.py's sky rule and region palette; tools/bench_masks.py runs and prints a ratio."""

import numpy as np

from tools.bench_masks import main as bench_main
from tools.mask_eval import GROUND, SKY, region_palette, sky_mask


def _landscape(h=120, w=160):
    rng = np.random.default_rng(0)
    img = np.empty((h, w, 3), np.uint8)
    img[: h // 2] = (110, 160, 230)  # smooth blue sky
    img[h // 2:] = np.clip(rng.normal((90, 110, 50), 40, (h - h // 2, w, 3)), 0, 255)  # textured ground
    img[h // 2 - 20: h // 2, 60:80] = (200, 200, 200)  # a white tower into the sky
    return img


def test_sky_rule_finds_the_smooth_blue_top_and_not_the_tower():
    img = _landscape()
    m = sky_mask(img)
    assert set(np.unique(m).tolist()) == {SKY, GROUND}
    assert (m[:40] == SKY).mean() > 0.95 and (m[70:] == GROUND).all()
    assert (m[45:58, 62:78] == GROUND).all()


def test_region_palette_is_zero_for_the_style_itself_and_grows_with_a_colour_shift():
    img = _landscape()
    m = sky_mask(img)
    assert region_palette(img, m, img, m) < 1e-9
    shifted = np.clip(img.astype(int) + (40, -20, 0), 0, 255).astype(np.uint8)
    assert region_palette(shifted, m, img, m) > 5


def test_bench_masks_prints_both_timings(capsys, random_weights):
    assert bench_main(["--size", "96x64", "--runs", "1", "--checkpoint", str(random_weights)]) == 0
    out = capsys.readouterr().out
    assert "global:" in out and "masked:" in out and "masked / global:" in out
