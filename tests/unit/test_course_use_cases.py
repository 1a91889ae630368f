"""Courses as the use cases decide them on the in-memory stores: slugs, who sees and who edits
a course, its lifecycle and deletion, co-instructors, the order of its outline, and who reads
a lesson."""

from __future__ import annotations

import pytest

from ocp.application.courses import CourseDraft, LessonDraft
from ocp.domain.courses import (
    Course,
    CourseChanges,
    CourseStatus,
    Lesson,
    LessonChanges,
    LessonKind,
    Level,
    Module,
)
from ocp.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolated, StaleVersion
from ocp.domain.files import FilePurpose
from ocp.domain.users import Role, User
from tests.builders import UseCases, a_member, a_published_course, a_stored_file


@pytest.fixture
async def teacher(app):
    return await a_member(app, Role.INSTRUCTOR)


async def a_draft_with_lessons(
    app: UseCases, owner: User, *titles: str, preview: bool = False
) -> tuple[Course, Module, list[Lesson]]:
    """A draft course of `owner` with one module holding a text lesson per title (the first a
    preview when `preview`)."""
    course = await app.courses.create_course(owner, CourseDraft("Draft"))
    _, module = await app.outline.add_module(owner, course.id, "Module")
    lessons = []
    for n, title in enumerate(titles):
        draft = LessonDraft(
            title, LessonKind.TEXT, body_markdown="# Hello", is_preview=preview and n == 0
        )
        lessons.append(await app.outline.add_lesson(owner, course.id, module.id, draft))
    return await app.courses.get_course(owner, course.id), module, lessons


async def re_read(app: UseCases, user: User) -> User:
    found = await app.stores.users.get(user.id)
    assert found is not None
    return found


# --- creating and reading ------------------------------------------------------------------


async def test_a_new_course_is_a_draft_of_its_owner_with_a_slug_from_its_title(app, teacher):
    course = await app.courses.create_course(teacher, CourseDraft("Café & Crème: Ünicode 101"))
    assert course.status is CourseStatus.DRAFT
    assert course.slug == "cafe-creme-unicode-101"
    assert course.owner_id == teacher.id
    assert course.published_at is None
    assert (course.enrolled_count, course.rating_avg) == (0, 0.0)


async def test_a_second_course_of_the_same_title_gets_a_suffixed_slug_it_is_found_by(app, teacher):
    first = await app.courses.create_course(teacher, CourseDraft("Same Title"))
    second = await app.courses.create_course(teacher, CourseDraft("Same Title"))
    assert first.slug == "same-title"
    assert second.slug.startswith("same-title-") and second.slug != first.slug
    assert (await app.courses.get_course(teacher, second.slug)).id == second.id
    assert (await app.courses.get_course(teacher, first.slug)).id == first.id


async def test_a_draft_is_hidden_from_everyone_but_its_staff(app, teacher):
    course = await app.courses.create_course(teacher, CourseDraft("Secret"))
    other = await a_member(app, Role.INSTRUCTOR)
    student = await a_member(app)
    admin = await a_member(app, Role.ADMIN)
    for who in (None, student, other):
        for key in (course.id, course.slug):
            with pytest.raises(NotFound):
                await app.courses.get_course(who, key)
        with pytest.raises(NotFound):
            await app.outline.modules(who, course.id)
    for who in (teacher, admin):
        assert (await app.courses.get_course(who, course.slug)).id == course.id
        assert (await app.outline.modules(who, course.id)).id == course.id


async def test_a_published_course_is_read_by_anyone_by_id_or_slug(app, teacher):
    app.clock.advance(3600)
    course = await a_published_course(app, teacher)
    for key in (course.id, course.slug):
        found = await app.courses.get_course(None, key)
        assert found.status is CourseStatus.PUBLISHED
        assert found.published_at == app.clock.now()
    with pytest.raises(NotFound):
        await app.courses.get_course(None, "no-such-course")


# --- editing ---------------------------------------------------------------------------------


async def test_an_edit_changes_the_fields_folds_the_tags_and_keeps_the_slug(app, teacher):
    course = await app.courses.create_course(teacher, CourseDraft("Original"))
    changes = CourseChanges(
        title="Renamed", tags=["Data", "data"], capacity=30, level=Level.ADVANCED
    )
    edited = await app.courses.edit_course(teacher, course.id, changes)
    assert (edited.title, edited.tags, edited.capacity, edited.level) == (
        "Renamed",
        ["data"],
        30,
        Level.ADVANCED,
    )
    assert edited.slug == course.slug
    assert edited.version == course.version + 1
    cleared = await app.courses.edit_course(teacher, course.id, CourseChanges(capacity=None))
    assert cleared.capacity is None and cleared.title == "Renamed"


