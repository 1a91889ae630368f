"""Idempotency keys across the workers of one `ocp serve --workers 2` on SecantusDB: twenty
concurrent identical POSTs with one key, spread over both workers, create one course, and a
retry afterwards gets the first answer again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from pymongo import MongoClient

from tests.builders import JWT_SECRET, PASSWORD
from tests.integration.processes import serving, wait_until

ADMIN = "keys-admin@example.com"


def test_concurrent_retries_on_two_workers_create_one_course(mongo_uri: str, tmp_path: Path):
    db = "idempotency_process"
    with serving(
        tmp_path,
        OCP_WORKERS="2",
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB=db,
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_BOOTSTRAP_ADMIN_EMAIL=ADMIN,
        OCP_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
    ) as server:
        # Both workers listen (each on its own SO_REUSEPORT socket) before the burst: a new
        # connection may go to either, and one still starting would refuse it.
        wait_until(lambda: all(_fresh_healthz(server.base) for _ in range(20)), seconds=30)
        token = httpx.post(
            f"{server.base}/api/v1/auth/token", data={"username": ADMIN, "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "one-course"}

        async def burst() -> list[httpx.Response]:
            async def one() -> httpx.Response:
                # A client each: new connections, spread over both workers by the kernel.
                async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
                    return await client.post(
                        "/api/v1/courses", json={"title": "Keyed"}, headers=headers
                    )

            return await asyncio.gather(*(one() for _ in range(20)))

        answers = asyncio.run(burst())
        assert {a.status_code for a in answers} <= {201, 409}
        made = {a.json()["id"] for a in answers if a.status_code == 201}
        assert len(made) == 1
        retry = httpx.post(
            f"{server.base}/api/v1/courses", json={"title": "Keyed"}, headers=headers
        )
        assert retry.status_code == 201 and retry.json()["id"] in made
        assert retry.headers["idempotent-replayed"] == "true"
        with MongoClient(mongo_uri) as client:
            assert client[db]["courses"].count_documents({"title": "Keyed"}) == 1
            client.drop_database(db)


def _fresh_healthz(base: str) -> bool:
    try:
        with httpx.Client(base_url=base) as client:  # a new connection each time
            return client.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False
