"""Live: the feed over a WebSocket from a file camera, latency reports, controls, the browser camera."""

from __future__ import annotations

import io
import json
import struct
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")
from PIL import Image
from studio_helpers import STATE, client, ws_url
from studio_media import jpeg_bytes

from rest_video.studio.live import LiveFeed


def frames_from_feed(c, count: int) -> list[tuple[float, np.ndarray]]:
    got = []
    with c.websocket_connect(ws_url("/live/ws")) as ws:
        while len(got) < count:
            msg = ws.receive()
            assert "bytes" in msg and msg["bytes"] is not None, msg
            data = msg["bytes"]
            (t,) = struct.unpack("<d", data[:8])
            got.append((t, np.asarray(Image.open(io.BytesIO(data[8:])).convert("RGB")).astype(int)))
            ws.send_text(json.dumps({"latency_ms": 1000 * (time.time() - t)}))
    return got


def test_the_feed_sends_stylized_frames_that_move_with_capture_times(app, web):
    got = frames_from_feed(web, 6)
    assert all(f.shape == (96, 160, 3) for _, f in got)
    assert max(np.abs(got[0][1] - f).mean() for _, f in got[1:]) > 1     # the picture changes
    times = [t for t, _ in got]
    assert times == sorted(times) and abs(times[-1] - time.time()) < 10
    status = web.get("/api/live/status").json()
    assert status["latency_ms"] is not None and 0 <= status["latency_ms"] < 5000
    assert status["process_ms"] is not None and status["error"] is None


def test_controls_change_the_feed(app, web):
    before = frames_from_feed(web, 2)[-1][1]
    r = web.post("/api/live/settings", json={"strength": 0.0}, headers=STATE)
    assert r.status_code == 200 and r.json()["strength"] == 0.0
    zero = frames_from_feed(web, 3)[-1][1]
    assert np.abs(before - zero).mean() > 3
    for body, words in [({"strength": 2}, "strength must be in 0..1"),
                        ({"pipeline": "nope"}, "unknown pipeline"), ({"style": "../../x"}, "unknown upload")]:
        r = web.post("/api/live/settings", json=body, headers=STATE)
        assert r.status_code == 400 and words in r.json()["error"]
    web.post("/api/live/settings", json={"strength": 1.0, "style": "builtin:dune"}, headers=STATE)


def test_a_missing_camera_is_one_line_on_the_socket(tmp_path):
    from rest_video.studio.app import StudioSettings, create_app

    app = create_app(StudioSettings(camera=str(tmp_path / "no-such.mp4"), root=str(tmp_path)))
    with client(app) as c, c.websocket_connect(ws_url("/live/ws")) as ws:
        msg = ws.receive_json()
        assert "neither a camera index nor an existing video file" in msg["error"]
        assert c.get("/api/info").status_code == 200


def test_the_browser_camera_round_trip(web):
    rgb = np.zeros((72, 128, 3), np.uint8)
    rgb[:, :64] = (200, 120, 40)
    rgb[:, 64:] = (40, 90, 180)
    with web.websocket_connect(ws_url("/live/camera?style=builtin:dune&strength=1")) as ws:
        for _ in range(3):
            ws.send_bytes(jpeg_bytes(rgb))
            data = ws.receive_bytes()
            (ms,) = struct.unpack("<d", data[:8])
            out = np.asarray(Image.open(io.BytesIO(data[8:])).convert("RGB")).astype(int)
            assert out.shape == rgb.shape and ms > 0
        assert np.abs(out - rgb).mean() > 3
        ws.send_bytes(b"not a jpeg")
        assert "not a JPEG" in ws.receive_json()["error"]


def test_the_feed_stops_with_its_last_viewer(app, studio_media):
    s = app.state.studio
    live = LiveFeed(s.engine, str(studio_media["clip"]), s.builtin_styles["dune"])
    live.join()
    assert live.next_frame(0, timeout=20) is not None
    live.leave()
    live._thread.join(timeout=5)
    assert not live.status()["running"]


@pytest.mark.parametrize("ms", [-1, 1e9])
def test_absurd_latency_reports_are_ignored(app, ms):
    live = app.state.studio.live
    n = len(live._shown)
    live.report(ms)
    assert len(live._shown) == n
