"""StyleLoader: style images to statistics through the cache, with the network passed in."""

import numpy as np
import pytest
import torch

from rest_video.core.errors import ConfigError
from rest_video.io.image import write_image
from rest_video.style import StyleCache, StyleStats
from rest_video.style.loader import StyleLoader
from rest_video.style.regions import RegionStyle


def _loader(tmp_path, calls):
    def stats_of(img, with_cov):
        calls.append(img.shape)
        m = torch.full((1, 4, 1, 1), float(img.mean()))
        return StyleStats({3: m}, {3: m + 1})

    def region_stats_of(img, labels):
        whole = stats_of(img, False)
        return RegionStyle(whole, {int(k): whole for k in np.unique(labels)}, {}, labels.size)

    return StyleLoader(stats_of, region_stats_of, StyleCache(tmp_path / "cache"), "w1", 64, (3,), 4, "cpu")


def _style(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    write_image(tmp_path / "s.png", img)
    return tmp_path / "s.png", img


def test_a_style_is_computed_once_then_read_from_the_cache(tmp_path):
    calls = []
    loader = _loader(tmp_path, calls)
    path, img = _style(tmp_path)
    a = loader.load(path, True)
    b = loader.load(path, True)
    assert len(calls) == 1 and torch.equal(a.mean[3], b.mean[3])
    loader.load(img, True)  # an array has no file to key the cache by
    assert len(calls) == 2


def test_a_masked_style_needs_adain(tmp_path):
    loader = _loader(tmp_path, [])
    path, _ = _style(tmp_path)
    mask = np.zeros((40, 50), np.uint8)
    assert isinstance(loader.load(path, False, mask=mask), RegionStyle)
    with pytest.raises(ConfigError, match="AdaIN only"):
        loader.load(path, False, mask=mask, method="wct")
