"""Changing a course document: read it, check who may, apply, save at the version read; when
a colleague saved in between, read again and re-apply (outline edits commute)."""

from __future__ import annotations

from collections.abc import Callable

from ocp.application.course_roles import CourseRoles
from ocp.application.events.recorder import EventRecorder
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.events import Subject
from ocp.application.retry import ATTEMPTS, retry_on_stale
from ocp.domain.courses import Course
from ocp.domain.users import User


async def change_course(
    courses: CourseRepository,
    roles: CourseRoles,
    actor: User,
    id_or_slug: str,
    change: Callable[[Course], object],
    *,
    owner_only: bool = False,
    read: Course | None = None,
    conditional: bool = False,
    announce: tuple[EventRecorder, str] | None = None,
) -> Course:
    """Apply `change` to the current course as `actor` (staff; with `owner_only` the owner or
    an admin) and save it. `read` is the course as the caller has just read and checked it,
    to start from. A `conditional` change (If-Match) is tried once: a concurrent save is the
    client's to see, never re-applied. With `announce` (the recorder and an event type), the
    event is recorded with the save when the change is one (an idempotent repeat is not)."""
    key = id_or_slug

    async def attempt(n: int) -> Course:
        nonlocal key
        course = read if read is not None and n == 0 else None
        if course is None:
            course = await roles.staff_course(actor, key)
            key = course.id  # a retry reads by id, whatever the client named
        if owner_only:
            course.require_owner(actor)
        version = course.version
        change(course)
        if course.version == version:  # an idempotent transition changes nothing
            return course
        if announce is None:
            await courses.update(course, version)
            return course
        recorder, event_type = announce
        event = recorder.event(event_type, course)
        async with recorder.recording(Subject("courses", course.id, course.version), event):
            await courses.update(course, version)
        return course

    return await retry_on_stale(attempt, attempts=1 if conditional else ATTEMPTS)
