"""Soft deletion: a deleted course, module, lesson or assignment waits in the trash for 30 days,
during which an admin may restore it as it was; then `ocp gc` purges it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ocp.domain.courses import Course, Lesson
from ocp.domain.learning import Assignment

RESTORE_WINDOW = timedelta(days=30)


class TrashKind(StrEnum):
    COURSE = "course"
    MODULE = "module"
    LESSON = "lesson"
    ASSIGNMENT = "assignment"


@dataclass(slots=True)
class Trashed:
    """What one deletion removed, whole: a course with its lessons and assignments, a module
    with its lessons, a lesson with where it stood in its module, or an assignment."""

    kind: TrashKind
    object_id: str
    course_id: str
    deleted_at: datetime
    deleted_by: str
    course: Course | None = None
    lessons: list[Lesson] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    module_id: str | None = None  # a lesson's module (a module's own id) ...
    position: int = 0  # ... and its place in it (a module's in its course)
    title: str = ""  # a module's
    summary: str = ""

    @property
    def id(self) -> str:
        return trash_id(self.kind, self.object_id)

    def restorable(self, now: datetime) -> bool:
        return now < self.deleted_at + RESTORE_WINDOW


def trash_id(kind: TrashKind, object_id: str) -> str:
    return f"{kind.value}:{object_id}"
