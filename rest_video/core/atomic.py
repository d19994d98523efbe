"""Outputs appear whole or not at all: write a temporary file next to the target, rename on success."""

from __future__ import annotations

import os
import re
import secrets
import stat
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

    The result gets the permissions any new file of the user would (``0666`` less the umask), or,
    when it replaces a file, that file's permissions. On any exception, including KeyboardInterrupt
    (and SIGTERM / SIGHUP, see :mod:`rest_video.core.signals`), the temporary file is removed and
    ``path`` is left as it was.
    """
    p = Path(path)
    # the name is chosen before the file exists, so an interrupt at any point after the file is
    # created finds it here to remove (mkstemp returns the name only once the file exists)
    tmp: Path | None = p.with_name(f".{p.stem}.{secrets.token_hex(6)}.part{p.suffix}")
    try:
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            tmp = None  # someone else's file: not ours to remove
            raise MediaError(f"cannot write next to {p}: a temporary file of that name exists") from None
        except OSError as e:
            raise MediaError(f"cannot write next to {p}: {e.strerror}") from None
        yield tmp
        os.chmod(tmp, output_mode(p))  # created 0600 while it is being written
        os.replace(tmp, p)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


def stale_temporaries(path: str | Path) -> list[Path]:
    """The temporary files :func:`atomic_output` made for ``path`` that are still there: left by a
    process that was killed outright (SIGKILL, out of memory), which had no chance to remove them."""
    p = Path(path)
    pattern = re.compile(rf"^\.{re.escape(p.stem)}\.[0-9a-f]{{12}}\.part{re.escape(p.suffix)}$")
    try:
        return sorted(f for f in p.parent.iterdir() if pattern.match(f.name) and f.is_file())
    except OSError:
        return []


def output_mode(path: str | Path) -> int:
    """The permission bits a file written to ``path`` should get: those of the file it replaces,
    else ``0666`` less the process umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it and setting it back at once
    os.umask(mask)
    return mask
