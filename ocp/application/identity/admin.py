"""Administration: listing and reading accounts, changing a user's role or deactivating
them (their sessions end at once), and the bootstrap admin."""

from __future__ import annotations

from typing import Any

from ocp.application.audit import audit_info
from ocp.application.events.recorder import EventRecorder
from ocp.application.identity.common import (
    check_version,
    existing_user,
    require_admin,
)
from ocp.application.identity.profiles import ProfileService
from ocp.application.paging import DEFAULT_LIMIT, Page, decode_cursor, page_of
from ocp.application.ports.common import Clock
from ocp.application.ports.events import Subject
from ocp.application.ports.identity import RefreshTokenStore, UserRepository
from ocp.application.retry import retry_on_stale
from ocp.domain.audit import changed
from ocp.domain.users import Role, User
from ocp.domain.webhooks import Event


class AdminService:
    def __init__(
        self,
        *,
        users: UserRepository,
        refresh_tokens: RefreshTokenStore,
        profiles: ProfileService,
        clock: Clock,
        events: EventRecorder,
    ) -> None:
        self._events = events
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._profiles = profiles
        self._clock = clock

    async def list_users(
        self,
        actor: User,
        *,
        role: Role | None = None,
        query: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[User]:
        require_admin(actor)
        after = decode_cursor(cursor, (str,))
        rows = await self._users.list_after(
            role=role,
            query=query.strip().lower() if query and query.strip() else None,
            after_id=str(after[0]) if after else None,
            limit=limit + 1,
        )
        return page_of(rows, limit, lambda user: (user.id,))

    async def get_user(self, actor: User, user_id: str) -> User:
        require_admin(actor)
        return await existing_user(self._users, user_id)

    async def administer_user(
        self,
        actor: User,
        user_id: str,
        *,
        role: Role | None = None,
        is_active: bool | None = None,
        if_match: int | None = None,
    ) -> User:
        require_admin(actor)
        current = await existing_user(self._users, user_id)
        check_version(current, if_match)
        now = self._clock.now()

        async def attempt(n: int) -> User:
            nonlocal current
            if n > 0:
                current = await existing_user(self._users, user_id)
            version, was_role, was_active = current.version, current.role, current.is_active
            current.administer(actor, now, role=role, is_active=is_active)
            events = self._audited(actor, current, was_role, was_active)
            subject = Subject("users", current.id, current.version)
            async with self._events.recording(subject, *events):
                await self._users.update(current, version)
            return current

        user = await retry_on_stale(attempt, attempts=1 if if_match is not None else 5)
        if is_active is False:
            await self._refresh_tokens.revoke_user(user.id)
        return user

    def _audited(self, actor: User, user: User, was_role: Role, was_active: bool) -> list[Event]:
        made: list[tuple[str, dict[str, list[Any]]]] = []
        if user.role is not was_role:
            made.append(("user.role_changed", changed(role=(was_role.value, user.role.value))))
        if user.is_active != was_active:
            action = "user.reactivated" if user.is_active else "user.deactivated"
            made.append((action, changed(is_active=(was_active, user.is_active))))
        return [
            self._events.event(action, user, audit=audit_info(actor, "user", user.id, changes))
            for action, changes in made
        ]

    async def ensure_admin(
        self, email: str, password: str, full_name: str = "Administrator"
    ) -> bool:
        """Create an admin when none exists yet (bootstrap); True when one was made."""
        if await self._users.has_admin():
            return False
        await self._profiles.register(email, password, full_name, role=Role.ADMIN)
        return True
