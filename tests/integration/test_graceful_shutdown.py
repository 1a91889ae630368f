"""SIGTERM drains: a request in flight when the signal comes still gets its answer, then the
server closes its database and store clients and exits 0."""

from __future__ import annotations

import json
import signal
import socket

import httpx
import pytest

from tests.builders import JWT_SECRET, PASSWORD, png_bytes
from tests.integration.processes import serving, wait_until

BOUNDARY = "ocp-drain-boundary-9f8e7d"
PNG = png_bytes(bytes(range(256)) * 400)


def avatar_form(data: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\navatar\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="me.png"'
            f"\r\nContent-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def read_response(raw: socket.socket) -> bytes:
    answer = b""
    while chunk := raw.recv(65536):
        answer += chunk
    return answer


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_lets_an_upload_in_flight_finish_then_exits_cleanly(tmp_path, mongo_uri, workers):
    with serving(
        tmp_path,
        OCP_WORKERS=workers,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB=f"graceful_shutdown_{workers}",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_FILE_STORE="local",
        OCP_LOG_FORMAT="json",
    ) as server:
        email = "drain@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": "Drain"}
        assert httpx.post(f"{server.base}/api/v1/auth/register", json=body).status_code == 201
        token = httpx.post(
            f"{server.base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
        ).json()["access_token"]
        form = avatar_form(PNG)
        half = len(form) // 2
        port = int(server.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            raw.sendall(
                (
                    "POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    f"Authorization: Bearer {token}\r\n"
                    f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                    f"Content-Length: {len(form)}\r\n\r\n"
                ).encode()
                + form[:half]
            )
            files = tmp_path / "files"
            wait_until(
                lambda: files.exists() and any(p.is_file() for p in files.rglob("*")),
                message="the upload never began",
            )
            server.process.send_signal(signal.SIGTERM)
            # The server stops taking new connections, and keeps this one.
            wait_until(lambda: refused(port), message="the server kept accepting connections")
            raw.sendall(form[half:])
            answer = read_response(raw)
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        assert server.process.wait(30) == 0
        printed = server.output()
    # Every worker ran its lifespan's shutdown, which closes the database and store clients.
    assert printed.count("Application shutdown complete") == int(workers)
    lines = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    uploads = [x for x in lines if x.get("route") == "/api/v1/files" and x["method"] == "POST"]
    assert [x["status"] for x in uploads] == [201]


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


@pytest.mark.parametrize("workers", ["1", "2"])
def test_readyz_answers_503_while_draining_and_the_request_in_flight_finishes(
    tmp_path, mongo_uri, workers
):
    """With OCP_DRAIN_DELAY_S, SIGTERM first turns /readyz to 503 while the server still
    accepts (a load balancer polling it takes the process out), then the drain goes on as
    above: no new connections, the request under way answered, exit 0."""
    with serving(
        tmp_path,
        OCP_WORKERS=workers,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB=f"draining_{workers}",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_FILE_STORE="local",
        OCP_DRAIN_DELAY_S="5",
    ) as server:
        email = "leaving@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": "Leaving"}
        assert httpx.post(f"{server.base}/api/v1/auth/register", json=body).status_code == 201
        token = httpx.post(
            f"{server.base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
        ).json()["access_token"]
        assert httpx.get(f"{server.base}/readyz").status_code == 200
        form = avatar_form(PNG)
        half = len(form) // 2
        port = int(server.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            raw.sendall(
                (
                    "POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    f"Authorization: Bearer {token}\r\n"
                    f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                    f"Content-Length: {len(form)}\r\n\r\n"
                ).encode()
                + form[:half]
            )
            files = tmp_path / "files"
            wait_until(
                lambda: files.exists() and any(p.is_file() for p in files.rglob("*")),
                message="the upload never began",
            )
            server.process.send_signal(signal.SIGTERM)
            draining = wait_until(
                lambda: draining_answer(server.base),
                message="/readyz never answered 503 while draining",
            )
            assert draining["status"] == "draining"
            assert httpx.get(f"{server.base}/healthz").status_code == 200  # alive, leaving
            raw.sendall(form[half:])
            answer = read_response(raw)
            assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
            # The delay over, the drain goes on as without one.
            wait_until(lambda: refused(port), message="the server kept accepting connections")
        assert server.process.wait(30) == 0
        printed = server.output()
    assert printed.count("Application shutdown complete") == int(workers)


def draining_answer(base: str) -> dict | None:
    """/readyz's body when it answers 503 (with several workers, until each got the signal,
    some still answer 200)."""
    try:
        response = httpx.get(f"{base}/readyz", timeout=2)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 503 else None
