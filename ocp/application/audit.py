"""The audit trail: audited changes are recorded as events carrying an `AuditInfo`, so an
entry is prepared before its change and committed after it (`events/recorder.py`): never
lost, never claiming a change that did not happen. Every committed audited event becomes
an entry of the `AuditLog`, which keeps them beyond the events' retention."""

from __future__ import annotations

from typing import Any

from ocp.application.context import REQUEST_ID
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.audit import AuditLog
from ocp.domain.audit import AUDITED_ACTIONS, AuditEntry, AuditInfo
from ocp.domain.errors import PermissionDenied, RuleViolated
from ocp.domain.users import User
from ocp.domain.webhooks import Event


def audit_info(
    actor: User | None, target_type: str, target_id: str, changes: dict[str, list[Any]]
) -> AuditInfo:
    return AuditInfo(
        actor_id=actor.id if actor is not None else None,
        target_type=target_type,
        target_id=target_id,
        changes=changes,
        request_id=REQUEST_ID.get(),
    )


def entries_of(events: list[Event]) -> list[AuditEntry]:
    return [
        AuditEntry(
            id=event.id,
            at=event.timestamp,
            action=event.type,
            actor_id=event.audit.actor_id,
            target_type=event.audit.target_type,
            target_id=event.audit.target_id,
            changes=event.audit.changes,
            request_id=event.audit.request_id,
        )
        for event in events
        if event.audit is not None
    ]


class AuditService:
    def __init__(self, *, log: AuditLog) -> None:
        self._log = log

    async def list_entries(
        self,
        actor: User,
        *,
        actor_id: str | None,
        target_id: str | None,
        action: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page[AuditEntry]:
        if not actor.is_admin:
            raise PermissionDenied("only an admin may read the audit trail")
        if action is not None and action not in AUDITED_ACTIONS:
            raise RuleViolated("is not an audited action", field="action")
        key = decode_cursor(cursor, (str,))
        rows = await self._log.list_before(
            actor_id=actor_id,
            target_id=target_id,
            action=action,
            before_id=str(key[0]) if key else None,
            limit=limit + 1,
        )
        return page_of(rows, limit, lambda e: (e.id,))
