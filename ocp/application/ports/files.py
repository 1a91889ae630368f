"""Ports of files: the byte store (memory, disk, S3), the metadata records, direct-upload
sessions, content sniffing."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ocp.domain.files import FilePurpose, StoredFile, UploadSession


@dataclass(frozen=True, slots=True)
class WrittenObject:
    key: str
    size: int
    sha256: str  # hex


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class PresignedRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class FileStore(Protocol):
    """Bytes under opaque keys (letters, digits, `-` and `_`), never client-chosen names.

    Every method that touches the backend raises `DependencyUnavailable("file store")` when it
    cannot reach it; no driver error crosses.
    """

    async def write(self, key: str, content: AsyncIterable[bytes], max_bytes: int) -> WrittenObject:
        """Store the stream under `key` (replacing it), hashing while it flows. Once more than
        `max_bytes` have arrived: `PayloadTooLarge` at once. On any failure or cancellation
        nothing is left behind and an earlier object under `key` is untouched."""
        ...

    async def append(
        self,
        key: str,
        offset: int,
        content: AsyncIterable[bytes],
        max_size: int,
        sha256: bytes | None = None,
        running: Any | None = None,
    ) -> int:
        """Add `content` to the object `key` (made when `offset` is 0), whose size must be
        `offset` (else `Conflict`), never past `max_size` (`PayloadTooLarge`); the new size.
        What arrives before the client goes away is kept (a resumed upload goes on from
        it). With `sha256`, the added part must hash to it, else it is cut off again and
        `ChecksumMismatch`. `running` (a hashlib object) is fed the bytes as they are
        written. Appends to one key never interleave: one that would is `Conflict`, or waits
        its turn. The appended object may stay unreadable (`stat` None) until `seal`."""
        ...

    async def appended(self, key: str) -> int | None:
        """How many bytes `append` has kept under `key` so far; None when none were."""
        ...

    async def seal(self, key: str) -> None:
        """The appended object becomes a whole object under `key`, read as any other (S3
        completes its multipart upload); no more appends. `NotFound` when nothing was
        appended."""
        ...

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes `start..end` (inclusive; None: to the last) as a stream; `NotFound` when
        there is no such object (checked before the first chunk)."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None: ...

    async def move(self, src: str, dst: str) -> None:
        """Put the object stored under `src` under `dst` (replacing it) and remove `src`, so
        that whatever still writes to `src` (a presigned URL, a PUT in progress) never reaches
        `dst`; `dst` counts as modified now. `NotFound` when there is nothing under `src`."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object, and what appending to it has kept; nothing happens when it is
        not there."""
        ...

    def list_objects(self) -> AsyncIterator[ObjectInfo]:
        """Every stored object, for garbage collection (an object still being appended to
        is listed under its key too)."""
        ...

    async def remove_stale_drafts(self, older_than: datetime) -> int:
        """Remove what writes that never finished left behind (a crashed process's temporary
        files, unfinished multipart uploads) from before `older_than`; how many."""
        ...

    async def presign_put(self, key: str, ttl_s: int) -> PresignedRequest | None:
        """A URL a client may PUT the bytes to directly, or None when this store has none."""
        ...

    async def presign_get(
        self, key: str, ttl_s: int, filename: str, content_type: str
    ) -> str | None:
        """A short-lived download URL, or None when this store has none."""
        ...

    async def ready(self) -> bool: ...


class ContentSniffer(Protocol):
    def sniff(self, head: bytes, complete: bool) -> str | None:
        """The media type the first bytes of a content show (magic numbers), None when they
        show no type we know. `complete` says `head` is the whole content."""
        ...


class FileRepository(Protocol):
    async def add(self, file: StoredFile) -> None:
        """Record a file; `Conflict` when its id is taken."""
        ...

    async def get(self, file_id: str) -> StoredFile | None: ...

    async def get_many(self, file_ids: list[str]) -> list[StoredFile]:
        """The existing files among `file_ids`, in one round trip, in no particular order."""
        ...

    async def delete(self, file_id: str) -> bool:
        """Forget the record; False when there was none."""
        ...

    async def list_owned(
        self,
        owner_id: str,
        *,
        purpose: FilePurpose | None,
        course_id: str | None,
        before_id: str | None,
        limit: int,
    ) -> list[StoredFile]:
        """The owner's files, newest (highest id) first, with ids below `before_id`."""
        ...

    async def keys_in_use(self, keys: list[str]) -> set[str]:
        """Which of these storage keys a record points to, in one round trip."""
        ...


class UploadSessionRepository(Protocol):
    async def add(self, session: UploadSession) -> None: ...

    async def get(self, upload_id: str) -> UploadSession | None: ...

    async def delete(self, upload_id: str) -> bool:
        """Forget the session; True for the one caller that removed it (completion is once)."""
        ...

    async def keys_in_use(self, keys: list[str]) -> set[str]: ...

    async def expired(self, now: datetime, limit: int) -> list[UploadSession]: ...
