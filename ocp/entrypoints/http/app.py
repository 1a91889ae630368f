"""The FastAPI application factory: routers, error handling, middleware and the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ocp import container as composition
from ocp.container import Container
from ocp.entrypoints.background import worker_of
from ocp.entrypoints.http import idempotency, limits, observability, problems
from ocp.entrypoints.http.examples import give_examples
from ocp.entrypoints.http.idempotency import IdempotencyKeys
from ocp.entrypoints.http.limits import RateLimited, RateLimits, Rates, rate_limited
from ocp.entrypoints.http.middleware import CorsForAllowedOrigins, RequestContext
from ocp.entrypoints.http.operations import document_headers, name_operations
from ocp.entrypoints.http.routers import (
    assignments,
    audit,
    auth,
    courses,
    docs,
    enrollments,
    files,
    lessons,
    ops,
    problem_types,
    reviews,
    tus,
    users,
    webhooks,
)
from ocp.entrypoints.http.schemas.common import Problem
from ocp.settings import Settings

log = logging.getLogger("ocp")

# Routes are matched in order, one by one: the most requested come first.
ROUTERS = [
    users.router,
    ops.router,
    auth.router,
    courses.router,
    lessons.router,
    tus.router,  # before files: /files/tus is no file id
    files.router,
    enrollments.router,
    assignments.router,
    reviews.router,
    webhooks.router,
    audit.router,
    docs.router,
    problem_types.router,
]


def create_app(container: Container | None = None) -> FastAPI:
    container = container or Container.for_settings(Settings())
    settings: Settings = container.settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await composition.start(container)
        worker = worker_of(container) if settings.worker_in_process else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await composition.stop(container)
            observability.worker_exited()

    app = FastAPI(
        title="OCP — Online Course Portal API",
        version=metadata.version("ocp"),  # the package's: a client knows what it was built on
        description="REST/JSON API for course portals: identity, courses, learning, files.",
        lifespan=lifespan,
        docs_url=None,  # served by routers/docs.py from local assets
        redoc_url=None,
        # OCP has its own metrics and access log (observability.py); FastAPI's OpenTelemetry
        # hooks asked for a provider on every request (a few microseconds each) for nothing.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.container = container
    # Read by every route's guard (routing.GuardedRoute): the cap on any body but an upload's.
    app.state.max_json_bytes = settings.max_json_bytes
    app.state.public_max_age_s = settings.public_max_age_s
    app.state.public_base_url = settings.public_base
    app.state.body_idle_timeout_s = settings.body_idle_timeout_s
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)

    # Innermost: a replayed answer still gets CORS, metrics, the access line and a request id.
    app.add_middleware(
        IdempotencyKeys,
        store=container.idempotency_store,
        sessions=container.session_service,
        clock=container.clock,
        max_body_bytes=settings.max_upload_bytes,
        idle_timeout_s=settings.body_idle_timeout_s,
    )
    # Outside the keys: a limit is checked before anything else is done for a request.
    app.state.rates = Rates.of(
        settings.rate_limit_register,
        settings.rate_limit_login,
        settings.rate_limit_mail,
        settings.rate_limit_writes,
    )
    app.add_middleware(
        RateLimits,
        limiter=container.limiter,
        sessions=container.session_service,
        rates=app.state.rates,
    )
    app.add_exception_handler(RateLimited, rate_limited)
    if settings.cors_origins:
        app.add_middleware(
            CorsForAllowedOrigins,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Range",
                "Idempotency-Key",
            ],
            expose_headers=[
                "ETag",
                "Link",
                "Location",
                "X-Request-ID",
                "Retry-After",
                "Idempotent-Replayed",
            ],
        )
    # Outside CORS, so its answers are counted too; inside RequestContext,
    # which names the request first.
    observability.install(
        app,
        metrics=settings.metrics_enabled,
        token=settings.metrics_token,
        max_age_s=settings.metrics_max_age_s,
        on_api_port=settings.metrics_port is None,
    )
    app.add_middleware(RequestContext, hsts=settings.sends_hsts)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            problems.document_errors(schema)
            idempotency.document(schema)
            limits.document(schema)
            name_operations(schema)
            document_headers(schema)
            give_examples(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
