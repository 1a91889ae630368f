"""Lessons and modules: a lesson's outline (what the course shows of it), the module that
orders them, and the lesson itself with its body."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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

    def edit(
        self,
        now: datetime,
        *,
        title_text: str | None = None,
        kind: LessonKind | None = None,
        body_markdown: str | None = None,
        file_id: str | None = None,
        clear_file: bool = False,
        duration_s: int | None = None,
        clear_duration: bool = False,
        is_preview: bool | None = None,
    ) -> None:
        if title_text is not None:
            self.title = title(title_text)
        if kind is not None:
            self.kind = kind
        if body_markdown is not None:
            self.body_markdown = _body(body_markdown)
        if clear_file:
            self.file_id = None
        elif file_id is not None:
            self.file_id = file_id
        if clear_duration:
            self.duration_s = None
        elif duration_s is not None:
            self.duration_s = duration(duration_s)
        if is_preview is not None:
            self.is_preview = is_preview
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
