"""Idempotency keys as a retrying client meets them (in-memory adapters): the first answer
replayed, another body refused, a running first request answered 409, keys per user, and
twenty concurrent identical POSTs creating one course."""

from __future__ import annotations

import asyncio

from ocp.domain.users import Role
from tests.builders import FORM, PNG, file_part, multipart, signed_up

COURSE = {"title": "Retried course"}


def courses_of(container, owner_id: str) -> int:
    """How many courses the owner has in the store (drafts are in no listing)."""
    stored = container.raw_stores().courses._by_id.values()  # noqa: SLF001 (the memory store)
    return sum(1 for course in stored if course.owner_id == owner_id)


async def test_a_retried_post_gets_the_first_answer_and_creates_nothing_more(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    headers = {**teacher.auth, "Idempotency-Key": "create-course-1"}
    first = await client.post("/api/v1/courses", json=COURSE, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/courses", json=COURSE, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert "idempotent-replayed" not in first.headers
    assert courses_of(container, teacher.id) == 1

    other = await client.post(
        "/api/v1/courses", json={"title": "Retried, but another"}, headers=headers
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert "another request" in other.json()["detail"]
    fresh = {**teacher.auth, "Idempotency-Key": "create-course-2"}
    assert (await client.post("/api/v1/courses", json=COURSE, headers=fresh)).status_code == 201
    assert courses_of(container, teacher.id) == 2


async def test_keys_belong_to_their_user_and_malformed_keys_are_400(client, container):
    one = await signed_up(client, container, Role.INSTRUCTOR)
    two = await signed_up(client, container, Role.INSTRUCTOR)
    for account in (one, two):
        made = await client.post(
            "/api/v1/courses", json=COURSE, headers={**account.auth, "Idempotency-Key": "k"}
        )
        assert made.status_code == 201 and "idempotent-replayed" not in made.headers
    for bad in (b"", b"x" * 256, b"tab\there", "é".encode()):
        refused = await client.post(
            "/api/v1/courses", json=COURSE, headers={**one.auth, "Idempotency-Key": bad}
        )
        assert refused.status_code == 400, bad
        assert refused.headers["content-type"] == "application/problem+json"
    anonymous = await client.post("/api/v1/courses", json=COURSE, headers={"Idempotency-Key": "k"})
    assert anonymous.status_code == 401  # the route's own answer: nothing kept


async def test_twenty_concurrent_identical_posts_create_one_course(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    headers = {**teacher.auth, "Idempotency-Key": "burst"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/courses", json=COURSE, headers=headers) for _ in range(20))
    )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    assert courses_of(container, teacher.id) == 1
    replay = await client.post("/api/v1/courses", json=COURSE, headers=headers)
    assert replay.json()["id"] in created and replay.headers["idempotent-replayed"] == "true"


async def test_an_upload_retried_with_its_key_is_stored_once(client, container):
    student = await signed_up(client, container)
    body = multipart(("purpose", b"avatar", None), file_part(PNG, "me.png", "image/png"))
    headers = {**FORM, **student.auth, "Idempotency-Key": "avatar-upload"}
    first = await client.post("/api/v1/files", content=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/files", content=body, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    listed = await client.get("/api/v1/files", headers=student.auth)
    assert [f["id"] for f in listed.json()["items"]] == [first.json()["id"]]


async def test_a_refused_request_is_replayed_and_a_server_error_is_not_kept(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    headers = {**teacher.auth, "Idempotency-Key": "bad-body"}
    refused = await client.post("/api/v1/courses", json={"title": ""}, headers=headers)
    assert refused.status_code == 422
    again = await client.post("/api/v1/courses", json={"title": ""}, headers=headers)
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true"
    # Token routes are left alone: a register retried with a key is a second register.
    body = {"email": "keyed@example.com", "password": "a good password", "full_name": "K"}
    first = await client.post(
        "/api/v1/auth/register", json=body, headers={"Idempotency-Key": "reg"}
    )
    second = await client.post(
        "/api/v1/auth/register", json=body, headers={"Idempotency-Key": "reg"}
    )
    assert (first.status_code, second.status_code) == (201, 409)


async def test_a_logged_out_token_gets_no_replay_and_spends_no_budget(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    headers = {**teacher.auth, "Idempotency-Key": "before-logout"}
    assert (await client.post("/api/v1/courses", json=COURSE, headers=headers)).status_code == 201
    out = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": teacher.refresh_token}, headers=teacher.auth
    )
    assert out.status_code == 204
    replay = await client.post("/api/v1/courses", json=COURSE, headers=headers)
    assert replay.status_code == 401  # the token is dead at the edge too: nothing replayed
    assert "idempotent-replayed" not in replay.headers
    assert "ratelimit-limit" not in replay.headers  # and it counts against nobody's limit
