"""An account's data: exporting all of it, and deleting the account (by its owner, with the
password, or by an admin). A deleted account stays as an anonymous tombstone, so what others
see of it (a course's rating and counts, a gradebook) stays exact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ocp.application.audit import audit_info
from ocp.application.events.recorder import EventRecorder
from ocp.application.files.service import FileService
from ocp.application.identity.common import (
    check_current_password,
    existing_user,
    require_admin,
)
from ocp.application.ports.common import Clock
from ocp.application.ports.events import Subject
from ocp.application.ports.files import FileRepository
from ocp.application.ports.identity import (
    LoginThrottle,
    OneTimeTokenStore,
    PasswordHasher,
    RefreshTokenStore,
    SessionInfo,
    UserRepository,
)
from ocp.application.ports.learning import (
    EnrollmentRepository,
    ReviewRepository,
    SubmissionRepository,
)
from ocp.application.retry import retry_on_stale
from ocp.domain.audit import changed
from ocp.domain.errors import NotFound, PermissionDenied, RuleViolated
from ocp.domain.files import StoredFile
from ocp.domain.learning import Enrollment, Review, Submission
from ocp.domain.users import User

T = TypeVar("T")
PAGE = 500


@dataclass(frozen=True, slots=True)
class AccountExport:
    """Every record of one user's, and nothing of anyone else's."""

    exported_at: datetime
    user: User
    sessions: list[SessionInfo]
    enrollments: list[Enrollment]
    submissions: list[Submission]
    reviews: list[Review]
    files: list[StoredFile]


class AccountService:
    def __init__(
        self,
        *,
        users: UserRepository,
        refresh_tokens: RefreshTokenStore,
        one_time_tokens: OneTimeTokenStore,
        hasher: PasswordHasher,
        throttle: LoginThrottle,
        enrollments: EnrollmentRepository,
        submissions: SubmissionRepository,
        reviews: ReviewRepository,
        files: FileRepository,
        file_service: FileService,
        clock: Clock,
        events: EventRecorder,
    ) -> None:
        self._events = events
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._one_time = one_time_tokens
        self._hasher = hasher
        self._throttle = throttle
        self._enrollments = enrollments
        self._submissions = submissions
        self._reviews = reviews
        self._files = files
        self._file_service = file_service
        self._clock = clock

    async def export_user(self, actor: User, user_id: str) -> AccountExport:
        """A user's data, for an admin answering their request (a deleted account: 404)."""
        require_admin(actor)
        user = await existing_user(self._users, user_id)
        if user.deleted_at is not None:
            raise NotFound("no such user")
        return await self.export(user)

    async def export(self, actor: User) -> AccountExport:
        """The actor's data, read in pages (a few round trips per few hundred records)."""
        uid = actor.id

        async def files(before: str | None, limit: int) -> list[StoredFile]:
            return await self._files.list_owned(
                uid, purpose=None, course_id=None, before_id=before, limit=limit
            )

        return AccountExport(
            exported_at=self._clock.now(),
            user=actor,
            sessions=await self._refresh_tokens.sessions_of(uid, self._clock.now()),
            enrollments=await _all(lambda a, n: self._enrollments.list_user(uid, a, n)),
            submissions=await _all(lambda a, n: self._submissions.list_user(uid, a, n)),
            reviews=await _all(lambda a, n: self._reviews.list_user(uid, a, n)),
            files=await _all(files),
        )

    async def delete_own_account(self, actor: User, current_password: str) -> None:
        await check_current_password(
            self._hasher,
            self._throttle,
            self._clock.now(),
            actor,
            current_password,
            PermissionDenied("the current password is not correct"),
        )
        if actor.is_admin:
            raise RuleViolated(
                "an admin account is deleted by another admin (so one always remains)",
                field="current_password",
            )
        await self._erase(actor, actor.id)

    async def delete_user(self, actor: User, user_id: str) -> User:
        require_admin(actor)
        if user_id == actor.id:
            raise RuleViolated("an admin cannot delete themself", field="id")
        return await self._erase(actor, user_id)

    async def _erase(self, actor: User, user_id: str) -> User:
        """What can be redone goes first, the account record last: a failure midway leaves a
        live account whose deletion can simply be asked again."""
        user = await existing_user(self._users, user_id)
        if user.deleted_at is not None:
            raise NotFound("no such user")
        await self._file_service.erase_files_of(user_id)
        await self._one_time.discard_user(None, user_id)  # every kind of mailed token
        now = self._clock.now()

        async def attempt(n: int) -> User:
            current = user if n == 0 else await existing_user(self._users, user_id)
            version, was_active = current.version, current.is_active
            current.erase(now)
            changes = changed(is_active=(was_active, False), deleted=(False, True))
            info = audit_info(actor, "user", current.id, changes)
            event = self._events.event("user.deleted", current, audit=info)
            async with self._events.recording(Subject("users", current.id, current.version), event):
                await self._users.update(current, version)
            return current

        erased = await retry_on_stale(attempt, attempts=5)
        await self._refresh_tokens.revoke_user(user_id)
        return erased


async def _all(page: Callable[[str | None, int], Awaitable[list[T]]]) -> list[T]:
    """Every row of an id-ordered listing, page by page."""
    rows: list[T] = []
    after: str | None = None
    while True:
        batch = await page(after, PAGE)
        rows.extend(batch)
        if len(batch) < PAGE:
            return rows
        after = batch[-1].id  # type: ignore[attr-defined]
