"""What the course use cases take: drafts, changes and catalog filters, and the default
answer about files while no file store is wired in."""

from __future__ import annotations

from dataclasses import dataclass

from ocp.application.ports.courses import CatalogSort
from ocp.domain.courses import LessonKind, Level

UNSET: object = object()  # a field a PATCH did not name: leave it as it is

LESSON_MATERIAL = "lesson_material"
COURSE_COVER = "course_cover"


class NoCourseFiles:
    """Until a file store is wired in, no file can be attached to a course."""

    async def is_attachable(
        self, file_id: str, actor_id: str, course_id: str, purpose: str
    ) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class CourseDraft:
    title: str
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    level: Level = Level.BEGINNER
    category: str = ""
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class CourseChanges:
    """What PATCH /courses/{id} may change; `UNSET` leaves a field alone, None clears the
    nullable ones (capacity, cover)."""

    title: str | None = None
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    level: Level | None = None
    category: str | None = None
    capacity: object = UNSET
    cover_file_id: object = UNSET


@dataclass(frozen=True, slots=True)
class CatalogFilter:
    query: str | None = None
    tag: str | None = None
    level: Level | None = None
    category: str | None = None
    instructor_id: str | None = None
    mine: bool = False
    sort: CatalogSort = CatalogSort.NEWEST


@dataclass(frozen=True, slots=True)
class LessonDraft:
    title: str
    kind: LessonKind
    body_markdown: str = ""
    file_id: str | None = None
    duration_s: int | None = None
    is_preview: bool = False


@dataclass(frozen=True, slots=True)
class LessonChanges:
    title: str | None = None
    kind: LessonKind | None = None
    body_markdown: str | None = None
    file_id: object = UNSET
    duration_s: object = UNSET
    is_preview: bool | None = None
