"""The studio's pages and HTTP API (looks, uploads, previews, jobs); live routes are in routes_live.

Ids only, never paths: every file a request names is an upload id, a job id or a shipped style's
name, looked up on the server (:mod:`rest_video.studio.workspace`).
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from urllib.parse import unquote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from rest_video.core.errors import ConfigError, MediaError
from rest_video.studio.jobs import Job
from rest_video.studio.preview import studio_pipelines

STATIC = Path(__file__).parent / "static"
NO_STORE = {"cache-control": "no-store"}


def studio(request):
    """The :class:`~rest_video.studio.app.Studio` of the app that took ``request`` (or WebSocket)."""
    return request.app.state.studio


def session(request):
    """The browser session (:class:`~rest_video.studio.workspace.Session`) of ``request``."""
    return request.scope["state"]["session"]


def page(name: str):
    async def handler(request: Request) -> Response:
        return FileResponse(STATIC / name, headers=NO_STORE)
    return handler


def number(value: str | None, name: str, default: float, lo: float, hi: float) -> float:
    """A query number within [lo, hi], or one clear line."""
    if value is None or value == "":
        return default
    try:
        x = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise ConfigError(f"{name} must be in {lo:g}..{hi:g}")
    return x


def style_path(request, sid: str) -> Path:
    """A style by id: ``builtin:<name>`` (a shipped photo) or an uploaded photo's id."""
    return style_and_name(request, sid)[0]


def style_and_name(request, sid: str) -> tuple[Path, str]:
    """(file, name to show) of a style id."""
    s = studio(request)
    if sid.startswith("builtin:"):
        path = s.builtin_styles.get(sid[len("builtin:"):])
        if path is None:
            raise MediaError("unknown style")
        return path, path.stem
    up = s.uploads.get(session(request), sid, kind="image")
    return up.path, Path(up.name).stem[:40] or "style"


def pipeline(value: str | None) -> str:
    name = value or "default"
    if name not in studio_pipelines():
        raise ConfigError(f"unknown pipeline {name!r} (choose one of {', '.join(studio_pipelines())})")
    return name


# -- info, styles, uploads --------------------------------------------------------------------
async def info(request: Request) -> JSONResponse:
    from rest_video import __version__

    s = studio(request)
    return JSONResponse({
        "version": __version__, "pipelines": studio_pipelines(),
        "styles": [{"id": f"builtin:{k}", "name": k} for k in s.builtin_styles],
        "uploads": [u.public() for u in s.uploads.of_session(session(request))],
        "max_upload_mb": s.settings.max_upload_mb, "camera": camera_name(s.settings.camera)},
        headers=NO_STORE)


def camera_name(spec: str) -> str:
    """How the page names the live source: "camera 0", or the video file's name (not its folder)."""
    return f"camera {spec}" if spec.strip().isdigit() else Path(spec).name


async def style_thumb(request: Request) -> Response:
    from rest_video.io.image import read_image
    from rest_video.studio.preview import encode_jpeg

    path = style_path(request, request.path_params["sid"])
    jpeg = await anyio.to_thread.run_sync(lambda: encode_jpeg(read_image(path, 240), 80))
    return Response(jpeg, media_type="image/jpeg")


async def upload(request: Request) -> JSONResponse:
    s = studio(request)
    declared = request.headers.get("content-length")
    name = unquote(request.headers.get("x-filename", ""))
    role = request.query_params.get("role", "content")
    up = await s.uploads.receive(session(request), request.stream(), name, role,
                                 int(declared) if declared and declared.isdigit() else None)
    return JSONResponse(up.public())


# -- frames and previews ----------------------------------------------------------------------
def _content(request):
    up = studio(request).uploads.get(session(request), request.query_params.get("content", ""))
    index = int(number(request.query_params.get("frame"), "frame", 0, 0, max(0, up.frames - 1)))
    return up, index


async def frame(request: Request) -> Response:
    up, index = _content(request)
    engine = studio(request).engine
    jpeg = await anyio.to_thread.run_sync(engine.original, up.path, index, up.kind == "video")
    return Response(jpeg, media_type="image/jpeg", headers=NO_STORE)


async def preview(request: Request) -> Response:
    q = request.query_params
    up, index = _content(request)
    style = style_path(request, q.get("style", ""))
    strength = number(q.get("strength"), "strength", 1.0, 0.0, 1.0)
    quality = q.get("quality", "lut")
    name = pipeline(q.get("pipeline"))
    engine = studio(request).engine
    jpeg, ms = await anyio.to_thread.run_sync(
        lambda: engine.render(name, up.path, index, up.kind == "video", style, strength, quality))
    return Response(jpeg, media_type="image/jpeg",
                    headers={**NO_STORE, "x-preview-ms": f"{ms:.1f}", "x-preview-quality": quality})


