"""The `Link: <...>; rel="next"` header of paged collections."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """Point `Link: rel="next"` at this same request with the next cursor."""
    if next_cursor is None:
        return
    params = dict(request.query_params)
    params["cursor"] = next_cursor
    response.headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
