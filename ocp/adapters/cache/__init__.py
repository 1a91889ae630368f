"""In-process caches in front of the stores, kept true by a change feed.

What every request reads is answered from memory: the acting user and whether their session
is live (authentication), courses by id and slug, public catalog pages, and lessons by id.
Each cache is a decorator implementing the same port as the store it fronts, so use cases
cannot tell; writes go through to the store and forget what they changed at once; changes
made by other processes arrive through the feed (`feed.py`, `ocp.adapters.mongo.changes`).
See docs/caching.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ocp.adapters.cache.courses import CachedCourseRepository, CachedLessonRepository
from ocp.adapters.cache.feed import ChangeFeed, LocalFeed, NoFeed
from ocp.adapters.cache.identity import CachedRefreshTokenStore, CachedUserRepository
from ocp.application.ports.stores import Stores

# The collections whose changes the caches follow.
FOLLOWED = ["users", "sessions", "courses", "lessons", "webhooks"]


@dataclass(frozen=True, slots=True)
class CacheSizes:
    users: int = 50_000
    sessions: int = 100_000
    courses: int = 10_000
    catalog_pages: int = 2_000
    lessons: int = 20_000


def cached_stores(stores: Stores, feed: ChangeFeed, sizes: CacheSizes | None = None) -> Stores:
    """The same stores with caches in front of those every request reads."""
    sizes = sizes or CacheSizes()
    return replace(
        stores,
        users=CachedUserRepository(stores.users, feed, size=sizes.users),
        refresh_tokens=CachedRefreshTokenStore(stores.refresh_tokens, feed, size=sizes.sessions),
        courses=CachedCourseRepository(
            stores.courses, feed, size=sizes.courses, pages=sizes.catalog_pages
        ),
        lessons=CachedLessonRepository(stores.lessons, feed, size=sizes.lessons),
    )


__all__ = ["FOLLOWED", "CacheSizes", "ChangeFeed", "LocalFeed", "NoFeed", "cached_stores"]
