"""Courses over HTTP on the in-memory adapters: status codes, problem bodies, headers and the
JSON of courses, modules and lessons. The rules themselves: test_course_use_cases.py."""

from __future__ import annotations

import pytest

from ocp.domain.users import Role
from tests.builders import (
    a_draft,
    a_lesson,
    a_module,
    a_published,
    signed_up,
)

API = "/api/v1/courses"


@pytest.fixture
async def teacher(client, container):
    return await signed_up(client, container, Role.INSTRUCTOR)


@pytest.fixture
async def student(client, container):
    return await signed_up(client, container)


# --- creating and reading ------------------------------------------------------------------


async def test_a_created_course_answers_201_with_its_location_etag_and_json(client, teacher):
    response = await client.post(API, json={"title": "Café 101"}, headers=teacher.auth)
    assert response.status_code == 201
    course = response.json()
    assert response.headers["Location"] == f"{API}/{course['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (course["status"], course["slug"], course["owner_id"]) == (
        "draft",
        "cafe-101",
        teacher.id,
    )
    assert course["published_at"] is None
    assert course["enrolled_count"] == 0 and course["rating_avg"] == 0


async def test_students_cannot_create_courses_and_anonymous_callers_must_log_in(client, student):
    response = await client.post(API, json={"title": "Mine"}, headers=student.auth)
    assert response.status_code == 403
    response = await client.post(API, json={"title": "Mine"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "field", [{"status": "published"}, {"owner_id": "x"}, {"enrolled_count": 5}, {"slug": "s"}]
)
async def test_server_owned_fields_are_refused_on_create(client, teacher, field):
    response = await client.post(API, json={"title": "T", **field}, headers=teacher.auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_draft_is_a_404_problem_to_strangers_and_carries_an_etag_for_its_owner(
    client, teacher
):
    course = await a_draft(client, teacher)
    response = await client.get(f"{API}/{course['slug']}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    response = await client.get(f"{API}/{course['id']}", headers=teacher.auth)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'


async def test_a_published_course_reads_anonymously_by_slug_with_a_utc_publication_time(
    client, teacher
):
    course = await a_published(client, teacher)
    response = await client.get(f"{API}/{course['slug']}")
    assert response.status_code == 200
    assert response.json()["id"] == course["id"]
    assert response.json()["published_at"].endswith("Z")


# --- editing ---------------------------------------------------------------------------------


async def test_patch_answers_a_new_etag_refuses_a_stale_if_match_and_clears_with_null(
    client, teacher
):
    course = await a_draft(client, teacher, capacity=30)
    url = f"{API}/{course['id']}"
    etag = (await client.get(url, headers=teacher.auth)).headers["ETag"]
    response = await client.patch(
        url, json={"title": "Renamed"}, headers={**teacher.auth, "If-Match": etag}
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Renamed"
    assert response.headers["ETag"] != etag
    stale = await client.patch(
        url, json={"title": "Lost update"}, headers={**teacher.auth, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    unconditional = await client.patch(url, json={"capacity": None}, headers=teacher.auth)
    assert unconditional.status_code == 200
    assert unconditional.json()["capacity"] is None
    assert unconditional.json()["title"] == "Renamed"


@pytest.mark.parametrize(
    "field",
    [
        {"status": "published"},
        {"owner_id": "someone"},
        {"enrolled_count": 1000},
        {"rating_avg": 5.0},
        {"rating_count": 9},
        {"instructor_ids": []},
        {"unknown": 1},
    ],
)
async def test_patch_refuses_server_owned_and_unknown_fields(client, teacher, field):
    course = await a_draft(client, teacher)
    response = await client.patch(f"{API}/{course['id']}", json=field, headers=teacher.auth)
    assert response.status_code == 422
    assert response.json()["errors"]
    again = await client.get(f"{API}/{course['id']}", headers=teacher.auth)
    assert again.json()["status"] == "draft" and again.json()["owner_id"] == teacher.id


async def test_a_cover_must_be_an_attachable_file(client, teacher):
    course = await a_draft(client, teacher)
    response = await client.patch(
        f"{API}/{course['id']}", json={"cover_file_id": "not-mine"}, headers=teacher.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "cover_file_id"]


# --- deleting ---------------------------------------------------------------------------------


async def test_deleting_answers_204_and_a_refused_deletion_is_a_409_problem(client, teacher):
    draft = await a_draft(client, teacher)
    published = await a_published(client, teacher)
    response = await client.delete(f"{API}/{published['id']}", headers=teacher.auth)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "draft" in response.json()["detail"]
    response = await client.delete(f"{API}/{draft['id']}", headers=teacher.auth)
    assert response.status_code == 204 and response.content == b""


# --- co-instructors ---------------------------------------------------------------------------


async def test_co_instructors_are_put_and_deleted_by_user_id(client, container, teacher):
    course = await a_draft(client, teacher)
    url = f"{API}/{course['id']}/instructors"
    co = await signed_up(client, container, Role.INSTRUCTOR)
    assert (await client.put(f"{url}/{co.id}", headers=teacher.auth)).status_code == 204
    course_now = (await client.get(f"{API}/{course['id']}", headers=co.auth)).json()
    assert course_now["instructor_ids"] == [co.id]
    assert (await client.delete(f"{url}/{co.id}", headers=teacher.auth)).status_code == 204
    course_now = (await client.get(f"{API}/{course['id']}", headers=teacher.auth)).json()
    assert course_now["instructor_ids"] == []


# --- modules and lessons ----------------------------------------------------------------------


async def test_the_outline_lists_modules_and_lesson_outlines_in_order(client, teacher):
    course = await a_draft(client, teacher)
    first = await a_module(client, teacher, course["id"], "First")
    second = await a_module(client, teacher, course["id"], "Second")
    assert (first["position"], second["position"]) == (1, 2)
    one = await a_lesson(client, teacher, course["id"], first["id"], "One", duration_s=90)
    two = await a_lesson(client, teacher, course["id"], first["id"], "Two", kind="video")
    response = await client.get(f"{API}/{course['id']}/modules", headers=teacher.auth)
    assert response.status_code == 200
    outline = response.json()
    assert [m["title"] for m in outline] == ["First", "Second"]
    assert outline[0]["lessons"] == [
        {
            "id": one["id"],
            "title": "One",
            "kind": "text",
            "position": 1,
            "is_preview": False,
            "duration_s": 90,
        },
        {
            "id": two["id"],
            "title": "Two",
            "kind": "video",
            "position": 2,
            "is_preview": False,
            "duration_s": None,
        },
    ]
    assert "body_markdown" not in outline[0]["lessons"][0]


async def test_module_routes_answer_the_module_or_outline_they_changed(client, teacher):
    course = await a_draft(client, teacher)
    a = await a_module(client, teacher, course["id"], "A")
    b = await a_module(client, teacher, course["id"], "B")
    one = await a_lesson(client, teacher, course["id"], a["id"], "One")
    two = await a_lesson(client, teacher, course["id"], a["id"], "Two")
    modules = f"{API}/{course['id']}/modules"
    response = await client.put(
        f"{modules}/order", json={"module_ids": [b["id"], a["id"]]}, headers=teacher.auth
    )
    assert response.status_code == 200
    assert [(m["title"], m["position"]) for m in response.json()] == [("B", 1), ("A", 2)]
    response = await client.put(
        f"{modules}/{a['id']}/lessons/order",
        json={"lesson_ids": [two["id"], one["id"]]},
        headers=teacher.auth,
    )
    assert response.status_code == 200
    assert [lesson["title"] for lesson in response.json()["lessons"]] == ["Two", "One"]
    response = await client.patch(
        f"{modules}/{a['id']}", json={"title": "Renamed", "summary": "s"}, headers=teacher.auth
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["summary"], body["position"]) == ("Renamed", "s", 2)
    assert (await client.delete(f"{modules}/{a['id']}", headers=teacher.auth)).status_code == 204
    assert [m["title"] for m in (await client.get(modules, headers=teacher.auth)).json()] == ["B"]


async def test_a_lesson_answers_its_body_and_etag_and_is_patched_with_if_match(client, teacher):
    course = await a_draft(client, teacher)
    module = await a_module(client, teacher, course["id"])
    lesson = await a_lesson(client, teacher, course["id"], module["id"])
    url = f"/api/v1/lessons/{lesson['id']}"
    response = await client.get(url, headers=teacher.auth)
    assert response.json()["body_markdown"] == "# Hello"
    etag = response.headers["ETag"]
    response = await client.patch(
        url,
        json={"title": "Better", "is_preview": True, "duration_s": 120},
        headers={**teacher.auth, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["is_preview"], body["duration_s"]) == ("Better", True, 120)
    assert response.headers["ETag"] != etag
    stale = await client.patch(url, json={"title": "x"}, headers={**teacher.auth, "If-Match": etag})
    assert stale.status_code == 412
    response = await client.patch(url, json={"course_id": "other"}, headers=teacher.auth)
    assert response.status_code == 422
    assert (await client.delete(url, headers=teacher.auth)).status_code == 204


async def test_a_lesson_file_that_is_not_attachable_or_an_unknown_kind_is_a_422(client, teacher):
    course = await a_draft(client, teacher)
    module = await a_module(client, teacher, course["id"])
    url = f"{API}/{course['id']}/modules/{module['id']}/lessons"
    response = await client.post(
        url, json={"title": "Video", "kind": "video", "file_id": "f1"}, headers=teacher.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "file_id"]
    response = await client.post(url, json={"title": "T", "kind": "slides"}, headers=teacher.auth)
    assert response.status_code == 422
