"""In-memory course stores: courses with their catalog order, lesson bodies, enrollments."""

from __future__ import annotations

import copy

from ocp.application.ports.courses import CatalogQuery, catalog_key
from ocp.domain.courses import Course, Lesson
from ocp.domain.errors import Conflict, DuplicateSlug, NotFound, StaleVersion


class InMemoryCourseRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, Course] = {}
        self._id_by_slug: dict[str, str] = {}

    async def add(self, course: Course) -> None:
        if course.id in self._by_id:
            raise Conflict("this course exists already")
        if course.slug in self._id_by_slug:
            raise DuplicateSlug("this slug is taken")
        self._by_id[course.id] = copy.deepcopy(course)
        self._id_by_slug[course.slug] = course.id

    async def get(self, course_id: str) -> Course | None:
        course = self._by_id.get(course_id)
        return copy.deepcopy(course) if course else None

    async def get_by_slug(self, slug: str) -> Course | None:
        course_id = self._id_by_slug.get(slug)
        return await self.get(course_id) if course_id else None

    def _current(self, course_id: str, expected_version: int) -> Course:
        stored = self._by_id.get(course_id)
        if stored is None:
            raise NotFound("no such course")
        if stored.version != expected_version:
            raise StaleVersion("the course was changed since you read it; read it again")
        return stored

    async def update(self, course: Course, expected_version: int) -> None:
        stored = self._current(course.id, expected_version)
        if course.slug != stored.slug:
            if course.slug in self._id_by_slug:
                raise DuplicateSlug("this slug is taken")
            del self._id_by_slug[stored.slug]
            self._id_by_slug[course.slug] = course.id
        self._by_id[course.id] = copy.deepcopy(course)

    async def delete(self, course_id: str, expected_version: int) -> None:
        stored = self._current(course_id, expected_version)
        del self._by_id[course_id]
        del self._id_by_slug[stored.slug]

    async def search(self, query: CatalogQuery) -> list[Course]:
        descending = query.sort.descending
        found: list[tuple[str, Course]] = []
        for course in self._by_id.values():
            if query.staff_id is not None:  # the staff's own courses, in every status
                if query.staff_id not in course.staff_ids:
                    continue
            elif query.status is not None and course.status is not query.status:
                continue
            if query.terms and not set(query.terms) <= set(course.catalog_terms()):
                continue
            key = catalog_key(course, query.sort)
            if query.after is not None and (
                key >= query.after if descending else key <= query.after
            ):
                continue
            found.append((key, course))
        found.sort(key=lambda pair: pair[0], reverse=descending)
        return [copy.deepcopy(course) for _, course in found[: query.limit]]

    async def is_empty(self) -> bool:
        return not self._by_id


class InMemoryLessonRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, Lesson] = {}

    async def add(self, lesson: Lesson) -> None:
        if lesson.id in self._by_id:
            raise Conflict("this lesson exists already")
        self._by_id[lesson.id] = copy.deepcopy(lesson)

    async def add_many(self, lessons: list[Lesson]) -> None:
        for lesson in lessons:
            await self.add(lesson)

    async def get(self, lesson_id: str) -> Lesson | None:
        lesson = self._by_id.get(lesson_id)
        return copy.deepcopy(lesson) if lesson else None

    async def update(self, lesson: Lesson, expected_version: int) -> None:
        stored = self._by_id.get(lesson.id)
        if stored is None:
            raise NotFound("no such lesson")
        if stored.version != expected_version:
            raise StaleVersion("the lesson was changed since you read it; read it again")
        self._by_id[lesson.id] = copy.deepcopy(lesson)

    async def delete_many(self, lesson_ids: list[str]) -> None:
        for lesson_id in lesson_ids:
            self._by_id.pop(lesson_id, None)

    async def delete_course(self, course_id: str) -> None:
        for lesson_id in [i for i, v in self._by_id.items() if v.course_id == course_id]:
            del self._by_id[lesson_id]

    async def any_lesson_uses_file(self, file_id: str) -> bool:
        return any(lesson.file_id == file_id for lesson in self._by_id.values())


class InMemoryEnrollments:
    """Answers who is enrolled; `enroll` stands in for the enrollment use cases still to come."""

    def __init__(self) -> None:
        self._pairs: set[tuple[str, str]] = set()

    def enroll(self, course_id: str, user_id: str) -> None:
        self._pairs.add((course_id, user_id))

    def unenroll(self, course_id: str, user_id: str) -> None:
        """A drop (issue 5's in-memory enrollment store keeps this lookup in step)."""
        self._pairs.discard((course_id, user_id))

    async def is_enrolled(self, course_id: str, user_id: str) -> bool:
        return (course_id, user_id) in self._pairs

    async def has_enrollments(self, course_id: str) -> bool:
        return any(course == course_id for course, _ in self._pairs)
