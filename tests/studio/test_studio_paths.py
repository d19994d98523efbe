"""No path ever comes from the client: ids only, checked, and scoped to the session."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")
from studio_helpers import STATE, client, upload

from rest_video.core.errors import MediaError
from rest_video.studio.workspace import Workspace, check_id

ATTEMPTS = ["../../../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd", "a/../../b", "..",
            "0123456789abcdef/../../x", "C:\\Windows\\win.ini", "%00", ""]


@pytest.mark.parametrize("bad", ATTEMPTS)
def test_traversal_in_ids_is_refused(web, bad):
    for path, params in [("/api/frame", {"content": bad}),
                         ("/api/preview", {"content": bad, "style": "builtin:dune"})]:
        r = web.get(path, params=params)
        assert r.status_code == 400, (path, bad)
        assert "unknown upload" in r.json()["error"]
    r = web.get("/api/preview", params={"content": bad, "style": bad})
    assert r.status_code == 400 and "passwd" not in r.text
    r = web.post("/api/jobs", json={"kind": "render", "content": bad, "style": "builtin:dune"}, headers=STATE)
    assert r.status_code == 400


@pytest.mark.parametrize("url", ["/api/jobs/..%2F..%2F..%2Fetc%2Fpasswd/download",
                                 "/api/jobs/../../etc/passwd", "/static/../security.py",
                                 "/static/..%2Fsecurity.py", "/static/%2e%2e/app.py",
                                 "/api/styles/builtin:..%2F..%2Fweights%2Frest_16x5/thumb",
                                 "/api/styles/..%2F..%2Fetc%2Fpasswd/thumb"])
def test_traversal_in_urls_is_refused(web, url):
    r = web.get(url)
    assert r.status_code in (400, 404), url
    assert "root:" not in r.text and "import" not in r.text


def test_another_sessions_upload_and_job_are_unknown(app, studio_media):
    a, b = client(app), client(app)
    cid = upload(a, studio_media["clip"]).json()["id"]
    assert a.get("/api/frame", params={"content": cid}).status_code == 200
    r = b.get("/api/frame", params={"content": cid})
    assert r.status_code == 400 and "unknown upload" in r.json()["error"]
    jid = a.post("/api/jobs", json={"kind": "cube", "content": cid, "style": "builtin:dune"},
                 headers=STATE).json()["id"]
    assert b.post(f"/api/jobs/{jid}/cancel", headers=STATE).status_code == 400
    assert b.get(f"/api/jobs/{jid}/download").json()["error"] == "unknown job"


def test_check_id():
    assert check_id("0123456789abcdef") == "0123456789abcdef"
    for bad in ATTEMPTS + ["0123456789ABCDEF", "0123456789abcdeg"]:
        with pytest.raises(MediaError):
            check_id(bad)


def test_sessions_are_swept_after_their_age_and_the_run_removed_on_close(tmp_path):
    ws = Workspace(tmp_path, max_age=60)
    old, fresh = ws.session(None), ws.session(None)
    (old.uploads / "x.mp4").write_bytes(b"x")
    old.last_seen = time.time() - 120
    assert ws.sweep() == [old.id]
    assert not old.folder.exists() and fresh.folder.is_dir()
    assert ws.session(old.id).id != old.id            # a swept session's cookie starts a new one
    ws.close()
    assert not ws.root.exists() and tmp_path.is_dir()


def test_inside_refuses_paths_outside_the_run(tmp_path):
    ws = Workspace(tmp_path)
    s = ws.session(None)
    assert ws.inside(s.uploads / "a.mp4") == (s.uploads / "a.mp4").resolve()
    with pytest.raises(MediaError):
        ws.inside(s.uploads / ".." / ".." / ".." / "etc" / "passwd")
    ws.close()
