"""The catalog over HTTP: filters, literal search, sort orders, keyset paging and the demo."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from ocp.adapters.memory.clock import ManualClock
from ocp.container import Container
from ocp.domain.users import Role
from tests.builders import a_draft, a_published, app_client, signed_up, test_settings

API = "/api/v1/courses"


@pytest.fixture
def clock(container):
    clock = ManualClock()
    container.clock.override(clock)
    return clock


@pytest.fixture
async def teacher(client, container, clock):
    return await signed_up(client, container, Role.INSTRUCTOR)


async def titles(client, query="", headers=None):
    response = await client.get(f"{API}{query}", headers=headers or {})
    assert response.status_code == 200, response.text
    return [c["title"] for c in response.json()["items"]]


async def walk(client, query, headers=None, between_pages=None):
    """Every item of every page, following `next_cursor` (and checking the Link header)."""
    seen, url = [], f"{API}{query}"
    while True:
        response = await client.get(url, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["items"]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            return seen
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"')
        target = urlparse(link[1 : link.index(">")])
        assert parse_qs(target.query)["cursor"] == [body["next_cursor"]]
        url = f"{target.path}?{target.query}"
        if between_pages is not None:
            await between_pages()


async def test_the_catalog_shows_published_courses_newest_first(client, teacher, clock):
    await a_draft(client, teacher, "Still a draft")
    for title in ("Oldest", "Middle", "Newest"):
        await a_published(client, teacher, title)
        clock.advance(60)
    assert await titles(client) == ["Newest", "Middle", "Oldest"]


async def test_filters_narrow_the_catalog(client, container, teacher, clock):
    other = await signed_up(client, container, Role.INSTRUCTOR)
    await a_published(client, teacher, "Python Basics", tags=["Python"], category="Programming")
    await a_published(
        client, teacher, "Advanced Python", tags=["python", "async"], level="advanced"
    )
    await a_published(client, other, "Watercolour", tags=["art"], category="Creative Arts")
    assert set(await titles(client, "?tag=python")) == {"Python Basics", "Advanced Python"}
    assert await titles(client, "?tag=python&level=advanced") == ["Advanced Python"]
    assert await titles(client, "?category=creative%20arts") == ["Watercolour"]
    assert await titles(client, f"?instructor_id={other.id}") == ["Watercolour"]
    assert await titles(client, "?level=intermediate") == []
    response = await client.get(f"{API}?level=expert")
    assert response.status_code == 422


async def test_q_matches_every_word_of_title_summary_and_tags_ignoring_case_and_accents(
    client, teacher
):
    await a_published(client, teacher, "Café Culture", summary="Brewing at home", tags=["coffee"])
    await a_published(client, teacher, "Tea Ceremony", summary="A quiet art", tags=["tea"])
    assert await titles(client, "?q=CAFE") == ["Café Culture"]
    assert await titles(client, "?q=brewing%20coffee") == ["Café Culture"]
    assert await titles(client, "?q=quiet%20coffee") == []
    assert await titles(client, "?q=%20%20") != []  # blank: no search at all


@pytest.mark.parametrize(
    "query",
    [
        "?q=.*",
        "?q=%5E",
        '?q={"$ne":1}',
        "?tag=.*",
        '?tag={"$ne":1}',
        "?tag=[$ne]",
        '?category={"$gt":""}',
        '?instructor_id={"$exists":true}',
    ],
)
async def test_patterns_and_operators_are_taken_literally(client, teacher, query):
    await a_published(client, teacher, "Anything at all", tags=["x"], category="c")
    assert await titles(client, query) == []


async def test_sort_orders(client, container, teacher, clock):
    # title: (rating_sum, rating_count, enrolled_count), each order unlike the others
    made = {
        "banana split": (9, 2, 1),  # 4.5
        "Apple pie": (8, 2, 3),  # 4.0
        "éclair": (0, 0, 5),  # unrated
        "cherry tart": (5, 1, 0),  # 5.0
    }
    courses = container.courses()
    for title, (rating_sum, rating_count, enrolled) in made.items():
        course_id = (await a_published(client, teacher, title))["id"]
        await courses.add_rating(course_id, rating_sum, rating_count)
        if enrolled:
            assert await courses.take_seats(course_id, enrolled)
        clock.advance(1)
    assert await titles(client, "?sort=newest") == [
        "cherry tart",
        "éclair",
        "Apple pie",
        "banana split",
    ]
    assert await titles(client, "?sort=title") == [
        "Apple pie",
        "banana split",
        "cherry tart",
        "éclair",
    ]
    assert await titles(client, "?sort=rating") == [
        "cherry tart",
        "banana split",
        "Apple pie",
        "éclair",
    ]
    assert await titles(client, "?sort=popular") == [
        "éclair",
        "Apple pie",
        "banana split",
        "cherry tart",
    ]
    assert (await client.get(f"{API}?sort=cheapest")).status_code == 422


async def test_equal_ratings_and_enrollments_fall_back_to_the_newest_first(client, teacher, clock):
    for title in ("first", "second", "third"):
        await a_published(client, teacher, title)
        clock.advance(1)
    for sort in ("rating", "popular"):
        assert await titles(client, f"?sort={sort}") == ["third", "second", "first"]


async def test_mine_lists_own_courses_in_every_status_and_needs_a_token(client, container, teacher):
    await a_draft(client, teacher, "My draft")
    await a_published(client, teacher, "My live course")
    other = await signed_up(client, container, Role.INSTRUCTOR)
    await a_published(client, other, "Not mine")
    assert set(await titles(client, "?mine=true", teacher.auth)) == {"My draft", "My live course"}
    assert await titles(client, "?mine=true&q=draft", teacher.auth) == ["My draft"]
    for query in ("?mine=true", "?mine=true&q=.*"):
        response = await client.get(f"{API}{query}")
        assert response.status_code == 401


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=x"])
async def test_a_limit_out_of_range_is_refused(client, query):
    assert (await client.get(f"{API}{query}")).status_code == 422


@pytest.mark.parametrize("cursor", ["garbage!", "WzFd", "WyJ0aXRsZSIsIngiXQ"])
async def test_a_malformed_or_foreign_cursor_is_refused(client, cursor):
    response = await client.get(f"{API}?cursor={cursor}")
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("sort", ["newest", "title", "rating", "popular"])
async def test_walking_every_page_returns_each_course_once(client, teacher, clock, sort):
    made = []
    for n in range(7):
        made.append((await a_published(client, teacher, f"Course {n:02d}"))["id"])
        clock.advance(1 if n % 2 else 0)  # some share a publication time
    seen = await walk(client, f"?limit=2&sort={sort}")
    assert sorted(c["id"] for c in seen) == sorted(made)
    assert len(seen) == len(made)


async def test_pages_stay_exact_while_new_courses_are_published(client, teacher, clock):
    earlier = [(await a_published(client, teacher, f"Earlier {n}"))["id"] for n in range(9)]
    published_meanwhile = []

    async def publish_one():
        clock.advance(1)
        course = await a_published(client, teacher, f"Meanwhile {len(published_meanwhile)}")
        published_meanwhile.append(course["id"])

    seen = [c["id"] for c in await walk(client, "?limit=2", between_pages=publish_one)]
    assert sorted(i for i in seen if i in earlier) == sorted(earlier)
    assert len(seen) == len(set(seen))
    assert published_meanwhile and not set(seen) & set(published_meanwhile)


async def test_the_demo_catalog_is_seeded_once(client, container):
    seeded = await container.demo_catalog().seed()
    assert seeded >= 40
    assert await container.demo_catalog().seed() == 0
    response = await client.get(f"{API}?limit=20")
    body = response.json()
    assert len(body["items"]) == 20 and body["next_cursor"]
    assert len(await walk(client, "?limit=100")) == seeded
    first = body["items"][0]
    outline = (await client.get(f"{API}/{first['id']}/modules")).json()
    assert len(outline) >= 2 and all(m["lessons"] for m in outline)
    preview = outline[0]["lessons"][0]
    assert preview["is_preview"]
    assert (await client.get(f"/api/v1/lessons/{preview['id']}")).status_code == 200
    assert await titles(client, "?q=python") != []


async def test_the_demo_flag_seeds_an_empty_catalog_at_start(tmp_path):
    container = Container.for_settings(test_settings(tmp_path, demo_seed=True))
    async with app_client(container) as client:
        body = (await client.get(f"{API}?q=python")).json()
        assert body["items"] and all(c["status"] == "published" for c in body["items"])
