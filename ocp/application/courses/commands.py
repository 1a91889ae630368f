"""What the course use cases take to create: a course draft and a lesson draft."""

from __future__ import annotations

from dataclasses import dataclass

from ocp.domain.courses import LessonKind, Level


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
class LessonDraft:
    title: str
    kind: LessonKind
    body_markdown: str = ""
    file_id: str | None = None
    duration_s: int | None = None
    is_preview: bool = False
