"""Course use cases and rules on the in-memory adapters: no HTTP, plain objects."""

from __future__ import annotations

import pytest

from ocp.application.courses import CourseDraft, LessonDraft
from ocp.domain.courses import (
    LESSONS_PER_MODULE_MAX,
    MODULES_MAX,
    CatalogFilter,
    CourseChanges,
    LessonKind,
    slug_with_suffix,
    slugify,
    words,
)
from ocp.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolated, StaleVersion
from ocp.domain.files import FilePurpose
from ocp.domain.users import Role
from tests.builders import a_member, a_stored_file, a_user


def colleague_saves_first(courses, change):
    """Make the next read of a course be overtaken: a colleague applies `change` and saves
    between that read and the caller's write."""
    real_get = courses.get
    armed = {"yes": True}

    async def get_then_colleague_saves(course_id):
        found = await real_get(course_id)
        if armed.pop("yes", False):
            other = await real_get(course_id)
            version = other.version
            change(other)
            await courses.update(other, version)
        return found

    courses.get = get_then_colleague_saves


@pytest.fixture
def service(app):
    return app.courses


@pytest.fixture
def outline(app):
    return app.outline


@pytest.fixture
def courses(app):
    return app.stores.courses


@pytest.fixture
async def teacher(app):
    return await a_member(app, Role.INSTRUCTOR)


def test_slugs_and_words_are_folded_to_plain_lower_case():
    assert slugify("  Déjà Vu: C++ & Rust!  ") == "deja-vu-c-rust"
    assert slugify("日本語") == "course"
    assert len(slugify("x" * 500)) == 60
    assert slug_with_suffix("a" * 60, "0123456789abcdef") == "a" * 53 + "-abcdef"
    assert words("Ünïcode, UNICODE and C# — ok?") == ["unicode", "and", "c", "ok"]


async def test_two_editors_adding_modules_at_once_both_succeed(service, courses, teacher, outline):
    course = await service.create_course(teacher, CourseDraft("Busy"))
    colleague_saves_first(courses, lambda c: c.add_module("colleague", "Theirs", "", c.updated_at))
    _, module = await outline.add_module(teacher, course.id, "Ours")
    stored = await courses.get(course.id)
    assert [m.title for m in stored.modules] == ["Theirs", "Ours"]
    assert module.title == "Ours"


async def test_a_stale_if_match_changes_nothing(service, teacher):
    course = await service.create_course(teacher, CourseDraft("Old title"))
    await service.edit_course(teacher, course.id, CourseChanges(summary="v2"), if_match=1)
    with pytest.raises(StaleVersion):
        await service.edit_course(teacher, course.id, CourseChanges(title="Lost"), if_match=1)
    assert (await service.get_course(teacher, course.id)).title == "Old title"


async def test_capacity_cannot_drop_below_the_enrolled(service, courses, teacher):
    course = await service.create_course(teacher, CourseDraft("Full", capacity=10))
    stored = await courses.get(course.id)
    stored.enrolled_count = 8
    await courses.update(stored, stored.version)
    with pytest.raises(RuleViolated):
        await service.edit_course(teacher, course.id, CourseChanges(capacity=5))
    await service.edit_course(teacher, course.id, CourseChanges(capacity=8))


async def test_a_course_holds_at_most_200_modules_of_200_lessons(service, teacher, outline):
    course = await service.create_course(teacher, CourseDraft("Big"))
    for n in range(MODULES_MAX):
        _, module = await outline.add_module(teacher, course.id, f"M{n}")
    with pytest.raises(RuleViolated):
        await outline.add_module(teacher, course.id, "One too many")
    for n in range(LESSONS_PER_MODULE_MAX):
        await outline.add_lesson(
            teacher, course.id, module.id, LessonDraft(f"L{n}", LessonKind.TEXT)
        )
    with pytest.raises(RuleViolated):
        await outline.add_lesson(teacher, course.id, module.id, LessonDraft("x", LessonKind.TEXT))


