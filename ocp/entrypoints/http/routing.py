"""Routes that refuse before they read: a protected route authenticates its caller before a
byte of the body is read, and every body is held to `OCP_MAX_JSON_BYTES` whatever its declared
type, except on the few upload routes that stream their own body to their own cap.

FastAPI reads and parses a route's body before it solves any dependency, so without this an
anonymous client could make the server hold a body of any size only to be told 401. Every
router is built with `route_class=GuardedRoute`; a test walks the app to prove none is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import anyio
from fastapi import HTTPException, params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ocp.domain.errors import PayloadTooLarge, UnsupportedContent
from ocp.entrypoints.http.deps import Bearer, authenticate_request

_STREAMS_BODY = "__ocp_streams_body__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def streams_own_body(endpoint: Endpoint) -> Endpoint:
    """Marks an upload route: it reads `request.stream()` itself, to a cap of its own, so the
    JSON cap does not apply to its non-JSON bodies (a JSON body sent to it still is capped)."""
    setattr(endpoint, _STREAMS_BODY, True)
    return endpoint


def _requires_bearer(dependant: Dependant) -> bool:
    return any(
        (isinstance(dep.call, Bearer) and dep.call.required) or _requires_bearer(dep)
        for dep in dependant.dependencies
    )


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _has_body(request: Request) -> bool:
    declared = _declared_length(request)
    return bool(declared) or "chunked" in request.headers.get("transfer-encoding", "").lower()


async def _read_capped(request: Request, limit: int) -> None:
    """Reads the body into the request (where FastAPI's own body parsing finds it), refusing as
    soon as it passes `limit`: a declared length at once, a chunked body at the first byte over."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in body_stream(request):
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    request._body = bytes(body)  # Starlette's cache: body(), json() and form() read it


def body_stream(request: Request) -> AsyncIterator[bytes]:
    """The request's body chunks, given up on when none arrives for `OCP_BODY_IDLE_TIMEOUT_S`:
    a client trickling a body must not hold a request (and an upload's temporary object)
    open forever. Every reader of a body, JSON or upload, reads it through this."""
    return _idle_limited(request.stream(), request.app.state.body_idle_timeout_s)


async def _idle_limited(chunks: AsyncIterator[bytes], seconds: float) -> AsyncIterator[bytes]:
    iterator = chunks.__aiter__()
    while True:
        try:
            with anyio.fail_after(seconds):
                chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise HTTPException(408, f"no part of the body arrived for {seconds:g} s") from None
        yield chunk


class GuardedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        requires_bearer = _requires_bearer(self.dependant)
        streams_body = bool(getattr(self.endpoint, _STREAMS_BODY, False))
        body_kind: str | None = None
        if self.body_field is not None:
            body_kind = "form" if isinstance(self.body_field.field_info, params.Form) else "json"

        async def guarded(request: Request) -> Response:
            try:
                if requires_bearer:
                    await authenticate_request(request, required=True)
                limit: int = request.app.state.max_json_bytes
                media_type = _media_type(request)
                if body_kind is not None and _has_body(request):
                    _check_media_type(body_kind, media_type)
                    await _read_capped(request, limit)
                    if body_kind == "json":
                        _check_utf8(request._body)
                elif streams_body and _is_json(media_type):
                    await _read_capped(request, limit)
                elif not streams_body and (_declared_length(request) or 0) > limit:
                    # Nothing here reads the body; a declared one over the cap is refused anyway.
                    raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
            except ClientDisconnect:
                # The client went away mid-body: nothing was done and nobody reads an answer;
                # it is the client's doing, not a server error (no 500, no error log).
                request.scope["state"]["close_connection"] = True
                return Response(status_code=400)
            except Exception:
                # The body may be left unread: close the connection rather than drain it.
                if _has_body(request):
                    request.scope["state"]["close_connection"] = True
                raise
            return await handler(request)

        return guarded


def _check_utf8(body: bytes) -> None:
    """JSON travels as UTF-8 (RFC 8259): other bytes are a 422 like any malformed JSON, where
    FastAPI would answer an undocumented 400."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", exc.start), "msg": "JSON must be UTF-8"}]
        ) from None


def _check_media_type(body_kind: str, media_type: str) -> None:
    if body_kind == "json" and not _is_json(media_type):
        raise UnsupportedContent("this route takes an application/json body")
    if body_kind == "form" and media_type not in _FORM_TYPES:
        raise UnsupportedContent("this route takes an application/x-www-form-urlencoded body")
