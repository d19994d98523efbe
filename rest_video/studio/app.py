"""The studio's ASGI app: :func:`create_app` wires the pieces and the routes together.

    app = create_app(StudioSettings(camera="samples/street.mp4"))
    uvicorn.run(app, host="127.0.0.1", port=8765)

Every user error (a :class:`~rest_video.core.errors.RestVideoError`) is a JSON ``{"error": line}``
with status 400; anything else is logged with its traceback on the server and the page gets one
line. The run's files are removed when the app stops (its lifespan), and idle sessions are swept
every minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from rest_video.core.errors import RestVideoError
from rest_video.studio.jobs import JobQueue, internal_error
from rest_video.studio.preview import PreviewEngine
from rest_video.studio.security import TOKEN_COOKIE, StudioGuard
from rest_video.studio.uploads import Uploads
from rest_video.studio.workspace import SESSION_COOKIE, Workspace

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class StudioSettings:
    """What ``rest-video studio`` is started with."""

    token: str | None = None            # required on every request when set
    loopback: bool = True               # bound to a loopback address (Host header checked)
    camera: str = "0"                   # live feed source: a camera index or a video file
    root: str | None = None             # parent of the run's folder (None: the system's temp folder)
    max_age: float = 24 * 3600          # seconds an idle session's files are kept
    max_upload_mb: int = 512
    max_megapixels: float = 40.0
    sweep_every: float = 60.0


class Studio:
    """Everything one running studio holds (``app.state.studio``)."""

    def __init__(self, settings: StudioSettings) -> None:
        from rest_video.resources import styles_dir

        self.settings = settings
        self.workspace = Workspace(settings.root, settings.max_age)
        self.uploads = Uploads(settings.max_upload_mb * 2**20, int(settings.max_megapixels * 1e6))
        self.engine = PreviewEngine()
        self.jobs = JobQueue()
        self.builtin_styles = {p.stem: p for p in sorted(styles_dir().glob("*.jpg"))}
        from rest_video.studio.live import LiveFeed

        first = next(iter(self.builtin_styles.values()))
        self.live = LiveFeed(self.engine, settings.camera, first)

    def sweep(self) -> list[str]:
        gone = self.workspace.sweep()
        if gone:
            self.uploads.forget(gone)
            self.jobs.forget(gone)
        return gone

    def close(self) -> None:
        self.live.close()
        self.jobs.close()
        self.workspace.close()


class SessionCookie:
    """ASGI middleware: each browser gets a session (its own folder) through a cookie, and a valid
    ``?token=`` is kept as an HttpOnly cookie so the page's own requests carry it."""

    def __init__(self, app, studio: Studio) -> None:
        self.app, self.studio = app, studio

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        cookie = SimpleCookie()
        for k, v in scope.get("headers", []):
            if k == b"cookie":
                with contextlib.suppress(Exception):
                    cookie.load(v.decode("latin-1"))
        sid = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
        new = not self.studio.workspace.known(sid)
        session = self.studio.workspace.session(sid)
        scope.setdefault("state", {})["session"] = session
        set_cookies = []
        if new:
            set_cookies.append(f"{SESSION_COOKIE}={session.id}; Path=/; HttpOnly; SameSite=Strict")
        token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if token and self.studio.settings.token:  # StudioGuard let it through: it is the right one
            set_cookies.append(f"{TOKEN_COOKIE}={token[0]}; Path=/; HttpOnly; SameSite=Strict")

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start" and set_cookies:
                message = {**message, "headers": list(message.get("headers", []))
                           + [(b"set-cookie", c.encode("latin-1")) for c in set_cookies]}
            await send(message)

        await self.app(scope, receive, send_with_cookie if scope["type"] == "http" else send)


async def _user_error(request: Request, exc: Exception) -> JSONResponse:
    line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return JSONResponse({"error": line}, status_code=400)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("studio: %s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": internal_error(exc)}, status_code=500)


def create_app(settings: StudioSettings | None = None) -> Starlette:
    """The studio as an ASGI app (guarded, with sessions); ``app.state.studio`` holds its state."""
    from rest_video.studio.routes import routes
    from rest_video.studio.routes_live import live_routes

    settings = settings or StudioSettings()
    studio = Studio(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def sweeper():
            while True:
                await asyncio.sleep(settings.sweep_every)
                studio.sweep()

        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            studio.close()

    app = Starlette(routes=routes() + live_routes(), lifespan=lifespan,
                    exception_handlers={RestVideoError: _user_error, HTTPException: _http_error,
                                        Exception: _internal_error})
    app.state.studio = studio
    app.add_middleware(SessionCookie, studio=studio)
    app.add_middleware(StudioGuard, token=settings.token, loopback=settings.loopback)
    return app
