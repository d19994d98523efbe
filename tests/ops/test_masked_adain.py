import pytest
import torch

from rest_video.core.errors import ShapeError
from rest_video.ops.masked_adain import feather_weights, masked_affine, region_mean_std
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
    assert all(torch.equal(a, b) for a, b in zip(region_mean_std(f, full), mean_std(f)))


def test_empty_region_and_wrong_shapes_are_errors():
    f = torch.randn(1, 2, 4, 4)
    with pytest.raises(ShapeError):
        region_mean_std(f, torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(ShapeError):
        region_mean_std(f, torch.ones(3, 4, dtype=torch.bool))
    with pytest.raises(ShapeError):
        masked_affine(f, torch.ones(2, 4, 4), [torch.ones(1, 2, 1, 1)], [torch.zeros(1, 2, 1, 1)])


def test_hard_weights_apply_each_region_its_own_map_exactly():
    torch.manual_seed(1)
    f = torch.randn(1, 3, 5, 6)
    w = torch.zeros(2, 5, 6)
    w[0, :, :3] = 1
    w[1, :, 3:] = 1
    maps = [adain_affine(*mean_std(f), torch.full((1, 3, 1, 1), v), torch.full((1, 3, 1, 1), 2.0)) for v in (0.0, 5.0)]
    out = masked_affine(f, w, [m[0] for m in maps], [m[1] for m in maps])
    assert torch.equal(out[..., :3], f[..., :3] * maps[0][0] + maps[0][1])
    assert torch.equal(out[..., 3:], f[..., 3:] * maps[1][0] + maps[1][1])


def test_feathered_weights_sum_to_one_and_blend_only_near_the_border():
    w = torch.zeros(2, 20, 40)
    w[0, :, :20] = 1
    w[1, :, 20:] = 1
    soft = feather_weights(w, 8)
    assert torch.allclose(soft.sum(0), torch.ones(20, 40), atol=1e-6)
    assert soft[0, :, 18].min() > 0.5 > soft[0, :, 21].max()  # a ramp across the border
    assert torch.all(soft[0, :, :4] > 0.999) and torch.all(soft[0, :, 36:] < 0.001)
    assert torch.equal(feather_weights(w, 0), w)
