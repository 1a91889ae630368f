"""Ports of events and background work: the event log (a transactional outbox without
multi-document transactions), webhook endpoints, deliveries, and leased jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from ocp.domain.webhooks import Delivery, DeliveryStatus, Event, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class Subject:
    """What a change writes, so that whether it happened can be told afterwards: the object
    `id` of `collection` holds `version` (None: the change removes it)."""

    collection: str
    id: str
    version: int | None


class EventLog(Protocol):
    """Events are written `prepare`d before the change that causes them and `commit`ted
    after it; one left prepared (the process died between) is settled by the sweeper,
    which asks the `SubjectProbe` whether the change happened."""

    async def prepare(self, entries: list[tuple[Subject, Event]], now: datetime) -> None:
        """Write each event prepared, with the subject that tells whether its change happened."""
        ...

    async def commit(self, events: list[Event], *, fanned: bool = False) -> None:
        """Mark them ready to send (`fanned`: their deliveries are made already); idempotent,
        and also after a sweep dropped them."""
        ...

    async def is_prepared(self, event_id: str) -> bool:
        """Whether the event is written but not yet committed (its change under way)."""
        ...

    async def discard(self, event_ids: list[str]) -> None:
        """The change did not happen: forget them."""
        ...

    async def prepared_before(self, when: datetime, limit: int) -> list[tuple[Event, Subject]]: ...

    async def next_unfanned(self, limit: int) -> list[Event]:
        """Ready events whose deliveries are not all created yet, oldest first."""
        ...

    async def mark_fanned(self, event_ids: list[str]) -> None: ...

    async def get(self, event_id: str) -> Event | None: ...

    async def list_ready(self, type_: str | None, before_id: str | None, limit: int) -> list[Event]:
        """Ready events, newest (highest id) first, with ids below `before_id`."""
        ...


class SubjectProbe(Protocol):
    async def version_of(self, collection: str, object_id: str) -> int | None:
        """The stored version of the object (1 for objects without versions), None if absent."""
        ...


class WebhookRepository(Protocol):
    async def add(self, endpoint: WebhookEndpoint) -> None: ...

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None: ...

    async def update(self, endpoint: WebhookEndpoint, expected_version: int) -> None:
        """`StaleVersion` when the version moved, `NotFound` when it is gone."""
        ...

    async def delete(self, endpoint_id: str) -> bool: ...

    async def list_after(self, after_id: str | None, limit: int) -> list[WebhookEndpoint]: ...

    async def subscribed(self, event_type: str) -> list[WebhookEndpoint]:
        """Active endpoints that subscribe to the type."""
        ...


class DeliveryRepository(Protocol):
    async def add_many(self, deliveries: list[Delivery]) -> None:
        """Store them, skipping any whose id exists (a fan-out run again)."""
        ...

    async def claim(self, now: datetime, owner: str, lease_until: datetime) -> Delivery | None:
        """Lease one pending delivery that is due and not leased by a live worker: the
        earliest due first. Nobody else claims it until `lease_until` or its release."""
        ...

    async def release(self, delivery: Delivery, owner: str) -> bool:
        """Store the delivery's new state and end the lease, if `owner` still holds it."""
        ...

    async def get(self, delivery_id: str) -> Delivery | None: ...

    async def redeliver(self, delivery_id: str, now: datetime) -> Delivery | None:
        """Make it pending and due now (not while a worker holds it): the delivery, or None."""
        ...

    async def list_endpoint(
        self, endpoint_id: str, status: DeliveryStatus | None, before_id: str | None, limit: int
    ) -> list[Delivery]:
        """An endpoint's deliveries, newest first."""
        ...

    async def pending_stats(self, now: datetime) -> tuple[int, datetime | None]:
        """How many deliveries are pending (capped at 10,000), and the oldest due time."""
        ...


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(slots=True)
class Job:
    """Work done outside a request: sending a mail, a bulk enrollment. `state` is the job's
    own record of what it did (rows done, the report so far), saved with its progress."""

    id: str
    kind: str
    created_by: str | None
    created_at: datetime
    payload: dict[str, Any]
    status: JobStatus = JobStatus.QUEUED
    run_after: datetime | None = None
    attempts: int = 0
    done: int = 0
    total: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobRepository(Protocol):
    async def add(self, job: Job) -> None: ...

    async def get(self, job_id: str) -> Job | None: ...

    async def claim(self, now: datetime, owner: str, lease_until: datetime) -> Job | None:
        """Lease the oldest due job that is queued, or running under an expired lease (its
        worker died): it resumes from its saved progress."""
        ...

    async def save(self, job: Job, owner: str, lease_until: datetime | None) -> bool:
        """Store progress (and extend the lease), or with `lease_until` None the end of the
        lease; False when `owner` no longer holds the job."""
        ...

    async def queued_stats(self, now: datetime) -> tuple[int, datetime | None]:
        """How many jobs wait (capped at 10,000), and the oldest one's creation time."""
        ...


class EventPresenter(Protocol):
    def present(self, resource: object) -> dict[str, Any]:
        """`resource` (a user, a course, an enrollment's progress report, a submission...)
        as its own route shows it: the `data` of an event."""
        ...
