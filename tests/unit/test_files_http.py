"""Files over HTTP on the in-memory adapters: uploads, the bad inputs, downloads with ranges
and validators, who may read what, direct uploads, deletion."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from ocp.container import Container
from ocp.domain.users import Role
from ocp.entrypoints.http.app import create_app
from tests.builders import (
    FORM,
    PDF,
    PNG,
    a_course_of,
    a_lesson_in,
    app_client,
    course_body,
    file_part,
    multipart,
    signed_up,
    upload,
)
from tests.builders import test_settings as settings_for

TEXT = "Hello, wörld\n".encode() * 20


async def stored_keys(container: Container) -> set[str]:
    return {info.key async for info in container.file_store().list_objects()}


# --- uploads -------------------------------------------------------------------------------


async def test_an_upload_answers_with_its_metadata_and_the_sniffed_type(client, container):
    me = await signed_up(client, container)
    response = await upload(
        client, me, PNG, "avatar", filename="me.pdf", declared="application/pdf"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/png"  # the bytes decide, not the declaration
    assert body["size"] == len(PNG)
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert (body["purpose"], body["owner_id"], body["course_id"]) == ("avatar", me.id, None)
    assert body["filename"] == "me.pdf"


async def test_fields_may_come_before_the_file(client, container):
    me = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await a_course_of(container, me)
    body = multipart(
        ("course_id", course_id.encode(), None),
        ("purpose", b"lesson_material", None),
        file_part(PDF),
    )
    response = await client.post("/api/v1/files", content=body, headers={**FORM, **me.auth})
    assert response.status_code == 201, response.text
    assert response.json()["course_id"] == course_id
    assert response.json()["content_type"] == "application/pdf"


async def test_content_a_purpose_refuses_answers_415_as_a_problem(client, container):
    me = await signed_up(client, container)
    response = await upload(client, me, TEXT, "avatar", filename="me.png", declared="image/png")
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "parts",
    [
        [file_part(PNG), ("purpose", b"avatar", None), ("owner_id", b"someone", None)],
        [file_part(PNG), file_part(PNG), ("purpose", b"avatar", None)],
    ],
)
async def test_a_form_with_unknown_or_repeated_parts_is_refused_and_leaves_nothing(
    client, container, parts
):
    me = await signed_up(client, container)
    response = await client.post(
        "/api/v1/files", content=multipart(*parts), headers={**FORM, **me.auth}
    )
    assert response.status_code == 422, response.text
    assert await stored_keys(container) == set()


async def test_a_refused_course_upload_names_the_course_field(client, container):
    me = await signed_up(client, container)
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await a_course_of(container, teacher)
    refused = await upload(client, me, PDF, "lesson_material", course_id)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "course_id"]


async def test_a_body_that_is_not_multipart_is_refused(client, container):
    me = await signed_up(client, container)
    response = await client.post("/api/v1/files", json={"purpose": "avatar"}, headers=me.auth)
    assert response.status_code == 415


async def test_uploading_needs_a_bearer_token(client):
    body = multipart(file_part(PNG), ("purpose", b"avatar", None))
    response = await client.post("/api/v1/files", content=body, headers=FORM)
    assert response.status_code == 401


@pytest.fixture
async def small_limit(tmp_path: Path):
    container = Container.for_settings(settings_for(tmp_path, max_upload_bytes=10_000))
    async with app_client(container) as http:
        yield http, container


async def test_an_oversize_upload_is_refused_and_leaves_nothing(small_limit):
    client, container = small_limit
    me = await signed_up(client, container)
    data = PNG + b"\x00" * 20_000

    async def streamed():  # no Content-Length: the limit is enforced while streaming
        body = multipart(file_part(data), ("purpose", b"avatar", None))
        for offset in range(0, len(body), 4096):
            yield body[offset : offset + 4096]

    response = await client.post("/api/v1/files", content=streamed(), headers={**FORM, **me.auth})
    assert response.status_code == 413
    assert await stored_keys(container) == set()


async def test_a_declared_length_over_the_limit_is_refused_before_reading(small_limit):
    client, container = small_limit
    me = await signed_up(client, container)
    body = multipart(file_part(PNG + b"\x00" * 2_000_000), ("purpose", b"avatar", None))
    response = await client.post("/api/v1/files", content=body, headers={**FORM, **me.auth})
    assert response.status_code == 413
    assert await stored_keys(container) == set()


@pytest.mark.parametrize("ending", ["disconnect", "error"])
async def test_a_client_gone_mid_upload_leaves_no_record_and_no_object(tmp_path, ending):
    container = Container.for_settings(settings_for(tmp_path, file_store="local"))
    app = create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            me = await signed_up(client, container)
        body = multipart(file_part(PNG + b"\x00" * 3_000_000), ("purpose", b"avatar", None))
        sent = body[:2_000_000]
        messages = [
            {"type": "http.request", "body": sent[i : i + 65_536], "more_body": True}
            for i in range(0, len(sent), 65_536)
        ]

        async def receive():
            if messages:
                return messages.pop(0)
            if ending == "error":
                raise OSError("connection reset by peer")
            return {"type": "http.disconnect"}

        replies = []

        async def send(message):
            replies.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/files",
            "raw_path": b"/api/v1/files",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", FORM["Content-Type"].encode()),
                (b"content-length", str(len(body)).encode()),
                (b"authorization", me.auth["Authorization"].encode()),
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
            "state": {},
        }
        try:
            await app(scope, receive, send)
        except OSError:
            pass  # a server would log it; what matters is what was left behind
        assert not messages  # the upload really was under way
        assert await stored_keys(container) == set()
        drafts = list((tmp_path / "files" / "tmp").glob("*"))
        assert drafts == []
        page = await container.file_service().list_files(
            await container.users().get(me.id), limit=10
        )
        assert page.items == []


# --- downloads -----------------------------------------------------------------------------


@pytest.fixture
async def material(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await a_course_of(container, teacher)
    data = (b"PK\x03\x04" + bytes(range(256)) * 4)[:1024]  # a ZIP archive
    response = await upload(client, teacher, data, "lesson_material", course_id, filename="n.bin")
    assert response.status_code == 201
    return teacher, response.json(), data


async def test_a_download_streams_the_content_with_its_headers(client, material):
    teacher, file, data = material
    response = await client.get(f"/api/v1/files/{file['id']}/content", headers=teacher.auth)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == "1024"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{file["sha256"]}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private"
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_the_content_type_is_the_sniffed_one(client, container):
    me = await signed_up(client, container)
    file = (await upload(client, me, PNG, "avatar", declared="text/html")).json()
    response = await client.get(f"/api/v1/files/{file['id']}/content")
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"


async def test_pdf_and_text_are_downloaded_sandboxed_never_shown_inline(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course = await client.post(
        "/api/v1/courses", json=course_body("Sandboxed"), headers=teacher.auth
    )
    for content in (PDF, b"plain notes <script>alert(1)</script>\n"):
        file = (
            await upload(client, teacher, content, "lesson_material", course.json()["id"])
        ).json()
        for extra in ({}, {"Range": "bytes=0-3"}):
            response = await client.get(
                f"/api/v1/files/{file['id']}/content", headers={**teacher.auth, **extra}
            )
            assert response.status_code in (200, 206)
            assert response.headers["content-disposition"].startswith("attachment;")
            assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=1000-99999", 1000, 1023),
        ("bytes=-5000", 0, 1023),
    ],
)
async def test_a_range_gets_206_with_exactly_those_bytes(client, material, header, start, end):
    teacher, file, data = material
    response = await client.get(
        f"/api/v1/files/{file['id']}/content", headers={**teacher.auth, "Range": header}
    )
    assert response.status_code == 206
    assert response.content == data[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/1024"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize(
    "header", ["bytes=1024-", "bytes=5000-6000", "bytes=20-10", "bytes=abc", "bytes=-0", "bytes=-"]
)
async def test_invalid_or_past_the_end_ranges_get_416(client, material, header):
    teacher, file, _ = material
    response = await client.get(
        f"/api/v1/files/{file['id']}/content", headers={**teacher.auth, "Range": header}
    )
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"


async def test_a_stale_if_range_gets_the_whole_content(client, material):
    teacher, file, data = material
    response = await client.get(
        f"/api/v1/files/{file['id']}/content",
        headers={**teacher.auth, "Range": "bytes=0-9", "If-Range": '"other"'},
    )
    assert response.status_code == 200 and response.content == data


async def test_if_none_match_with_the_etag_gets_304(client, material):
    teacher, file, _ = material
    url = f"/api/v1/files/{file['id']}/content"
    etag = (await client.get(url, headers=teacher.auth)).headers["etag"]
    response = await client.get(url, headers={**teacher.auth, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    other = await client.get(url, headers={**teacher.auth, "If-None-Match": '"nope"'})
    assert other.status_code == 200


WHAT_HEAD_SHOWS = (
    "content-length",
    "content-type",
    "etag",
    "accept-ranges",
    "content-disposition",
    "cache-control",
    "content-security-policy",
    "x-content-type-options",
)


async def test_head_on_the_content_answers_gets_headers_without_reading_the_store(
    client, container, material, monkeypatch
):
    teacher, file, _ = material
    url = f"/api/v1/files/{file['id']}/content"
    got = await client.get(url, headers=teacher.auth)

    async def no_read(*args, **kwargs):
        raise AssertionError("HEAD read the stored content")

    monkeypatch.setattr(container.file_store(), "open", no_read)
    head = await client.head(url, headers=teacher.auth)
    assert head.status_code == 200
    assert head.content == b""
    assert {h: head.headers.get(h) for h in WHAT_HEAD_SHOWS} == {
        h: got.headers.get(h) for h in WHAT_HEAD_SHOWS
    }
    assert head.headers["content-length"] == "1024"
    # Range is for GET alone: HEAD describes the whole content.
    ranged = await client.head(url, headers={**teacher.auth, "Range": "bytes=0-9"})
    assert ranged.status_code == 200 and ranged.headers["content-length"] == "1024"
    assert "content-range" not in ranged.headers
    fresh = await client.head(url, headers={**teacher.auth, "If-None-Match": got.headers["etag"]})
    assert fresh.status_code == 304 and fresh.headers["etag"] == got.headers["etag"]


async def test_head_on_the_content_asks_what_get_asks(client, container, material):
    _, file, _ = material
    url = f"/api/v1/files/{file['id']}/content"
    stranger = await signed_up(client, container)
    assert (await client.head(url, headers=stranger.auth)).status_code == 404
    assert (await client.head(url)).status_code == 404  # anonymous: lesson material is private
    assert (await client.head("/api/v1/files/doesnotexist/content")).status_code == 404
    me = await signed_up(client, container)
    avatar = (await upload(client, me, PNG, "avatar")).json()
    public = await client.head(f"/api/v1/files/{avatar['id']}/content")  # avatars are public
    assert public.status_code == 200
    assert public.headers["content-type"] == "image/png"
    assert public.headers["content-length"] == str(len(PNG))


async def test_a_unicode_filename_gets_an_rfc6266_disposition(client, container):
    me = await signed_up(client, container)
    name = 'Résumé "final" €.pdf'
    file = (await upload(client, me, PNG, "avatar", filename=name)).json()
    response = await client.get(f"/api/v1/files/{file['id']}/content")
    disposition = response.headers["content-disposition"]
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%20%E2%82%AC.pdf" in disposition
    assert 'filename="Resume _final_ .pdf"' in disposition


async def test_a_file_one_may_not_read_answers_like_a_missing_one(client, container, material):
    _, file, _ = material
    other = await signed_up(client, container)
    for path in ("", "/content"):
        response = await client.get(f"/api/v1/files/{file['id']}{path}", headers=other.auth)
        assert response.status_code == 404
        assert response.json()["detail"] == "no such file"
    missing = await client.get("/api/v1/files/doesnotexist", headers=other.auth)
    assert missing.json() == {**response.json(), "instance": "/api/v1/files/doesnotexist"}


# --- listing, avatars, deletion ------------------------------------------------------------


async def test_a_page_of_files_links_to_the_next_and_a_forged_cursor_is_refused(client, container):
    me = await signed_up(client, container)
    ids = [(await upload(client, me, PNG, "avatar")).json()["id"] for _ in range(3)]
    first = await client.get("/api/v1/files?limit=2", headers=me.auth)
    assert [f["id"] for f in first.json()["items"]] == ids[::-1][:2]
    assert 'rel="next"' in first.headers["link"]
    second = await client.get(
        f"/api/v1/files?limit=2&cursor={first.json()['next_cursor']}", headers=me.auth
    )
    assert [f["id"] for f in second.json()["items"]] == [ids[0]]
    assert second.json()["next_cursor"] is None
    assert "link" not in second.headers
    assert (await client.get("/api/v1/files?cursor=%%%", headers=me.auth)).status_code in (
        400,
        422,
    )


async def test_deleting_answers_403_to_a_reader_and_204_to_the_owner(client, container):
    me, other = await signed_up(client, container), await signed_up(client, container)
    file = (await upload(client, me, PNG, "avatar")).json()
    refused = await client.delete(f"/api/v1/files/{file['id']}", headers=other.auth)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.delete(f"/api/v1/files/{file['id']}", headers=me.auth)).status_code == 204


async def test_deleting_a_file_in_use_answers_409_with_the_reason(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await a_course_of(container, teacher)
    file = (await upload(client, teacher, PDF, "lesson_material", course_id)).json()
    await a_lesson_in(container, teacher, course_id, file["id"])
    refused = await client.delete(f"/api/v1/files/{file['id']}", headers=teacher.auth)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "a lesson still uses this file"


# --- direct uploads ------------------------------------------------------------------------


async def start_direct(client, account, size, purpose="avatar", **extra):
    body = {"filename": "big.png", "size": size, "content_type": "image/png", "purpose": purpose}
    return await client.post("/api/v1/files/uploads", json={**body, **extra}, headers=account.auth)


async def test_a_direct_upload_to_the_apis_own_url_end_to_end(client, container):
    me = await signed_up(client, container)
    started = await start_direct(client, me, len(PNG))
    assert started.status_code == 201, started.text
    ticket = started.json()
    assert ticket["method"] == "PUT"
    assert ticket["url"].startswith("http://127.0.0.1:8000/api/v1/files/uploads/")
    assert ticket["headers"]["X-Upload-Token"]
    complete = f"/api/v1/files/uploads/{ticket['upload_id']}/complete"
    put = await client.put(
        ticket["url"].removeprefix("http://127.0.0.1:8000"), content=PNG, headers=ticket["headers"]
    )
    assert put.status_code == 204, put.text
    done = await client.post(complete, headers=me.auth)
    assert done.status_code == 201, done.text
    file = done.json()
    assert (file["size"], file["content_type"], file["filename"]) == (
        len(PNG),
        "image/png",
        "big.png",
    )
    assert file["sha256"] == hashlib.sha256(PNG).hexdigest()
    content = await client.get(f"/api/v1/files/{file['id']}/content")
    assert content.content == PNG


async def test_direct_upload_bytes_need_the_token_header_of_their_ticket(client, container):
    me = await signed_up(client, container)
    ticket = (await start_direct(client, me, len(PNG))).json()
    wrong = {**ticket["headers"], "X-Upload-Token": "guess"}
    assert (await client.put(ticket["url"], content=PNG, headers=wrong)).status_code == 404
    missing = {"Content-Type": "application/octet-stream"}
    assert (await client.put(ticket["url"], content=PNG, headers=missing)).status_code == 422


async def test_a_direct_upload_request_with_unknown_fields_or_values_is_refused(client, container):
    me = await signed_up(client, container)
    assert (await start_direct(client, me, 10, purpose="selfie")).status_code == 422
    assert (await start_direct(client, me, 10, role="admin")).status_code == 422
    assert (await start_direct(client, me, -1)).status_code == 422


async def test_the_file_store_is_part_of_readiness(client):
    response = await client.get("/readyz")
    assert json.loads(response.content)["checks"]["file_store"] == "ok"


async def test_the_direct_upload_url_never_comes_from_the_host_header(tmp_path):
    from ocp.container import Container
    from tests.builders import app_client, test_settings

    settings = test_settings(tmp_path, public_base_url="https://api.example.org/")
    container = Container.for_settings(settings)
    async with app_client(container) as http:
        me = await signed_up(http, container)
        started = await http.post(
            "/api/v1/files/uploads",
            json={"filename": "a.png", "size": len(PNG), "content_type": "image/png"}
            | {"purpose": "avatar"},
            headers={**me.auth, "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        )
    assert started.status_code == 201, started.text
    assert started.json()["url"].startswith("https://api.example.org/api/v1/files/uploads/")
