"""Webhook endpoints by event type, from memory while the change feed is live: the read the
fan-out of every event makes. There are few endpoints and they change rarely, so any change
to any of them (here at once, elsewhere through the feed) forgets every type's list."""

from __future__ import annotations

import copy

from ocp.adapters.cache.feed import ChangeFeed
from ocp.adapters.cache.metrics import CACHE_LOOKUPS
from ocp.application.ports.events import WebhookRepository
from ocp.domain.webhooks import WebhookEndpoint

COLLECTION = "webhooks"


class CachedWebhookRepository:
    def __init__(self, store: WebhookRepository, feed: ChangeFeed) -> None:
        self._store = store
        self._feed = feed
        self._by_type: dict[str, list[WebhookEndpoint]] = {}
        self._generation = 0
        feed.subscribe(COLLECTION, self)

    # --- the feed's side ----------------------------------------------------------------

    def changed(self, key: object, version: int | None = None) -> None:
        self.reset()

    def reset(self) -> None:
        self._by_type.clear()
        self._generation += 1

    # --- the port -------------------------------------------------------------------------

    async def subscribed(self, event_type: str) -> list[WebhookEndpoint]:
        if not self._feed.live:
            CACHE_LOOKUPS.labels("webhooks", "bypass").inc()
            return await self._store.subscribed(event_type)
        found = self._by_type.get(event_type)
        if found is not None:
            CACHE_LOOKUPS.labels("webhooks", "hit").inc()
            return copy.deepcopy(found)
        CACHE_LOOKUPS.labels("webhooks", "miss").inc()
        generation = self._generation
        found = await self._store.subscribed(event_type)
        if generation == self._generation:  # nothing changed while it was read: keep it
            self._by_type[event_type] = copy.deepcopy(found)
        return found

    async def add(self, endpoint: WebhookEndpoint) -> None:
        try:
            await self._store.add(endpoint)
        finally:
            self._feed.changed(COLLECTION, endpoint.id)

    async def update(self, endpoint: WebhookEndpoint, expected_version: int) -> None:
        try:
            await self._store.update(endpoint, expected_version)
        finally:
            self._feed.changed(COLLECTION, endpoint.id)

    async def delete(self, endpoint_id: str) -> bool:
        try:
            return await self._store.delete(endpoint_id)
        finally:
            self._feed.changed(COLLECTION, endpoint_id)

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        return await self._store.get(endpoint_id)

    async def list_after(self, after_id: str | None, limit: int) -> list[WebhookEndpoint]:
        return await self._store.list_after(after_id, limit)

    async def ensure_indexes(self) -> None:
        ensure = getattr(self._store, "ensure_indexes", None)
        if ensure is not None:
            await ensure()
