"""A course's outline: modules, and lessons (the body in `lessons`, the outline entry in the
course), and who may read a lesson."""

from __future__ import annotations

from collections.abc import Callable

from ocp.application.course_roles import CourseRoles
from ocp.application.courses.commands import LessonDraft
from ocp.application.courses.editing import change_course
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository, LessonRepository
from ocp.application.ports.files import FileRepository
from ocp.application.ports.learning import EnrollmentRepository
from ocp.application.ports.trash import TrashBin
from ocp.application.retry import retry_on_stale
from ocp.domain.courses import Course, Lesson, LessonChanges, Module
from ocp.domain.errors import NotFound, RuleViolated, StaleVersion
from ocp.domain.files import FilePurpose
from ocp.domain.trash import Trashed, TrashKind
from ocp.domain.users import User


class OutlineService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        lessons: LessonRepository,
        enrollments: EnrollmentRepository,
        files: FileRepository,
        clock: Clock,
        ids: IdGenerator,
        trash: TrashBin | None = None,
    ) -> None:
        self._trash = trash
        self._courses = courses
        self._lessons = lessons
        self._files = files
        self._clock = clock
        self._ids = ids
        self._roles = CourseRoles(courses, enrollments)

    # --- modules -------------------------------------------------------------------------

    async def modules(self, actor: User | None, id_or_slug: str) -> Course:
        """The course whose outline (modules, lesson outlines) the caller may read."""
        return await self._roles.visible_course(actor, id_or_slug)

    async def add_module(
        self, actor: User, id_or_slug: str, title: str, summary: str = ""
    ) -> tuple[Course, Module]:
        module_id = self._ids.new_id()
        now = self._clock.now()
        course = await self._change(
            actor, id_or_slug, lambda c: c.add_module(module_id, title, summary, now)
        )
        return course, course.module(module_id)

    async def edit_module(
        self,
        actor: User,
        id_or_slug: str,
        module_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
    ) -> tuple[Course, Module]:
        now = self._clock.now()
        course = await self._change(
            actor,
            id_or_slug,
            lambda c: c.edit_module(module_id, now, title_text=title, summary_text=summary),
        )
        return course, course.module(module_id)

    async def delete_module(self, actor: User, id_or_slug: str, module_id: str) -> None:
        now = self._clock.now()
        course = await self._roles.staff_course(actor, id_or_slug)
        module = course.module(module_id)
        if self._trash is not None:  # first: a crash below leaves the module live
            by_id = {lesson.id: lesson for lesson in await self._lessons.of_course(course.id)}
            lessons = [by_id[o.id] for o in module.lessons if o.id in by_id]
            await self._trash.put(
                Trashed(
                    TrashKind.MODULE,
                    module.id,
                    course.id,
                    now,
                    actor.id,
                    lessons=lessons,
                    module_id=module.id,
                    position=course.modules.index(module),
                    title=module.title,
                    summary=module.summary,
                )
            )
        gone: set[str] = set()
        await self._change(
            actor, course.id, lambda c: gone.update(c.remove_module(module_id, now)), read=course
        )
        await self._lessons.delete_many(sorted(gone))

    async def reorder_modules(self, actor: User, id_or_slug: str, module_ids: list[str]) -> Course:
        now = self._clock.now()
        return await self._change(actor, id_or_slug, lambda c: c.reorder_modules(module_ids, now))

    async def reorder_lessons(
        self, actor: User, id_or_slug: str, module_id: str, lesson_ids: list[str]
    ) -> tuple[Course, Module]:
        now = self._clock.now()
        course = await self._change(
            actor, id_or_slug, lambda c: c.reorder_lessons(module_id, lesson_ids, now)
        )
        return course, course.module(module_id)

    # --- lessons -------------------------------------------------------------------------

    async def add_lesson(
        self, actor: User, id_or_slug: str, module_id: str, draft: LessonDraft
    ) -> Lesson:
        course = await self._roles.staff_course(actor, id_or_slug)
        course.module(module_id)  # NotFound before anything is written
        await self._check_material(draft.file_id, actor, course.id)
        lesson = Lesson.write(
            id=self._ids.new_id(),
            course_id=course.id,
            module_id=module_id,
            title_text=draft.title,
            kind=draft.kind,
            now=self._clock.now(),
            body_markdown=draft.body_markdown,
            file_id=draft.file_id,
            duration_s=draft.duration_s,
            is_preview=draft.is_preview,
        )
        # The body first: until the outline names it, nobody can reach it.
        await self._lessons.add(lesson)
        try:
            await self._change(
                actor,
                course.id,
                lambda c: c.add_lesson(module_id, lesson.outline, lesson.updated_at),
                read=course,
            )
        except BaseException:
            await self._lessons.delete_many([lesson.id])
            raise
        return lesson

    async def get_lesson(self, actor: User | None, lesson_id: str) -> Lesson:
        """Staff and enrolled students read a lesson; anyone reads a preview lesson of a
        published course; for everyone else it does not exist."""
        lesson, course = await self._lesson_and_course(lesson_id)
        if course.is_staff(actor):
            return lesson
        if course.lessons_open_to_students and (
            lesson.is_preview or await self._roles.is_enrolled(actor, course)
        ):
            return lesson
        raise NotFound("no such lesson")

    async def edit_lesson(
        self, actor: User, lesson_id: str, changes: LessonChanges, if_match: int | None = None
    ) -> Lesson:
        """Edit a lesson's body, then its outline in the course. With `if_match` only that
        version is edited; without, a concurrent save is read again and the edit re-applied."""

        async def attempt(n: int) -> tuple[Lesson, Course]:
            lesson, course = await self._lesson_and_course(lesson_id)
            course.require_staff(actor)
            if if_match is not None and if_match != lesson.version:
                raise StaleVersion("the lesson was changed since you read it; read it again")
            if isinstance(changes.file_id, str) and n == 0:
                await self._check_material(changes.file_id, actor, course.id)
            version = lesson.version
            lesson.edit(self._clock.now(), changes)
            await self._lessons.update(lesson, version)
            return lesson, course

        lesson, course = await retry_on_stale(attempt, attempts=1 if if_match is not None else 5)
        outline, at = lesson.outline, lesson.updated_at
        await self._change(
            actor, course.id, lambda c: c.replace_lesson_outline(outline, at), read=course
        )
        return lesson

    async def delete_lesson(self, actor: User, lesson_id: str) -> None:
        lesson, course = await self._lesson_and_course(lesson_id)
        course.require_staff(actor)
        now = self._clock.now()
        if self._trash is not None:  # first: a crash below leaves the lesson live
            module, outline = course.find_lesson(lesson_id) or (None, None)
            assert module is not None and outline is not None  # `_lesson_and_course` checked
            await self._trash.put(
                Trashed(
                    TrashKind.LESSON,
                    lesson.id,
                    course.id,
                    now,
                    actor.id,
                    lessons=[lesson],
                    module_id=module.id,
                    position=module.lessons.index(outline),
                )
            )
        await self._change(actor, course.id, lambda c: c.remove_lesson(lesson_id, now), read=course)
        await self._lessons.delete_many([lesson_id])

    # --- helpers -------------------------------------------------------------------------

    async def _change(
        self,
        actor: User,
        id_or_slug: str,
        change: Callable[[Course], object],
        read: Course | None = None,
    ) -> Course:
        """`read`: the course as just read and checked for staff, saving a second read."""
        return await change_course(self._courses, self._roles, actor, id_or_slug, change, read=read)

    async def _lesson_and_course(self, lesson_id: str) -> tuple[Lesson, Course]:
        lesson = await self._lessons.get(lesson_id)
        course = await self._courses.get(lesson.course_id) if lesson else None
        if lesson is None or course is None or course.find_lesson(lesson_id) is None:
            raise NotFound("no such lesson")
        return lesson, course

    async def _check_material(self, file_id: str | None, actor: User, course_id: str) -> None:
        if file_id is None:
            return
        file = await self._files.get(file_id)
        if file is None or not file.attachable_by(actor.id, FilePurpose.LESSON_MATERIAL, course_id):
            raise RuleViolated("is not a file you uploaded as lesson material", field="file_id")
