"""Users, their roles and the rules on emails, names and passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocp.domain.errors import PermissionDenied, RuleViolated

# A pragmatic syntax check (RFC 5322 dot-atom local part, a dotted domain); deliverability is
# not our business. Unicode letters are allowed in both parts (RFC 6531).
_EMAIL = re.compile(
    r"^[^\s@\"(),:;<>\[\\\]]{1,64}@[^\s@\"(),:;<>\[\\\]_]+(\.[^\s@\"(),:;<>\[\\\]_]+)+$"
)

PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 128
FULL_NAME_MAX_CHARS = 100
BIO_MAX_CHARS = 2000
EMAIL_MAX_CHARS = 254


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Email:
    """An email address; `key` is the lower-cased form used for uniqueness and login."""

    value: str

    def __post_init__(self) -> None:
        value = self.value.strip()
        if len(value) > EMAIL_MAX_CHARS or not _EMAIL.match(value) or ".." in value:
            raise RuleViolated("is not a valid email address", field="email")
        object.__setattr__(self, "value", value)

    @property
    def key(self) -> str:
        return self.value.lower()

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Password:
    """A plain password that satisfies the policy; never stored, only hashed."""

    value: str

    def __post_init__(self) -> None:
        if not PASSWORD_MIN_CHARS <= len(self.value) <= PASSWORD_MAX_CHARS:
            raise RuleViolated(
                f"must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters", field="password"
            )
        if not self.value.strip():
            raise RuleViolated("must not be all whitespace", field="password")

    def __repr__(self) -> str:
        return "Password(***)"


def full_name(value: str) -> str:
    """A display name: trimmed, 1 to 100 characters, no control characters."""
    name = " ".join(value.split())
    if not name or len(name) > FULL_NAME_MAX_CHARS:
        raise RuleViolated(f"must be 1 to {FULL_NAME_MAX_CHARS} characters", field="full_name")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise RuleViolated("must not contain control characters", field="full_name")
    return name


def bio(value: str) -> str:
    text = value.strip()
    if len(text) > BIO_MAX_CHARS:
        raise RuleViolated(f"must be at most {BIO_MAX_CHARS} characters", field="bio")
    return text


@dataclass(slots=True)
class User:
    id: str
    email: Email
    full_name: str
    password_hash: str
    role: Role
    created_at: datetime
    updated_at: datetime
    bio: str = ""
    is_active: bool = True
    email_verified: bool = False
    avatar_file_id: str | None = None
    # Bumped whenever every outstanding access token must die at once (password reset).
    token_generation: int = 0
    version: int = 1

    @classmethod
    def register(
        cls,
        *,
        id: str,
        email: Email,
        name: str,
        password_hash: str,
        now: datetime,
        role: Role = Role.STUDENT,
    ) -> User:
        return cls(
            id=id,
            email=email,
            full_name=full_name(name),
            password_hash=password_hash,
            role=role,
            created_at=now,
            updated_at=now,
        )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_teach(self) -> bool:
        return self.role in (Role.INSTRUCTOR, Role.ADMIN)

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1

    def edit_profile(
        self,
        now: datetime,
        *,
        name: str | None = None,
        biography: str | None = None,
        avatar_file_id: str | None = None,
        clear_avatar: bool = False,
    ) -> None:
        if name is not None:
            self.full_name = full_name(name)
        if biography is not None:
            self.bio = bio(biography)
        if clear_avatar:
            self.avatar_file_id = None
        elif avatar_file_id is not None:
            self.avatar_file_id = avatar_file_id
        self._touch(now)

    def change_password_hash(self, new_hash: str, now: datetime, *, revoke_access: bool) -> None:
        self.password_hash = new_hash
        if revoke_access:
            self.token_generation += 1
        self._touch(now)

    def verify_email(self, now: datetime) -> None:
        self.email_verified = True
        self._touch(now)

    def administer(
        self, actor: User, now: datetime, *, role: Role | None = None, is_active: bool | None = None
    ) -> None:
        """An admin changes this user's role or activity; an admin cannot lock themself out."""
        if not actor.is_admin:
            raise PermissionDenied("only an admin may change roles or deactivate users")
        if actor.id == self.id and (
            (role is not None and role is not Role.ADMIN) or is_active is False
        ):
            raise RuleViolated("an admin cannot demote or deactivate themself", field="role")
        if role is not None:
            self.role = role
        if is_active is not None:
            self.is_active = is_active
        self._touch(now)
