"""The catalog as the use cases serve it on the in-memory stores: which courses it lists, how
each filter and search narrows it, its four orders, and keyset pages that neither skip nor
repeat a course while the catalog changes."""

from __future__ import annotations

from typing import Any

import pytest

from ocp.application.courses import CourseDraft, LessonDraft
from ocp.domain.courses import CatalogFilter, CatalogSort, Course, LessonKind, Level
from ocp.domain.errors import AuthenticationFailed, InvalidCursor
from ocp.domain.users import Role, User
from tests.builders import UseCases, a_member


@pytest.fixture
async def teacher(app):
    return await a_member(app, Role.INSTRUCTOR)


async def a_listed(app: UseCases, owner: User, title: str, **fields: Any) -> Course:
    """A published course of `owner` with one lesson; `fields` as for `CourseDraft`."""
    course = await a_draft(app, owner, title, **fields)
    _, module = await app.outline.add_module(owner, course.id, "Module")
    await app.outline.add_lesson(owner, course.id, module.id, LessonDraft("L", LessonKind.TEXT))
    return await app.courses.publish(owner, course.id)


async def a_draft(app: UseCases, owner: User, title: str, **fields: Any) -> Course:
    return await app.courses.create_course(owner, CourseDraft(title, **fields))


async def titles(app: UseCases, actor: User | None = None, **wanted: Any) -> list[str]:
    """The titles of the catalog's first page, all of it."""
    page = await app.catalog.browse(actor, CatalogFilter(**wanted), limit=100, cursor=None)
    assert page.next_cursor is None
    return [course.title for course in page.items]


