"""The audit trail in MongoDB: `audit`, one document per entry, its id the event's (so a
retried append writes nothing twice). No TTL: the trail outlives the events' retention."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from ocp.adapters.mongo.errors import translate_errors
from ocp.domain.audit import AuditEntry

Doc = dict[str, Any]
_DUPLICATE = 11000


@translate_errors
class MongoAuditLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._audit = db["audit"]

    async def ensure_indexes(self) -> None:
        # Equality on the filter, then the newest-first sort on _id.
        for name in ("actor_id", "target_id", "action"):
            await self._audit.create_index([(name, ASCENDING), ("_id", DESCENDING)], name=name)

    async def append(self, entries: list[AuditEntry]) -> None:
        if not entries:
            return
        try:
            await self._audit.insert_many([_to_doc(e) for e in entries], ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != _DUPLICATE for e in exc.details.get("writeErrors", [])):
                raise

    async def list_before(
        self,
        *,
        actor_id: str | None,
        target_id: str | None,
        action: str | None,
        before_id: str | None,
        limit: int,
    ) -> list[AuditEntry]:
        where: Doc = {}
        for name, value in (("actor_id", actor_id), ("target_id", target_id), ("action", action)):
            if value is not None:
                where[name] = value
        if before_id is not None:
            where["_id"] = {"$lt": before_id}
        cursor = self._audit.find(where).sort("_id", DESCENDING).limit(limit)
        return [_from_doc(doc) async for doc in cursor]


def _to_doc(entry: AuditEntry) -> Doc:
    return {
        "_id": entry.id,
        "at": entry.at,
        "action": entry.action,
        "actor_id": entry.actor_id,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "changes": entry.changes,
        "request_id": entry.request_id,
    }


def _from_doc(doc: Doc) -> AuditEntry:
    return AuditEntry(
        id=doc["_id"],
        at=doc["at"],
        action=doc["action"],
        actor_id=doc.get("actor_id"),
        target_type=doc["target_type"],
        target_id=doc["target_id"],
        changes=dict(doc.get("changes") or {}),
        request_id=doc.get("request_id"),
    )
