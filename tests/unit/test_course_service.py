"""Course use cases and rules on the in-memory adapters: no HTTP, plain objects."""

from __future__ import annotations

import pytest

from ocp.adapters.memory.clock import ManualClock
from ocp.adapters.memory.courses import (
    InMemoryCourseRepository,
    InMemoryEnrollments,
    InMemoryLessonRepository,
)
from ocp.adapters.memory.identity import InMemoryUserRepository
from ocp.application.courses import (
    CatalogFilter,
    CourseChanges,
    CourseDraft,
    CourseService,
    LessonDraft,
)
from ocp.domain.courses import (
    LESSONS_PER_MODULE_MAX,
    MODULES_MAX,
    LessonKind,
    slug_with_suffix,
    slugify,
    words,
)
from ocp.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolated, StaleVersion
from ocp.domain.users import Role
from tests.support import a_user


class Ids:
    def __init__(self):
        self.n = 0

    def new_id(self):
        self.n += 1
        return f"{self.n:024x}"


class AcceptAllFiles:
    def __init__(self):
        self.asked = []

    async def is_attachable(self, file_id, actor_id, course_id, purpose):
        self.asked.append((file_id, actor_id, course_id, purpose))
        return True


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
def repos():
    return InMemoryCourseRepository(), InMemoryLessonRepository(), InMemoryEnrollments()


@pytest.fixture
async def users():
    return InMemoryUserRepository()


@pytest.fixture
def files():
    return AcceptAllFiles()


@pytest.fixture
def service(repos, users, files):
    courses, lessons, enrollments = repos
    return CourseService(
        courses=courses,
        lessons=lessons,
        enrollments=enrollments,
        users=users,
        clock=ManualClock(),
        ids=Ids(),
        files=files,
    )


@pytest.fixture
async def teacher(users):
    user = a_user(Role.INSTRUCTOR)
    await users.add(user)
    return user


def test_slugs_and_words_are_folded_to_plain_lower_case():
    assert slugify("  Déjà Vu: C++ & Rust!  ") == "deja-vu-c-rust"
    assert slugify("日本語") == "course"
    assert len(slugify("x" * 500)) == 60
    assert slug_with_suffix("a" * 60, "0123456789abcdef") == "a" * 53 + "-abcdef"
    assert words("Ünïcode, UNICODE and C# — ok?") == ["unicode", "and", "c", "ok"]


async def test_two_editors_adding_modules_at_once_both_succeed(service, repos, teacher):
    course = await service.create_course(teacher, CourseDraft("Busy"))
    courses, _, _ = repos
    colleague_saves_first(courses, lambda c: c.add_module("colleague", "Theirs", "", c.updated_at))
    _, module = await service.add_module(teacher, course.id, "Ours")
    stored = await courses.get(course.id)
    assert [m.title for m in stored.modules] == ["Theirs", "Ours"]
    assert module.title == "Ours"


async def test_a_stale_if_match_changes_nothing(service, teacher):
    course = await service.create_course(teacher, CourseDraft("Old title"))
    await service.edit_course(teacher, course.id, CourseChanges(summary="v2"), if_match=1)
    with pytest.raises(StaleVersion):
        await service.edit_course(teacher, course.id, CourseChanges(title="Lost"), if_match=1)
    assert (await service.get_course(teacher, course.id)).title == "Old title"


async def test_capacity_cannot_drop_below_the_enrolled(service, repos, teacher):
    course = await service.create_course(teacher, CourseDraft("Full", capacity=10))
    courses, _, _ = repos
    stored = await courses.get(course.id)
    stored.enrolled_count = 8
    await courses.update(stored, stored.version)
    with pytest.raises(RuleViolated):
        await service.edit_course(teacher, course.id, CourseChanges(capacity=5))
    await service.edit_course(teacher, course.id, CourseChanges(capacity=8))


async def test_a_course_holds_at_most_200_modules_of_200_lessons(service, teacher):
    course = await service.create_course(teacher, CourseDraft("Big"))
    for n in range(MODULES_MAX):
        _, module = await service.add_module(teacher, course.id, f"M{n}")
    with pytest.raises(RuleViolated):
        await service.add_module(teacher, course.id, "One too many")
    for n in range(LESSONS_PER_MODULE_MAX):
        await service.add_lesson(
            teacher, course.id, module.id, LessonDraft(f"L{n}", LessonKind.TEXT)
        )
    with pytest.raises(RuleViolated):
        await service.add_lesson(teacher, course.id, module.id, LessonDraft("x", LessonKind.TEXT))


async def test_files_are_checked_for_their_purpose(service, files, teacher):
    course = await service.create_course(teacher, CourseDraft("With files"))
    _, module = await service.add_module(teacher, course.id, "M")
    lesson = await service.add_lesson(
        teacher, course.id, module.id, LessonDraft("Clip", LessonKind.VIDEO, file_id="f1")
    )
    await service.edit_course(teacher, course.id, CourseChanges(cover_file_id="img"))
    assert files.asked == [
        ("f1", teacher.id, course.id, "lesson_material"),
        ("img", teacher.id, course.id, "course_cover"),
    ]
    assert lesson.file_id == "f1"
    with pytest.raises(RuleViolated):
        await service.add_lesson(
            teacher, course.id, module.id, LessonDraft("Text", LessonKind.TEXT, file_id="f1")
        )


async def test_transitions_are_idempotent_and_checked(service, teacher):
    course = await service.create_course(teacher, CourseDraft("Life"))
    _, module = await service.add_module(teacher, course.id, "M")
    await service.add_lesson(teacher, course.id, module.id, LessonDraft("L", LessonKind.TEXT))
    published = await service.publish(teacher, course.id)
    again = await service.publish(teacher, course.id)
    assert again.version == published.version and again.published_at == published.published_at
    await service.archive(teacher, course.id)
    with pytest.raises(Conflict):
        await service.unpublish(teacher, course.id)


async def test_strangers_learn_nothing_about_drafts(service, users, teacher):
    course = await service.create_course(teacher, CourseDraft("Secret"))
    stranger = a_user(Role.INSTRUCTOR)
    with pytest.raises(NotFound):
        await service.get_course(stranger, course.id)
    with pytest.raises(NotFound):
        await service.publish(stranger, course.id)
    with pytest.raises(NotFound):
        await service.add_module(stranger, course.id, "x")
    page = await service.browse(stranger, CatalogFilter(mine=True), limit=10, cursor=None)
    assert page.items == []
    student = a_user()
    with pytest.raises(PermissionDenied):
        await service.create_course(student, CourseDraft("Nope"))


async def test_an_edit_without_if_match_applies_over_a_concurrent_save(service, repos, teacher):
    course = await service.create_course(teacher, CourseDraft("Shared"))
    courses, _, _ = repos
    colleague_saves_first(courses, lambda c: c.edit(c.updated_at, summary_text="by a colleague"))
    edited = await service.edit_course(teacher, course.id, CourseChanges(title="Mine"))
    assert (edited.title, edited.summary) == ("Mine", "by a colleague")
    with pytest.raises(StaleVersion):
        await service.edit_course(teacher, course.id, CourseChanges(title="Late"), if_match=1)
