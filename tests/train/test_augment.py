import torch

from rest_video.ops.stats import mean_std
from rest_video.train.augment import augment_styles, grade


def test_grade_keeps_range_and_changes_statistics():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 3, 24, 24, generator=g) * 0.6 + 0.2
    y = grade(x, g)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    (mx, sx), (my, sy) = mean_std(x), mean_std(y)
    # every image's per-channel mean or spread moved noticeably
    moved = ((mx - my).abs() + (sx - sy).abs()).flatten(1).amax(1)
    assert bool((moved > 0.02).all())


def test_augment_probability_zero_and_one():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(6, 3, 8, 8, generator=g)
    assert augment_styles(x, 0.0, g) is x
    y = augment_styles(x, 1.0, g)
    assert not torch.equal(x, y)
    assert (y.flatten(1) != x.flatten(1)).any(1).all()
