"""The apps the benchmarks compare: OCP itself on chosen backends, and bare baselines."""

from __future__ import annotations

import os

from fastapi import FastAPI
from pymongo import AsyncMongoClient

from ocp.container import Container
from ocp.entrypoints.http.app import create_app
from ocp.settings import Settings

ME = {
    "id": "01a229f72daf14e714746c46",
    "email": "bench@example.com",
    "full_name": "Bench User",
    "bio": "",
    "role": "student",
    "is_active": True,
    "email_verified": False,
    "avatar_file_id": None,
    "created_at": "2026-11-30T00:59:54.671000Z",
    "updated_at": "2026-11-30T00:59:54.671000Z",
}


def ocp_in_memory() -> FastAPI:
    """OCP with every port on its in-memory adapter (settings from OCP_ variables)."""
    return create_app(Container.for_settings(Settings(database="memory", mail="memory")))


def bare() -> FastAPI:
    """The baseline: FastAPI with one route returning the same JSON as /users/me."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/users/me")
    async def me() -> dict[str, object]:
        return ME

    return app


def bare_mongo() -> FastAPI:
    """The second baseline: FastAPI plus pymongo, one `find_one` by id per request on the
    database at OCP_BENCH_MONGODB_URI (the document is ME, stored there by the benchmark)."""
    app = FastAPI()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        os.environ["OCP_BENCH_MONGODB_URI"]
    )
    users = client["bench_bare"]["users"]

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/users/me")
    async def me() -> dict[str, object] | None:
        return await users.find_one({"_id": ME["id"]})

    return app
