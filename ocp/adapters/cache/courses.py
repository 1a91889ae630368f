"""Caching decorators of the course stores: courses by id and slug (course pages, outlines,
the cards of a student's enrolments), public catalog pages, and lessons by id, kept in memory.
A course's change forgets that course and every catalog page (any change may move any page);
a lesson's change forgets that lesson."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from ocp.adapters.cache.entries import MISSING, Entries
from ocp.adapters.cache.feed import ChangeFeed
from ocp.application.ports.courses import CourseCard, CourseRepository, LessonRepository
from ocp.domain.courses import CatalogQuery, CatalogRow, Course, CourseStatus, Lesson

# Kept pickled: compact, and every reader unpickles its own copy (a Course is mutable).


def _frozen(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _listed(rows: list[CatalogRow]) -> list[CatalogRow]:
    """A page for one reader: its own rows and course objects (a listing is read, never
    edited, so the values inside, strings and small lists, are shared)."""
    return [CatalogRow(copy.copy(row.course), row.key) for row in rows]


def _kept(value: Course | Lesson) -> tuple[int, bytes]:
    """What a by-id cache keeps: the version (to recognise a change's echo) and the bytes."""
    return value.version, _frozen(value)


def _version(kept: tuple[int, bytes]) -> int | None:
    return kept[0]


def _thawed(kept: object) -> Any:
    return pickle.loads(kept)  # type: ignore[arg-type]  # noqa: S301 - pickled by this process


class CachedCourseRepository:
    def __init__(self, inner: CourseRepository, feed: ChangeFeed, *, size: int, pages: int) -> None:
        self._inner = inner
        self._feed = feed
        self._by_id: Entries[tuple[int, bytes]] = Entries(
            "courses", size, feed, "courses", version_of=_version
        )
        # slug -> course id, checked against the course on every hit (a slug can move).
        self._ids: Entries[str] = Entries("course_slugs", size, feed, "courses")
        self._pages: Entries[list[CatalogRow]] = Entries(
            "catalog_pages", pages, feed, "courses", whole=True, copy=_listed
        )

    @property
    def wrapped(self) -> CourseRepository:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, course_id: str) -> Course | None:
        kept = self._by_id.get(course_id)
        if kept is not MISSING:
            course: Course | None = _thawed(kept[1])  # type: ignore[index]
            return course
        epoch = self._by_id.epoch()
        found = await self._inner.get(course_id)
        if found is not None:  # an unknown id is not kept: anyone could fill the cache with them
            self._by_id.put(course_id, _kept(found), epoch)
        return found

    async def get_by_slug(self, slug: str) -> Course | None:
        course_id = self._ids.get(slug)
        if course_id is not MISSING:
            kept = self._by_id.get(course_id)  # type: ignore[arg-type]
            if kept is not MISSING:
                course: Course = _thawed(kept[1])  # type: ignore[index]
                if course.slug == slug:
                    return course
        epoch, slug_epoch = self._by_id.epoch(), self._ids.epoch()
        found = await self._inner.get_by_slug(slug)
        if found is not None:  # an unknown slug is not kept: nothing would forget it
            self._by_id.put(found.id, _kept(found), epoch)
            self._ids.put(slug, found.id, slug_epoch)
        return found

    async def search(self, query: CatalogQuery) -> list[CatalogRow]:
        if query.staff_id is not None or query.status is not CourseStatus.PUBLISHED:
            return await self._inner.search(query)  # someone's own courses: not shared
        key = (query.sort, query.limit, tuple(query.terms), query.after)
        kept = self._pages.get(key)
        if kept is not MISSING:
            return kept  # type: ignore[return-value]
        epoch = self._pages.epoch()
        found = await self._inner.search(query)
        self._pages.put(key, found, epoch)
        return found

    async def cards(self, course_ids: list[str]) -> dict[str, CourseCard]:
        found: dict[str, CourseCard] = {}
        missing: list[str] = []
        for course_id in course_ids:
            kept = self._by_id.peek(course_id)
            if kept is MISSING:
                missing.append(course_id)
            else:
                course: Course = _thawed(kept[1])  # type: ignore[index]
                found[course_id] = CourseCard(
                    course.id, course.slug, course.title, course.lesson_ids
                )
        if missing:
            found.update(await self._inner.cards(missing))
        return found

    # Writes: through to the store, then this process forgets the course at once (the change
    # feed brings the same change to the other processes).

    async def add(self, course: Course) -> None:
        self._by_id.writing(course.id)
        try:
            await self._inner.add(course)
        finally:
            self._by_id.written(course.id)
            self._feed.changed("courses", course.id)

    async def update(self, course: Course, expected_version: int) -> None:
        self._by_id.writing(course.id)
        try:
            await self._inner.update(course, expected_version)
        finally:
            self._by_id.written(course.id)
            self._feed.changed("courses", course.id)

    async def delete(self, course_id: str, expected_version: int) -> None:
        self._by_id.writing(course_id)
        try:
            await self._inner.delete(course_id, expected_version)
        finally:
            self._by_id.written(course_id)
            self._feed.changed("courses", course_id)

    async def take_seats(self, course_id: str, count: int) -> bool:
        self._by_id.writing(course_id)
        try:
            return await self._inner.take_seats(course_id, count)
        finally:
            self._by_id.written(course_id)
            self._feed.changed("courses", course_id)

    async def give_back_seats(self, course_id: str, count: int) -> None:
        self._by_id.writing(course_id)
        try:
            await self._inner.give_back_seats(course_id, count)
        finally:
            self._by_id.written(course_id)
            self._feed.changed("courses", course_id)

    async def add_rating(self, course_id: str, rating_delta: int, count_delta: int) -> None:
        self._by_id.writing(course_id)
        try:
            await self._inner.add_rating(course_id, rating_delta, count_delta)
        finally:
            self._by_id.written(course_id)
            self._feed.changed("courses", course_id)


