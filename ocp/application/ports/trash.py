"""Port of the trash: what soft deletions removed, kept whole until restored or purged."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ocp.domain.trash import Trashed, TrashKind


class TrashBin(Protocol):
    async def put(self, item: Trashed) -> None:
        """Keep `item` (replacing one of the same kind and id)."""
        ...

    async def get(self, kind: TrashKind, object_id: str) -> Trashed | None: ...

    async def take(self, kind: TrashKind, object_id: str) -> bool:
        """Remove the item; True for the one caller that removed it (a restore is once)."""
        ...

    async def purge(self, deleted_before: datetime) -> int:
        """Forget what was deleted before `deleted_before`; how many."""
        ...
