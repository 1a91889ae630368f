"""Lessons by id: reading a full lesson, editing and deleting it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from ocp.domain.courses import LessonChanges
from ocp.entrypoints.http.caching import PUBLIC_READ_RESPONSES, public_read
from ocp.entrypoints.http.deps import CurrentUser, IfMatch, OptionalUser, Outline, Trash, etag
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.courses import LessonOut, LessonPatchIn

router = APIRouter(prefix="/api/v1/lessons", tags=["lessons"], route_class=GuardedRoute)

LessonId = Annotated[str, Path(max_length=64)]


@router.get(
    "/{lesson_id}",
    response_model=LessonOut,
    summary="A full lesson: for course staff, enrolled students, and anyone when it is a "
    "preview of a published course",
    responses={**responses(401, 404), **PUBLIC_READ_RESPONSES},
)
async def get_lesson(
    lesson_id: LessonId,
    user: OptionalUser,
    outline: Outline,
    request: Request,
    response: Response,
) -> LessonOut | Response:
    lesson = await outline.get_lesson(user, lesson_id)
    # Anonymous readers only ever see previews: their copy is the public one.
    if (unchanged := public_read(request, response, etag(lesson.version))) is not None:
        return unchanged
    return LessonOut.from_domain(lesson)


@router.post(
    "/{lesson_id}/restore",
    response_model=LessonOut,
    summary="Restore a deleted lesson where it stood in its module (admin), within 30 days",
    responses=responses(401, 403, 404, 409),
)
async def restore_lesson(
    lesson_id: LessonId, user: CurrentUser, trash: Trash, response: Response
) -> LessonOut:
    lesson = await trash.restore_lesson(user, lesson_id)
    response.headers["ETag"] = etag(lesson.version)
    return LessonOut.from_domain(lesson)


@router.patch(
    "/{lesson_id}",
    response_model=LessonOut,
    summary="Edit a lesson (course staff); honours If-Match",
    responses=responses(401, 403, 404, 412, 422),
)
async def edit_lesson(
    lesson_id: LessonId,
    body: LessonPatchIn,
    user: CurrentUser,
    outline: Outline,
    version: IfMatch,
    response: Response,
) -> LessonOut:
    changes = LessonChanges.named(body.named())
    lesson = await outline.edit_lesson(user, lesson_id, changes, version)
    response.headers["ETag"] = etag(lesson.version)
    return LessonOut.from_domain(lesson)


@router.delete(
    "/{lesson_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a lesson (course staff)",
    responses=responses(401, 403, 404),
)
async def delete_lesson(lesson_id: LessonId, user: CurrentUser, outline: Outline) -> Response:
    await outline.delete_lesson(user, lesson_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
