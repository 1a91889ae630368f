"""Rate limits at the edge, before a body is read: `/auth/register` and `/auth/token` per
client address, the mail requests per client address (and per email in their routes), and
every other POST under `/api/v1` per user (the bearer token's `sub`, read without the
database). Every answer of a limited route carries `RateLimit-Limit`, `RateLimit-Remaining`
and `RateLimit-Reset` (seconds); over the limit: 429 with `Retry-After`.

The client address is the peer's, which uvicorn takes from `X-Forwarded-For` only when the
peer is one of `OCP_TRUSTED_PROXIES`. Counts are fixed windows in the `rate_limits`
collection (`RateCounter`), so every process shares one budget."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocp.application.identity import SessionService
from ocp.application.limits import Limiter, Rate, Verdict
from ocp.application.ports.common import DependencyUnavailable
from ocp.entrypoints.http.edge import caller_id, send_problem
from ocp.entrypoints.http.problems import problem, responses


@dataclass(frozen=True, slots=True)
class Rates:
    register: Rate
    login: Rate
    mail: Rate
    writes: Rate

    @classmethod
    def of(cls, register: str, login: str, mail: str, writes: str) -> Rates:
        return cls(Rate.parse(register), Rate.parse(login), Rate.parse(mail), Rate.parse(writes))


_BY_ADDRESS = {
    "/api/v1/auth/register": ("register", lambda r: r.register),
    "/api/v1/auth/token": ("login", lambda r: r.login),
    "/api/v1/auth/password-reset/request": ("mail-address", lambda r: r.mail.times(4)),
    "/api/v1/auth/verify-email/request": ("mail-address", lambda r: r.mail.times(4)),
}
_UNLIMITED_POSTS = ("/api/v1/auth/",)
# Reads that make the server read much (every record of a user's: an export, the caller's
# or, for an admin, anyone's) spend the writes' budget.
_COSTLY_READ = re.compile(r"^/api/v1/users/[^/]+/export$")


def _costly_read(method: str, path: str) -> bool:
    return method == "GET" and _COSTLY_READ.match(path) is not None


class RateLimits:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: Callable[[], Limiter],
        sessions: Callable[[], SessionService],
        rates: Rates,
    ) -> None:
        self.app = app
        self._limiter = limiter
        self._sessions = sessions
        self._rates = rates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] != "POST" and not _costly_read(scope["method"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        verdict: Verdict | None = None
        try:
            if path in _BY_ADDRESS:
                bucket, rate_of = _BY_ADDRESS[path]
                address = (scope.get("client") or ("unknown", 0))[0]
                verdict = await self._limiter().hit(bucket, address, rate_of(self._rates))
            elif path.startswith("/api/v1/") and not path.startswith(_UNLIMITED_POSTS):
                user_id = await self._caller(scope)
                if user_id is not None:
                    verdict = await self._limiter().hit("writes", user_id, self._rates.writes)
        except DependencyUnavailable:
            verdict = None  # the counter's database is down: the route answers for itself
        if verdict is None:
            await self.app(scope, receive, send)
            return
        if not verdict.allowed:
            await _refuse(scope, send, verdict)
            return
        await self.app(scope, receive, _with_headers(send, verdict))

    async def _caller(self, scope: Scope) -> str | None:
        return await caller_id(scope, self._sessions())


def document(schema: dict[str, Any]) -> None:
    """Declare 429 and the RateLimit-* headers on every route the limits apply to."""
    headers = {
        name: {"description": text, "schema": {"type": "integer"}}
        for name, text in (
            ("RateLimit-Limit", "requests allowed in the window"),
            ("RateLimit-Remaining", "requests left in the window"),
            ("RateLimit-Reset", "seconds until the window ends"),
        )
    }
    for path, operations in schema.get("paths", {}).items():
        post = operations.get("post")
        limited = path in _BY_ADDRESS or (
            path.startswith("/api/v1/") and not path.startswith(_UNLIMITED_POSTS)
        )
        if _costly_read("GET", path):
            post, limited = operations.get("get"), True
        if post is None or not limited:
            continue
        answers = post.setdefault("responses", {})
        for code, response in answers.items():
            if str(code).startswith("2"):
                response.setdefault("headers", {}).update(headers)
        for code, response in responses(429).items():
            entry = answers.setdefault(str(code), response)
            entry.setdefault("headers", {}).update(
                {**headers, "Retry-After": {"schema": {"type": "integer"}}}
            )


def _with_headers(send: Send, verdict: Verdict) -> Send:
    """The limit's headers on the answer, unless the route set a stricter limit's already."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"ratelimit-limit" for name, _ in headers):
                headers.extend(verdict.headers())
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _refuse(scope: Scope, send: Send, verdict: Verdict) -> None:
    await send_problem(
        scope,
        send,
        429,
        f"at most {verdict.rate.count} requests per {verdict.rate.window_s} s; "
        f"try again in {max(1, verdict.reset_s)} s",
        slug="too-many-requests",
        headers=verdict.headers(),
    )


async def limit_email(request: Request, response: Response, email: str) -> None:
    """The per-email limit of the mail requests, in their routes (the address is in the
    body): its headers on the answer; over it, the same 429 as at the edge."""
    limiter: Limiter = request.app.state.container.limiter()
    rates: Rates = request.app.state.rates
    verdict = await limiter.hit("mail-email", email.strip().lower(), rates.mail)
    if not verdict.allowed:
        raise RateLimited(verdict)
    for name, value in verdict.headers():
        response.headers[name.decode()] = value.decode()


class RateLimited(Exception):
    def __init__(self, verdict: Verdict) -> None:
        super().__init__("rate limited")
        self.verdict = verdict


async def rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    verdict = exc.verdict
    return problem(
        request,
        429,
        f"at most {verdict.rate.count} requests per {verdict.rate.window_s} s for this "
        f"address; try again in {max(1, verdict.reset_s)} s",
        slug="too-many-requests",
        headers={k.decode(): v.decode() for k, v in verdict.headers()},
    )
