"""Changing a course document: read it, check who may, apply, save at the version read; when
a colleague saved in between, read again and re-apply (outline edits commute)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocp.application.audit import audit_info
from ocp.application.course_roles import CourseRoles
from ocp.application.events.recorder import EventRecorder
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.events import Subject
from ocp.application.retry import ATTEMPTS, retry_on_stale
from ocp.domain.audit import changed
from ocp.domain.courses import Course, CourseStatus
from ocp.domain.users import User
from ocp.domain.webhooks import Event


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
    recorder: EventRecorder | None = None,
) -> Course:
    """Apply `change` to the current course as `actor` (staff; with `owner_only` the owner or
    an admin) and save it. `read` is the course as the caller has just read and checked it,
    to start from. A `conditional` change (If-Match) is tried once: a concurrent save is the
    client's to see, never re-applied. With a `recorder`, what the change did to the status,
    the capacity or the co-instructors is recorded with the save as audited events (an
    idempotent repeat changes nothing and records nothing)."""
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
        before = (course.status, course.capacity, list(course.instructor_ids))
        change(course)
        if course.version == version:  # an idempotent transition changes nothing
            return course
        events = audited_events(recorder, actor, before, course) if recorder else []
        if not events or recorder is None:
            await courses.update(course, version)
            return course
        async with recorder.recording(Subject("courses", course.id, course.version), *events):
            await courses.update(course, version)
        return course

    return await retry_on_stale(attempt, attempts=1 if conditional else ATTEMPTS)


_STATUS_EVENTS = {
    CourseStatus.PUBLISHED: "course.published",
    CourseStatus.ARCHIVED: "course.archived",
    CourseStatus.DRAFT: "course.unpublished",
}


def audited_events(
    recorder: EventRecorder,
    actor: User,
    before: tuple[CourseStatus, int | None, list[str]],
    course: Course,
) -> list[Event]:
    """The audited events of a course change: each names the fields it changed."""
    status, capacity, instructors = before
    made: list[tuple[str, dict[str, list[Any]]]] = []
    if course.status is not status:
        made.append(
            (_STATUS_EVENTS[course.status], changed(status=(status.value, course.status.value)))
        )
    if course.capacity != capacity:
        made.append(("course.capacity_changed", changed(capacity=(capacity, course.capacity))))
    now_teaching = list(course.instructor_ids)
    if any(i not in instructors for i in now_teaching):
        made.append(
            ("course.instructor_added", changed(instructor_ids=(instructors, now_teaching)))
        )
    if any(i not in now_teaching for i in instructors):
        made.append(
            ("course.instructor_removed", changed(instructor_ids=(instructors, now_teaching)))
        )
    return [
        recorder.event(type_, course, audit=audit_info(actor, "course", course.id, changes))
        for type_, changes in made
    ]
