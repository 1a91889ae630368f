"""MongoDB course stores.

A course is one document holding its outline (modules and their lesson outlines), its
catalog terms and one precomputed key per catalog order; lesson bodies live in `lessons`.
Every catalog query is an equality on indexed fields plus at most one range on a sort key,
which both MongoDB and the embedded database serve from an index (see docs/courses.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ocp.adapters.mongo.catalog import Fences
from ocp.adapters.mongo.errors import translate_errors
from ocp.application.ports.courses import CourseCard
from ocp.domain.courses import (
    CatalogQuery,
    CatalogRow,
    CatalogSort,
    Course,
    CourseStatus,
    Lesson,
    LessonKind,
    LessonOutline,
    Level,
    Module,
    catalog_key,
    course_terms,
    popularity_key,
    rating_key,
)
from ocp.domain.courses.catalog import KEY_SEP, has_terms, index_term
from ocp.domain.errors import Conflict, DuplicateSlug, NotFound, StaleVersion
from ocp.domain.learning import rating_average

Doc = dict[str, Any]

TERMS_VERSION = 2  # of `course_terms` (2: word prefixes); older stored terms are redone

SORT_FIELDS = {
    CatalogSort.NEWEST: "newest_key",
    CatalogSort.TITLE: "title_sort",
    CatalogSort.RATING: "rating_key",
    CatalogSort.POPULAR: "popular_key",
}


def course_to_doc(course: Course) -> Doc:
    return {
        "_id": course.id,
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "description": course.description,
        "tags": course.tags,
        "level": course.level.value,
        "category": course.category,
        "status": course.status.value,
        "owner_id": course.owner_id,
        "instructor_ids": course.instructor_ids,
        "staff_ids": course.staff_ids,
        "capacity": course.capacity,
        "enrolled_count": course.enrolled_count,
        "rating_avg": course.rating_avg,
        "rating_count": course.rating_count,
        "rating_sum": course.rating_sum,
        "cover_file_id": course.cover_file_id,
        "created_at": course.created_at,
        "updated_at": course.updated_at,
        "published_at": course.published_at,
        "version": course.version,
        "modules": [
            {
                "id": module.id,
                "title": module.title,
                "summary": module.summary,
                "lessons": [
                    {
                        "id": lesson.id,
                        "title": lesson.title,
                        "kind": lesson.kind.value,
                        "is_preview": lesson.is_preview,
                        "duration_s": lesson.duration_s,
                    }
                    for lesson in module.lessons
                ],
            }
            for module in course.modules
        ],
        "facets": course_terms(course),
        **{field: catalog_key(course, sort) for sort, field in SORT_FIELDS.items()},
    }


def _course_from_doc(doc: Doc) -> Course:
    return Course(
        id=doc["_id"],
        slug=doc["slug"],
        title=doc["title"],
        owner_id=doc["owner_id"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        summary=doc["summary"],
        description=doc["description"],
        tags=list(doc["tags"]),
        level=Level(doc["level"]),
        category=doc["category"],
        status=CourseStatus(doc["status"]),
        instructor_ids=list(doc["instructor_ids"]),
        capacity=doc.get("capacity"),
        enrolled_count=doc.get("enrolled_count", 0),
        rating_avg=float(doc.get("rating_avg", 0.0)),
        rating_count=doc.get("rating_count", 0),
        rating_sum=doc.get("rating_sum", 0),
        cover_file_id=doc.get("cover_file_id"),
        published_at=doc.get("published_at"),
        version=doc["version"],
        modules=[
            Module(
                id=m["id"],
                title=m["title"],
                summary=m.get("summary", ""),
                lessons=[
                    LessonOutline(
                        id=lesson["id"],
                        title=lesson["title"],
                        kind=LessonKind(lesson["kind"]),
                        is_preview=lesson.get("is_preview", False),
                        duration_s=lesson.get("duration_s"),
                    )
                    for lesson in m.get("lessons", [])
                ],
            )
            for m in doc.get("modules", [])
        ],
    )


def catalog_filter(query: CatalogQuery) -> tuple[Doc, list[tuple[str, int]], list[str]]:
    """The filter and sort of one catalog page, and the terms left to check on each row.

    Every filter is equalities on an index's leading fields plus one range on its next field
    (the sort key, bounded by the cursor and a fence, see catalog.py), the one shape both
    MongoDB and the embedded database serve from an index reading only what the range holds.
    One term (the first, which the caller makes the narrowest) rides the index; the others
    are checked on the rows it gives (`has_terms`).
    """
    field = SORT_FIELDS[query.sort]
    where: Doc = {}
    rest = list(query.terms)
    if query.staff_id is not None:
        where["staff_ids"] = query.staff_id
    elif (indexed := index_term(query.terms)) is not None:
        where["facets"] = indexed
        rest.remove(indexed)
    if query.status is not None and query.staff_id is None:
        where["status"] = query.status.value
    direction = DESCENDING if query.sort.descending else ASCENDING
    if query.after is not None:
        where[field] = {"$lt" if direction == DESCENDING else "$gt": query.after}
    return where, [(field, direction)], rest


_POPULAR = SORT_FIELDS[CatalogSort.POPULAR]
_RATING = SORT_FIELDS[CatalogSort.RATING]
_COUNT_DIGITS = len(popularity_key("", 0)) - len(KEY_SEP)

# Equality fields first, then the sort key (the cursor's range): equality-sort-range.
COURSE_INDEXES: list[tuple[str, list[tuple[str, int]]]] = [
    *(
        index
        for sort, field in SORT_FIELDS.items()
        for index in (
            (f"status_{sort.value}", [("status", ASCENDING), (field, ASCENDING)]),
            (f"facets_{sort.value}", [("facets", 1), ("status", 1), (field, ASCENDING)]),
            (f"staff_{sort.value}", [("staff_ids", ASCENDING), (field, ASCENDING)]),
        )
    ),
]


def _listing(sort: CatalogSort) -> Doc:
    """A catalog row needs no outline and, of the catalog keys, only its page's."""
    return {"modules": 0, **{f: 0 for s, f in SORT_FIELDS.items() if s is not sort}}


