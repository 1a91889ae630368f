"""Invalidation: how every process learns that a document its caches hold has changed.

A `ChangeFeed` hands each change (collection, document id) to the caches subscribed to that
collection, and says whether caches may be trusted right now (`live`). Two rules make a cache
safe with it:

- while the feed is not live, a cache answers nothing from memory and keeps nothing: every
  read goes to the store;
- a value read from the store is kept only if no change of that document arrived (and no
  reset happened) while it was being read (`Entries.epoch` / `Entries.put`).

`LocalFeed` serves one process whose every write passes through the caching decorators (the
in-memory stores). The MongoDB feed (`ocp.adapters.mongo.changes`) follows a change stream so
that writes made by every process reach every process.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Protocol

from ocp.adapters.cache.metrics import CHANGE_EVENTS, FEED_RESETS

log = logging.getLogger("ocp.cache")


class Subscriber(Protocol):
    def changed(self, key: object, version: int | None = None) -> None:
        """The document with this id changed (or was added or removed); `version` is its
        version after the change when known."""
        ...

    def reset(self) -> None:
        """Anything may have changed: forget everything."""
        ...


class ChangeFeed:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)

    @property
    def live(self) -> bool:
        """Whether caches may answer from memory now."""
        raise NotImplementedError

    def subscribe(self, collection: str, subscriber: Subscriber) -> None:
        self._subscribers[collection].append(subscriber)

    def changed(self, collection: str, key: object, version: int | None = None) -> None:
        """One document changed: its subscribers forget it. Called by the feed for changes
        from anywhere and by the decorators for their own writes (at once, before the feed
        brings the same change back)."""
        CHANGE_EVENTS.inc()
        for subscriber in self._subscribers.get(collection, ()):
            subscriber.changed(key, version)

    def changed_all(self, collection: str) -> None:
        """Many documents of `collection` changed at once (a bulk update): forget them all."""
        for subscriber in self._subscribers.get(collection, ()):
            subscriber.reset()

    def reset(self) -> None:
        """Forget everything everywhere: the feed may have missed changes."""
        FEED_RESETS.inc()
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.reset()

    async def start(self) -> None:
        """Begin following changes; caches stay bypassed until the feed is live."""

    async def stop(self) -> None:
        """Stop following changes; caches are bypassed from now on."""


class LocalFeed(ChangeFeed):
    """One process, every write through the caching decorators: live from the start (nothing
    to follow), until stopped."""

    def __init__(self) -> None:
        super().__init__()
        self._started = True

    @property
    def live(self) -> bool:
        return self._started

    async def start(self) -> None:
        self._started = True

    async def stop(self) -> None:
        self._started = False
        self.reset()


class NoFeed(ChangeFeed):
    """Caching off (`OCP_CACHE_ENABLED=false`): never live, so every read goes to the store."""

    @property
    def live(self) -> bool:
        return False
