"""Ports of courses: the course and lesson stores, the catalog query they answer, who is
enrolled, and which files a course may point at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from typing import Protocol

from ocp.domain.courses import Course, CourseStatus, Lesson, fold

# Separates a sort value from the id that breaks its ties; below every character a title
# keeps, so "abc" sorts before "abc d" and both before "abd".
KEY_SEP = "\x1f"


class CatalogSort(StrEnum):
    NEWEST = "newest"  # latest published first
    TITLE = "title"  # A to Z, case- and accent-insensitive
    RATING = "rating"  # highest rating_avg first
    POPULAR = "popular"  # highest enrolled_count first

    @property
    def descending(self) -> bool:
        return self is not CatalogSort.TITLE


def catalog_key(course: Course, sort: CatalogSort) -> str:
    """The course's place in a catalog order: its sort value and its id folded into one
    string, unique per course. Stores index it, and a cursor is one such key, so the next
    page is one range on one field (`key < cursor`, or `>` for A to Z)."""
    if sort is CatalogSort.NEWEST:
        when = course.published_at or course.created_at  # a draft places by its creation
        value = when.astimezone(UTC).strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}"
    elif sort is CatalogSort.TITLE:
        value = fold(course.title)
    elif sort is CatalogSort.RATING:
        value = f"{round(course.rating_avg * 10_000):06d}"
    else:
        value = f"{course.enrolled_count:012d}"
    return f"{value}{KEY_SEP}{course.id}"


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """One catalog page to fetch.

    `status` (published for everyone) or `staff_id` (someone's own courses, every status)
    narrows the set; every one of `terms` (see `Course.catalog_terms`) must match; rows come in
    `sort` order after the key `after`, at most `limit` of them.
    """

    sort: CatalogSort
    limit: int
    status: CourseStatus | None = CourseStatus.PUBLISHED
    staff_id: str | None = None
    terms: list[str] = field(default_factory=list)
    after: str | None = None


class CourseRepository(Protocol):
    async def add(self, course: Course) -> None:
        """Store a new course; `DuplicateSlug` when its slug is taken."""
        ...

    async def get(self, course_id: str) -> Course | None: ...

    async def get_by_slug(self, slug: str) -> Course | None: ...

    async def update(self, course: Course, expected_version: int) -> None:
        """Replace the course if its version is still `expected_version`, else `StaleVersion`;
        `NotFound` when it is gone."""
        ...

    async def delete(self, course_id: str, expected_version: int) -> None:
        """Remove the course if its version is still `expected_version`, else `StaleVersion`."""
        ...

    async def search(self, query: CatalogQuery) -> list[Course]:
        """One catalog page, served by an index whatever the filters. Rows are for listing:
        a store may leave their outline (`modules`) out."""
        ...

    async def is_empty(self) -> bool: ...


class LessonRepository(Protocol):
    async def add(self, lesson: Lesson) -> None: ...

    async def add_many(self, lessons: list[Lesson]) -> None: ...

    async def get(self, lesson_id: str) -> Lesson | None: ...

    async def update(self, lesson: Lesson, expected_version: int) -> None:
        """Replace the lesson if its version is still `expected_version`, else `StaleVersion`."""
        ...

    async def delete_many(self, lesson_ids: list[str]) -> None: ...

    async def delete_course(self, course_id: str) -> None:
        """Forget every lesson of a course."""
        ...

    async def any_lesson_uses_file(self, file_id: str) -> bool: ...


class EnrollmentLookup(Protocol):
    """Read side of enrollment, answered from the `enrollments` collection."""

    async def is_enrolled(self, course_id: str, user_id: str) -> bool: ...

    async def has_enrollments(self, course_id: str) -> bool: ...


class CourseFiles(Protocol):
    async def is_attachable(
        self, file_id: str, actor_id: str, course_id: str, purpose: str
    ) -> bool:
        """True when `actor_id` may point the course at `file_id` for `purpose`
        (`lesson_material` for a lesson's file, `course_cover` for a cover)."""
        ...
