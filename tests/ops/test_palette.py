import numpy as np
import pytest
import torch

from rest_video.core.errors import ShapeError
from rest_video.metrics import palette_distance
from rest_video.ops.palette import sliced_wasserstein_lab


def _photo(rng, h=120, w=160):
    """A smooth colourful picture: gradients plus noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w * 200 + 30, y / h * 150 + 50, (x + y) / (h + w) * 100 + 80], -1)
    return np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)


def test_zero_for_the_same_image(rng):
    img = _photo(rng)
    assert palette_distance(img, img) == 0.0


def test_larger_for_a_shifted_or_flattened_copy(rng):
    img = _photo(rng)
    near = np.clip(img.astype(int) + 3, 0, 255).astype(np.uint8)
    shifted = np.clip(img.astype(int) + [40, 0, -30], 0, 255).astype(np.uint8)
    mean = img.reshape(-1, 3).mean(0)
    flat = np.clip(mean + (img - mean) * 0.3, 0, 255).astype(np.uint8)  # contrast taken away
    d_near, d_shift, d_flat = (palette_distance(x, img) for x in (near, shifted, flat))
    assert 0 < d_near < 3
    assert d_shift > 5 * d_near and d_flat > 5 * d_near


def test_independent_of_pixel_order(rng):
    small = _photo(rng, 60, 80)  # 4,800 pixels: all are used, the result is exact
    perm = small.reshape(-1, 3)[rng.permutation(60 * 80)].reshape(small.shape)
    ref = _photo(np.random.default_rng(5), 50, 70)
    assert palette_distance(perm, ref) == pytest.approx(palette_distance(small, ref), abs=1e-9)
    big = _photo(rng, 240, 320)  # 76,800 pixels: 20,000 are sampled, so nearly equal
    perm = big.reshape(-1, 3)[rng.permutation(240 * 320)].reshape(big.shape)
    assert palette_distance(perm, ref) == pytest.approx(palette_distance(big, ref), abs=0.3)


def test_sizes_may_differ_and_bad_input_is_refused(rng):
    assert palette_distance(_photo(rng, 30, 40), _photo(rng, 90, 50)) >= 0
    with pytest.raises(ShapeError):
        palette_distance(np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.uint8))


def test_sliced_wasserstein_is_small_for_equal_colours_and_has_gradients():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 32, 32, generator=g)
    perm = a.flatten(2)[:, :, torch.randperm(1024, generator=g)].reshape(a.shape)
    shifted = (a * 0.5 + torch.tensor([0.4, 0.1, 0.0]).view(1, 3, 1, 1)).clamp(0, 1)
    same = float(sliced_wasserstein_lab(perm, a, generator=g))  # sampling noise only
    other = float(sliced_wasserstein_lab(shifted, a, generator=g))
    assert same < 0.25 * other
    x = torch.full((2, 3, 16, 16), 0.5, requires_grad=True)
    loss = sliced_wasserstein_lab(x, a, generator=g)
    loss.backward()
    assert loss.item() > 5 and x.grad.abs().sum() > 0


def test_lab_mean_std_matching_takes_the_styles_statistics_and_keeps_the_structure():
    import torch

    from rest_video.ops.palette import match_lab_mean_std, rgb_to_lab

    g = torch.Generator().manual_seed(0)
    content = 0.3 + 0.4 * torch.rand(2, 3, 24, 32, generator=g)
    style = torch.stack([torch.tensor([0.8, 0.4, 0.1]), torch.tensor([0.1, 0.2, 0.6])])[..., None, None] \
        + 0.1 * torch.rand(2, 3, 20, 20, generator=g)
    out = match_lab_mean_std(content, style)
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    lo, ls = rgb_to_lab(out), rgb_to_lab(style)
    assert torch.allclose(lo.mean((2, 3)), ls.mean((2, 3)), atol=1.0)   # Lab units
    assert torch.allclose(lo.std((2, 3)), ls.std((2, 3)), rtol=0.1, atol=0.3)
    # the structure is the content's: L of the output is an increasing map of the content's L
    lc = rgb_to_lab(content)[:, 0].flatten(1)
    corr = torch.corrcoef(torch.stack([lc[0], lo[0, 0].flatten()]))[0, 1]
    assert corr > 0.95
