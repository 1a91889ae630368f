"""In-memory adapters: real implementations of the ports with the same semantics as the
MongoDB ones (uniqueness, ordering, conditional updates), for tests and quick experiments."""

from __future__ import annotations

from ocp.adapters.memory.courses import InMemoryCourseRepository, InMemoryLessonRepository
from ocp.adapters.memory.files import InMemoryFileRepository, InMemoryUploadSessionRepository
from ocp.adapters.memory.identity import (
    InMemoryLoginThrottle,
    InMemoryOneTimeTokenStore,
    InMemoryRefreshTokenStore,
    InMemoryUserRepository,
)
from ocp.adapters.memory.learning import (
    InMemoryAssignmentRepository,
    InMemoryEnrollmentRepository,
    InMemoryReviewRepository,
    InMemorySubmissionRepository,
)
from ocp.application.ports.stores import Stores


def memory_stores(*, login_max_failures: int, login_window_s: int) -> Stores:
    """Every collection in this process's memory."""
    return Stores(
        users=InMemoryUserRepository(),
        refresh_tokens=InMemoryRefreshTokenStore(),
        one_time_tokens=InMemoryOneTimeTokenStore(),
        login_throttle=InMemoryLoginThrottle(login_max_failures, login_window_s),
        courses=InMemoryCourseRepository(),
        lessons=InMemoryLessonRepository(),
        enrollments=InMemoryEnrollmentRepository(),
        assignments=InMemoryAssignmentRepository(),
        submissions=InMemorySubmissionRepository(),
        reviews=InMemoryReviewRepository(),
        files=InMemoryFileRepository(),
        upload_sessions=InMemoryUploadSessionRepository(),
    )
