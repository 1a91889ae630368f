"""Contracts of the course ports, written once and run against every adapter.

Each takes its stores from the `stores` fixture of the module running it (see `tests.contracts`).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from ocp.domain.courses import (
    CatalogFilter,
    CatalogQuery,
    CatalogRow,
    CatalogSort,
    Course,
    CourseChanges,
    CourseStatus,
    Lesson,
    LessonChanges,
    LessonKind,
    LessonOutline,
    Level,
    catalog_key,
)
from ocp.domain.errors import DuplicateSlug, NotFound, StaleVersion
from ocp.domain.users import Role
from tests.builders import a_user
from tests.contracts import FromStores

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def a_course(
    title: str = "A course",
    *,
    owner_id: str = "owner1",
    published: int | None = 0,
    **fields,
) -> Course:
    """A course; `published` is how many minutes after NOW it was published (None: draft)."""
    n = next(_ids)
    owner = a_user(Role.INSTRUCTOR, id=owner_id)
    course = Course.create(
        id=fields.pop("id", f"c{n:06d}"),
        owner=owner,
        title_text=title,
        now=NOW,
        summary_text=fields.pop("summary", ""),
        tag_names=fields.pop("tags", ()),
        level=fields.pop("level", Level.BEGINNER),
        category_name=fields.pop("category", ""),
    )
    course.slug = fields.pop("slug", f"{course.slug}-{n}")
    module = course.add_module(f"m{n}", "Intro", "", NOW)
    course.add_lesson(module.id, LessonOutline(f"l{n}", "First", LessonKind.TEXT, True, 60), NOW)
    if published is not None:
        course.publish(NOW + timedelta(minutes=published))
    for name, value in fields.items():
        setattr(course, name, value)
    return course


def a_lesson(course_id: str = "c1", **fields) -> Lesson:
    n = next(_ids)
    return Lesson.write(
        id=fields.pop("id", f"l{n:06d}"),
        course_id=course_id,
        module_id=fields.pop("module_id", "m1"),
        title_text=fields.pop("title", "A lesson"),
        kind=fields.pop("kind", LessonKind.TEXT),
        now=NOW,
        **fields,
    )


def page(sort=CatalogSort.NEWEST, limit=100, **fields) -> CatalogQuery:
    return CatalogQuery(sort=sort, limit=limit, **fields)


def ids(rows: list[CatalogRow]) -> list[str]:
    return [row.course.id for row in rows]


class CourseRepositoryContract(FromStores):
    async def test_a_stored_course_reads_back_equal_by_id_and_slug(self, courses):
        course = a_course("Stored", tags=["python"], summary="All about it", published=None)
        await courses.add(course)
        assert await courses.get(course.id) == course
        assert await courses.get_by_slug(course.slug) == course
        assert await courses.get("nope") is None
        assert await courses.get_by_slug("nope") is None

    async def test_a_taken_slug_is_refused(self, courses):
        await courses.add(a_course(slug="same"))
        with pytest.raises(DuplicateSlug):
            await courses.add(a_course(slug="same"))

    async def test_update_with_the_read_version_succeeds_once(self, courses):
        course = a_course()
        await courses.add(course)
        first, second = await courses.get(course.id), await courses.get(course.id)
        first.edit(NOW, CourseChanges(title="First"))
        await courses.update(first, expected_version=course.version)
        second.edit(NOW, CourseChanges(title="Second"))
        with pytest.raises(StaleVersion):
            await courses.update(second, expected_version=course.version)
        assert (await courses.get(course.id)).title == "First"
        with pytest.raises(NotFound):
            await courses.update(a_course(), expected_version=1)

    async def test_delete_needs_the_current_version(self, courses):
        course = a_course(published=None)
        await courses.add(course)
        with pytest.raises(StaleVersion):
            await courses.delete(course.id, expected_version=course.version - 1)
        await courses.delete(course.id, expected_version=course.version)
        assert await courses.get(course.id) is None
        assert await courses.get_by_slug(course.slug) is None
        assert await courses.is_empty()

    async def test_catalog_lists_published_courses_newest_first(self, courses):
        assert await courses.is_empty()
        old, new = a_course(published=1), a_course(published=5)
        draft, gone = a_course(published=None), a_course(published=3)
        gone.archive(NOW)
        for course in (old, new, draft, gone):
            await courses.add(course)
        assert not await courses.is_empty()
        assert ids(await courses.search(page())) == [new.id, old.id]

    async def test_catalog_pages_by_key_without_gaps_or_repeats(self, courses):
        made = [a_course(published=i % 3) for i in range(10)]  # ties broken by id
        for course in made:
            await courses.add(course)
        seen, after = [], None
        while True:
            rows = await courses.search(page(limit=3, after=after))
            seen += ids(rows)
            if len(rows) < 3:
                break
            after = rows[-1].key  # the stored key, read back
            assert after == catalog_key(rows[-1].course, CatalogSort.NEWEST)
        expected = sorted(made, key=lambda c: catalog_key(c, CatalogSort.NEWEST), reverse=True)
        assert seen == [c.id for c in expected]

    async def test_title_order_ignores_case_and_accents(self, courses):
        names = ["banana", "Éclair", "apple", "Apple pie", "cherry"]
        made = {name: a_course(name) for name in names}
        for course in made.values():
            await courses.add(course)
        rows = await courses.search(page(CatalogSort.TITLE))
        assert [row.course.title for row in rows] == [
            "apple",
            "Apple pie",
            "banana",
            "cherry",
            "Éclair",
        ]
        after = catalog_key(made["banana"], CatalogSort.TITLE)
        rows = await courses.search(page(CatalogSort.TITLE, after=after))
        assert [row.course.title for row in rows] == ["cherry", "Éclair"]

    async def test_rating_and_popular_orders_put_the_highest_first(self, courses):
        low = a_course(rating_avg=3.5, rating_count=2, enrolled_count=40)
        high = a_course(rating_avg=4.75, rating_count=4, enrolled_count=3)
        none = a_course()
        for course in (low, high, none):
            await courses.add(course)
        assert ids(await courses.search(page(CatalogSort.RATING))) == [high.id, low.id, none.id]
        assert ids(await courses.search(page(CatalogSort.POPULAR)))[:2] == [low.id, high.id]
        after = catalog_key(high, CatalogSort.RATING)
        assert ids(await courses.search(page(CatalogSort.RATING, after=after))) == [
            low.id,
            none.id,
        ]

    async def test_every_term_must_match(self, courses):
        py = a_course("Python basics", tags=["python"], level=Level.BEGINNER)
        deep = a_course("Deep Python", tags=["python"], level=Level.ADVANCED, category="Data")
        js = a_course("JavaScript", tags=["web"])
        for course in (py, deep, js):
            await courses.add(course)
        assert set(ids(await courses.search(page(terms=["tag:python"])))) == {py.id, deep.id}
        found = await courses.search(page(terms=["tag:python", "level:advanced"]))
        assert ids(found) == [deep.id]
        found = await courses.search(page(terms=["kw:python", "kw:deep", "cat:data"]))
        assert ids(found) == [deep.id]
        assert await courses.search(page(terms=["kw:python", "kw:web"])) == []
        found = await courses.search(page(CatalogSort.TITLE, limit=1, terms=["kw:python"]))
        assert ids(found) == [deep.id]

    async def test_query_words_match_word_prefixes_of_two_or_more_characters(self, courses):
        python = a_course("Python for Data Science", summary="pandas and notebooks")
        pyramid = a_course("Pyramid web apps", tags=["web"])
        rust = a_course("Rust in practice", summary="a python-free zone")
        for course in (python, pyramid, rust):
            await courses.add(course)

        async def found(q: str) -> set[str]:
            terms = CatalogFilter(query=q).terms()
            return set(ids(await courses.search(page(terms=terms)))) if terms else set()

        assert await found("pyth") == {python.id, rust.id}  # rust's summary says python
        assert await found("py") == {python.id, pyramid.id, rust.id}
        assert await found("pythons") == set()  # longer than any word
        assert await found("Pyramid") == {pyramid.id}
        assert await found("pyram") == {pyramid.id}  # past the stored prefixes: checked
        assert await found("pytho data") == {python.id}  # every word must match
        assert await found("notebook") == {python.id}  # summary words too
        assert await found("p") == set()  # one letter: only a whole word
        assert await found("a") == {rust.id}  # "a python-free zone"
        assert await found("...") == set()

    async def test_staff_listing_shows_every_status_of_own_courses(self, courses):
        mine_draft = a_course(owner_id="me", published=None)
        mine_live = a_course(owner_id="me")
        co_taught = a_course(owner_id="other", instructor_ids=["me"])
        other = a_course(owner_id="other")
        for course in (mine_draft, mine_live, co_taught, other):
            await courses.add(course)
        found = await courses.search(page(status=None, staff_id="me"))
        assert set(ids(found)) == {mine_draft.id, mine_live.id, co_taught.id}
        found = await courses.search(page(status=None, staff_id="me", terms=["by:other"]))
        assert ids(found) == [co_taught.id]
        # `staff_id` alone decides: a status beside it narrows nothing, in every store alike.
        found = await courses.search(page(staff_id="me"))
        assert set(ids(found)) == {mine_draft.id, mine_live.id, co_taught.id}

    async def test_catalog_rows_carry_the_course_fields(self, courses):
        course = a_course("Listed", tags=["x"], summary="sum", category="Cat")
        await courses.add(course)
        (found,) = await courses.search(page())
        row = found.course
        assert (row.id, row.slug, row.title, row.tags, row.status, row.published_at) == (
            course.id,
            course.slug,
            "Listed",
            ["x"],
            CourseStatus.PUBLISHED,
            course.published_at,
        )


class LessonRepositoryContract(FromStores):
    async def test_a_stored_lesson_reads_back_equal(self, lessons):
        lesson = a_lesson(body_markdown="# Hi", duration_s=30, is_preview=True)
        await lessons.add(lesson)
        assert await lessons.get(lesson.id) == lesson
        assert await lessons.get("nope") is None

    async def test_update_needs_the_read_version(self, lessons):
        lesson = a_lesson()
        await lessons.add(lesson)
        lesson.edit(NOW, LessonChanges(title="Renamed"))
        await lessons.update(lesson, expected_version=1)
        with pytest.raises(StaleVersion):
            await lessons.update(lesson, expected_version=1)
        assert (await lessons.get(lesson.id)).title == "Renamed"

    async def test_a_courses_lessons_read_at_once(self, lessons):
        a, b, c = a_lesson("c1"), a_lesson("c1"), a_lesson("c2")
        await lessons.add_many([a, b, c])
        assert sorted(x.id for x in await lessons.of_course("c1")) == sorted([a.id, b.id])
        assert await lessons.of_course("none") == []

    async def test_deleting_by_ids_and_by_course(self, lessons):
        a, b = a_lesson("c1"), a_lesson("c1")
        c = a_lesson("c2")
        await lessons.add_many([a, b, c])
        await lessons.delete_many([a.id, "nope"])
        assert await lessons.get(a.id) is None
        await lessons.delete_course("c1")
        assert await lessons.get(b.id) is None
        assert await lessons.get(c.id) == c

    async def test_knows_whether_a_lesson_uses_a_file(self, lessons):
        await lessons.add(a_lesson(kind=LessonKind.VIDEO, file_id="f1"))
        assert await lessons.any_lesson_uses_file("f1")
        assert not await lessons.any_lesson_uses_file("f2")
