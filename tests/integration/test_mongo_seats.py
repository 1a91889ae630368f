"""The popularity key the database derives when a seat moves (one update, a pipeline) is the
domain's `popularity_key` of the new count: the catalog's `popular` order rests on it."""

from __future__ import annotations

from ocp.adapters.mongo import ensure_indexes, mongo_stores
from ocp.adapters.mongo.courses import SORT_FIELDS
from ocp.domain.courses import CatalogSort, popularity_key
from tests.contracts.courses import a_course


async def test_the_seat_key_is_popularity_key(mongo_db):
    stores = mongo_stores(mongo_db, login_max_failures=5, login_window_s=60)
    await ensure_indexes(stores)
    course = a_course()
    await stores.courses.add(course)
    field = SORT_FIELDS[CatalogSort.POPULAR]
    for take, count in [(1, 1), (9, 10), (990, 1000), (-1, 999)]:
        if take > 0:
            assert await stores.courses.take_seats(course.id, take)
        else:
            await stores.courses.give_back_seats(course.id, -take)
        doc = await mongo_db["courses"].find_one({"_id": course.id})
        assert doc["enrolled_count"] == count
        assert doc[field] == popularity_key(course.id, count)
