"""One bounded in-process cache, kept true by a change feed (see `feed.py` for the rules)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from ocp.adapters.cache.feed import ChangeFeed
from ocp.adapters.cache.metrics import CACHE_LOOKUPS

V = TypeVar("V")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class Entries(Generic[V]):
    """At most `size` values by key, least recently used out first. `get` answers MISSING
    whenever it cannot answer from memory (not kept, or the feed is not live); `put` keeps a
    value only if the feed stayed live and `collection` did not change since `epoch`.

    A change of a document forgets the value kept under its id; with `whole=True` (a cache of
    pages, where any change may move any page) it forgets everything. `copy` is applied on the
    way in and out, so no caller ever holds the kept object."""

    def __init__(
        self,
        name: str,
        size: int,
        feed: ChangeFeed,
        collection: str,
        *,
        whole: bool = False,
        copy: Callable[[V], V] = lambda value: value,
    ) -> None:
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._size = size
        self._feed = feed
        self._collection = collection
        self._whole = whole
        self._copy = copy
        self._hit = CACHE_LOOKUPS.labels(name, "hit")
        self._miss = CACHE_LOOKUPS.labels(name, "miss")
        self._bypass = CACHE_LOOKUPS.labels(name, "bypass")
        feed.subscribe(collection, self)

    def get(self, key: Hashable) -> V | _Missing:
        if not self._feed.live:
            self._values.clear()
            self._bypass.inc()
            return MISSING
        value = self._values.get(key, MISSING)
        if value is MISSING:
            self._miss.inc()
            return MISSING
        self._values.move_to_end(key)
        self._hit.inc()
        return self._copy(value)  # type: ignore[arg-type]

    def epoch(self) -> int:
        return self._feed.epoch(self._collection)

    def put(self, key: Hashable, value: V, epoch: int) -> None:
        if not self._feed.live or self._feed.epoch(self._collection) != epoch:
            return
        self._values[key] = self._copy(value)
        self._values.move_to_end(key)
        if len(self._values) > self._size:
            self._values.popitem(last=False)

    def peek(self, key: Hashable) -> V | _Missing:
        """The kept value without a copy, counting or reordering (for derived reads)."""
        if not self._feed.live:
            return MISSING
        return self._values.get(key, MISSING)

    def changed(self, key: object) -> None:
        if self._whole:
            self._values.clear()
        else:
            self._values.pop(key, None)  # type: ignore[call-overload]

    def reset(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
