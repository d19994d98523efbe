import pytest
import torch

from rest_video.core.errors import ShapeError
from rest_video.ops.masked_adain import blend_affine, feather_weights, masked_adain, region_mean_std
from rest_video.ops.stats import adain_affine, mean_std


def test_region_statistics_are_those_of_the_region_pixels():
    torch.manual_seed(0)
    f = torch.randn(1, 4, 6, 8)
    mask = torch.zeros(6, 8, dtype=torch.bool)
    mask[1:4, 2:7] = True
    m, s = region_mean_std(f, mask)
    sub = f[:, :, 1:4, 2:7]
    em, es = mean_std(sub)
    assert torch.allclose(m, em, atol=1e-6) and torch.allclose(s, es, atol=1e-6)
    full = torch.ones(6, 8, dtype=torch.bool)
    assert all(torch.equal(a, b) for a, b in zip(region_mean_std(f, full), mean_std(f), strict=False))


def test_empty_region_and_wrong_shapes_are_errors():
    f = torch.randn(1, 2, 4, 4)
    with pytest.raises(ShapeError):
        region_mean_std(f, torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(ShapeError):
        region_mean_std(f, torch.ones(3, 4, dtype=torch.bool))
    one = [(torch.zeros(1, 2, 1, 1), torch.ones(1, 2, 1, 1))]
    with pytest.raises(ShapeError):
        masked_adain(f, torch.ones(2, 4, 4), one, one)
    with pytest.raises(ShapeError):
        blend_affine(
            torch.ones(16, 2), torch.ones(1, 2), torch.ones(1, 2), torch.ones(1, 2), torch.ones(1, 2)
        )


def test_hard_weights_apply_each_region_its_own_adain_map_exactly():
    torch.manual_seed(1)
    f = torch.randn(1, 3, 5, 6)
    w = torch.zeros(2, 5, 6)
    w[0, :, :3] = 1
    w[1, :, 3:] = 1
    cs = [mean_std(f[..., :3]), mean_std(f[..., 3:])]
    ss = [(torch.full((1, 3, 1, 1), v), torch.full((1, 3, 1, 1), 2.0)) for v in (0.0, 5.0)]
    out = masked_adain(f, w, cs, ss, 0.7)
    for k, cols in enumerate((slice(0, 3), slice(3, 6))):
        scale, shift = adain_affine(*cs[k], *ss[k], 0.7)
        assert torch.equal(out[..., cols], f[..., cols] * scale + shift)


def test_on_a_border_the_statistics_blend_not_the_maps():
    # a smooth region (small content std) next to a textured one: half-way, the scale is the ratio of
    # the averaged stds, not the average of the two scales (which the smooth region's would dominate)
    w = torch.tensor([[0.5, 0.5]])
    one = torch.ones(2, 1)
    scale, _ = blend_affine(w, torch.zeros(2, 1), torch.tensor([[0.01], [1.0]]), torch.zeros(2, 1), one)
    assert abs(float(scale) - 1.0 / 0.505) < 1e-5  # the average of the maps would be (100 + 1) / 2


def test_feathered_weights_sum_to_one_and_blend_only_near_the_border():
    w = torch.zeros(2, 20, 40)
    w[0, :, :20] = 1
    w[1, :, 20:] = 1
    soft = feather_weights(w, 8)
    assert torch.allclose(soft.sum(0), torch.ones(20, 40), atol=1e-6)
    assert soft[0, :, 18].min() > 0.5 > soft[0, :, 21].max()  # a ramp across the border
    assert torch.all(soft[0, :, :4] > 0.999) and torch.all(soft[0, :, 36:] < 0.001)
    assert torch.equal(feather_weights(w, 0), w)


def test_region_affine_is_the_blend_of_each_pixel():
    """The lookup inside regions and the blend on feathered borders give what blend_affine gives
    for every pixel; masked_rows zeroes the pixels outside a region."""
    from rest_video.ops.masked_adain import RegionMaps, masked_rows, region_affine_

    torch.manual_seed(2)
    K, N, C = 3, 50, 4
    w = torch.zeros(K, N)
    w[torch.randint(0, K, (N,)), torch.arange(N)] = 1.0
    w[:, 10:14] = torch.softmax(torch.randn(K, 4), 0)  # a feathered border
    maps = RegionMaps(torch.randn(K, C), torch.rand(K, C) + 0.2, torch.randn(K, C), torch.rand(K, C) + 0.2,
                      0.7)
    f = torch.randn(N, C)
    scale, shift = blend_affine(w.T, *maps)
    assert torch.allclose(region_affine_(f.clone(), w, maps), f * scale + shift, atol=1e-6)
    inside = w[0] == 1.0
    assert torch.equal(masked_rows(f, inside)[~inside], torch.zeros(int((~inside).sum()), C))
