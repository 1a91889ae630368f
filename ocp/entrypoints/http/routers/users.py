"""Users: the caller's own profile and password, and admin user management."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ocp.application.identity import AccountExport
from ocp.domain.users import ProfileChanges, Role
from ocp.entrypoints.http.deps import (
    Accounts,
    Admin,
    CurrentSession,
    CurrentUser,
    IfMatch,
    PagingParams,
    Passwords,
    Profiles,
    Sessions,
    etag,
)
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.common import PageOut
from ocp.entrypoints.http.schemas.users import (
    AccountExportOut,
    AdminUserIn,
    CurrentPasswordIn,
    EmailChangeIn,
    PasswordChangeIn,
    ProfileIn,
    SessionOut,
    SessionsOut,
    TokenIn,
    UserOut,
)

router = APIRouter(prefix="/api/v1/users", tags=["users"], route_class=GuardedRoute)


@router.get("/me", response_model=UserOut, summary="The caller's profile", responses=responses(401))
async def me(user: CurrentUser, response: Response) -> UserOut:
    response.headers["ETag"] = etag(user.version)
    return UserOut.from_domain(user)


@router.patch(
    "/me",
    response_model=UserOut,
    summary="Edit the caller's profile",
    responses=responses(401, 412, 422),
)
async def edit_me(
    body: ProfileIn, user: CurrentUser, profiles: Profiles, version: IfMatch, response: Response
) -> UserOut:
    changes = ProfileChanges.named(body.named())
    updated = await profiles.update_profile(user, changes, if_match=version)
    response.headers["ETag"] = etag(updated.version)
    return UserOut.from_domain(updated)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the caller's password; other sessions end",
    responses=responses(401, 422),
)
async def change_password(
    body: PasswordChangeIn, session: CurrentSession, passwords: Passwords
) -> Response:
    await passwords.change_password(
        session.user, session.session_id, body.current_password, body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change the caller's email: a single-use token is mailed to the new address",
    responses=responses(401, 403, 409, 422),
)
async def request_email_change(
    body: EmailChangeIn, session: CurrentSession, passwords: Passwords
) -> Response:
    await passwords.request_email_change(
        session.user, session.session_id, body.new_email, body.current_password
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/me/email/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm an email change with the mailed token; other sessions end",
    responses=responses(400, 409, 422),
)
async def confirm_email_change(body: TokenIn, passwords: Passwords) -> Response:
    await passwords.confirm_email_change(body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me/sessions",
    response_model=SessionsOut,
    summary="The caller's live sessions (devices logged in), the most recently used first",
    responses=responses(401),
)
async def list_sessions(session: CurrentSession, sessions: Sessions) -> SessionsOut:
    found = await sessions.sessions(session.user)
    return SessionsOut(items=[SessionOut.from_domain(s, session.session_id) for s in found])


@router.delete(
    "/me/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of the caller's sessions: its refresh and access tokens stop at once",
    responses=responses(401, 404),
)
async def end_session(session_id: str, user: CurrentUser, sessions: Sessions) -> Response:
    await sessions.end_session(user, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me/export",
    response_model=AccountExportOut,
    summary="Export every record of the caller's as one JSON document",
    responses=responses(401),
)
async def export_me(
    session: CurrentSession, accounts: Accounts, response: Response
) -> AccountExportOut:
    return _download(response, await accounts.export(session.user), session.session_id)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete the caller's account: personal data erased, sessions ended; reviews and "
    "submissions stay, anonymous",
    responses=responses(401, 403, 422),
)
async def delete_me(body: CurrentPasswordIn, user: CurrentUser, accounts: Accounts) -> Response:
    await accounts.delete_own_account(user, body.current_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "",
    response_model=PageOut[UserOut],
    summary="List users (admin)",
    responses=responses(400, 401, 403, 422),
)
async def list_users(
    request: Request,
    user: CurrentUser,
    admin: Admin,
    page: PagingParams,
    response: Response,
    role: Role | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of email or name")] = None,
) -> PageOut[UserOut]:
    found = await admin.list_users(user, role=role, query=q, limit=page.limit, cursor=page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[UserOut](
        items=[UserOut.from_domain(u) for u in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/{user_id}",
    response_model=UserOut,
    summary="One user (admin)",
    responses=responses(401, 403, 404),
)
async def get_user(user_id: str, user: CurrentUser, admin: Admin, response: Response) -> UserOut:
    found = await admin.get_user(user, user_id)
    response.headers["ETag"] = etag(found.version)
    return UserOut.from_domain(found)


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    summary="Change a user's role or deactivate them (admin); tokens of a deactivated user "
    "stop working at once",
    responses=responses(401, 403, 404, 412, 422),
)
async def administer_user(
    user_id: str,
    body: AdminUserIn,
    user: CurrentUser,
    admin: Admin,
    version: IfMatch,
    response: Response,
) -> UserOut:
    changed = await admin.administer_user(
        user, user_id, role=body.role, is_active=body.is_active, if_match=version
    )
    response.headers["ETag"] = etag(changed.version)
    return UserOut.from_domain(changed)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user's account (admin), as the user can",
    responses=responses(401, 403, 404, 422),
)
async def delete_user(user_id: str, user: CurrentUser, accounts: Accounts) -> Response:
    await accounts.delete_user(user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{user_id}/sessions",
    response_model=SessionsOut,
    summary="A user's live sessions (admin)",
    responses=responses(401, 403, 404),
)
async def list_user_sessions(user_id: str, user: CurrentUser, sessions: Sessions) -> SessionsOut:
    found = await sessions.sessions_of_user(user, user_id)
    return SessionsOut(items=[SessionOut.from_domain(s, "") for s in found])


@router.delete(
    "/{user_id}/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of a user's sessions (admin): its tokens stop at once",
    responses=responses(401, 403, 404),
)
async def end_user_session(
    user_id: str, session_id: str, user: CurrentUser, sessions: Sessions
) -> Response:
    await sessions.end_user_session(user, user_id, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{user_id}/export",
    response_model=AccountExportOut,
    summary="Export every record of a user's (admin), as the user can",
    responses=responses(401, 403, 404),
)
async def export_user(
    user_id: str, user: CurrentUser, accounts: Accounts, response: Response
) -> AccountExportOut:
    return _download(response, await accounts.export_user(user, user_id), "")


def _download(response: Response, export: AccountExport, session_id: str) -> AccountExportOut:
    """An export as a file to keep, never cached on the way."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = 'attachment; filename="ocp-account-export.json"'
    return AccountExportOut.from_domain(export, session_id)
