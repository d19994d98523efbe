"""Temporal filters: the pixel stabilizer holds still regions, lets motion through, restarts on cuts."""

import numpy as np
import pytest

from rest_video.core.config import load_pipeline
from rest_video.stream.stabilizer import InputStabilizer, PixelStabilizer, make_stabilizer


def _noisy(base: np.ndarray, rng, amp: int = 4) -> np.ndarray:
    return np.clip(base.astype(int) + rng.integers(-amp, amp + 1, base.shape), 0, 255).astype(np.uint8)


def test_still_input_output_noise_is_smoothed():
    rng = np.random.default_rng(0)
    inp = rng.integers(0, 256, (40, 50, 3), np.uint8)
    outs = [_noisy(inp, rng) for _ in range(30)]
    stab = PixelStabilizer(0.8, chroma_sigma=0)            # the hold alone (random colours would blur)
    held = [stab(inp, o) for o in outs]
    change_raw = np.mean([np.abs(outs[t].astype(int) - outs[t - 1]).mean() for t in range(10, 30)])
    change_held = np.mean([np.abs(held[t].astype(int) - held[t - 1]).mean() for t in range(10, 30)])
    assert change_held < 0.5 * change_raw
    # and the held output stays on the mean of the outputs, not on a stale first frame
    assert np.abs(held[-1].astype(float) - inp).mean() < np.abs(outs[-1].astype(float) - inp).mean()


def test_moving_pixels_pass_through_unchanged():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (32, 32, 3), np.uint8)
    b = a.copy()
    b[:, 16:] = 255 - b[:, 16:]  # right half changes a lot
    stab = PixelStabilizer(
        0.9, radius=2, hold_limit=255, chroma_sigma=0
    )  # unbounded, no blur: the exact blend
    y0 = rng.integers(0, 256, a.shape, np.uint8)
    y1 = rng.integers(0, 256, a.shape, np.uint8)
    stab(a, y0)
    out = stab(b, y1)
    moving = np.abs(b.astype(int) - a).max(axis=2) >= 12
    assert moving[:, 18:].all()
    assert np.array_equal(out[:, 18:], y1[:, 18:])       # moving: the new output exactly
    still = ~np.lib.stride_tricks.sliding_window_view(np.pad(moving, 2), (5, 5)).any(axis=(2, 3))
    expect = np.rint(0.9 * y0.astype(np.float32) + 0.1 * y1.astype(np.float32))
    assert still[:, :14].all()
    assert np.abs(out[:, :14].astype(int) - expect[:, :14]).max() <= 1


def test_scene_cut_restarts_and_zero_is_off():
    rng = np.random.default_rng(2)
    a = np.full((20, 20, 3), 10, np.uint8)
    b = np.full((20, 20, 3), 240, np.uint8)
    stab = PixelStabilizer(0.9, chroma_sigma=0)
    stab(a, rng.integers(0, 256, a.shape, np.uint8))
    y = rng.integers(0, 256, a.shape, np.uint8)
    assert np.array_equal(stab(b, y), y) and stab.cuts == 1
    off = PixelStabilizer(0.0, chroma_sigma=0)
    assert off(a, y) is y
    assert (
        make_stabilizer(
            load_pipeline(None, {"temporal.pixel_smoothing": 0, "temporal.chroma_sigma": 0}).temporal
        )
        is None
    )
    assert (
        make_stabilizer(load_pipeline(None).temporal) is None
        or load_pipeline(None).temporal.pixel_smoothing > 0
    )
    assert isinstance(
        make_stabilizer(load_pipeline(None, {"temporal.pixel_smoothing": 0.5}).temporal), PixelStabilizer
    )


def test_bad_thresholds_are_config_errors():
    from rest_video.core.errors import ConfigError

    with pytest.raises(ConfigError, match="temporal.pixel_smoothing"):
        load_pipeline(None, {"temporal.pixel_smoothing": 1.0})
    with pytest.raises(ConfigError, match="still"):
        load_pipeline(None, {"temporal.still": 20, "temporal.moving": 10})
    with pytest.raises(ConfigError, match="temporal.hold_limit"):
        load_pipeline(None, {"temporal.hold_limit": 0})
    assert make_stabilizer(load_pipeline(None, {"temporal.hold_limit": 3}).temporal).hold_limit == 3


def test_hold_limit_bounds_the_distance_to_the_current_output():
    # the input stands still while the network's output wanders far (what a missed motion looks
    # like to the filter): the held output follows it within hold_limit levels, in every channel
    rng = np.random.default_rng(5)
    inp = rng.integers(0, 256, (30, 40, 3), np.uint8)
    walk = np.cumsum(rng.integers(-12, 13, (40, 1, 1, 3)), axis=0)       # per-channel drift, 12 levels/frame
    outs = [np.clip(128 + w + rng.integers(-3, 4, inp.shape), 0, 255).astype(np.uint8) for w in walk]
    bounded = PixelStabilizer(0.9, hold_limit=6, chroma_sigma=0)
    unbounded = PixelStabilizer(0.9, hold_limit=255, chroma_sigma=0)
    worst = worst_unbounded = 0
    for o in outs:
        worst = max(worst, int(np.abs(bounded(inp, o).astype(int) - o).max()))
        worst_unbounded = max(worst_unbounded, int(np.abs(unbounded(inp, o).astype(int) - o).max()))
    assert worst <= 6 < worst_unbounded             # the bound holds, and without it the hold lags far behind
    with pytest.raises(ValueError, match="hold_limit"):
        PixelStabilizer(0.9, hold_limit=0)


