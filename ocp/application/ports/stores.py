"""Every collection the application keeps, one port each: what an adapter technology
(memory, MongoDB) provides as a whole, so that choosing one is a single decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ocp.application.ports.courses import CourseRepository, LessonRepository
from ocp.application.ports.files import FileRepository, UploadSessionRepository
from ocp.application.ports.identity import (
    LoginThrottle,
    OneTimeTokenStore,
    RefreshTokenStore,
    UserRepository,
)
from ocp.application.ports.learning import (
    AssignmentRepository,
    EnrollmentRepository,
    ReviewRepository,
    SubmissionRepository,
)


@dataclass(frozen=True, slots=True)
class Stores:
    users: UserRepository
    refresh_tokens: RefreshTokenStore
    one_time_tokens: OneTimeTokenStore
    login_throttle: LoginThrottle
    courses: CourseRepository
    lessons: LessonRepository
    enrollments: EnrollmentRepository
    assignments: AssignmentRepository
    submissions: SubmissionRepository
    reviews: ReviewRepository
    files: FileRepository
    upload_sessions: UploadSessionRepository

    def each(self) -> list[tuple[str, Any]]:
        """(name, store) for every collection."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    def wrapped(self, wrap: Callable[[str, Any], Any]) -> Stores:
        """The same stores, each passed through `wrap(name, store)` (instrumentation)."""
        return Stores(**{name: wrap(name, store) for name, store in self.each()})
