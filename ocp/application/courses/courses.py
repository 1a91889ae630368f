"""Authoring a course's own fields and its lifecycle: create, read, edit, publish, unpublish,
archive, delete, co-instructors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ocp.application.audit import audit_info
from ocp.application.course_roles import CourseRoles
from ocp.application.courses.commands import CourseDraft
from ocp.application.courses.editing import change_course
from ocp.application.events.recorder import EventRecorder
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository, LessonRepository
from ocp.application.ports.events import Subject
from ocp.application.ports.files import FileRepository
from ocp.application.ports.identity import UserRepository
from ocp.application.ports.learning import AssignmentRepository, EnrollmentRepository
from ocp.application.ports.trash import TrashBin
from ocp.domain.audit import changed
from ocp.domain.courses import Course, CourseChanges, Lesson, slug_with_suffix
from ocp.domain.errors import DuplicateSlug, RuleViolated, StaleVersion
from ocp.domain.files import FilePurpose
from ocp.domain.learning import Assignment
from ocp.domain.trash import Trashed, TrashKind
from ocp.domain.users import User


class CourseService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        lessons: LessonRepository,
        enrollments: EnrollmentRepository,
        users: UserRepository,
        files: FileRepository,
        clock: Clock,
        ids: IdGenerator,
        events: EventRecorder,
        trash: TrashBin | None = None,
        assignments: AssignmentRepository | None = None,
    ) -> None:
        self._trash = trash
        self._assignments = assignments
        self._events = events
        self._courses = courses
        self._lessons = lessons
        self._enrollments = enrollments
        self._users = users
        self._files = files
        self._clock = clock
        self._ids = ids
        self._roles = CourseRoles(courses, enrollments)

    async def create_course(self, actor: User, draft: CourseDraft) -> Course:
        course = Course.create(
            id=self._ids.new_id(),
            owner=actor,
            title_text=draft.title,
            now=self._clock.now(),
            summary_text=draft.summary,
            description_text=draft.description,
            tag_names=draft.tags,
            level=draft.level,
            category_name=draft.category,
            capacity_limit=draft.capacity,
        )
        await self.store_new(course)
        return course

    async def store_new(self, course: Course) -> None:
        """Add a course under its slug, or, when that is taken, under the slug and a suffix."""
        try:
            await self._courses.add(course)
        except DuplicateSlug:
            course.slug = slug_with_suffix(course.slug, course.id)
            await self._courses.add(course)

    async def get_course(self, actor: User | None, id_or_slug: str) -> Course:
        return await self._roles.visible_course(actor, id_or_slug)

    async def edit_course(
        self, actor: User, id_or_slug: str, changes: CourseChanges, if_match: int | None = None
    ) -> Course:
        """Edit the course's own fields. With `if_match` the edit applies only to that version;
        without, it applies to whatever version is current when it is saved."""
        course = await self._roles.staff_course(actor, id_or_slug)  # who first: nothing leaks
        cover = changes.cover_file_id
        if isinstance(cover, str):
            file = await self._files.get(cover)
            if file is None or not file.attachable_by(
                actor.id, FilePurpose.COURSE_COVER, course.id
            ):
                raise RuleViolated(
                    "is not an image you uploaded as a course cover", "cover_file_id"
                )
        now = self._clock.now()

        def edit(course: Course) -> None:
            if if_match is not None and if_match != course.version:
                raise StaleVersion("the course was changed since you read it; read it again")
            course.edit(now, changes)

        return await change_course(
            self._courses,
            self._roles,
            actor,
            course.id,
            edit,
            read=course,
            conditional=if_match is not None,
            recorder=self._events,
        )

    async def publish(self, actor: User, id_or_slug: str) -> Course:
        return await self._lifecycle(actor, id_or_slug, Course.publish)

    async def unpublish(self, actor: User, id_or_slug: str) -> Course:
        return await self._lifecycle(actor, id_or_slug, Course.unpublish)

    async def archive(self, actor: User, id_or_slug: str) -> Course:
        return await self._lifecycle(actor, id_or_slug, Course.archive)

    async def delete_course(self, actor: User, id_or_slug: str) -> None:
        course = await self._roles.staff_course(actor, id_or_slug)
        course.require_owner(actor)
        course.check_deletable(await self._enrollments.has_enrollments(course.id))
        lessons, assignments = await self._parts_of(course)
        if self._trash is not None:  # first: a crash below leaves the course live
            await self._trash.put(
                Trashed(
                    TrashKind.COURSE,
                    course.id,
                    course.id,
                    self._clock.now(),
                    actor.id,
                    course=course,
                    lessons=lessons,
                    assignments=assignments,
                )
            )
        info = audit_info(actor, "course", course.id, changed(status=(course.status.value, None)))
        event = self._events.event("course.deleted", course, audit=info)
        async with self._events.recording(Subject("courses", course.id, None), event):
            await self._courses.delete(course.id, course.version)
        await self._lessons.delete_course(course.id)
        for assignment in assignments:
            await self._assignments.delete(assignment.id)  # type: ignore[union-attr]

    async def _parts_of(self, course: Course) -> tuple[list[Lesson], list[Assignment]]:
        """The lessons and assignments a course's deletion takes with it (a draft's: few)."""
        by_id = {lesson.id: lesson for lesson in await self._lessons.of_course(course.id)}
        lessons = [by_id[o.id] for m in course.modules for o in m.lessons if o.id in by_id]
        assignments: list[Assignment] = []
        if self._assignments is not None:
            while batch := await self._assignments.list_course(
                course.id, assignments[-1].id if assignments else None, 200
            ):
                assignments.extend(batch)
                if len(batch) < 200:
                    break
        return lessons, assignments

    async def add_instructor(self, actor: User, id_or_slug: str, user_id: str) -> Course:
        # Who first: a stranger learns nothing about the course, nor which user ids exist.
        course = await self._roles.staff_course(actor, id_or_slug)
        course.require_owner(actor)
        user = await self._users.get(user_id)
        if user is None:
            raise RuleViolated("no instructor with this id", field="user_id")
        now = self._clock.now()
        return await self._change(
            actor, course.id, lambda c: c.add_instructor(user, now), owner_only=True, read=course
        )

    async def remove_instructor(self, actor: User, id_or_slug: str, user_id: str) -> Course:
        now = self._clock.now()
        return await self._change(
            actor, id_or_slug, lambda c: c.remove_instructor(user_id, now), owner_only=True
        )

    async def _lifecycle(
        self,
        actor: User,
        id_or_slug: str,
        step: Callable[[Course, datetime], None],
    ) -> Course:
        now = self._clock.now()
        return await change_course(
            self._courses,
            self._roles,
            actor,
            id_or_slug,
            lambda c: step(c, now),
            owner_only=True,
            recorder=self._events,
        )

    async def _change(
        self,
        actor: User,
        id_or_slug: str,
        change: Callable[[Course], object],
        *,
        owner_only: bool = False,
        read: Course | None = None,
    ) -> Course:
        return await change_course(
            self._courses,
            self._roles,
            actor,
            id_or_slug,
            change,
            owner_only=owner_only,
            read=read,
            recorder=self._events,
        )
