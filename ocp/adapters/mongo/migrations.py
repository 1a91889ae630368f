"""The database's schema as numbered steps, applied once per deploy by `ocp db migrate`: the
version reached is recorded in `meta` (`_id: "schema"`), which every process reads once at start.

A step must be idempotent (an interrupted migration runs it again) and backward compatible:
the release before it must keep working on the schema it leaves (add an index, a field, a
collection; drop or rename what the previous release no longer uses only a release later),
since old processes serve on during a rolling deploy and after a rollback.

One migration at a time: whoever holds the lease in the schema document applies the steps,
renewing the lease while a step runs; everyone else waits for it and finds the version
reached. A step's version is recorded by a conditional update, `version: N-1 -> N` while
the lease is still ours, so a migration that lost its lease (stalled past it) stops instead
of recording over another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ocp.adapters.mongo import mongo_stores
from ocp.adapters.mongo.audit import MongoAuditLog
from ocp.adapters.mongo.events import (
    MongoDeliveryRepository,
    MongoEventLog,
    MongoJobRepository,
    MongoWebhookRepository,
)
from ocp.adapters.mongo.idempotency import MongoIdempotencyStore
from ocp.adapters.mongo.limits import MongoRateCounter
from ocp.adapters.mongo.trash import MongoTrashBin
from ocp.application.ports.common import Clock

Doc = dict[str, Any]
log = logging.getLogger("ocp.migrations")

SCHEMA_ID = "schema"  # the document in `meta` that records the version
LEASE_S = 60.0
WAIT_POLL_S = 0.2


class DeclaresIndexes(Protocol):
    async def ensure_indexes(self) -> None: ...


def index_owners(db: AsyncDatabase[Doc]) -> list[DeclaresIndexes]:
    """Every MongoDB repository that declares indexes, each owning its collections'."""
    # The throttle's limits change no index: any will do here.
    stores = mongo_stores(db, login_max_failures=1, login_window_s=1)
    return [
        *(store for _, store in stores.each()),
        MongoEventLog(db),
        MongoAuditLog(db),
        MongoTrashBin(db),
        MongoWebhookRepository(db),
        MongoDeliveryRepository(db),
        MongoJobRepository(db),
        MongoIdempotencyStore(db),
        MongoRateCounter(db),
    ]


async def _declared_indexes(db: AsyncDatabase[Doc]) -> None:
    for owner in index_owners(db):
        await owner.ensure_indexes()


@dataclass(frozen=True)
class Step:
    version: int  # the schema version this step brings the database to
    name: str
    apply: Callable[[AsyncDatabase[Doc]], Awaitable[None]]


# Append only: a step that has run somewhere never changes. A change to a repository's
# `ensure_indexes` (or to the catalog's TERMS_VERSION) reaches existing databases only
# through a new step, which may simply run `_declared_indexes` again and drop what went.
STEPS: tuple[Step, ...] = (
    Step(
        1,
        "every collection's indexes as its repository declares them; catalog terms",
        _declared_indexes,
    ),
)
SCHEMA_VERSION: int = STEPS[-1].version  # what this release needs, and migrates to


@dataclass(frozen=True)
class Migration:
    """What one `migrate` found and did."""

    before: int  # the version recorded when it began
    after: int  # the version recorded when it ended
    applied: list[Step] = field(default_factory=list)  # by this migration (not a neighbour's)


class LeaseLost(RuntimeError):
    """Another migration took the lease over while ours stalled: ours stopped."""


def _migrator_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class MongoSchema:
    """The recorded schema version of one database, and the migration to this release's."""

    def __init__(
        self,
        db: AsyncDatabase[Doc],
        clock: Clock,
        *,
        steps: tuple[Step, ...] = STEPS,
        lease_s: float = LEASE_S,
        owner: str | None = None,
    ) -> None:
        self._meta = db["meta"]
        self._db = db
        self._clock = clock
        self._steps = steps
        self._lease = timedelta(seconds=lease_s)
        self._owner = owner or _migrator_name()
        self.expected = steps[-1].version if steps else 0

    async def recorded_version(self) -> int:
        """The version the database is at: 0 when nothing was ever migrated."""
        doc = await self._meta.find_one({"_id": SCHEMA_ID}, {"version": 1})
        return int((doc or {}).get("version", 0))

    async def migrate(self) -> Migration:
        """Apply the steps the database lacks, under the lease; waits while another
        migration holds it. Never goes back: a newer version is left as it is."""
        before = await self.recorded_version()
        if before >= self.expected:
            return Migration(before, before)
        with contextlib.suppress(DuplicateKeyError):  # one document, made once
            await self._meta.insert_one({"_id": SCHEMA_ID, "version": 0, "steps": []})
        waiting = False
        while True:
            doc = await self._take_lease()
            if doc is not None:
                break
            version = await self.recorded_version()
            if version >= self.expected:  # the other migration did it
                return Migration(before, version)
            if not waiting:
                log.info("another migration holds the schema lease; waiting for it")
                waiting = True
            await asyncio.sleep(WAIT_POLL_S)
        try:
            applied = await self._apply_from(int(doc.get("version", 0)))
        finally:
            await self._meta.update_one(
                {"_id": SCHEMA_ID, "lease.owner": self._owner}, {"$set": {"lease": None}}
            )
        return Migration(before, await self.recorded_version(), applied)

    async def _take_lease(self) -> Doc | None:
        now = self._clock.now()
        doc: Doc | None = await self._meta.find_one_and_update(
            {"_id": SCHEMA_ID, "$or": [{"lease": None}, {"lease.until": {"$lte": now}}]},
            {"$set": {"lease": {"owner": self._owner, "until": now + self._lease}}},
            return_document=ReturnDocument.AFTER,
        )
        return doc

    async def _apply_from(self, version: int) -> list[Step]:
        applied = []
        for step in self._steps:
            if step.version <= version:
                continue
            log.info("schema step %d: %s", step.version, step.name)
            began = time.perf_counter()
            renewing = asyncio.create_task(self._keep_lease())
            try:
                await step.apply(self._db)
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
            now = self._clock.now()
            recorded = await self._meta.update_one(
                {"_id": SCHEMA_ID, "lease.owner": self._owner, "version": step.version - 1},
                {
                    "$set": {
                        "version": step.version,
                        "applied_at": now,
                        "lease.until": now + self._lease,
                    },
                    "$push": {
                        "steps": {
                            "version": step.version,
                            "name": step.name,
                            "applied_at": now,
                            "seconds": round(time.perf_counter() - began, 3),
                            "by": self._owner,
                        }
                    },
                },
            )
            if recorded.modified_count != 1:
                raise LeaseLost(
                    f"schema step {step.version} ran, but another migration took the lease "
                    "meanwhile: this one stops (run `ocp db migrate` again to see where it is)"
                )
            applied.append(step)
        return applied

    async def _keep_lease(self) -> None:
        """Push the lease on while a step runs (a large index build takes minutes)."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            now = self._clock.now()
            await self._meta.update_one(
                {"_id": SCHEMA_ID, "lease.owner": self._owner},
                {"$set": {"lease.until": now + self._lease}},
            )
