"""RFC 9457 problem details for every error, from one table of domain errors to statuses.

Nothing internal leaves: no stack trace, no driver message, no path. The unexpected-error
handler logs the stack with the request id and answers a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocp.application.ports.common import DependencyUnavailable
from ocp.domain import errors
from ocp.entrypoints.http.methods import allowed_methods
from ocp.entrypoints.http.schemas.common import PLAIN_TEXT

log = logging.getLogger("ocp.http")

PROBLEM_JSON = "application/problem+json"
# A relative reference (RFC 9457 3.1.1): it resolves on the server that answered, whose
# /problems/{type} page says what the problem means (routers/problem_types.py).
TYPE_BASE = "/problems/"


# domain error -> (status, problem type slug, title)
class RangeNotSatisfiable(errors.DomainError):
    """A requested byte range lies outside the content (an HTTP notion: 416 with the size)."""

    def __init__(self, detail: str, size: int) -> None:
        super().__init__(detail)
        self.size = size


DOMAIN_ERRORS: dict[type[errors.DomainError], tuple[int, str, str]] = {
    errors.InvalidOneTimeToken: (400, "invalid-token", "Invalid or expired token"),
    errors.InvalidCursor: (400, "invalid-cursor", "Invalid cursor"),
    errors.AuthenticationFailed: (401, "unauthenticated", "Authentication required"),
    errors.PermissionDenied: (403, "forbidden", "Forbidden"),
    errors.NotFound: (404, "not-found", "Not found"),
    errors.Conflict: (409, "conflict", "Conflict"),
    errors.StaleVersion: (412, "stale-version", "Precondition failed"),
    errors.PayloadTooLarge: (413, "payload-too-large", "Payload too large"),
    errors.UnsupportedContent: (415, "unsupported-media-type", "Unsupported media type"),
    RangeNotSatisfiable: (416, "range-not-satisfiable", "Range not satisfiable"),
    errors.RuleViolated: (422, "validation-error", "Validation failed"),
    errors.TooManyAttempts: (429, "too-many-requests", "Too many requests"),
    errors.ChecksumMismatch: (460, "checksum-mismatch", "Checksum mismatch"),  # tus
}

_HTTP_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Validation failed",
    429: "Too many requests",
    503: "Service unavailable",
}


# One type per kind of problem, whatever raised it (a domain error, request validation, the
# router, the edge middlewares): the slug of each status, and what each means.
STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    408: "request-timeout",
    409: "conflict",
    412: "stale-version",
    413: "payload-too-large",
    415: "unsupported-media-type",
    416: "range-not-satisfiable",
    422: "validation-error",
    429: "too-many-requests",
    460: "checksum-mismatch",
    500: "internal-error",
    503: "unavailable",
}
PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "bad-request": (400, "Bad request", "The request is malformed: a header, a cursor, a key."),
    "invalid-token": (400, "Invalid or expired token", "A reset or verification token that "
                      "is unknown, already used or expired: ask for a new mail."),
    "invalid-cursor": (400, "Invalid cursor", "A paging cursor this server did not issue."),
    "unauthenticated": (401, "Authentication required", "No valid bearer token: log in "
                        "(POST /api/v1/auth/token) or refresh it."),
    "forbidden": (403, "Forbidden", "You are known but may not do this."),
    "not-found": (404, "Not found", "No such resource, or one you may not see."),
    "method-not-allowed": (405, "Method not allowed", "See the Allow header."),
    "not-acceptable": (406, "Not acceptable", "The server cannot answer in the asked format."),
    "request-timeout": (408, "Request timeout", "The request body stopped arriving."),
    "conflict": (409, "Conflict", "The request clashes with the current state: a taken email "
                 "or slug, a full course, a request with this Idempotency-Key still running."),
    "stale-version": (412, "Precondition failed", "If-Match names a version that is no "
                      "longer the current one: read again, then retry."),
    "payload-too-large": (413, "Payload too large", "The body or file is larger than allowed."),
    "unsupported-media-type": (415, "Unsupported media type", "The content is not of a type "
                               "allowed here."),
    "range-not-satisfiable": (416, "Range not satisfiable", "The byte range lies outside the "
                              "content; Content-Range gives its size."),
    "validation-error": (422, "Validation failed", "A value breaks a rule; `errors` names "
                         "each field."),
    "too-many-requests": (429, "Too many requests", "A rate limit was hit: wait Retry-After "
                          "seconds."),
    "checksum-mismatch": (460, "Checksum mismatch", "A tus part does not match its "
                          "Upload-Checksum; it was not kept."),
    "internal-error": (500, "Internal server error", "Unexpected: the request id in the "
                       "X-Request-ID header finds it in the server's log."),
    "unavailable": (503, "Service unavailable", "The database or file store is not "
                    "answering; retry after Retry-After seconds."),
}  # fmt: skip


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + (slug or STATUS_SLUGS.get(status, str(status))),
        "title": title or _HTTP_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _loc(value: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in value]


MAX_ERRORS = 50
"""A 422 lists at most this many errors, and counts the rest in `errors_omitted`: a body with
60,000 unknown keys must not make a 5 MB answer."""


def _message(error: Any) -> str:
    """The error's message, in the domain's words where pydantic's would show a pattern."""
    if (error.get("ctx") or {}).get("pattern") == PLAIN_TEXT:
        return "must not contain control characters"
    return str(error.get("msg", ""))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    errs = [
        {"loc": _loc(e.get("loc", ())), "msg": _message(e), "type": str(e.get("type"))}
        for e in found[:MAX_ERRORS]
    ]
    extra: dict[str, Any] = {"errors": errs}
    if len(found) > MAX_ERRORS:
        extra["errors_omitted"] = len(found) - MAX_ERRORS
    if any(e["type"] == "json_invalid" for e in errs):
        return problem(request, 422, "the request body is not valid JSON", **extra)
    return problem(request, 422, "the request is not valid; see errors", **extra)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _HTTP_TITLES.get(exc.status_code, "")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        allow = allowed_methods(request.app, request.url.path)
        headers["Allow"] = allow or headers.get("Allow", "")
    return problem(request, exc.status_code, detail, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    status, slug, title = next(
        (entry for kind, entry in DOMAIN_ERRORS.items() if isinstance(exc, kind)),
        (400, "bad-request", "Bad request"),
    )
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, errors.TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{exc.size}"
    if isinstance(exc, errors.RuleViolated):
        extra["errors"] = [
            {"loc": ["body", exc.field] if exc.field else ["body"], "msg": exc.detail, "type": slug}
        ]
    return problem(request, status, exc.detail, slug=slug, title=title, headers=headers, **extra)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DependencyUnavailable)
    log.warning("dependency unavailable: %s", exc.dependency, exc_info=exc.__cause__)
    return problem(
        request,
        503,
        f"the {exc.dependency} is unavailable; try again shortly",
        slug="unavailable",
        headers={"Retry-After": "5"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    log.error("unexpected error (request %s)", request_id, exc_info=exc)
    return problem(request, 500, "an unexpected error occurred", title="Internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(errors.DomainError, _domain_error)
    app.add_exception_handler(DependencyUnavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


def document_errors(schema: dict[str, Any]) -> None:
    """Makes the published document say what the server does: every error answer of every
    operation is problem+json (FastAPI declares its own 422 as application/json), and every
    operation that takes a body may answer 413 (over its cap) and 415 (a type it does not take)."""
    schema.setdefault("components", {}).setdefault("schemas", {}).pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            if "requestBody" in operation:
                for status in ("413", "415"):
                    answers.setdefault(status, {})
            for status in list(answers):
                if int(status) >= 400:
                    answers[status] = responses(int(status))[int(status)]


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error responses a route can give."""
    return {
        status: {
            "description": _HTTP_TITLES.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
