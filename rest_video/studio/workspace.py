"""The studio's files: one folder per browser session under one folder per studio run.

Nothing here takes a path from the client. Uploads and outputs are named by random ids the server
makes (:func:`new_id`), looked up in memory, and an id from a request is checked against
:data:`ID_PATTERN` before it touches the disk. The run's folder is removed when the studio stops,
and a session idle for longer than ``max_age`` seconds is removed with its files by :meth:`sweep`.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rest_video.core.errors import MediaError

ID_PATTERN = re.compile(r"^[0-9a-f]{16,32}$")
SESSION_COOKIE = "rest_video_session"


def new_id() -> str:
    """A random id for a session, an upload or a job (64 bits, hex)."""
    return secrets.token_hex(8)


def check_id(value: str, what: str = "id") -> str:
    """``value`` when it is a well-formed id, else a one-line :class:`MediaError` (no path ever
    passes: ``../x``, ``/etc/passwd`` and ``a/b`` all fail here)."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise MediaError(f"unknown {what}")
    return value


@dataclass
class Session:
    id: str
    folder: Path
    last_seen: float = field(default_factory=time.time)

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"

    @property
    def outputs(self) -> Path:
        return self.folder / "outputs"


class Workspace:
    """Session folders under ``root`` (a fresh temporary folder by default), removed on :meth:`close`.

    Args:
        root: parent folder for this run's files (None: a new folder in the system's temp folder).
        max_age: seconds a session may stay idle before :meth:`sweep` removes it and its files.
    """

    def __init__(self, root: str | Path | None = None, max_age: float = 24 * 3600) -> None:
        base = Path(root) if root is not None else None
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="rest-video-studio-", dir=base))
        self.max_age = float(max_age)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def session(self, sid: str | None) -> Session:
        """The session ``sid`` (its last use now), or a new one when ``sid`` is missing or unknown."""
        with self._lock:
            s = self._sessions.get(sid) if sid and ID_PATTERN.match(sid) else None
            if s is None:
                sid = new_id()
                s = Session(sid, self.root / sid)
                s.uploads.mkdir(parents=True)
                s.outputs.mkdir()
                self._sessions[sid] = s
            s.last_seen = time.time()
            return s

    def known(self, sid: str | None) -> bool:
        with self._lock:
            return bool(sid) and sid in self._sessions

    def sweep(self, now: float | None = None) -> list[str]:
        """Remove sessions idle for longer than ``max_age``; returns their ids."""
        now = time.time() if now is None else now
        with self._lock:
            old = [s for s in self._sessions.values() if now - s.last_seen > self.max_age]
            for s in old:
                del self._sessions[s.id]
        for s in old:
            shutil.rmtree(s.folder, ignore_errors=True)
        return [s.id for s in old]

    def close(self) -> None:
        """Remove every file of this run."""
        with self._lock:
            self._sessions.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def inside(self, path: Path) -> Path:
        """``path`` resolved, when it lies inside this run's folder; else :class:`MediaError`
        (a second guard behind the ids)."""
        p = path.resolve()
        if self.root.resolve() not in p.parents:
            raise MediaError("file not found")
        return p
