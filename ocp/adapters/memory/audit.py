"""The audit trail in memory."""

from __future__ import annotations

from ocp.domain.audit import AuditEntry


class InMemoryAuditLog:
    def __init__(self) -> None:
        self._by_id: dict[str, AuditEntry] = {}

    async def append(self, entries: list[AuditEntry]) -> None:
        for entry in entries:
            self._by_id.setdefault(entry.id, entry)

    async def list_before(
        self,
        *,
        actor_id: str | None,
        target_id: str | None,
        action: str | None,
        before_id: str | None,
        limit: int,
    ) -> list[AuditEntry]:
        rows = [
            e
            for e in sorted(self._by_id.values(), key=lambda e: e.id, reverse=True)
            if (actor_id is None or e.actor_id == actor_id)
            and (target_id is None or e.target_id == target_id)
            and (action is None or e.action == action)
            and (before_id is None or e.id < before_id)
        ]
        return rows[:limit]
