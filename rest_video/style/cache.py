"""Style statistics on disk, keyed by the style file's content hash and the weights' identity.

A cache entry is a small safetensors file ``<cache>/styles/<key>.safetensors`` holding the
per-layer mean/std (and covariance, for WCT) of the style's encoder features.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rest_video.core.paths import cache_dir, file_sha256
from rest_video.style.stats import StyleStats

FORMAT = "rest-video-style/1"


def file_hash(path: str | Path) -> str:
    """SHA-256 (hex) of a style file's content: the cache key's first part."""
    return file_sha256(path)


def cache_key(style_hash: str, weights_id: str, max_side: int, with_cov: bool) -> str:
    raw = f"{FORMAT}|{style_hash}|{weights_id}|{max_side}|{int(with_cov)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class StyleCache:
    """Load/save :class:`StyleStats` under ``root`` (default: the user cache folder)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else cache_dir() / "styles"

    def path(self, key: str) -> Path:
        return self.root / f"{key}.safetensors"

    def load(self, key: str) -> StyleStats | None:
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            from safetensors import safe_open

            with safe_open(str(p), "pt") as f:
                if (f.metadata() or {}).get("format") != FORMAT:
                    return None
                return StyleStats.from_state_dict({k: f.get_tensor(k) for k in f.keys()})
        except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed, never fatal
            return None

    def save(self, key: str, stats: StyleStats) -> None:
        from safetensors.torch import save_file

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.path(key).with_suffix(".part")
            save_file(stats.state_dict(), str(tmp), metadata={"format": FORMAT})
            tmp.replace(self.path(key))
        except OSError:
            pass  # an unwritable cache only costs speed
