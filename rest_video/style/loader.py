"""Style images -> statistics, through the disk cache: :class:`StyleLoader`.

A style is a path or an RGB uint8 array; with a mask it becomes a :class:`RegionStyle` (the whole
style's statistics and each mask region's). The network that computes the statistics is passed in
as two functions, so this layer needs no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rest_video.core.errors import ConfigError
from rest_video.io.image import read_image
from rest_video.io.masks import as_labels, read_mask
from rest_video.ops.frames import check_frames
from rest_video.style.cache import StyleCache, cache_key, file_hash
from rest_video.style.flat import check_not_flat
from rest_video.style.regions import RegionStyle
from rest_video.style.stats import StyleStats

StyleSource = str | Path | np.ndarray


@dataclass(frozen=True)
class StyleLoader:
    """Statistics of style images for one model, cached on disk.

    ``stats_of(image, with_cov)`` and ``region_stats_of(image, labels)`` compute them from an RGB
    uint8 ``(H, W, 3)`` image (and its ``(H, W)`` labels); ``weights_id`` and ``max_side`` (the
    long side a style image is read at) are part of the cache key; ``layers`` and ``width`` check
    a cache entry; results are moved to ``device``. Holds no per-call state (thread-safe as far as
    ``cache`` is)."""

    stats_of: Callable[[np.ndarray, bool], StyleStats]
    region_stats_of: Callable[[np.ndarray, np.ndarray], RegionStyle]
    cache: StyleCache
    weights_id: str
    max_side: int
    layers: tuple[int, ...]
    width: int
    device: object

    def load(self, style: StyleSource, use_cache: bool, *, with_cov: bool = False,
             mask: StyleSource | None = None, method: str = "adain") -> StyleStats | RegionStyle:
        """Statistics of ``style`` (covariances too with ``with_cov``, for WCT), from the cache when
        possible (a hit reads the file's bytes for the key and decodes nothing); with ``mask``, a
        :class:`RegionStyle` (AdaIN only), cached under the mask file's hash too."""
        if mask is not None:
            return self._load_regions(style, mask, use_cache, method)
        key = None
        if isinstance(style, (str, Path)):
            if use_cache and Path(style).is_file():
                key = cache_key(file_hash(style), self.weights_id, self.max_side, with_cov)
                hit = self.cache.load(key, self.layers, self.width, with_cov)
                if hit is not None:
                    return hit.to(self.device)
        stats = self.stats_of(self._image(style), with_cov)
        if key is not None:
            self.cache.save(key, stats)
        return stats.to(self.device)

    def _load_regions(self, style: StyleSource, mask: StyleSource, use_cache: bool,
                      method: str) -> RegionStyle:
        key = None
        if isinstance(style, (str, Path)) and isinstance(mask, (str, Path)) and use_cache \
                and Path(style).is_file() and Path(mask).is_file():
            both = f"{file_hash(style)}|mask:{file_hash(mask)}"
            key = cache_key(both, self.weights_id, self.max_side, False)
            hit = self.cache.load_regions(key, self.layers, self.width)
            if hit is not None:
                return hit.to(self.device)
        img = self._image(style)
        size = (img.shape[1], img.shape[0])
        labels = read_mask(mask, size) if isinstance(mask, (str, Path)) else as_labels(mask, size)
        if method != "adain":
            raise ConfigError("masks work with AdaIN only (--method wct has no per-region form)")
        stats = self.region_stats_of(img, labels)
        if key is not None:
            self.cache.save_regions(key, stats)
        return stats.to(self.device)

    def _image(self, style: StyleSource) -> np.ndarray:
        """The style as an RGB uint8 ``(H, W, 3)`` image (read at ``max_side``), refused when flat."""
        if isinstance(style, (str, Path)):
            img = read_image(style, self.max_side)
        else:
            img = check_frames(style)[0] if style.ndim == 4 else check_frames(style[None])[0]
        check_not_flat(img, str(style) if isinstance(style, (str, Path)) else "style image")
        return img
