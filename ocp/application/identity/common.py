"""What the identity use cases share: their settings, the token pair a session hands out,
finding an account by email, and saving a user (re-applied after a concurrent save unless the
client named the version it edited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ocp.application.ports.identity import LoginThrottle, PasswordHasher, UserRepository
from ocp.application.retry import retry_on_stale
from ocp.domain.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    StaleVersion,
    TooManyAttempts,
)
from ocp.domain.users import User


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    refresh_ttl_s: int = 1_209_600
    # A spent refresh token presented again this soon gets the same successor (two browser
    # tabs refreshing at once); later, it is a replay and ends the session.
    refresh_reuse_grace_s: int = 10
    password_reset_ttl_s: int = 3_600
    email_verification_ttl_s: int = 172_800
    # Where a mail's link points; `{token}` is replaced. Empty: the mail carries the bare token.
    password_reset_url: str = ""
    email_verification_url: str = ""
    email_change_ttl_s: int = 86_400
    email_change_url: str = ""


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


async def account_of(users: UserRepository, email: str, key: str) -> User | None:
    """The account of an address. Accounts made before the RFC 5321/6531 rules are keyed by
    the address as typed, only lower-cased (`X@Example.com.`): that exact spelling is looked
    up first, so such an account keeps logging in as it always did and is never shadowed by a
    newer account of the same mailbox; then the mailbox's `key`."""
    as_typed = email.strip().lower()
    if as_typed != key:
        user = await users.get_by_email(as_typed)
        if user is not None:
            return user
    return await users.get_by_email(key)


async def existing_user(users: UserRepository, user_id: str) -> User:
    user = await users.get(user_id)
    if user is None:
        raise NotFound("no such user")
    return user


async def save_user(
    users: UserRepository, user: User, if_match: int | None, change: Callable[[User], None]
) -> User:
    """Apply `change` and save it if the stored version is still the one changed. Without
    If-Match the write is unconditional: after a concurrent change it is applied again to the
    latest version instead of failing with 412."""
    current = user

    async def attempt(n: int) -> User:
        nonlocal current
        if n > 0:
            current = await existing_user(users, current.id)
        version = current.version
        change(current)
        await users.update(current, version)
        return current

    return await retry_on_stale(attempt, attempts=1 if if_match is not None else 5)


def check_version(entity: User, if_match: int | None) -> None:
    if if_match is not None and if_match != entity.version:
        raise StaleVersion("the user was changed since you read it; read it again")


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an admin may do this")


async def check_current_password(
    hasher: PasswordHasher,
    throttle: LoginThrottle,
    now: datetime,
    actor: User,
    password: str,
    wrong: DomainError,
) -> None:
    """A signed-in user's password, asked again before a sensitive change. Failures count
    with the login's (per address): a stolen access token cannot try passwords here any
    faster than at `/auth/token`. `wrong` is what a mismatch raises."""
    key = actor.email.key
    wait = await throttle.retry_after(key, now)
    if wait is not None:
        raise TooManyAttempts("too many wrong passwords for this account; try again later", wait)
    if not await hasher.verify(password, actor.password_hash):
        await throttle.record_failure(key, now)
        raise wrong
