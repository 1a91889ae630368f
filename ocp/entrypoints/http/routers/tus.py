"""Resumable uploads, tus 1.0 (core, creation, creation-with-upload, termination, expiration,
checksum with sha256) at `/api/v1/files/tus`: a direct upload whose bytes arrive in appended
parts, so a client that lost its connection sends only what is missing. When the last byte
arrives, the file is checked as `POST /files` checks it and recorded; its id (the upload's)
comes back in `OCP-File-Id`. Bearer on every request; an upload is only ever its owner's.
Disk and memory stores today (S3 multipart parts: issue 13, open)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC
from email.utils import format_datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, Response, status
from starlette.requests import ClientDisconnect

from ocp.application.files.direct import DirectUploadRequest, ResumableState
from ocp.domain.errors import RuleViolated
from ocp.entrypoints.http.deps import CurrentUser, DirectUploads
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute, body_stream, streams_own_body

router = APIRouter(prefix="/api/v1/files/tus", tags=["files"], route_class=GuardedRoute)

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_STREAM = "application/offset+octet-stream"
METADATA_KEYS = {"filename", "purpose", "course_id", "content_type"}


def _tus(headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"Tus-Resumable": VERSION, "Cache-Control": "no-store", **(headers or {})}


def _state_headers(state: ResumableState) -> dict[str, str]:
    headers = {"Upload-Offset": str(state.offset), "Upload-Length": str(state.length)}
    if state.session is not None:
        expires = state.session.expires_at.astimezone(UTC)  # the driver's own UTC tzinfo
        headers["Upload-Expires"] = format_datetime(expires, usegmt=True)
    if state.file is not None:
        headers["OCP-File-Id"] = state.file.id
    return _tus(headers)


def _metadata(raw: str) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs."""
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, encoded = pair.partition(" ")
        if key not in METADATA_KEYS:
            continue
        try:
            found[key] = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise RuleViolated(f"Upload-Metadata {key} is not base64 of UTF-8", key) from None
    return found


def _checksum(raw: str | None) -> bytes | None:
    if raw is None:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise RuleViolated("Upload-Checksum must be sha256", field="Upload-Checksum")
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise RuleViolated("Upload-Checksum is not base64", field="Upload-Checksum") from None
    if len(digest) != 32:
        raise RuleViolated("Upload-Checksum is not a sha256", field="Upload-Checksum")
    return digest


@router.options(
    "", summary="What this tus server supports", status_code=204, include_in_schema=False
)
async def tus_options(request: Request) -> Response:
    max_size = request.app.state.container.file_policy().max_upload_bytes
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers=_tus(
            {
                "Tus-Version": VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(max_size),
                "Tus-Checksum-Algorithm": "sha256",
            }
        ),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a resumable upload (tus); with a body, its first part",
    responses=responses(400, 401, 403, 404, 413, 415, 422),
)
@streams_own_body
async def tus_create(
    request: Request,
    user: CurrentUser,
    direct: DirectUploads,
    upload_length: Annotated[int, Header(ge=0)],
    upload_metadata: Annotated[str, Header(max_length=4096)] = "",
    content_type: Annotated[str | None, Header()] = None,
    upload_checksum: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    meta = _metadata(upload_metadata)
    session = await direct.start_resumable_upload(
        user,
        DirectUploadRequest(
            filename=meta.get("filename", "upload"),
            size=upload_length,
            content_type=meta.get("content_type", "application/octet-stream"),
            purpose=meta.get("purpose", ""),
            course_id=meta.get("course_id") or None,
        ),
    )
    upload_id = session.id
    location = {"Location": f"/api/v1/files/tus/{upload_id}"}
    if content_type == OFFSET_STREAM or upload_length == 0:
        state = await direct.append_resumable(
            user, upload_id, 0, body_stream(request), _checksum(upload_checksum)
        )
        return Response(status_code=201, headers={**_state_headers(state), **location})
    state = await direct.resumable_state(user, upload_id)
    return Response(status_code=201, headers={**_state_headers(state), **location})


@router.head(
    "/{upload_id}",
    summary="Where a resumable upload stands (Upload-Offset; OCP-File-Id once complete)",
    responses=responses(401, 404),
)
async def tus_head(upload_id: str, user: CurrentUser, direct: DirectUploads) -> Response:
    state = await direct.resumable_state(user, upload_id)
    return Response(status_code=status.HTTP_200_OK, headers=_state_headers(state))


@router.patch(
    "/{upload_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Append a part at Upload-Offset (409 on a mismatch, 460 on a checksum mismatch)",
    responses=responses(400, 401, 404, 409, 413, 415, 422),
)
@streams_own_body
async def tus_patch(
    upload_id: str,
    request: Request,
    user: CurrentUser,
    direct: DirectUploads,
    upload_offset: Annotated[int, Header(ge=0)],
    content_type: Annotated[Literal["application/offset+octet-stream"], Header()],
    upload_checksum: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    try:
        state = await direct.append_resumable(
            user, upload_id, upload_offset, body_stream(request), _checksum(upload_checksum)
        )
    except ClientDisconnect:
        return Response(status_code=status.HTTP_400_BAD_REQUEST, headers=_tus())
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_state_headers(state))


@router.delete(
    "/{upload_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Give up a resumable upload (termination): its bytes go",
    responses=responses(401, 404, 409),
)
async def tus_delete(upload_id: str, user: CurrentUser, direct: DirectUploads) -> Response:
    await direct.terminate_resumable(user, upload_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_tus())
