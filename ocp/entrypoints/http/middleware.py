"""Pure ASGI middleware (no BaseHTTPMiddleware: it halves throughput): request ids and the
response headers every reply carries. Body limits are the routes' (`routing.GuardedRoute`)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocp.entrypoints.http.observability import REQUEST_ID

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestContext:
    """Gives every response `X-Request-ID` (the client's, when it is sane), `nosniff`,
    `Referrer-Policy`, and `Cache-Control: no-store` when the request was authenticated."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        authenticated = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _SAFE_REQUEST_ID.match(candidate):
                    request_id = candidate
            elif name == b"authorization":
                authenticated = True
        request_id = request_id or secrets.token_hex(12)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # Every line logged while serving it carries it (observability.RequestIdFilter). Each
        # request runs in its own task, so the value ends with it.
        REQUEST_ID.set(request_id)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if authenticated and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                if state.get("close_connection") and b"connection" not in present:
                    # A body refused unread is not drained: the server closes instead.
                    headers.append((b"connection", b"close"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CorsForAllowedOrigins:
    """Starlette's CORS middleware, reached only by requests from an allowed origin. On its own
    it still gives a foreign origin `Access-Control-Expose-Headers` and answers a foreign
    preflight with the allowed methods and headers; the contract says others get no CORS
    headers at all. Their answers still say `Vary: Origin`, so no cache hands one origin's
    answer to another."""

    def __init__(self, app: ASGIApp, allow_origins: list[str], **options: Any) -> None:
        self.app = app
        self.any_origin = "*" in allow_origins
        self.origins = frozenset(origin.encode("latin-1") for origin in allow_origins)
        self.cors = CORSMiddleware(app, allow_origins=allow_origins, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = next((value for name, value in scope["headers"] if name == b"origin"), None)
        if origin is None:
            await self.app(scope, receive, send)
        elif self.any_origin or origin in self.origins:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, _varying_on_origin(send))


def _varying_on_origin(send: Send) -> Send:
    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"vary", b"Origin")]
        await send(message)

    return send_varying
