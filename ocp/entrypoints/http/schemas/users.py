"""Identity schemas: registration, tokens, passwords, profiles, admin changes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ocp.application.identity import AccountExport
from ocp.application.ports.identity import SessionInfo
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
from ocp.entrypoints.http.schemas.files import FileOut
from ocp.entrypoints.http.schemas.learning import ReviewOut, SubmissionOut

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


class EmailChangeIn(Input):
    new_email: str = EmailField
    current_password: str = Field(max_length=PASSWORD_MAX_CHARS)


class CurrentPasswordIn(Input):
    current_password: str = Field(max_length=PASSWORD_MAX_CHARS)


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime = Field(description="the session's last login or refresh")
    user_agent: str | None
    current: bool = Field(description="the session of the token that asked")

    @classmethod
    def from_domain(cls, session: SessionInfo, current_session: str) -> SessionOut:
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            user_agent=session.user_agent,
            current=session.id == current_session,
        )


class SessionsOut(BaseModel):
    items: list[SessionOut]


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


class ExportedEnrollmentOut(BaseModel):
    id: str
    course_id: str
    enrolled_at: datetime
    completed_lesson_ids: list[str]
    completed_at: datetime | None


class AccountExportOut(BaseModel):
    """Every record of the caller's: profile, sessions, enrolments with their progress,
    submissions with their grades, reviews, and their files' metadata."""

    exported_at: datetime
    profile: UserOut
    sessions: list[SessionOut]
    enrollments: list[ExportedEnrollmentOut]
    submissions: list[SubmissionOut]
    reviews: list[ReviewOut]
    files: list[FileOut]

    @classmethod
    def from_domain(cls, export: AccountExport, current_session: str) -> AccountExportOut:
        return cls(
            exported_at=export.exported_at,
            profile=UserOut.from_domain(export.user),
            sessions=[SessionOut.from_domain(s, current_session) for s in export.sessions],
            enrollments=[
                ExportedEnrollmentOut(
                    id=e.id,
                    course_id=e.course_id,
                    enrolled_at=e.enrolled_at,
                    completed_lesson_ids=list(e.completed_lesson_ids),
                    completed_at=e.completed_at,
                )
                for e in export.enrollments
            ],
            submissions=[SubmissionOut.from_domain(x) for x in export.submissions],
            reviews=[ReviewOut.from_domain(r) for r in export.reviews],
            files=[FileOut.from_domain(f) for f in export.files],
        )
