"""Ports of identity and access: users, sessions (refresh-token families), one-time tokens,
password hashing, access tokens, login throttling and mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ocp.domain.users import Role, User


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Store a new user; `Conflict` when the email (case-insensitive) is taken."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email_key: str) -> User | None:
        """The user whose lower-cased email is `email_key`."""
        ...

    async def update(self, user: User, expected_version: int) -> None:
        """Replace the stored user if its version is still `expected_version`, else `StaleVersion`;
        `NotFound` when it is gone; `Conflict` when its (changed) email is another's."""
        ...

    async def list_after(
        self, *, role: Role | None, query: str | None, after_id: str | None, limit: int
    ) -> list[User]:
        """Users in id order after `after_id`, at most `limit`; `query` matches a substring of
        the email or the name, case-insensitively and literally."""
        ...

    async def has_admin(self) -> bool: ...

    async def get_many(self, user_ids: list[str]) -> list[User]:
        """The users among `user_ids` that exist, in one round trip."""
        ...

    async def get_many_by_email(self, email_keys: list[str]) -> list[User]:
        """The users whose lower-cased emails are among `email_keys`, in a few round trips
        whatever their number."""
        ...


@dataclass(slots=True)
class RefreshToken:
    """One refresh token of a session; the session is its family of rotated tokens."""

    token_hash: str
    family_id: str
    user_id: str
    issued_at: datetime
    expires_at: datetime
    spent_at: datetime | None = None
    user_agent: str | None = None  # of the login that started the session


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session (a family of refresh tokens), as its owner sees it."""

    id: str
    created_at: datetime
    last_used_at: datetime  # its last login or refresh
    user_agent: str | None


class SpendResult(StrEnum):
    SPENT = "spent"  # this call spent a live token: issue the next one
    ALREADY_SPENT = "already_spent"  # spent before (its token says when): the caller decides
    INVALID = "invalid"  # unknown, expired or revoked


class RefreshTokenStore(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def spend(
        self, token_hash: str, now: datetime
    ) -> tuple[SpendResult, RefreshToken | None]:
        """Atomically mark a live token spent: `SPENT` to exactly one caller, whatever the
        number of processes; a token spent before answers `ALREADY_SPENT` with the token
        (and when it was spent), and the store decides nothing about it."""
        ...

    async def find(self, token_hash: str) -> RefreshToken | None:
        """The token if it is known (spent or not) and its family is not revoked."""
        ...

    async def revoke_family(self, family_id: str) -> None: ...

    async def is_family_live(self, family_id: str, *, of_user: str | None = None) -> bool:
        """Whether the family is unrevoked (and, with `of_user`, belongs to that user)."""
        ...

    async def revoke_user(self, user_id: str, *, except_family: str | None = None) -> None:
        """Revoke every family of a user, except `except_family` when given."""
        ...

    async def sessions_of(self, user_id: str, now: datetime) -> list[SessionInfo]:
        """The user's live (unrevoked, unexpired) sessions, the most recently used first."""
        ...


class OneTimePurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"
    EMAIL_CHANGE = "email_change"


@dataclass(frozen=True, slots=True)
class OneTimeGrant:
    """What a used one-time token was issued for: its user, and what it carried."""

    user_id: str
    payload: dict[str, str]


class OneTimeTokenStore(Protocol):
    async def add(
        self,
        purpose: OneTimePurpose,
        token_hash: str,
        user_id: str,
        expires_at: datetime,
        payload: dict[str, str] | None = None,
    ) -> None: ...

    async def consume(
        self, purpose: OneTimePurpose, token_hash: str, now: datetime
    ) -> OneTimeGrant | None:
        """Atomically use a live token once: its grant, or None when unknown, used or expired."""
        ...

    async def discard_user(self, purpose: OneTimePurpose | None, user_id: str) -> None:
        """Forget every outstanding token of this purpose (None: of any) for the user."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password: str, password_hash: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash is of another scheme, or weaker than what `hash` makes today."""
        ...

    async def burn(self, password: str) -> None:
        """Spend as long as a verification, for answers that must not reveal an unknown email."""
        ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    session_id: str
    token_generation: int
    expires_at: datetime


class TokenIssuer(Protocol):
    @property
    def access_ttl_s(self) -> int: ...

    def issue_access(self, user: User, session_id: str, now: datetime) -> str: ...

    def read_access(self, token: str, now: datetime) -> AccessClaims:
        """Verify signature, algorithm, issuer, audience and expiry at `now`;
        `AuthenticationFailed` for any fault, without saying which."""
        ...

    def new_secret_token(self) -> tuple[str, str]:
        """A fresh opaque token for a client and the hash we store in its place."""
        ...

    def hash_secret_token(self, token: str) -> str: ...

    def successor_token(self, token: str) -> tuple[str, str]:
        """The token that follows `token` in its family, and its hash: the same every time for
        the same `token` (keyed with a server secret), so a replay within the grace period gets
        the successor the first spend issued, without the store ever holding it in clear."""
        ...


class LoginThrottle(Protocol):
    async def retry_after(self, key: str, now: datetime) -> int | None:
        """Seconds until `key` may try again, or None when it is not throttled."""
        ...

    async def record_failure(self, key: str, now: datetime) -> None: ...

    async def clear(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None: ...
