"""Users, their roles and the rules on emails, names and passwords."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from ocp.domain.changes import UNSET, Changes, Unset
from ocp.domain.errors import NotFound, PermissionDenied, RuleViolated

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


DELETED_NAME = "Deleted user"


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Email:
    """An email address (RFC 5321, with RFC 6531's UTF-8): NFKC-normalised, no control, format
    or separator characters, the domain lower-cased, without a trailing dot, checked as IDNA.
    `key` is what uniqueness and login compare: the local part lower-cased and the domain in
    its ASCII (punycode) form, so `X@Example.COM.` and `x@example.com`, or a fullwidth copy of
    an address, are one mailbox."""

    value: str
    _key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        value = unicodedata.normalize("NFKC", self.value.strip())
        local, at, domain = value.rpartition("@")
        domain = domain.lower().removesuffix(".")
        ascii_domain = _ascii_domain(domain)
        if (
            not at
            or ascii_domain is None
            or not _local_part_valid(local)
            or len(local) + 1 + len(ascii_domain) > EMAIL_MAX_CHARS
        ):
            raise RuleViolated("is not a valid email address", field="email")
        object.__setattr__(self, "value", f"{local}@{domain}")
        object.__setattr__(self, "_key", f"{local.lower()}@{ascii_domain}")

    @classmethod
    def as_stored(cls, value: str, key: str) -> Email:
        """An address read back from storage, taken as it was written: a repository trusts its
        own rows, and accounts made before today's rules (a trailing dot, a hidden character,
        a key that was only lower-cased) must still load, list, log in and be deactivated.
        Every new or changed address comes through the constructor."""
        email = object.__new__(cls)
        object.__setattr__(email, "value", value)
        object.__setattr__(email, "_key", key)
        return email

    @property
    def key(self) -> str:
        return self._key

    def __str__(self) -> str:
        return self.value


# RFC 5322 atext; beyond ASCII, RFC 6531 allows any UTF-8, of which we keep what a reader
# can see: letters, numbers, punctuation and symbols, and marks after a base character. No
# control, format (zero-width, bidi), separator, private-use or unassigned code point.
_VISIBLE = frozenset("LNPS")
_ATEXT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
)
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _local_part_valid(local: str) -> bool:
    if not local or len(local.encode("utf-8")) > 64:
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return all(
        ch == "." or ch in _ATEXT or (ord(ch) > 127 and _visible(ch, first=i == 0))
        for i, ch in enumerate(local)
    )


def _visible(ch: str, *, first: bool) -> bool:
    kind = unicodedata.category(ch)[0]
    # A mark first would combine with whatever precedes the address where it is shown.
    return kind in _VISIBLE or (kind == "M" and not first)


def _ascii_domain(domain: str) -> str | None:
    """The domain as IDNA ASCII labels, or None when it is no valid host name."""
    if any(ord(ch) > 127 and unicodedata.category(ch)[0] not in "LMN" for ch in domain):
        return None  # zero-width, bidi and other format or control characters
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or len(ascii_domain) > 253 or labels[-1].isdigit():
        return None
    return ascii_domain if all(_DOMAIN_LABEL.match(label) for label in labels) else None


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


@dataclass(frozen=True, slots=True)
class ProfileChanges(Changes):
    """What PATCH /users/me may change; None clears the avatar."""

    clearable: ClassVar[frozenset[str]] = frozenset({"avatar_file_id"})

    full_name: str | Unset = UNSET
    bio: str | Unset = UNSET
    avatar_file_id: str | Unset | None = UNSET


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
    deleted_at: datetime | None = None  # an erased account: a tombstone nobody logs in to

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

    def edit_profile(self, now: datetime, changes: ProfileChanges) -> None:
        if not isinstance(changes.full_name, Unset):
            self.full_name = full_name(changes.full_name)
        if not isinstance(changes.bio, Unset):
            self.bio = bio(changes.bio)
        if not isinstance(changes.avatar_file_id, Unset):
            self.avatar_file_id = changes.avatar_file_id
        self._touch(now)

    def change_password_hash(self, new_hash: str, now: datetime, *, revoke_access: bool) -> None:
        self.password_hash = new_hash
        if revoke_access:
            self.token_generation += 1
        self._touch(now)

    def verify_email(self, now: datetime) -> None:
        self.email_verified = True
        self._touch(now)

    def erase(self, now: datetime) -> None:
        """Delete the account: its personal data goes, the record stays as an anonymous
        tombstone (reviews, submissions and enrolments keep a valid author, so every course
        aggregate and gradebook stays exact), and nobody can log in to it again."""
        if self.deleted_at is not None:
            raise NotFound("no such user")
        placeholder = f"deleted-{self.id}@deleted.invalid"
        self.email = Email.as_stored(placeholder, placeholder)  # frees the real address
        self.full_name = DELETED_NAME
        self.bio = ""
        self.avatar_file_id = None
        self.password_hash = ""  # matches no password
        self.is_active = False
        self.email_verified = False
        self.token_generation += 1
        self.deleted_at = now
        self._touch(now)

    def change_email(self, email: Email, now: datetime) -> None:
        """The address proven by a token mailed to it: verified by that very proof."""
        self.email = email
        self.email_verified = True
        self._touch(now)

    def administer(
        self, actor: User, now: datetime, *, role: Role | None = None, is_active: bool | None = None
    ) -> None:
        """An admin changes this user's role or activity; an admin cannot lock themself out."""
        if not actor.is_admin:
            raise PermissionDenied("only an admin may change roles or deactivate users")
        if self.deleted_at is not None:
            raise RuleViolated("the account was deleted; it cannot be changed", field="is_active")
        if actor.id == self.id and (
            (role is not None and role is not Role.ADMIN) or is_active is False
        ):
            raise RuleViolated("an admin cannot demote or deactivate themself", field="role")
        if role is not None:
            self.role = role
        if is_active is not None:
            self.is_active = is_active
        self._touch(now)
