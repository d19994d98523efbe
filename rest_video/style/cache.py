"""Style statistics on disk, keyed by the style file's content hash and the weights' identity.

A cache entry is a small safetensors file ``<cache>/styles/<key>.safetensors`` holding the
per-layer mean/std (and covariance, for WCT) of the style's encoder features.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from rest_video.core.errors import first_line
from rest_video.core.paths import cache_dir, file_sha256
from rest_video.style.regions import RegionStyle
from rest_video.style.stats import StyleStats

FORMAT = "rest-video-style/1"
REGIONS_FORMAT = "rest-video-style-regions/1"  # a RegionStyle (style + mask)
MAX_ENTRY_BYTES = (
    64 << 20
)  # covariances of 16 layers of 256 channels are 4 MiB; anything far larger is not ours

log = logging.getLogger(__name__)


def file_hash(path: str | Path) -> str:
    """SHA-256 (hex) of a style file's content: the cache key's first part."""
    return file_sha256(path)


def cache_key(style_hash: str, weights_id: str, max_side: int, with_cov: bool) -> str:
    raw = f"{FORMAT}|{style_hash}|{weights_id}|{max_side}|{int(with_cov)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class StyleCache:
    """Load/save :class:`StyleStats` under ``root`` (default: the user cache folder).

    Every entry read is checked (format, layers, shapes, finite values) against what the model
    needs; a bad one is reported in one warning line and treated as missing, so it is recomputed
    and overwritten. A damaged cache never stops a run."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else cache_dir() / "styles"

    def path(self, key: str) -> Path:
        return self.root / f"{key}.safetensors"

    def load(self, key: str, layers: tuple[int, ...] | None = None, channels: int | None = None,
             with_cov: bool = False) -> StyleStats | None:
        """The entry ``key`` if it exists and fits a model with these stylized ``layers`` of
        ``channels`` features (and covariances, ``with_cov``); None otherwise."""
        return self._load(key, lambda p: _read(p), lambda st: st.check(layers, channels, with_cov))

    def save(self, key: str, stats: StyleStats) -> None:
        self._write(key, stats.state_dict(), FORMAT)

    def load_regions(self, key: str, layers: tuple[int, ...] | None = None,
                     channels: int | None = None) -> RegionStyle | None:
        """A :class:`RegionStyle` entry (style + mask), checked like :meth:`load`; None if missing or bad."""
        return self._load(key, lambda p: RegionStyle.from_state_dict(_read_tensors(p, REGIONS_FORMAT)),
                          lambda st: st.check(layers, channels))

    def _load(self, key: str, read, check):
        """The entry read by ``read(path)`` and passed through ``check``; None if missing or bad."""
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            stats = read(p)
            check(stats)
        except Exception as e:  # noqa: BLE001 - whatever is wrong with the entry, it is recomputed
            log.warning("style cache entry %s is unusable (%s); recomputing it", p, first_line(e, 160))
            return None
        return stats

    def save_regions(self, key: str, stats: RegionStyle) -> None:
        self._write(key, stats.state_dict(), REGIONS_FORMAT)

    def _write(self, key: str, tensors: dict, fmt: str) -> None:
        """Write an entry; a failure of any kind costs only speed: one warning line, and the run goes on."""
        from rest_video.io.tensor_file import save_tensors

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            save_tensors(tensors, self.path(key), metadata={"format": fmt})
        except Exception as e:  # noqa: BLE001 - the statistics are in memory; the cache only saves time
            log.warning("style statistics not cached in %s (%s); the run goes on", self.root,
                        first_line(e, 160))


def _read(p: Path) -> StyleStats:
    return StyleStats.from_state_dict(_read_tensors(p, FORMAT))


def _read_tensors(p: Path, format: str) -> dict:
    from safetensors import safe_open

    if p.stat().st_size > MAX_ENTRY_BYTES:
        raise ValueError(f"{p.stat().st_size} bytes, more than any entry needs")
    with safe_open(str(p), "pt") as f:
        fmt = (f.metadata() or {}).get("format")
        if fmt != format:
            raise ValueError(f"format {fmt!r}, expected {format!r}")
        return {k: f.get_tensor(k) for k in f.keys()}
