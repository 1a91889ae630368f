"""Who may still act after a role or a course status changes: course staff powers need the
instructor role at the time of the request (admins aside)."""

from __future__ import annotations

import pytest

from ocp.domain.users import Role
from tests.support import course_body, signed_up


async def _published_course(client, teacher) -> str:
    course = (await client.post("/api/v1/courses", json=course_body(), headers=teacher.auth)).json()
    module = await client.post(
        f"/api/v1/courses/{course['id']}/modules", json={"title": "M"}, headers=teacher.auth
    )
    await client.post(
        f"/api/v1/courses/{course['id']}/modules/{module.json()['id']}/lessons",
        json={"title": "L", "kind": "text", "body_markdown": "hello"},
        headers=teacher.auth,
    )
    published = await client.post(f"/api/v1/courses/{course['id']}/publish", headers=teacher.auth)
    assert published.status_code == 200, published.text
    return course["id"]


async def _set_role(client, admin, user_id: str, role: str) -> None:
    changed = await client.patch(
        f"/api/v1/users/{user_id}", json={"role": role}, headers=admin.auth
    )
    assert changed.status_code == 200, changed.text


async def test_a_demoted_instructor_loses_course_powers_until_promoted_again(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await _published_course(client, teacher)
    student = await signed_up(client, container)
    assert (
        await client.post(f"/api/v1/courses/{course_id}/enrollments", headers=student.auth)
    ).status_code == 201

    await _set_role(client, admin, teacher.id, "student")
    staff_reads = [
        f"/api/v1/courses/{course_id}/enrollments",  # the roster, with student emails
        f"/api/v1/courses/{course_id}/gradebook",
    ]
    for path in staff_reads:
        assert (await client.get(path, headers=teacher.auth)).status_code == 403, path
    edit = await client.patch(
        f"/api/v1/courses/{course_id}", json={"title": "Mine still"}, headers=teacher.auth
    )
    assert edit.status_code == 403
    archive = await client.post(f"/api/v1/courses/{course_id}/archive", headers=teacher.auth)
    assert archive.status_code == 403
    # Still the owner: the course is intact and comes back with the role.
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["owner_id"] == teacher.id and course["status"] == "published"

    await _set_role(client, admin, teacher.id, "instructor")
    for path in staff_reads:
        assert (await client.get(path, headers=teacher.auth)).status_code == 200, path


async def test_a_demoted_co_instructor_loses_course_powers(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    owner = await signed_up(client, container, Role.INSTRUCTOR)
    helper = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await _published_course(client, owner)
    added = await client.put(
        f"/api/v1/courses/{course_id}/instructors/{helper.id}", headers=owner.auth
    )
    assert added.status_code == 204
    assert (
        await client.get(f"/api/v1/courses/{course_id}/enrollments", headers=helper.auth)
    ).status_code == 200
    await _set_role(client, admin, helper.id, "student")
    assert (
        await client.get(f"/api/v1/courses/{course_id}/enrollments", headers=helper.auth)
    ).status_code == 403
    module = await client.post(
        f"/api/v1/courses/{course_id}/modules", json={"title": "M2"}, headers=helper.auth
    )
    assert module.status_code == 403


async def _outline(client, teacher, course_id: str) -> str:
    modules = (
        await client.get(f"/api/v1/courses/{course_id}/modules", headers=teacher.auth)
    ).json()
    return modules[0]["lessons"][0]["id"]


@pytest.mark.parametrize("hide", ["unpublish", "archive"])
async def test_a_student_of_a_course_no_longer_published_keeps_only_their_own_records(
    client, container, hide
):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await _published_course(client, teacher)
    lesson_id = await _outline(client, teacher, course_id)
    assignment = (
        await client.post(
            f"/api/v1/courses/{course_id}/assignments",
            json={"title": "Essay", "instructions": "Write", "max_points": 10},
            headers=teacher.auth,
        )
    ).json()
    student = await signed_up(client, container)
    await client.post(f"/api/v1/courses/{course_id}/enrollments", headers=student.auth)
    submitted = await client.post(
        f"/api/v1/assignments/{assignment['id']}/submissions",
        json={"text": "first"},
        headers=student.auth,
    )
    assert submitted.status_code == 201
    assert (
        await client.put(f"/api/v1/lessons/{lesson_id}/completion", headers=student.auth)
    ).status_code == 204

    hidden = await client.post(f"/api/v1/courses/{course_id}/{hide}", headers=teacher.auth)
    assert hidden.status_code == 200, hidden.text

    me = student.auth
    # Course content: gone.
    assert (
        await client.get(f"/api/v1/courses/{course_id}/assignments", headers=me)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/assignments/{assignment['id']}", headers=me)
    ).status_code == 404
    assert (await client.get(f"/api/v1/lessons/{lesson_id}", headers=me)).status_code == 404
    # Changes: refused.
    writes = [
        client.post(
            f"/api/v1/assignments/{assignment['id']}/submissions", json={"text": "2"}, headers=me
        ),
        client.put(f"/api/v1/courses/{course_id}/reviews/me", json={"rating": 1}, headers=me),
        client.put(f"/api/v1/lessons/{lesson_id}/completion", headers=me),
        client.delete(f"/api/v1/lessons/{lesson_id}/completion", headers=me),
    ]
    for write in writes:
        assert (await write).status_code == 409
    # Their own records: still theirs to read.
    progress = await client.get(f"/api/v1/courses/{course_id}/progress", headers=me)
    assert progress.status_code == 200 and progress.json()["completed"] == 1
    assert (
        await client.get(f"/api/v1/courses/{course_id}/grades/me", headers=me)
    ).status_code == 200
    mine = await client.get(f"/api/v1/assignments/{assignment['id']}/submissions", headers=me)
    assert mine.status_code == 200 and len(mine.json()["items"]) == 1
    own = await client.get(f"/api/v1/submissions/{submitted.json()['id']}", headers=me)
    assert own.status_code == 200
    # The hidden course's rating did not move.
    course = (await client.get(f"/api/v1/courses/{course_id}", headers=teacher.auth)).json()
    assert course["rating_count"] == 0
