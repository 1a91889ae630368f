"""In-memory idempotency records, with the MongoDB ones' semantics (one `begin` wins)."""

from __future__ import annotations

import copy
from datetime import datetime

from ocp.application.ports.idempotency import KeyedResponse


class InMemoryIdempotencyStore:
    def __init__(self, running_lease_s: float = 3600.0) -> None:
        self._records: dict[str, KeyedResponse] = {}
        self._lease_s = running_lease_s

    async def begin(self, record: KeyedResponse, now: datetime) -> KeyedResponse | None:
        found = self._records.get(record.scope)
        if found is not None and _alive(found, now, self._lease_s):
            return copy.deepcopy(found)
        self._records[record.scope] = copy.deepcopy(record)
        return None

    async def finish(self, record: KeyedResponse) -> None:
        self._records[record.scope] = copy.deepcopy(record)

    async def forget(self, scope: str) -> None:
        self._records.pop(scope, None)


def _alive(record: KeyedResponse, now: datetime, lease_s: float) -> bool:
    if record.expires_at <= now:
        return False
    return record.done or (now - record.started_at).total_seconds() < lease_s