def test_motion_map_averages_codec_noise_away_but_keeps_motion():
    from rest_video.ops.color import motion_map

    rng = np.random.default_rng(4)
    base = rng.integers(40, 200, (60, 80, 3), np.uint8)
    a, b = _noisy(base, rng, 2), _noisy(base, rng, 2)  # the same picture, fresh noise of +-2 levels
    assert motion_map(a, b, radius=5, blur=0).min() >= 4  # a plain window maximum finds the worst noise pixel
    assert np.percentile(motion_map(a, b), 99) <= 3           # the local mean first: noise averages down
    c = b.copy()
    c[20:40, 30:50] = 255 - c[20:40, 30:50]                   # a patch moves
    m = motion_map(b, c)
    assert m[20:40, 30:50].min() > 32                          # clearly moving inside (temporal.moving is 16)
    assert m[15:45, 25:55].min() > 0 and m[14, 30] == 0 and m[30, 56] == 0   # spread exactly 5 px around it


def test_blur_larger_than_radius_is_rejected():
    with pytest.raises(ValueError, match="blur"):
        PixelStabilizer(0.9, radius=1, blur=2)


def test_slow_drift_releases_the_hold():
    # the input brightens by 2 levels a frame: each step looks still, but they add up. Measured
    # against the previous frame the hold would lag by 2 * 0.9 / 0.1 = 18 levels; measured against
    # the input the held output stands for, the drift releases it.
    base = np.full((24, 24, 3), 60, np.uint8)
    stab = PixelStabilizer(0.9)                   # still 4, moving 16 levels
    for t in range(60):
        frame = base + 2 * t
        out = stab(frame, frame)                  # an identity "network": any lag is the filter's
    lag = float(frame.astype(int).mean() - out.astype(int).mean())
    assert 0 < lag < 10
    unbounded = PixelStabilizer(0.9, hold_limit=255)
    for t in range(60):
        frame = base + 2 * t
        out = unbounded(frame, frame)
    assert (
        0 < float(frame.astype(int).mean() - out.astype(int).mean()) < 10
    )  # the release alone, without the bound


def test_smooth_chroma_keeps_brightness_and_removes_colour_speckle():
    from rest_video.ops.color import smooth_chroma

    rng = np.random.default_rng(6)
    luma = np.tile(np.linspace(30, 220, 64, dtype=np.float32), (48, 1))          # a brightness ramp: detail
    speckle = rng.normal(0, 6, (48, 64, 1)).astype(np.float32) * np.array([1.0, -0.5, -0.2], np.float32)
    img = np.clip(luma[..., None] + speckle, 0, 255).astype(np.uint8)
    out = smooth_chroma(img, 1.0)
    assert out.dtype == np.float32 and out.shape == img.shape
    def y(a):
        return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]

    def colour(a):
        return a.astype(np.float32) - y(a.astype(np.float32))[..., None]

    assert np.abs(y(out) - y(img.astype(np.float32))).max() < 0.01              # brightness kept exactly
    assert colour(out).std() < 0.5 * colour(img).std()                          # colour speckle blurred away


def test_chroma_blur_alone_and_before_the_hold():
    from rest_video.ops.color import smooth_chroma

    rng = np.random.default_rng(7)
    inp = np.full((32, 32, 3), 120, np.uint8)
    # a still input whose stylized output carries fresh colour speckle every frame
    outs = [np.clip(100 + rng.normal(0, 5, (32, 32, 1)) * np.array([1.0, -1.0, 0.5]), 0, 255).astype(np.uint8)
            for _ in range(12)]
    only_blur = PixelStabilizer(0.0, chroma_sigma=1.0)
    first = only_blur(inp, outs[0])
    assert (
        first.dtype == np.uint8
        and np.abs(first.astype(float) - np.rint(smooth_chroma(outs[0], 1.0))).max() <= 1
    )
    def change(seq):
        return np.mean([np.abs(seq[t].astype(int) - seq[t - 1]).mean() for t in range(1, len(seq))])

    both = PixelStabilizer(0.9, chroma_sigma=1.0)
    blurred = [only_blur(inp, o) for o in outs]
    held = [both(inp, o) for o in outs]
    assert change(held) < change(blurred) < change(outs)
    with pytest.raises(ValueError, match="chroma_sigma"):
        PixelStabilizer(0.9, chroma_sigma=-1)


def test_the_lut_paths_input_hold_smooths_still_noise_lets_motion_through_and_restarts_on_cuts():
    rng = np.random.default_rng(3)
    base = np.full((40, 60, 3), 120, np.uint8)
    frames = [_noisy(base, rng, amp=3) for _ in range(30)]
    hold = InputStabilizer(0.9, hold_limit=6.0)
    held = [hold(f).copy() for f in frames]
    raw = np.mean([np.abs(frames[t].astype(int) - frames[t - 1]).mean() for t in range(10, 30)])
    steady = np.mean([np.abs(held[t].astype(int) - held[t - 1]).mean() for t in range(10, 30)])
    assert steady < 0.3 * raw  # codec-like noise averaged out
    assert all(
        np.abs(h.astype(int) - f).max() <= 6 for h, f in zip(held, frames, strict=False)
    )  # never beyond the bound
    moved = frames[-1].copy()
    moved[:, :20] = 200                                        # an object comes in on the left
    out = hold(moved)
    assert np.array_equal(out[:, :10], moved[:, :10])          # it passes straight through
    cut = np.full_like(base, 30)
    assert np.array_equal(hold(cut), cut) and hold.cuts == 1  # a cut starts again from the new frame
