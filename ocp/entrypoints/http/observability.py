"""What an operator watches: Prometheus metrics of every request (by route template, never a
raw path), the /metrics endpoint, and one log line per request, as JSON or for a console.

Pure ASGI (no BaseHTTPMiddleware). With several workers, prometheus-client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, set by `ocp serve`) makes /metrics add up every worker. With
OCP_METRICS_PORT, `ocp serve` answers /metrics on that port alone (`serve_metrics_port`), from
the supervising process, which reads every worker's samples.
"""

from __future__ import annotations

import functools
import gzip
import hmac
import json
import logging
import os
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocp.application.context import REQUEST_ID as CONTEXT_REQUEST_ID
from ocp.domain.errors import AuthenticationFailed
from ocp.entrypoints.http.problems import PROBLEM_JSON, TYPE_BASE, responses
from ocp.entrypoints.http.routing import GuardedRoute

UNMATCHED_ROUTE = "<unmatched>"
ACCESS_LOG = logging.getLogger("ocp.access")

# A scrape stays small (one was 738 KB before): no `_created` series, `status` is the class
# (`2xx`, `4xx`) so a client cannot spread one route over many series, six buckets, and a 4xx
# is counted but not timed (see Observability), so an anonymous sweep of every route adds one
# line per route, not a histogram.
disable_created_metrics()
REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered, by status class", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from the request's arrival to the end of its response; every answer but a 4xx",
    ["method", "route", "status"],
    buckets=(0.005, 0.025, 0.1, 0.5, 2.5, 10),
)
IN_FLIGHT = Gauge(
    "http_requests_in_progress",
    "Requests being answered right now",
    multiprocess_mode="livesum",
)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class Observability:
    """Counts every HTTP request by method, route template and status class, times every one
    but a 4xx, keeps the in-flight gauge, and writes one access line (`ocp.access`, INFO) per
    request: request id, method, route template, status, duration, the user id when one
    authenticated, the client's address (the peer's, or the one a trusted proxy names:
    uvicorn believes X-Forwarded-For from OCP_TRUSTED_PROXIES alone), its User-Agent (at most
    USER_AGENT_CHARS) and the bytes of the body sent. Never a query string, a body or another
    header, so no password or token can reach the log.

    Why a 4xx is not timed: it is the client's mistake (no token, a typo, a bad body), answered
    before any work, and it is what anyone can produce on every route; timed, each route would
    carry a second histogram (nine lines) that tells nothing about the service. Its count and
    its line in the access log remain."""

    def __init__(self, app: ASGIApp, *, metrics: bool) -> None:
        self.app = app
        self.metrics = metrics
        # The labelled children, looked up once per (method, route, status).
        self._children: dict[tuple[str, str, int], tuple[Any, Any | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        logging_on = ACCESS_LOG.isEnabledFor(logging.INFO)
        if not (self.metrics or logging_on):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_observed(message: Message) -> None:
            nonlocal status, sent
            kind = message["type"]
            if kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = message["status"]
            await send(message)

        if self.metrics:
            IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_observed)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            if method not in _METHODS:
                method = "OTHER"  # a client cannot mint label values
            route = _route_template(scope)
            if self.metrics:
                IN_FLIGHT.dec()
                key = (method, route, status)
                children = self._children.get(key)
                if children is None:
                    code = f"{status // 100}xx"
                    children = (
                        REQUESTS.labels(method, route, code),
                        None if code == "4xx" else REQUEST_SECONDS.labels(method, route, code),
                    )
                    self._children[key] = children
                children[0].inc()
                if children[1] is not None:
                    children[1].observe(elapsed)
            if logging_on:
                state = scope.get("state") or {}
                client = scope.get("client")
                ACCESS_LOG.handle(
                    AccessRecord(
                        method,
                        route,
                        status,
                        {
                            "request_id": state.get("request_id"),
                            "method": method,
                            "route": route,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                            "user_id": state.get("user_id"),
                            "client": client[0] if client else None,
                            "user_agent": _user_agent(scope["headers"]),
                            "response_bytes": sent,
                        },
                    )
                )


USER_AGENT_CHARS = 256


def _user_agent(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"user-agent":
            return value[:USER_AGENT_CHARS].decode("latin-1")
    return None


class AccessRecord(logging.LogRecord):
    """The record of one access line, made without what LogRecord looks up for every record
    (the caller's file, thread and process names) and nobody reads here: a third of the
    line's cost. Handlers, levels and formatters are the standard ones; the fields are the
    record's attributes as with `extra`, and also one dict for formatters in a hurry."""

    def __init__(self, method: str, route: str, status: int, fields: dict[str, Any]) -> None:
        now = time.time()
        self.__dict__.update(fields)
        self.access = fields
        self.name = ACCESS_LOG.name
        self.msg = "%s %s %s"
        self.args = (method, route, status)
        self.levelname = "INFO"
        self.levelno = logging.INFO
        self.pathname = self.filename = __file__
        self.module = __name__
        self.lineno = 0
        self.funcName = "__call__"
        self.created = now
        self.msecs = (now - int(now)) * 1000
        self.relativeCreated = (now - _STARTED) * 1000
        self.exc_info = self.exc_text = self.stack_info = None
        self.thread = threading.get_ident()
        self.process = os.getpid()
        self.threadName = self.processName = self.taskName = None


_STARTED = time.time()


def metrics_text() -> bytes:
    """The Prometheus exposition of this process, or of every worker in multiprocess mode."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter(tags=["operations"], route_class=GuardedRoute)


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests by route template and status, latencies, logins",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"},
        **responses(401),
    },
)
async def metrics(request: Request) -> Response:
    if not token_accepted(request.headers.get("authorization"), request.app.state.metrics_token):
        raise AuthenticationFailed(TOKEN_NEEDED)
    plain, zipped = request.app.state.metrics_scrape.rendered()
    if "gzip" in request.headers.get("accept-encoding", ""):
        # Prometheus asks for gzip; the text is repetitive and shrinks about tenfold.
        return Response(
            zipped,
            media_type=CONTENT_TYPE_LATEST,
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(plain, media_type=CONTENT_TYPE_LATEST)


TOKEN_NEEDED = "/metrics needs the bearer token of OCP_METRICS_TOKEN"


def token_accepted(authorization: str | None, token: str | None) -> bool:
    """Whether an `Authorization` header opens /metrics: anything when no token is set, else
    `Bearer <token>`, compared in constant time."""
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


class Scrape:
    """The exposition, rendered at most once per `max_age_s` and shared by every scraper of
    the process: rendering takes several milliseconds of the event loop, and eight anonymous
    scrapers in a loop once slowed the catalog to 3.3 s. Prometheus scrapes every 15 s or so;
    a second-old figure is as good as a fresh one."""

    def __init__(self, max_age_s: float) -> None:
        self.max_age_s = max_age_s
        self._at = float("-inf")
        self._plain = b""
        self._zipped = b""
        # The metrics port's server answers from several threads; one renders, others wait.
        self._lock = threading.Lock()

    def rendered(self) -> tuple[bytes, bytes]:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self.max_age_s:
                self._plain = metrics_text()
                self._zipped = gzip.compress(self._plain, compresslevel=1)
                self._at = now
            return self._plain, self._zipped


def install(
    app: FastAPI,
    *,
    metrics: bool,
    token: str | None = None,
    max_age_s: float = 1.0,
    on_api_port: bool = True,
) -> None:
    """The middleware, and the /metrics route when metrics are on and served on the API port
    (`on_api_port`; else `ocp serve` serves them on OCP_METRICS_PORT), behind `token` when one
    is set. Call it before other middleware is added so it wraps the least and still sees
    every response."""
    app.state.metrics_token = token
    app.state.metrics_scrape = Scrape(max_age_s)
    if metrics and on_api_port:
        app.include_router(router)
    app.add_middleware(Observability, metrics=metrics)


class _MetricsHandler(BaseHTTPRequestHandler):
    """GET /metrics on the metrics port: the same token rule, rendering and gzip as the API's
    route; problem+json for everything else."""

    server: _MetricsServer
    timeout = 10  # a client that trickles its request is dropped, not waited for
    server_version = "ocp-metrics"
    sys_version = ""

    def do_GET(self) -> None:
        if urlsplit(self.path).path != "/metrics":
            self._problem(HTTPStatus.NOT_FOUND, "not-found", "Not found", "no such resource")
            return
        if not token_accepted(self.headers.get("authorization"), self.server.token):
            self._problem(
                HTTPStatus.UNAUTHORIZED, "unauthenticated", "Authentication required", TOKEN_NEEDED
            )
            return
        plain, zipped = self.server.scrape.rendered()
        headers = {"Content-Type": CONTENT_TYPE_LATEST, "Vary": "Accept-Encoding"}
        if "gzip" in (self.headers.get("accept-encoding") or ""):
            plain, headers["Content-Encoding"] = zipped, "gzip"
        self._send(HTTPStatus.OK, plain, headers)

    def _problem(self, status: HTTPStatus, slug: str, title: str, detail: str) -> None:
        body = {
            "type": TYPE_BASE + slug,
            "title": title,
            "status": int(status),
            "detail": detail,
            "instance": urlsplit(self.path).path,
        }
        headers = {"Content-Type": PROBLEM_JSON}
        if status == HTTPStatus.UNAUTHORIZED:
            headers["WWW-Authenticate"] = "Bearer"
        self._send(status, json.dumps(body).encode(), headers)

    def _send(self, status: HTTPStatus, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # Prometheus scrapes every few seconds; those lines would drown the access log


class _MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, token: str | None, max_age_s: float) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _MetricsHandler)
        self.token = token
        self.scrape = Scrape(max_age_s)


def serve_metrics_port(
    host: str, port: int, *, token: str | None, max_age_s: float
) -> ThreadingHTTPServer:
    """/metrics on `host:port`, answered by a thread of `ocp serve`'s own process (the server;
    `shutdown()` stops it). That process serves the API itself with one worker, so it reads
    the live registry; with several it is their supervisor and, in multiprocess mode, adds up
    every worker's files (`metrics_text`). Raises OSError when the port is taken."""
    server = _MetricsServer((host, port), token=token, max_age_s=max_age_s)
    thread = threading.Thread(target=server.serve_forever, name="ocp-metrics", daemon=True)
    thread.start()
    return server


def worker_exited() -> None:
    """Drop this worker's live gauges from the shared multiprocess files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())


# --- log lines ------------------------------------------------------------------------------

# Attributes every record has, and uvicorn's coloured duplicate of its message.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def _timestamp(created: float) -> str:
    """ISO-8601 UTC with milliseconds; cheaper than datetime, and this runs per request."""
    seconds = int(created)
    return f"{_whole_second(seconds)}.{int((created - seconds) * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _whole_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and every `extra` field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        access = getattr(record, "access", None)
        if access is not None:
            line.update(access)
        else:
            fields = record.__dict__
            for key in fields.keys() - _STANDARD:
                if not key.startswith("_"):
                    line[key] = fields[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


# The id of the request being served (set by middleware.RequestContext): every line logged
# while serving it, by OCP, uvicorn or a library, errors included, carries it.
REQUEST_ID = CONTEXT_REQUEST_ID


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record made while a request is served (the access line
    brings its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = REQUEST_ID.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that does not flush after every line: an access line a request, each
    flushed, was a write(2) a request. Lines are written to the stream's buffer and flushed
    when it fills, at least every `FLUSH_S` seconds (a daemon thread), at once for a warning
    or worse, and at shutdown (logging.shutdown). What a crash can lose: the last second of
    info lines."""

    FLUSH_S = 1.0

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._flusher = threading.Thread(target=self._flush_often, daemon=True)
        self._flusher.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
            if record.levelno >= logging.WARNING:
                self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _flush_often(self) -> None:
        while True:
            time.sleep(self.FLUSH_S)
            try:
                self.flush()
            except Exception:  # noqa: S110 - a closed stream at exit: nothing to flush into
                pass


class ConsoleFormatter(logging.Formatter):
    """Readable lines for a developer's terminal; access lines add request id, time, user."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = record.__dict__
        if record.name == ACCESS_LOG.name:
            text += f" {extra.get('duration_ms')}ms id={extra.get('request_id')}"
            if extra.get("user_id"):
                text += f" user={extra['user_id']}"
        elif extra.get("request_id"):
            text += f" id={extra['request_id']}"
        return text


def logging_config(style: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server (and uvicorn, which applies it in every
    worker): OCP's and uvicorn's lines in one format on stdout; uvicorn's own access lines off,
    since `ocp.access` writes a richer one."""
    formatter = "json" if style == "json" else "console"
    handler = {
        "class": f"{__name__}.BufferedStreamHandler",
        "formatter": formatter,
        "filters": ["request_id"],
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {
            "json": {"()": f"{__name__}.JsonFormatter"},
            "console": {"()": f"{__name__}.ConsoleFormatter"},
        },
        "handlers": {"default": handler},
        "loggers": {
            "ocp": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
