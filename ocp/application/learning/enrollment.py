"""Enrollment use cases: enrolling (one, or many by email), dropping, the roster, a student's
courses, and lesson completion with the progress it makes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ocp.application.course_roles import CourseRoles
from ocp.application.events.jobs import Checkpoint, JobQueue
from ocp.application.events.recorder import EventRecorder
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.events import Job, Subject
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
from ocp.domain.learning import BULK_EMAILS_MAX, BULK_JOB_ROWS_MAX, Enrollment, Progress
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
    # Each address as the client wrote it -> enrolled | already | unknown | full | not_student
    outcomes: dict[str, str] = field(default_factory=dict)

    def merge(self, other: BulkReport) -> None:
        """Add a later part's report (a job enrolls in parts)."""
        self.enrolled += other.enrolled
        self.already += other.already
        self.unknown.extend(other.unknown)
        self.full.extend(other.full)
        self.not_student.extend(other.not_student)
        self.outcomes.update(other.outcomes)


class EnrollmentService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        enrollments: EnrollmentRepository,
        users: UserRepository,
        clock: Clock,
        ids: IdGenerator,
        queue: JobQueue,
        events: EventRecorder,
        bulk_sync_max: int = 1000,
    ) -> None:
        self._events = events
        self._queue = queue
        self._bulk_sync_max = bulk_sync_max
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
        event = self._events.event("enrollment.created", report_of(enrollment, course))
        try:
            async with self._events.recording(
                Subject("enrollments", enrollment.id, enrollment.version), event
            ):
                await self._add_seated(course, enrollment)
        except _EnrolledAlready:
            # The same student's other request stored it: answer theirs. Gone again already
            # means that request found no seat.
            existing = await self._enrollments.find(course.id, user_id)
            if existing is None:
                raise Conflict(_NO_SEAT) from None
            return existing, False
        return enrollment, True

    async def _add_seated(self, course: Course, enrollment: Enrollment) -> None:
        try:
            await self._enrollments.add(enrollment)
        except Conflict:
            raise _EnrolledAlready("enrolled already") from None
        try:
            seated = await self._courses.take_seats(course.id, 1)
        except BaseException:
            # Whether the seat was taken is unknown: err on a seat counted for nobody (the
            # course looks one fuller), never on a student without a counted seat.
            await self._enrollments.remove(course.id, enrollment.user_id)
            raise
        if not seated:
            await self._enrollments.remove(course.id, enrollment.user_id)
            raise Conflict(_NO_SEAT)

    async def bulk_enroll_or_queue(
        self, actor: User, course_id: str, emails: list[str]
    ) -> BulkReport | Job:
        """Up to `bulk_sync_max` rows: the report at once. More: a job for the worker, after
        the same checks (who may, the course open), so a refusal is immediate too."""
        if len(emails) <= self._bulk_sync_max:
            return await self.bulk_enroll(actor, course_id, emails)
        course = await self._roles.staff_course(actor, course_id)
        if course.status is not CourseStatus.PUBLISHED:
            raise Conflict("the course is not open for enrollment")
        if len(emails) > BULK_JOB_ROWS_MAX:
            raise RuleViolated(f"at most {BULK_JOB_ROWS_MAX} rows at once", field="emails")
        return await self._queue.queue(
            BULK_ENROLLMENT_JOB,
            {"course_id": course.id, "emails": emails},
            created_by=actor.id,
            total=len(emails),
        )

    async def enrollment_of(self, course_id: str, user_id: str) -> Enrollment | None:
        return await self._enrollments.find(course_id, user_id)

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
        for text in report.unknown:
            report.outcomes[text] = "unknown"
        found = await self._users_by_email(list(wanted))
        for key, text in wanted.items():
            if key not in found:
                report.unknown.append(text)
                report.outcomes[text] = "unknown"
            elif not _may_enroll(found[key]) or course.excluded_as_student(found[key]):
                report.not_student.append(text)
                report.outcomes[text] = "not_student"
        ids = {
            user.id: key
            for key, user in found.items()
            if _may_enroll(user) and not course.excluded_as_student(user)
        }

        def note(user_id: str, outcome: str) -> None:
            report.outcomes[wanted[ids[user_id]]] = outcome
            if outcome == "enrolled":
                report.enrolled += 1
            elif outcome == "already":
                report.already += 1
            else:
                report.full.append(wanted[ids[user_id]])

        already = await self._enrollments.enrolled_among(course.id, list(ids))
        for user_id in already:
            note(user_id, "already")
        newcomers = [user_id for user_id in ids if user_id not in already]
        if newcomers and await self._courses.take_seats(course.id, len(newcomers)):
            seated = await self._enroll_seated(course, newcomers)
            for user_id in newcomers:
                note(user_id, "enrolled" if user_id in seated else "already")
            return report
        # They do not all fit: first come, first seated, one at a time.
        for user_id in newcomers:
            try:
                _, made = await self._enroll_user(course, user_id)
            except Conflict:
                note(user_id, "full")
                continue
            note(user_id, "enrolled" if made else "already")
        return report

    async def _enroll_seated(self, course: Course, user_ids: list[str]) -> set[str]:
        """Enroll students whose seats are taken already, in one write; give back the seat of
        each who got in meanwhile. The students enrolled now."""
        now = self._clock.now()
        batch = [
            Enrollment.start(id=self._ids.new_id(), course_id=course.id, user_id=u, now=now)
            for u in user_ids
        ]
        entries = [
            (
                Subject("enrollments", e.id, e.version),
                self._events.event("enrollment.created", report_of(e, course)),
            )
            for e in batch
        ]
        try:
            async with self._events.recording_each(entries) as recording:
                stored = await self._enrollments.add_many(batch)
                made = {e.id for e in stored}
                recording.drop([event.id for (s, event) in entries if s.id not in made])
        except BaseException:
            # Part of an unordered batch may be stored: keep the seats of those enrolled now
            # (erring, if they also enrolled themselves meanwhile, on a count too high, never
            # on a seat sold twice) and give back the rest.
            enrolled = await self._enrollments.enrolled_among(course.id, user_ids)
            if len(enrolled) < len(user_ids):
                await self._courses.give_back_seats(course.id, len(user_ids) - len(enrolled))
            raise
        if len(stored) < len(user_ids):
            await self._courses.give_back_seats(course.id, len(user_ids) - len(stored))
        return {e.user_id for e in stored}

    async def _users_by_email(self, keys: list[str]) -> dict[str, User]:
        return {user.email.key: user for user in await self._users.get_many_by_email(keys)}

    async def drop(self, actor: User, course_id: str) -> None:
        """The student leaves: the enrollment (and its progress) goes, the seat comes back."""
        course = await self._roles.course(course_id)
        # Who is not enrolled hears that first (403, or 404 when the course is unseen).
        enrollment = await self._roles.enrolled(actor, course)
        course.require_open_to_students(change=True)
        event = self._events.event("enrollment.dropped", report_of(enrollment, course))
        async with self._events.recording(Subject("enrollments", enrollment.id, None), event):
            if not await self._enrollments.remove(course.id, actor.id):
                raise NotFound("not enrolled in this course")  # dropped meanwhile
        await self._courses.give_back_seats(course.id, 1)


