"""Progress: the roster with each student's progress, a student's own courses, and lessons
marked complete (or not) by the student, saved at the version read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ocp.application.course_roles import CourseRoles
from ocp.application.events.recorder import EventRecorder
from ocp.application.learning.enrollment import ProgressReport, report_of
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.common import Clock
from ocp.application.ports.courses import CourseCard, CourseRepository, LessonRepository
from ocp.application.ports.events import Subject
from ocp.application.ports.identity import UserRepository
from ocp.application.ports.learning import EnrollmentRepository
from ocp.application.retry import retry_on_stale
from ocp.domain.errors import NotFound
from ocp.domain.learning import Enrollment, Progress
from ocp.domain.users import User


@dataclass(frozen=True, slots=True)
class RosterEntry:
    enrollment: Enrollment
    user: User | None  # None when the account was removed since
    progress: Progress


@dataclass(frozen=True, slots=True)
class CourseEnrollment:
    """One of a student's enrollments with the course it is in (None if the course is gone)."""

    enrollment: Enrollment
    course: CourseCard | None
    progress: Progress


class ProgressService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        lessons: LessonRepository,
        enrollments: EnrollmentRepository,
        users: UserRepository,
        clock: Clock,
        events: EventRecorder,
    ) -> None:
        self._events = events
        self._courses = courses
        self._lessons = lessons
        self._enrollments = enrollments
        self._users = users
        self._clock = clock
        self._roles = CourseRoles(courses, enrollments)

    async def roster(
        self, actor: User, course_id: str, *, limit: int, cursor: str | None
    ) -> Page[RosterEntry]:
        """Staff see the students in enrollment order with their progress: one page of
        enrollments and one lookup of their accounts, whatever the page size."""
        after = decode_cursor(cursor, (str,))
        course = await self._roles.staff_course(actor, course_id)
        rows = await self._enrollments.list_course(
            course.id, str(after[0]) if after else None, limit + 1
        )
        page = page_of(rows, limit, lambda e: (e.id,))
        users = {u.id: u for u in await self._users.get_many([e.user_id for e in page.items])}
        lessons = course.lesson_ids
        return Page(
            [RosterEntry(e, users.get(e.user_id), e.progress(lessons)) for e in page.items],
            page.next_cursor,
        )

    async def my_enrollments(
        self, actor: User, *, limit: int, cursor: str | None
    ) -> Page[CourseEnrollment]:
        after = decode_cursor(cursor, (str,))
        rows = await self._enrollments.list_user(
            actor.id, str(after[0]) if after else None, limit + 1
        )
        page = page_of(rows, limit, lambda e: (e.id,))
        cards = await self._courses.cards([e.course_id for e in page.items])
        items = []
        for enrollment in page.items:
            card = cards.get(enrollment.course_id)
            lessons = card.lesson_ids if card else []
            items.append(CourseEnrollment(enrollment, card, enrollment.progress(lessons)))
        return Page(items, page.next_cursor)

    async def progress(self, actor: User, course_id: str) -> ProgressReport:
        course = await self._roles.course(course_id)
        enrollment = await self._roles.enrolled(actor, course)
        return report_of(enrollment, course)

    # --- lesson completion ---------------------------------------------------------------

    async def complete_lesson(self, actor: User, lesson_id: str) -> ProgressReport:
        now = self._clock.now()
        return await self._mark(
            actor,
            lesson_id,
            lambda e, lessons: e.complete_lesson(lesson_id, lessons, now),
            announce=True,
        )

    async def reopen_lesson(self, actor: User, lesson_id: str) -> ProgressReport:
        return await self._mark(
            actor, lesson_id, lambda e, lessons: e.reopen_lesson(lesson_id, lessons)
        )

    async def _mark(
        self,
        actor: User,
        lesson_id: str,
        change: Callable[[Enrollment, list[str]], bool],
        *,
        announce: bool = False,
    ) -> ProgressReport:
        lesson = await self._lessons.get(lesson_id)
        course = await self._courses.get(lesson.course_id) if lesson else None
        if lesson is None or course is None or course.find_lesson(lesson_id) is None:
            raise NotFound("no such lesson")

        async def attempt(n: int) -> ProgressReport:
            enrollment = await self._roles.enrolled(actor, course)
            course.require_open_to_students(change=True)
            version = enrollment.version
            finished_before = enrollment.completed_at is not None
            if change(enrollment, course.lesson_ids):
                report = report_of(enrollment, course)
                events = []
                if announce:
                    events.append(
                        self._events.event("lesson.completed", report, lesson_id=lesson_id)
                    )
                    if not finished_before and enrollment.completed_at is not None:
                        events.append(self._events.event("course.completed", report))
                # A save lost to the same student on another device is read again.
                async with self._events.recording(
                    Subject("enrollments", enrollment.id, enrollment.version), *events
                ):
                    await self._enrollments.save_progress(enrollment, version)
            return report_of(enrollment, course)

        return await retry_on_stale(attempt)
