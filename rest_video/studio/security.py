"""Who may talk to the studio: the access token, the Host header and the browser's Origin.

Bound to a loopback address (the default), the studio needs no token: only this machine reaches
it. On any other address a token is required (the command makes one when none is given) and every
request, WebSockets and static files included, must carry it: ``?token=...`` once (the page then
keeps it in an HttpOnly cookie), a ``Authorization: Bearer ...`` header, or that cookie.

Two browser attacks are closed whatever the address:

- a web page elsewhere posting to ``http://127.0.0.1:8765`` (cross-site request forgery): every
  request that changes state must carry the ``X-Rest-Video-Studio`` header, which a foreign page
  cannot send without a CORS preflight that this server never answers; a WebSocket whose Origin is
  not this server is refused;
- DNS rebinding (a foreign name that resolves to 127.0.0.1): on a loopback bind, the Host header
  must name a loopback host.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

TOKEN_COOKIE = "rest_video_token"
STATE_HEADER = "x-rest-video-studio"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh access token (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if ":" in host else host


class StudioGuard:
    """ASGI middleware in front of the whole app (HTTP and WebSocket).

    Args:
        app: the ASGI app it guards.
        token: required on every request when not None.
        loopback: the server is bound to a loopback address (the Host header must then be one).
    """

    def __init__(self, app, token: str | None, loopback: bool) -> None:
        self.app, self.token, self.loopback = app, token, loopback

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        why, status = self.refusal(scope, headers)
        if why is None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await receive()  # the websocket.connect message
            return await send({"type": "websocket.close", "code": 4403, "reason": why})
        body = json.dumps({"error": why}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def refusal(self, scope, headers: dict[str, str]) -> tuple[str | None, int]:
        """(one-line reason, HTTP status) when the request is refused, else (None, 200)."""
        host = _host_name(headers.get("host", ""))
        if self.loopback and host and not is_loopback(host):
            return f"this studio answers on localhost only, not on {host!r}", 403
        if self.token is not None and not self._has_token(scope, headers):
            return "a valid token is needed: open the address the studio printed (with ?token=...)", 401
        if scope["type"] == "websocket":
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
                return "WebSocket from another site refused", 403
        elif scope.get("method", "GET") not in SAFE_METHODS and STATE_HEADER not in headers:
            return f"missing the {STATE_HEADER} header (requests from other sites are refused)", 403
        return None, 200

    def _has_token(self, scope, headers: dict[str, str]) -> bool:
        given = []
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given += query.get("token", [])
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given.append(auth[7:].strip())
        if "cookie" in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(headers["cookie"])
            except Exception:  # noqa: BLE001 - a malformed cookie header is just no token
                cookie = SimpleCookie()
            if TOKEN_COOKIE in cookie:
                given.append(cookie[TOKEN_COOKIE].value)
        return any(secrets.compare_digest(g.encode(), self.token.encode()) for g in given)
