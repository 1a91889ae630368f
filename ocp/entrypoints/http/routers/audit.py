"""The audit trail (admin): who changed what, when, from what to what. Read only: no route
edits or deletes an entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from ocp.application.audit import AuditService
from ocp.domain.audit import AUDITED_ACTIONS, AuditEntry
from ocp.entrypoints.http.deps import CurrentUser, PagingParams, use
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.common import PageOut

Audit = Annotated[AuditService, use(lambda c: c.audit_service)]
AuditAction = StrEnum("AuditAction", {a.replace(".", "_"): a for a in AUDITED_ACTIONS})  # type: ignore[misc]
Id = Annotated[str | None, Query(max_length=100)]

router = APIRouter(tags=["audit"], route_class=GuardedRoute)


class AuditEntryOut(BaseModel):
    id: str
    at: datetime
    actor_id: str | None = Field(description="who acted; null for the system")
    action: str
    target_type: str
    target_id: str
    changes: dict[str, list[Any]] = Field(description="each changed field: [before, after]")
    request_id: str | None = Field(description="the X-Request-ID of the request that did it")

    @classmethod
    def from_domain(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            at=entry.at,
            actor_id=entry.actor_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            changes=entry.changes,
            request_id=entry.request_id,
        )


@router.get(
    "/api/v1/audit",
    response_model=PageOut[AuditEntryOut],
    summary="The audit trail, newest first (admin)",
    responses=responses(400, 401, 403, 422),
)
async def list_audit_entries(
    request: Request,
    user: CurrentUser,
    audit: Audit,
    page: PagingParams,
    response: Response,
    actor_id: Id = None,
    target_id: Id = None,
    action: Annotated[AuditAction | None, Query()] = None,
) -> PageOut[AuditEntryOut]:
    found = await audit.list_entries(
        user,
        actor_id=actor_id,
        target_id=target_id,
        action=action.value if action else None,
        cursor=page.cursor,
        limit=page.limit,
    )
    link_next(request, response, found.next_cursor)
    return PageOut[AuditEntryOut](
        items=[AuditEntryOut.from_domain(e) for e in found.items], next_cursor=found.next_cursor
    )