async def test_a_stranger_may_not_edit_a_published_course_and_does_not_see_a_draft(app, teacher):
    published = await a_published_course(app, teacher)
    draft = await app.courses.create_course(teacher, CourseDraft("Draft"))
    other = await a_member(app, Role.INSTRUCTOR)
    with pytest.raises(PermissionDenied):
        await app.courses.edit_course(other, published.id, CourseChanges(title="Mine now"))
    with pytest.raises(NotFound):
        await app.courses.edit_course(other, draft.id, CourseChanges(title="Mine now"))
    assert (await app.courses.get_course(teacher, published.id)).title == published.title


async def test_a_stranger_setting_a_cover_is_refused_before_the_file_is_looked_at(app, teacher):
    draft = await app.courses.create_course(teacher, CourseDraft("Draft"))
    published = await a_published_course(app, teacher)
    stranger = await a_member(app, Role.INSTRUCTOR)
    changes = CourseChanges(cover_file_id="not-a-file")
    with pytest.raises(NotFound):
        await app.courses.edit_course(stranger, draft.id, changes)
    with pytest.raises(PermissionDenied):
        await app.courses.edit_course(stranger, published.id, changes)


async def test_a_demoted_instructor_keeps_their_course_but_loses_its_powers_until_promoted(
    app, teacher
):
    admin = await a_member(app, Role.ADMIN)
    helper = await a_member(app, Role.INSTRUCTOR)
    course = await a_published_course(app, teacher)
    await app.courses.add_instructor(teacher, course.id, helper.id)
    for user in (teacher, helper):
        await app.admin.administer_user(admin, user.id, role=Role.STUDENT)
    owner, co = await re_read(app, teacher), await re_read(app, helper)
    with pytest.raises(PermissionDenied):
        await app.courses.edit_course(owner, course.id, CourseChanges(title="Mine still"))
    with pytest.raises(PermissionDenied):
        await app.courses.archive(owner, course.id)
    with pytest.raises(PermissionDenied):
        await app.outline.add_module(co, course.id, "Theirs")
    kept = await app.courses.get_course(None, course.id)
    assert (kept.owner_id, kept.status, kept.instructor_ids) == (
        teacher.id,
        CourseStatus.PUBLISHED,
        [helper.id],
    )
    await app.admin.administer_user(admin, teacher.id, role=Role.INSTRUCTOR)
    owner = await re_read(app, teacher)
    edited = await app.courses.edit_course(owner, course.id, CourseChanges(title="Mine again"))
    assert edited.title == "Mine again"


# --- lifecycle --------------------------------------------------------------------------------


async def test_publishing_needs_a_lesson_and_a_module_alone_is_not_enough(app, teacher):
    course = await app.courses.create_course(teacher, CourseDraft("Empty"))
    with pytest.raises(Conflict, match="lesson"):
        await app.courses.publish(teacher, course.id)
    _, module = await app.outline.add_module(teacher, course.id, "Module")
    with pytest.raises(Conflict, match="lesson"):
        await app.courses.publish(teacher, course.id)
    await app.outline.add_lesson(teacher, course.id, module.id, LessonDraft("L", LessonKind.TEXT))
    assert (await app.courses.publish(teacher, course.id)).status is CourseStatus.PUBLISHED


async def test_a_course_goes_from_draft_to_published_to_archived_and_hides_when_not_published(
    app, teacher
):
    course = await a_published_course(app, teacher)
    assert course.published_at is not None
    unpublished = await app.courses.unpublish(teacher, course.id)
    assert unpublished.status is CourseStatus.DRAFT
    with pytest.raises(NotFound):
        await app.courses.get_course(None, course.id)
    with pytest.raises(Conflict):
        await app.courses.archive(teacher, course.id)
    await app.courses.publish(teacher, course.id)
    archived = await app.courses.archive(teacher, course.id)
    assert archived.status is CourseStatus.ARCHIVED
    with pytest.raises(NotFound):
        await app.courses.get_course(None, course.id)
    with pytest.raises(Conflict):
        await app.courses.publish(teacher, course.id)


