"""Ports of courses: the `courses` collection (the course with its outline and counters,
and the catalog query it answers) and the `lessons` collection (lesson bodies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ocp.domain.courses import CatalogQuery, CatalogRow, Course, Lesson


@dataclass(frozen=True, slots=True)
class CourseCard:
    """What a list of a student's enrollments shows of each course, and its lessons now."""

    id: str
    slug: str
    title: str
    lesson_ids: list[str]


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

    async def search(self, query: CatalogQuery) -> list[CatalogRow]:
        """One catalog page, served by an index whatever the filters, each course with its
        stored key in the query's order. Rows are for listing: a store may leave their outline
        (`modules`) out."""
        ...

    async def is_empty(self) -> bool: ...

    # The counters, each changed atomically on the course itself (no transactions): each
    # change also moves the catalog key that sorts by it, and the course's version, so an edit
    # of the course read before the change cannot write the old value back.

    async def take_seats(self, course_id: str, count: int) -> bool:
        """Add `count` to `enrolled_count` if the course is published and they all fit below
        its capacity (read at the moment of the change); False, and nothing taken, if not."""
        ...

    async def give_back_seats(self, course_id: str, count: int) -> None: ...

    async def add_rating(self, course_id: str, rating_delta: int, count_delta: int) -> None:
        """Move `rating_sum` and `rating_count` by these deltas; `rating_avg` follows."""
        ...

    async def cards(self, course_ids: list[str]) -> dict[str, CourseCard]:
        """The existing courses among `course_ids`, in one round trip."""
        ...


class LessonRepository(Protocol):
    async def add(self, lesson: Lesson) -> None: ...

    async def add_many(self, lessons: list[Lesson]) -> None: ...

    async def get(self, lesson_id: str) -> Lesson | None: ...

    async def update(self, lesson: Lesson, expected_version: int) -> None:
        """Replace the lesson if its version is still `expected_version`, else `StaleVersion`."""
        ...

    async def of_course(self, course_id: str) -> list[Lesson]:
        """Every lesson of a course, in one round trip (what its deletion takes along)."""
        ...

    async def delete_many(self, lesson_ids: list[str]) -> None: ...

    async def delete_course(self, course_id: str) -> None:
        """Forget every lesson of a course."""
        ...

    async def any_lesson_uses_file(self, file_id: str) -> bool: ...
