"""Typed dependencies: services from the container, the acting user, paging and If-Match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer

from ocp.application.courses import CatalogService, CourseService, OutlineService
from ocp.application.courses.trash import TrashService
from ocp.application.files import DirectUploadService, FileService, UploadService
from ocp.application.identity import (
    AccountService,
    AdminService,
    PasswordService,
    ProfileService,
    SessionService,
)
from ocp.application.learning import (
    AssignmentService,
    EnrollmentService,
    GradebookService,
    ProgressService,
    ReviewService,
)
from ocp.application.paging import DEFAULT_LIMIT, MAX_LIMIT
from ocp.domain.errors import AuthenticationFailed, StaleVersion
from ocp.domain.users import User

if TYPE_CHECKING:
    from ocp.container import Container

T = TypeVar("T")


def use(pick: Callable[[Container], Callable[[], T]]) -> Any:
    """A route's use case, made by the app's container: `Annotated[S, use(lambda c: c.s)]`.
    The one place a request reaches the composition root."""

    async def service(request: Request) -> T:
        return pick(request.app.state.container)()

    return Depends(service)


Sessions = Annotated[SessionService, use(lambda c: c.session_service)]
Passwords = Annotated[PasswordService, use(lambda c: c.password_service)]
Profiles = Annotated[ProfileService, use(lambda c: c.profile_service)]
Admin = Annotated[AdminService, use(lambda c: c.admin_service)]
Accounts = Annotated[AccountService, use(lambda c: c.account_service)]
Trash = Annotated[TrashService, use(lambda c: c.trash_service)]
Courses = Annotated[CourseService, use(lambda c: c.course_service)]
Outline = Annotated[OutlineService, use(lambda c: c.outline_service)]
Catalog = Annotated[CatalogService, use(lambda c: c.catalog_service)]
Uploads = Annotated[UploadService, use(lambda c: c.upload_service)]
DirectUploads = Annotated[DirectUploadService, use(lambda c: c.direct_upload_service)]
Files = Annotated[FileService, use(lambda c: c.file_service)]
Enrollments = Annotated[EnrollmentService, use(lambda c: c.enrollment_service)]
Progress = Annotated[ProgressService, use(lambda c: c.progress_service)]
Assignments = Annotated[AssignmentService, use(lambda c: c.assignment_service)]
Grades = Annotated[GradebookService, use(lambda c: c.gradebook_service)]
Reviews = Annotated[ReviewService, use(lambda c: c.review_service)]


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    session_id: str


async def authenticate_request(request: Request, *, required: bool) -> Session | None:
    """The caller of a request, authenticated once: the route guard calls this before the body
    is read, and the dependency below finds the result instead of checking the token again."""
    state = request.scope["state"]
    if "session" in state:
        found: Session | None = state["session"]
        return found
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        if required:
            raise AuthenticationFailed("this route needs a bearer access token")
        return None
    sessions: SessionService = request.app.state.container.session_service()
    user, session_id = await sessions.authenticate(token)
    state["user_id"] = user.id
    session = state["session"] = Session(user, session_id)
    return session


class Bearer(OAuth2PasswordBearer):
    """The caller of a request, as one dependency level: FastAPI calls a security scheme with
    the request alone, and still documents it in OpenAPI for Swagger's "Authorize". A chain
    of small dependencies cost a fifth of an authenticated request here."""

    def __init__(self, *, required: bool, whole_session: bool) -> None:
        super().__init__(
            tokenUrl="/api/v1/auth/token", scheme_name="OAuth2PasswordBearer", auto_error=False
        )
        self.required = required
        self.whole_session = whole_session

    async def __call__(self, request: Request) -> Session | User | None:  # type: ignore[override]
        session = await authenticate_request(request, required=self.required)
        if session is None or self.whole_session:
            return session
        return session.user


CurrentSession = Annotated[Session, Depends(Bearer(required=True, whole_session=True))]
"""The caller and their session id; 401 without a valid bearer token."""
CurrentUser = Annotated[User, Depends(Bearer(required=True, whole_session=False))]
"""The caller; 401 without a valid bearer token."""
OptionalUser = Annotated[User | None, Depends(Bearer(required=False, whole_session=False))]
"""The caller when a token came with the request, else None. A token that is present but
invalid is still a 401: silently downgrading it to anonymous would hide client bugs."""


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    cursor: str | None


async def paging(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"page size, 1 to {MAX_LIMIT}")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page")
    ] = None,
) -> Paging:
    # `?cursor=` is the first page: what a client sends when it has no next_cursor yet.
    return Paging(limit, cursor or None)


PagingParams = Annotated[Paging, Depends(paging)]


_VERSION_DIGITS_MAX = 18  # a version is a counter: 18 digits still fit a signed 64-bit int


def etag(version: int) -> str:
    return f'"{version}"'


async def if_match(request: Request) -> int | None:
    """The version a client's `If-Match` names; None when it sent none (or `*`). Anything that
    is not a plain ASCII number of at most 18 digits names no version, so it is stale (412)."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    # str.isdigit() also accepts "²" and other digits int() refuses.
    if not (0 < len(value) <= _VERSION_DIGITS_MAX and value.isascii() and value.isdigit()):
        raise StaleVersion("If-Match does not name a version of this resource")
    return int(value)


IfMatch = Annotated[int | None, Depends(if_match)]
