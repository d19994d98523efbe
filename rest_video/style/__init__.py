"""Style statistics: computed once per style, cached on disk."""

from rest_video.style.cache import StyleCache, cache_key, file_hash

__all__ = ["StyleCache", "cache_key", "file_hash"]
