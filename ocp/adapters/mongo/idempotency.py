"""MongoDB `idempotency_keys`: one document per (user, key), `_id` the scope, so the unique
`_id` index decides which of many concurrent first requests runs; a TTL index forgets each
24 hours after it began."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import Binary
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ocp.adapters.mongo.errors import translate_errors
from ocp.application.ports.idempotency import KeyedResponse

Doc = dict[str, Any]


def _from(doc: Doc) -> KeyedResponse:
    return KeyedResponse(
        scope=doc["_id"],
        body_hash=doc["body_hash"],
        started_at=doc["started_at"],
        expires_at=doc["expires_at"],
        status=doc.get("status"),
        headers=[(k, v) for k, v in doc.get("headers", [])],
        body=bytes(doc.get("body", b"")),
    )


@translate_errors
class MongoIdempotencyStore:
    def __init__(self, db: AsyncDatabase[Doc], running_lease_s: float = 3600.0) -> None:
        self._records = db["idempotency_keys"]
        self._lease = timedelta(seconds=running_lease_s)

    async def ensure_indexes(self) -> None:
        await self._records.create_index("expires_at", expireAfterSeconds=0, name="expiry")

    async def begin(self, record: KeyedResponse, now: datetime) -> KeyedResponse | None:
        doc = {
            "_id": record.scope,
            "body_hash": record.body_hash,
            "started_at": record.started_at,
            "expires_at": record.expires_at,
            "status": None,
        }
        try:
            await self._records.insert_one(doc)
            return None
        except DuplicateKeyError:
            pass
        # Taken: still alive, or expired (the TTL monitor runs once a minute) / abandoned by a
        # dead process, in which case this request takes it over in one conditional replace.
        stale = {
            "_id": record.scope,
            "$or": [
                {"expires_at": {"$lte": now}},
                {"status": None, "started_at": {"$lte": now - self._lease}},
            ],
        }
        taken_over = await self._records.replace_one(stale, doc)
        if taken_over.modified_count == 1:
            return None
        found = await self._records.find_one({"_id": record.scope})
        if found is None:  # forgotten meanwhile (its first request failed): try once more
            try:
                await self._records.insert_one(doc)
            except DuplicateKeyError:
                again = await self._records.find_one({"_id": record.scope})
                return _from(again) if again else None
            return None
        return _from(found)

    async def finish(self, record: KeyedResponse) -> None:
        await self._records.update_one(
            {"_id": record.scope},
            {
                "$set": {
                    "body_hash": record.body_hash,
                    "status": record.status,
                    "headers": [list(h) for h in record.headers],
                    "body": Binary(record.body),
                }
            },
        )

    async def forget(self, scope: str) -> None:
        await self._records.delete_one({"_id": scope, "status": None})
