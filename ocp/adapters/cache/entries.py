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
_RECENT = 4096  # changes remembered by key, for reads still under way


class Entries(Generic[V]):
    """At most `size` values by key, least recently used out first. `get` answers MISSING
    whenever it cannot answer from memory (not kept, or the feed is not live); `put` keeps a
    value only if the feed is live and that key did not change since `epoch()` was taken
    before the read (the last `_RECENT` changes are remembered by key; a read older than the
    oldest of them is not trusted at all).

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
        version_of: Callable[[V], int | None] | None = None,
    ) -> None:
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._size = size
        self._feed = feed
        self._collection = collection
        self._whole = whole
        self._copy = copy
        self._version_of = version_of
        self._hit = CACHE_LOOKUPS.labels(name, "hit")
        self._miss = CACHE_LOOKUPS.labels(name, "miss")
        self._bypass = CACHE_LOOKUPS.labels(name, "bypass")
        # Change numbers: the last one, the last change of each recent key, and the floor below
        # which a read is not trusted (a reset, or changes forgotten as the record rolled on).
        self._seq = 0
        self._recent: OrderedDict[object, int] = OrderedDict()
        self._floor = 0
        # Keys being written by this process right now: not answered from memory, nor kept,
        # until the write is over (its result is in the store before `finished` forgets).
        self._writing: dict[object, int] = {}
        self._bulk = 0  # writes of many keys at once under way: nothing is answered
        feed.subscribe(collection, self)

    def get(self, key: Hashable) -> V | _Missing:
        if not self._feed.live:
            self._values.clear()
            self._bypass.inc()
            return MISSING
        value = self._values.get(key, MISSING)
        if value is MISSING or key in self._writing or self._bulk:
            self._miss.inc()
            return MISSING
        self._values.move_to_end(key)
        self._hit.inc()
        return self._copy(value)  # type: ignore[arg-type]

    def epoch(self) -> int:
        """Taken before reading the store; `put` refuses a value whose key changed since."""
        return self._seq

    def put(self, key: Hashable, value: V, epoch: int) -> None:
        if (
            not self._feed.live
            or epoch < self._floor
            or self._recent.get(key, -1) > epoch  # changed while it was being read
            or key in self._writing
            or self._bulk
        ):
            return
        self._values[key] = self._copy(value)
        self._values.move_to_end(key)
        if len(self._values) > self._size:
            self._values.popitem(last=False)

    def writing(self, key: Hashable) -> None:
        """This process starts writing `key`: forget it and answer nothing of it until
        `written`. Between the store's answer and `written` other requests run; without this
        they would read the old value from memory and lose their own optimistic write."""
        self._writing[key] = self._writing.get(key, 0) + 1
        self.changed(key)

    def written(self, key: Hashable) -> None:
        left = self._writing.get(key, 0) - 1
        if left > 0:
            self._writing[key] = left
        else:
            self._writing.pop(key, None)
        self.changed(key)

    def writing_all(self) -> None:
        """This process starts a write of many keys (a bulk update): forget everything and
        answer nothing until `written_all`."""
        self._bulk += 1
        self.reset()

    def written_all(self) -> None:
        self._bulk -= 1
        self.reset()

    def peek(self, key: Hashable) -> V | _Missing:
        """The kept value without a copy, counting or reordering (for derived reads)."""
        if not self._feed.live or key in self._writing or self._bulk:
            return MISSING
        return self._values.get(key, MISSING)

    def changed(self, key: object, version: int | None = None) -> None:
        """`version`: the document's version after the change, when the feed knows it. A kept
        value of that very version is the state the change produced (the echo of a write
        this process read back): it stays. Reads under way are refused either way."""
        self._seq += 1
        if self._whole:
            self._values.clear()
            self._floor = self._seq  # any page may hold it: no read under way is trusted
            return
        kept = self._values.get(key, MISSING)  # type: ignore[call-overload]
        if not (
            version is not None
            and self._version_of is not None
            and kept is not MISSING
            and self._version_of(kept) == version  # type: ignore[arg-type]
        ):
            self._values.pop(key, None)  # type: ignore[call-overload]
        self._recent[key] = self._seq
        self._recent.move_to_end(key)
        if len(self._recent) > _RECENT:
            _, self._floor = self._recent.popitem(last=False)

    def reset(self) -> None:
        self._seq += 1
        self._floor = self._seq
        self._values.clear()
        self._recent.clear()

    def __len__(self) -> int:
        return len(self._values)
