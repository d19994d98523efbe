"""Who may talk to the studio: the token off loopback, the Host header, other sites' requests."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the [studio] extra is not installed")
from starlette.websockets import WebSocketDisconnect
from studio_helpers import STATE, client, ws_url

from rest_video.studio.security import is_loopback


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, studio_media):
    from rest_video.studio.app import StudioSettings, create_app

    app = create_app(StudioSettings(token="s3cret-token", loopback=False, camera=str(studio_media["clip"]),
                                    root=str(tmp_path_factory.mktemp("guarded"))))
    with client(app, base_url="http://192.168.1.20:8765"):
        yield app


@pytest.mark.parametrize("path", ["/", "/live", "/live/feed", "/static/look.js", "/api/info", "/api/jobs",
                                  "/api/styles/builtin:dune/thumb", "/api/live/status"])
def test_every_request_needs_the_token_off_loopback(guarded, path):
    c = client(guarded, base_url="http://192.168.1.20:8765")
    r = c.get(path)
    assert r.status_code == 401 and "token" in r.json()["error"]
    assert c.get(path, params={"token": "wrong"}).status_code == 401
    assert c.get(path, headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_the_token_in_the_address_becomes_a_cookie(guarded):
    c = client(guarded, base_url="http://192.168.1.20:8765")
    assert c.get("/?token=s3cret-token").status_code == 200
    assert c.get("/api/info").status_code == 200          # the cookie carries it now
    assert client(guarded, base_url="http://192.168.1.20:8765").get("/api/info").status_code == 401


def test_websockets_need_the_token_too(guarded):
    c = client(guarded, base_url="http://192.168.1.20:8765")
    with pytest.raises(WebSocketDisconnect) as e:
        with c.websocket_connect(ws_url("/ws/jobs", "http://192.168.1.20:8765")) as ws:
            ws.receive_json()
    assert e.value.code == 4403
    with c.websocket_connect(ws_url("/ws/jobs?token=s3cret-token", "http://192.168.1.20:8765")) as ws:
        assert ws.receive_json() == []


def test_loopback_answers_localhost_names_only(app):
    assert client(app).get("/api/info").status_code == 200
    assert client(app, base_url="http://localhost:8765").get("/api/info").status_code == 200
    r = client(app, base_url="http://rebound.example.com:8765").get("/api/info")   # DNS rebinding
    assert r.status_code == 403 and "localhost only" in r.json()["error"]


def test_state_changes_need_the_studio_header(app, studio_media):
    c = client(app)
    r = c.post("/api/upload?role=style", content=studio_media["style"].read_bytes())
    assert r.status_code == 403 and "x-rest-video-studio" in r.json()["error"]
    assert c.post("/api/jobs", json={"kind": "render"}).status_code == 403
    assert c.post("/api/upload?role=style", content=studio_media["style"].read_bytes(),
                  headers=STATE).status_code == 200


def test_websocket_from_another_site_is_refused(app):
    c = client(app)
    with pytest.raises(WebSocketDisconnect):
        with c.websocket_connect(ws_url("/ws/jobs"), headers={"Origin": "http://evil.example"}) as ws:
            ws.receive_json()
    with c.websocket_connect(ws_url("/ws/jobs"), headers={"Origin": "http://127.0.0.1:8765"}) as ws:
        assert isinstance(ws.receive_json(), list)


def test_is_loopback():
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.1.2.3"))
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.com")
