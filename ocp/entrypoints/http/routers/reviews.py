"""Reviews: an enrolled student's rating of a course (one each, editable), and the list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ocp.entrypoints.http.deps import CurrentUser, OptionalUser, PagingParams, Reviews, etag
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.common import PageOut
from ocp.entrypoints.http.schemas.learning import ReviewIn, ReviewOut

router = APIRouter(prefix="/api/v1/courses", tags=["reviews"], route_class=GuardedRoute)

CourseId = Annotated[str, Path(max_length=64)]


@router.put(
    "/{course_id}/reviews/me",
    response_model=ReviewOut,
    summary="Write or revise the caller's review (enrolled students); the course's "
    "rating_avg and rating_count follow",
    responses=responses(401, 403, 404, 422),
)
async def review(
    course_id: CourseId, body: ReviewIn, user: CurrentUser, reviews: Reviews, response: Response
) -> ReviewOut:
    written = await reviews.review(user, course_id, body.rating, body.comment)
    response.headers["ETag"] = etag(written.version)
    return ReviewOut.from_domain(written)


@router.get(
    "/{course_id}/reviews",
    response_model=PageOut[ReviewOut],
    summary="A course's reviews, newest first (anyone who may see the course)",
    responses=responses(400, 401, 404, 422),
)
async def list_reviews(
    course_id: CourseId,
    request: Request,
    user: OptionalUser,
    reviews: Reviews,
    page: PagingParams,
    response: Response,
) -> PageOut[ReviewOut]:
    found = await reviews.list_reviews(user, course_id, limit=page.limit, cursor=page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[ReviewOut](
        items=[ReviewOut.from_domain(r) for r in found.items], next_cursor=found.next_cursor
    )
