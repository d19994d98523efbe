"""Where rest-video keeps per-user files (style statistics cache, teacher weights)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_dir() -> Path:
    """``$REST_VIDEO_CACHE``, else the platform's user cache folder + ``rest-video``."""
    env = os.environ.get("REST_VIDEO_CACHE")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "rest-video"
