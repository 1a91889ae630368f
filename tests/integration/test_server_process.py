"""The real thing: `ocp serve` as its own process, spoken to over a TCP socket.

One run against the session's SecantusDB; one with no OCP_MONGODB_URI at all, as `make run`
does, where the server launches the embedded database itself, stops it on SIGTERM and finds
its data again on the next start.
"""

from __future__ import annotations

import subprocess

import httpx

from tests.integration.processes import served
from tests.support import JWT_SECRET, PASSWORD


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


def test_the_embedded_default_keeps_its_data_across_restarts(tmp_path):
    with served(tmp_path) as base:
        _register_and_login(base, "persistent@example.com")
    assert (tmp_path / "jwt-secret").exists()
    assert any((tmp_path / "db").iterdir())
    with served(tmp_path) as base:
        token = _login(base, "persistent@example.com")
        me = httpx.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["email"] == "persistent@example.com"
    # SIGTERM stopped the embedded database too: nothing listens on its port any more.
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--storage-path {tmp_path / 'db'}"], capture_output=True, text=True
    )
    assert leftovers.stdout.strip() == ""