# -- jobs -------------------------------------------------------------------------------------
async def submit_job(request: Request) -> JSONResponse:
    from rest_video.studio import work

    s, sess = studio(request), session(request)
    try:
        body = await request.json()
    except Exception:  # noqa: BLE001 - not JSON
        raise ConfigError("the request is not JSON") from None
    if not isinstance(body, dict):
        raise ConfigError("the request is not a JSON object")
    kind = body.get("kind", "render")
    name = pipeline(body.get("pipeline"))
    strength = number(str(body.get("strength", 1.0)), "strength", 1.0, 0.0, 1.0)
    style, look = style_and_name(request, str(body.get("style", "")))
    engine = s.engine
    job_out = sess.outputs
    if kind == "batch":
        ids = body.get("contents") or []
        if not isinstance(ids, list) or not ids:
            raise MediaError("choose the files to batch")
        ups = [s.uploads.get(sess, str(i)) for i in ids]
        job = Job(sess.id, "batch", f"batch of {len(ups)} files, {look}", work=None,
                  download_name=f"batch-{look}.zip")
        contents = [(u.path, u.name) for u in ups]
        job.work = lambda j: work.batch(j, name, contents, style, job_out / j.id, job_out / f"{j.id}.zip",
                                        strength)
    else:
        up = s.uploads.get(sess, str(body.get("content", "")))
        stem = Path(up.name).stem[:40] or "output"
        if kind == "render":
            ext = up.path.suffix if up.kind == "image" else ".mp4"
            job = Job(sess.id, "render", f"{up.name} in {look} ({name}, {strength:.2f})", work=None,
                      download_name=f"{stem}-{look}{ext}", total=up.frames)
            job.work = lambda j: work.render(j, engine, name, up.path, style, job_out / f"{j.id}{ext}",
                                             strength)
        elif kind == "cube":
            job = Job(sess.id, "cube", f".cube of {look} ({name}, {strength:.2f})", work=None,
                      download_name=f"{look}.cube")
            job.work = lambda j: work.export_cube(j, engine, name, up.path, style, job_out / f"{j.id}.cube",
                                                  strength, title=look)
        else:
            raise ConfigError(f"unknown job kind {kind!r}")
    s.jobs.submit(job)
    return JSONResponse(job.public())


async def list_jobs(request: Request) -> JSONResponse:
    return JSONResponse(studio(request).jobs.of_session(session(request).id), headers=NO_STORE)


async def cancel_job(request: Request) -> JSONResponse:
    job = studio(request).jobs.cancel(session(request).id, request.path_params["jid"])
    return JSONResponse(job.public())


async def download(request: Request) -> Response:
    s = studio(request)
    job = s.jobs.get(session(request).id, request.path_params["jid"])
    if job.status != "done" or job.output is None or not job.output.is_file():
        raise MediaError("this job has no output to download")
    path = s.workspace.inside(job.output)
    inline = request.query_params.get("inline") == "1"
    return FileResponse(path, filename=job.download_name,
                        content_disposition_type="inline" if inline else "attachment")


async def jobs_socket(ws: WebSocket) -> None:
    """Pushes the session's job list whenever a job changes (and twice a second while one runs)."""
    s, sid = ws.app.state.studio, ws.scope["state"]["session"].id
    await ws.accept()
    version, last = -1, None
    try:
        while True:
            version = await anyio.to_thread.run_sync(s.jobs.wait_change, version, 0.5)
            now = s.jobs.of_session(sid)
            if now != last:
                await ws.send_json(now)
                last = now
    except (WebSocketDisconnect, asyncio.CancelledError, RuntimeError):
        return


def routes() -> list:
    return [
        Route("/", page("index.html")),
        Route("/api/info", info),
        Route("/api/styles/{sid}/thumb", style_thumb),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/frame", frame),
        Route("/api/preview", preview),
        Route("/api/jobs", list_jobs, methods=["GET"]),
        Route("/api/jobs", submit_job, methods=["POST"]),
        Route("/api/jobs/{jid}/cancel", cancel_job, methods=["POST"]),
        Route("/api/jobs/{jid}/download", download),
        WebSocketRoute("/ws/jobs", jobs_socket),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
