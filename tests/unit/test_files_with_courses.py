"""Files and the real courses capability together: lesson material, previews, covers, and
the lesson that keeps its file from being deleted."""

from __future__ import annotations

import pytest

from ocp.application.courses import CourseChanges, CourseDraft, LessonDraft
from ocp.domain.courses import LessonKind
from ocp.domain.users import Role
from tests.support import signed_up
from tests.unit.test_files_http import PDF, PNG, upload


async def a_course(container, teacher) -> str:
    actor = await container.users().get(teacher.id)
    course = await container.course_service().create_course(actor, CourseDraft(title="Files 101"))
    return course.id


async def a_lesson(container, teacher, course_id, file_id, *, preview=False) -> str:
    service, actor = container.course_service(), await container.users().get(teacher.id)
    _, module = await service.add_module(actor, course_id, "M")
    kind = LessonKind.FILE if file_id else LessonKind.TEXT
    draft = LessonDraft(title="L", kind=kind, file_id=file_id, is_preview=preview)
    return (await service.add_lesson(actor, course_id, module.id, draft)).id


async def publish(container, teacher, course_id) -> None:
    actor = await container.users().get(teacher.id)
    await container.course_service().publish(actor, course_id)


async def test_lesson_material_follows_the_course(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    student, stranger = await signed_up(client, container), await signed_up(client, container)
    course_id = await a_course(container, teacher)
    preview = (await upload(client, teacher, PDF, "lesson_material", course_id)).json()["id"]
    private = (await upload(client, teacher, PDF, "lesson_material", course_id)).json()["id"]
    await a_lesson(container, teacher, course_id, preview, preview=True)
    await a_lesson(container, teacher, course_id, private)
    await publish(container, teacher, course_id)
    container.enrollments().enroll(course_id, student.id)

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
    course_id = await a_course(container, teacher)
    material = (await upload(client, teacher, PDF, "lesson_material", course_id)).json()["id"]
    lesson_id = await a_lesson(container, teacher, course_id, material)
    await publish(container, teacher, course_id)
    container.enrollments().enroll(course_id, student.id)
    content = f"/api/v1/files/{material}/content"
    assert (await client.get(content, headers=student.auth)).status_code == 200
    actor = await container.users().get(teacher.id)
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
    course_id = await a_course(container, teacher)
    assert (await upload(client, other, PDF, "lesson_material", course_id)).status_code == 422
    cover = (await upload(client, teacher, PNG, "course_cover", course_id)).json()["id"]
    actor = await container.users().get(teacher.id)
    changed = await container.course_service().edit_course(
        actor, course_id, CourseChanges(cover_file_id=cover)
    )
    assert changed.cover_file_id == cover
    assert (await client.get(f"/api/v1/files/{cover}/content")).status_code == 404  # draft
    await a_lesson(container, teacher, course_id, None)
    await publish(container, teacher, course_id)
    assert (await client.get(f"/api/v1/files/{cover}/content")).status_code == 200
    student = await signed_up(client, container)
    assert (await upload(client, student, PDF, "submission", course_id)).status_code == 422
    container.enrollments().enroll(course_id, student.id)
    assert (await upload(client, student, PDF, "submission", course_id)).status_code == 201
