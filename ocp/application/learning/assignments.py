"""Assignment use cases: staff set assignments, students submit attempts (own files only,
late work marked or refused), staff grade the latest attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ocp.application.audit import audit_info
from ocp.application.course_roles import CourseRoles
from ocp.application.events.recorder import EventRecorder
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.events import Subject
from ocp.application.ports.files import FileRepository
from ocp.application.ports.learning import (
    AssignmentRepository,
    EnrollmentRepository,
    SubmissionRepository,
)
from ocp.application.ports.trash import TrashBin
from ocp.application.retry import retry_on_stale
from ocp.domain.changes import Unset
from ocp.domain.courses import Course
from ocp.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolated, StaleVersion
from ocp.domain.files import FilePurpose
from ocp.domain.learning import (
    SUBMISSION_TYPES,
    Assignment,
    AssignmentChanges,
    Submission,
    allowed_types,
    new_assignment,
    submission_text,
)
from ocp.domain.trash import Trashed, TrashKind
from ocp.domain.users import User


@dataclass(frozen=True, slots=True)
class AssignmentDraft:
    title: str
    instructions: str = ""
    max_points: int = 100
    due_at: datetime | None = None
    allow_late: bool = True
    max_files: int = 5
    allowed_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubmissionDraft:
    text: str | None = None
    file_ids: tuple[str, ...] = ()


class AssignmentService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        enrollments: EnrollmentRepository,
        assignments: AssignmentRepository,
        submissions: SubmissionRepository,
        files: FileRepository,
        clock: Clock,
        ids: IdGenerator,
        events: EventRecorder,
        trash: TrashBin | None = None,
    ) -> None:
        self._trash = trash
        self._events = events
        self._courses = courses
        self._enrollments = enrollments
        self._assignments = assignments
        self._submissions = submissions
        self._files = files
        self._clock = clock
        self._ids = ids
        self._roles = CourseRoles(courses, enrollments)

    # --- assignments ---------------------------------------------------------------------

    async def create(self, actor: User, course_id: str, draft: AssignmentDraft) -> Assignment:
        course = await self._roles.staff_course(actor, course_id)
        assignment = new_assignment(
            id=self._ids.new_id(),
            course_id=course.id,
            title_text=draft.title,
            instructions_text=draft.instructions,
            points=draft.max_points,
            now=self._clock.now(),
            due_at=draft.due_at,
            allow_late=draft.allow_late,
            files=draft.max_files,
            types=allowed_types(draft.allowed_types, SUBMISSION_TYPES),
        )
        await self._assignments.add(assignment)
        return assignment

    async def list_assignments(
        self, actor: User, course_id: str, *, limit: int, cursor: str | None
    ) -> Page[Assignment]:
        after = decode_cursor(cursor, (str,))
        course = await self._roles.course(course_id)
        if await self._roles.member(actor, course) is not None:
            course.require_open_to_students(change=False)
        rows = await self._assignments.list_course(
            course.id, str(after[0]) if after else None, limit + 1
        )
        return page_of(rows, limit, lambda a: (a.id,))

    async def get(self, actor: User, assignment_id: str) -> Assignment:
        assignment, course = await self._readable(actor, assignment_id)
        if not course.is_staff(actor):
            course.require_open_to_students(change=False)
        return assignment

    async def edit(
        self,
        actor: User,
        assignment_id: str,
        changes: AssignmentChanges,
        if_match: int | None = None,
    ) -> Assignment:
        assignment, course = await self._assignment_and_course(assignment_id)
        await self._require_staff_of(actor, course)
        if if_match is not None and if_match != assignment.version:
            raise StaleVersion("the assignment was changed since you read it; read it again")
        version = assignment.version
        highest = (
            await self._submissions.highest_points(assignment.id)
            if not isinstance(changes.max_points, Unset)
            else None
        )
        assignment.edit(self._clock.now(), changes, highest_grade=highest)
        await self._assignments.update(assignment, version)
        return assignment

    async def delete(self, actor: User, assignment_id: str) -> None:
        assignment, course = await self._assignment_and_course(assignment_id)
        await self._require_staff_of(actor, course)
        if await self._submissions.has_any(assignment.id):
            raise Conflict("an assignment with submissions cannot be deleted")
        if self._trash is not None:  # first: a crash below leaves the assignment live
            item = Trashed(
                TrashKind.ASSIGNMENT,
                assignment.id,
                course.id,
                self._clock.now(),
                actor.id,
                assignments=[assignment],
            )
            await self._trash.put(item)
        await self._assignments.delete(assignment.id)

    # --- submissions ---------------------------------------------------------------------

    async def submit(self, actor: User, assignment_id: str, draft: SubmissionDraft) -> Submission:
        assignment, course = await self._assignment_and_course(assignment_id)
        if course.excluded_as_student(actor):
            raise PermissionDenied("course staff do not submit work")
        enrollment = await self._enrollments.find(course.id, actor.id)
        if enrollment is None:
            raise NotFound("no such assignment")
        course.require_open_to_students(change=True)
        text = submission_text(draft.text)
        file_ids = list(dict.fromkeys(draft.file_ids))
        now = self._clock.now()
        late = assignment.check_submission(now, len(file_ids), bool(text))
        usable = {
            file.id: file.content_type
            for file in await self._files.get_many(file_ids)
            if file.attachable_by(actor.id, FilePurpose.SUBMISSION, course.id)
        }
        for file_id in file_ids:
            # Another's file, a missing one or one of the wrong purpose: one answer for all.
            if file_id not in usable:
                raise RuleViolated(
                    f"{file_id} is not one of your submission files for this course", "file_ids"
                )
            if assignment.allowed_types and usable[file_id] not in assignment.allowed_types:
                allowed = ", ".join(assignment.allowed_types)
                raise RuleViolated(f"{file_id} is not of an allowed type ({allowed})", "file_ids")

        async def attempt(n: int) -> Submission:
            submission = Submission(
                id=self._ids.new_id(),
                assignment_id=assignment.id,
                course_id=course.id,
                user_id=actor.id,
                attempt=await self._submissions.last_attempt(assignment.id, actor.id) + 1,
                submitted_at=now,
                late=late,
                text=text,
                file_ids=file_ids,
            )
            event = self._events.event("submission.created", submission)
            async with self._events.recording(
                Subject("submissions", submission.id, submission.version), event
            ):
                await self._submissions.add(submission)
            return submission

        # A concurrent attempt took this number: take the next one.
        return await retry_on_stale(attempt, on=(Conflict,))

    async def list_submissions(
        self, actor: User, assignment_id: str, *, limit: int, cursor: str | None
    ) -> Page[Submission]:
        """Staff: every student's latest attempt (by student); a student: their own attempts."""
        assignment, course = await self._readable(actor, assignment_id)
        if course.is_staff(actor):
            after = decode_cursor(cursor, (str,))
            rows = await self._submissions.list_latest(
                assignment.id, str(after[0]) if after else None, limit + 1
            )
            return page_of(rows, limit, lambda s: (s.user_id,))
        after_attempt = decode_cursor(cursor, (int,))
        rows = await self._submissions.list_attempts(
            assignment.id,
            actor.id,
            int(after_attempt[0]) if after_attempt and after_attempt[0] is not None else None,
            limit + 1,
        )
        return page_of(rows, limit, lambda s: (s.attempt,))

    async def get_submission(self, actor: User, submission_id: str) -> Submission:
        submission, course = await self._submission_and_course(submission_id)
        if submission.user_id != actor.id and not course.is_staff(actor):
            raise NotFound("no such submission")
        return submission

    async def grade(
        self, actor: User, submission_id: str, points: float, comment: str | None
    ) -> Submission:
        submission, course = await self._submission_and_course(submission_id)
        if not course.is_staff(actor):
            if submission.user_id == actor.id:
                raise PermissionDenied("only the course staff grade submissions")
            raise NotFound("no such submission")
        assignment = await self._assignments.get(submission.assignment_id)
        if assignment is None:
            raise NotFound("no such submission")
        version, was = submission.version, submission.points
        submission.grade(assignment, points, comment, actor.id, self._clock.now())
        info = audit_info(actor, "submission", submission.id, {"points": [was, submission.points]})
        event = self._events.event("submission.graded", submission, audit=info)
        async with self._events.recording(
            Subject("submissions", submission.id, submission.version), event
        ):
            await self._submissions.save_grade(submission, version)
        return submission

    # --- helpers -------------------------------------------------------------------------

    async def _assignment_and_course(self, assignment_id: str) -> tuple[Assignment, Course]:
        assignment = await self._assignments.get(assignment_id)
        course = await self._courses.get(assignment.course_id) if assignment else None
        if assignment is None or course is None:
            raise NotFound("no such assignment")
        return assignment, course

    async def _readable(self, actor: User, assignment_id: str) -> tuple[Assignment, Course]:
        """Staff and enrolled students read an assignment; for anyone else it does not exist."""
        assignment, course = await self._assignment_and_course(assignment_id)
        if not course.is_staff(actor) and await self._enrollments.find(course.id, actor.id) is None:
            raise NotFound("no such assignment")
        return assignment, course

    async def _require_staff_of(self, actor: User, course: Course) -> None:
        """Staff pass; an enrolled student (who can read it) gets 403, anyone else 404."""
        if course.is_staff(actor):
            return
        if await self._enrollments.find(course.id, actor.id) is not None:
            raise PermissionDenied("only the course staff may change assignments")
        raise NotFound("no such assignment")

    async def _submission_and_course(self, submission_id: str) -> tuple[Submission, Course]:
        submission = await self._submissions.get(submission_id)
        course = await self._courses.get(submission.course_id) if submission else None
        if submission is None or course is None:
            raise NotFound("no such submission")
        return submission, course
