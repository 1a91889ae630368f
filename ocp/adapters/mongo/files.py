"""MongoDB file records (`files`) and direct-upload sessions (`upload_sessions`), so any API
worker can read a file or complete an upload another one started."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ocp.adapters.mongo.errors import translate_errors
from ocp.domain.errors import Conflict
from ocp.domain.files import FilePurpose, StoredFile, UploadSession

Doc = dict[str, Any]


def _file_to_doc(file: StoredFile) -> Doc:
    return {
        "_id": file.id,
        "owner_id": file.owner_id,
        "purpose": file.purpose.value,
        "filename": file.filename,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "storage_key": file.storage_key,
        "course_id": file.course_id,
        "created_at": file.created_at,
    }


def _file_from_doc(doc: Doc) -> StoredFile:
    return StoredFile(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        purpose=FilePurpose(doc["purpose"]),
        filename=doc["filename"],
        content_type=doc["content_type"],
        size=doc["size"],
        sha256=doc["sha256"],
        storage_key=doc["storage_key"],
        course_id=doc.get("course_id"),
        created_at=doc["created_at"],
    )


@translate_errors
class MongoFileRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._files = db["files"]

    async def ensure_indexes(self) -> None:
        await self._files.create_index(
            [("owner_id", ASCENDING), ("_id", DESCENDING)], name="owner_id"
        )
        await self._files.create_index(
            [("owner_id", ASCENDING), ("purpose", ASCENDING), ("_id", DESCENDING)],
            name="owner_purpose_id",
        )
        await self._files.create_index(
            [("owner_id", ASCENDING), ("course_id", ASCENDING), ("_id", DESCENDING)],
            name="owner_course_id",
        )
        await self._files.create_index("storage_key", unique=True, name="storage_key_1")

    async def add(self, file: StoredFile) -> None:
        try:
            await self._files.insert_one(_file_to_doc(file))
        except DuplicateKeyError:
            raise Conflict("a file with this id already exists") from None

    async def get(self, file_id: str) -> StoredFile | None:
        doc = await self._files.find_one({"_id": file_id})
        return _file_from_doc(doc) if doc else None

    async def get_many(self, file_ids: list[str]) -> list[StoredFile]:
        if not file_ids:
            return []
        cursor = self._files.find({"_id": {"$in": list(dict.fromkeys(file_ids))}})
        return [_file_from_doc(doc) async for doc in cursor]

    async def delete(self, file_id: str) -> bool:
        return (await self._files.delete_one({"_id": file_id})).deleted_count == 1

    async def list_owned(
        self,
        owner_id: str,
        *,
        purpose: FilePurpose | None,
        course_id: str | None,
        before_id: str | None,
        limit: int,
    ) -> list[StoredFile]:
        where: Doc = {"owner_id": owner_id}
        if purpose is not None:
            where["purpose"] = purpose.value
        if course_id is not None:
            where["course_id"] = course_id
        if before_id is not None:
            where["_id"] = {"$lt": before_id}
        cursor = self._files.find(where).sort("_id", DESCENDING).limit(limit)
        return [_file_from_doc(doc) async for doc in cursor]

    async def keys_in_use(self, keys: list[str]) -> set[str]:
        cursor = self._files.find({"storage_key": {"$in": keys}}, {"storage_key": 1})
        return {doc["storage_key"] async for doc in cursor}


def _session_to_doc(session: UploadSession) -> Doc:
    return {
        "_id": session.id,
        "owner_id": session.owner_id,
        "purpose": session.purpose.value,
        "filename": session.filename,
        "size": session.size,
        "declared_type": session.declared_type,
        "storage_key": session.storage_key,
        "token_hash": session.token_hash,
        "course_id": session.course_id,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
    }


def _session_from_doc(doc: Doc) -> UploadSession:
    return UploadSession(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        purpose=FilePurpose(doc["purpose"]),
        filename=doc["filename"],
        size=doc["size"],
        declared_type=doc["declared_type"],
        storage_key=doc["storage_key"],
        token_hash=doc["token_hash"],
        course_id=doc.get("course_id"),
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
    )


@translate_errors
class MongoUploadSessionRepository:
    """No TTL index: `ocp files gc` removes expired sessions together with their objects."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._sessions = db["upload_sessions"]

    async def ensure_indexes(self) -> None:
        await self._sessions.create_index("expires_at", name="expires_at_1")
        await self._sessions.create_index("storage_key", name="storage_key_1")

    async def add(self, session: UploadSession) -> None:
        try:
            await self._sessions.insert_one(_session_to_doc(session))
        except DuplicateKeyError:
            raise Conflict("an upload with this id already exists") from None

    async def get(self, upload_id: str) -> UploadSession | None:
        doc = await self._sessions.find_one({"_id": upload_id})
        return _session_from_doc(doc) if doc else None

    async def delete(self, upload_id: str) -> bool:
        return (await self._sessions.delete_one({"_id": upload_id})).deleted_count == 1

    async def keys_in_use(self, keys: list[str]) -> set[str]:
        cursor = self._sessions.find({"storage_key": {"$in": keys}}, {"storage_key": 1})
        return {doc["storage_key"] async for doc in cursor}

    async def expired(self, now: datetime, limit: int) -> list[UploadSession]:
        cursor = (
            self._sessions.find({"expires_at": {"$lte": now}})
            .sort("expires_at", ASCENDING)
            .limit(limit)
        )
        return [_session_from_doc(doc) async for doc in cursor]
