"""Soft deletion and restore: each deletion of a course, a lesson or an assignment first
puts what it removes in the trash, whole; an admin restores it within 30 days; `ocp gc`
purges what is older.

Without transactions, the order makes every step safe to repeat: a deletion writes the
trash before it removes anything (a crash leaves the object live and a stale trash entry,
which a restore then simply clears); a restore writes the objects back, each tolerating
that it is there already, before it takes the entry out of the trash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from ocp.application.course_roles import CourseRoles
from ocp.application.courses.editing import change_course
from ocp.application.ports.common import Clock
from ocp.application.ports.courses import CourseRepository, LessonRepository
from ocp.application.ports.learning import AssignmentRepository, EnrollmentRepository
from ocp.application.ports.trash import TrashBin
from ocp.domain.courses import Course, Lesson, Module, slug_with_suffix
from ocp.domain.errors import Conflict, DuplicateSlug, NotFound, PermissionDenied
from ocp.domain.learning import Assignment
from ocp.domain.trash import RESTORE_WINDOW, Trashed, TrashKind
from ocp.domain.users import User

T = TypeVar("T")


class TrashService:
    def __init__(
        self,
        *,
        trash: TrashBin,
        courses: CourseRepository,
        lessons: LessonRepository,
        assignments: AssignmentRepository,
        enrollments: EnrollmentRepository,
        clock: Clock,
    ) -> None:
        self._trash = trash
        self._courses = courses
        self._lessons = lessons
        self._assignments = assignments
        self._clock = clock
        self._roles = CourseRoles(courses, enrollments)

    async def restore_course(self, actor: User, course_id: str) -> Course:
        item = await self._restorable(actor, TrashKind.COURSE, course_id)
        assert item.course is not None
        course = await self._courses.get(course_id)
        if course is None:
            course = item.course
            try:
                await self._courses.add(course)
            except DuplicateSlug:  # its slug went to another course meanwhile
                course.slug = slug_with_suffix(course.slug, course.id)
                await self._courses.add(course)
        for lesson in item.lessons:
            await _again(self._lessons.add, lesson)
        for assignment in item.assignments:
            await _again(self._assignments.add, assignment)
        await self._trash.take(TrashKind.COURSE, course_id)
        return course

    async def restore_module(
        self, actor: User, course_id_or_slug: str, module_id: str
    ) -> tuple[Course, Module]:
        item = await self._restorable(actor, TrashKind.MODULE, module_id)
        course = await self._courses.get(item.course_id)
        if course is None:
            raise Conflict("its course is deleted: restore the course first")
        if course_id_or_slug not in (course.id, course.slug):
            raise NotFound("no deleted module of this course to restore")
        for lesson in item.lessons:
            await _again(self._lessons.add, lesson)
        now = self._clock.now()
        module = Module(module_id, item.title, item.summary, [x.outline for x in item.lessons])

        def put_back(c: Course) -> None:
            if all(m.id != module_id for m in c.modules):
                c.restore_module(module, item.position, now)

        course = await change_course(
            self._courses, self._roles, actor, course.id, put_back, read=course
        )
        await self._trash.take(TrashKind.MODULE, module_id)
        return course, course.module(module_id)

    async def restore_lesson(self, actor: User, lesson_id: str) -> Lesson:
        item = await self._restorable(actor, TrashKind.LESSON, lesson_id)
        lesson = item.lessons[0]
        course = await self._courses.get(item.course_id)
        if course is None:
            raise Conflict("its course is deleted: restore the course first")
        if item.module_id is None or all(m.id != item.module_id for m in course.modules):
            raise Conflict("its module is deleted; nothing to put the lesson back in")
        await _again(self._lessons.add, lesson)
        now = self._clock.now()

        def put_back(c: Course) -> None:
            if c.find_lesson(lesson.id) is None:
                c.restore_lesson(item.module_id or "", lesson.outline, item.position, now)

        await change_course(self._courses, self._roles, actor, course.id, put_back, read=course)
        await self._trash.take(TrashKind.LESSON, lesson_id)
        return lesson

    async def restore_assignment(self, actor: User, assignment_id: str) -> Assignment:
        item = await self._restorable(actor, TrashKind.ASSIGNMENT, assignment_id)
        if await self._courses.get(item.course_id) is None:
            raise Conflict("its course is deleted: restore the course first")
        assignment = item.assignments[0]
        await _again(self._assignments.add, assignment)
        await self._trash.take(TrashKind.ASSIGNMENT, assignment_id)
        return assignment

    async def purge(self, now: datetime | None = None) -> int:
        """Forget what was deleted more than 30 days ago (`ocp gc`)."""
        return await self._trash.purge((now or self._clock.now()) - RESTORE_WINDOW)

    async def _restorable(self, actor: User, kind: TrashKind, object_id: str) -> Trashed:
        if not actor.is_admin:
            raise PermissionDenied("only an admin may restore what was deleted")
        item = await self._trash.get(kind, object_id)
        if item is None or not item.restorable(self._clock.now()):
            raise NotFound(f"no deleted {kind.value} to restore (after 30 days it is gone)")
        return item


async def _again(add: Callable[[T], Awaitable[None]], thing: T) -> None:
    """Write back a removed object; one already there (a restore that ran before) stays."""
    try:
        await add(thing)
    except Conflict:
        pass
