"""The trash in memory."""

from __future__ import annotations

import copy
from datetime import datetime

from ocp.domain.trash import Trashed, TrashKind, trash_id


class InMemoryTrashBin:
    def __init__(self) -> None:
        self._items: dict[str, Trashed] = {}

    async def put(self, item: Trashed) -> None:
        self._items[item.id] = copy.deepcopy(item)

    async def get(self, kind: TrashKind, object_id: str) -> Trashed | None:
        found = self._items.get(trash_id(kind, object_id))
        return copy.deepcopy(found) if found else None

    async def take(self, kind: TrashKind, object_id: str) -> bool:
        return self._items.pop(trash_id(kind, object_id), None) is not None

    async def purge(self, deleted_before: datetime) -> int:
        old = [key for key, item in self._items.items() if item.deleted_at < deleted_before]
        for key in old:
            del self._items[key]
        return len(old)
