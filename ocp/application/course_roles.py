"""How the actor stands to a course, for every use case that names one (courses, lessons,
learning, files): found by id or slug, then staff, enrolled, or neither (404 when the course
is hidden from them, 403 when they can see it)."""

from __future__ import annotations

from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.learning import EnrollmentRepository
from ocp.domain.courses import Course, CourseRelation
from ocp.domain.errors import NotFound, PermissionDenied
from ocp.domain.learning import Enrollment
from ocp.domain.users import User


class CourseRoles:
    def __init__(self, courses: CourseRepository, enrollments: EnrollmentRepository) -> None:
        self._courses = courses
        self._enrollments = enrollments

    async def find(self, id_or_slug: str) -> Course | None:
        """The course with this id, else the one with this slug: every route naming a course
        takes either."""
        return await self._courses.get(id_or_slug) or await self._courses.get_by_slug(id_or_slug)

    async def course(self, id_or_slug: str) -> Course:
        course = await self.find(id_or_slug)
        if course is None:
            raise NotFound("no such course")
        return course

    async def visible_course(self, actor: User | None, id_or_slug: str) -> Course:
        course = await self.course(id_or_slug)
        if not course.is_visible_to(actor):
            raise NotFound("no such course")
        return course

    async def staff_course(self, actor: User, id_or_slug: str) -> Course:
        course = await self.course(id_or_slug)
        course.require_staff(actor)
        return course

    async def enrolled(self, actor: User, course: Course) -> Enrollment:
        """The actor's enrollment in the course; others get 403 if they may see the course."""
        enrollment = await self._enrollments.find(course.id, actor.id)
        if enrollment is None:
            if course.is_visible_to(actor):
                raise PermissionDenied("only students enrolled in this course may do this")
            raise NotFound("no such course")
        return enrollment

    async def member(self, actor: User, course: Course) -> Enrollment | None:
        """Staff (None) or an enrolled student (their enrollment); others are refused."""
        if course.is_staff(actor):
            return None
        return await self.enrolled(actor, course)

    async def is_enrolled(self, actor: User | None, course: Course) -> bool:
        return actor is not None and await self._enrollments.is_enrolled(course.id, actor.id)

    async def relation(self, actor: User | None, course: Course | None) -> CourseRelation:
        """How the actor stands to the course (NONE when there is no course); the enrollment
        is read only when it could matter."""
        if course is None:
            return CourseRelation.NONE
        enrolled = (
            not course.is_staff(actor)
            and course.lessons_open_to_students
            and await self.is_enrolled(actor, course)
        )
        return course.relation_of(actor, enrolled=enrolled)
