"""Files and the real courses capability together: lesson material, previews, covers, and
the lesson that keeps its file from being deleted."""

from __future__ import annotations

import pytest

from ocp.domain.courses import CourseChanges
from ocp.domain.users import Role
from tests.builders import (
    PDF,
    PNG,
    a_course_of,
    a_lesson_in,
    actor_of,
    enrolled_in,
    published,
    signed_up,
    upload,
)


async def test_lesson_material_follows_the_course(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    student, stranger = await signed_up(client, container), await signed_up(client, container)
    course_id = await a_course_of(container, teacher)
    preview = (await upload(client, teacher, PDF, "lesson_material", course_id)).json()["id"]
    private = (await upload(client, teacher, PDF, "lesson_material", course_id)).json()["id"]
    await a_lesson_in(container, teacher, course_id, preview, preview=True)
    await a_lesson_in(container, teacher, course_id, private)
    await published(container, teacher, course_id)
    await enrolled_in(container, student, course_id)

    def content(file_id):
        return f"/api/v1/files/{file_id}/content"

    assert (await client.get(content(preview))).status_code == 200  # anyone: a preview
    assert (await client.get(content(private))).status_code == 404
    assert (await client.get(content(private), headers=stranger.auth)).status_code == 404
    assert (await client.get(content(private), headers=student.auth)).status_code == 200
    assert (
        await client.delete(f"/api/v1/files/{private}", headers=teacher.auth)
    ).status_code == 409


@pytest.mark.parametrize("closing", ["archive", "unpublish"])
async def test_lesson_material_closes_to_students_with_the_course(client, container, closing):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    student = await signed_up(client, container)
    course_id = await a_course_of(container, teacher)
    material = (await upload(client, teacher, PDF, "lesson_material", course_id)).json()["id"]
    lesson_id = await a_lesson_in(container, teacher, course_id, material)
    await published(container, teacher, course_id)
    await enrolled_in(container, student, course_id)
    content = f"/api/v1/files/{material}/content"
    assert (await client.get(content, headers=student.auth)).status_code == 200
    actor = await actor_of(container, teacher)
    await getattr(container.course_service(), closing)(actor, course_id)
    # The lesson and its material answer alike: gone for the student, there for the staff.
    assert (
        await client.get(f"/api/v1/lessons/{lesson_id}", headers=student.auth)
    ).status_code == 404
    assert (await client.get(content, headers=student.auth)).status_code == 404
    assert (
        await client.get(f"/api/v1/lessons/{lesson_id}", headers=teacher.auth)
    ).status_code == 200
    assert (await client.get(content, headers=teacher.auth)).status_code == 200


async def test_only_course_staff_upload_its_material_and_cover(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    other = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await a_course_of(container, teacher)
    assert (await upload(client, other, PDF, "lesson_material", course_id)).status_code == 422
    cover = (await upload(client, teacher, PNG, "course_cover", course_id)).json()["id"]
    actor = await actor_of(container, teacher)
    changed = await container.course_service().edit_course(
        actor, course_id, CourseChanges(cover_file_id=cover)
    )
    assert changed.cover_file_id == cover
    assert (await client.get(f"/api/v1/files/{cover}/content")).status_code == 404  # draft
    await a_lesson_in(container, teacher, course_id, None)
    await published(container, teacher, course_id)
    assert (await client.get(f"/api/v1/files/{cover}/content")).status_code == 200
    student = await signed_up(client, container)
    assert (await upload(client, student, PDF, "submission", course_id)).status_code == 422
    await enrolled_in(container, student, course_id)
    assert (await upload(client, student, PDF, "submission", course_id)).status_code == 201