async def test_only_the_owner_or_an_admin_changes_a_courses_status(app, teacher):
    course, _, _ = await a_draft_with_lessons(app, teacher, "L")
    co = await a_member(app, Role.INSTRUCTOR)
    await app.courses.add_instructor(teacher, course.id, co.id)
    with pytest.raises(PermissionDenied):
        await app.courses.publish(co, course.id)
    admin = await a_member(app, Role.ADMIN)
    assert (await app.courses.publish(admin, course.id)).status is CourseStatus.PUBLISHED
    for step in (app.courses.unpublish, app.courses.archive):
        with pytest.raises(PermissionDenied):
            await step(co, course.id)
    assert (await app.courses.get_course(None, course.id)).status is CourseStatus.PUBLISHED


async def test_only_a_draft_without_enrollments_is_deleted(app, teacher):
    draft, _, (lesson,) = await a_draft_with_lessons(app, teacher, "L")
    published = await a_published_course(app, teacher)
    with pytest.raises(Conflict):
        await app.courses.delete_course(teacher, published.id)
    had_students = await a_published_course(app, teacher, title="Has students")
    await app.enrollment.enroll(await a_member(app), had_students.id)
    await app.courses.unpublish(teacher, had_students.id)
    with pytest.raises(Conflict):
        await app.courses.delete_course(teacher, had_students.id)
    await app.courses.delete_course(teacher, draft.id)
    with pytest.raises(NotFound):
        await app.courses.get_course(teacher, draft.id)
    with pytest.raises(NotFound):
        await app.outline.get_lesson(teacher, lesson.id)


# --- co-instructors ---------------------------------------------------------------------------


async def test_a_co_instructor_must_be_an_instructor_and_then_edits_but_does_not_add_others(
    app, teacher
):
    course = await app.courses.create_course(teacher, CourseDraft("Shared"))
    student = await a_member(app)
    for user_id in (student.id, "nobody"):
        with pytest.raises(RuleViolated):
            await app.courses.add_instructor(teacher, course.id, user_id)
    co = await a_member(app, Role.INSTRUCTOR)
    added = await app.courses.add_instructor(teacher, course.id, co.id)
    again = await app.courses.add_instructor(teacher, course.id, co.id)
    assert again.instructor_ids == [co.id] and again.version == added.version
    assert (await app.courses.get_course(co, course.id)).instructor_ids == [co.id]
    edited = await app.courses.edit_course(co, course.id, CourseChanges(summary="by co"))
    assert edited.summary == "by co"
    third = await a_member(app, Role.INSTRUCTOR)
    with pytest.raises(PermissionDenied):
        await app.courses.add_instructor(co, course.id, third.id)
    await app.courses.remove_instructor(teacher, course.id, co.id)
    with pytest.raises(NotFound):
        await app.courses.get_course(co, course.id)


async def test_a_stranger_adding_co_instructors_learns_nothing_about_user_ids(app, teacher):
    draft = await app.courses.create_course(teacher, CourseDraft("Draft"))
    published = await a_published_course(app, teacher)
    stranger = await a_member(app, Role.INSTRUCTOR)
    student = await a_member(app)
    for user_id in (stranger.id, student.id, "nobody"):
        with pytest.raises(NotFound):
            await app.courses.add_instructor(stranger, draft.id, user_id)
        with pytest.raises(PermissionDenied):
            await app.courses.add_instructor(stranger, published.id, user_id)


# --- modules and lessons ----------------------------------------------------------------------


async def test_reordering_takes_only_a_permutation_of_the_current_ids(app, teacher):
    course = await app.courses.create_course(teacher, CourseDraft("Ordered"))
    _, a = await app.outline.add_module(teacher, course.id, "A")
    _, b = await app.outline.add_module(teacher, course.id, "B")
    for wrong in ([a.id], [a.id, a.id], [a.id, b.id, "x"], [a.id, "x"]):
        with pytest.raises(RuleViolated) as refused:
            await app.outline.reorder_modules(teacher, course.id, wrong)
        assert refused.value.field == "module_ids"
    reordered = await app.outline.reorder_modules(teacher, course.id, [b.id, a.id])
    assert [m.title for m in reordered.modules] == ["B", "A"]
    one = await app.outline.add_lesson(
        teacher, course.id, a.id, LessonDraft("One", LessonKind.TEXT)
    )
    two = await app.outline.add_lesson(
        teacher, course.id, a.id, LessonDraft("Two", LessonKind.TEXT)
    )
    with pytest.raises(RuleViolated) as refused:
        await app.outline.reorder_lessons(teacher, course.id, a.id, [one.id])
    assert refused.value.field == "lesson_ids"
    await app.outline.reorder_lessons(teacher, course.id, a.id, [two.id, one.id])
    outline = await app.outline.modules(teacher, course.id)
    assert [(m.title, [lesson.title for lesson in m.lessons]) for m in outline.modules] == [
        ("B", []),
        ("A", ["Two", "One"]),
    ]


