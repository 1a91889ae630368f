"""Soft deletion on MongoDB (SecantusDB): the trash keeps the removed documents as their
collections store them, so a restore on the real driver gives back the same course."""

from __future__ import annotations

from ocp.domain.users import Role
from tests.builders import a_course, a_teacher, an_assignment, signed_up


async def test_a_course_deleted_and_restored_on_mongo_is_the_same_course(
    mongo_client_http, mongo_container
):
    client, container = mongo_client_http, mongo_container
    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, lessons=2, publish=False)
    assignment = await an_assignment(client, teacher, course)
    before = (await client.get(f"/api/v1/courses/{course.id}", headers=teacher.auth)).json()
    modules = await client.get(f"/api/v1/courses/{course.id}/modules", headers=teacher.auth)
    assert (
        await client.delete(f"/api/v1/courses/{course.id}", headers=teacher.auth)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/courses/{course.id}", headers=teacher.auth)
    ).status_code == 404
    restored = await client.post(f"/api/v1/courses/{course.id}/restore", headers=admin.auth)
    assert restored.status_code == 200, restored.text
    after = (await client.get(f"/api/v1/courses/{course.id}", headers=teacher.auth)).json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    again = await client.get(f"/api/v1/courses/{course.id}/modules", headers=teacher.auth)
    assert again.json() == modules.json()
    back = await client.get(f"/api/v1/assignments/{assignment['id']}", headers=teacher.auth)
    assert back.status_code == 200
    assert await container.trash_service().purge() == 0
