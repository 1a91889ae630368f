"""Catalog pages in O(page) on every engine: ranges bounded on both ends.

A sorted page `find(filter).sort(key).limit(n)` is O(page) on MongoDB, which stops walking its
index after n entries, but O(matches) on the embedded database, which reads every entry of an
open range before it sorts and limits (~20 us each: a page of a 100,000-course catalog took
seconds). A range bounded on both ends costs only what it holds, on both.

So each process keeps **fences**: every `SPACING`-th key of each catalog order of the published
courses, read by one index-only scan in the background at start and again every `REBUILD_S`.
A page is read range by range outward from its cursor, each range ending at a fence, the next
one four times wider, until the page is full or the order ends: a page of the whole catalog
reads about `SPACING` entries in one round trip; a filter matching one course in a hundred, a
few round trips of what matches. The ranges tile the order from the cursor to its end without
gap or overlap, so the answer is exactly the unbounded query's, whatever the fences are: they
only bound the cost. Stale fences (courses published, rated, enrolled into since) cost speed,
never correctness, so nothing has to keep them in step across processes.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from ocp.domain.courses import CatalogSort, CourseStatus

log = logging.getLogger("ocp.catalog")

SPACING = 128  # entries between two fences: a page (at most 100 rows) fits in one gap
GROWTH = 4  # each next range spans this many times more gaps
REBUILD_S = 300.0
LOWEST, HIGHEST = "", "\U0010ffff"  # below and above every key


class Fences:
    """Sampled keys of each published catalog order, ascending; empty until built."""

    def __init__(self, fields: dict[CatalogSort, str], *, spacing: int = SPACING) -> None:
        self._fields = fields
        self._spacing = spacing
        self._keys: dict[CatalogSort, list[str]] = {}
        self._task: asyncio.Task[None] | None = None

    def ranges(self, sort: CatalogSort, after: str | None) -> Iterator[tuple[str, str]]:
        """(low, high) key ranges to read in order, from the cursor to the end of the order:
        `low <= key < high` going down (descending orders), `low < key <= high` going up."""
        keys = self._keys.get(sort, [])
        span = 1
        if sort.descending:
            high = after if after is not None else HIGHEST
            at = bisect.bisect_left(keys, high)  # fences below `high`: keys[:at]
            while True:
                at -= span
                low = keys[at] if at >= 0 else LOWEST
                yield low, high
                if low == LOWEST:
                    return
                high, span = low, span * GROWTH
        else:
            low = after if after is not None else LOWEST
            at = bisect.bisect_right(keys, low) - 1  # fences above `low`: keys[at + 1:]
            while True:
                at += span
                high = keys[at] if at < len(keys) else HIGHEST
                yield low, high
                if high == HIGHEST:
                    return
                low, span = high, span * GROWTH

    async def build(self, courses: AsyncCollection[dict[str, Any]]) -> None:
        """Read every order's keys once (covered by its index) and keep every SPACING-th."""
        for sort, field in self._fields.items():
            cursor = (
                courses.find({"status": CourseStatus.PUBLISHED.value}, {field: 1, "_id": 0})
                .sort(field, ASCENDING)
                .batch_size(10_000)
            )
            keys = [doc[field] async for doc in cursor]
            # Counted from where the order starts (the top, for a descending one), so the
            # first page's gap holds a whole SPACING.
            step = self._spacing
            if sort.descending:
                self._keys[sort] = keys[len(keys) - step :: -step][::-1] if keys else []
            else:
                self._keys[sort] = keys[step - 1 :: step]

    def keep_built(self, courses: AsyncCollection[dict[str, Any]]) -> None:
        """Build now and every REBUILD_S in the background, until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._rebuild(courses), name="ocp-catalog-fences")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _rebuild(self, courses: AsyncCollection[dict[str, Any]]) -> None:
        while True:
            try:
                await self.build(courses)
            except PyMongoError as exc:  # the database is away: keep the old fences
                log.warning("catalog fences not rebuilt (%s); pages stay correct", exc)
            await asyncio.sleep(REBUILD_S)
