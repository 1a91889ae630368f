"""Lessons and modules: a lesson's outline (what the course shows of it), the module that
orders them, and the lesson itself with its body."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from ocp.domain.changes import UNSET, Changes, Unset
from ocp.domain.courses.values import LESSON_BODY_MAX_CHARS, LessonKind, duration, title
from ocp.domain.errors import RuleViolated


@dataclass(slots=True)
class LessonOutline:
    """What a course's outline shows of a lesson: never its body."""

    id: str
    title: str
    kind: LessonKind
    is_preview: bool = False
    duration_s: int | None = None


@dataclass(slots=True)
class Module:
    id: str
    title: str
    summary: str = ""
    lessons: list[LessonOutline] = field(default_factory=list)

    def lesson(self, lesson_id: str) -> LessonOutline | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)


@dataclass(frozen=True, slots=True)
class LessonChanges(Changes):
    """What PATCH /lessons/{id} may change; None clears the file or the duration."""

    clearable: ClassVar[frozenset[str]] = frozenset({"file_id", "duration_s"})

    title: str | Unset = UNSET
    kind: LessonKind | Unset = UNSET
    body_markdown: str | Unset = UNSET
    file_id: str | Unset | None = UNSET
    duration_s: int | Unset | None = UNSET
    is_preview: bool | Unset = UNSET


@dataclass(slots=True)
class Lesson:
    """A lesson with its body; its outline lives in the course."""

    id: str
    course_id: str
    module_id: str
    title: str
    kind: LessonKind
    created_at: datetime
    updated_at: datetime
    body_markdown: str = ""
    file_id: str | None = None
    duration_s: int | None = None
    is_preview: bool = False
    version: int = 1

    @classmethod
    def write(
        cls,
        *,
        id: str,
        course_id: str,
        module_id: str,
        title_text: str,
        kind: LessonKind,
        now: datetime,
        body_markdown: str = "",
        file_id: str | None = None,
        duration_s: int | None = None,
        is_preview: bool = False,
    ) -> Lesson:
        lesson = cls(
            id=id,
            course_id=course_id,
            module_id=module_id,
            title=title(title_text),
            kind=kind,
            created_at=now,
            updated_at=now,
            body_markdown=_body(body_markdown),
            file_id=file_id,
            duration_s=duration(duration_s),
            is_preview=is_preview,
        )
        lesson._check_file()
        return lesson

    def _check_file(self) -> None:
        if self.kind is LessonKind.TEXT and self.file_id is not None:
            raise RuleViolated("a text lesson has no file; use kind video or file", field="file_id")

    def edit(self, now: datetime, changes: LessonChanges) -> None:
        if not isinstance(changes.title, Unset):
            self.title = title(changes.title)
        if not isinstance(changes.kind, Unset):
            self.kind = changes.kind
        if not isinstance(changes.body_markdown, Unset):
            self.body_markdown = _body(changes.body_markdown)
        if not isinstance(changes.file_id, Unset):
            self.file_id = changes.file_id
        if not isinstance(changes.duration_s, Unset):
            self.duration_s = duration(changes.duration_s)
        if not isinstance(changes.is_preview, Unset):
            self.is_preview = changes.is_preview
        self._check_file()
        self.updated_at = now
        self.version += 1

    @property
    def outline(self) -> LessonOutline:
        return LessonOutline(self.id, self.title, self.kind, self.is_preview, self.duration_s)


def _body(value: str) -> str:
    if len(value) > LESSON_BODY_MAX_CHARS:
        raise RuleViolated(f"must be at most {LESSON_BODY_MAX_CHARS} characters", "body_markdown")
    return value
