"""Port of the audit trail: entries appended (once each, whatever the retries) and listed."""

from __future__ import annotations

from typing import Protocol

from ocp.domain.audit import AuditEntry


class AuditLog(Protocol):
    async def append(self, entries: list[AuditEntry]) -> None:
        """Add the entries; one already there (the same id) is left as it is."""
        ...

    async def list_before(
        self,
        *,
        actor_id: str | None,
        target_id: str | None,
        action: str | None,
        before_id: str | None,
        limit: int,
    ) -> list[AuditEntry]:
        """Entries matching every given filter, newest (highest id) first, below `before_id`."""
        ...
