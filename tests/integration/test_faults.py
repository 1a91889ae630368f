"""Faults on the MongoDB adapter, injected with the server's `configureFailPoint`
(`failCommand`) and scoped by `appName` to the app's own client, so the test's client keeps
working: a dropped connection on a read is retried unseen, a failing write is a 503 problem that
leaves nothing half made, readiness follows the database, and a client that walks away in the
middle of an upload leaves nothing behind."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from ocp.container import Container
from tests.builders import (
    JWT_SECRET,
    a_course,
    a_teacher,
    app_client,
    png_bytes,
    signed_up,
    test_settings,
    url,
)
from tests.integration.processes import serving, wait_until

PNG = png_bytes(bytes(range(200)))
BOUNDARY = "ocp-fault-boundary-1b2c3d"
_apps = itertools.count(1)


class Faults:
    """Failpoints on the app's connections only (`data.appName`)."""

    def __init__(self, admin: AsyncMongoClient[dict[str, Any]], appname: str) -> None:
        self._admin = admin
        self.appname = appname

    async def fail(self, commands: list[str], times: int | None = None, **data: Any) -> None:
        mode: Any = "alwaysOn" if times is None else {"times": times}
        await self._admin.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": mode,
                "data": {"failCommands": commands, "appName": self.appname, **data},
            }
        )

    async def clear(self) -> None:
        await self._admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


@pytest.fixture
def app_settings(tmp_path: Path, mongo_uri: str):
    n = next(_apps)
    return test_settings(
        tmp_path,
        database="mongo",
        mongodb_uri=mongo_uri,
        mongodb_db=f"faults_{n}",
        mongodb_appname=f"ocp-faults-{n}",
        mongodb_timeout_ms=2000,
        file_store="local",
        files_gc_grace_s=0,
    )


@pytest.fixture
async def faults(mongo_client, app_settings) -> AsyncIterator[Faults]:
    injected = Faults(mongo_client, app_settings.mongodb_appname)
    yield injected
    await injected.clear()


@asynccontextmanager
async def running(settings) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    container = Container.for_settings(settings)
    async with app_client(container) as client:
        yield client, container


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    body = response.json()
    assert body["status"] == 503 and "database" in body["detail"]
    text = response.text.lower()
    for leak in ("traceback", "pymongo", "failpoint", "failcommand", "/work/", "errmsg"):
        assert leak not in text


async def test_a_dropped_connection_on_a_read_is_retried_and_nobody_notices(app_settings, faults):
    async with running(app_settings) as (client, container):
        me = await signed_up(client, container)
        # A read past the caches (who the caller is comes from memory; their enrolments don't).
        mine = "/api/v1/users/me/enrollments"
        assert (await client.get(mine, headers=me.auth)).status_code == 200
        await faults.fail(["find"], times=1, closeConnection=True)
        answer = await client.get(mine, headers=me.auth)
        assert answer.status_code == 200 and answer.json()["items"] == []
        # The same fault twice in a row (the retry fails too) is what a client would see.
        await faults.fail(["find"], times=2, closeConnection=True)
        assert_unavailable(await client.get(mine, headers=me.auth))
        assert (await client.get(mine, headers=me.auth)).status_code == 200


async def test_a_failing_registration_is_a_503_and_leaves_the_email_free(app_settings, faults):
    async with running(app_settings) as (client, _):
        body = {"email": "late@example.com", "password": "correct horse battery", "full_name": "L"}
        await faults.fail(["insert"], errorCode=6)  # HostUnreachable, on every attempt
        assert_unavailable(await client.post("/api/v1/auth/register", json=body))
        await faults.clear()
        assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201