class CachedLessonRepository:
    """`get` by id from memory (a lesson's body, read by every learner who opens it)."""

    def __init__(self, inner: LessonRepository, feed: ChangeFeed, *, size: int) -> None:
        self._inner = inner
        self._feed = feed
        self._by_id: Entries[tuple[int, bytes]] = Entries(
            "lessons", size, feed, "lessons", version_of=_version
        )

    @property
    def wrapped(self) -> LessonRepository:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, lesson_id: str) -> Lesson | None:
        kept = self._by_id.get(lesson_id)
        if kept is not MISSING:
            lesson: Lesson | None = _thawed(kept[1])  # type: ignore[index]
            return lesson
        epoch = self._by_id.epoch()
        found = await self._inner.get(lesson_id)
        if found is not None:  # an unknown id is not kept: anyone could fill the cache with them
            self._by_id.put(lesson_id, _kept(found), epoch)
        return found

    async def add(self, lesson: Lesson) -> None:
        self._by_id.writing(lesson.id)
        try:
            await self._inner.add(lesson)
        finally:
            self._by_id.written(lesson.id)
            self._feed.changed("lessons", lesson.id)

    async def add_many(self, lessons: list[Lesson]) -> None:
        try:
            await self._inner.add_many(lessons)
        finally:
            for lesson in lessons:
                self._feed.changed("lessons", lesson.id)

    async def update(self, lesson: Lesson, expected_version: int) -> None:
        self._by_id.writing(lesson.id)
        try:
            await self._inner.update(lesson, expected_version)
        finally:
            self._by_id.written(lesson.id)
            self._feed.changed("lessons", lesson.id)

    async def delete_many(self, lesson_ids: list[str]) -> None:
        try:
            await self._inner.delete_many(lesson_ids)
        finally:
            for lesson_id in lesson_ids:
                self._feed.changed("lessons", lesson_id)

    async def delete_course(self, course_id: str) -> None:
        try:
            await self._inner.delete_course(course_id)
        finally:
            self._feed.changed_all("lessons")  # which lessons were the course's: not known here
