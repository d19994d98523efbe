"""The render queue: stylize_file with progress, download, cancel, order, reloads, two sessions."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")

import io
import time

import av
import numpy as np
from studio_helpers import STATE, client, upload, wait_job, ws_url


def submit(c, **body):
    r = c.post("/api/jobs", json={"kind": "render", "style": "builtin:evening-glow", **body}, headers=STATE)
    assert r.status_code == 200, r.text
    return r.json()


def frames_and_audio(data: bytes) -> tuple[list[np.ndarray], int]:
    with av.open(io.BytesIO(data)) as c:
        audio = len(c.streams.audio)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames, audio


def test_render_download_and_its_frames_and_audio(web, studio_media):
    cid = upload(web, studio_media["clip"]).json()["id"]
    job = submit(web, content=cid, strength=0.8)
    assert job["total"] == 12 and job["status"] in ("queued", "running")
    done = wait_job(web, job["id"])
    assert done["status"] == "done", done
    assert (done["frames"], done["percent"], done["download"]) == (12, 100.0, True)
    r = web.get(f"/api/jobs/{job['id']}/download")
    assert r.status_code == 200 and 'filename="clip-evening-glow.mp4"' in r.headers["content-disposition"]
    frames, audio = frames_and_audio(r.content)
    assert len(frames) == 12 and frames[0].shape == (96, 160, 3) and audio == 1
    src, _ = frames_and_audio(studio_media["clip"].read_bytes())
    assert np.abs(frames[0].astype(int) - src[0]).mean() > 3          # stylized, not copied
    inline = web.get(f"/api/jobs/{job['id']}/download?inline=1")
    assert inline.headers["content-disposition"].startswith("inline") and inline.content == r.content


def test_a_photo_renders_to_a_photo(web, studio_media):
    cid = upload(web, studio_media["cool"]).json()["id"]
    done = wait_job(web, submit(web, content=cid)["id"])
    assert done["status"] == "done" and done["media"] == "image" and done["name"].endswith(".jpg")


def test_cancel_leaves_no_partial_file_and_the_queue_goes_on(app, web, studio_media):
    cid = upload(web, studio_media["long"]).json()["id"]
    first, second = submit(web, content=cid), submit(web, content=cid, strength=0.5)
    assert web.get("/api/jobs").json()[-1]["status"] == "queued"        # one after another
    running = wait_job(web, first["id"], until=("running",))
    while running["frames"] < 2:
        running = {j["id"]: j for j in web.get("/api/jobs").json()}[first["id"]]
        time.sleep(0.05)
    assert web.post(f"/api/jobs/{second['id']}/cancel", headers=STATE).json()["status"] == "cancelled"
    assert web.post(f"/api/jobs/{first['id']}/cancel", headers=STATE).status_code == 200
    gone = wait_job(web, first["id"])
    assert gone["status"] == "cancelled" and gone["frames"] < 120 and not gone["download"]
    outputs = [p for p in app.state.studio.workspace.root.rglob("outputs/*")]
    assert not any(first["id"] in p.name or second["id"] in p.name or ".part" in p.name for p in outputs)
    r = web.get(f"/api/jobs/{first['id']}/download")
    assert r.json()["error"] == "this job has no output to download"
    third = submit(web, content=upload(web, studio_media["other"]).json()["id"])
    assert wait_job(web, third["id"])["status"] == "done"


def test_two_sessions_render_at_once_without_mixing(app, studio_media):
    a, b = client(app), client(app)
    ja = submit(a, content=upload(a, studio_media["clip"]).json()["id"])
    jb = submit(b, content=upload(b, studio_media["other"]).json()["id"], style="builtin:dune")
    assert [j["id"] for j in a.get("/api/jobs").json()] == [ja["id"]]
    assert [j["id"] for j in b.get("/api/jobs").json()] == [jb["id"]]
    assert wait_job(a, ja["id"])["status"] == wait_job(b, jb["id"])["status"] == "done"
    fa, _ = frames_and_audio(a.get(f"/api/jobs/{ja['id']}/download").content)
    fb, _ = frames_and_audio(b.get(f"/api/jobs/{jb['id']}/download").content)
    assert (len(fa), fa[0].shape, len(fb), fb[0].shape) == (12, (96, 160, 3), 6, (80, 128, 3))


def test_jobs_survive_a_reload_and_progress_is_pushed(web, studio_media):
    cid = upload(web, studio_media["clip"]).json()["id"]
    job = submit(web, content=cid)
    seen = []
    with web.websocket_connect(ws_url("/ws/jobs")) as ws:       # what a page opened now receives
        while True:
            mine = [j for j in ws.receive_json() if j["id"] == job["id"]]
            seen.append((mine[0]["status"], mine[0]["frames"]))
            if mine[0]["status"] in ("done", "failed"):
                break
    assert seen[-1] == ("done", 12)
    assert [f for _, f in seen] == sorted(f for _, f in seen)         # progress only goes forward
    again = client(web.app, cookies=web.cookies)                  # a reloaded page: same cookie, same list
    assert job["id"] in [j["id"] for j in again.get("/api/jobs").json()]


def test_cube_export(web, studio_media):
    cid = upload(web, studio_media["clip"]).json()["id"]
    done = wait_job(web, submit(web, kind="cube", content=cid, strength=0.7)["id"])
    assert done["status"] == "done" and done["name"] == "evening-glow.cube"
    text = web.get(f"/api/jobs/{done['id']}/download").text.splitlines()
    assert text[0] == 'TITLE "evening-glow"' and text[1] == "LUT_3D_SIZE 33" and len(text) == 4 + 33 ** 3


def test_bad_jobs_get_one_line(web):
    r = web.post("/api/jobs", content=b"{not json", headers=STATE)
    assert r.status_code == 400 and r.json()["error"] == "the request is not JSON"
    r = web.post("/api/jobs", json={"kind": "render", "content": "0123456789abcdef", "style": "builtin:dune"},
                 headers=STATE)
    assert r.status_code == 400 and "unknown upload" in r.json()["error"]
    r = web.post("/api/jobs", json={"kind": "batch", "contents": [], "style": "builtin:dune"}, headers=STATE)
    assert r.status_code == 400 and "choose the files" in r.json()["error"]


def test_a_failing_job_reports_one_line_and_the_queue_goes_on(app, web, studio_media, monkeypatch):
    from rest_video.studio import work

    def broken(*a, **k):
        raise ZeroDivisionError("deep inside")

    monkeypatch.setattr(work, "render", broken)
    cid = upload(web, studio_media["other"]).json()["id"]
    failed = wait_job(web, submit(web, content=cid)["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == "internal error (ZeroDivisionError); see the studio's log"
    monkeypatch.undo()
    assert wait_job(web, submit(web, content=cid)["id"])["status"] == "done"


def test_batch_of_the_sessions_uploads_through_the_batch_engine(web, studio_media):
    import zipfile

    ids = [upload(web, studio_media[k]).json()["id"] for k in ("other", "cool")]
    r = web.post("/api/jobs", json={"kind": "batch", "contents": ids, "style": "builtin:dune"}, headers=STATE)
    done = wait_job(web, r.json()["id"], timeout=120)
    assert done["status"] == "done", done
    with zipfile.ZipFile(io.BytesIO(web.get(f"/api/jobs/{done['id']}/download").content)) as z:
        names = sorted(z.namelist())
        assert names == ["000-other.mp4", "001-cool.jpg"]
        frames, _ = frames_and_audio(z.read("000-other.mp4"))
    assert len(frames) == 6
