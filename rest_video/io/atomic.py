"""Outputs appear whole or not at all: write a temporary file next to the target, rename on success."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rest_video.core.errors import MediaError


def check_writable(path: str | Path, overwrite: bool = False) -> Path:
    """Raise :class:`MediaError` unless ``path`` can be created (or replaced with ``overwrite``)."""
    p = Path(path)
    if p.exists() and p.is_dir():
        raise MediaError(f"output is a folder: {p}")
    if p.exists() and not overwrite:
        raise MediaError(f"output exists: {p} (use -y to overwrite)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise MediaError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise MediaError(f"output folder is not writable: {parent}")
    return p


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same extension); rename it to ``path`` on success.

    On any exception, including KeyboardInterrupt, the temporary file is removed and ``path`` is
    left as it was.
    """
    p = Path(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=f".part{p.suffix}", dir=p.parent or ".")
    except OSError as e:
        raise MediaError(f"cannot write next to {p}: {e.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
