"""What a client can make the server read before it is refused: nothing of the body for an
anonymous call to a protected route, at most `OCP_MAX_JSON_BYTES` on any route but an upload,
whatever the `Content-Type`; and CORS headers only for the allowed origins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute

from ocp.container import Container
from ocp.domain.users import Role
from ocp.entrypoints.http.app import create_app
from ocp.entrypoints.http.routing import GuardedRoute
from tests.builders import app_client, course_body, signed_up, test_settings

CAP = 4096
CHUNK = b"x" * 1024


@pytest.fixture
def container(tmp_path) -> Container:
    return Container.for_settings(test_settings(tmp_path, max_json_bytes=CAP))


@dataclass
class Trickle:
    """A request body sent chunk by chunk, counting how much of it the server pulled."""

    chunks: int
    chunk: bytes = CHUNK
    pulled: int = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.chunk


@pytest.mark.parametrize(
    "content_type",
    ["application/octet-stream", "application/json", "multipart/form-data; boundary=x", None],
)
async def test_anonymous_body_to_a_protected_route_is_refused_unread(client, content_type):
    body = Trickle(chunks=10_000)  # 10 MB on offer
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/api/v1/courses", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    assert body.pulled == 0


async def test_invalid_token_is_refused_before_the_body_is_read(client):
    body = Trickle(chunks=10_000)
    response = await client.post(
        "/api/v1/courses",
        content=body,
        headers={"Authorization": "Bearer not-a-jwt", "Content-Type": "application/json"},
    )
    assert response.status_code == 401
    assert body.pulled == 0


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/refresh"])
@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain"])
async def test_a_type_a_json_route_does_not_take_is_415_unread(client, path, content_type):
    body = Trickle(chunks=10_000)
    response = await client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert body.pulled == 0


async def test_multipart_to_a_json_route_is_415_unread(client):
    body = Trickle(chunks=10_000)
    response = await client.post(
        "/api/v1/auth/register",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert response.status_code == 415
    assert body.pulled == 0


async def test_declared_length_over_the_cap_is_413_unread(client):
    body = Trickle(chunks=8)
    response = await client.post(
        "/api/v1/auth/register",
        content=body,
        headers={"Content-Type": "application/json", "Content-Length": str(8 * len(CHUNK))},
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert response.headers["connection"] == "close"
    assert body.pulled == 0


async def test_chunked_json_over_the_cap_is_413_not_400(client):
    body = Trickle(chunks=10_000)
    response = await client.post(
        "/api/v1/auth/refresh", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    # It stopped at the first chunk past the cap.
    assert body.pulled == CAP // len(CHUNK) + 1


async def test_form_route_is_capped_too(client):
    body = Trickle(chunks=10_000)
    response = await client.post(
        "/api/v1/auth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert body.pulled == CAP // len(CHUNK) + 1


async def test_a_body_under_the_cap_still_works(client, container):
    staff = await signed_up(client, container, Role.INSTRUCTOR)
    response = await client.post("/api/v1/courses", json=course_body("Guarded"), headers=staff.auth)
    assert response.status_code == 201, response.text


async def test_authenticated_wrong_type_is_415(client, container):
    staff = await signed_up(client, container, Role.INSTRUCTOR)
    response = await client.post(
        "/api/v1/courses",
        content=b'{"title": "x"}',
        headers={**staff.auth, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 415


async def test_route_without_a_body_refuses_a_declared_one_over_the_cap(client, container):
    staff = await signed_up(client, container, Role.INSTRUCTOR)
    body = Trickle(chunks=8)
    response = await client.post(
        "/api/v1/auth/verify-email/request",
        content=body,
        headers={**staff.auth, "Content-Length": str(8 * len(CHUNK))},
    )
    assert response.status_code == 413
    assert body.pulled == 0


async def test_bulk_enrollment_json_is_capped_but_its_csv_is_not(client, container):
    staff = await signed_up(client, container, Role.INSTRUCTOR)
    course = await client.post("/api/v1/courses", json=course_body("Bulk"), headers=staff.auth)
    course_id = course.json()["id"]
    module = await client.post(
        f"/api/v1/courses/{course_id}/modules", json={"title": "M"}, headers=staff.auth
    )
    lesson = await client.post(
        f"/api/v1/courses/{course_id}/modules/{module.json()['id']}/lessons",
        json={"title": "L", "kind": "text", "body_markdown": "hello"},
        headers=staff.auth,
    )
    assert lesson.status_code == 201, lesson.text
    published = await client.post(f"/api/v1/courses/{course_id}/publish", headers=staff.auth)
    assert published.status_code == 200, published.text
    emails = [f"nobody{n}@example.com" for n in range(400)]  # ~10 KB of JSON, over the cap
    too_big = await client.post(
        f"/api/v1/courses/{course_id}/enrollments/bulk", json={"emails": emails}, headers=staff.auth
    )
    assert too_big.status_code == 413
    csv = "\n".join(emails).encode()
    as_csv = await client.post(
        f"/api/v1/courses/{course_id}/enrollments/bulk",
        files={"file": ("students.csv", csv, "text/csv")},
        headers=staff.auth,
    )
    assert as_csv.status_code == 200, as_csv.text
    assert len(as_csv.json()["unknown"]) == 400


async def test_an_upload_streams_past_the_json_cap(client, container):
    user = await signed_up(client, container)
    image = _png()
    assert len(image) > 2 * CAP
    response = await client.post(
        "/api/v1/files",
        data={"purpose": "avatar"},
        files={"file": ("a.png", image, "image/png")},
        headers=user.auth,
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(image)


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 64 for _ in range(64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw) + b"\x00" * 8192)
        + chunk(b"IEND", b"")
    )


def test_every_route_is_guarded(container):
    app = create_app(container)
    api_routes = [route for route in app.routes if isinstance(route, APIRoute)]
    included = [
        route
        for included in app.router.routes
        for route in getattr(getattr(included, "original_router", None), "routes", [])
    ]
    routes = api_routes + included
    assert len(routes) > 60
    assert all(isinstance(route, GuardedRoute) for route in routes)


async def test_cors_gives_foreign_origins_no_cors_headers(tmp_path):
    settings = test_settings(tmp_path, cors_origins="https://app.example.com")
    async with app_client(Container.for_settings(settings)) as http:
        foreign = await http.get("/healthz", headers={"Origin": "https://evil.example.com"})
        assert not [h for h in foreign.headers if h.startswith("access-control-")]
        assert "Origin" in foreign.headers["vary"]
        preflight = await http.options(
            "/api/v1/courses",
            headers={
                "Origin": "https://evil.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert not [h for h in preflight.headers if h.startswith("access-control-")]
        allowed = await http.options(
            "/api/v1/courses",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "POST" in allowed.headers["access-control-allow-methods"]
        simple = await http.get("/healthz", headers={"Origin": "https://app.example.com"})
        assert "X-Request-ID" in simple.headers["access-control-expose-headers"]


async def test_a_422_lists_at_most_50_errors_and_counts_the_rest(tmp_path):
    settings = test_settings(tmp_path)  # the default JSON cap: 60,000 keys fit in 1 MiB
    async with app_client(Container.for_settings(settings)) as http:
        body = {f"k{n}": 0 for n in range(60_000)}
        response = await http.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == 50
    assert problem["errors_omitted"] > 59_000
    assert len(response.content) < 20_000


async def test_a_json_body_that_is_not_utf8_is_a_422(client):
    response = await client.post(
        "/api/v1/auth/register",
        content=b'{"email": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_405_allows_every_method_of_the_path(client):
    response = await client.options("/api/v1/assignments/abc")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
    order = await client.options("/api/v1/courses/abc/modules/order")
    assert order.headers["allow"] == "PUT"
    course = await client.options("/api/v1/courses/abc")
    assert set(course.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


async def test_every_error_the_document_declares_is_problem_json(client):
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
            if "requestBody" in operation:
                assert {"413", "415"} <= set(operation["responses"]), (method, path)


async def test_an_upload_whose_body_stalls_is_dropped_and_leaves_nothing(tmp_path):
    import asyncio

    from tests.builders import png_bytes

    settings = test_settings(tmp_path, body_idle_timeout_s=0.2)
    container = Container.for_settings(settings)
    async with app_client(container) as http:
        me = await signed_up(http, container)
        boundary = "stall"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\navatar\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"'
            "\r\nContent-Type: image/png\r\n\r\n"
        ).encode() + png_bytes(bytes(4096))

        async def stalling():
            yield head
            await asyncio.sleep(5)  # a client that stops sending, never finishing the form
            yield b"never"

        response = await http.post(
            "/api/v1/files",
            content=stalling(),
            headers={**me.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 408
        assert response.headers["content-type"] == "application/problem+json"
        listed = await http.get("/api/v1/files", headers=me.auth)
        assert listed.json()["items"] == []


async def test_a_client_gone_mid_json_body_is_no_server_error(container, caplog):
    """wrk closing its connections at the end of a run, a phone losing signal: the request
    is dropped, nothing is written, and no 500 or error line is logged for it."""
    app = create_app(container)
    async with app.router.lifespan_context(app):
        async with app_client(container) as client:
            me = await signed_up(client, container)
        half = b'{"bio": "half a'
        messages = [{"type": "http.request", "body": half, "more_body": True}]

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        replies: list[dict] = []

        async def send(message):
            replies.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "PATCH",
            "scheme": "http",
            "path": "/api/v1/users/me",
            "raw_path": b"/api/v1/users/me",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", b"100"),
                (b"authorization", me.auth["Authorization"].encode()),
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
            "state": {},
        }
        with caplog.at_level("ERROR"):
            await app(scope, receive, send)
        assert replies[0]["status"] == 400
        assert not [r for r in caplog.records if r.levelname == "ERROR"]
        async with app_client(container) as client:
            shown = await client.get("/api/v1/users/me", headers=me.auth)
        assert shown.json()["bio"] == ""
