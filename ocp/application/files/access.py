"""The checks between files and the other capabilities: what identity and courses ask of
files (is this an avatar, may a course point at this file), what files ask of courses (how
a reader stands to a course, which lessons use a file), and their stand-ins."""

from __future__ import annotations

from ocp.application.ports.courses import CourseRepository, EnrollmentLookup, LessonRepository
from ocp.application.ports.files import CourseRelation, FileRepository, FileUsage
from ocp.domain.files import FilePurpose, StoredFile
from ocp.domain.users import User


class NoCourses:
    """Until courses are wired in, no course relates to anyone and no lesson uses a file."""

    async def relation(self, course_id: str, user: User | None) -> CourseRelation:
        return CourseRelation.STAFF if user is not None and user.is_admin else CourseRelation.NONE

    async def is_preview_material(self, course_id: str, file_id: str) -> bool:
        return False


class NothingUsesFiles:
    async def in_use_by(self, file: StoredFile) -> str | None:
        return None


class AllUsages:
    """Several `FileUsage` checks as one: the first that claims the file wins."""

    def __init__(self, *usages: FileUsage) -> None:
        self._usages = usages

    async def in_use_by(self, file: StoredFile) -> str | None:
        for usage in self._usages:
            reason = await usage.in_use_by(file)
            if reason is not None:
                return reason
        return None


class OwnAvatarFiles:
    """Identity's `AvatarFiles`: a user's avatar must be their own file of purpose avatar."""

    def __init__(self, files: FileRepository) -> None:
        self._files = files

    async def is_usable_avatar(self, user_id: str, file_id: str) -> bool:
        file = await self._files.get(file_id)
        return file is not None and file.owner_id == user_id and file.purpose is FilePurpose.AVATAR


class OwnCourseFiles:
    """Courses' `CourseFiles`: a lesson's material or a course's cover must be the actor's own
    file of that purpose, uploaded for that course."""

    def __init__(self, files: FileRepository) -> None:
        self._files = files

    async def is_attachable(
        self, file_id: str, actor_id: str, course_id: str, purpose: str
    ) -> bool:
        file = await self._files.get(file_id)
        return (
            file is not None
            and file.owner_id == actor_id
            and file.purpose.value == purpose
            and file.course_id == course_id
        )


class CoursesForFiles:
    """`CourseAccess` and `FileUsage` answered by the courses capability's stores."""

    def __init__(
        self, courses: CourseRepository, enrollments: EnrollmentLookup, lessons: LessonRepository
    ) -> None:
        self._courses = courses
        self._enrollments = enrollments
        self._lessons = lessons

    async def relation(self, course_id: str, user: User | None) -> CourseRelation:
        course = await self._courses.get(course_id)
        if course is None:
            return CourseRelation.NONE
        if course.is_staff(user):
            return CourseRelation.STAFF
        if (
            course.lessons_open_to_students
            and user is not None
            and await self._enrollments.is_enrolled(course_id, user.id)
        ):
            return CourseRelation.STUDENT
        if course.is_visible_to(user):
            return CourseRelation.VISITOR
        return CourseRelation.NONE

    async def is_preview_material(self, course_id: str, file_id: str) -> bool:
        # The outline names the preview lessons (a handful); only their bodies hold file ids.
        course = await self._courses.get(course_id)
        if course is None or not course.lessons_open_to_students:
            return False
        for module in course.modules:
            for outline in module.lessons:
                if outline.is_preview:
                    lesson = await self._lessons.get(outline.id)
                    if lesson is not None and lesson.file_id == file_id:
                        return True
        return False

    async def in_use_by(self, file: StoredFile) -> str | None:
        if file.purpose is FilePurpose.LESSON_MATERIAL and await self._lessons.any_lesson_uses_file(
            file.id
        ):
            return "a lesson"
        return None
