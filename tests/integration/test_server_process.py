"""The real thing: `ocp serve` as its own process, spoken to over a TCP socket.

One run against the session's SecantusDB; one with no OCP_MONGODB_URI at all, as `make run`
does, where the server launches the embedded database itself, stops it on SIGTERM and finds
its data again on the next start.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ocp.container import Container, start
from ocp.domain.errors import DomainError
from tests.builders import JWT_SECRET, PASSWORD, test_settings
from tests.integration.processes import served, serving


def _register_and_login(base: str, email: str) -> str:
    created = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "Socket User"},
    )
    assert created.status_code == 201, created.text
    return _login(base, email)


def _login(base: str, email: str) -> str:
    tokens = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["access_token"]


def test_the_server_process_serves_identity_over_a_socket(tmp_path, mongo_uri):
    with served(
        tmp_path, OCP_MONGODB_URI=mongo_uri, OCP_MONGODB_DB="socket_test", OCP_JWT_SECRET=JWT_SECRET
    ) as base:
        token = _register_and_login(base, "socket@example.com")
        me = httpx.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["email"] == "socket@example.com"
        assert httpx.get(f"{base}/readyz").json()["checks"]["database"] == "ok"
        reset = httpx.post(
            f"{base}/api/v1/auth/password-reset/request", json={"email": "socket@example.com"}
        )
        assert reset.status_code == 202
    mails = list((tmp_path / "outbox").glob("*.eml"))
    assert len(mails) == 1 and "socket@example.com" in mails[0].read_text()


def nothing_listens_on(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def no_embedded_database_under(data_dir: Path) -> bool:
    """No SecantusDB process stores its files under `data_dir` (pgrep: 1 is "no match")."""
    found = subprocess.run(
        ["pgrep", "-f", "--", f"--storage-path {data_dir / 'db'}"], capture_output=True, text=True
    )
    assert found.returncode in (0, 1), found.stderr
    return found.returncode == 1


def test_the_embedded_default_keeps_its_data_across_restarts(tmp_path):
    with served(tmp_path) as base:
        _register_and_login(base, "persistent@example.com")
    assert (tmp_path / "jwt-secret").exists()
    assert any((tmp_path / "db").iterdir())
    with serving(tmp_path) as server:
        token = _login(server.base, "persistent@example.com")
        me = httpx.get(
            f"{server.base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.json()["email"] == "persistent@example.com"
    # SIGTERM stopped the embedded database too: nothing listens on its port any more.
    port = re.search(r"embedded database under .* on port (\d+)", server.output())
    assert port is not None
    assert nothing_listens_on(int(port.group(1)))
    assert no_embedded_database_under(tmp_path)


async def test_a_failed_start_up_stops_the_embedded_database_it_launched(tmp_path):
    settings = test_settings(
        tmp_path,
        database="mongo",
        mongodb_uri=None,
        bootstrap_admin_email="not-an-email",
        bootstrap_admin_password=PASSWORD,
    )
    container = Container.for_settings(settings)
    try:
        with pytest.raises(DomainError):
            await start(container)
        embedded = container.embedded_database().launched
        assert embedded is not None  # it was launched, then the bootstrap admin failed
        assert nothing_listens_on(embedded.port)
        assert no_embedded_database_under(tmp_path)
    finally:
        if container.embedded_database().database is not None:
            container.embedded_database().database.stop()


def test_a_failing_cli_command_leaves_no_embedded_database(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "ocp.entrypoints.cli", "users", "create", "--email", "a@b.example"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("OCP_")},
            "OCP_DATA_DIR": str(tmp_path),
            "OCP_BCRYPT_ROUNDS": "4",
            "OCP_NEW_USER_PASSWORD": PASSWORD,
            "OCP_BOOTSTRAP_ADMIN_EMAIL": "not-an-email",
            "OCP_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert (tmp_path / "db").is_dir()  # the embedded database was started
    assert no_embedded_database_under(tmp_path)
