"""What the pure-ASGI middlewares at the edge share (idempotency keys, rate limits): who the
caller is without a database read, and a problem answered before any route runs."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.types import Scope, Send

from ocp.application.ports.common import Clock
from ocp.application.ports.identity import TokenIssuer
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


def bearer_subject(scope: Scope, tokens: TokenIssuer, clock: Clock) -> str | None:
    """The user id a valid bearer token names, read without the database (a revoked token
    still names someone here; the route refuses it); None without a valid token."""
    authorization = (header(scope, b"authorization") or b"").decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return tokens.read_access(token.strip(), clock.now()).user_id
    except AuthenticationFailed:
        return None


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
