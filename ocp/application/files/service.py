"""Files use cases: listing, reading under the purpose's rules, downloads, deletion while
nothing uses a file, and garbage collection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from ocp.application.course_roles import CourseRoles
from ocp.application.files.policy import FilePolicy
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.common import Clock
from ocp.application.ports.courses import CourseRepository, LessonRepository
from ocp.application.ports.files import FileRepository, FileStore, UploadSessionRepository
from ocp.application.ports.learning import EnrollmentRepository, SubmissionRepository
from ocp.domain.courses import Course, CourseRelation
from ocp.domain.errors import Conflict, NotFound, PermissionDenied
from ocp.domain.files import FilePurpose, StoredFile
from ocp.domain.users import User


@dataclass(frozen=True, slots=True)
class GcReport:
    objects_removed: int
    sessions_removed: int


class FileService:
    def __init__(
        self,
        *,
        files: FileRepository,
        uploads: UploadSessionRepository,
        store: FileStore,
        courses: CourseRepository,
        lessons: LessonRepository,
        enrollments: EnrollmentRepository,
        submissions: SubmissionRepository,
        clock: Clock,
        policy: FilePolicy,
    ) -> None:
        self._files = files
        self._uploads = uploads
        self._store = store
        self._courses = courses
        self._lessons = lessons
        self._submissions = submissions
        self._clock = clock
        self._policy = policy
        self._roles = CourseRoles(courses, enrollments)

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
        course = await self._courses.get(file.course_id)
        relation = await self._roles.relation(actor, course)
        if file.purpose is FilePurpose.COURSE_COVER:
            return relation >= CourseRelation.VISITOR
        if file.purpose is FilePurpose.LESSON_MATERIAL:
            return relation >= CourseRelation.STUDENT or (
                relation >= CourseRelation.VISITOR
                and course is not None
                and await self._is_preview_material(course, file.id)
            )
        return relation >= CourseRelation.STAFF

    async def _is_preview_material(self, course: Course, file_id: str) -> bool:
        # The outline names the preview lessons (a handful); only their bodies hold file ids.
        for module in course.modules:
            for outline in module.lessons:
                if outline.is_preview:
                    lesson = await self._lessons.get(outline.id)
                    if lesson is not None and lesson.file_id == file_id:
                        return True
        return False

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
        reason = await self._in_use_by(file)
        if reason is not None:
            raise Conflict(f"{reason} still uses this file")
        if await self._files.delete(file.id):
            await self._store.delete(file.storage_key)

    async def erase_files_of(self, owner_id: str, batch: int = 200) -> int:
        """A deleted account's files go, but those something still needs (a lesson's
        material, a graded submission's evidence: `_in_use_by`); how many went."""
        removed = 0
        before: str | None = None
        while page := await self._files.list_owned(
            owner_id, purpose=None, course_id=None, before_id=before, limit=batch
        ):
            for file in page:
                if await self._in_use_by(file) is None and await self._files.delete(file.id):
                    await self._store.delete(file.storage_key)
                    removed += 1
            before = page[-1].id
            if len(page) < batch:
                break
        return removed

    async def _in_use_by(self, file: StoredFile) -> str | None:
        """What still needs the file (for the client), None when nothing does: lesson material
        while a lesson points at it, a submission's file once the attempt is graded (evidence)."""
        if file.purpose is FilePurpose.LESSON_MATERIAL:
            if await self._lessons.any_lesson_uses_file(file.id):
                return "a lesson"
        elif file.purpose is FilePurpose.SUBMISSION:
            if await self._submissions.graded_uses_file(file.id):
                return "a graded submission"
        return None

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
