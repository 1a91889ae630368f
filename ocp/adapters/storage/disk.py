"""The local disk store: objects under `<root>/objects/<aa>/<bb>/<key>`, sharded by a hash of the
key (ids are time-ordered, so their own first characters would pile into one folder).

A write goes to `<root>/tmp/`, is fsynced, then renamed into place: a crash or a client
that disconnects leaves no partial object visible. Every blocking call runs in a worker
thread, in batches of about a megabyte so the thread hops stay cheap.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import anyio.to_thread

from ocp.adapters.storage import batches, byte_range, checked_key
from ocp.application.ports.common import DependencyUnavailable
from ocp.application.ports.files import ObjectInfo, PresignedRequest, WrittenObject
from ocp.domain.errors import ChecksumMismatch, Conflict, NotFound

FLUSH_BYTES = 4 << 20
READ_BYTES = 1 << 20


class DiskFileStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._objects = root / "objects"
        self._tmp = root / "tmp"
        self._made = False

    def _path(self, key: str) -> Path:
        shard = hashlib.sha256(checked_key(key).encode()).hexdigest()
        return self._objects / shard[:2] / shard[2:4] / key

    def _ensure_dirs(self) -> None:
        if not self._made:
            self._objects.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
            self._made = True

    async def write(self, key: str, content: AsyncIterable[bytes], max_bytes: int) -> WrittenObject:
        final = self._path(key)
        draft = self._tmp / f"{key}.{secrets.token_hex(8)}.part"
        digest = hashlib.sha256()
        try:
            handle = await anyio.to_thread.run_sync(self._open_draft, draft)
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc
        done = False
        try:
            size = await _pipe(content, handle, digest, max_bytes)
            await anyio.to_thread.run_sync(_seal, handle, draft, final)
            done = True
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc
        finally:
            if not done:
                # Also on cancellation (a client gone mid-upload): remove the draft, shielded
                # so the clean-up itself is not cancelled.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(_discard, handle, draft)
        return WrittenObject(key, size, digest.hexdigest())

    def _open_draft(self, draft: Path) -> BinaryIO:
        self._ensure_dirs()
        return open(draft, "xb", buffering=0)

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await anyio.to_thread.run_sync(_open_at, path, start)
        except FileNotFoundError:
            raise NotFound("no such stored object") from None
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc
        size = os.fstat(handle.fileno()).st_size
        _, length = byte_range(size, start, end)

        async def chunks() -> AsyncIterator[bytes]:
            left = length
            try:
                while left > 0:
                    data = await anyio.to_thread.run_sync(handle.read, min(READ_BYTES, left))
                    if not data:
                        break
                    left -= len(data)
                    yield data
            finally:
                handle.close()

        return chunks()

    async def append(
        self,
        key: str,
        offset: int,
        content: AsyncIterable[bytes],
        max_size: int,
        sha256: bytes | None = None,
        running: Any | None = None,
    ) -> int:
        """Appends in place (an unfinished upload is no file yet: nothing reads it), under an
        exclusive lock of the file, so two processes never interleave."""
        path = self._path(key)
        try:
            handle = await anyio.to_thread.run_sync(self._open_locked, path)
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc
        current = os.fstat(handle.fileno()).st_size
        if current != offset:  # before the settling below, which would cut to `offset`
            handle.close()  # and with it the lock
            raise Conflict(f"the upload is at offset {current}, not {offset}")
        digest = hashlib.sha256()
        size = offset
        try:
            # In batches of a few MiB (one thread hop each, hashed beside the write), as
            # `write` does; a batch not yet full when the client goes away is not kept.
            room = max_size - offset
            async for batch in batches(content, max_bytes=room, batch_bytes=FLUSH_BYTES):
                async with anyio.create_task_group() as both:
                    if sha256 is not None:
                        both.start_soon(anyio.to_thread.run_sync, _hash, digest, batch)
                    if running is not None:
                        both.start_soon(anyio.to_thread.run_sync, _hash, running, batch)
                    await anyio.to_thread.run_sync(_write, handle, batch)
                size += sum(map(len, batch))
            if sha256 is not None and digest.digest() != sha256:
                raise ChecksumMismatch("the bytes do not match Upload-Checksum")
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc
        finally:
            # A part that cannot be checked any more (a mismatch, or a client gone with a
            # checksum pending) is cut off again; else what arrived is kept.
            keep = size if sha256 is None or digest.digest() == sha256 else offset
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_settle_append, handle, keep)
        return size

    async def appended(self, key: str) -> int | None:
        info = await self.stat(key)
        return info.size if info is not None else None

    async def seal(self, key: str) -> None:
        """Appended bytes are a file already; its parts were never synced (the offset a client
        resumes from is whatever a crash kept): synced once here, with its directory, before
        the file is recorded."""
        path = self._path(key)
        try:
            await anyio.to_thread.run_sync(_sync, path)
        except FileNotFoundError:
            raise NotFound("nothing was appended under this key") from None
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc

    def _open_locked(self, path: Path) -> BinaryIO:
        self._ensure_dirs()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "ab", buffering=0)
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        return handle

    async def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            st = await anyio.to_thread.run_sync(os.stat, path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc
        return ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    async def move(self, src: str, dst: str) -> None:
        source, target = self._path(src), self._path(dst)
        try:
            await anyio.to_thread.run_sync(_move, source, target)
        except FileNotFoundError:
            raise NotFound("no such stored object") from None
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc

    async def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc

    async def list_objects(self) -> AsyncIterator[ObjectInfo]:
        shards = await anyio.to_thread.run_sync(_shard_dirs, self._objects)
        for shard in shards:
            found = await anyio.to_thread.run_sync(_entries, shard)
            for info in found:
                yield info

    async def presign_put(self, key: str, ttl_s: int) -> PresignedRequest | None:
        return None

    async def presign_get(
        self, key: str, ttl_s: int, filename: str, content_type: str
    ) -> str | None:
        return None

    async def ready(self) -> bool:
        def probe() -> bool:
            self._ensure_dirs()
            return os.access(self._tmp, os.W_OK) and os.access(self._objects, os.W_OK)

        try:
            return await anyio.to_thread.run_sync(probe)
        except OSError:
            return False

    async def remove_stale_drafts(self, older_than: datetime) -> int:
        """Drafts a crashed process left in tmp/ (never visible as objects)."""

        def sweep() -> int:
            removed = 0
            for draft in self._tmp.glob("*.part") if self._tmp.exists() else []:
                if datetime.fromtimestamp(draft.stat().st_mtime, UTC) < older_than:
                    draft.unlink(missing_ok=True)
                    removed += 1
            return removed

        try:
            return await anyio.to_thread.run_sync(sweep)
        except OSError as exc:
            raise DependencyUnavailable("file store") from exc


async def _pipe(
    content: AsyncIterable[bytes], handle: BinaryIO, digest: Any, max_bytes: int
) -> int:
    """Receive and write at once: a worker thread hashes and writes one batch (hashlib and
    write release the GIL) while the event loop receives the next; at most two batches wait
    in memory, so memory does not grow with the content."""
    send, receive = anyio.create_memory_object_stream[list[bytes]](1)

    async def writer() -> None:
        with receive:
            async for batch in receive:
                # Hash and write side by side: both release the GIL, so two cores share them.
                async with anyio.create_task_group() as both:
                    both.start_soon(anyio.to_thread.run_sync, _hash, digest, batch)
                    await anyio.to_thread.run_sync(_write, handle, batch)

    size = 0
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(writer)
            with send:
                async for batch in batches(content, max_bytes=max_bytes, batch_bytes=FLUSH_BYTES):
                    size += sum(map(len, batch))
                    await send.send(batch)
    except BaseExceptionGroup as errors:
        # One failure at a time here (the stream's or the writer's): pass it on as itself.
        first: BaseException = errors
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return size


def _hash(digest: Any, batch: list[bytes]) -> None:
    for chunk in batch:
        digest.update(chunk)


def _write(handle: BinaryIO, batch: list[bytes]) -> None:
    if len(batch) > 256:  # many small chunks: one buffer (writev takes at most IOV_MAX)
        batch = [b"".join(batch)]
    fd = handle.fileno()
    pending = [memoryview(chunk) for chunk in batch]
    while pending:
        written = os.writev(fd, pending)
        while pending and written >= len(pending[0]):
            written -= len(pending[0])
            pending.pop(0)
        if pending and written:
            pending[0] = pending[0][written:]


def _seal(handle: BinaryIO, draft: Path, final: Path) -> None:
    os.fsync(handle.fileno())
    handle.close()
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(draft, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def _sync(path: Path) -> None:
    for target in (path, path.parent):
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _move(source: Path, target: Path) -> None:
    # A rename is atomic: a late write to `source` renames a new file there, never into
    # `target`. The fresh mtime keeps `ocp files gc` off it until it is recorded.
    target.parent.mkdir(parents=True, exist_ok=True)
    synced = os.open(source, os.O_RDONLY)  # appended in parts, never synced yet (no-op else)
    try:
        os.fsync(synced)
    finally:
        os.close(synced)
    os.replace(source, target)
    os.utime(target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _discard(handle: BinaryIO, draft: Path) -> None:
    handle.close()
    draft.unlink(missing_ok=True)


def _settle_append(handle: BinaryIO, keep: int) -> None:
    # No fsync per part: the offset a client resumes from is the file's size, whatever a
    # crash kept; the whole file is synced once, when it is moved to become a file (_move).
    try:
        if os.fstat(handle.fileno()).st_size > keep:
            handle.truncate(keep)
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _open_at(path: Path, start: int) -> BinaryIO:
    handle = open(path, "rb", buffering=0)
    handle.seek(start)
    return handle


def _shard_dirs(objects: Path) -> list[Path]:
    if not objects.exists():
        return []
    return sorted(d for outer in objects.iterdir() if outer.is_dir() for d in outer.iterdir())


def _entries(shard: Path) -> list[ObjectInfo]:
    found = []
    for entry in os.scandir(shard):
        if entry.is_file():
            st = entry.stat()
            found.append(
                ObjectInfo(entry.name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))
            )
    return found
