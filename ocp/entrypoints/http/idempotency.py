"""Idempotency keys (IETF draft `Idempotency-Key`) on the POSTs of `/api/v1`: a client that
retries a POST with the same key and body gets the first answer again (status, body,
`Location`, `ETag`, with `Idempotent-Replayed: true`) instead of a second resource.

Pure ASGI, before routing. The key is scoped to the caller (the `sub` of a valid bearer
token, read without a database: a token that will be refused later is refused later, and a
401 is never kept). The body is hashed as it streams to the route, so an upload of any size
costs no memory; a repeat's body is read and hashed the same way before it is answered.

- same key, same body, first one done: its answer, replayed (2xx and 4xx answers are kept;
  401, 403, 409, 429 and 5xx are not: a retry may succeed);
- same key, another body: 422; first one still running: 409; malformed key: 400;
- `/api/v1/auth/*` is left alone: token answers are never stored.
Records live 24 hours (`idempotency_keys`, TTL index); one of many concurrent first
requests wins by the unique `_id` of its record.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocp.application.identity import SessionService
from ocp.application.ports.common import Clock, DependencyUnavailable
from ocp.application.ports.idempotency import IdempotencyStore, KeyedResponse
from ocp.entrypoints.http.edge import caller_id, header, send_problem
from ocp.entrypoints.http.problems import responses

log = logging.getLogger("ocp.idempotency")

HEADER = b"idempotency-key"
KEEP_FOR = timedelta(hours=24)
KEPT_HEADERS = {b"content-type", b"location", b"etag", b"link", b"cache-control"}
NOT_KEPT = {401, 403, 409, 429}
MAX_KEPT_BODY = 1_048_576  # a larger answer is not replayed (none of the create routes')
EXEMPT_PREFIXES = ("/api/v1/auth/", "/api/v1/files/tus")


def malformed(key: bytes) -> bool:
    return not 1 <= len(key) <= 255 or any(b < 0x20 or b > 0x7E for b in key)


class IdempotencyKeys:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: Callable[[], IdempotencyStore],
        sessions: Callable[[], SessionService],
        clock: Callable[[], Clock],
        max_body_bytes: int,
        idle_timeout_s: float,
    ) -> None:
        self.app = app
        self._max_body_bytes = max_body_bytes
        self._idle_timeout_s = idle_timeout_s
        self._store = store
        self._sessions = sessions
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        key = header(scope, HEADER)
        if key is None or not path.startswith("/api/v1/") or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if malformed(key):
            await send_problem(scope, send, 400, "Idempotency-Key must be 1 to 255 printable ASCII")
            return
        user_id = await self._caller(scope)
        if user_id is None:  # no valid token: the route answers 401 (or serves anonymously)
            await self.app(scope, receive, send)
            return
        await self._keyed(scope, receive, send, f"{user_id}:{key.decode()}")

    async def _caller(self, scope: Scope) -> str | None:
        try:
            return await caller_id(scope, self._sessions())
        except DependencyUnavailable:
            return None  # the route answers for itself (503), nothing kept

    async def _keyed(self, scope: Scope, receive: Receive, send: Send, key_scope: str) -> None:
        store, now = self._store(), self._clock().now()
        digest = hashlib.sha256(f"{scope['method']} {scope['path']}?".encode())
        digest.update(scope.get("query_string", b""))
        mine = KeyedResponse(key_scope, "", now, now + KEEP_FOR)
        try:
            earlier = await store.begin(mine, now)
        except DependencyUnavailable:
            await send_problem(
                scope, send, 503, "the database is unavailable", headers=[(b"retry-after", b"1")]
            )
            return
        if earlier is not None:
            await self._repeat(scope, receive, send, earlier, digest)
            return
        await self._first(scope, receive, send, store, mine, digest)

    async def _repeat(
        self, scope: Scope, receive: Receive, send: Send, earlier: KeyedResponse, digest: Any
    ) -> None:
        if not earlier.done:
            await send_problem(scope, send, 409, "a request with this Idempotency-Key is running")
            return
        read = 0
        while True:  # read the repeat's body to tell a retry from a different request
            try:
                async with asyncio.timeout(self._idle_timeout_s):
                    message = await receive()
            except TimeoutError:
                await send_problem(scope, send, 408, "the request body stopped arriving")
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            read += len(chunk)
            if read > self._max_body_bytes:
                await send_problem(scope, send, 413, "the request body is too large")
                return
            digest.update(chunk)
            if not message.get("more_body", False):
                break
        if digest.hexdigest() != earlier.body_hash:
            await send_problem(
                scope, send, 422, "this Idempotency-Key was used with another request"
            )
            return
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in earlier.headers]
        headers.append((b"idempotent-replayed", b"true"))
        headers.append((b"content-length", str(len(earlier.body)).encode()))
        await send({"type": "http.response.start", "status": earlier.status, "headers": headers})
        await send({"type": "http.response.body", "body": earlier.body})

    async def _first(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        store: IdempotencyStore,
        mine: KeyedResponse,
        digest: Any,
    ) -> None:
        status = 0
        kept: list[tuple[str, str]] = []
        body = bytearray()
        keep = True

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                digest.update(message.get("body", b""))
            return message

        async def capturing_send(message: Message) -> None:
            nonlocal status, keep
            if message["type"] == "http.response.start":
                status = message["status"]
                kept.extend(
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                    if k.lower() in KEPT_HEADERS
                )
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if len(body) > MAX_KEPT_BODY:
                    keep = False
                    body.clear()
            await send(message)

        finished = False
        try:
            await self.app(scope, hashing_receive, capturing_send)
            finished = True
        finally:
            await self._settle(store, mine, digest, status, kept, bytes(body), finished and keep)

    async def _settle(
        self,
        store: IdempotencyStore,
        mine: KeyedResponse,
        digest: Any,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        keep: bool,
    ) -> None:
        try:
            if keep and 200 <= status < 500 and status not in NOT_KEPT:
                mine.body_hash = digest.hexdigest()
                mine.status = status
                mine.headers = headers
                mine.body = body
                await store.finish(mine)
            else:
                await store.forget(mine.scope)
        except DependencyUnavailable:
            log.warning("an idempotency record was left running; it expires with its lease")


def document(schema: dict[str, Any]) -> None:
    """Declare the header on every POST it applies to, and the replay's answer header."""
    parameter = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "retry safely: the same key and body within 24 h replay the first "
        "answer (`Idempotent-Replayed: true`); another body: 422; the first still running: 409",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    }
    replayed = {
        "description": "true when this is the first answer to this key, replayed",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for path, operations in schema.get("paths", {}).items():
        post = operations.get("post")
        if post is None or not path.startswith("/api/v1/") or path.startswith(EXEMPT_PREFIXES):
            continue
        post.setdefault("parameters", []).append(parameter)
        answers = post.setdefault("responses", {})
        for code, response in answers.items():
            if str(code).startswith("2"):
                response.setdefault("headers", {})["Idempotent-Replayed"] = replayed
        # A malformed key (400), the first request still running (409), another body (422).
        for code, response in responses(400, 409, 422).items():
            answers.setdefault(str(code), response)
