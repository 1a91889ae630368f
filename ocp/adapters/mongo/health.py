"""Readiness of the database: a ping with a short deadline."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError


class MongoPing:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]]) -> None:
        self._client = client

    async def ready(self) -> bool:
        try:
            await self._client.admin.command("ping", maxTimeMS=1000)
            return True
        except PyMongoError:
            return False
