"""In-memory identity stores: users, refresh-token families, one-time tokens, throttle, mail."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta

from ocp.application.ports.identity import (
    MailMessage,
    OneTimeGrant,
    OneTimePurpose,
    RefreshToken,
    SessionInfo,
    SpendResult,
)
from ocp.domain.errors import Conflict, NotFound, StaleVersion
from ocp.domain.users import Role, User


class InMemoryUserRepository:
    """Hands out copies, as a database would. Every field of a User is immutable, so a shallow
    copy is a full one (deepcopy cost a third of an authenticated request)."""

    def __init__(self) -> None:
        self._by_id: dict[str, User] = {}
        self._id_by_email: dict[str, str] = {}

    async def add(self, user: User) -> None:
        if user.email.key in self._id_by_email or user.id in self._by_id:
            raise Conflict("an account with this email already exists")
        self._by_id[user.id] = replace(user)
        self._id_by_email[user.email.key] = user.id

    async def get(self, user_id: str) -> User | None:
        user = self._by_id.get(user_id)
        return replace(user) if user else None

    async def get_by_email(self, email_key: str) -> User | None:
        user_id = self._id_by_email.get(email_key)
        return await self.get(user_id) if user_id else None

    async def update(self, user: User, expected_version: int) -> None:
        stored = self._by_id.get(user.id)
        if stored is None:
            raise NotFound("no such user")
        if stored.version != expected_version:
            raise StaleVersion("the user was changed since you read it; read it again")
        if user.email.key != stored.email.key:
            if user.email.key in self._id_by_email:
                raise Conflict("an account with this email already exists")
            del self._id_by_email[stored.email.key]
            self._id_by_email[user.email.key] = user.id
        self._by_id[user.id] = replace(user)

    async def list_after(
        self, *, role: Role | None, query: str | None, after_id: str | None, limit: int
    ) -> list[User]:
        found = []
        for user_id in sorted(self._by_id):
            user = self._by_id[user_id]
            if after_id is not None and user_id <= after_id:
                continue
            if role is not None and user.role is not role:
                continue
            if query and query not in user.email.key and query not in user.full_name.lower():
                continue
            found.append(replace(user))
            if len(found) == limit:
                break
        return found

    async def has_admin(self) -> bool:
        return any(user.role is Role.ADMIN for user in self._by_id.values())

    async def get_many(self, user_ids: list[str]) -> list[User]:
        return [replace(self._by_id[i]) for i in dict.fromkeys(user_ids) if i in self._by_id]

    async def get_many_by_email(self, email_keys: list[str]) -> list[User]:
        return await self.get_many(
            [
                self._id_by_email[key]
                for key in dict.fromkeys(email_keys)
                if key in self._id_by_email
            ]
        )


class InMemoryRefreshTokenStore:
    def __init__(self) -> None:
        self._tokens: dict[str, RefreshToken] = {}
        self._spent: dict[str, datetime] = {}  # token hash -> when it was spent
        self._revoked_families: set[str] = set()
        self._live_families: dict[str, str] = {}  # family -> user
        self._sessions: dict[str, SessionInfo] = {}
        self._expiry: dict[str, datetime] = {}

    async def add(self, token: RefreshToken) -> None:
        self._tokens[token.token_hash] = copy.copy(token)
        if token.family_id not in self._revoked_families:
            self._live_families[token.family_id] = token.user_id
        known = self._sessions.get(token.family_id)
        self._sessions[token.family_id] = SessionInfo(
            id=token.family_id,
            created_at=known.created_at if known else token.issued_at,
            last_used_at=max(known.last_used_at, token.issued_at) if known else token.issued_at,
            user_agent=known.user_agent if known else token.user_agent,
        )
        self._expiry[token.family_id] = max(
            self._expiry.get(token.family_id, token.expires_at), token.expires_at
        )

    async def sessions_of(self, user_id: str, now: datetime) -> list[SessionInfo]:
        found = [
            self._sessions[family]
            for family, owner in self._live_families.items()
            if owner == user_id and self._expiry[family] > now
        ]
        return sorted(found, key=lambda s: s.last_used_at, reverse=True)

    async def spend(
        self, token_hash: str, now: datetime
    ) -> tuple[SpendResult, RefreshToken | None]:
        token = self._tokens.get(token_hash)
        if token is None or token.family_id in self._revoked_families or token.expires_at <= now:
            return SpendResult.INVALID, None
        spent = copy.copy(token)
        if token_hash in self._spent:
            spent.spent_at = self._spent[token_hash]
            return SpendResult.ALREADY_SPENT, spent
        self._spent[token_hash] = spent.spent_at = now
        return SpendResult.SPENT, spent

    async def find(self, token_hash: str) -> RefreshToken | None:
        token = self._tokens.get(token_hash)
        if token is None or token.family_id in self._revoked_families:
            return None
        return copy.copy(token)

    async def revoke_family(self, family_id: str) -> None:
        self._revoked_families.add(family_id)
        self._live_families.pop(family_id, None)

    async def is_family_live(self, family_id: str, *, of_user: str | None = None) -> bool:
        owner = self._live_families.get(family_id)
        return owner is not None and (of_user is None or owner == of_user)

    async def revoke_user(self, user_id: str, *, except_family: str | None = None) -> None:
        for family_id, owner in list(self._live_families.items()):
            if owner == user_id and family_id != except_family:
                await self.revoke_family(family_id)


class InMemoryOneTimeTokenStore:
    def __init__(self) -> None:
        self._tokens: dict[tuple[OneTimePurpose, str], tuple[str, datetime, dict[str, str]]] = {}

    async def add(
        self,
        purpose: OneTimePurpose,
        token_hash: str,
        user_id: str,
        expires_at: datetime,
        payload: dict[str, str] | None = None,
    ) -> None:
        self._tokens[(purpose, token_hash)] = (user_id, expires_at, dict(payload or {}))

    async def consume(
        self, purpose: OneTimePurpose, token_hash: str, now: datetime
    ) -> OneTimeGrant | None:
        entry = self._tokens.pop((purpose, token_hash), None)
        if entry is None or entry[1] <= now:
            return None
        return OneTimeGrant(entry[0], dict(entry[2]))

    async def discard_user(self, purpose: OneTimePurpose | None, user_id: str) -> None:
        for key, (owner, _, _) in list(self._tokens.items()):
            if (purpose is None or key[0] is purpose) and owner == user_id:
                del self._tokens[key]


class InMemoryLoginThrottle:
    """At most `max_failures` failed logins per key within a sliding `window_s`."""

    def __init__(self, max_failures: int, window_s: int) -> None:
        self._max = max_failures
        self._window = timedelta(seconds=window_s)
        self._failures: dict[str, list[datetime]] = {}

    async def retry_after(self, key: str, now: datetime) -> int | None:
        recent = [t for t in self._failures.get(key, []) if t > now - self._window]
        if len(recent) < self._max:
            return None
        # Free again when the oldest of the last `max` failures leaves the window.
        oldest = recent[-self._max]
        return max(1, int((oldest + self._window - now).total_seconds() + 0.999))

    async def record_failure(self, key: str, now: datetime) -> None:
        self._failures.setdefault(key, []).append(now)
        self._failures[key] = self._failures[key][-self._max :]

    async def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class InMemoryMailer:
    """Keeps every message sent, newest last: what a test reads its reset tokens from."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    async def send(self, message: MailMessage) -> None:
        self.sent.append(message)
