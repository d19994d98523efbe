"""rest_video.metrics: SSIM, Gram loss (the flicker and PSNR metrics: tests/tools/test_flicker.py,
the palette distance: tests/ops/test_palette.py)."""

import numpy as np
import pytest
import torch
from media import make_frame, smooth_image

from rest_video import metrics as ev
from rest_video.train.teacher import VGGTeacher


@pytest.fixture(scope="module")
def teacher() -> VGGTeacher:
    """VGG-16 layout with random weights: Gram tests need no real teacher file."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return VGGTeacher("vgg16")


# ----------------------------------------------------------------------------- metrics
def test_ssim_is_one_for_identical_images_and_drops_with_noise(rng):
    img = make_frame(48, 40, 3)
    assert ev.ssim_gray(img, img) == pytest.approx(1.0, abs=1e-5)
    noisy = np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8)
    noisier = np.clip(img + rng.normal(0, 60, img.shape), 0, 255).astype(np.uint8)
    s1, s2 = ev.ssim_gray(noisy, img), ev.ssim_gray(noisier, img)
    assert s2 < s1 < 0.99


def test_ssim_needs_equal_sizes():
    with pytest.raises(ValueError, match="content's shape"):
        ev.ssim_gray(make_frame(40, 32, 0), make_frame(41, 32, 0))


def test_gram_loss_zero_for_identical_images_positive_otherwise(teacher, rng):
    a = make_frame(40, 32, 0)
    b = smooth_image(rng, 32, 40, 0, 255)
    ga = ev.gram_matrices(teacher, a)
    assert [g.shape for g in ga] == [(c, c) for c in (64, 128, 256, 512, 512)]
    assert ev.gram_loss(ga, ev.gram_matrices(teacher, a.copy())) == 0.0
    assert ev.style_distance(teacher, a, b) > 0.0


def test_gram_normalisation():
    f = torch.ones(1, 2, 3, 4)
    torch.testing.assert_close(ev.gram(f), torch.full((1, 2, 2), 12.0 / 24.0))
