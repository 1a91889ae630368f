"""Courses over HTTP on the in-memory adapters: status codes, problem bodies, headers, paging."""

from __future__ import annotations

import pytest

from ocp.domain.users import Role
from tests.builders import (
    a_draft,
    a_lesson,
    a_module,
    a_published,
    enrolled_in,
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


async def test_an_instructor_creates_a_draft_with_a_slug_from_its_title(client, teacher):
    course = await a_draft(client, teacher, "Café & Crème: Ünicode 101")
    assert course["status"] == "draft"
    assert course["slug"] == "cafe-creme-unicode-101"
    assert course["owner_id"] == teacher.id
    assert course["published_at"] is None
    assert course["enrolled_count"] == 0 and course["rating_avg"] == 0


async def test_a_second_course_of_the_same_title_gets_a_suffixed_slug(client, teacher):
    first = await a_draft(client, teacher, "Same Title")
    second = await a_draft(client, teacher, "Same Title")
    assert first["slug"] == "same-title"
    assert second["slug"].startswith("same-title-") and second["slug"] != first["slug"]
    by_slug = await client.get(f"{API}/{second['slug']}", headers=teacher.auth)
    assert by_slug.json()["id"] == second["id"]


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


async def test_a_draft_is_invisible_to_everyone_but_its_staff(client, container, teacher):
    course = await a_draft(client, teacher)
    other = await signed_up(client, container, Role.INSTRUCTOR)
    student = await signed_up(client, container)
    admin = await signed_up(client, container, Role.ADMIN)
    for who in ({}, student.auth, other.auth):
        assert (await client.get(f"{API}/{course['id']}", headers=who)).status_code == 404
        assert (await client.get(f"{API}/{course['slug']}", headers=who)).status_code == 404
        response = await client.get(f"{API}/{course['id']}/modules", headers=who)
        assert response.status_code == 404
    for who in (teacher.auth, admin.auth):
        response = await client.get(f"{API}/{course['id']}", headers=who)
        assert response.status_code == 200
        assert response.headers["ETag"] == '"1"'


async def test_a_published_course_is_readable_by_anyone_by_id_or_slug(client, teacher):
    course = await a_published(client, teacher)
    for key in (course["id"], course["slug"]):
        response = await client.get(f"{API}/{key}")
        assert response.status_code == 200
        assert response.json()["status"] == "published"
        assert response.json()["published_at"].endswith("Z")
    assert (await client.get(f"{API}/no-such-course")).status_code == 404


# --- editing ---------------------------------------------------------------------------------


async def test_patch_changes_course_fields_and_honours_if_match(client, teacher):
    course = await a_draft(client, teacher)
    url = f"{API}/{course['id']}"
    etag = (await client.get(url, headers=teacher.auth)).headers["ETag"]
    response = await client.patch(
        url,
        json={"title": "Renamed", "tags": ["Data", "data"], "capacity": 30, "level": "advanced"},
        headers={**teacher.auth, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["tags"], body["capacity"], body["level"]) == (
        "Renamed",
        ["data"],
        30,
        "advanced",
    )
    assert body["slug"] == course["slug"]  # links keep working
    assert response.headers["ETag"] != etag
    stale = await client.patch(
        url, json={"title": "Lost update"}, headers={**teacher.auth, "If-Match": etag}
    )
    assert stale.status_code == 412
    unconditional = await client.patch(url, json={"capacity": None}, headers=teacher.auth)
    assert unconditional.status_code == 200 and unconditional.json()["capacity"] is None


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


async def test_only_staff_edit_a_course(client, container, teacher):
    published = await a_published(client, teacher)
    draft = await a_draft(client, teacher)
    other = await signed_up(client, container, Role.INSTRUCTOR)
    response = await client.patch(
        f"{API}/{published['id']}", json={"title": "Mine now"}, headers=other.auth
    )
    assert response.status_code == 403
    response = await client.patch(
        f"{API}/{draft['id']}", json={"title": "Mine now"}, headers=other.auth
    )
    assert response.status_code == 404


# --- lifecycle --------------------------------------------------------------------------------


async def test_publishing_needs_a_lesson(client, teacher):
    course = await a_draft(client, teacher)
    response = await client.post(f"{API}/{course['id']}/publish", headers=teacher.auth)
    assert response.status_code == 409
    assert "lesson" in response.json()["detail"]
    await a_module(client, teacher, course["id"])  # a module alone is not enough
    response = await client.post(f"{API}/{course['id']}/publish", headers=teacher.auth)
    assert response.status_code == 409


async def test_draft_published_archived_and_back(client, teacher):
    course = await a_published(client, teacher)
    url = f"{API}/{course['id']}"
    assert course["published_at"] is not None
    response = await client.post(f"{url}/unpublish", headers=teacher.auth)
    assert response.json()["status"] == "draft"
    assert (await client.get(url)).status_code == 404
    response = await client.post(f"{url}/archive", headers=teacher.auth)
    assert response.status_code == 409  # a draft is not archived
    await client.post(f"{url}/publish", headers=teacher.auth)
    response = await client.post(f"{url}/archive", headers=teacher.auth)
    assert response.status_code == 200 and response.json()["status"] == "archived"
    assert (await client.get(url)).status_code == 404
    assert (await client.post(f"{url}/publish", headers=teacher.auth)).status_code == 409


async def test_only_the_owner_or_an_admin_publishes(client, container, teacher):
    course = await a_draft(client, teacher)
    module = await a_module(client, teacher, course["id"])
    await a_lesson(client, teacher, course["id"], module["id"])
    co = await signed_up(client, container, Role.INSTRUCTOR)
    await client.put(f"{API}/{course['id']}/instructors/{co.id}", headers=teacher.auth)
    response = await client.post(f"{API}/{course['id']}/publish", headers=co.auth)
    assert response.status_code == 403
    admin = await signed_up(client, container, Role.ADMIN)
    response = await client.post(f"{API}/{course['id']}/publish", headers=admin.auth)
    assert response.status_code == 200


async def test_only_a_draft_without_enrollments_is_deleted(client, container, teacher):
    draft = await a_draft(client, teacher)
    published = await a_published(client, teacher)
    response = await client.delete(f"{API}/{published['id']}", headers=teacher.auth)
    assert response.status_code == 409
    enrolled = await a_published(client, teacher, "Has students")
    student = await signed_up(client, container)
    await enrolled_in(container, student, enrolled["id"])
    await client.post(f"{API}/{enrolled['id']}/unpublish", headers=teacher.auth)
    response = await client.delete(f"{API}/{enrolled['id']}", headers=teacher.auth)
    assert response.status_code == 409
    response = await client.delete(f"{API}/{draft['id']}", headers=teacher.auth)
    assert response.status_code == 204
    assert (await client.get(f"{API}/{draft['id']}", headers=teacher.auth)).status_code == 404


# --- co-instructors ---------------------------------------------------------------------------


async def test_co_instructors_must_be_instructors_and_then_may_edit(client, container, teacher):
    course = await a_draft(client, teacher)
    url = f"{API}/{course['id']}/instructors"
    student = await signed_up(client, container)
    assert (await client.put(f"{url}/{student.id}", headers=teacher.auth)).status_code == 422
    assert (await client.put(f"{url}/nobody", headers=teacher.auth)).status_code == 422
    co = await signed_up(client, container, Role.INSTRUCTOR)
    assert (await client.put(f"{url}/{co.id}", headers=teacher.auth)).status_code == 204
    assert (await client.put(f"{url}/{co.id}", headers=teacher.auth)).status_code == 204
    course_now = (await client.get(f"{API}/{course['id']}", headers=co.auth)).json()
    assert course_now["instructor_ids"] == [co.id]
    response = await client.patch(
        f"{API}/{course['id']}", json={"summary": "by co"}, headers=co.auth
    )
    assert response.status_code == 200
    third = await signed_up(client, container, Role.INSTRUCTOR)
    assert (await client.put(f"{url}/{third.id}", headers=co.auth)).status_code == 403
    assert (await client.delete(f"{url}/{co.id}", headers=teacher.auth)).status_code == 204
    assert (await client.get(f"{API}/{course['id']}", headers=co.auth)).status_code == 404


async def test_a_stranger_adding_co_instructors_learns_nothing_about_user_ids(
    client, container, teacher
):
    draft = await a_draft(client, teacher)
    published = await a_published(client, teacher)
    stranger = await signed_up(client, container, Role.INSTRUCTOR)
    student = await signed_up(client, container)
    for user_id in (stranger.id, student.id, "nobody"):
        response = await client.put(
            f"{API}/{draft['id']}/instructors/{user_id}", headers=stranger.auth
        )
        assert response.status_code == 404, user_id
        response = await client.put(
            f"{API}/{published['id']}/instructors/{user_id}", headers=stranger.auth
        )
        assert response.status_code == 403, user_id


async def test_a_stranger_setting_a_cover_gets_403_or_404_before_any_file_check(
    client, container, teacher
):
    draft = await a_draft(client, teacher)
    published = await a_published(client, teacher)
    stranger = await signed_up(client, container, Role.INSTRUCTOR)
    body = {"cover_file_id": "not-a-file"}
    response = await client.patch(f"{API}/{draft['id']}", json=body, headers=stranger.auth)
    assert response.status_code == 404
    response = await client.patch(f"{API}/{published['id']}", json=body, headers=stranger.auth)
    assert response.status_code == 403


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


async def test_reordering_takes_only_a_permutation(client, teacher):
    course = await a_draft(client, teacher)
    a = await a_module(client, teacher, course["id"], "A")
    b = await a_module(client, teacher, course["id"], "B")
    url = f"{API}/{course['id']}/modules/order"
    for wrong in ([a["id"]], [a["id"], a["id"]], [a["id"], b["id"], "x"], [a["id"], "x"]):
        response = await client.put(url, json={"module_ids": wrong}, headers=teacher.auth)
        assert response.status_code == 422, wrong
    response = await client.put(url, json={"module_ids": [b["id"], a["id"]]}, headers=teacher.auth)
    assert response.status_code == 200
    assert [(m["title"], m["position"]) for m in response.json()] == [("B", 1), ("A", 2)]
    one = await a_lesson(client, teacher, course["id"], a["id"], "One")
    two = await a_lesson(client, teacher, course["id"], a["id"], "Two")
    lesson_url = f"{API}/{course['id']}/modules/{a['id']}/lessons/order"
    response = await client.put(lesson_url, json={"lesson_ids": [one["id"]]}, headers=teacher.auth)
    assert response.status_code == 422
    response = await client.put(
        lesson_url, json={"lesson_ids": [two["id"], one["id"]]}, headers=teacher.auth
    )
    assert response.status_code == 200
    assert [lesson["title"] for lesson in response.json()["lessons"]] == ["Two", "One"]


async def test_modules_are_renamed_and_deleted_with_their_lessons(client, teacher):
    course = await a_draft(client, teacher)
    module = await a_module(client, teacher, course["id"])
    lesson = await a_lesson(client, teacher, course["id"], module["id"])
    url = f"{API}/{course['id']}/modules/{module['id']}"
    response = await client.patch(
        url, json={"title": "Renamed", "summary": "s"}, headers=teacher.auth
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["summary"]) == ("Renamed", "s")
    assert (await client.delete(url, headers=teacher.auth)).status_code == 204
    assert (await client.delete(url, headers=teacher.auth)).status_code == 404
    response = await client.get(f"/api/v1/lessons/{lesson['id']}", headers=teacher.auth)
    assert response.status_code == 404


async def test_non_staff_cannot_build_a_course(client, container, teacher):
    course = await a_published(client, teacher)
    student = await signed_up(client, container)
    response = await client.post(
        f"{API}/{course['id']}/modules", json={"title": "x"}, headers=student.auth
    )
    assert response.status_code == 403
    response = await client.post(f"{API}/{course['id']}/modules", json={"title": "x"})
    assert response.status_code == 401


async def test_lesson_access_follows_staff_enrollment_and_preview(client, container, teacher):
    course = await a_draft(client, teacher)
    module = await a_module(client, teacher, course["id"])
    preview = await a_lesson(client, teacher, course["id"], module["id"], is_preview=True)
    full = await a_lesson(client, teacher, course["id"], module["id"], "Full lesson")
    student = await signed_up(client, container)
    lesson = "/api/v1/lessons/{}".format
    # A draft's lessons, even a preview, exist only for its staff.
    assert (await client.get(lesson(preview["id"]))).status_code == 404
    assert (await client.get(lesson(full["id"]), headers=teacher.auth)).status_code == 200
    await client.post(f"{API}/{course['id']}/publish", headers=teacher.auth)
    response = await client.get(lesson(preview["id"]))
    assert response.status_code == 200 and response.json()["body_markdown"] == "# Hello"
    assert (await client.get(lesson(full["id"]))).status_code == 404
    assert (await client.get(lesson(full["id"]), headers=student.auth)).status_code == 404
    await enrolled_in(container, student, course["id"])
    assert (await client.get(lesson(full["id"]), headers=student.auth)).status_code == 200
    await client.post(f"{API}/{course['id']}/archive", headers=teacher.auth)
    assert (await client.get(lesson(full["id"]), headers=student.auth)).status_code == 404
    assert (await client.get(lesson("nope"))).status_code == 404


async def test_a_lesson_is_edited_with_if_match_and_deleted(client, teacher):
    course = await a_draft(client, teacher)
    module = await a_module(client, teacher, course["id"])
    lesson = await a_lesson(client, teacher, course["id"], module["id"])
    url = f"/api/v1/lessons/{lesson['id']}"
    etag = (await client.get(url, headers=teacher.auth)).headers["ETag"]
    response = await client.patch(
        url,
        json={"title": "Better", "is_preview": True, "duration_s": 120},
        headers={**teacher.auth, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    stale = await client.patch(url, json={"title": "x"}, headers={**teacher.auth, "If-Match": etag})
    assert stale.status_code == 412
    outline = (await client.get(f"{API}/{course['id']}/modules", headers=teacher.auth)).json()
    assert outline[0]["lessons"][0]["title"] == "Better"
    assert outline[0]["lessons"][0]["is_preview"] is True
    response = await client.patch(url, json={"course_id": "other"}, headers=teacher.auth)
    assert response.status_code == 422
    assert (await client.delete(url, headers=teacher.auth)).status_code == 204
    assert (await client.get(url, headers=teacher.auth)).status_code == 404
    outline = (await client.get(f"{API}/{course['id']}/modules", headers=teacher.auth)).json()
    assert outline[0]["lessons"] == []


async def test_lesson_files_must_be_attachable_and_text_lessons_have_none(client, teacher):
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
