"""Grades: the gradebook (students x assignments, a page at a time or the whole of it for a
spreadsheet) and a student's own grades."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from ocp.application.course_roles import CourseRoles
from ocp.application.paging import decode_cursor, page_of
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.identity import UserRepository
from ocp.application.ports.learning import (
    AssignmentRepository,
    EnrollmentRepository,
    SubmissionRepository,
)
from ocp.domain.courses import Course
from ocp.domain.learning import Assignment, GradebookRow, Submission, gradebook_rows
from ocp.domain.users import User

_ASSIGNMENT_BATCH = 1_000
_EXPORT_PAGE = 250  # students a spreadsheet export reads (and holds) at a time


@dataclass(frozen=True, slots=True)
class Gradebook:
    """One page of the gradebook: some students (in enrollment order) x every assignment."""

    course: Course
    assignments: list[Assignment]
    rows: list[GradebookRow]
    users: dict[str, User]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class GradebookExport:
    """The whole gradebook for a spreadsheet: the columns now, the rows as they are read, one
    bounded page at a time, so a course of any size is written in constant memory."""

    course: Course
    assignments: list[Assignment]
    pages: AsyncIterator[Gradebook]


@dataclass(frozen=True, slots=True)
class MyGrade:
    assignment: Assignment
    submission: Submission | None  # the latest attempt


class GradebookService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        enrollments: EnrollmentRepository,
        assignments: AssignmentRepository,
        submissions: SubmissionRepository,
        users: UserRepository,
    ) -> None:
        self._enrollments = enrollments
        self._assignments = assignments
        self._submissions = submissions
        self._users = users
        self._roles = CourseRoles(courses, enrollments)

    async def gradebook(
        self, actor: User, course_id: str, *, limit: int, cursor: str | None
    ) -> Gradebook:
        """A page of enrolled students (keyset on the student id) against every assignment,
        from their latest attempts: one read of the page's enrollments, one of their accounts
        and one of their latest work, whatever the course's size."""
        after = decode_cursor(cursor, (str,))
        course = await self._roles.staff_course(actor, course_id)
        assignments = await self._all_assignments(course.id)
        return await self._gradebook_page(
            course, assignments, str(after[0]) if after else None, limit
        )

    async def gradebook_export(self, actor: User, course_id: str) -> GradebookExport:
        """The whole gradebook, page by page; who may read it is decided before the first."""
        course = await self._roles.staff_course(actor, course_id)
        assignments = await self._all_assignments(course.id)
        return GradebookExport(course, assignments, self._gradebook_pages(course, assignments))

    async def _gradebook_pages(
        self, course: Course, assignments: list[Assignment]
    ) -> AsyncIterator[Gradebook]:
        after: str | None = None
        while True:
            page = await self._gradebook_page(course, assignments, after, _EXPORT_PAGE)
            yield page
            key = decode_cursor(page.next_cursor, (str,))
            if key is None:
                return
            after = str(key[0])

    async def _gradebook_page(
        self, course: Course, assignments: list[Assignment], after: str | None, limit: int
    ) -> Gradebook:
        rows = await self._enrollments.list_course_students(course.id, after, limit + 1)
        page = page_of(rows, limit, lambda e: (e.user_id,))
        user_ids = [e.user_id for e in page.items]
        latest = await self._submissions.latest_of_students(course.id, user_ids)
        users = {u.id: u for u in await self._users.get_many(user_ids)}
        cells = gradebook_rows(user_ids, [a.id for a in assignments], latest)
        return Gradebook(course, assignments, cells, users, page.next_cursor)

    async def my_grades(self, actor: User, course_id: str) -> list[MyGrade]:
        course = await self._roles.course(course_id)
        await self._roles.enrolled(actor, course)
        assignments = await self._all_assignments(course.id)
        latest = {
            s.assignment_id: s
            for s in await self._submissions.latest_in_course(course.id, actor.id)
        }
        return [MyGrade(a, latest.get(a.id)) for a in assignments]

    async def _all_assignments(self, course_id: str) -> list[Assignment]:
        found: list[Assignment] = []
        after: str | None = None
        while True:
            batch = await self._assignments.list_course(course_id, after, _ASSIGNMENT_BATCH)
            found += batch
            if len(batch) < _ASSIGNMENT_BATCH:
                return found
            after = batch[-1].id
