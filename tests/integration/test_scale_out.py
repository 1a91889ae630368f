"""Scale-out: two `ocp serve` processes on one database behave as one, because every piece of
shared state (token families, login throttles, upload sessions) lives in the database or the
store. And the workers of one server add up to one set of metrics."""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import JWT_SECRET, PASSWORD, png_bytes
from tests.integration.processes import serving, wait_until

PNG = png_bytes(bytes(range(256)) * 64)
_emails = itertools.count(1)


@pytest.fixture(scope="module")
def two_servers(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """Two processes, one database, one disk store (a shared volume)."""
    shared = tmp_path_factory.mktemp("shared-data")
    env = {
        "OCP_MONGODB_URI": mongo_uri,
        "OCP_MONGODB_DB": "scale_out",
        "OCP_JWT_SECRET": JWT_SECRET,
        "OCP_FILE_STORE": "local",
        "OCP_LOGIN_MAX_FAILURES": "4",
        "OCP_REFRESH_REUSE_GRACE_S": "0",  # every replay is one: no two-tabs grace here
    }
    with serving(shared, **env) as a, serving(shared, **env) as b:
        yield a.base, b.base


def register(base: str) -> str:
    email = f"scale{next(_emails)}@example.com"
    created = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "Scaled"},
    )
    assert created.status_code == 201, created.text
    return email


def log_in(base: str, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password})


def test_a_refresh_token_spent_on_one_server_is_refused_on_the_other(two_servers):
    a, b = two_servers
    email = register(a)
    first = log_in(a, email).json()
    rotated = httpx.post(f"{a}/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    replay = httpx.post(f"{b}/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The replay revoked the whole family: the newest token is dead on both servers.
    newest = rotated.json()["refresh_token"]
    for base in (a, b):
        assert (
            httpx.post(f"{base}/api/v1/auth/refresh", json={"refresh_token": newest}).status_code
            == 401
        )


def test_login_failures_on_both_servers_add_up_to_one_throttle(two_servers):
    a, b = two_servers
    email = register(a)
    failures = [log_in(base, email, "not the password").status_code for base in (a, b, a, b)]
    assert failures == [401, 401, 401, 401]
    for base in (a, b):
        throttled = log_in(base, email)  # the right password, and still throttled
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0


def test_a_direct_upload_begun_on_one_server_completes_on_the_other(two_servers):
    a, b = two_servers
    email = register(a)
    auth = {"Authorization": f"Bearer {log_in(a, email).json()['access_token']}"}
    started = httpx.post(
        f"{a}/api/v1/files/uploads",
        json={
            "filename": "me.png",
            "size": len(PNG),
            "content_type": "image/png",
            "purpose": "avatar",
        },
        headers=auth,
    )
    assert started.status_code == 201, started.text
    ticket = started.json()
    assert ticket["url"].startswith(a)
    put = httpx.put(ticket["url"].replace(a, b), content=PNG, headers=ticket["headers"])
    assert put.status_code == 204, put.text
    done = httpx.post(f"{b}/api/v1/files/uploads/{ticket['upload_id']}/complete", headers=auth)
    assert done.status_code == 201, done.text
    file = done.json()
    assert file["sha256"] == hashlib.sha256(PNG).hexdigest()
    for base in (a, b):
        content = httpx.get(f"{base}/api/v1/files/{file['id']}/content", headers=auth)
        assert content.status_code == 200 and content.content == PNG


def samples(base: str) -> dict[tuple[str, frozenset], float]:
    text = httpx.get(f"{base}/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def workers_of(parent: int) -> list[int]:
    """The live worker processes of an `ocp serve` (multiprocessing's helper excluded)."""
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    pids = []
    for pid in found.stdout.split():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            pids.append(int(pid))
    return pids


def test_the_workers_of_one_server_report_one_set_of_metrics(tmp_path: Path, mongo_uri: str):
    with serving(
        tmp_path,
        OCP_WORKERS="2",
        OCP_METRICS_MAX_AGE_S="0",  # the scrape must count the requests just made
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="two_workers",
        OCP_JWT_SECRET=JWT_SECRET,
    ) as server:
        base = server.base
        email = register(base)
        with httpx.Client(base_url=base) as client:  # new connections: both workers answer
            for _ in range(20):
                assert (
                    client.get("/api/v1/users/me", headers={"Connection": "close"}).status_code
                    == 401
                )
            assert log_in(base, email).status_code == 200
        seen = samples(base)
        # A worker that dies is replaced, and the server keeps answering meanwhile.
        first = workers_of(server.process.pid)
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)
        wait_until(
            lambda: len(set(workers_of(server.process.pid)) - {first[0]}) == 2,
            message="the dead worker was not replaced",
        )
        assert httpx.get(f"{base}/healthz").status_code == 200
    assert server.process.returncode == 0  # SIGTERM: every worker drained, a clean exit
    route = frozenset({"method": "GET", "route": "/api/v1/users/me", "status": "4xx"}.items())
    assert seen[("http_requests_total", route)] == 20
    database_calls = [
        value
        for (name, labels), value in seen.items()
        if name == "ocp_backend_call_duration_seconds_count"
        and ("backend", "database") in labels
        and ("port", "users") in labels
    ]
    assert sum(database_calls) >= 2  # the registration and the login read users
    # Each worker wrote its own samples under the data dir, emptied at start.
    assert len({p.name.rsplit("_", 1)[-1] for p in (tmp_path / "prometheus").glob("*.db")}) >= 2


@pytest.mark.parametrize(
    "shared", [False, True], ids=["another program", "another ocp serve (SO_REUSEPORT)"]
)
def test_workers_refuse_to_start_on_a_port_taken_by_another_program(tmp_path, shared):
    with socket.socket() as other:
        if shared:  # what another `ocp serve --workers N` of this user holds
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "ocp.entrypoints.cli", "serve", "--workers", "2"],
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("OCP_")},
                "OCP_DATABASE": "memory",
                "OCP_DATA_DIR": str(tmp_path),
                "OCP_PORT": str(port),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert "cannot listen" in run.stdout + run.stderr
