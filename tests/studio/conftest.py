"""Fixtures of the studio's tests: small generated media, and the app behind Starlette's test client.

Each test module skips where the ``[studio]`` extra is missing (the core install)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from studio_media import make_clip, make_style  # noqa: E402


@pytest.fixture(scope="session")
def studio_media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("studio-media")
    return {"clip": make_clip(d / "clip.mp4"), "long": make_clip(d / "long.mp4", frames=120, audio=False),
            "style": make_style(d / "style.png"), "cool": make_style(d / "cool.jpg", warm=False),
            "other": make_clip(d / "other.mp4", frames=6, size=(128, 80))}


@pytest.fixture(scope="module")
def app(tmp_path_factory, studio_media):
    from studio_helpers import client

    from rest_video.studio.app import StudioSettings, create_app

    root = tmp_path_factory.mktemp("studio-root")
    app = create_app(StudioSettings(camera=str(studio_media["clip"]), root=str(root)))
    with client(app):  # runs the lifespan: the run's files are removed at the end
        yield app


@pytest.fixture
def web(app):
    """A browser session of its own (its own cookie) on the shared app."""
    from studio_helpers import client

    return client(app)


