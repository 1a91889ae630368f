"""Direct uploads: the client announces a file, sends its bytes to a presigned URL of the
store (or the API's own URL, with a one-time token), then completes; what arrived is checked
where no upload URL can reach it, then recorded."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ocp.application.course_roles import CourseRoles
from ocp.application.events.recorder import EventRecorder
from ocp.application.files.policy import FilePolicy
from ocp.application.files.uploads import HEAD_BYTES, check_may_upload
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.events import Subject
from ocp.application.ports.files import (
    ContentSniffer,
    FileRepository,
    FileStore,
    PresignedRequest,
    UploadSessionRepository,
)
from ocp.application.ports.learning import EnrollmentRepository
from ocp.domain.errors import Conflict, DomainError, NotFound, PayloadTooLarge, RuleViolated
from ocp.domain.files import (
    StoredFile,
    UploadSession,
    check_content_type,
    purpose_of,
    sanitize_filename,
)
from ocp.domain.users import User


@dataclass(frozen=True, slots=True)
class DirectUploadRequest:
    filename: str
    size: int
    content_type: str
    purpose: str
    course_id: str | None = None


class RunningDigests:
    """The sha256 of each resumable upload so far, kept in this process between its parts,
    so completing one does not read the whole file back (its parts usually all come to one
    process; one that lost its digest, or came elsewhere, is hashed from the store)."""

    def __init__(self, size: int = 1000) -> None:
        self._by_upload: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._size = size

    def take(self, upload_id: str, offset: int) -> Any | None:
        """The digest of the first `offset` bytes, forgotten here (None: not known)."""
        found = self._by_upload.pop(upload_id, None)
        if offset == 0:
            return hashlib.sha256()
        return found[1] if found is not None and found[0] == offset else None

    def keep(self, upload_id: str, offset: int, digest: Any) -> None:
        self._by_upload[upload_id] = (offset, digest)
        while len(self._by_upload) > self._size:
            self._by_upload.popitem(last=False)


@dataclass(frozen=True, slots=True)
class ResumableState:
    """A resumable upload: its session while bytes are missing, the file once complete."""

    session: UploadSession | None
    offset: int
    length: int
    file: StoredFile | None


@dataclass(frozen=True, slots=True)
class DirectUploadTicket:
    """Where to send the bytes: `presigned` when the store takes them itself, else the API's
    own URL carrying `token` (the router builds it)."""

    session: UploadSession
    token: str
    presigned: PresignedRequest | None


class DirectUploadService:
    def __init__(
        self,
        *,
        files: FileRepository,
        uploads: UploadSessionRepository,
        store: FileStore,
        sniffer: ContentSniffer,
        courses: CourseRepository,
        enrollments: EnrollmentRepository,
        clock: Clock,
        ids: IdGenerator,
        policy: FilePolicy,
        events: EventRecorder,
        digests: RunningDigests | None = None,
    ) -> None:
        self._digests = digests or RunningDigests()
        self._events = events
        self._files = files
        self._uploads = uploads
        self._store = store
        self._sniffer = sniffer
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._roles = CourseRoles(courses, enrollments)

    async def start_direct_upload(
        self, actor: User, request: DirectUploadRequest
    ) -> DirectUploadTicket:
        token = secrets.token_urlsafe(32)
        session = await self._new_session(actor, request, _hash_token(token), staged=True)
        presigned = await self._store.presign_put(
            session.storage_key, self._policy.direct_upload_ttl_s
        )
        await self._uploads.add(session)
        return DirectUploadTicket(session, token, presigned)

    async def start_resumable_upload(
        self, actor: User, request: DirectUploadRequest
    ) -> UploadSession:
        """A resumable (tus) upload: its parts are appended by the API alone (no URL of the
        store is ever handed out), straight under the file's own key, so completing it
        moves nothing (on S3, the parts become the object when it is sealed)."""
        session = await self._new_session(actor, request, "", staged=False)
        await self._uploads.add(session)
        return session

    async def _new_session(
        self, actor: User, request: DirectUploadRequest, token_hash: str, *, staged: bool
    ) -> UploadSession:
        purpose = purpose_of(request.purpose)
        if request.size > self._policy.max_upload_bytes:
            raise PayloadTooLarge(f"files may be at most {self._policy.max_upload_bytes} bytes")
        if request.size < 0:
            raise RuleViolated("must not be negative", field="size")
        await check_may_upload(self._roles, actor, purpose, request.course_id)
        now = self._clock.now()
        upload_id = self._ids.new_id()
        return UploadSession(
            id=upload_id,
            owner_id=actor.id,
            purpose=purpose,
            filename=sanitize_filename(request.filename),
            size=request.size,
            declared_type=request.content_type,
            storage_key=f"up-{upload_id}" if staged else upload_id,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + timedelta(seconds=self._policy.direct_upload_ttl_s),
            course_id=request.course_id or None,
        )

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

    # --- resumable uploads (tus): a direct upload whose bytes come in appended parts -------

    async def resumable_state(self, actor: User, upload_id: str) -> ResumableState:
        """Where the actor's upload stands: its offset and length, and the file once it is
        complete (its id is the upload's). Anyone else's upload does not exist."""
        session = await self._uploads.get(upload_id)
        if session is not None and session.owner_id == actor.id:
            if session.is_expired(self._clock.now()):
                raise NotFound("no such upload, or it has expired")
            offset = await self._store.appended(session.storage_key)
            return ResumableState(session, offset or 0, session.size, None)
        file = await self._files.get(upload_id)
        if file is None or file.owner_id != actor.id:
            raise NotFound("no such upload, or it has expired")
        return ResumableState(None, file.size, file.size, file)

    async def append_resumable(
        self,
        actor: User,
        upload_id: str,
        offset: int,
        content: AsyncIterable[bytes],
        sha256: bytes | None,
    ) -> ResumableState:
        """Append a part at `offset`; once the last byte is in, the file is checked as any
        upload is (type, size, who may) and recorded, or refused with its bytes discarded."""
        state = await self.resumable_state(actor, upload_id)
        if state.session is None:
            raise Conflict("the upload is complete")
        digest = self._digests.take(upload_id, offset)
        size = await self._store.append(
            state.session.storage_key, offset, content, state.session.size, sha256, digest
        )
        if digest is not None:  # fed exactly the bytes that were kept
            self._digests.keep(upload_id, size, digest)
        if size < state.session.size:
            return ResumableState(state.session, size, state.session.size, None)
        whole = self._digests.take(upload_id, size)
        await self._store.seal(state.session.storage_key)
        file = await self._complete(
            state.session, sha256=whole.hexdigest() if whole is not None else None
        )
        return ResumableState(None, file.size, file.size, file)

    async def terminate_resumable(self, actor: User, upload_id: str) -> None:
        state = await self.resumable_state(actor, upload_id)
        if state.session is None:
            raise Conflict("the upload is complete: delete the file instead")
        await self._store.delete(state.session.storage_key)
        await self._uploads.delete(state.session.id)

    async def complete_direct_upload(self, actor: User, upload_id: str) -> StoredFile:
        """Check what arrived and record it."""
        session = await self._uploads.get(upload_id)
        if session is None or session.owner_id != actor.id or session.is_expired(self._clock.now()):
            raise NotFound("no such upload, or it has expired")
        if await self._store.stat(session.storage_key) is None:
            raise Conflict("nothing has arrived for this upload yet")
        return await self._complete(session)

    async def _complete(self, session: UploadSession, *, sha256: str | None = None) -> StoredFile:
        """The bytes are first moved to the file's own key, which no upload URL points at,
        and checked there: a presigned PUT still valid, or a slow PUT finishing later, can
        only replace the discarded staging object, never the bytes that were checked, hashed
        and recorded (a resumable upload is already there)."""
        key = session.id  # the file's id, as for uploads through the API
        if session.storage_key != key:
            try:
                await self._store.move(session.storage_key, key)
            except NotFound:
                raise NotFound("no such upload") from None  # a concurrent completion took it
        try:
            file = await self._checked_arrival(session, key, sha256)
        except DomainError:
            await self._store.delete(key)
            await self._uploads.delete(session.id)
            raise
        event = self._events.event("file.created", file)
        try:
            async with self._events.recording(Subject("files", file.id, 1), event):
                await self._files.add(file)  # before the session goes: a retry can redo it
        except Conflict:
            raise NotFound("no such upload") from None
        await self._uploads.delete(session.id)
        return file

    async def _checked_arrival(
        self, session: UploadSession, key: str, sha256: str | None = None
    ) -> StoredFile:
        """The file the bytes under `key` make, checked; `sha256` when this process hashed
        them as they arrived (then only the head is read back, for the sniffer)."""
        info = await self._store.stat(key)
        size = info.size if info is not None else 0
        if size != session.size:
            raise Conflict(
                f"{size} bytes arrived where {session.size} were announced; upload again"
            )
        head = b""
        digest = hashlib.sha256()
        end = min(HEAD_BYTES, size) - 1 if sha256 is not None and size > 0 else None
        async for chunk in await self._store.open(key, 0, end):
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            if sha256 is None:
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
            sha256=sha256 or digest.hexdigest(),
            storage_key=key,
            created_at=self._clock.now(),
            course_id=session.course_id,
        )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
