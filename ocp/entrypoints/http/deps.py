"""Typed dependencies: services from the container, the acting user, paging and If-Match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer

from ocp.application.identity import IdentityService
from ocp.domain.errors import AuthenticationFailed, StaleVersion
from ocp.domain.users import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def container(request: Request) -> Any:
    return request.app.state.container


async def identity_service(request: Request) -> IdentityService:
    service: IdentityService = request.app.state.container.identity_service()
    return service


Identity = Annotated[IdentityService, Depends(identity_service)]


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    session_id: str


async def current_session(
    request: Request,
    identity: Identity,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Session:
    if not token:
        raise AuthenticationFailed("this route needs a bearer access token")
    user, session_id = await identity.authenticate(token)
    request.scope["state"]["user_id"] = user.id
    return Session(user, session_id)


async def current_user(session: Annotated[Session, Depends(current_session)]) -> User:
    return session.user


async def optional_user(
    request: Request,
    identity: Identity,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """The caller when a valid token came with the request; anonymous otherwise. A token that
    is present but invalid is still an error: silently downgrading it would hide bugs."""
    if not token:
        return None
    user, _ = await identity.authenticate(token)
    request.scope["state"]["user_id"] = user.id
    return user


CurrentSession = Annotated[Session, Depends(current_session)]
CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    cursor: str | None


async def paging(
    limit: Annotated[int, Query(ge=1, le=100, description="page size, 1 to 100")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page")
    ] = None,
) -> Paging:
    return Paging(limit, cursor)


PagingParams = Annotated[Paging, Depends(paging)]


def etag(version: int) -> str:
    return f'"{version}"'


async def if_match(request: Request) -> int | None:
    """The version a client's `If-Match` names; None when it sent none (or `*`)."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise StaleVersion("If-Match does not name a version of this resource")
    return int(value)


IfMatch = Annotated[int | None, Depends(if_match)]
