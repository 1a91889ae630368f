"""Soft deletion over HTTP: a deleted course (with its lessons and assignments), lesson or
assignment is gone for everyone, an admin restores it as it was within 30 days, later it is
404; `ocp gc` (the trash service's purge) forgets what is older."""

from __future__ import annotations

import pytest

from ocp.domain.errors import NotFound
from ocp.domain.users import Role
from tests.builders import a_course, a_teacher, an_assignment, signed_up
from tests.unit.test_http_identity import assert_problem


async def test_a_deleted_draft_course_comes_back_whole_within_30_days(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, lessons=3, publish=False, title="Draft to delete")
    assignment = await an_assignment(client, teacher, course)
    outline = (
        await client.get(f"/api/v1/courses/{course.id}/modules", headers=teacher.auth)
    ).json()

    assert (
        await client.delete(f"/api/v1/courses/{course.id}", headers=teacher.auth)
    ).status_code == 204
    assert_problem(await client.get(f"/api/v1/courses/{course.id}", headers=teacher.auth), 404)
    assert_problem(
        await client.get(f"/api/v1/lessons/{course.lesson_ids[0]}", headers=teacher.auth), 404
    )
    assert_problem(
        await client.get(f"/api/v1/assignments/{assignment['id']}", headers=teacher.auth), 404
    )
    # Only an admin restores; the owner cannot.
    assert_problem(
        await client.post(f"/api/v1/courses/{course.id}/restore", headers=teacher.auth), 403
    )
    restored = await client.post(f"/api/v1/courses/{course.id}/restore", headers=admin.auth)
    assert restored.status_code == 200, restored.text
    assert restored.json()["id"] == course.id and restored.json()["slug"] == course.slug
    again = (await client.get(f"/api/v1/courses/{course.id}/modules", headers=teacher.auth)).json()
    assert again == outline
    lesson = await client.get(f"/api/v1/lessons/{course.lesson_ids[2]}", headers=teacher.auth)
    assert lesson.status_code == 200
    back = await client.get(f"/api/v1/assignments/{assignment['id']}", headers=teacher.auth)
    assert back.status_code == 200 and back.json()["title"] == assignment["title"]
    # A restore is once.
    assert_problem(
        await client.post(f"/api/v1/courses/{course.id}/restore", headers=admin.auth), 404
    )


async def test_a_deleted_lesson_returns_to_its_place_and_an_assignment_returns(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, lessons=3)
    middle = course.lesson_ids[1]
    assert (
        await client.delete(f"/api/v1/lessons/{middle}", headers=teacher.auth)
    ).status_code == 204
    modules = (
        await client.get(f"/api/v1/courses/{course.id}/modules", headers=teacher.auth)
    ).json()
    assert [lsn["id"] for lsn in modules[0]["lessons"]] == [
        course.lesson_ids[0],
        course.lesson_ids[2],
    ]
    restored = await client.post(f"/api/v1/lessons/{middle}/restore", headers=admin.auth)
    assert restored.status_code == 200, restored.text
    modules = (
        await client.get(f"/api/v1/courses/{course.id}/modules", headers=teacher.auth)
    ).json()
    assert [lsn["id"] for lsn in modules[0]["lessons"]] == course.lesson_ids

    assignment = await an_assignment(client, teacher, course)
    path = f"/api/v1/assignments/{assignment['id']}"
    assert (await client.delete(path, headers=teacher.auth)).status_code == 204
    assert (await client.post(f"{path}/restore", headers=admin.auth)).status_code == 200
    assert (await client.get(path, headers=teacher.auth)).status_code == 200
    assert_problem(await client.post("/api/v1/lessons/never-was/restore", headers=admin.auth), 404)


async def test_after_30_days_a_deletion_is_gone_and_gc_purges_it(app):
    from tests.builders import a_member, a_published_course

    admin = await a_member(app, Role.ADMIN)
    teacher = await a_member(app, Role.INSTRUCTOR)
    course = await a_published_course(app, teacher, lessons=2)
    lesson_id = course.lesson_ids[0]
    await app.container.outline_service().delete_lesson(teacher, lesson_id)
    trash = app.container.trash_service()
    app.clock.advance(29 * 86400)
    assert await trash.purge() == 0  # still restorable
    app.clock.advance(2 * 86400)
    with pytest.raises(NotFound):
        await trash.restore_lesson(admin, lesson_id)
    assert await trash.purge() == 1
    assert await trash.purge() == 0


async def test_a_deleted_module_comes_back_with_its_lessons_where_it_stood(client, container):
    from tests.builders import a_module

    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, lessons=2)
    await a_module(client, teacher, course.id, title="Week 2")
    await a_module(client, teacher, course.id, title="Week 3")
    path = f"/api/v1/courses/{course.id}/modules"
    before = (await client.get(path, headers=teacher.auth)).json()
    assert (
        await client.delete(f"{path}/{course.module_id}", headers=teacher.auth)
    ).status_code == 204
    after = (await client.get(path, headers=teacher.auth)).json()
    assert [m["title"] for m in after] == ["Week 2", "Week 3"]
    assert_problem(
        await client.get(f"/api/v1/lessons/{course.lesson_ids[0]}", headers=teacher.auth), 404
    )
    elsewhere = await a_course(client, teacher, lessons=1, title="Another")
    assert_problem(
        await client.post(
            f"/api/v1/courses/{elsewhere.id}/modules/{course.module_id}/restore", headers=admin.auth
        ),
        404,
    )
    restored = await client.post(f"{path}/{course.module_id}/restore", headers=admin.auth)
    assert restored.status_code == 200, restored.text
    assert (await client.get(path, headers=teacher.auth)).json() == before
    lesson = await client.get(f"/api/v1/lessons/{course.lesson_ids[1]}", headers=teacher.auth)
    assert lesson.status_code == 200