@translate_errors
class MongoCourseRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._courses = db["courses"]
        self._meta = db["meta"]
        self.fences = Fences(SORT_FIELDS)  # see catalog.py: bounds the cost of every page

    async def build_fences(self) -> None:
        await self.fences.build(self._courses)

    def keep_fences(self) -> None:
        self.fences.keep_built(self._courses)

    async def stop_fences(self) -> None:
        await self.fences.stop()

    async def ensure_indexes(self) -> None:
        await self._courses.create_index([("slug", ASCENDING)], unique=True, name="slug_1")
        await self._refresh_terms()
        for name, keys in COURSE_INDEXES:
            await self._courses.create_index(keys, name=name)

    async def add(self, course: Course) -> None:
        try:
            await self._courses.insert_one(course_to_doc(course))
        except DuplicateKeyError as exc:
            if "slug" in str(exc.details or exc):
                raise DuplicateSlug("this slug is taken") from None
            raise Conflict("this course exists already") from None

    async def get(self, course_id: str) -> Course | None:
        doc = await self._courses.find_one({"_id": course_id})
        return _course_from_doc(doc) if doc else None

    async def get_by_slug(self, slug: str) -> Course | None:
        doc = await self._courses.find_one({"slug": slug})
        return _course_from_doc(doc) if doc else None

    async def _missing_or_stale(self, course_id: str) -> Exception:
        if await self._courses.count_documents({"_id": course_id}, limit=1) == 0:
            return NotFound("no such course")
        return StaleVersion("the course was changed since you read it; read it again")

    async def update(self, course: Course, expected_version: int) -> None:
        try:
            result = await self._courses.replace_one(
                {"_id": course.id, "version": expected_version}, course_to_doc(course)
            )
        except DuplicateKeyError:
            raise DuplicateSlug("this slug is taken") from None
        if result.matched_count == 0:
            raise await self._missing_or_stale(course.id)

    async def delete(self, course_id: str, expected_version: int) -> None:
        result = await self._courses.delete_one({"_id": course_id, "version": expected_version})
        if result.deleted_count == 0:
            raise await self._missing_or_stale(course_id)

    async def search(self, query: CatalogQuery) -> list[CatalogRow]:
        where, order, rest = catalog_filter(query)
        field, listing = SORT_FIELDS[query.sort], _listing(query.sort)
        if query.staff_id is not None:  # someone's own courses: few, one open range
            ranges: Iterator[tuple[str, str] | None] = iter([None])
        else:
            ranges = iter(self.fences.ranges(query.sort, query.after))
        found: list[CatalogRow] = []
        for bounds in ranges:
            if bounds is not None:
                low, high = bounds
                where[field] = (
                    {"$gte": low, "$lt": high}
                    if query.sort.descending
                    else {"$gt": low, "$lte": high}
                )
            cursor = self._courses.find(where, listing).sort(order)
            if not rest:
                cursor = cursor.limit(query.limit - len(found))
            async for doc in cursor:
                if not rest or has_terms(set(doc["facets"]), rest):
                    found.append(CatalogRow(_course_from_doc(doc), doc[field]))
                    if len(found) == query.limit:
                        await cursor.close()
                        return found
        return found

    async def _refresh_terms(self) -> None:
        """Courses stored before the catalog's terms last changed (word prefixes came with
        version 2) get today's terms, once per database, in batches; a marker in `meta`
        says it is done. Terms are derived data: the courses' versions do not move."""
        marker = await self._meta.find_one({"_id": "catalog_terms"})
        if marker is not None and marker.get("version") == TERMS_VERSION:
            return
        batch: list[UpdateOne] = []
        async for doc in self._courses.find({}):
            batch.append(
                UpdateOne(
                    {"_id": doc["_id"]}, {"$set": {"facets": course_terms(_course_from_doc(doc))}}
                )
            )
            if len(batch) == 500:
                await self._courses.bulk_write(batch, ordered=False)
                batch = []
        if batch:
            await self._courses.bulk_write(batch, ordered=False)
        await self._meta.update_one(
            {"_id": "catalog_terms"}, {"$set": {"version": TERMS_VERSION}}, upsert=True
        )

    async def is_empty(self) -> bool:
        return await self._courses.find_one({}, {"_id": 1}) is None

    # Seats: ONE update (a pipeline) moves the counter, bumps the version and derives the
    # popularity key from the new count, so the key can never lag its counter; a seat is taken
    # only while the course is published and below capacity, checked by the same update. The
    # version bump makes an edit of the course read before it fail its version check instead
    # of undoing it. The key is `popularity_key` computed by the database:
    # `test_the_seat_key_is_popularity_key` holds the two together.

    async def _move_seats(self, where: Doc, delta: int) -> bool:
        count = {"$toString": "$enrolled_count"}
        padded = {"$concat": ["0" * _COUNT_DIGITS, count]}
        digits = {"$substrCP": [padded, {"$strLenCP": count}, _COUNT_DIGITS]}
        result = await self._courses.update_one(
            where,
            [
                {"$set": {"enrolled_count": {"$add": ["$enrolled_count", delta]},
                          "version": {"$add": ["$version", 1]}}},
                {"$set": {_POPULAR: {"$concat": [digits, KEY_SEP, "$_id"]}}},
            ],
        )  # fmt: skip
        return result.matched_count == 1

    async def take_seats(self, course_id: str, count: int) -> bool:
        fits = {"$lte": [{"$add": ["$enrolled_count", count]}, "$capacity"]}
        below_capacity = {"$or": [{"capacity": None}, {"$expr": fits}]}
        where = {"_id": course_id, "status": CourseStatus.PUBLISHED.value, **below_capacity}
        return await self._move_seats(where, count)

    async def give_back_seats(self, course_id: str, count: int) -> None:
        await self._move_seats({"_id": course_id, "enrolled_count": {"$gte": count}}, -count)

    async def add_rating(self, course_id: str, rating_delta: int, count_delta: int) -> None:
        doc = await self._courses.find_one_and_update(
            {"_id": course_id},
            {"$inc": {"rating_sum": rating_delta, "rating_count": count_delta, "version": 1}},
            projection={"rating_sum": 1, "rating_count": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return
        total, count = doc["rating_sum"], doc["rating_count"]
        average = rating_average(total, count)
        await self._courses.update_one(
            {"_id": course_id, "rating_sum": total, "rating_count": count},
            {
                "$set": {"rating_avg": average, _RATING: rating_key(course_id, average)},
                "$inc": {"version": 1},
            },
        )

    async def cards(self, course_ids: list[str]) -> dict[str, CourseCard]:
        if not course_ids:
            return {}
        cursor = self._courses.find(
            {"_id": {"$in": list(dict.fromkeys(course_ids))}},
            {"slug": 1, "title": 1, "modules.lessons.id": 1},
        )
        found = {}
        async for doc in cursor:
            lessons = [x["id"] for m in doc.get("modules", []) for x in m.get("lessons", [])]
            found[doc["_id"]] = CourseCard(doc["_id"], doc["slug"], doc["title"], lessons)
        return found


def _lesson_to_doc(lesson: Lesson) -> Doc:
    return {
        "_id": lesson.id,
        "course_id": lesson.course_id,
        "module_id": lesson.module_id,
        "title": lesson.title,
        "kind": lesson.kind.value,
        "body_markdown": lesson.body_markdown,
        "file_id": lesson.file_id,
        "duration_s": lesson.duration_s,
        "is_preview": lesson.is_preview,
        "created_at": lesson.created_at,
        "updated_at": lesson.updated_at,
        "version": lesson.version,
    }


def _lesson_from_doc(doc: Doc) -> Lesson:
    return Lesson(
        id=doc["_id"],
        course_id=doc["course_id"],
        module_id=doc["module_id"],
        title=doc["title"],
        kind=LessonKind(doc["kind"]),
        body_markdown=doc.get("body_markdown", ""),
        file_id=doc.get("file_id"),
        duration_s=doc.get("duration_s"),
        is_preview=doc.get("is_preview", False),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        version=doc["version"],
    )


@translate_errors
class MongoLessonRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._lessons = db["lessons"]

    async def ensure_indexes(self) -> None:
        await self._lessons.create_index([("course_id", ASCENDING)], name="course_id_1")
        await self._lessons.create_index([("file_id", ASCENDING)], name="file_id_1")

    async def add(self, lesson: Lesson) -> None:
        await self._lessons.insert_one(_lesson_to_doc(lesson))

    async def add_many(self, lessons: list[Lesson]) -> None:
        if lessons:
            await self._lessons.insert_many([_lesson_to_doc(x) for x in lessons], ordered=False)

    async def get(self, lesson_id: str) -> Lesson | None:
        doc = await self._lessons.find_one({"_id": lesson_id})
        return _lesson_from_doc(doc) if doc else None

    async def update(self, lesson: Lesson, expected_version: int) -> None:
        result = await self._lessons.replace_one(
            {"_id": lesson.id, "version": expected_version}, _lesson_to_doc(lesson)
        )
        if result.matched_count == 0:
            if await self._lessons.count_documents({"_id": lesson.id}, limit=1) == 0:
                raise NotFound("no such lesson")
            raise StaleVersion("the lesson was changed since you read it; read it again")

    async def delete_many(self, lesson_ids: list[str]) -> None:
        if lesson_ids:
            await self._lessons.delete_many({"_id": {"$in": lesson_ids}})

    async def of_course(self, course_id: str) -> list[Lesson]:
        return [_lesson_from_doc(doc) async for doc in self._lessons.find({"course_id": course_id})]

    async def delete_course(self, course_id: str) -> None:
        await self._lessons.delete_many({"course_id": course_id})

    async def any_lesson_uses_file(self, file_id: str) -> bool:
        return await self._lessons.find_one({"file_id": file_id}, {"_id": 1}) is not None
