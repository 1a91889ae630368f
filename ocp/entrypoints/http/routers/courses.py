"""Courses: the catalog, authoring and lifecycle, co-instructors, modules and their lessons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from ocp.application.courses import CourseDraft, LessonDraft
from ocp.domain.courses import CatalogFilter, CatalogSort, Course, CourseChanges, Level
from ocp.entrypoints.http.caching import PUBLIC_READ_RESPONSES, public_read, validator
from ocp.entrypoints.http.deps import (
    Catalog,
    Courses,
    CurrentUser,
    IfMatch,
    OptionalUser,
    Outline,
    PagingParams,
    Trash,
    etag,
)
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.common import PageOut
from ocp.entrypoints.http.schemas.courses import (
    CourseIn,
    CourseOut,
    CoursePatchIn,
    LessonIn,
    LessonOrderIn,
    LessonOut,
    ModuleIn,
    ModuleOrderIn,
    ModuleOut,
    ModulePatchIn,
)

router = APIRouter(prefix="/api/v1/courses", tags=["courses"], route_class=GuardedRoute)


CourseId = Annotated[str, Path(max_length=64)]
NO_CONTENT = status.HTTP_204_NO_CONTENT


def _course(response: Response, course: Course) -> CourseOut:
    response.headers["ETag"] = etag(course.version)
    return CourseOut.from_domain(course)


@router.post(
    "",
    response_model=CourseOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a course (draft); its slug comes from the title",
    responses=responses(401, 403, 422),
)
async def create_course(
    body: CourseIn, user: CurrentUser, courses: Courses, response: Response
) -> CourseOut:
    course = await courses.create_course(
        user,
        CourseDraft(
            title=body.title,
            summary=body.summary,
            description=body.description,
            tags=tuple(body.tags),
            level=body.level,
            category=body.category,
            capacity=body.capacity,
        ),
    )
    response.headers["Location"] = f"{router.prefix}/{course.id}"
    return _course(response, course)


@router.get(
    "",
    response_model=PageOut[CourseOut],
    summary="Browse the catalog of published courses, or with mine=true your own",
    responses={**responses(400, 401, 422), **PUBLIC_READ_RESPONSES},
)
async def browse(
    request: Request,
    response: Response,
    user: OptionalUser,
    catalog: Catalog,
    page: PagingParams,
    q: Annotated[
        str | None, Query(max_length=200, description="words that must all appear")
    ] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    level: Level | None = None,
    category: Annotated[str | None, Query(max_length=60)] = None,
    instructor_id: Annotated[str | None, Query(max_length=64)] = None,
    mine: Annotated[bool, Query(description="your own courses in every status")] = False,
    sort: CatalogSort = CatalogSort.NEWEST,
) -> PageOut[CourseOut] | Response:
    found = await catalog.browse(
        user,
        CatalogFilter(
            query=q,
            tag=tag,
            level=level,
            category=category,
            instructor_id=instructor_id,
            mine=mine,
            sort=sort,
        ),
        limit=page.limit,
        cursor=page.cursor,
    )
    link_next(request, response, found.next_cursor)
    if not mine:
        shown = (f"{c.id}.{c.version}" for c in found.items)
        tag = validator("catalog", page.limit, found.next_cursor, *shown)
        if (unchanged := public_read(request, response, tag)) is not None:
            return unchanged
    return PageOut[CourseOut](
        items=[CourseOut.from_domain(c) for c in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/{course_id}",
    response_model=CourseOut,
    summary="One course, by id or slug",
    responses={**responses(401, 404), **PUBLIC_READ_RESPONSES},
)
async def get_course(
    # One name for one path: `/courses/{course_id}` is also PATCHed and DELETEd, and a client
    # generated from the document must see one resource, not two.
    course_id: Annotated[str, Path(max_length=100, description="the course's id or its slug")],
    user: OptionalUser,
    courses: Courses,
    request: Request,
    response: Response,
) -> CourseOut | Response:
    course = await courses.get_course(user, course_id)
    if (unchanged := public_read(request, response, etag(course.version))) is not None:
        return unchanged
    return CourseOut.from_domain(course)


@router.patch(
    "/{course_id}",
    response_model=CourseOut,
    summary="Edit a course's own fields (staff); honours If-Match",
    responses=responses(401, 403, 404, 412, 422),
)
async def edit_course(
    course_id: CourseId,
    body: CoursePatchIn,
    user: CurrentUser,
    courses: Courses,
    version: IfMatch,
    response: Response,
) -> CourseOut:
    changes = CourseChanges.named(body.named())
    return _course(response, await courses.edit_course(user, course_id, changes, version))


@router.post(
    "/{course_id}/publish",
    response_model=CourseOut,
    summary="Publish a draft (owner, admin); it needs at least one lesson",
    responses=responses(401, 403, 404, 409),
)
async def publish(
    course_id: CourseId, user: CurrentUser, courses: Courses, response: Response
) -> CourseOut:
    return _course(response, await courses.publish(user, course_id))


@router.post(
    "/{course_id}/restore",
    response_model=CourseOut,
    summary="Restore a deleted course with its lessons and assignments (admin), within 30 days",
    responses=responses(401, 403, 404, 409),
)
async def restore_course(
    course_id: CourseId, user: CurrentUser, trash: Trash, response: Response
) -> CourseOut:
    return _course(response, await trash.restore_course(user, course_id))


@router.post(
    "/{course_id}/unpublish",
    response_model=CourseOut,
    summary="Take a published course back to draft (owner, admin)",
    responses=responses(401, 403, 404, 409),
)
async def unpublish(
    course_id: CourseId, user: CurrentUser, courses: Courses, response: Response
) -> CourseOut:
    return _course(response, await courses.unpublish(user, course_id))


@router.post(
    "/{course_id}/archive",
    response_model=CourseOut,
    summary="Archive a published course (owner, admin)",
    responses=responses(401, 403, 404, 409),
)
async def archive(
    course_id: CourseId, user: CurrentUser, courses: Courses, response: Response
) -> CourseOut:
    return _course(response, await courses.archive(user, course_id))


@router.delete(
    "/{course_id}",
    status_code=NO_CONTENT,
    summary="Delete a draft course without enrollments (owner, admin)",
    responses=responses(401, 403, 404, 409),
)
async def delete_course(course_id: CourseId, user: CurrentUser, courses: Courses) -> Response:
    await courses.delete_course(user, course_id)
    return Response(status_code=NO_CONTENT)


@router.put(
    "/{course_id}/instructors/{user_id}",
    status_code=NO_CONTENT,
    summary="Add a co-instructor (owner, admin); the user must have the instructor role",
    responses=responses(401, 403, 404, 422),
)
async def add_instructor(
    course_id: CourseId,
    user_id: Annotated[str, Path(max_length=64)],
    user: CurrentUser,
    courses: Courses,
) -> Response:
    await courses.add_instructor(user, course_id, user_id)
    return Response(status_code=NO_CONTENT)


@router.delete(
    "/{course_id}/instructors/{user_id}",
    status_code=NO_CONTENT,
    summary="Remove a co-instructor (owner, admin)",
    responses=responses(401, 403, 404),
)
async def remove_instructor(
    course_id: CourseId,
    user_id: Annotated[str, Path(max_length=64)],
    user: CurrentUser,
    courses: Courses,
) -> Response:
    await courses.remove_instructor(user, course_id, user_id)
    return Response(status_code=NO_CONTENT)


# --- modules -------------------------------------------------------------------------------


@router.post(
    "/{course_id}/modules",
    response_model=ModuleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Append a module (course staff)",
    responses=responses(401, 403, 404, 422),
)
async def add_module(
    course_id: CourseId, body: ModuleIn, user: CurrentUser, outline: Outline
) -> ModuleOut:
    course, module = await outline.add_module(user, course_id, body.title, body.summary)
    return ModuleOut.from_domain(module, course.position_of(module))


@router.get(
    "/{course_id}/modules",
    response_model=list[ModuleOut],
    summary="The course outline: modules in order, each with its lessons' outline",
    responses={**responses(401, 404), **PUBLIC_READ_RESPONSES},
)
async def list_modules(
    course_id: CourseId,
    user: OptionalUser,
    outline: Outline,
    request: Request,
    response: Response,
) -> list[ModuleOut] | Response:
    course = await outline.modules(user, course_id)
    tag = validator("modules", course.id, course.version)
    if (unchanged := public_read(request, response, tag)) is not None:
        return unchanged
    return ModuleOut.outline(course)


@router.put(
    "/{course_id}/modules/order",
    response_model=list[ModuleOut],
    summary="Reorder the modules (course staff); the ids must be a permutation of the current",
    responses=responses(401, 403, 404, 422),
)
async def reorder_modules(
    course_id: CourseId, body: ModuleOrderIn, user: CurrentUser, outline: Outline
) -> list[ModuleOut]:
    return ModuleOut.outline(await outline.reorder_modules(user, course_id, body.module_ids))


@router.patch(
    "/{course_id}/modules/{module_id}",
    response_model=ModuleOut,
    summary="Rename or re-summarise a module (course staff)",
    responses=responses(401, 403, 404, 422),
)
async def edit_module(
    course_id: CourseId,
    module_id: CourseId,
    body: ModulePatchIn,
    user: CurrentUser,
    outline: Outline,
) -> ModuleOut:
    course, module = await outline.edit_module(
        user, course_id, module_id, title=body.title, summary=body.summary
    )
    return ModuleOut.from_domain(module, course.position_of(module))


@router.delete(
    "/{course_id}/modules/{module_id}",
    status_code=NO_CONTENT,
    summary="Delete a module and its lessons (course staff)",
    responses=responses(401, 403, 404),
)
async def delete_module(
    course_id: CourseId, module_id: CourseId, user: CurrentUser, outline: Outline
) -> Response:
    await outline.delete_module(user, course_id, module_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/{course_id}/modules/{module_id}/restore",
    response_model=ModuleOut,
    summary="Restore a deleted module with its lessons where it stood (admin), within 30 days",
    responses=responses(401, 403, 404, 409),
)
async def restore_module(
    course_id: CourseId, module_id: CourseId, user: CurrentUser, trash: Trash
) -> ModuleOut:
    course, module = await trash.restore_module(user, course_id, module_id)
    return ModuleOut.from_domain(module, course.position_of(module))


@router.post(
    "/{course_id}/modules/{module_id}/lessons",
    response_model=LessonOut,
    status_code=status.HTTP_201_CREATED,
    summary="Append a lesson to a module (course staff)",
    responses=responses(401, 403, 404, 422),
)
async def add_lesson(
    course_id: CourseId,
    module_id: CourseId,
    body: LessonIn,
    user: CurrentUser,
    outline: Outline,
    response: Response,
) -> LessonOut:
    lesson = await outline.add_lesson(
        user,
        course_id,
        module_id,
        LessonDraft(
            title=body.title,
            kind=body.kind,
            body_markdown=body.body_markdown,
            file_id=body.file_id,
            duration_s=body.duration_s,
            is_preview=body.is_preview,
        ),
    )
    response.headers["ETag"] = etag(lesson.version)
    response.headers["Location"] = f"/api/v1/lessons/{lesson.id}"
    return LessonOut.from_domain(lesson)


@router.put(
    "/{course_id}/modules/{module_id}/lessons/order",
    response_model=ModuleOut,
    summary="Reorder a module's lessons (course staff); the ids must be a permutation",
    responses=responses(401, 403, 404, 422),
)
async def reorder_lessons(
    course_id: CourseId,
    module_id: CourseId,
    body: LessonOrderIn,
    user: CurrentUser,
    outline: Outline,
) -> ModuleOut:
    course, module = await outline.reorder_lessons(user, course_id, module_id, body.lesson_ids)
    return ModuleOut.from_domain(module, course.position_of(module))
