"""Uploads: limits, type checks by decoding, one clear line for a bad file, and the server goes on."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")
from studio_helpers import STATE, client, upload
from studio_media import png_bomb, truncated


def test_a_clip_and_a_photo_are_accepted(web, studio_media):
    clip = upload(web, studio_media["clip"], name="My Clip.mp4").json()
    assert (clip["kind"], clip["width"], clip["height"], clip["frames"], clip["name"]) == \
        ("video", 160, 96, 12, "My Clip.mp4")
    photo = upload(web, studio_media["style"], role="style").json()
    assert (photo["kind"], photo["frames"]) == ("image", 1)
    ids = [u["id"] for u in web.get("/api/info").json()["uploads"]]
    assert ids == [clip["id"], photo["id"]]


def test_stored_by_id_with_the_detected_type(app, web, studio_media):
    up = upload(web, studio_media["style"], role="style", name="../../evil.sh").json()
    assert up["name"] == "evil.sh"              # the browser's name is shown, never used as a path
    files = sorted(p.name for p in app.state.studio.workspace.root.rglob("*") if p.is_file())
    assert f"{up['id']}.png" in files and not any("evil" in f for f in files)


def bad_files(media) -> dict[str, tuple[bytes, str, str]]:
    """name -> (bytes, role, part of the one-line message)"""
    return {
        "text": (b"hello, this is not a video\n" * 50, "content", "not a readable video or picture"),
        "empty": (b"", "content", "the file is empty"),
        "truncated clip": (truncated(media["clip"]), "content", "not a readable video"),
        "truncated png": (media["style"].read_bytes()[:300], "style", "not a readable picture"),
        "png bomb": (png_bomb(), "content", "decompression bomb"),
        "a video as the style": (media["clip"].read_bytes(), "style", "a style must be a photo"),
        "zip": (b"PK\x03\x04" + b"\x00" * 400, "content", "not a readable video or picture"),
    }


@pytest.mark.parametrize("which", ["text", "empty", "truncated clip", "truncated png", "png bomb",
                                   "a video as the style", "zip"])
def test_bad_uploads_get_one_line_and_the_server_goes_on(app, web, studio_media, which):
    data, role, words = bad_files(studio_media)[which]
    r = web.post(f"/api/upload?role={role}", content=data, headers=STATE)
    assert r.status_code == 400
    msg = r.json()["error"]
    assert words in msg, msg
    assert "\n" not in msg and "Traceback" not in msg
    assert web.get("/api/info").status_code == 200
    leftovers = [p for p in app.state.studio.workspace.root.rglob("*.upload")]
    assert leftovers == []


def test_the_size_limit(tmp_path, studio_media):
    from rest_video.studio.app import StudioSettings, create_app

    app = create_app(StudioSettings(max_upload_mb=1, root=str(tmp_path), camera=str(studio_media["clip"])))
    with client(app) as c:
        r = c.post("/api/upload", content=b"\x00" * (2 * 2**20), headers=STATE)
        assert r.status_code == 400 and "larger than the 1 MB" in r.json()["error"]

        def chunks():  # no Content-Length: the limit holds while the body streams in
            for _ in range(3):
                yield b"\x00" * 2**19

        r = c.post("/api/upload", content=chunks(), headers=STATE)
        assert r.status_code == 400 and "larger than the 1 MB" in r.json()["error"]
        assert list(app.state.studio.workspace.root.rglob("*.upload")) == []
    assert not app.state.studio.workspace.root.exists()


def test_a_picture_over_the_pixel_limit(tmp_path, studio_media):
    from rest_video.studio.app import StudioSettings, create_app

    app = create_app(StudioSettings(max_megapixels=0.01, root=str(tmp_path),
                                    camera=str(studio_media["clip"])))
    with client(app) as c:
        r = upload(c, studio_media["style"], role="style")   # 128 x 96 = 0.012 MP
        assert r.status_code == 400 and "128 x 96 pixels" in r.json()["error"]
        r = upload(c, studio_media["clip"])                   # 160 x 96
        assert r.status_code == 400 and "160 x 96" in r.json()["error"]
