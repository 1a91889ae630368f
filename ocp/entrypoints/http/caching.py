"""HTTP caching of public reads (API.md): anonymous catalog pages, course detail, modules and
preview lessons carry an `ETag` and `Cache-Control: public, max-age=N,
stale-while-revalidate=M`, so a browser or a CDN in front may serve them, and a client that
sends back the `ETag` in `If-None-Match` gets a bodyless `304` before anything is rendered.

`Vary: Authorization`: a shared cache must never hand the anonymous copy to a signed-in
client (who may see more, such as their own drafts) nor keep a signed-in answer (those are
`no-store`, see middleware.py). The validator is computed from what the use case returned
(versions, ids, the next cursor), never from the rendered body: a 304 costs no rendering.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response, status

# How long a cache may keep serving a stale copy while it fetches a fresh one (RFC 5861).
STALE_WHILE_REVALIDATE_S = 60

_HEADERS = {
    "ETag": {"description": "validator for If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "anonymous: `public, max-age=N, stale-while-revalidate=M`; "
        "signed in: `no-store`",
        "schema": {"type": "string"},
    },
    "Vary": {"description": "`Authorization`", "schema": {"type": "string"}},
}
PUBLIC_READ_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"headers": _HEADERS},
    304: {
        "description": "not modified: the `If-None-Match` validator is current",
        "headers": _HEADERS,
    },
}


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: weak comparison, a list of tags or `*`."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or wanted in tags


def validator(*parts: object) -> str:
    """A strong ETag for a representation determined by `parts` (ids, versions, cursor)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12)
    return f'"{digest.hexdigest()}"'


def public_read(request: Request, response: Response, etag: str) -> Response | None:
    """For an anonymous request: the caching headers on `response`, or the 304 to answer
    instead when the client already holds `etag`. For a signed-in one: only the ETag (its
    answer is `no-store`)."""
    if "authorization" in request.headers:
        response.headers["ETag"] = etag
        return None
    max_age: int = request.app.state.public_max_age_s
    headers = {
        "ETag": etag,
        "Cache-Control": (
            f"public, max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE_S}"
        ),
        "Vary": "Authorization",
    }
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    response.headers.update(headers)
    return None
