"""Who may still act after a role or a course status changes: course staff powers need the
instructor role at the time of the request (admins aside)."""

from __future__ import annotations

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