async def test_a_failing_enrollment_takes_no_seat(app_settings, faults):
    async with running(app_settings) as (client, container):
        teacher = await a_teacher(client, container)
        course = await a_course(client, teacher, capacity=1)
        student = await signed_up(client, container)
        await faults.fail(["insert"], errorCode=6)
        assert_unavailable(await client.post(url(course, "/enrollments"), headers=student.auth))
        await faults.clear()
        shown = (await client.get(url(course))).json()
        assert shown["enrolled_count"] == 0  # the seat was given back
        assert (
            await client.post(url(course, "/enrollments"), headers=student.auth)
        ).status_code == 201
        again = await client.post(url(course, "/enrollments"), headers=student.auth)
        assert again.status_code == 200
        assert (await client.get(url(course))).json()["enrolled_count"] == 1


def avatar_form(data: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="me.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + (
            f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
            f"avatar\r\n--{BOUNDARY}--\r\n"
        ).encode()
    )


FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def stored_objects(data_dir: Path) -> list[Path]:
    root = data_dir / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_failing_file_record_leaves_no_content_after_gc(app_settings, faults, monkeypatch):
    async with running(app_settings) as (client, container):
        me = await signed_up(client, container)
        await faults.fail(["insert"], errorCode=6)
        failed = await client.post(
            "/api/v1/files", content=avatar_form(PNG), headers={**FORM, **me.auth}
        )
        assert_unavailable(failed)
        await faults.clear()
        listed = await client.get("/api/v1/files", headers=me.auth)
        assert listed.status_code == 200 and listed.json()["items"] == []  # no record
    # `ocp files gc` removes whatever content the failed upload left behind.
    gc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocp.entrypoints.cli",
        "files",
        "gc",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("OCP_")},
            "OCP_MONGODB_URI": app_settings.mongodb_uri,
            "OCP_MONGODB_DB": app_settings.mongodb_db,
            "OCP_DATA_DIR": str(app_settings.data_dir),
            "OCP_FILE_STORE": "local",
            "OCP_FILES_GC_GRACE_S": "0",
            "OCP_JWT_SECRET": JWT_SECRET,
        },
    )
    printed, _ = await asyncio.wait_for(gc.communicate(), 60)
    assert gc.returncode == 0, printed.decode()
    assert stored_objects(app_settings.data_dir) == []
    async with running(app_settings) as (client, container):
        me = await signed_up(client, container)
        done = await client.post(
            "/api/v1/files", content=avatar_form(PNG), headers={**FORM, **me.auth}
        )
        assert done.status_code == 201  # and the same upload works once the database does
        assert len(stored_objects(app_settings.data_dir)) == 1


async def test_readiness_names_the_database_while_it_is_down(app_settings, faults):
    async with running(app_settings) as (client, _):
        assert (await client.get("/readyz")).status_code == 200
        await faults.fail(["ping"], closeConnection=True)
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["failed"] == ["database"]
        assert (await client.get("/healthz")).status_code == 200  # alive all the same
        await faults.clear()
        up = await client.get("/readyz")
        assert up.status_code == 200 and up.json()["failed"] == []


def test_a_client_that_disconnects_mid_upload_leaves_nothing(tmp_path, mongo_uri):
    with serving(
        tmp_path,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="faults_disconnect",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_FILE_STORE="local",
    ) as server:
        email = "walker@example.com"
        body = {"email": email, "password": "correct horse battery", "full_name": "Walker"}
        assert httpx.post(f"{server.base}/api/v1/auth/register", json=body).status_code == 201
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={"username": email, "password": body["password"]},
        ).json()["access_token"]
        head = avatar_form(PNG * 50)[:3000]  # the form's start, far from its end
        port = int(server.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(
                (
                    "POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {token}\r\n"
                    f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                    f"Content-Length: {10_000_000}\r\n\r\n"
                ).encode()
                + head
            )
            # The server has started writing the object before we walk away.
            wait_until(lambda: stored_objects(tmp_path), message="the upload never began")
        # Nothing is left: no object, no temporary file, no record.
        wait_until(lambda: not stored_objects(tmp_path), message="the upload left bytes behind")
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.base}/api/v1/files", headers=auth).json()["items"] == []
        assert httpx.get(f"{server.base}/healthz").status_code == 200
