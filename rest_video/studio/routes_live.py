"""Live routes: ``/live`` (the feed with controls), ``/live/feed`` (the bare feed for OBS's Browser
Source), the feed's WebSocket and the browser-camera WebSocket.

A feed message is binary: 8 bytes, the frame's capture time (float64 little-endian, seconds on the
server's wall clock), then the JPEG. The page answers ``{"shown": capture_time, "latency_ms": x}``
once it has decoded and shown the frame, and :class:`~rest_video.studio.live.LiveFeed` keeps the
figures the control page shows.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from rest_video.core.errors import RestVideoError
from rest_video.studio.routes import number, page, pipeline, studio, style_path


async def live_status(request: Request) -> JSONResponse:
    return JSONResponse(studio(request).live.status(), headers={"cache-control": "no-store"})


async def live_settings(request: Request) -> JSONResponse:
    body = await request.json()
    if not isinstance(body, dict):
        raise RestVideoError("the request is not a JSON object")
    live = studio(request).live
    style = style_path(request, str(body["style"])) if body.get("style") else None
    strength = number(str(body["strength"]), "strength", 1.0, 0.0, 1.0) if "strength" in body else None
    name = pipeline(body["pipeline"]) if body.get("pipeline") else None
    live.set(style=style, strength=strength, pipeline=name)
    return JSONResponse(live.status())


async def feed_socket(ws: WebSocket) -> None:
    live = ws.app.state.studio.live
    await ws.accept()
    live.join()
    seq = 0

    async def reader():
        while True:
            msg = await ws.receive_text()
            try:
                live.report(float(json.loads(msg)["latency_ms"]))
            except (ValueError, KeyError, TypeError):
                continue

    task = asyncio.create_task(reader())
    try:
        while not task.done():
            got = await anyio.to_thread.run_sync(live.next_frame, seq, 1.0)
            if got is None:
                if live.error:
                    await ws.send_json({"error": live.error})
                    await asyncio.sleep(1.0)
                continue
            seq, wall, jpeg = got
            await ws.send_bytes(struct.pack("<d", wall) + jpeg)
    except (WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
        pass
    finally:
        task.cancel()
        live.leave()


async def camera_socket(ws: WebSocket) -> None:
    """The page's own camera: JPEGs in, stylized JPEGs out (one at a time: the page sends the next
    frame when the last one came back, so frames never queue up)."""
    from rest_video.studio.live import BrowserCamera

    s = ws.app.state.studio
    await ws.accept()
    q = ws.query_params
    cam = None
    try:
        style = style_path(ws, q.get("style") or next(f"builtin:{k}" for k in s.builtin_styles))
        strength = number(q.get("strength"), "strength", 1.0, 0.0, 1.0)
        name = pipeline(q.get("pipeline"))
        cam = await anyio.to_thread.run_sync(lambda: BrowserCamera(s.engine, style, name, strength))
        while True:
            data = await ws.receive_bytes()
            t0 = time.perf_counter()
            out = await anyio.to_thread.run_sync(cam, data)
            await ws.send_bytes(struct.pack("<d", 1000 * (time.perf_counter() - t0)) + out)
    except RestVideoError as e:
        await ws.send_json({"error": str(e)})
        await ws.close()
    except (WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
        pass
    finally:
        if cam is not None:
            cam.close()


def live_routes() -> list:
    return [
        Route("/live", page("live.html")),
        Route("/live/feed", page("feed.html")),
        Route("/api/live/status", live_status),
        Route("/api/live/settings", live_settings, methods=["POST"]),
        WebSocketRoute("/live/ws", feed_socket),
        WebSocketRoute("/live/camera", camera_socket),
    ]
