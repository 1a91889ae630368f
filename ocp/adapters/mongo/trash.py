"""The trash in MongoDB: `trash`, one document per deletion, holding the removed documents
as their own collections store them (so a restore writes them back as they were)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from ocp.adapters.mongo.courses import (
    _course_from_doc,
    _lesson_from_doc,
    _lesson_to_doc,
    course_to_doc,
)
from ocp.adapters.mongo.errors import translate_errors
from ocp.adapters.mongo.learning.assignments import _assignment_from_doc, _assignment_to_doc
from ocp.domain.trash import Trashed, TrashKind, trash_id

Doc = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@translate_errors
class MongoTrashBin:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._trash = db["trash"]

    async def ensure_indexes(self) -> None:
        await self._trash.create_index([("deleted_at", ASCENDING)], name="deleted_at")

    async def put(self, item: Trashed) -> None:
        await self._trash.replace_one({"_id": item.id}, _to_doc(item), upsert=True)

    async def get(self, kind: TrashKind, object_id: str) -> Trashed | None:
        doc = await self._trash.find_one({"_id": trash_id(kind, object_id)})
        return _from_doc(doc) if doc else None

    async def take(self, kind: TrashKind, object_id: str) -> bool:
        done = await self._trash.delete_one({"_id": trash_id(kind, object_id)})
        return done.deleted_count == 1

    async def purge(self, deleted_before: datetime) -> int:
        # Bounded on both ends: the range holds only what is due.
        where = {"deleted_at": {"$gte": EPOCH, "$lt": deleted_before}}
        done = await self._trash.delete_many(where)
        return done.deleted_count


def _to_doc(item: Trashed) -> Doc:
    return {
        "_id": item.id,
        "kind": item.kind.value,
        "object_id": item.object_id,
        "course_id": item.course_id,
        "deleted_at": item.deleted_at,
        "deleted_by": item.deleted_by,
        "course": course_to_doc(item.course) if item.course else None,
        "lessons": [_lesson_to_doc(lesson) for lesson in item.lessons],
        "assignments": [_assignment_to_doc(a) for a in item.assignments],
        "module_id": item.module_id,
        "position": item.position,
        "title": item.title,
        "summary": item.summary,
    }


def _from_doc(doc: Doc) -> Trashed:
    return Trashed(
        kind=TrashKind(doc["kind"]),
        object_id=doc["object_id"],
        course_id=doc["course_id"],
        deleted_at=doc["deleted_at"],
        deleted_by=doc["deleted_by"],
        course=_course_from_doc(doc["course"]) if doc.get("course") else None,
        lessons=[_lesson_from_doc(d) for d in doc.get("lessons") or []],
        assignments=[_assignment_from_doc(d) for d in doc.get("assignments") or []],
        module_id=doc.get("module_id"),
        position=int(doc.get("position", 0)),
        title=doc.get("title", ""),
        summary=doc.get("summary", ""),
    )
