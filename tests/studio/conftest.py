"""Fixtures of the studio's tests: small generated media, and the app behind Starlette's test client.

The tests skip as a whole where the ``[studio]`` extra is missing (the core install)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")
pytest.importorskip("httpx", reason="Starlette's test client needs httpx (the [dev] extra)")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from studio_media import make_clip, make_style  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's note that it prefers httpx2 to httpx
    from starlette.testclient import TestClient  # noqa: E402

STATE = {"X-Rest-Video-Studio": "1"}
BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="session")
def studio_media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("studio-media")
    return {"clip": make_clip(d / "clip.mp4"), "long": make_clip(d / "long.mp4", frames=120, audio=False),
            "style": make_style(d / "style.png"), "cool": make_style(d / "cool.jpg", warm=False),
            "other": make_clip(d / "other.mp4", frames=6, size=(128, 80))}


def client(app, **kw):
    return TestClient(app, base_url=kw.pop("base_url", BASE), **kw)


def ws_url(path: str, base: str = BASE) -> str:
    """A WebSocket address on the test server (the test client names the host 'testserver' otherwise)."""
    return base.replace("http", "ws", 1) + path


@pytest.fixture(scope="module")
def app(tmp_path_factory, studio_media):
    from rest_video.studio.app import StudioSettings, create_app

    root = tmp_path_factory.mktemp("studio-root")
    app = create_app(StudioSettings(camera=str(studio_media["clip"]), root=str(root)))
    with client(app):  # runs the lifespan: the run's files are removed at the end
        yield app


@pytest.fixture
def web(app):
    """A browser session of its own (its own cookie) on the shared app."""
    return client(app)


def upload(c, path: Path, role: str = "content", name: str | None = None):
    return c.post(f"/api/upload?role={role}", content=path.read_bytes(),
                  headers={**STATE, "X-Filename": name or path.name})


def wait_job(c, jid: str, until=("done", "failed", "cancelled"), timeout: float = 60.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = {j["id"]: j for j in c.get("/api/jobs").json()}
        if jobs[jid]["status"] in until:
            return jobs[jid]
        time.sleep(0.1)
    raise AssertionError(f"job {jid} still {jobs[jid]} after {timeout} s")
