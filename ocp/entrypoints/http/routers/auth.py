"""Authentication: registration, OAuth2 password-flow tokens, refresh, logout, reset, verify."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from ocp.application.identity import TokenPair
from ocp.domain.errors import RuleViolated
from ocp.entrypoints.http.deps import (
    CurrentSession,
    CurrentUser,
    Passwords,
    Profiles,
    Sessions,
    etag,
)
from ocp.entrypoints.http.limits import limit_email
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.users import (
    EmailIn,
    PasswordResetConfirmIn,
    RefreshIn,
    RegisterIn,
    TokenIn,
    TokenOut,
    UserOut,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=GuardedRoute)


def _tokens(pair: TokenPair, response: Response) -> TokenOut:
    # A token answer is never stored by a browser or a proxy (RFC 6749, section 5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Create a student account",
    responses=responses(409, 413, 422),
)
async def register(body: RegisterIn, profiles: Profiles, response: Response) -> UserOut:
    user = await profiles.register(body.email, body.password, body.full_name)
    response.headers["ETag"] = etag(user.version)
    response.headers["Location"] = "/api/v1/users/me"
    return UserOut.from_domain(user)


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Log in with email and password (OAuth2 password flow)",
    responses=responses(401, 422, 429),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    sessions: Sessions,
    request: Request,
    response: Response,
) -> TokenOut:
    # The form reads an empty `grant_type=` as absent; RFC 6749 allows it absent, never empty.
    if form.grant_type is None and "grant_type" in await request.form():
        raise RuleViolated('grant_type must be "password" when sent', field="grant_type")
    agent = request.headers.get("user-agent")
    return _tokens(await sessions.login(form.username, form.password, agent), response)


@router.post(
    "/refresh",
    response_model=TokenOut,
    summary="Trade a refresh token for a new pair (the old one is spent)",
    responses=responses(401, 422),
)
async def refresh(body: RefreshIn, sessions: Sessions, response: Response) -> TokenOut:
    return _tokens(await sessions.refresh(body.refresh_token), response)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the session of this refresh token",
    responses=responses(401, 422),
)
async def logout(body: RefreshIn, session: CurrentSession, sessions: Sessions) -> Response:
    await sessions.logout(session.user, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a password-reset token (answers 202 whether the email is known or not)",
    response_class=Response,  # 202 with no body: the OpenAPI promises no JSON
    responses=responses(422),
)
async def request_password_reset(
    body: EmailIn, passwords: Passwords, request: Request, response: Response
) -> Response:
    await limit_email(request, response, body.email)
    await passwords.request_password_reset(body.email)
    return Response(status_code=status.HTTP_202_ACCEPTED, headers=dict(response.headers))


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with a reset token; every session of the user ends",
    responses=responses(400, 422),
)
async def confirm_password_reset(body: PasswordResetConfirmIn, passwords: Passwords) -> Response:
    await passwords.confirm_password_reset(body.token, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/verify-email/request",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail an email-verification token to the caller",
    response_class=Response,  # 202 with no body: the OpenAPI promises no JSON
    responses=responses(401),
)
async def request_email_verification(
    user: CurrentUser, passwords: Passwords, request: Request, response: Response
) -> Response:
    await limit_email(request, response, user.email.value)
    await passwords.request_email_verification(user)
    return Response(status_code=status.HTTP_202_ACCEPTED, headers=dict(response.headers))


@router.post(
    "/verify-email/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm an email address with its token",
    responses=responses(400, 422),
)
async def confirm_email_verification(body: TokenIn, passwords: Passwords) -> Response:
    await passwords.confirm_email_verification(body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
