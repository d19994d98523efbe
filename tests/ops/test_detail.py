"""rest_video.ops.detail: the LUT path's local-contrast term fits what it can say and applies it."""

import cv2
import numpy as np
import pytest

from rest_video.ops.detail import BANDS, add_detail, fit_detail


def photo(h=96, w=128, seed=0):
    """A picture with detail at several scales: smooth shapes plus fine texture."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8), (w, h),
                        interpolation=cv2.INTER_CUBIC).astype(np.int16)
    fine = rng.integers(-20, 21, (h, w, 1), dtype=np.int16)
    return np.clip(coarse + fine, 0, 255).astype(np.uint8)


def test_zero_gains_and_no_gains_change_nothing():
    x = photo()
    mapped = (x // 2).astype(np.uint8)
    assert add_detail(x, mapped, None) is mapped
    assert add_detail(x, mapped, np.zeros((BANDS, 3), np.float32)) is mapped


def test_the_fit_finds_the_gains_that_made_a_target():
    x = photo()
    mapped = cv2.addWeighted(x, 0.8, x, 0.0, 30.0)                  # some colour map
    true = np.array([[0.6, 0.3, -0.2], [0.2, 0.4, 0.1], [-0.4, -0.3, -0.5]], np.float32)
    target = add_detail(x, mapped, true)
    got = fit_detail(x, mapped, target)
    assert got.shape == (BANDS, 3)
    assert np.abs(got - true).max() < 0.08                          # rounding to levels and the ridge
    again = add_detail(x, mapped, got)
    assert np.abs(again.astype(int) - target).mean() < 0.6


def test_the_term_is_the_bands_sum_rounded_and_saturated():
    x = photo(40, 56, seed=3)
    mapped = np.full_like(x, 250)                                   # near white: the sum saturates
    g = np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    y = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
    b1 = cv2.GaussianBlur(y, (5, 5), 1.0).astype(int)
    b2 = cv2.GaussianBlur(y, (9, 9), 2.0).astype(int)
    fine, mid = y.astype(int) - b1, b1 - b2
    out = add_detail(x, mapped, g, {})
    assert np.array_equal(out[..., 0], np.clip(250 + 2 * fine + mid, 0, 255))
    assert np.array_equal(out[..., 1], np.clip(250 + fine, 0, 255))
    assert out.dtype == np.uint8 and (out[..., 0] == 255).any() and (out[..., 0] < 250).any()


def test_scratch_arrays_carry_over_between_sizes():
    work = {}
    g = np.full((BANDS, 3), 0.5, np.float32)
    for h, w in [(64, 80), (32, 48), (72, 72)]:
        x = photo(h, w)
        assert np.array_equal(add_detail(x, x, g, work), add_detail(x, x, g))


@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 2, 3)])
def test_tiny_frames(shape):
    x = np.full(shape, 100, np.uint8)
    g = np.full((BANDS, 3), 0.5, np.float32)
    assert np.array_equal(add_detail(x, x, g), x)                   # a flat picture has no detail
    assert fit_detail(x, x, x).shape == (BANDS, 3)
