"""Files: streaming uploads, direct uploads, metadata, downloads with ranges, deletion."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.requests import ClientDisconnect

from ocp.application.files import DirectUploadRequest, OnFile
from ocp.domain.files import FilePurpose, StoredFile
from ocp.entrypoints.http.caching import matches
from ocp.entrypoints.http.deps import (
    CurrentUser,
    DirectUploads,
    Files,
    OptionalUser,
    PagingParams,
    Uploads,
)
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import RangeNotSatisfiable, responses
from ocp.entrypoints.http.routing import GuardedRoute, body_stream, streams_own_body
from ocp.entrypoints.http.schemas.common import PageOut
from ocp.entrypoints.http.schemas.files import DirectUploadIn, DirectUploadOut, FileOut
from ocp.entrypoints.http.uploads import FilePart, MultipartStream, declared_length

router = APIRouter(prefix="/api/v1/files", tags=["files"], route_class=GuardedRoute)

UPLOAD_TOKEN_HEADER = "X-Upload-Token"
# Shown in the browser only when it is media; a PDF or text is downloaded (a PDF viewer runs
# scripts, and text can be read as HTML by an old browser).
_INLINE = ("image/", "video/", "audio/")
# Whatever a file holds, a browser opening it runs nothing and loads nothing.
_SANDBOX = "sandbox; default-src 'none'"
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,-]")


_MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "purpose"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "purpose": {"type": "string", "enum": [p.value for p in FilePurpose]},
                        "course_id": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    summary="Upload a file (multipart/form-data, streamed straight into the store)",
    responses=responses(401, 413, 415, 422),
    openapi_extra=_MULTIPART_BODY,
)
@streams_own_body
async def upload(request: Request, user: CurrentUser, uploads: Uploads) -> Any:
    form = MultipartStream(
        body_stream(request),
        request.headers.get("content-type"),
        max_file_bytes=uploads.max_upload_bytes,
        declared_length=declared_length(request.headers),
        text_fields=frozenset({"purpose", "course_id"}),
    )

    async def read_form(on_file: OnFile) -> dict[str, str]:
        async def file_part(body: AsyncIterator[bytes], part: FilePart) -> None:
            await on_file(body, part.filename)

        return (await form.read(file_part)).fields

    try:
        recorded = await uploads.upload(user, read_form)
    except ClientDisconnect:
        return Response(status_code=status.HTTP_400_BAD_REQUEST)  # nobody is left to read it
    return FileOut.from_domain(recorded)


@router.get(
    "",
    response_model=PageOut[FileOut],
    summary="The caller's files, newest first",
    responses=responses(400, 401, 422),
)
async def list_files(
    user: CurrentUser,
    files: Files,
    page: PagingParams,
    request: Request,
    response: Response,
    purpose: FilePurpose | None = None,
    course_id: str | None = None,
) -> PageOut[FileOut]:
    found = await files.list_files(
        user, purpose=purpose, course_id=course_id, limit=page.limit, cursor=page.cursor
    )
    link_next(request, response, found.next_cursor)
    return PageOut[FileOut](
        items=[FileOut.from_domain(f) for f in found.items], next_cursor=found.next_cursor
    )


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=DirectUploadOut,
    summary="Start a direct upload: where to send the bytes without passing them through the API",
    responses=responses(401, 413, 422),
)
async def start_direct_upload(
    body: DirectUploadIn, user: CurrentUser, direct: DirectUploads, request: Request
) -> DirectUploadOut:
    ticket = await direct.start_direct_upload(
        user,
        DirectUploadRequest(
            filename=body.filename,
            size=body.size,
            content_type=body.content_type,
            purpose=body.purpose.value,
            course_id=body.course_id,
        ),
    )
    session = ticket.session
    if ticket.presigned is not None:
        method, url, headers = (
            ticket.presigned.method,
            ticket.presigned.url,
            ticket.presigned.headers,
        )
    else:
        method = "PUT"
        # Never from the Host header: a forged one would send the bytes, and the upload's
        # token, to whoever the client named.
        path = request.app.url_path_for("receive_direct_upload", upload_id=session.id)
        url = request.app.state.public_base_url + str(path)
        headers = {"Content-Type": "application/octet-stream", UPLOAD_TOKEN_HEADER: ticket.token}
    return DirectUploadOut(
        upload_id=session.id,
        method=method,
        url=url,
        headers=headers,
        expires_at=session.expires_at,
    )


@router.put(
    "/uploads/{upload_id}/content",
    status_code=status.HTTP_204_NO_CONTENT,
    name="receive_direct_upload",
    summary="The bytes of a direct upload (stores without presigned URLs); authorized by the "
    "upload's token header",
    responses=responses(404, 413),
)
@streams_own_body
async def receive_direct_upload(
    upload_id: str,
    request: Request,
    direct: DirectUploads,
    token: Annotated[str, Header(alias=UPLOAD_TOKEN_HEADER, max_length=128)],
) -> Response:
    try:
        await direct.receive_direct(upload_id, token, body_stream(request))
    except ClientDisconnect:
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/uploads/{upload_id}/complete",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    summary="Finish a direct upload: the stored bytes are checked (size, type) and recorded",
    responses=responses(401, 404, 409, 415),
)
async def complete_direct_upload(
    upload_id: str, user: CurrentUser, direct: DirectUploads
) -> FileOut:
    return FileOut.from_domain(await direct.complete_direct_upload(user, upload_id))


@router.get(
    "/{file_id}",
    response_model=FileOut,
    summary="A file's metadata",
    responses=responses(401, 404),
)
async def get_file(file_id: str, user: OptionalUser, files: Files) -> FileOut:
    return FileOut.from_domain(await files.get_file(user, file_id))


@router.get(
    "/{file_id}/content",
    summary="Download a file: streamed, with Range, ETag and If-None-Match",
    response_class=StreamingResponse,
    responses={
        200: {"description": "the whole content, of its stored type", "content": {"*/*": {}}},
        206: {"description": "the requested range", "content": {"*/*": {}}},
        304: {"description": "not modified (If-None-Match)"},
        307: {"description": "redirect to a short-lived URL of the store"},
        **responses(401, 404, 416),
    },
)
async def download(file_id: str, request: Request, user: OptionalUser, files: Files) -> Response:
    file = await files.get_file(user, file_id)
    common = _validators(file)
    if matches(request.headers.get("if-none-match"), file.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=common)
    url = await files.download_url(file)
    if url is not None:
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted and if_range and if_range.strip() != file.etag:
        wanted = None  # the client's partial copy is of other content: send it all
    chosen = parse_range(wanted, file.size) if wanted else None
    headers = {
        **common,
        "Content-Disposition": content_disposition(file),
    }
    if chosen is None:
        headers["Content-Length"] = str(file.size)
        return StreamingResponse(
            await files.content(file), headers=headers, media_type=_media_type(file)
        )
    start, end = chosen
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{file.size}"
    return StreamingResponse(
        await files.content(file, start, end),
        status_code=status.HTTP_206_PARTIAL_CONTENT,
        headers=headers,
        media_type=_media_type(file),
    )


@router.head(
    "/{file_id}/content",
    summary="A download's headers without its content: size, type, ETag, disposition",
    responses={
        200: {"description": "the headers a GET of the whole content gets, no body"},
        304: {"description": "not modified (If-None-Match)"},
        **responses(401, 404),
    },
)
async def download_headers(
    file_id: str, request: Request, user: OptionalUser, files: Files
) -> Response:
    """Answered from the file's record, without reading the store and without a redirect (a
    presigned URL is signed for GET alone). Range is ignored, as RFC 9110 14.2 asks of HEAD."""
    file = await files.get_file(user, file_id)
    common = _validators(file)
    if matches(request.headers.get("if-none-match"), file.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=common)
    headers = {
        **common,
        "Content-Disposition": content_disposition(file),
        "Content-Length": str(file.size),
    }
    return Response(headers=headers, media_type=_media_type(file))


def _validators(file: StoredFile) -> dict[str, str]:
    """The headers every answer about a file's content carries, 304 included."""
    return {
        "ETag": file.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private",
        "Content-Security-Policy": _SANDBOX,
    }


