"""Uploads through the API: a multipart form streamed into the store, checked and recorded.
Whatever fails part way, nothing stays behind: content is stored under a fresh key and
recorded last."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ocp.application.course_roles import CourseRoles
from ocp.application.events.recorder import EventRecorder
from ocp.application.files.policy import FilePolicy
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.events import Subject
from ocp.application.ports.files import (
    ContentSniffer,
    FileRepository,
    FileStore,
    UploadSessionRepository,
)
from ocp.application.ports.learning import EnrollmentRepository
from ocp.domain.courses import CourseRelation
from ocp.domain.errors import RuleViolated
from ocp.domain.files import (
    FilePurpose,
    StoredFile,
    check_content_type,
    check_course,
    purpose_of,
    sanitize_filename,
)
from ocp.domain.users import User

HEAD_BYTES = 16_384  # what the sniffer sees: enough for magic numbers and a ZIP's first names

# What the HTTP layer hands `upload`: read the whole form, giving the file part's bytes and
# its filename to the callback as they stream in; the text fields.
OnFile = Callable[[AsyncIterator[bytes], str], Awaitable[None]]
ReadForm = Callable[[OnFile], Awaitable[dict[str, str]]]


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


class UploadService:
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
    ) -> None:
        self._events = events
        self._files = files
        self._uploads = uploads
        self._store = store
        self._sniffer = sniffer
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._roles = CourseRoles(courses, enrollments)

    @property
    def max_upload_bytes(self) -> int:
        return self._policy.max_upload_bytes

    # --- uploads through the API ---------------------------------------------------------

    async def upload(self, actor: User, read_form: ReadForm) -> StoredFile:
        """A multipart upload (`file`, `purpose`, `course_id`): the file streams into the store
        while the form arrives, then is checked and recorded. When anything fails (a refused
        field, a rule, the client gone mid-upload) the stored content is removed again."""
        received: Received | None = None
        filename = ""

        async def on_file(content: AsyncIterator[bytes], name: str) -> None:
            nonlocal received, filename
            received = await self.receive(actor, content)
            filename = name

        try:
            fields = await read_form(on_file)
            if received is None:
                raise RuleViolated("a file part named `file` is required", field="file")
            if "purpose" not in fields:
                raise RuleViolated("is required", field="purpose")
            new = NewFile(filename, fields["purpose"], fields.get("course_id") or None)
            return await self.record(actor, received, new)
        except BaseException:
            if received is not None:
                await self.discard(received)
            raise

    async def receive(self, actor: User, content: AsyncIterable[bytes]) -> Received:
        """Stream content into the store under a new id; `PayloadTooLarge` as soon as it passes
        the limit. Nothing is recorded yet: `record` or `discard` must follow."""
        file_id = self._ids.new_id()
        kept = _HeadKeeper(content)
        written = await self._store.write(file_id, kept, self._policy.max_upload_bytes)
        return Received(file_id, written.key, written.size, written.sha256, kept.head)

    async def record(self, actor: User, received: Received, new: NewFile) -> StoredFile:
        """Check the received content against its purpose and record it. The caller discards
        the content when this raises."""
        purpose = purpose_of(new.purpose)
        await check_may_upload(self._roles, actor, purpose, new.course_id)
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
        event = self._events.event("file.created", file)
        async with self._events.recording(Subject("files", file.id, 1), event):
            await self._files.add(file)
        return file

    async def discard(self, received: Received) -> None:
        await self._store.delete(received.storage_key)


async def check_may_upload(
    roles: CourseRoles, actor: User, purpose: FilePurpose, course_id: str | None
) -> None:
    """Whether the actor may upload a file of this purpose for this course (by id): staff
    for course material, an enrolled student for a submission; `RuleViolated` if not."""
    check_course(purpose, course_id)
    if not course_id:  # an empty form field or JSON string means no course
        return
    course = await roles.find(course_id)
    relation = await roles.relation(actor, course if course and course.id == course_id else None)
    needed = CourseRelation.STUDENT if purpose is FilePurpose.SUBMISSION else CourseRelation.STAFF
    if relation < needed:
        raise RuleViolated(
            f"is not a course where you may upload {purpose.value} files", field="course_id"
        )
