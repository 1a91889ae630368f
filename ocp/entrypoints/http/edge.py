"""What the pure-ASGI middlewares at the edge share (idempotency keys, rate limits): who the
caller is without a database read, and a problem answered before any route runs."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.types import Scope, Send

from ocp.application.identity import SessionService
from ocp.domain.errors import AuthenticationFailed
from ocp.entrypoints.http.problems import PROBLEM_JSON, STATUS_SLUGS, TYPE_BASE

TITLES = {
    400: "Bad request",
    408: "Request timeout",
    409: "Conflict",
    413: "Payload too large",
    422: "Validation failed",
    429: "Too many requests",
    503: "Service unavailable",
}


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (`name` in lower case)."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


async def caller_id(scope: Scope, sessions: SessionService) -> str | None:
    """The id of the user a bearer token authenticates, with every check the routes make
    (signature, expiry, an active user, a live session: from the caches, no read in the
    steady state), so a logged-out or deactivated token gets nothing at the edge either;
    None without a valid token. `DependencyUnavailable` when that cannot be told."""
    authorization = (header(scope, b"authorization") or b"").decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        user, _ = await sessions.authenticate(token.strip())
    except AuthenticationFailed:
        return None
    return user.id


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """An RFC 9457 problem, answered from the edge (the same shape as `problems.problem`)."""
    body = orjson.dumps(
        {
            "type": TYPE_BASE + (slug or STATUS_SLUGS.get(status, str(status))),
            "title": TITLES.get(status, "Error"),
            "status": status,
            "detail": detail,
            "instance": scope["path"],
        }
    )
    answer_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": answer_headers})
    await send({"type": "http.response.body", "body": body})
