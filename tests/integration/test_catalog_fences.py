"""Catalog pages read between fences (ocp/adapters/mongo/catalog.py) on SecantusDB: the same
pages as the unbounded query, in every order and filter, with fresh fences and with stale
ones, and every page query an index scan bounded on both ends."""

from __future__ import annotations

import itertools

import pytest

from ocp.adapters.mongo.catalog import Fences
from ocp.adapters.mongo.courses import SORT_FIELDS, MongoCourseRepository, catalog_filter
from ocp.domain.courses import CatalogFilter, CatalogQuery, CatalogSort
from tests.contracts.courses import a_course

FILTERS = [None, ["tag:even"], CatalogFilter(query="pyth").terms(), ["tag:rare"]]


async def walk(repo: MongoCourseRepository, sort: CatalogSort, terms, limit=7) -> list[str]:
    seen, after = [], None
    while True:
        rows = await repo.search(
            CatalogQuery(sort=sort, limit=limit, terms=terms or [], after=after)
        )
        seen += [row.course.id for row in rows]
        if len(rows) < limit:
            return seen
        after = rows[-1].key


async def seed(repo: MongoCourseRepository, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        tags = ["even" if n % 2 == 0 else "odd"] + (["rare"] if n % 97 == 0 else [])
        title = f"{'Python' if n % 3 == 0 else 'Rust'} course {n % 17}"
        await repo.add(a_course(title, published=n * 7 % 500, tags=tags))


@pytest.fixture
async def repos(mongo_db):
    fenced = MongoCourseRepository(mongo_db)
    fenced.fences = Fences(SORT_FIELDS, spacing=8)
    await fenced.ensure_indexes()
    plain = MongoCourseRepository(mongo_db)  # no fences: one open range, as before
    await seed(fenced, 240)
    await fenced.build_fences()
    return fenced, plain


@pytest.mark.parametrize("sort", list(CatalogSort))
async def test_pages_between_fences_are_the_unbounded_pages(repos, sort):
    fenced, plain = repos
    for terms in FILTERS:
        expected = await walk(plain, sort, terms)
        assert expected, terms
        assert await walk(fenced, sort, terms) == expected, terms
        assert len(set(expected)) == len(expected)


async def test_stale_fences_cost_speed_never_correctness(repos):
    fenced, plain = repos
    await seed(fenced, 60, start=1000)  # published since the fences were read
    moved = [row.course.id for row in await plain.search(CatalogQuery(CatalogSort.NEWEST, 30))]
    for course_id in moved[::3]:
        await fenced.take_seats(course_id, 1)
        await fenced.add_rating(course_id, 5, 1)
    for sort, terms in itertools.product(CatalogSort, FILTERS):
        assert await walk(fenced, sort, terms, limit=11) == await walk(plain, sort, terms, 11)


async def test_a_page_query_is_an_index_scan_bounded_on_both_ends(repos, mongo_db):
    fenced, _ = repos
    for sort, terms in itertools.product(CatalogSort, [[], ["tag:even"]]):
        query = CatalogQuery(sort=sort, limit=20, terms=terms)
        where, order, _ = catalog_filter(query)
        low, high = next(iter(fenced.fences.ranges(sort, None)))
        field = SORT_FIELDS[sort]
        where[field] = {"$gte": low, "$lt": high} if sort.descending else {"$gt": low, "$lte": high}
        plan = str(
            (await mongo_db["courses"].find(where).sort(order).limit(20).explain())["queryPlanner"][
                "winningPlan"
            ]
        )
        assert "IXSCAN" in plan and "COLLSCAN" not in plan, (sort, terms, plan)
