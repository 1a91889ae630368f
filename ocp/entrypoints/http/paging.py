"""The `Link: <...>; rel="next"` header of paged collections."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response


def link_next(response: Response, next_cursor: str | None, request: Request | None = None) -> None:
    if next_cursor is None:
        return
    params = dict(request.query_params) if request is not None else {}
    params["cursor"] = next_cursor
    path = request.url.path if request is not None else ""
    response.headers["Link"] = f'<{path}?{urlencode(params)}>; rel="next"'