async def walk(app: UseCases, wanted: CatalogFilter, limit: int, between_pages=None) -> list[str]:
    """The ids of every course on every page, following `next_cursor`; `between_pages` runs
    after each page that has a next one."""
    seen: list[str] = []
    cursor = None
    while True:
        page = await app.catalog.browse(None, wanted, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen += [course.id for course in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
        if between_pages is not None:
            await between_pages()


async def test_the_catalog_lists_published_courses_newest_first(app, teacher):
    await a_draft(app, teacher, "Still a draft")
    for title in ("Oldest", "Middle", "Newest"):
        await a_listed(app, teacher, title)
        app.clock.advance(60)
    gone = await a_listed(app, teacher, "Archived")
    await app.courses.archive(teacher, gone.id)
    assert await titles(app) == ["Newest", "Middle", "Oldest"]


async def test_tag_level_category_and_instructor_each_narrow_the_catalog(app, teacher):
    other = await a_member(app, Role.INSTRUCTOR)
    helper = await a_member(app, Role.INSTRUCTOR)
    await a_listed(app, teacher, "Python Basics", tags=("Python",), category="Programming")
    await a_listed(app, teacher, "Advanced Python", tags=("python", "async"), level=Level.ADVANCED)
    art = await a_listed(app, other, "Watercolour", tags=("art",), category="Creative Arts")
    await app.courses.add_instructor(other, art.id, helper.id)
    assert set(await titles(app, tag="python")) == {"Python Basics", "Advanced Python"}
    assert await titles(app, tag="  PYTHON ", level=Level.ADVANCED) == ["Advanced Python"]
    assert await titles(app, category="creative   arts") == ["Watercolour"]
    assert await titles(app, instructor_id=other.id) == ["Watercolour"]
    assert await titles(app, instructor_id=helper.id) == ["Watercolour"]
    assert await titles(app, level=Level.INTERMEDIATE) == []


async def test_q_matches_every_word_of_title_summary_and_tags_ignoring_case_and_accents(
    app, teacher
):
    await a_listed(app, teacher, "Café Culture", summary="Brewing at home", tags=("coffee",))
    await a_listed(app, teacher, "Tea Ceremony", summary="A quiet art", tags=("tea",))
    assert await titles(app, query="CAFE") == ["Café Culture"]
    assert await titles(app, query="brewing coffee") == ["Café Culture"]
    assert await titles(app, query="quiet coffee") == []
    assert set(await titles(app, query="  ")) == {"Café Culture", "Tea Ceremony"}
    assert await titles(app, query="?!") == []


@pytest.mark.parametrize(
    "wanted",
    [
        {"query": ".*"},
        {"query": "^"},
        {"query": '{"$ne":1}'},
        {"tag": ".*"},
        {"tag": '{"$ne":1}'},
        {"tag": "[$ne]"},
        {"category": '{"$gt":""}'},
        {"instructor_id": '{"$exists":true}'},
    ],
)
async def test_patterns_and_operators_are_taken_literally(app, teacher, wanted):
    await a_listed(app, teacher, "Anything at all", tags=("x",), category="c")
    assert await titles(app, **wanted) == []


async def test_the_four_sort_orders(app, teacher):
    made = {  # title: (rating_sum, rating_count, enrolled_count), each order unlike the others
        "banana split": (9, 2, 1),  # 4.5
        "Apple pie": (8, 2, 3),  # 4.0
        "éclair": (0, 0, 5),  # unrated
        "cherry tart": (5, 1, 0),  # 5.0
    }
    for title, (rating_sum, rating_count, enrolled) in made.items():
        course = await a_listed(app, teacher, title)
        await app.stores.courses.add_rating(course.id, rating_sum, rating_count)
        if enrolled:
            assert await app.stores.courses.take_seats(course.id, enrolled)
        app.clock.advance(1)
    orders = {sort: await titles(app, sort=sort) for sort in CatalogSort}
    assert orders == {
        CatalogSort.NEWEST: ["cherry tart", "éclair", "Apple pie", "banana split"],
        CatalogSort.TITLE: ["Apple pie", "banana split", "cherry tart", "éclair"],
        CatalogSort.RATING: ["cherry tart", "banana split", "Apple pie", "éclair"],
        CatalogSort.POPULAR: ["éclair", "Apple pie", "banana split", "cherry tart"],
    }


async def test_equal_ratings_and_enrollments_fall_back_to_the_newest_first(app, teacher):
    for title in ("first", "second", "third"):
        await a_listed(app, teacher, title)
        app.clock.advance(1)
    for sort in (CatalogSort.RATING, CatalogSort.POPULAR):
        assert await titles(app, sort=sort) == ["third", "second", "first"]


async def test_mine_lists_the_callers_own_and_co_taught_courses_in_every_status(app, teacher):
    await a_draft(app, teacher, "My draft")
    await a_listed(app, teacher, "My live course")
    retired = await a_listed(app, teacher, "My archived course")
    await app.courses.archive(teacher, retired.id)
    other = await a_member(app, Role.INSTRUCTOR)
    await a_listed(app, other, "Not mine")
    shared = await a_draft(app, other, "Co-taught draft")
    await app.courses.add_instructor(other, shared.id, teacher.id)
    assert set(await titles(app, teacher, mine=True)) == {
        "My draft",
        "My live course",
        "My archived course",
        "Co-taught draft",
    }
    assert set(await titles(app, teacher, mine=True, query="draft")) == {
        "My draft",
        "Co-taught draft",
    }
    assert await titles(app, other, mine=True, query="draft") == ["Co-taught draft"]


async def test_mine_needs_a_caller_whatever_else_is_asked(app):
    for wanted in (CatalogFilter(mine=True), CatalogFilter(mine=True, query=".*")):
        with pytest.raises(AuthenticationFailed):
            await app.catalog.browse(None, wanted, limit=10, cursor=None)


@pytest.mark.parametrize("cursor", ["garbage!", "WzFd", "WyJ0aXRsZSJd"])
async def test_a_malformed_cursor_is_refused(app, cursor):
    with pytest.raises(InvalidCursor):
        await app.catalog.browse(None, CatalogFilter(), limit=10, cursor=cursor)


async def test_a_cursor_serves_only_the_order_it_came_from(app, teacher):
    for n in range(3):
        await a_listed(app, teacher, f"Course {n}")
    page = await app.catalog.browse(None, CatalogFilter(), limit=1, cursor=None)
    assert page.next_cursor is not None
    with pytest.raises(InvalidCursor):
        await app.catalog.browse(
            None, CatalogFilter(sort=CatalogSort.TITLE), limit=1, cursor=page.next_cursor
        )


@pytest.mark.parametrize("sort", list(CatalogSort))
async def test_walking_every_page_returns_each_course_once(app, teacher, sort):
    made = []
    for n in range(7):
        made.append((await a_listed(app, teacher, f"Course {n:02d}")).id)
        app.clock.advance(1 if n % 2 else 0)  # some share a publication time
    seen = await walk(app, CatalogFilter(sort=sort), limit=2)
    assert sorted(seen) == sorted(made)


async def test_pages_stay_exact_while_new_courses_are_published(app, teacher):
    earlier = [(await a_listed(app, teacher, f"Earlier {n}")).id for n in range(9)]
    published_meanwhile: list[str] = []

    async def publish_one():
        app.clock.advance(1)
        course = await a_listed(app, teacher, f"Meanwhile {len(published_meanwhile)}")
        published_meanwhile.append(course.id)

    seen = await walk(app, CatalogFilter(), limit=2, between_pages=publish_one)
    assert sorted(seen) == sorted(earlier)
    assert published_meanwhile


async def test_a_course_leaving_the_catalog_between_pages_shifts_no_other(app, teacher):
    made = []
    for n in range(8):
        made.append((await a_listed(app, teacher, f"Course {n}")).id)
        app.clock.advance(1)
    newest = made[-1]

    async def unpublish_the_newest():
        await app.courses.unpublish(teacher, newest)

    seen = await walk(app, CatalogFilter(), limit=3, between_pages=unpublish_the_newest)
    assert seen[0] == newest
    assert sorted(seen) == sorted(made)
