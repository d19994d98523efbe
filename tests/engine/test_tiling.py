"""Tiled inference (rest_video.engine.tiling): bit for bit the whole frame's output, sized by the budget."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rest_video import Stylizer, load_pipeline
from rest_video.core.errors import ConfigError
from rest_video.engine.tiling import BAND_ROWS, MIN_ROWS, TiledStylizer, TilePlan, bytes_per_pixel
from rest_video.models import REST, RESTConfig, moments
from rest_video.models.build import build_inference
from rest_video.stream.smoothing import StatsSmoother

STYLE = "samples/styles/evening-glow.jpg"


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth gradient with noise and a few edges: statistics and local detail both matter."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / w, y / h, 0.5 + 0.5 * np.sin(x / 7.0) * np.cos(y / 5.0)], -1) * 200
    base[h // 3: h // 2, w // 4: w // 2] += 40
    noise = np.random.default_rng(seed).normal(0, 12, base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _stylizer(mb: int | None = None, **extra) -> Stylizer:
    # fp32 unless asked: the band sizes under a budget depend on the precision (bf16 halves the
    # bytes per pixel), and auto picks bf16 on CPUs with bf16 units
    overrides = {"runtime.device": "cpu", "runtime.precision": "fp32", **extra}
    if mb is not None:
        overrides["runtime.max_memory_mb"] = mb
    return Stylizer(load_pipeline(None, overrides))


@pytest.fixture(scope="module")
def whole() -> Stylizer:
    return _stylizer()


@pytest.fixture(scope="module")
def tiny() -> Stylizer:
    """The smallest budget there is (1 MB): every test frame runs in many bands."""
    return _stylizer(1)


@pytest.fixture(scope="module")
def style(whole):
    return whole.load_style(STYLE, use_cache=False)


@pytest.mark.parametrize(
    "block", [moments.GRAM_BLOCK, 256]
)  # 256: many statistics strips, blocks across rows
@pytest.mark.parametrize("hw", [(61, 97), (131, 211)])       # 131x211: the in-place oneDNN convs + border fix
def test_tiled_equals_untiled_bit_for_bit(whole, tiny, style, monkeypatch, block, hw):
    monkeypatch.setattr(moments, "GRAM_BLOCK", block)
    h, w = hw
    frame = _photo(h, w)
    assert whole.fits(1, h, w) and not tiny.fits(1, h, w)
    assert len(tiny.plan.bands(h, w)) >= 4
    assert block != 256 or h < 100 or len(tiny.plan.strips(h, w)) >= 4
    for strength in (0.6, 1.0):
        np.testing.assert_array_equal(
            tiny.stylize(frame, style, strength), whole.stylize(frame, style, strength)
        )


def test_statistics_pass_in_many_strips_equals_the_whole_frame(whole, style, monkeypatch):
    """The statistics the filter sees, strip by strip (blocks across rows), are the whole frame's."""
    monkeypatch.setattr(moments, "GRAM_BLOCK", 128)
    frame = _photo(61, 97, 7)
    seen = []
    whole.stylize(frame, style, 1.0, lambda st: seen.append(st) or st)
    tiled = TiledStylizer(whole.net, TilePlan(whole.net, 60_000), whole.input_dtype)
    strips = tiled.plan.strips(61, 97)
    assert len(strips) >= 8 and any(s.first % 97 for s in strips)
    got = tiled.statistics(frame[None], strips, 1)
    for layer, (m, s) in seen[0].items():
        assert torch.equal(m, got[layer][0]) and torch.equal(s, got[layer][1])


def test_tiled_batch_with_the_statistics_filter(whole, tiny, style):
    """A batch's statistics reach the filter once, per frame, as in an untiled call (temporal smoothing)."""
    frames = np.stack([_photo(61, 97, 1), _photo(61, 97, 2)[::-1]])
    f_whole, f_tiny = StatsSmoother(0.5), StatsSmoother(0.5)
    for k in range(3):
        batch = np.roll(frames, 3 * k, axis=2)
        np.testing.assert_array_equal(
            tiny.stylize(batch, style, 0.6, f_tiny), whole.stylize(batch, style, 0.6, f_whole)
        )


@pytest.mark.parametrize("native", [False, True], ids=["generic", "onednn"])
def test_low_precision_tiles_exactly(style, native, monkeypatch):
    from rest_video.models import backends

    if native and not backends.mkldnn_bf16_available():
        pytest.skip("this CPU has no native bf16 (AMX or AVX512-bf16)")
    if not native:  # what a CPU without native bf16 runs
        monkeypatch.setattr(backends, "mkldnn_bf16_available", lambda: False)
    whole, tiny = _stylizer(**{"runtime.precision": "bf16"}), _stylizer(1, **{"runtime.precision": "bf16"})
    assert tiny.net.backend == whole.net.backend == ("mkldnn" if native else "generic")
    frame = _photo(61, 97, 3)
    np.testing.assert_array_equal(tiny.stylize(frame, style), whole.stylize(frame, style))