async def test_a_course_points_only_at_its_staffs_files_of_the_right_purpose(
    service, outline, app, teacher
):
    course = await service.create_course(teacher, CourseDraft("With files"))
    _, module = await outline.add_module(teacher, course.id, "M")
    clip = await a_stored_file(app, teacher, FilePurpose.LESSON_MATERIAL, course.id, "video/mp4")
    cover = await a_stored_file(app, teacher, FilePurpose.COURSE_COVER, course.id)
    lesson = await outline.add_lesson(
        teacher, course.id, module.id, LessonDraft("Clip", LessonKind.VIDEO, file_id=clip.id)
    )
    edited = await service.edit_course(teacher, course.id, CourseChanges(cover_file_id=cover.id))
    assert (lesson.file_id, edited.cover_file_id) == (clip.id, cover.id)
    elsewhere = await service.create_course(teacher, CourseDraft("Elsewhere"))
    colleague = await a_member(app, Role.INSTRUCTOR)
    theirs = await a_stored_file(app, colleague, FilePurpose.LESSON_MATERIAL, course.id)
    not_material = [cover.id, theirs.id, "no-such-file"]  # a cover; another's; none at all
    for file_id in not_material:
        with pytest.raises(RuleViolated):
            await outline.add_lesson(
                teacher, course.id, module.id, LessonDraft("L", LessonKind.VIDEO, file_id=file_id)
            )
    for file_id in (clip.id, "no-such-file"):  # lesson material is no cover
        with pytest.raises(RuleViolated):
            await service.edit_course(teacher, course.id, CourseChanges(cover_file_id=file_id))
    with pytest.raises(RuleViolated):  # uploaded for another course
        await service.edit_course(teacher, elsewhere.id, CourseChanges(cover_file_id=cover.id))


async def test_every_course_route_takes_the_slug_as_well_as_the_id(service, outline, teacher):
    course = await service.create_course(teacher, CourseDraft("Known by its slug"))
    _, module = await outline.add_module(teacher, course.slug, "By slug")
    edited = await service.edit_course(teacher, course.slug, CourseChanges(summary="via slug"))
    await outline.add_lesson(teacher, course.slug, module.id, LessonDraft("L", LessonKind.TEXT))
    published = await service.publish(teacher, course.slug)
    assert edited.id == published.id == course.id and published.lesson_count == 1


async def test_transitions_are_idempotent_and_checked(service, teacher, outline):
    course = await service.create_course(teacher, CourseDraft("Life"))
    _, module = await outline.add_module(teacher, course.id, "M")
    await outline.add_lesson(teacher, course.id, module.id, LessonDraft("L", LessonKind.TEXT))
    published = await service.publish(teacher, course.id)
    again = await service.publish(teacher, course.id)
    assert again.version == published.version and again.published_at == published.published_at
    await service.archive(teacher, course.id)
    with pytest.raises(Conflict):
        await service.unpublish(teacher, course.id)


async def test_strangers_learn_nothing_about_drafts(service, teacher, outline, app):
    course = await service.create_course(teacher, CourseDraft("Secret"))
    stranger = a_user(Role.INSTRUCTOR)
    with pytest.raises(NotFound):
        await service.get_course(stranger, course.id)
    with pytest.raises(NotFound):
        await service.publish(stranger, course.id)
    with pytest.raises(NotFound):
        await outline.add_module(stranger, course.id, "x")
    page = await app.catalog.browse(stranger, CatalogFilter(mine=True), limit=10, cursor=None)
    assert page.items == []
    student = a_user()
    with pytest.raises(PermissionDenied):
        await service.create_course(student, CourseDraft("Nope"))


async def test_an_edit_without_if_match_applies_over_a_concurrent_save(service, courses, teacher):
    course = await service.create_course(teacher, CourseDraft("Shared"))
    colleague_saves_first(
        courses, lambda c: c.edit(c.updated_at, CourseChanges(summary="by a colleague"))
    )
    edited = await service.edit_course(teacher, course.id, CourseChanges(title="Mine"))
    assert (edited.title, edited.summary) == ("Mine", "by a colleague")
    with pytest.raises(StaleVersion):
        await service.edit_course(teacher, course.id, CourseChanges(title="Late"), if_match=1)


async def test_an_edit_under_if_match_is_not_reapplied_over_a_concurrent_save(
    service, courses, teacher
):
    """If-Match names the version read: a colleague's save in between is a 412, at once (one
    read, one write), and their change stays."""
    course = await service.create_course(teacher, CourseDraft("Guarded"))
    colleague_saves_first(courses, lambda c: c.edit(c.updated_at, CourseChanges(summary="theirs")))
    reads, real_get = [], courses.get

    async def counted_get(course_id):
        reads.append(course_id)
        return await real_get(course_id)

    courses.get = counted_get
    with pytest.raises(StaleVersion):
        await service.edit_course(
            teacher, course.id, CourseChanges(title="Mine"), if_match=course.version
        )
    stored = await real_get(course.id)
    assert (stored.title, stored.summary) == ("Guarded", "theirs")
    assert reads == [course.id]  # no re-read to re-apply the edit
