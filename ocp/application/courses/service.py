"""CourseService: authoring courses, modules and lessons, the catalog, and lesson access."""

from __future__ import annotations

from collections.abc import Callable

from ocp.application.courses.commands import (
    COURSE_COVER,
    LESSON_MATERIAL,
    CatalogFilter,
    CourseChanges,
    CourseDraft,
    LessonChanges,
    LessonDraft,
    NoCourseFiles,
)
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import (
    CatalogQuery,
    CourseFiles,
    CourseRepository,
    EnrollmentLookup,
    LessonRepository,
    catalog_key,
)
from ocp.application.ports.identity import UserRepository
from ocp.domain.courses import (
    QUERY_WORDS_MAX,
    Course,
    CourseStatus,
    Lesson,
    Module,
    fold,
    slug_with_suffix,
    tag,
    words,
)
from ocp.domain.errors import (
    AuthenticationFailed,
    DuplicateSlug,
    InvalidCursor,
    NotFound,
    RuleViolated,
    StaleVersion,
)
from ocp.domain.users import User

_EDIT_ATTEMPTS = 5  # re-reads of a course whose outline a colleague changed meanwhile


class CourseService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        lessons: LessonRepository,
        enrollments: EnrollmentLookup,
        users: UserRepository,
        clock: Clock,
        ids: IdGenerator,
        files: CourseFiles | None = None,
    ) -> None:
        self._courses = courses
        self._lessons = lessons
        self._enrollments = enrollments
        self._users = users
        self._clock = clock
        self._ids = ids
        self._files = files or NoCourseFiles()

    # --- courses -------------------------------------------------------------------------

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
        course = await self._courses.get(id_or_slug) or await self._courses.get_by_slug(id_or_slug)
        if course is None or not course.is_visible_to(actor):
            raise NotFound("no such course")
        return course

    async def browse(
        self, actor: User | None, wanted: CatalogFilter, *, limit: int, cursor: str | None
    ) -> Page[Course]:
        """A page of the catalog: published courses for everyone, or with `mine` the caller's
        own in every status. Every filter is one exact term; `q` words must all match."""
        if wanted.mine and actor is None:
            raise AuthenticationFailed("`mine=true` needs a bearer access token")
        after = decode_cursor(cursor, (str, str))
        if after is not None and after[0] != wanted.sort.value:
            raise InvalidCursor("the cursor belongs to another sort order")
        # The narrowest kind of term first: a store may look up the first and check the rest.
        terms: list[str] = []
        if wanted.instructor_id is not None:
            terms.append(f"by:{wanted.instructor_id}")
        if wanted.tag is not None:
            terms.append(f"tag:{tag(wanted.tag)}")
        if wanted.category is not None:
            terms.append(f"cat:{fold(' '.join(wanted.category.split()))}")
        if wanted.query is not None and wanted.query.strip():
            found = words(wanted.query)
            if not found:  # nothing but punctuation: it can match no word
                return Page([], None)
            longest_first = sorted(found[:QUERY_WORDS_MAX], key=len, reverse=True)
            terms += [f"kw:{w}" for w in longest_first]
        if wanted.level is not None:
            terms.append(f"level:{wanted.level.value}")
        query = CatalogQuery(
            sort=wanted.sort,
            limit=limit + 1,
            status=None if wanted.mine else CourseStatus.PUBLISHED,
            staff_id=actor.id if wanted.mine and actor is not None else None,
            terms=terms,
            after=str(after[1]) if after else None,
        )
        rows = await self._courses.search(query)
        return page_of(rows, limit, lambda c: (wanted.sort.value, catalog_key(c, wanted.sort)))

    async def edit_course(
        self, actor: User, course_id: str, changes: CourseChanges, if_match: int | None = None
    ) -> Course:
        """Edit the course's own fields. With `if_match` the edit applies only to that version;
        without, it applies to whatever version is current when it is saved."""
        course = await self._staff_course(actor, course_id)  # who first: nothing leaks to others
        cover = changes.cover_file_id
        if isinstance(cover, str) and not await self._files.is_attachable(
            cover, actor.id, course.id, COURSE_COVER
        ):
            raise RuleViolated("is not an image you uploaded as a course cover", "cover_file_id")
        capacity = changes.capacity
        now = self._clock.now()

        def edit(course: Course) -> None:
            if if_match is not None and if_match != course.version:
                raise StaleVersion("the course was changed since you read it; read it again")
            course.edit(
                now,
                title_text=changes.title,
                summary_text=changes.summary,
                description_text=changes.description,
                tag_names=changes.tags,
                level=changes.level,
                category_name=changes.category,
                capacity_limit=capacity if isinstance(capacity, int) else None,
                clear_capacity=capacity is None,
                cover_file_id=cover if isinstance(cover, str) else None,
                clear_cover=cover is None,
            )

        return await self._change(actor, course_id, edit, read=course)

    async def publish(self, actor: User, course_id: str) -> Course:
        return await self._change(
            actor, course_id, lambda c: c.publish(self._clock.now()), owner_only=True
        )

    async def unpublish(self, actor: User, course_id: str) -> Course:
        return await self._change(
            actor, course_id, lambda c: c.unpublish(self._clock.now()), owner_only=True
        )

    async def archive(self, actor: User, course_id: str) -> Course:
        return await self._change(
            actor, course_id, lambda c: c.archive(self._clock.now()), owner_only=True
        )

    async def delete_course(self, actor: User, course_id: str) -> None:
        course = await self._staff_course(actor, course_id)
        course.require_owner(actor)
        course.check_deletable(await self._enrollments.has_enrollments(course.id))
        await self._courses.delete(course.id, course.version)
        await self._lessons.delete_course(course.id)

    async def add_instructor(self, actor: User, course_id: str, user_id: str) -> Course:
        # Who first: a stranger learns nothing about the course, nor which user ids exist.
        course = await self._staff_course(actor, course_id)
        course.require_owner(actor)
        user = await self._users.get(user_id)
        if user is None:
            raise RuleViolated("no instructor with this id", field="user_id")
        now = self._clock.now()
        return await self._change(
            actor, course_id, lambda c: c.add_instructor(user, now), owner_only=True, read=course
        )

    async def remove_instructor(self, actor: User, course_id: str, user_id: str) -> Course:
        now = self._clock.now()
        return await self._change(
            actor, course_id, lambda c: c.remove_instructor(user_id, now), owner_only=True
        )

    # --- modules -------------------------------------------------------------------------

    async def modules(self, actor: User | None, course_id: str) -> Course:
        """The course whose outline (modules, lesson outlines) the caller may read."""
        return await self.get_course(actor, course_id)

    async def add_module(
        self, actor: User, course_id: str, title: str, summary: str = ""
    ) -> tuple[Course, Module]:
        module_id = self._ids.new_id()
        now = self._clock.now()
        course = await self._change(
            actor, course_id, lambda c: c.add_module(module_id, title, summary, now)
        )
        return course, course.module(module_id)

    async def edit_module(
        self,
        actor: User,
        course_id: str,
        module_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
    ) -> tuple[Course, Module]:
        now = self._clock.now()
        course = await self._change(
            actor,
            course_id,
            lambda c: c.edit_module(module_id, now, title_text=title, summary_text=summary),
        )
        return course, course.module(module_id)

    async def delete_module(self, actor: User, course_id: str, module_id: str) -> None:
        now = self._clock.now()
        gone: set[str] = set()
        await self._change(actor, course_id, lambda c: gone.update(c.remove_module(module_id, now)))
        await self._lessons.delete_many(sorted(gone))

    async def reorder_modules(self, actor: User, course_id: str, module_ids: list[str]) -> Course:
        now = self._clock.now()
        return await self._change(actor, course_id, lambda c: c.reorder_modules(module_ids, now))

    async def reorder_lessons(
        self, actor: User, course_id: str, module_id: str, lesson_ids: list[str]
    ) -> tuple[Course, Module]:
        now = self._clock.now()
        course = await self._change(
            actor, course_id, lambda c: c.reorder_lessons(module_id, lesson_ids, now)
        )
        return course, course.module(module_id)

    # --- lessons -------------------------------------------------------------------------

    async def add_lesson(
        self, actor: User, course_id: str, module_id: str, draft: LessonDraft
    ) -> Lesson:
        course = await self._staff_course(actor, course_id)
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
                course_id,
                lambda c: c.add_lesson(module_id, lesson.outline, lesson.updated_at),
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
            lesson.is_preview
            or (actor is not None and await self._enrollments.is_enrolled(course.id, actor.id))
        ):
            return lesson
        raise NotFound("no such lesson")

    async def edit_lesson(
        self, actor: User, lesson_id: str, changes: LessonChanges, if_match: int | None = None
    ) -> Lesson:
        """Edit a lesson's body, then its outline in the course. With `if_match` only that
        version is edited; without, a concurrent save is read again and the edit re-applied."""
        file_id, seconds = changes.file_id, changes.duration_s
        for attempt in range(_EDIT_ATTEMPTS):
            lesson, course = await self._lesson_and_course(lesson_id)
            course.require_staff(actor)
            if if_match is not None and if_match != lesson.version:
                raise StaleVersion("the lesson was changed since you read it; read it again")
            if isinstance(file_id, str) and attempt == 0:
                await self._check_material(file_id, actor, course.id)
            version = lesson.version
            lesson.edit(
                self._clock.now(),
                title_text=changes.title,
                kind=changes.kind,
                body_markdown=changes.body_markdown,
                file_id=file_id if isinstance(file_id, str) else None,
                clear_file=file_id is None,
                duration_s=seconds if isinstance(seconds, int) else None,
                clear_duration=seconds is None,
                is_preview=changes.is_preview,
            )
            try:
                await self._lessons.update(lesson, version)
                break
            except StaleVersion:
                if if_match is not None or attempt == _EDIT_ATTEMPTS - 1:
                    raise
        outline, at = lesson.outline, lesson.updated_at
        await self._change(actor, course.id, lambda c: c.replace_lesson_outline(outline, at))
        return lesson

    async def delete_lesson(self, actor: User, lesson_id: str) -> None:
        _, course = await self._lesson_and_course(lesson_id)
        course.require_staff(actor)
        now = self._clock.now()
        await self._change(actor, course.id, lambda c: c.remove_lesson(lesson_id, now))
        await self._lessons.delete_many([lesson_id])

    # --- helpers -------------------------------------------------------------------------

    async def _staff_course(self, actor: User, course_id: str) -> Course:
        course = await self._courses.get(course_id)
        if course is None:
            raise NotFound("no such course")
        course.require_staff(actor)
        return course

    async def _change(
        self,
        actor: User,
        course_id: str,
        change: Callable[[Course], object],
        *,
        owner_only: bool = False,
        read: Course | None = None,
    ) -> Course:
        """Apply `change` to the current course and save it if nobody saved in between; when
        somebody did, read again and re-apply (outline edits by colleagues commute). `read`
        is the course as the caller has just read and checked it, to start from."""
        for attempt in range(_EDIT_ATTEMPTS):
            course = read if read is not None and attempt == 0 else None
            if course is None:
                course = await self._staff_course(actor, course_id)
            if owner_only:
                course.require_owner(actor)
            version = course.version
            change(course)
            if course.version == version:
                return course  # nothing changed (an idempotent transition)
            try:
                await self._courses.update(course, version)
                return course
            except StaleVersion:
                if attempt == _EDIT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _lesson_and_course(self, lesson_id: str) -> tuple[Lesson, Course]:
        lesson = await self._lessons.get(lesson_id)
        course = await self._courses.get(lesson.course_id) if lesson else None
        if lesson is None or course is None or course.find_lesson(lesson_id) is None:
            raise NotFound("no such lesson")
        return lesson, course

    async def _check_material(self, file_id: str | None, actor: User, course_id: str) -> None:
        if file_id is not None and not await self._files.is_attachable(
            file_id, actor.id, course_id, LESSON_MATERIAL
        ):
            raise RuleViolated("is not a file you uploaded as lesson material", field="file_id")
