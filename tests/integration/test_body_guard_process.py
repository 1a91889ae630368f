"""Over a real socket, as an attacker would: a huge body offered to a route that will refuse it
is answered before it is sent, and the server closes the connection instead of draining it."""

from __future__ import annotations

import socket

import pytest

from tests.builders import JWT_SECRET
from tests.integration.processes import served

HUGE = 500 * 1024 * 1024


def _offer(base: str, request_head: str, first_bytes: bytes) -> tuple[bytes, bool]:
    """Sends the head and a first piece of the body, then reads the answer without sending
    more; returns the answer and whether the server then closed the connection."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request_head.encode() + first_bytes)
        answer = b""
        closed = False
        while True:
            piece = sock.recv(65536)
            if not piece:
                closed = True
                break
            answer += piece
            head, _, body = answer.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                None,
            )
            if length is not None and len(body) >= length:
                # The whole answer is in; the server must close without waiting for the body.
                closed = sock.recv(1) == b""
                break
        return answer, closed


@pytest.fixture(scope="module")
def base(tmp_path_factory, mongo_uri):
    with served(
        tmp_path_factory.mktemp("guard"),
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="body_guard",
        OCP_JWT_SECRET=JWT_SECRET,
    ) as url:
        yield url


@pytest.mark.parametrize("content_type", ["application/octet-stream", "multipart/form-data"])
def test_anonymous_half_gigabyte_to_a_protected_route_is_401_at_once(base, content_type):
    answer, closed = _offer(
        base,
        "POST /api/v1/courses HTTP/1.1\r\nHost: ocp\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {HUGE}\r\n\r\n",
        b"x" * 65536,
    )
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"application/problem+json" in answer
    assert closed


def test_chunked_body_of_a_wrong_type_to_register_is_415_at_once(base):
    answer, closed = _offer(
        base,
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: ocp\r\n"
        "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"10000\r\n" + b"x" * 65536 + b"\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 415")
    assert closed


def test_declared_json_over_the_cap_is_413_at_once(base):
    answer, closed = _offer(
        base,
        "POST /api/v1/auth/refresh HTTP/1.1\r\nHost: ocp\r\n"
        f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n",
        b'{"refresh_token": "',
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert closed


def test_a_connection_trickling_its_headers_is_closed(tmp_path, mongo_uri):
    with served(
        tmp_path,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="slowloris",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_HEADER_TIMEOUT_S="1",
    ) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=15) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: ocp\r\n")  # and never the blank line
            # Closed by the server's deadline (1 s); the socket's own 15 s would raise instead.
            assert sock.recv(1024) == b""
        # A well-behaved client is unaffected.
        with socket.create_connection((host, int(port)), timeout=15) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: ocp\r\n\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
