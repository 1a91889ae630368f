"""Enrollments: enrolling (self, or many by email or CSV), dropping, the roster, a student's
courses, lesson completion and progress."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ocp.application.ports.events import Job
from ocp.domain.errors import PayloadTooLarge, UnsupportedContent
from ocp.entrypoints.http.deps import CurrentUser, Enrollments, PagingParams, Progress
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute, body_stream, streams_own_body
from ocp.entrypoints.http.schemas.common import PageOut
from ocp.entrypoints.http.schemas.events import JobOut
from ocp.entrypoints.http.schemas.learning import (
    BulkEnrollIn,
    BulkReportOut,
    CourseProgressOut,
    EnrollmentOut,
    MyEnrollmentOut,
    RosterItemOut,
    emails_from_csv,
)
from ocp.entrypoints.http.uploads import FilePart, MultipartStream, declared_length

router = APIRouter(tags=["enrollments"], route_class=GuardedRoute)

BULK_CSV_MAX_BYTES = 8 * 1024 * 1024  # 100,000 addresses of 80 characters
NO_CONTENT = status.HTTP_204_NO_CONTENT
CourseId = Annotated[str, Path(max_length=64)]
LessonId = Annotated[str, Path(max_length=64)]


@router.post(
    "/api/v1/courses/{course_id}/enrollments",
    response_model=EnrollmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Enroll in a published course (201); enrolling again answers 200 with the same "
    "enrollment",
    responses={
        200: {"description": "already enrolled: the same enrollment", "model": EnrollmentOut},
        **responses(401, 403, 404, 409),
    },
)
async def enroll(
    course_id: CourseId, user: CurrentUser, service: Enrollments, response: Response
) -> EnrollmentOut:
    report, made = await service.enroll(user, course_id)
    if not made:
        response.status_code = status.HTTP_200_OK
    return EnrollmentOut.from_domain(report.enrollment, report.progress)


_BULK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BulkEnrollIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV: one email a row, an optional `email` header",
                        }
                    },
                }
            },
        },
    }
}


@router.post(
    "/api/v1/courses/{course_id}/enrollments/bulk",
    response_model=BulkReportOut,
    summary="Enroll many students by email (course staff): JSON `{emails}` or a CSV `file`; "
    "over OCP_BULK_SYNC_MAX rows, 202 and a job",
    responses={
        202: {
            "model": JobOut,
            "description": "a job enrolls them; `Location` names it",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **responses(400, 401, 403, 404, 409, 413, 415, 422),
    },
    openapi_extra=_BULK_BODY,
)
@streams_own_body
async def bulk_enroll(
    course_id: CourseId, request: Request, user: CurrentUser, service: Enrollments
) -> BulkReportOut | JSONResponse:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            emails = BulkEnrollIn.model_validate_json(await request.body()).emails
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_context=False)]
            ) from None
    elif kind == "multipart/form-data":
        emails = await _csv_emails(request)
    else:
        raise UnsupportedContent('send JSON {"emails": [...]} or a multipart CSV `file`')
    outcome = await service.bulk_enroll_or_queue(user, course_id, emails)
    if isinstance(outcome, Job):
        return JSONResponse(
            JobOut.from_domain(outcome).model_dump(mode="json"),
            status_code=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/jobs/{outcome.id}"},
        )
    return BulkReportOut.from_domain(outcome)


async def _csv_emails(request: Request) -> list[str]:
    form = MultipartStream(
        body_stream(request),
        request.headers.get("content-type"),
        max_file_bytes=BULK_CSV_MAX_BYTES,
        declared_length=declared_length(request.headers),
    )

    async def read_csv(body: AsyncIterator[bytes], part: FilePart) -> bytes:
        content = bytearray()
        async for chunk in body:
            content += chunk
            if len(content) > BULK_CSV_MAX_BYTES:
                raise PayloadTooLarge(f"the CSV file may be at most {BULK_CSV_MAX_BYTES} bytes")
        return bytes(content)

    read = await form.read(read_csv)
    if read.file is None:
        raise UnsupportedContent("send the CSV as the multipart part `file`")
    return emails_from_csv(read.file)


@router.delete(
    "/api/v1/courses/{course_id}/enrollments/me",
    status_code=NO_CONTENT,
    summary="Drop a course: the enrollment and its progress go, the seat is given back",
    responses=responses(401, 403, 404),
)
async def drop(course_id: CourseId, user: CurrentUser, service: Enrollments) -> Response:
    await service.drop(user, course_id)
    return Response(status_code=NO_CONTENT)


@router.get(
    "/api/v1/courses/{course_id}/enrollments",
    response_model=PageOut[RosterItemOut],
    summary="The roster (course staff): students in enrollment order with their progress",
    responses=responses(400, 401, 403, 404, 422),
)
async def roster(
    course_id: CourseId,
    request: Request,
    user: CurrentUser,
    service: Progress,
    page: PagingParams,
    response: Response,
) -> PageOut[RosterItemOut]:
    found = await service.roster(user, course_id, limit=page.limit, cursor=page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[RosterItemOut](
        items=[RosterItemOut.from_entry(e) for e in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/api/v1/users/me/enrollments",
    response_model=PageOut[MyEnrollmentOut],
    summary="The caller's courses with their progress",
    responses=responses(400, 401, 422),
)
async def my_enrollments(
    request: Request,
    user: CurrentUser,
    service: Progress,
    page: PagingParams,
    response: Response,
) -> PageOut[MyEnrollmentOut]:
    found = await service.my_enrollments(user, limit=page.limit, cursor=page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[MyEnrollmentOut](
        items=[MyEnrollmentOut.from_entry(e) for e in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/api/v1/courses/{course_id}/progress",
    response_model=CourseProgressOut,
    summary="The caller's progress in a course they are enrolled in",
    responses=responses(401, 403, 404),
)
async def progress(course_id: CourseId, user: CurrentUser, service: Progress) -> CourseProgressOut:
    return CourseProgressOut.from_domain(await service.progress(user, course_id))


@router.put(
    "/api/v1/lessons/{lesson_id}/completion",
    status_code=NO_CONTENT,
    summary="Mark a lesson complete (enrolled students; idempotent)",
    responses=responses(401, 403, 404),
)
async def complete_lesson(lesson_id: LessonId, user: CurrentUser, service: Progress) -> Response:
    await service.complete_lesson(user, lesson_id)
    return Response(status_code=NO_CONTENT)


@router.delete(
    "/api/v1/lessons/{lesson_id}/completion",
    status_code=NO_CONTENT,
    summary="Mark a lesson not complete again (enrolled students; idempotent)",
    responses=responses(401, 403, 404),
)
async def reopen_lesson(lesson_id: LessonId, user: CurrentUser, service: Progress) -> Response:
    await service.reopen_lesson(user, lesson_id)
    return Response(status_code=NO_CONTENT)
