"""MongoDB `rate_limits`: one document per key and fixed window, counted with one atomic
`$inc` (an insert for the window's first hit), so every process shares the budget; a TTL
index drops ended windows.

Not the `limits` library's MongoDB storage: that one drives motor (superseded by pymongo's
own async API, which OCP uses) through a second client and connection pool of its own, and
a fixed-window counter is one command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ocp.adapters.mongo.errors import translate_errors


@translate_errors
class MongoRateCounter:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._windows = db["rate_limits"]

    async def ensure_indexes(self) -> None:
        await self._windows.create_index("expires_at", expireAfterSeconds=0, name="expiry")

    async def hit(self, key: str, window_s: int, now: datetime) -> tuple[int, datetime]:
        window = int(now.timestamp()) // window_s
        ends = datetime.fromtimestamp((window + 1) * window_s, tz=UTC)
        slot = f"{key}:{window_s}:{window}"
        # Increment, else create: the unique _id lets one first hit create the window and
        # every other one count on it. (An upsert would do both at once, but concurrent
        # upserts of one _id lose counts on some engines; measured on SecantusDB.)
        while True:
            doc = await self._windows.find_one_and_update(
                {"_id": slot},
                {"$inc": {"count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return int(doc["count"]), ends
            try:
                await self._windows.insert_one({"_id": slot, "count": 1, "expires_at": ends})
                return 1, ends
            except DuplicateKeyError:
                continue  # another first hit created it: count on it
