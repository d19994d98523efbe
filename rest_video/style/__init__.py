"""Style statistics (:class:`StyleStats`): computed once per style, cached on disk (:class:`StyleCache`);
a single-colour style is refused (:func:`check_not_flat`)."""

from rest_video.style.cache import StyleCache, cache_key, file_hash
from rest_video.style.flat import check_not_flat
from rest_video.style.stats import StatsFilter, StyleStats

__all__ = ["StatsFilter", "StyleCache", "StyleStats", "cache_key", "check_not_flat", "file_hash"]
