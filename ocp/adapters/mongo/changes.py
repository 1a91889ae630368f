"""The MongoDB change feed: one change stream per process over the collections the caches
hold, so a write made by any process reaches every process's caches (~ms on MongoDB and on
the embedded database).

Never serve what a broken stream may have missed: the feed is live only while its stream is
open AND has answered within `silence_s` (each `getMore` answers within `max_await_ms` even
when nothing changed, so silence means a stalled or partitioned stream). When it fails, every
cache is emptied and bypassed; the stream is opened again after a back-off, resuming after
the last event it saw (or from now when that is no longer possible), and only then do the
caches fill again. A server without change streams (a standalone mongod) leaves the feed down
for good: every request reads the database, as with caching off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from ocp.adapters.cache.feed import ChangeFeed
from ocp.adapters.cache.metrics import STREAM_LIVE, STREAM_RESTARTS

log = logging.getLogger("ocp.cache")

# "The $changeStream stage is only supported on replica sets": a standalone mongod.
_UNSUPPORTED = 40573
_STEADY_S = 10.0  # a stream open this long before failing starts the back-off afresh
# Events that change more than one document: forget everything.
_WHOLESALE = {"drop", "rename", "dropDatabase", "invalidate"}


class _Ended(PyMongoError):
    """The stream ended without an error (the server closed it)."""


class MongoChangeFeed(ChangeFeed):
    def __init__(
        self,
        database: AsyncDatabase[Mapping[str, Any]],
        collections: list[str],
        *,
        max_await_ms: int = 100,
        silence_s: float = 1.0,
        retry_s: tuple[float, float] = (0.05, 5.0),
    ) -> None:
        super().__init__()
        self._db = database
        self._collections = collections
        self._max_await_ms = max_await_ms
        self._silence_s = silence_s
        self._retry_first, self._retry_max = retry_s
        self._open = False
        self._heard = 0.0
        self._resume_token: Mapping[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._opened = asyncio.Event()

    @property
    def live(self) -> bool:
        return self._open and time.monotonic() - self._heard < self._silence_s

    async def start(self, wait_s: float = 2.0) -> None:
        """Open the stream in the background; wait up to `wait_s` for it (the caches stay
        bypassed meanwhile, so starting never waits on a database that is down)."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="ocp-change-feed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._opened.wait(), wait_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._went_down()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _went_down(self) -> None:
        if self._open:
            self._open = False
            STREAM_LIVE.set(0)
        self.reset()

    async def _follow(self) -> None:
        delay = self._retry_first
        told_unsupported = False
        while True:
            opened = time.monotonic()
            try:
                await self._stream()
            except OperationFailure as exc:
                self._went_down()
                self._resume_token = None  # a token the server refused would fail again
                if exc.code == _UNSUPPORTED:
                    if not told_unsupported:
                        log.warning(
                            "the database has no change streams: caches are bypassed and "
                            "every request reads the database"
                        )
                        told_unsupported = True
                    delay = self._retry_max
                else:
                    log.warning("change stream failed (%s): caches bypassed until it is back", exc)
            except (PyMongoError, OSError) as exc:
                self._went_down()
                log.warning("change stream failed (%s): caches bypassed until it is back", exc)
            STREAM_RESTARTS.inc()
            if time.monotonic() - opened > _STEADY_S:
                delay = self._retry_first
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max)

    async def _stream(self) -> None:
        pipeline = [
            {"$match": {"ns.coll": {"$in": self._collections}}},
            {
                "$project": {
                    "ns": 1,
                    "documentKey": 1,
                    "operationType": 1,
                    # The version a change leaves (inserts and replacements carry the document,
                    # updates the fields they set): a cache holding that version keeps it.
                    "fullDocument.version": 1,
                    "updateDescription.updatedFields.version": 1,
                }
            },
        ]
        stream = await self._db.watch(
            pipeline,
            max_await_time_ms=self._max_await_ms,
            resume_after=self._resume_token,
        )
        async with stream:
            # Open: from here on every change reaches us. Forget what may have changed while
            # we were not following, then answer from memory again.
            self.reset()
            self._heard = time.monotonic()
            self._open = True
            STREAM_LIVE.set(1)
            self._opened.set()
            log.info("change stream open: caches live")
            while stream.alive:
                event = await stream.try_next()
                now = time.monotonic()
                if now - self._heard >= self._silence_s:
                    self.reset()  # we were silent: answers kept meanwhile are not trusted
                self._heard = now
                self._resume_token = stream.resume_token
                if event is None:
                    await asyncio.sleep(0)  # a quiet answer: let the others run, and cancel us
                    continue
                if event.get("operationType") in _WHOLESALE:
                    self.reset()
                    continue
                key = (event.get("documentKey") or {}).get("_id")
                self.changed(event["ns"]["coll"], key, _version_after(event))
        # The server ended the stream (an `invalidate` after a dropped database): open anew.
        raise _Ended("the change stream was closed by the server")


def _version_after(event: Mapping[str, Any]) -> int | None:
    if event.get("operationType") == "delete":
        return None
    document = event.get("fullDocument") or {}
    fields = (event.get("updateDescription") or {}).get("updatedFields") or {}
    version = document.get("version", fields.get("version"))
    return version if isinstance(version, int) and not isinstance(version, bool) else None
