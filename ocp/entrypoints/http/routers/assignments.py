"""Assignments, submissions and grades: staff set and grade work, students submit attempts
and read their grades, staff read the gradebook as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from ocp.application.learning import (
    AssignmentDraft,
    SubmissionDraft,
)
from ocp.domain.learning import Assignment, AssignmentChanges
from ocp.entrypoints.http.deps import (
    Assignments,
    CurrentUser,
    Grades,
    IfMatch,
    PagingParams,
    Trash,
    etag,
)
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.common import PageOut
from ocp.entrypoints.http.schemas.learning import (
    AssignmentIn,
    AssignmentOut,
    AssignmentPatchIn,
    GradebookOut,
    GradeIn,
    MyGradeOut,
    MyGradesOut,
    SubmissionIn,
    SubmissionOut,
    gradebook_csv,
)

router = APIRouter(tags=["assignments"], route_class=GuardedRoute)

NO_CONTENT = status.HTTP_204_NO_CONTENT
PathId = Annotated[str, Path(max_length=64)]


def _assignment(response: Response, assignment: Assignment) -> AssignmentOut:
    response.headers["ETag"] = etag(assignment.version)
    return AssignmentOut.from_domain(assignment)


@router.post(
    "/api/v1/courses/{course_id}/assignments",
    response_model=AssignmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Set an assignment (course staff)",
    responses=responses(401, 403, 404, 422),
)
async def create_assignment(
    course_id: PathId,
    body: AssignmentIn,
    user: CurrentUser,
    service: Assignments,
    response: Response,
) -> AssignmentOut:
    assignment = await service.create(
        user,
        course_id,
        AssignmentDraft(
            title=body.title,
            instructions=body.instructions,
            max_points=body.max_points,
            due_at=body.due_at,
            allow_late=body.allow_late,
            max_files=body.max_files,
            allowed_types=tuple(body.allowed_types),
        ),
    )
    response.headers["Location"] = f"/api/v1/assignments/{assignment.id}"
    return _assignment(response, assignment)


@router.get(
    "/api/v1/courses/{course_id}/assignments",
    response_model=PageOut[AssignmentOut],
    summary="A course's assignments in the order they were set (staff, enrolled students)",
    responses=responses(400, 401, 403, 404, 422),
)
async def list_assignments(
    course_id: PathId,
    request: Request,
    user: CurrentUser,
    service: Assignments,
    page: PagingParams,
    response: Response,
) -> PageOut[AssignmentOut]:
    found = await service.list_assignments(user, course_id, limit=page.limit, cursor=page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[AssignmentOut](
        items=[AssignmentOut.from_domain(a) for a in found.items], next_cursor=found.next_cursor
    )


@router.post(
    "/api/v1/assignments/{assignment_id}/restore",
    response_model=AssignmentOut,
    summary="Restore a deleted assignment (admin), within 30 days of its deletion",
    responses=responses(401, 403, 404, 409),
)
async def restore_assignment(
    assignment_id: PathId, user: CurrentUser, trash: Trash, response: Response
) -> AssignmentOut:
    return _assignment(response, await trash.restore_assignment(user, assignment_id))


@router.get(
    "/api/v1/assignments/{assignment_id}",
    response_model=AssignmentOut,
    summary="One assignment (staff, enrolled students)",
    responses=responses(401, 404),
)
async def get_assignment(
    assignment_id: PathId, user: CurrentUser, service: Assignments, response: Response
) -> AssignmentOut:
    return _assignment(response, await service.get(user, assignment_id))


@router.patch(
    "/api/v1/assignments/{assignment_id}",
    response_model=AssignmentOut,
    summary="Edit an assignment (course staff); honours If-Match",
    responses=responses(401, 403, 404, 412, 422),
)
async def edit_assignment(
    assignment_id: PathId,
    body: AssignmentPatchIn,
    user: CurrentUser,
    service: Assignments,
    version: IfMatch,
    response: Response,
) -> AssignmentOut:
    changes = AssignmentChanges.named(body.named())
    return _assignment(response, await service.edit(user, assignment_id, changes, version))


@router.delete(
    "/api/v1/assignments/{assignment_id}",
    status_code=NO_CONTENT,
    summary="Delete an assignment nobody submitted to yet (course staff)",
    responses=responses(401, 403, 404, 409),
)
async def delete_assignment(
    assignment_id: PathId, user: CurrentUser, service: Assignments
) -> Response:
    await service.delete(user, assignment_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/api/v1/assignments/{assignment_id}/submissions",
    response_model=SubmissionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a new attempt (enrolled students): `late` after due_at, 409 when late "
    "work is refused",
    responses=responses(401, 403, 404, 409, 422),
)
async def submit(
    assignment_id: PathId,
    body: SubmissionIn,
    user: CurrentUser,
    service: Assignments,
    response: Response,
) -> SubmissionOut:
    submission = await service.submit(
        user, assignment_id, SubmissionDraft(text=body.text, file_ids=tuple(body.file_ids))
    )
    response.headers["Location"] = f"/api/v1/submissions/{submission.id}"
    return SubmissionOut.from_domain(submission)


@router.get(
    "/api/v1/assignments/{assignment_id}/submissions",
    response_model=PageOut[SubmissionOut],
    summary="Staff: every student's latest attempt; a student: their own attempts",
    responses=responses(400, 401, 404, 422),
)
async def list_submissions(
    assignment_id: PathId,
    request: Request,
    user: CurrentUser,
    service: Assignments,
    page: PagingParams,
    response: Response,
) -> PageOut[SubmissionOut]:
    found = await service.list_submissions(
        user, assignment_id, limit=page.limit, cursor=page.cursor
    )
    link_next(request, response, found.next_cursor)
    return PageOut[SubmissionOut](
        items=[SubmissionOut.from_domain(s) for s in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/api/v1/submissions/{submission_id}",
    response_model=SubmissionOut,
    summary="One submission (its student, course staff)",
    responses=responses(401, 404),
)
async def get_submission(
    submission_id: PathId, user: CurrentUser, service: Assignments, response: Response
) -> SubmissionOut:
    submission = await service.get_submission(user, submission_id)
    response.headers["ETag"] = etag(submission.version)
    return SubmissionOut.from_domain(submission)


@router.put(
    "/api/v1/submissions/{submission_id}/grade",
    response_model=SubmissionOut,
    summary="Grade the latest attempt (course staff): points 0 to max_points, feedback",
    responses=responses(401, 403, 404, 409, 412, 422),
)
async def grade(
    submission_id: PathId,
    body: GradeIn,
    user: CurrentUser,
    service: Assignments,
    response: Response,
) -> SubmissionOut:
    graded = await service.grade(user, submission_id, body.points, body.feedback)
    response.headers["ETag"] = etag(graded.version)
    return SubmissionOut.from_domain(graded)


@router.get(
    "/api/v1/courses/{course_id}/gradebook",
    response_model=GradebookOut,
    summary="A page of students x every assignment from the latest attempts (course staff); "
    "`?format=csv` streams the whole gradebook as a spreadsheet (paging parameters ignored)",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **responses(400, 401, 403, 404, 422),
    },
)
async def gradebook(
    course_id: PathId,
    request: Request,
    user: CurrentUser,
    service: Grades,
    page: PagingParams,
    response: Response,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> GradebookOut | Response:
    if format == "csv":
        # Who may read it is settled (a problem answer) before the first byte is sent.
        export = await service.gradebook_export(user, course_id)
        return StreamingResponse(
            gradebook_csv(export),
            media_type="text/csv; charset=utf-8",
            headers={
                # The slug is ASCII letters, digits and hyphens: nothing to escape.
                "Content-Disposition": (
                    f'attachment; filename="gradebook-{export.course.slug}.csv"'
                )
            },
        )
    book = await service.gradebook(user, course_id, limit=page.limit, cursor=page.cursor)
    link_next(request, response, book.next_cursor)
    return GradebookOut.from_domain(book)


@router.get(
    "/api/v1/courses/{course_id}/grades/me",
    response_model=MyGradesOut,
    summary="The caller's grades in a course, from their latest attempts (enrolled students)",
    responses=responses(401, 403, 404),
)
async def my_grades(course_id: PathId, user: CurrentUser, service: Grades) -> MyGradesOut:
    grades = await service.my_grades(user, course_id)
    return MyGradesOut(items=[MyGradeOut.from_domain(g) for g in grades])
