"""The port of idempotency keys: what a POST with an `Idempotency-Key` answered, kept per
user and key for 24 hours, so a client that retries gets the first answer again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(slots=True)
class KeyedResponse:
    """One key's request and, once it is done, its answer. `body_hash` is the SHA-256 of
    the method, path and body the first request sent."""

    scope: str  # the user's id and the key
    body_hash: str
    started_at: datetime
    expires_at: datetime
    status: int | None = None  # None while the first request runs
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def done(self) -> bool:
        return self.status is not None


class IdempotencyStore(Protocol):
    async def begin(self, record: KeyedResponse, now: datetime) -> KeyedResponse | None:
        """Store `record` as running and return None; or, when the scope holds a record that
        has not expired (a running one counts while it is younger than its lease), return
        that one and store nothing. One caller of many concurrent ones gets None."""
        ...

    async def finish(self, record: KeyedResponse) -> None:
        """Keep the answer (status, headers, body) of a running record."""
        ...

    async def forget(self, scope: str) -> None:
        """The first request failed (5xx, or the client went away): a retry may run again."""
        ...