async def test_a_renamed_module_keeps_its_lessons_and_a_deleted_one_takes_them_along(app, teacher):
    course, module, (lesson,) = await a_draft_with_lessons(app, teacher, "L")
    _, renamed = await app.outline.edit_module(
        teacher, course.id, module.id, title="Renamed", summary="s"
    )
    assert (renamed.title, renamed.summary) == ("Renamed", "s")
    assert [x.id for x in renamed.lessons] == [lesson.id]
    await app.outline.delete_module(teacher, course.id, module.id)
    with pytest.raises(NotFound):
        await app.outline.delete_module(teacher, course.id, module.id)
    with pytest.raises(NotFound):
        await app.outline.get_lesson(teacher, lesson.id)
    assert (await app.outline.modules(teacher, course.id)).modules == []


async def test_students_cannot_build_a_course(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_member(app)
    await app.enrollment.enroll(student, course.id)
    with pytest.raises(PermissionDenied):
        await app.outline.add_module(student, course.id, "x")
    module = course.modules[0]
    with pytest.raises(PermissionDenied):
        await app.outline.add_lesson(
            student, course.id, module.id, LessonDraft("x", LessonKind.TEXT)
        )
    assert (await app.outline.modules(None, course.id)).lesson_count == 1


async def test_a_lesson_is_read_by_staff_by_enrolled_students_and_by_anyone_as_a_preview(
    app, teacher
):
    course, _, (preview, full) = await a_draft_with_lessons(
        app, teacher, "Preview", "Full lesson", preview=True
    )
    student = await a_member(app)
    with pytest.raises(NotFound):
        await app.outline.get_lesson(None, preview.id)
    assert (await app.outline.get_lesson(teacher, full.id)).id == full.id
    await app.courses.publish(teacher, course.id)
    assert (await app.outline.get_lesson(None, preview.id)).body_markdown == "# Hello"
    for who in (None, student):
        with pytest.raises(NotFound):
            await app.outline.get_lesson(who, full.id)
    await app.enrollment.enroll(student, course.id)
    assert (await app.outline.get_lesson(student, full.id)).title == "Full lesson"
    await app.courses.archive(teacher, course.id)
    for lesson in (full, preview):
        with pytest.raises(NotFound):
            await app.outline.get_lesson(student, lesson.id)
    with pytest.raises(NotFound):
        await app.outline.get_lesson(None, "nope")


async def test_an_edited_lesson_shows_in_the_outline_and_a_deleted_one_leaves_it(app, teacher):
    course, _, (lesson,) = await a_draft_with_lessons(app, teacher, "L")
    changes = LessonChanges(title="Better", is_preview=True, duration_s=120)
    edited = await app.outline.edit_lesson(teacher, lesson.id, changes, if_match=lesson.version)
    with pytest.raises(StaleVersion):
        await app.outline.edit_lesson(
            teacher, lesson.id, LessonChanges(title="Lost"), if_match=lesson.version
        )
    (entry,) = (await app.outline.modules(teacher, course.id)).modules[0].lessons
    assert (entry.title, entry.is_preview, entry.duration_s) == ("Better", True, 120)
    assert (await app.outline.get_lesson(teacher, lesson.id)).version == edited.version
    await app.outline.delete_lesson(teacher, lesson.id)
    with pytest.raises(NotFound):
        await app.outline.get_lesson(teacher, lesson.id)
    assert (await app.outline.modules(teacher, course.id)).modules[0].lessons == []


async def test_a_text_lesson_carries_no_file(app, teacher):
    course, module, (lesson,) = await a_draft_with_lessons(app, teacher, "L")
    clip = await a_stored_file(app, teacher, FilePurpose.LESSON_MATERIAL, course.id, "video/mp4")
    with pytest.raises(RuleViolated) as refused:
        await app.outline.add_lesson(
            teacher, course.id, module.id, LessonDraft("T", LessonKind.TEXT, file_id=clip.id)
        )
    assert refused.value.field == "file_id"
    with pytest.raises(RuleViolated):
        await app.outline.edit_lesson(teacher, lesson.id, LessonChanges(file_id=clip.id))
    video = await app.outline.edit_lesson(
        teacher, lesson.id, LessonChanges(kind=LessonKind.VIDEO, file_id=clip.id)
    )
    assert video.file_id == clip.id
    with pytest.raises(RuleViolated):
        await app.outline.edit_lesson(teacher, lesson.id, LessonChanges(kind=LessonKind.TEXT))
