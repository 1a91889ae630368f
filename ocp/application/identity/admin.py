"""Administration: listing and reading accounts, changing a user's role or deactivating
them (their sessions end at once), and the bootstrap admin."""

from __future__ import annotations

from ocp.application.identity.common import (
    check_version,
    existing_user,
    require_admin,
    save_user,
)
from ocp.application.identity.profiles import ProfileService
from ocp.application.paging import DEFAULT_LIMIT, Page, decode_cursor, page_of
from ocp.application.ports.common import Clock
from ocp.application.ports.identity import RefreshTokenStore, UserRepository
from ocp.domain.users import Role, User


class AdminService:
    def __init__(
        self,
        *,
        users: UserRepository,
        refresh_tokens: RefreshTokenStore,
        profiles: ProfileService,
        clock: Clock,
    ) -> None:
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
        user = await existing_user(self._users, user_id)
        check_version(user, if_match)
        now = self._clock.now()
        user = await save_user(
            self._users,
            user,
            if_match,
            lambda u: u.administer(actor, now, role=role, is_active=is_active),
        )
        if is_active is False:
            await self._refresh_tokens.revoke_user(user.id)
        return user

    async def ensure_admin(
        self, email: str, password: str, full_name: str = "Administrator"
    ) -> bool:
        """Create an admin when none exists yet (bootstrap); True when one was made."""
        if await self._users.has_admin():
            return False
        await self._profiles.register(email, password, full_name, role=Role.ADMIN)
        return True
