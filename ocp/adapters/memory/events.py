"""In-memory events, webhook endpoints, deliveries and jobs, with the MongoDB ones' semantics
(leases, idempotent fan-out, conditional updates); every method finishes without yielding,
so each is atomic as a single document update is."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ocp.application.ports.events import Job, JobStatus, Subject
from ocp.application.ports.stores import Stores
from ocp.domain.errors import NotFound, StaleVersion
from ocp.domain.webhooks import Delivery, DeliveryStatus, Event, WebhookEndpoint

_CAP = 10_000


class InMemoryEventLog:
    def __init__(self) -> None:
        # id -> [event, subject, status (prepared|ready), fanned, prepared_at]
        self._by_id: dict[str, list[Any]] = {}

    async def prepare(self, entries: list[tuple[Subject, Event]], now: datetime) -> None:
        for subject, event in entries:
            self._by_id[event.id] = [event, subject, "prepared", False, now]

    async def commit(self, events: list[Event], *, fanned: bool = False) -> None:
        for event in events:
            row = self._by_id.setdefault(event.id, [event, None, "ready", False, None])
            row[2] = "ready"
            row[3] = row[3] or fanned

    async def is_prepared(self, event_id: str) -> bool:
        row = self._by_id.get(event_id)
        return row is not None and row[2] == "prepared"

    async def discard(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            row = self._by_id.get(event_id)
            if row is not None and row[2] == "prepared":
                del self._by_id[event_id]

    async def prepared_before(self, when: datetime, limit: int) -> list[tuple[Event, Subject]]:
        rows = [r for r in self._by_id.values() if r[2] == "prepared" and r[4] < when]
        return [(r[0], r[1]) for r in sorted(rows, key=lambda r: r[0].id)[:limit]]

    async def next_unfanned(self, limit: int) -> list[Event]:
        rows = [r[0] for r in self._by_id.values() if r[2] == "ready" and not r[3]]
        return sorted(rows, key=lambda e: e.id)[:limit]

    async def mark_fanned(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            if event_id in self._by_id:
                self._by_id[event_id][3] = True

    async def get(self, event_id: str) -> Event | None:
        row = self._by_id.get(event_id)
        return row[0] if row is not None and row[2] == "ready" else None

    async def list_ready(self, type_: str | None, before_id: str | None, limit: int) -> list[Event]:
        rows = [
            r[0]
            for r in self._by_id.values()
            if r[2] == "ready"
            and (type_ is None or r[0].type == type_)
            and (before_id is None or r[0].id < before_id)
        ]
        return sorted(rows, key=lambda e: e.id, reverse=True)[:limit]


class InMemorySubjectProbe:
    """Reads the memory stores' own records (the raw ones, under any cache)."""

    def __init__(self, stores: Stores) -> None:
        self._stores = stores

    async def version_of(self, collection: str, object_id: str) -> int | None:
        store: Any = getattr(self._stores, collection, None)
        if store is None:
            return None
        if hasattr(store, "_by_id"):
            found = store._by_id.get(object_id)
        else:  # enrollments and reviews are kept by (course, student)
            found = next((v for v in store._by_pair.values() if v.id == object_id), None)
        if found is None:
            return None
        return int(getattr(found, "version", 1))


class InMemoryWebhookRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, WebhookEndpoint] = {}

    async def add(self, endpoint: WebhookEndpoint) -> None:
        self._by_id[endpoint.id] = copy.deepcopy(endpoint)

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        found = self._by_id.get(endpoint_id)
        return copy.deepcopy(found) if found else None

    async def update(self, endpoint: WebhookEndpoint, expected_version: int) -> None:
        stored = self._by_id.get(endpoint.id)
        if stored is None:
            raise NotFound("no such webhook endpoint")
        if stored.version != expected_version:
            raise StaleVersion("the endpoint changed meanwhile")
        self._by_id[endpoint.id] = copy.deepcopy(endpoint)

    async def delete(self, endpoint_id: str) -> bool:
        return self._by_id.pop(endpoint_id, None) is not None

    async def list_after(self, after_id: str | None, limit: int) -> list[WebhookEndpoint]:
        rows = sorted(self._by_id.values(), key=lambda e: e.id)
        return [copy.deepcopy(e) for e in rows if after_id is None or e.id > after_id][:limit]

    async def subscribed(self, event_type: str) -> list[WebhookEndpoint]:
        return [
            copy.deepcopy(e) for e in self._by_id.values() if e.active and event_type in e.events
        ]


class InMemoryDeliveryRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, Delivery] = {}
        self._leases: dict[str, tuple[str, datetime]] = {}

    async def add_many(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self._by_id.setdefault(delivery.id, copy.deepcopy(delivery))

    def _free(self, delivery_id: str, now: datetime) -> bool:
        lease = self._leases.get(delivery_id)
        return lease is None or lease[1] <= now

    async def claim(self, now: datetime, owner: str, lease_until: datetime) -> Delivery | None:
        due = [
            d
            for d in self._by_id.values()
            if d.status is DeliveryStatus.PENDING
            and d.next_attempt_at <= now
            and self._free(d.id, now)
        ]
        if not due:
            return None
        chosen = min(due, key=lambda d: (d.next_attempt_at, d.id))
        self._leases[chosen.id] = (owner, lease_until)
        return copy.deepcopy(chosen)

    async def release(self, delivery: Delivery, owner: str) -> bool:
        lease = self._leases.get(delivery.id)
        if lease is None or lease[0] != owner or delivery.id not in self._by_id:
            return False
        del self._leases[delivery.id]
        self._by_id[delivery.id] = copy.deepcopy(delivery)
        return True

    async def get(self, delivery_id: str) -> Delivery | None:
        found = self._by_id.get(delivery_id)
        return copy.deepcopy(found) if found else None

    async def redeliver(self, delivery_id: str, now: datetime) -> Delivery | None:
        stored = self._by_id.get(delivery_id)
        if stored is None or not self._free(delivery_id, now):
            return None
        stored.redeliver(now)
        self._leases.pop(delivery_id, None)
        return copy.deepcopy(stored)

    async def list_endpoint(
        self, endpoint_id: str, status: DeliveryStatus | None, before_id: str | None, limit: int
    ) -> list[Delivery]:
        rows = [
            d
            for d in self._by_id.values()
            if d.endpoint_id == endpoint_id
            and (status is None or d.status is status)
            and (before_id is None or d.id < before_id)
        ]
        return [copy.deepcopy(d) for d in sorted(rows, key=lambda d: d.id, reverse=True)[:limit]]

    async def pending_stats(self, now: datetime) -> tuple[int, datetime | None]:
        pending = [d for d in self._by_id.values() if d.status is DeliveryStatus.PENDING]
        oldest = min((d.next_attempt_at for d in pending), default=None)
        return min(len(pending), _CAP), oldest


class InMemoryJobRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, Job] = {}
        self._leases: dict[str, tuple[str, datetime]] = {}

    async def add(self, job: Job) -> None:
        self._by_id[job.id] = copy.deepcopy(job)

    async def get(self, job_id: str) -> Job | None:
        found = self._by_id.get(job_id)
        return copy.deepcopy(found) if found else None

    async def claim(self, now: datetime, owner: str, lease_until: datetime) -> Job | None:
        def claimable(job: Job) -> bool:
            lease = self._leases.get(job.id)
            if job.status is JobStatus.QUEUED:
                return (job.run_after is None or job.run_after <= now) and (
                    lease is None or lease[1] <= now
                )
            return job.status is JobStatus.RUNNING and (lease is None or lease[1] <= now)

        due = [j for j in self._by_id.values() if claimable(j)]
        if not due:
            return None
        chosen = min(due, key=lambda j: j.id)
        self._leases[chosen.id] = (owner, lease_until)
        return copy.deepcopy(chosen)

    async def save(self, job: Job, owner: str, lease_until: datetime | None) -> bool:
        lease = self._leases.get(job.id)
        if lease is None or lease[0] != owner:
            return False
        self._by_id[job.id] = copy.deepcopy(job)
        if lease_until is None:
            del self._leases[job.id]
        else:
            self._leases[job.id] = (owner, lease_until)
        return True

    async def queued_stats(self, now: datetime) -> tuple[int, datetime | None]:
        waiting = [j for j in self._by_id.values() if j.status is JobStatus.QUEUED]
        oldest = min((j.created_at for j in waiting), default=None)
        return min(len(waiting), _CAP), oldest
