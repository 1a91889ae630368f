"""Files use cases: receive and record uploads, direct uploads, reading under the purpose's
rules, deletion, garbage collection."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from ocp.application.files.access import NoCourses, NothingUsesFiles
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.files import (
    ContentSniffer,
    CourseAccess,
    CourseRelation,
    FileRepository,
    FileStore,
    FileUsage,
    PresignedRequest,
    UploadSessionRepository,
)
from ocp.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RuleViolated,
)
from ocp.domain.files import (
    FilePurpose,
    StoredFile,
    UploadSession,
    check_content_type,
    check_course,
    purpose_of,
    sanitize_filename,
)
from ocp.domain.users import User

HEAD_BYTES = 16_384  # what the sniffer sees: enough for magic numbers and a ZIP's first names


@dataclass(frozen=True, slots=True)
class FilePolicy:
    max_upload_bytes: int = 2_147_483_648
    direct_upload_ttl_s: int = 3_600
    presign_ttl_s: int = 300
    redirect_downloads: bool = False
    gc_grace_s: int = 3_600  # objects younger than this may belong to an upload in flight


@dataclass(frozen=True, slots=True)
class Received:
    """Content stored under a fresh key, not yet recorded (the form may still be arriving)."""

    file_id: str
    storage_key: str
    size: int
    sha256: str
    head: bytes


@dataclass(frozen=True, slots=True)
class NewFile:
    filename: str
    purpose: str
    course_id: str | None = None


@dataclass(frozen=True, slots=True)
class DirectUploadRequest:
    filename: str
    size: int
    content_type: str
    purpose: str
    course_id: str | None = None


@dataclass(frozen=True, slots=True)
class DirectUploadTicket:
    """Where to send the bytes: `presigned` when the store takes them itself, else the API's
    own URL carrying `token` (the router builds it)."""

    session: UploadSession
    token: str
    presigned: PresignedRequest | None


@dataclass(frozen=True, slots=True)
class GcReport:
    objects_removed: int
    sessions_removed: int


class _HeadKeeper:
    """Passes a stream through, keeping its first bytes for the sniffer."""

    def __init__(self, content: AsyncIterable[bytes]) -> None:
        self._content = content
        self.head = b""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._content:
            if len(self.head) < HEAD_BYTES:
                self.head += chunk[: HEAD_BYTES - len(self.head)]
            yield chunk


class FileService:
    def __init__(
        self,
        *,
        files: FileRepository,
        uploads: UploadSessionRepository,
        store: FileStore,
        sniffer: ContentSniffer,
        clock: Clock,
        ids: IdGenerator,
        policy: FilePolicy,
        courses: CourseAccess | None = None,
        usage: FileUsage | None = None,
    ) -> None:
        self._files = files
        self._uploads = uploads
        self._store = store
        self._sniffer = sniffer
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._courses = courses or NoCourses()
        self._usage = usage or NothingUsesFiles()

    @property
    def max_upload_bytes(self) -> int:
        return self._policy.max_upload_bytes

    # --- uploads through the API ---------------------------------------------------------

    async def receive(self, actor: User, content: AsyncIterable[bytes]) -> Received:
        """Stream content into the store under a new id; `PayloadTooLarge` as soon as it passes
        the limit. Nothing is recorded yet: `record` or `discard` must follow."""
        file_id = self._ids.new_id()
        kept = _HeadKeeper(content)
        written = await self._store.write(file_id, kept, self._policy.max_upload_bytes)
        return Received(file_id, written.key, written.size, written.sha256, kept.head)

    async def record(self, actor: User, received: Received, new: NewFile) -> StoredFile:
        """Check the received content against its purpose and record it; on any refusal the
        stored content is removed again."""
        try:
            purpose = purpose_of(new.purpose)
            await self._check_may_upload(actor, purpose, new.course_id)
            content_type = check_content_type(
                purpose, self._sniffer.sniff(received.head, received.size <= len(received.head))
            )
            file = StoredFile(
                id=received.file_id,
                owner_id=actor.id,
                purpose=purpose,
                filename=sanitize_filename(new.filename),
                content_type=content_type,
                size=received.size,
                sha256=received.sha256,
                storage_key=received.storage_key,
                created_at=self._clock.now(),
                course_id=new.course_id or None,
            )
            await self._files.add(file)
        except Exception:
            await self.discard(received)
            raise
        return file

    async def discard(self, received: Received) -> None:
        await self._store.delete(received.storage_key)

    async def _check_may_upload(
        self, actor: User, purpose: FilePurpose, course_id: str | None
    ) -> None:
        check_course(purpose, course_id)
        if not course_id:  # an empty form field or JSON string means no course
            return
        relation = await self._courses.relation(course_id, actor)
        needed = (
            CourseRelation.STUDENT if purpose is FilePurpose.SUBMISSION else CourseRelation.STAFF
        )
        if relation < needed:
            raise RuleViolated(
                f"is not a course where you may upload {purpose.value} files", field="course_id"
            )

    # --- direct uploads ------------------------------------------------------------------

    async def start_direct_upload(
        self, actor: User, request: DirectUploadRequest
    ) -> DirectUploadTicket:
        purpose = purpose_of(request.purpose)
        if request.size > self._policy.max_upload_bytes:
            raise PayloadTooLarge(f"files may be at most {self._policy.max_upload_bytes} bytes")
        if request.size < 0:
            raise RuleViolated("must not be negative", field="size")
        await self._check_may_upload(actor, purpose, request.course_id)
        now = self._clock.now()
        upload_id = self._ids.new_id()
        token = secrets.token_urlsafe(32)
        session = UploadSession(
            id=upload_id,
            owner_id=actor.id,
            purpose=purpose,
            filename=sanitize_filename(request.filename),
            size=request.size,
            declared_type=request.content_type,
            storage_key=f"up-{upload_id}",
            token_hash=_hash_token(token),
            created_at=now,
            expires_at=now + timedelta(seconds=self._policy.direct_upload_ttl_s),
            course_id=request.course_id or None,
        )
        presigned = await self._store.presign_put(
            session.storage_key, self._policy.direct_upload_ttl_s
        )
        await self._uploads.add(session)
        return DirectUploadTicket(session, token, presigned)

    async def receive_direct(
        self, upload_id: str, token: str, content: AsyncIterable[bytes]
    ) -> None:
        """The bytes of a direct upload sent to the API's own URL, authorized by the upload's
        token; at most the announced size is accepted."""
        session = await self._uploads.get(upload_id)
        if (
            session is None
            or not hmac.compare_digest(session.token_hash, _hash_token(token))
            or session.is_expired(self._clock.now())
        ):
            raise NotFound("no such upload, or it has expired")
        await self._store.write(session.storage_key, content, session.size)

    async def complete_direct_upload(self, actor: User, upload_id: str) -> StoredFile:
        """Check what arrived and record it. The bytes are first moved to the file's own key,
        which no upload URL points at, and checked there: a presigned PUT still valid, or a
        slow PUT finishing later, can only replace the discarded staging object, never the
        bytes that were checked, hashed and recorded."""
        session = await self._uploads.get(upload_id)
        if session is None or session.owner_id != actor.id or session.is_expired(self._clock.now()):
            raise NotFound("no such upload, or it has expired")
        if await self._store.stat(session.storage_key) is None:
            raise Conflict("nothing has arrived for this upload yet")
        key = session.id  # the file's id, as for uploads through the API
        try:
            await self._store.move(session.storage_key, key)
        except NotFound:
            raise NotFound("no such upload") from None  # a concurrent completion took it
        try:
            file = await self._checked_arrival(session, key)
        except DomainError:
            await self._store.delete(key)
            await self._uploads.delete(session.id)
            raise
        try:
            await self._files.add(file)  # before the session goes: a failure here can be retried
        except Conflict:
            raise NotFound("no such upload") from None
        await self._uploads.delete(session.id)
        return file

    async def _checked_arrival(self, session: UploadSession, key: str) -> StoredFile:
        info = await self._store.stat(key)
        size = info.size if info is not None else 0
        if size != session.size:
            raise Conflict(
                f"{size} bytes arrived where {session.size} were announced; upload again"
            )
        head = b""
        digest = hashlib.sha256()
        async for chunk in await self._store.open(key):
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            digest.update(chunk)
        content_type = check_content_type(
            session.purpose, self._sniffer.sniff(head, size <= len(head))
        )
        return StoredFile(
            id=session.id,
            owner_id=session.owner_id,
            purpose=session.purpose,
            filename=session.filename,
            content_type=content_type,
            size=size,
            sha256=digest.hexdigest(),
            storage_key=key,
            created_at=self._clock.now(),
            course_id=session.course_id,
        )

    # --- reading -------------------------------------------------------------------------

    async def list_files(
        self,
        actor: User,
        *,
        purpose: FilePurpose | None = None,
        course_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page[StoredFile]:
        before = decode_cursor(cursor, (str,))
        rows = await self._files.list_owned(
            actor.id,
            purpose=purpose,
            course_id=course_id,
            before_id=str(before[0]) if before else None,
            limit=limit + 1,
        )
        return page_of(rows, limit, lambda file: (file.id,))

    async def get_file(self, actor: User | None, file_id: str) -> StoredFile:
        """The file if the actor may read it; `NotFound` otherwise, so existence never leaks."""
        file = await self._files.get(file_id)
        if file is None or not await self._may_read(actor, file):
            raise NotFound("no such file")
        return file

    async def _may_read(self, actor: User | None, file: StoredFile) -> bool:
        if actor is not None and (actor.is_admin or file.is_owned_by(actor.id)):
            return True
        if file.purpose is FilePurpose.AVATAR:
            return True
        if file.course_id is None:
            return False
        relation = await self._courses.relation(file.course_id, actor)
        if file.purpose is FilePurpose.COURSE_COVER:
            return relation >= CourseRelation.VISITOR
        if file.purpose is FilePurpose.LESSON_MATERIAL:
            return relation >= CourseRelation.STUDENT or (
                relation >= CourseRelation.VISITOR
                and await self._courses.is_preview_material(file.course_id, file.id)
            )
        return relation >= CourseRelation.STAFF

    async def content(
        self, file: StoredFile, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The bytes of a file already read through `get_file`."""
        return await self._store.open(file.storage_key, start, end)

    async def download_url(self, file: StoredFile) -> str | None:
        """A short-lived URL of the store itself when downloads redirect there, else None."""
        if not self._policy.redirect_downloads:
            return None
        return await self._store.presign_get(
            file.storage_key, self._policy.presign_ttl_s, file.filename, file.content_type
        )

    # --- deletion and garbage collection -------------------------------------------------

    async def delete_file(self, actor: User, file_id: str) -> None:
        file = await self._files.get(file_id)
        if file is None or not (actor.is_admin or file.is_owned_by(actor.id)):
            if file is not None and await self._may_read(actor, file):
                raise PermissionDenied("only the owner or an admin may delete a file")
            raise NotFound("no such file")
        reason = await self._usage.in_use_by(file)
        if reason is not None:
            raise Conflict(f"{reason} still uses this file")
        if await self._files.delete(file.id):
            await self._store.delete(file.storage_key)

    async def collect_garbage(self, batch: int = 500) -> GcReport:
        """Remove stored objects no record or live upload points to (older than the grace
        period, so an upload being recorded right now is spared) and expired upload sessions."""
        now = self._clock.now()
        sessions_removed = 0
        while expired := await self._uploads.expired(now, batch):
            for session in expired:
                if await self._uploads.delete(session.id):
                    sessions_removed += 1
            if len(expired) < batch:
                break
        cutoff = now - timedelta(seconds=self._policy.gc_grace_s)
        await self._store.remove_stale_drafts(cutoff)
        objects_removed = 0
        pending: list[str] = []

        async def sweep() -> int:
            used = await self._files.keys_in_use(pending) | await self._uploads.keys_in_use(pending)
            orphans = [key for key in pending if key not in used]
            for key in orphans:
                await self._store.delete(key)
            pending.clear()
            return len(orphans)

        async for info in self._store.list_objects():
            if info.modified_at <= cutoff:
                pending.append(info.key)
            if len(pending) >= batch:
                objects_removed += await sweep()
        if pending:
            objects_removed += await sweep()
        return GcReport(objects_removed, sessions_removed)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
