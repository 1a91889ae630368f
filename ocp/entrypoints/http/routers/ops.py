"""Operational endpoints: liveness and readiness (503 while the process drains)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ocp.entrypoints.draining import DRAIN
from ocp.entrypoints.http.routing import GuardedRoute

router = APIRouter(tags=["operations"], route_class=GuardedRoute)


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the database and the file store answer, and the process is not draining",
    responses={
        503: {
            "description": "a dependency is down (`failed` names it), or the process got "
            "SIGTERM and is draining (`status`: `draining`)"
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    if DRAIN.draining:  # leaving: load balancers should send nothing new, whatever answers
        return JSONResponse({"status": "draining", "checks": {}, "failed": []}, status_code=503)
    checks = request.app.state.container.readiness_checks()
    names = list(checks)
    results = await asyncio.gather(*(checks[name].ready() for name in names))
    failed = [name for name, ok in zip(names, results, strict=True) if not ok]
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {
            name: ("ok" if ok else "failed") for name, ok in zip(names, results, strict=True)
        },
        "failed": failed,
    }
    return JSONResponse(body, status_code=503 if failed else 200)
