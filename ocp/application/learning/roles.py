"""How the actor stands to a course, for every learning use case: staff, enrolled, or neither
(and then 404 when the course is hidden from them, 403 when they can see it)."""

from __future__ import annotations

from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.learning import EnrollmentRepository
from ocp.domain.courses import Course
from ocp.domain.errors import NotFound, PermissionDenied
from ocp.domain.learning import Enrollment
from ocp.domain.users import User


def lesson_ids(course: Course) -> list[str]:
    """The course's lessons now, in outline order."""
    return [lesson.id for module in course.modules for lesson in module.lessons]


class CourseRoles:
    def __init__(self, courses: CourseRepository, enrollments: EnrollmentRepository) -> None:
        self._courses = courses
        self._enrollments = enrollments

    async def course(self, course_id: str) -> Course:
        course = await self._courses.get(course_id) or await self._courses.get_by_slug(course_id)
        if course is None:
            raise NotFound("no such course")
        return course

    async def visible_course(self, actor: User | None, course_id: str) -> Course:
        course = await self.course(course_id)
        if not course.is_visible_to(actor):
            raise NotFound("no such course")
        return course

    async def staff_course(self, actor: User, course_id: str) -> Course:
        course = await self.course(course_id)
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