def _media_type(file: StoredFile) -> str:
    return "text/plain; charset=utf-8" if file.content_type == "text/plain" else file.content_type


@router.delete(
    "/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a file (owner or admin); 409 while a lesson or graded submission uses it",
    responses=responses(401, 403, 404, 409),
)
async def delete_file(file_id: str, user: CurrentUser, files: Files) -> Response:
    await files.delete_file(user, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- HTTP details of downloads -------------------------------------------------------------

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range a `Range` header asks for, as inclusive (start, end); None to send
    everything (another unit, or several ranges, which we may ignore: RFC 9110 14.2);
    `RangeNotSatisfiable` for a malformed range or one past the end."""
    value = header.strip()
    if not value.lower().startswith("bytes"):
        return None
    if "," in value:
        return None
    match = _RANGE.match(value)
    if not match or (not match[1] and not match[2]):
        raise RangeNotSatisfiable("the Range header is malformed", size)
    first, last = match[1], match[2]
    if not first:  # a suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable("the range is empty", size)
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"the content has {size} bytes", size)
    return start, min(end, size - 1)


def content_disposition(file: StoredFile) -> str:
    """RFC 6266: an ASCII fallback `filename` and the exact name as `filename*` (RFC 8187)."""
    kind = "inline" if file.content_type.startswith(_INLINE) else "attachment"
    folded = unicodedata.normalize("NFKD", file.filename).encode("ascii", "ignore").decode()
    fallback = _ASCII_UNSAFE.sub("_", folded).strip() or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file.filename, safe='')}"
