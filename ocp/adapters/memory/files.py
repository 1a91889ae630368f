"""In-memory file store, file records and upload sessions: real implementations with the
same semantics as disk/S3 and MongoDB (the contract suites prove it), for tests."""

from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from typing import Any

from ocp.adapters.storage import byte_range, checked_key
from ocp.application.ports.files import ObjectInfo, PresignedRequest, WrittenObject
from ocp.domain.errors import ChecksumMismatch, Conflict, NotFound, PayloadTooLarge
from ocp.domain.files import FilePurpose, StoredFile, UploadSession

CHUNK = 65_536


class InMemoryFileStore:
    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, datetime]] = {}
        self._appending: dict[str, asyncio.Lock] = {}

    async def append(
        self,
        key: str,
        offset: int,
        content: AsyncIterable[bytes],
        max_size: int,
        sha256: bytes | None = None,
        running: Any | None = None,
    ) -> int:
        lock = self._appending.setdefault(checked_key(key), asyncio.Lock())
        async with lock:
            current = self._objects.get(key, (b"", datetime.now(UTC)))[0]
            if len(current) != offset:
                raise Conflict(f"the upload is at offset {len(current)}, not {offset}")
            digest = hashlib.sha256()
            data = bytearray(current)
            try:
                async for chunk in content:
                    if len(data) + len(chunk) > max_size:
                        raise PayloadTooLarge(f"the upload is {max_size} bytes long")
                    data += chunk
                    digest.update(chunk)
                    if running is not None:
                        running.update(chunk)
            finally:  # what arrived before a failure or a disconnect is kept
                if sha256 is None or digest.digest() == sha256 or len(data) == len(current):
                    self._objects[key] = (bytes(data), datetime.now(UTC))
            if sha256 is not None and digest.digest() != sha256:
                raise ChecksumMismatch("the bytes do not match Upload-Checksum")
            return len(data)

    async def appended(self, key: str) -> int | None:
        found = self._objects.get(checked_key(key))
        return len(found[0]) if found is not None else None

    async def seal(self, key: str) -> None:
        if checked_key(key) not in self._objects:
            raise NotFound("nothing was appended under this key")

    async def write(self, key: str, content: AsyncIterable[bytes], max_bytes: int) -> WrittenObject:
        checked_key(key)
        parts: list[bytes] = []
        size = 0
        digest = hashlib.sha256()
        async for chunk in content:
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"the content is larger than {max_bytes} bytes")
            digest.update(chunk)
            parts.append(bytes(chunk))
        self._objects[key] = (b"".join(parts), datetime.now(UTC))
        return WrittenObject(key, size, digest.hexdigest())

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        found = self._objects.get(checked_key(key))
        if found is None:
            raise NotFound("no such stored object")
        data = found[0]
        first, length = byte_range(len(data), start, end)

        async def chunks() -> AsyncIterator[bytes]:
            for offset in range(first, first + length, CHUNK):
                yield data[offset : min(offset + CHUNK, first + length)]

        return chunks()

    async def stat(self, key: str) -> ObjectInfo | None:
        found = self._objects.get(checked_key(key))
        return ObjectInfo(key, len(found[0]), found[1]) if found else None

    async def move(self, src: str, dst: str) -> None:
        found = self._objects.pop(checked_key(src), None)
        if found is None:
            raise NotFound("no such stored object")
        self._objects[checked_key(dst)] = (found[0], datetime.now(UTC))

    async def delete(self, key: str) -> None:
        self._objects.pop(checked_key(key), None)

    async def list_objects(self) -> AsyncIterator[ObjectInfo]:
        for key, (data, modified_at) in list(self._objects.items()):
            yield ObjectInfo(key, len(data), modified_at)

    async def remove_stale_drafts(self, older_than: datetime) -> int:
        return 0  # a write here is never half visible, and dies with the process

    async def presign_put(self, key: str, ttl_s: int) -> PresignedRequest | None:
        return None

    async def presign_get(
        self, key: str, ttl_s: int, filename: str, content_type: str
    ) -> str | None:
        return None

    async def ready(self) -> bool:
        return True

    def age(self, key: str, modified_at: datetime) -> None:
        """Tests: pretend the object was stored at `modified_at`."""
        data, _ = self._objects[key]
        self._objects[key] = (data, modified_at)


class InMemoryFileRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}

    async def add(self, file: StoredFile) -> None:
        if file.id in self._by_id:
            raise Conflict("a file with this id already exists")
        self._by_id[file.id] = copy.copy(file)

    async def get(self, file_id: str) -> StoredFile | None:
        file = self._by_id.get(file_id)
        return copy.copy(file) if file else None

    async def get_many(self, file_ids: list[str]) -> list[StoredFile]:
        found = (self._by_id.get(file_id) for file_id in dict.fromkeys(file_ids))
        return [copy.copy(file) for file in found if file is not None]

    async def delete(self, file_id: str) -> bool:
        return self._by_id.pop(file_id, None) is not None

    async def list_owned(
        self,
        owner_id: str,
        *,
        purpose: FilePurpose | None,
        course_id: str | None,
        before_id: str | None,
        limit: int,
    ) -> list[StoredFile]:
        found = []
        for file_id in sorted(self._by_id, reverse=True):
            file = self._by_id[file_id]
            if file.owner_id != owner_id or (before_id is not None and file_id >= before_id):
                continue
            if purpose is not None and file.purpose is not purpose:
                continue
            if course_id is not None and file.course_id != course_id:
                continue
            found.append(copy.copy(file))
            if len(found) == limit:
                break
        return found

    async def keys_in_use(self, keys: list[str]) -> set[str]:
        wanted = set(keys)
        return {f.storage_key for f in self._by_id.values() if f.storage_key in wanted}


class InMemoryUploadSessionRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, UploadSession] = {}

    async def add(self, session: UploadSession) -> None:
        if session.id in self._by_id:
            raise Conflict("an upload with this id already exists")
        self._by_id[session.id] = copy.copy(session)

    async def get(self, upload_id: str) -> UploadSession | None:
        session = self._by_id.get(upload_id)
        return copy.copy(session) if session else None

    async def delete(self, upload_id: str) -> bool:
        return self._by_id.pop(upload_id, None) is not None

    async def keys_in_use(self, keys: list[str]) -> set[str]:
        wanted = set(keys)
        return {s.storage_key for s in self._by_id.values() if s.storage_key in wanted}

    async def expired(self, now: datetime, limit: int) -> list[UploadSession]:
        stale = sorted(
            (s for s in self._by_id.values() if s.is_expired(now)), key=lambda s: s.expires_at
        )
        return [copy.copy(s) for s in stale[:limit]]
