"""Identity schemas: registration, tokens, passwords, profiles, admin changes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ocp.domain.users import (
    BIO_MAX_CHARS,
    EMAIL_MAX_CHARS,
    FULL_NAME_MAX_CHARS,
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
    Role,
    User,
)
from ocp.entrypoints.http.schemas.common import PLAIN_TEXT, Input

EmailField = Field(max_length=EMAIL_MAX_CHARS, description="any syntactically valid address")
PasswordField = Field(
    min_length=PASSWORD_MIN_CHARS,
    max_length=PASSWORD_MAX_CHARS,
    description=f"{PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters, not only spaces",
)
# The domain trims a name and collapses its spaces, so one of only spaces is still refused.
FullNameField = Field(min_length=1, max_length=FULL_NAME_MAX_CHARS, pattern=PLAIN_TEXT)
TokenField = Field(min_length=1, max_length=512)


class RegisterIn(Input):
    email: str = EmailField
    password: str = PasswordField
    full_name: str = FullNameField


class RefreshIn(Input):
    refresh_token: str = TokenField


class EmailIn(Input):
    email: str = EmailField


class PasswordResetConfirmIn(Input):
    token: str = TokenField
    new_password: str = PasswordField


class TokenIn(Input):
    token: str = TokenField


class PasswordChangeIn(Input):
    current_password: str = Field(max_length=PASSWORD_MAX_CHARS)
    new_password: str = PasswordField


class ProfileIn(Input):
    full_name: str | None = Field(
        None, min_length=1, max_length=FULL_NAME_MAX_CHARS, pattern=PLAIN_TEXT
    )
    bio: str | None = Field(None, max_length=BIO_MAX_CHARS)
    avatar_file_id: str | None = Field(
        None, max_length=64, description="one of your files of purpose avatar; null clears it"
    )


class AdminUserIn(Input):
    # strict=False only lets JSON's string reach the enum; anything else is still refused.
    role: Role | None = Field(None, strict=False)
    is_active: bool | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str


class UserOut(BaseModel):
    id: str
    email: str
    full_name: str
    bio: str
    role: Role
    is_active: bool
    email_verified: bool
    avatar_file_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email.value,
            full_name=user.full_name,
            bio=user.bio,
            role=user.role,
            is_active=user.is_active,
            email_verified=user.email_verified,
            avatar_file_id=user.avatar_file_id,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
