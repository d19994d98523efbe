"""Previews: the LUT while a slider moves, the full network at rest; strength is a blend."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")
from PIL import Image
from studio_helpers import upload


def decode(r) -> np.ndarray:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")).astype(int)


@pytest.fixture(scope="module")
def ids(app, studio_media):
    from studio_helpers import client

    c = client(app)
    content = upload(c, studio_media["clip"]).json()["id"]
    return c, content, upload(c, studio_media["style"], "style").json()["id"]


def preview(c, content, style, **kw):
    return c.get("/api/preview", params={"content": content, "style": style, **kw})


@pytest.mark.parametrize("quality", ["lut", "full"])
def test_preview_changes_with_strength_and_is_the_frame_at_zero(ids, quality):
    c, content, style = ids
    frame = decode(c.get("/api/frame", params={"content": content, "frame": 5}))
    zero = preview(c, content, style, frame=5, strength=0, quality=quality)
    assert zero.content == c.get("/api/frame", params={"content": content, "frame": 5}).content
    half = decode(preview(c, content, style, frame=5, strength=0.5, quality=quality))
    full = decode(preview(c, content, style, frame=5, strength=1, quality=quality))
    assert half.shape == full.shape == frame.shape == (96, 160, 3)
    d_half, d_full = np.abs(half - frame).mean(), np.abs(full - frame).mean()
    assert 2 < d_half < d_full, (d_half, d_full)
    r = preview(c, content, style, frame=5, strength=1, quality=quality)
    assert r.headers["x-preview-quality"] == quality and float(r.headers["x-preview-ms"]) >= 0


def test_the_lut_preview_is_close_to_the_full_network(ids):
    c, content, style = ids
    lut = decode(preview(c, content, style, frame=2, quality="lut"))
    full = decode(preview(c, content, style, frame=2, quality="full"))
    assert np.abs(lut - full).mean() < 12


def test_scrubber_pipeline_and_styles_change_the_picture(ids):
    c, content, style = ids
    a = decode(preview(c, content, style, frame=0))
    assert np.abs(a - decode(preview(c, content, style, frame=11))).mean() > 1
    assert np.abs(a - decode(preview(c, content, "builtin:dune", frame=0))).mean() > 1
    assert np.abs(a - decode(preview(c, content, style, frame=0, pipeline="subtle"))).mean() > 1


@pytest.mark.parametrize("params, words", [
    ({"strength": "1.5"}, "strength must be in 0..1"), ({"strength": "nan"}, "strength must be in 0..1"),
    ({"strength": "x"}, "strength must be a number"), ({"frame": "12"}, "frame must be in 0..11"),
    ({"pipeline": "train"}, "unknown pipeline"), ({"pipeline": "../../etc/x"}, "unknown pipeline"),
    ({"quality": "best"}, "quality must be"), ({"style": "builtin:nope"}, "unknown style")])
def test_bad_preview_requests_get_one_line(ids, params, words):
    c, content, style = ids
    r = c.get("/api/preview", params={"content": content, "style": style, **params})
    assert r.status_code == 400 and words in r.json()["error"]


def test_style_thumbnails(web):
    r = web.get("/api/styles/builtin:dune/thumb")
    img = decode(r)
    assert max(img.shape[:2]) == 240
    assert web.get("/api/styles/builtin:nope/thumb").status_code == 400


def test_pages_and_assets_are_served_from_the_package(web):
    for path in ["/", "/live", "/live/feed", "/static/look.js", "/static/jobs.js", "/static/live.js",
                 "/static/feed.js", "/static/api.js", "/static/studio.css"]:
        r = web.get(path)
        assert r.status_code == 200, path
        assert "http://" not in r.text and "https://" not in r.text, f"{path} reaches outside (no CDN)"


@pytest.mark.parametrize("index", [47, 48, 50, 100, 119])
def test_far_frames_are_reached_by_seeking_and_are_the_same_frames(studio_media, index):
    from rest_video.io.clips import read_clip
    from rest_video.studio.preview import SEEK_FROM, video_frame

    want = read_clip(studio_media["long"], 1, start=index)[0]
    got = video_frame(studio_media["long"], index)
    assert np.array_equal(got, want), (index, SEEK_FROM)
