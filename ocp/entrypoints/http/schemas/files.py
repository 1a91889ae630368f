"""Files schemas: file metadata and direct uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ocp.domain.files import FilePurpose, StoredFile
from ocp.entrypoints.http.schemas.common import Input, WholeNumber


class FileOut(BaseModel):
    id: str
    filename: str = Field(description="the client's filename, sanitized; never a storage name")
    content_type: str = Field(description="decided from the bytes, not from the client")
    size: int = Field(description="bytes")
    sha256: str = Field(description="hex digest of the content")
    purpose: FilePurpose
    owner_id: str
    course_id: str | None
    created_at: datetime

    @classmethod
    def from_domain(cls, file: StoredFile) -> FileOut:
        return cls(
            id=file.id,
            filename=file.filename,
            content_type=file.content_type,
            size=file.size,
            sha256=file.sha256,
            purpose=file.purpose,
            owner_id=file.owner_id,
            course_id=file.course_id,
            created_at=file.created_at,
        )


class DirectUploadIn(Input):
    filename: str = Field(min_length=1, max_length=1000, description="kept, sanitized, as metadata")
    size: Annotated[
        int, Field(ge=0, description="exact size in bytes of what will be sent"), WholeNumber
    ]
    content_type: str = Field(
        max_length=255, description="informative only: the type is decided from the bytes"
    )
    purpose: FilePurpose = Field(strict=False, description="what the file is for")
    course_id: str | None = Field(None, max_length=64, description="required but for avatars")


class DirectUploadOut(BaseModel):
    upload_id: str
    method: str = Field(description="HTTP method to send the bytes with")
    url: str = Field(description="where to send the bytes: a presigned URL or the API's own")
    headers: dict[str, str] = Field(description="headers to send with the bytes")
    expires_at: datetime
