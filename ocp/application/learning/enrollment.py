"""Enrollment use cases: enrolling (one, or many by email), dropping, the roster, a student's
courses, and lesson completion with the progress it makes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocp.application.course_roles import CourseRoles
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.identity import UserRepository
from ocp.application.ports.learning import EnrollmentRepository
from ocp.domain.courses import Course, CourseStatus
from ocp.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RuleViolated,
)
from ocp.domain.learning import BULK_EMAILS_MAX, Enrollment, Progress
from ocp.domain.users import Email, Role, User

_NO_SEAT = "the course is full or no longer open for enrollment"


@dataclass(frozen=True, slots=True)
class ProgressReport:
    enrollment: Enrollment
    completed_lesson_ids: list[str]
    progress: Progress


@dataclass(slots=True)
class BulkReport:
    enrolled: int = 0
    already: int = 0
    unknown: list[str] = field(default_factory=list)
    full: list[str] = field(default_factory=list)
    not_student: list[str] = field(default_factory=list)  # staff and admins: no seat taken


class EnrollmentService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        enrollments: EnrollmentRepository,
        users: UserRepository,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._courses = courses
        self._enrollments = enrollments
        self._users = users
        self._clock = clock
        self._ids = ids
        self._roles = CourseRoles(courses, enrollments)

    # --- enrolling -----------------------------------------------------------------------

    async def enroll(self, actor: User, course_id: str) -> tuple[ProgressReport, bool]:
        """Enroll the actor; the enrollment and whether this call made it (False: they were
        enrolled already, and get the same enrollment)."""
        course = await self._roles.course(course_id)
        # An archived course was public once: it says it is closed. A draft does not exist.
        if not course.is_visible_to(actor) and course.status is not CourseStatus.ARCHIVED:
            raise NotFound("no such course")
        if course.excluded_as_student(actor):  # a demoted owner too: no seat in their course
            raise PermissionDenied("course staff do not enroll in their own course")
        if not _may_enroll(actor):
            raise PermissionDenied("only students enroll in courses")
        if course.status is not CourseStatus.PUBLISHED:
            # Closed: only someone enrolled already gets an answer other than "not open". Open:
            # no look first, the unique insert tells a repeat apart (one round trip fewer).
            existing = await self._enrollments.find(course.id, actor.id)
            if existing is not None:
                return report_of(existing, course), False
        enrollment, made = await self._enroll_user(course, actor.id)
        return report_of(enrollment, course), made

    async def _enroll_user(self, course: Course, user_id: str) -> tuple[Enrollment, bool]:
        if course.status is not CourseStatus.PUBLISHED:
            raise Conflict("the course is not open for enrollment")
        # The enrollment first, under the unique (course, student) index: of one student's
        # concurrent requests exactly one stores it and only that one goes on to take a seat,
        # so repeats never hold a seat, not even for a moment, and never find the course full.
        # Then the seat, on the counter: the one place that knows the capacity at this
        # instant. No seat: the enrollment goes again. No transaction spans the two writes: a
        # process dying between them leaves an enrollment whose seat was never counted
        # (`enrolled_count` one low, so the course may take one student above its capacity).
        enrollment = Enrollment.start(
            id=self._ids.new_id(), course_id=course.id, user_id=user_id, now=self._clock.now()
        )
        try:
            await self._enrollments.add(enrollment)
        except Conflict:
            # The same student's other request stored it: answer theirs. Gone again already
            # means that request found no seat.
            existing = await self._enrollments.find(course.id, user_id)
            if existing is None:
                raise Conflict(_NO_SEAT) from None
            return existing, False
        try:
            seated = await self._courses.take_seats(course.id, 1)
        except BaseException:
            # Whether the seat was taken is unknown: err on a seat counted for nobody (the
            # course looks one fuller), never on a student without a counted seat.
            await self._enrollments.remove(course.id, user_id)
            raise
        if not seated:
            await self._enrollments.remove(course.id, user_id)
            raise Conflict(_NO_SEAT)
        return enrollment, True

    async def bulk_enroll(self, actor: User, course_id: str, emails: list[str]) -> BulkReport:
        """Course staff enroll many students by email: who got in, who was in already, which
        addresses name nobody, which name staff or admins (no seat for them), and who found
        the course full."""
        course = await self._roles.staff_course(actor, course_id)
        if course.status is not CourseStatus.PUBLISHED:
            raise Conflict("the course is not open for enrollment")
        if len(emails) > BULK_EMAILS_MAX:
            raise RuleViolated(f"at most {BULK_EMAILS_MAX} emails at once", field="emails")
        report = BulkReport()
        wanted: dict[str, str] = {}  # email key -> the address as the client wrote it
        for raw in emails:
            text = raw.strip()
            if not text:
                continue
            try:
                key = Email(text).key
            except DomainError:
                report.unknown.append(text)
                continue
            wanted.setdefault(key, text)
        found = await self._users_by_email(list(wanted))
        for key, text in wanted.items():
            if key not in found:
                report.unknown.append(text)
            elif not _may_enroll(found[key]) or course.excluded_as_student(found[key]):
                report.not_student.append(text)
        ids = {
            user.id: key
            for key, user in found.items()
            if _may_enroll(user) and not course.excluded_as_student(user)
        }
        already = await self._enrollments.enrolled_among(course.id, list(ids))
        report.already = len(already)
        newcomers = [user_id for user_id in ids if user_id not in already]
        if newcomers and await self._courses.take_seats(course.id, len(newcomers)):
            seated = await self._enroll_seated(course, newcomers)
            report.enrolled += seated
            report.already += len(newcomers) - seated
            return report
        # They do not all fit: first come, first seated, one at a time.
        for user_id in newcomers:
            key = ids[user_id]
            try:
                _, made = await self._enroll_user(course, user_id)
            except Conflict:
                report.full.append(wanted[key])
                continue
            if made:
                report.enrolled += 1
            else:
                report.already += 1
        return report

    async def _enroll_seated(self, course: Course, user_ids: list[str]) -> int:
        """Enroll students whose seats are taken already, in one write; give back the seat of
        each who got in meanwhile. How many were enrolled."""
        now = self._clock.now()
        batch = [
            Enrollment.start(id=self._ids.new_id(), course_id=course.id, user_id=u, now=now)
            for u in user_ids
        ]
        try:
            made = len(await self._enrollments.add_many(batch))
        except BaseException:
            # Part of an unordered batch may be stored: keep the seats of those enrolled now
            # (erring, if they also enrolled themselves meanwhile, on a count too high, never
            # on a seat sold twice) and give back the rest.
            enrolled = await self._enrollments.enrolled_among(course.id, user_ids)
            if len(enrolled) < len(user_ids):
                await self._courses.give_back_seats(course.id, len(user_ids) - len(enrolled))
            raise
        if made < len(user_ids):
            await self._courses.give_back_seats(course.id, len(user_ids) - made)
        return made

    async def _users_by_email(self, keys: list[str]) -> dict[str, User]:
        return {user.email.key: user for user in await self._users.get_many_by_email(keys)}

    async def drop(self, actor: User, course_id: str) -> None:
        """The student leaves: the enrollment (and its progress) goes, the seat comes back."""
        course = await self._roles.course(course_id)
        if not course.lessons_open_to_students:
            await self._roles.enrolled(actor, course)  # who is not enrolled hears that first
            course.require_open_to_students(change=True)
        # No look first: the delete tells whether there was an enrollment to end.
        if await self._enrollments.remove(course.id, actor.id):
            await self._courses.give_back_seats(course.id, 1)
            return
        await self._roles.enrolled(actor, course)  # not enrolled: 403, or 404 if unseen


def _may_enroll(user: User) -> bool:
    """Enrollment is for students: instructors and admins teach or run courses, and an
    enrollment would let them review and grade-watch another instructor's course."""
    return user.role is Role.STUDENT


def report_of(enrollment: Enrollment, course: Course) -> ProgressReport:
    lessons = course.lesson_ids
    return ProgressReport(
        enrollment, enrollment.completed_of(lessons), enrollment.progress(lessons)
    )
