"""Content/style pairs for ``rest-video eval``: a ``content<TAB>style`` TSV, and ablation rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rest_video.core.errors import ConfigError, MediaError

BUILTIN_NAMES = ("rest", "rest-untrained", "reinhard", "rgb-adain", "histmatch")
"""The methods every evaluation has (an ablation may not take these names)."""


@dataclass(frozen=True)
class Pair:
    """One content/style pair (absolute or cwd-relative paths)."""

    content: Path
    style: Path


def read_pairs(path: str | Path, limit: int | None = None) -> list[Pair]:
    """Read a ``content<TAB>style`` TSV (with that header); paths are relative to the TSV's folder.

    Blank lines and lines starting with ``#`` are skipped. Every image must exist.
    Raises :class:`MediaError` (missing files) or :class:`ConfigError` (bad layout).
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"pairs file not found: {p}" if not p.exists() else f"pairs file is not a file: {p}")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise MediaError(f"cannot read pairs file {p}: {e}") from None
    rows = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not rows or [c.strip() for c in rows[0][1].split("\t")] != ["content", "style"]:
        raise ConfigError(f"{p}: first line must be the header 'content<TAB>style'")
    pairs = []
    for lineno, ln in rows[1:]:
        fields = ln.split("\t")
        if len(fields) != 2 or not all(f.strip() for f in fields):
            raise ConfigError(f"{p}:{lineno}: expected 'content<TAB>style', got {ln!r}")
        c, s = (p.parent / f.strip() for f in fields)
        for kind, img in (("content", c), ("style", s)):
            if not img.is_file():
                raise MediaError(f"{p}:{lineno}: {kind} image not found: {img}")
        pairs.append(Pair(c, s))
    if not pairs:
        raise ConfigError(f"{p}: no pairs")
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be >= 1, got {limit}")
        pairs = pairs[:limit]
    return pairs


def parse_ablation(spec: str) -> tuple[str, Path]:
    """``"NAME=PATH"`` -> ``(NAME, Path(PATH))``; the name must not shadow a built-in method."""
    name, sep, path = spec.partition("=")
    name = name.strip()
    if not sep or not name or not path.strip():
        raise ConfigError(f"--ablation expects NAME=PATH, got {spec!r}")
    if name in BUILTIN_NAMES:
        raise ConfigError(f"--ablation name {name!r} is a built-in method; pick another name")
    return name, Path(path.strip())
