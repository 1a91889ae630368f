"""MongoDB `rate_limits`: one document per key and fixed window, counted with one atomic
upserting `$inc`, so every process shares the budget; a TTL index drops ended windows.

Not the `limits` library's MongoDB storage: that one drives motor (superseded by pymongo's
own async API, which OCP uses) through a second client and connection pool of its own, and
a fixed-window counter is this one command."""

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
        slot = {"_id": f"{key}:{window_s}:{window}"}
        for _ in range(3):
            try:
                doc = await self._windows.find_one_and_update(
                    slot,
                    {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": ends}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:  # two first hits of a window upserted at once: again
                continue
            if doc is not None:
                return int(doc["count"]), ends
        # Some engines answer a racing upsert with nothing: the count is there, read it.
        doc = await self._windows.find_one(slot)
        return (int(doc["count"]) if doc else 1), ends