class _EnrolledAlready(Conflict):
    """The unique (course, student) index refused a second enrollment."""


def _may_enroll(user: User) -> bool:
    """Enrollment is for students: instructors and admins teach or run courses, and an
    enrollment would let them review and grade-watch another instructor's course."""
    return user.role is Role.STUDENT


def report_of(enrollment: Enrollment, course: Course) -> ProgressReport:
    lessons = course.lesson_ids
    return ProgressReport(
        enrollment, enrollment.completed_of(lessons), enrollment.progress(lessons)
    )


BULK_ENROLLMENT_JOB = "bulk_enrollment"
BULK_JOB_PART = 500


class BulkEnrollmentJob:
    """A bulk enrollment too big to answer at once, in parts of 500 rows. Before each part the
    job records that it begins (and when); after it, the merged report. A worker that dies
    mid-part leaves the part to the next one, which runs it again: the unique (course,
    student) index enrolls nobody twice, and a row found enrolled since the part began is
    reported as this job's enrollment, so the report counts each row once."""

    def __init__(self, *, service: EnrollmentService, users: UserRepository, clock: Clock) -> None:
        self._service = service
        self._users = users
        self._clock = clock

    async def run(self, job: Job, checkpoint: Checkpoint) -> dict[str, Any] | None:
        actor = await self._users.get(job.created_by or "")
        if actor is None or not actor.is_active:
            raise PermissionDenied("the job's creator can no longer enroll students")
        emails: list[str] = job.payload["emails"]
        course_id: str = job.payload["course_id"]
        state = job.state
        report = BulkReport(**state["report"]) if "report" in state else BulkReport()
        start = int(state.get("next", 0))
        resumed_since = state.get("part_began") if state.get("part") == start else None
        for begin in range(start, len(emails), BULK_JOB_PART):
            job.state = {**state, "part": begin, "part_began": self._clock.now().isoformat()}
            if resumed_since is None:
                await checkpoint(job)
            part = await self._service.bulk_enroll(
                actor, course_id, emails[begin : begin + BULK_JOB_PART]
            )
            if resumed_since is not None:
                await self._claim_own(course_id, part, datetime.fromisoformat(resumed_since))
                resumed_since = None
            report.merge(part)
            job.done = min(begin + BULK_JOB_PART, len(emails))
            state = {"next": job.done, "report": asdict(report)}
            job.state = state
            await checkpoint(job)
        return asdict(report)

    async def _claim_own(self, course_id: str, part: BulkReport, since: datetime) -> None:
        """A part run again: rows now `already` enrolled since the part first began were
        enrolled by that first run."""
        for text, outcome in list(part.outcomes.items()):
            if outcome != "already":
                continue
            user = await self._users.get_by_email(Email(text).key)
            enrollment = await self._service.enrollment_of(course_id, user.id) if user else None
            if enrollment is not None and enrollment.enrolled_at >= since:
                part.outcomes[text] = "enrolled"
                part.already -= 1
                part.enrolled += 1
