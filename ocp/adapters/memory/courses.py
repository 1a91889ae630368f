"""In-memory `courses` (with their catalog order and counters) and `lessons`.

Same semantics as the MongoDB ones; every method finishes without yielding to the event loop,
so each is atomic as a single document update is."""

from __future__ import annotations

import copy

from ocp.application.ports.courses import CourseCard
from ocp.domain.courses import CatalogQuery, CatalogRow, Course, CourseStatus, Lesson, catalog_key
from ocp.domain.errors import Conflict, DuplicateSlug, NotFound, StaleVersion
from ocp.domain.learning import rating_average


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

    async def search(self, query: CatalogQuery) -> list[CatalogRow]:
        placed = (
            (catalog_key(course, query.sort), course)
            for course in self._by_id.values()
            if query.admits(course)
        )
        found = [(key, course) for key, course in placed if query.follows(key)]
        found.sort(key=lambda pair: pair[0], reverse=query.sort.descending)
        return [CatalogRow(copy.deepcopy(course), key) for key, course in found[: query.limit]]

    async def is_empty(self) -> bool:
        return not self._by_id

    def _bump(self, course: Course) -> None:
        course.version += 1

    async def take_seats(self, course_id: str, count: int) -> bool:
        course = self._by_id.get(course_id)
        if (
            course is None
            or course.status is not CourseStatus.PUBLISHED
            or (course.capacity is not None and course.enrolled_count + count > course.capacity)
        ):
            return False
        course.enrolled_count += count
        self._bump(course)
        return True

    async def give_back_seats(self, course_id: str, count: int) -> None:
        course = self._by_id.get(course_id)
        if course is not None and course.enrolled_count >= count:
            course.enrolled_count -= count
            self._bump(course)

    async def add_rating(self, course_id: str, rating_delta: int, count_delta: int) -> None:
        course = self._by_id.get(course_id)
        if course is not None:
            course.rating_sum += rating_delta
            course.rating_count += count_delta
            course.rating_avg = rating_average(course.rating_sum, course.rating_count)
            self._bump(course)

    async def cards(self, course_ids: list[str]) -> dict[str, CourseCard]:
        return {
            course.id: CourseCard(course.id, course.slug, course.title, course.lesson_ids)
            for course_id in dict.fromkeys(course_ids)
            if (course := self._by_id.get(course_id)) is not None
        }


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

    async def of_course(self, course_id: str) -> list[Lesson]:
        return [copy.deepcopy(v) for v in self._by_id.values() if v.course_id == course_id]

    async def delete_course(self, course_id: str) -> None:
        for lesson_id in [i for i, v in self._by_id.items() if v.course_id == course_id]:
            del self._by_id[lesson_id]

    async def any_lesson_uses_file(self, file_id: str) -> bool:
        return any(lesson.file_id == file_id for lesson in self._by_id.values())
