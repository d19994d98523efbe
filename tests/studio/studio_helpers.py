"""Helpers of the studio's tests: the test client on 127.0.0.1, uploads, waiting for a job.

(A module of its own: ``conftest`` is a name every test folder has, so tests never import it.)"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's note that it prefers httpx2 to httpx
    from starlette.testclient import TestClient

STATE = {"X-Rest-Video-Studio": "1"}
BASE = "http://127.0.0.1:8765"


def client(app, **kw):
    return TestClient(app, base_url=kw.pop("base_url", BASE), **kw)


def ws_url(path: str, base: str = BASE) -> str:
    """A WebSocket address on the test server (the test client names the host 'testserver' otherwise)."""
    return base.replace("http", "ws", 1) + path


def upload(c, path: Path, role: str = "content", name: str | None = None):
    return c.post(f"/api/upload?role={role}", content=path.read_bytes(),
                  headers={**STATE, "X-Filename": name or path.name})


def wait_job(c, jid: str, until=("done", "failed", "cancelled"), timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = {j["id"]: j for j in c.get("/api/jobs").json()}
        if jobs[jid]["status"] in until:
            return jobs[jid]
        time.sleep(0.1)
    raise AssertionError(f"job {jid} still {jobs[jid]} after {timeout} s")
