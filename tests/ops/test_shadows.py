"""rest_video.ops.shadows: the shadow guard equals its formula, written plainly, bit for bit."""

import cv2
import numpy as np

from rest_video.ops.shadows import DARK, DARK_FADE, FADE, SHADOW, SIGMA, keep_shadow_detail


def plain_guard(content, stylized):
    """The module docstring's formula over the whole frame, one float32 array per step."""
    yi = cv2.cvtColor(content, cv2.COLOR_RGB2GRAY).astype(np.float32)
    yo = cv2.cvtColor(stylized, cv2.COLOR_RGB2GRAY).astype(np.float32)
    bi, bo = cv2.GaussianBlur(yi, (0, 0), SIGMA), cv2.GaussianBlur(yo, (0, 0), SIGMA)
    weight = np.clip((FADE - bi) * (1.0 / (FADE - SHADOW)), 0.0, 1.0)
    weight = weight * np.clip((DARK_FADE - bo) * (1.0 / (DARK_FADE - DARK)), 0.0, 1.0)
    gain = np.minimum(bo / np.maximum(bi, np.float32(4.0)), np.float32(1.0))
    delta = (gain * (yi - bi) - (yo - bo)) * weight
    return cv2.add(stylized, cv2.merge([delta, delta, delta]), dtype=cv2.CV_8U)


def test_the_guard_is_its_formula_on_random_dark_frames_of_any_size():
    rng = np.random.default_rng(0)
    work = {}                                   # reused across sizes, as a stream of frames reuses it
    changed = 0
    for _ in range(12):
        h, w = (int(v) for v in rng.integers(8, 160, 2))
        content = rng.integers(0, 150, (h, w, 3), dtype=np.uint8)
        stylized = rng.integers(0, 48, (h, w, 3), dtype=np.uint8)
        stylized[: h // 3] += 150                # a bright band: the guard works on a window
        out = keep_shadow_detail(content, stylized, work)
        assert np.array_equal(out, plain_guard(content, stylized))
        changed += int(np.any(out != stylized))
    assert changed == 12


def test_the_guard_leaves_bright_frames_alone_and_takes_batches():
    rng = np.random.default_rng(1)
    bright = rng.integers(60, 256, (2, 24, 32, 3), dtype=np.uint8)
    content = rng.integers(0, 256, bright.shape, dtype=np.uint8)
    out = keep_shadow_detail(content, bright)
    assert np.array_equal(out, bright) and out is not bright
    dark = bright // 8
    assert np.array_equal(keep_shadow_detail(content, dark)[1], plain_guard(content[1], dark[1]))
