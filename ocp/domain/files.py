"""Files: what each purpose may contain, the stored file's record, direct-upload sessions and
the rules on client filenames (kept only as sanitized metadata, never as a storage name)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocp.domain.errors import RuleViolated, UnsupportedContent

FILENAME_MAX_CHARS = 200


class FilePurpose(StrEnum):
    AVATAR = "avatar"
    COURSE_COVER = "course_cover"
    LESSON_MATERIAL = "lesson_material"
    SUBMISSION = "submission"

    @property
    def needs_course(self) -> bool:
        """Every purpose but avatar belongs to a course: who may read follows from it."""
        return self is not FilePurpose.AVATAR


IMAGES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
DOCUMENTS = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/epub+zip",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
MEDIA = frozenset({"video/mp4", "video/webm", "audio/mpeg", "audio/ogg", "audio/wav"})
TEXT = frozenset({"text/plain"})

ALLOWED_TYPES: dict[FilePurpose, frozenset[str]] = {
    FilePurpose.AVATAR: IMAGES,
    FilePurpose.COURSE_COVER: IMAGES,
    FilePurpose.LESSON_MATERIAL: DOCUMENTS | IMAGES | MEDIA | TEXT,
    FilePurpose.SUBMISSION: DOCUMENTS | IMAGES | TEXT,
}


def purpose_of(value: str) -> FilePurpose:
    try:
        return FilePurpose(value)
    except ValueError:
        names = ", ".join(p.value for p in FilePurpose)
        raise RuleViolated(f"must be one of {names}", field="purpose") from None


def check_course(purpose: FilePurpose, course_id: str | None) -> None:
    if purpose.needs_course and not course_id:
        raise RuleViolated(f"is required for purpose {purpose.value}", field="course_id")
    if not purpose.needs_course and course_id:
        raise RuleViolated(f"must be empty for purpose {purpose.value}", field="course_id")


def check_content_type(purpose: FilePurpose, content_type: str | None) -> str:
    """The sniffed type if this purpose allows it; `UnsupportedContent` (415) otherwise."""
    if content_type is None or content_type not in ALLOWED_TYPES[purpose]:
        found = content_type or "an unrecognised type"
        raise UnsupportedContent(f"the content is {found}, which {purpose.value} files cannot be")
    return content_type


def sanitize_filename(value: str) -> str:
    """A display name safe for any header or file system: the last path segment only, no
    control or format characters, no leading dots, at most 200 characters (extension kept)."""
    name = unicodedata.normalize("NFC", value).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(ch) in ("Zl", "Zp") or ch in "\t\r\n" else ch
        for ch in name
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in "\t\r\n"
    )
    name = " ".join(name.split()).strip(". ")
    if len(name) > FILENAME_MAX_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = f"{stem[: FILENAME_MAX_CHARS - len(ext) - 1].rstrip()}.{ext}"
        else:
            name = name[:FILENAME_MAX_CHARS].rstrip()
    return name or "file"


@dataclass(slots=True)
class StoredFile:
    """A file whose content is in the store; recorded only after the content is there."""

    id: str
    owner_id: str
    purpose: FilePurpose
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    created_at: datetime
    course_id: str | None = None

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'

    def is_owned_by(self, user_id: str | None) -> bool:
        return user_id is not None and user_id == self.owner_id

    def attachable_by(
        self, user_id: str, purpose: FilePurpose, course_id: str | None = None
    ) -> bool:
        """Whether `user_id` may point something at this file for `purpose`: an avatar, a
        course's cover or lesson material, a submission. Only their own file uploaded for that
        purpose (and, for a course's purposes, for that course) ever is."""
        return (
            self.owner_id == user_id
            and self.purpose is purpose
            and (not purpose.needs_course or self.course_id == course_id)
        )


@dataclass(slots=True)
class UploadSession:
    """A direct upload in progress: the client sends the bytes to `storage_key` (a presigned
    URL or the API's own), then completes it. Only the hash of its secret token is kept."""

    id: str
    owner_id: str
    purpose: FilePurpose
    filename: str
    size: int
    declared_type: str
    storage_key: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    course_id: str | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