def test_halo_comes_from_the_architecture():
    net = build_inference(REST(RESTConfig(layers=3, width=8, stylized=(2, 3))).eval(), "cpu")
    assert (net.halo, net.stats_halo) == (6, 3)  # three 3x3 convs each way; statistics up to layer 3
    net = build_inference(REST(RESTConfig(layers=5, stylized=(3, 5))).eval(), "cpu")
    assert (net.halo, net.stats_halo) == (10, 5)


def test_another_architecture_tiles_exactly(whole, style):
    torch.manual_seed(0)
    model = REST(RESTConfig(layers=3, width=8, stylized=(2, 3))).eval()
    a = Stylizer(load_pipeline(None, {"runtime.device": "cpu", "runtime.precision": "fp32"}), model=model)
    b = Stylizer(
        load_pipeline(
            None, {"runtime.device": "cpu", "runtime.precision": "fp32", "runtime.max_memory_mb": 1}
        ),
        model=model,
    )
    st = a.model.style_stats(a.to_tensor(_photo(40, 30, 9)[None]).float())
    frame = _photo(97, 83, 4)
    assert not b.fits(1, 97, 83) and len(b.plan.bands(97, 83)) > 1
    np.testing.assert_array_equal(b.stylize(frame, st, 0.8), a.stylize(frame, st, 0.8))


def test_band_height_shrinks_with_the_budget(whole):
    h, w, net = 4000, 3000, whole.net
    heights = []
    for mb in (4096, 1024, 256, 64, 16, 4, 1):
        plan = TilePlan(net, mb << 20)
        bands = plan.bands(h, w)
        wins = {b.win[1] - b.win[0] for b in bands}
        assert len(wins) == 1  # one window height per frame: the buffers are reused
        wh = wins.pop()
        heights.append(wh)
        assert wh <= BAND_ROWS + 2 * plan.halo
        if (MIN_ROWS + 2 * plan.halo) * w * plan.bpp["tile"] <= plan.budget:
            assert wh * w * plan.bpp["tile"] <= plan.budget
        # the bands cover the frame once, each window holding its band with a halo of margin
        assert [b.out[0] for b in bands][0] == 0 and bands[-1].out[1] == h
        assert all(p.out[1] == q.out[0] for p, q in zip(bands, bands[1:], strict=False))
        for b in bands:
            (y0, y1), (wy0, wy1) = b.out, b.win
            assert (wy0 == 0 or wy0 <= y0 - plan.halo) and (wy1 == h or wy1 >= y1 + plan.halo)
        strips = plan.strips(h, w)
        assert strips[0].first == 0 and strips[-1].last == h * w
        assert all(
            p.last == q.first and q.first % moments.GRAM_BLOCK == 0
            for p, q in zip(strips, strips[1:], strict=False)
        )
        for s in strips:
            r0, r1 = s.rows
            assert (r0 == 0 or r0 * w <= s.first - plan.stats_halo * w) and (
                r1 == h or r1 * w >= s.last + plan.stats_halo * w
            )
    assert heights == sorted(heights, reverse=True) and heights[0] > heights[-1]
    assert heights[-1] == MIN_ROWS + 2 * whole.net.halo  # a 1 MB budget cannot hold more


def test_frames_that_fit_run_whole(whole):
    assert whole.cfg.runtime.max_memory_mb == 4096
    assert whole.fits(1, 2160, 3840)       # 4K video runs whole by default ...
    assert not whole.fits(1, 8000, 12000)  # ... a 96 MP photo in bands
    assert (
        bytes_per_pixel(whole.net, "frame")
        > bytes_per_pixel(whole.net, "tile")
        > bytes_per_pixel(whole.net, "stats")
    )
    # the CUDA estimate (fp16, generic backend, no im2col): 4K runs whole there too
    cuda = SimpleNamespace(
        dtype=torch.float16, cfg=whole.net.cfg, backend="generic", device=torch.device("cuda")
    )
    assert 3840 * 2160 * bytes_per_pixel(cuda, "frame") <= 4096 << 20


@pytest.mark.parametrize("value", [0, -5, "lots", 1.5e400, 1 << 21])
def test_bad_budget_is_a_config_error(value):
    with pytest.raises(ConfigError, match="runtime.max_memory_mb"):
        load_pipeline(None, {"runtime.max_memory_mb": value})


def test_wct_over_the_budget_runs_whole_with_one_warning(style, caplog):
    whole, tiny = _stylizer(**{"model.method": "wct"}), _stylizer(1, **{"model.method": "wct"})
    st = tiny.load_style(STYLE, use_cache=False)
    frame = _photo(61, 97, 5)
    with caplog.at_level(logging.WARNING, logger="rest_video"):
        a = tiny.stylize(frame, st)
        tiny.stylize(frame, st)
    np.testing.assert_array_equal(a, whole.stylize(frame, st))
    assert sum("only AdaIN runs in bands" in r.getMessage() for r in caplog.records) == 1
