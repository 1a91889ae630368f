"""What the worker does with events: settle the ones a dead process left prepared, fan each
ready event out into one delivery per subscribed endpoint, and send deliveries (signed,
leased, retried with backoff), keeping each endpoint's health."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ocp.application.audit import entries_of
from ocp.application.ports.audit import AuditLog
from ocp.application.ports.common import Clock
from ocp.application.ports.events import (
    DeliveryRepository,
    EventLog,
    SubjectProbe,
    WebhookRepository,
)
from ocp.application.ports.webhooks import SendOutcome, WebhookSender
from ocp.application.retry import retry_on_stale
from ocp.domain.errors import NotFound
from ocp.domain.webhooks import (
    Delivery,
    DeliveryStatus,
    Event,
    WebhookEndpoint,
    signature,
)

log = logging.getLogger("ocp.events")

# A prepared event younger than this may belong to a request still running.
SETTLE_AFTER = timedelta(seconds=30)
# A worker holds a claimed delivery this long: longer than one attempt (10 s) can take.
DELIVERY_LEASE = timedelta(seconds=60)
# A delivery made for an event whose change is still being written waits this long.
PREPARED_RETRY = timedelta(seconds=1)
BATCH = 100


def event_body(event: Event) -> bytes:
    """The JSON a receiver gets: `{id, type, timestamp, data}`, compact, UTF-8."""
    document = {
        "id": event.id,
        "type": event.type,
        "timestamp": iso(event.timestamp),
        "data": event.data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class FanOut:
    """What one fan-out run did: events taken, deliveries made. True when it took any."""

    events: int
    deliveries: int

    def __bool__(self) -> bool:
        return self.events > 0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt, as the worker's metrics see it."""

    event_type: str
    outcome: str  # succeeded | retrying | failed
    seconds: float  # from the event to this attempt's end


class Dispatcher:
    def __init__(
        self,
        *,
        events: EventLog,
        probe: SubjectProbe,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        sender: WebhookSender,
        clock: Clock,
        owner: str,
        subscribers: Subscribers,
        lease_s: float = DELIVERY_LEASE.total_seconds(),
    ) -> None:
        self._subscribers = subscribers
        self._lease = timedelta(seconds=lease_s)
        self._events = events
        self._probe = probe
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._sender = sender
        self._clock = clock
        self._owner = owner

    async def sweep(self) -> int:
        """Settle events left prepared by a process that died mid-change: committed when the
        object holds the change's version (or a later one), dropped otherwise."""
        settled = 0
        for event, subject in await self._events.prepared_before(
            self._clock.now() - SETTLE_AFTER, BATCH
        ):
            version = await self._probe.version_of(subject.collection, subject.id)
            if subject.version is None:
                happened = version is None
            else:
                happened = version is not None and version >= subject.version
            if happened:
                await self._events.commit([event])
            else:
                await self._events.discard([event.id])
            log.info("settled event %s (%s): %s", event.id, event.type, happened)
            settled += 1
        return settled

    async def fan_out(self) -> FanOut:
        """Deliveries for ready events whose process did not make them (a sweep committed
        them, or it died in between); safe to run again."""
        events = await self._events.next_unfanned(BATCH)
        if not events:
            return FanOut(0, 0)
        made = await self._subscribers.deliver(events)
        await self._events.mark_fanned([e.id for e in events])
        return FanOut(len(events), made)

    async def deliver_next(self) -> Attempt | None:
        """Claim the earliest due delivery and make one attempt; None when none is due."""
        delivery = await self.claim()
        return None if delivery is None else await self.attempt(delivery)

    async def claim(self) -> Delivery | None:
        """Lease the earliest due delivery for this worker; None when none is due."""
        now = self._clock.now()
        return await self._deliveries.claim(now, self._owner, now + self._lease)

    async def attempt(self, delivery: Delivery) -> Attempt:
        """One attempt at a delivery this worker holds, then its lease ends."""
        now = self._clock.now()
        endpoint = await self._webhooks.get(delivery.endpoint_id)
        event = await self._events.get(delivery.event_id)
        if event is None and await self._events.is_prepared(delivery.event_id):
            # Its change is being written right now: try again in a moment, no attempt used.
            delivery.next_attempt_at = now + PREPARED_RETRY
            await self._deliveries.release(delivery, self._owner)
            return Attempt(delivery.event_type, "waiting", 0.0)
        if event is None:
            delivery.abandon(now, "the event was withdrawn: its change did not happen")
        elif endpoint is None:
            delivery.abandon(now, "the endpoint was deleted")
        elif not endpoint.active and event.endpoint_id is None:
            delivery.abandon(
                now, f"the endpoint is disabled: {endpoint.disabled_reason or 'by an admin'}"
            )
        else:
            outcome = await self._send(endpoint, event, now)
            delivery.record_attempt(
                self._clock.now(), outcome.status_code, outcome.error, outcome.succeeded
            )
            await self._keep_health(endpoint, outcome)
        await self._deliveries.release(delivery, self._owner)
        if delivery.status is DeliveryStatus.SUCCEEDED:
            result = "succeeded"
        elif delivery.status is DeliveryStatus.FAILED:
            result = "failed"
        else:
            result = "retrying"
        since = (self._clock.now() - delivery.created_at).total_seconds()
        return Attempt(delivery.event_type, result, since)

    async def _send(self, endpoint: WebhookEndpoint, event: Event, now: datetime) -> SendOutcome:
        body = event_body(event)
        timestamp = int(now.timestamp())
        signatures = " ".join(
            signature(secret, event.id, timestamp, body) for secret in endpoint.signing_secrets(now)
        )
        headers = {
            "content-type": "application/json",
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }
        return await self._sender.send(endpoint.url, body, headers)

    async def _keep_health(self, endpoint: WebhookEndpoint, outcome: SendOutcome) -> None:
        async def attempt(n: int) -> None:
            current = endpoint if n == 0 else await self._webhooks.get(endpoint.id)
            if current is None:
                return
            version = current.version
            if current.note_attempt(outcome.status_code, outcome.succeeded, self._clock.now()):
                await self._webhooks.update(current, version)

        try:
            await retry_on_stale(attempt)
        except NotFound:
            return


class Subscribers:
    """Turns events into one delivery per endpoint that wants each; making them again for
    the same events makes nothing twice (delivery ids are derived from event and endpoint)."""

    def __init__(
        self,
        *,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        audit: AuditLog | None = None,
    ) -> None:
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._audit = audit

    async def deliver(self, events: list[Event]) -> int:
        """Make the deliveries of `events` (how many), and the audit entries of the audited
        ones; before the events count as fanned out, so a retry makes whatever is missing."""
        if self._audit is not None and (entries := entries_of(events)):
            await self._audit.append(entries)
        subscribers: dict[str, list[WebhookEndpoint]] = {}
        batch: list[Delivery] = []
        for event in events:
            if event.endpoint_id is not None:
                endpoint = await self._webhooks.get(event.endpoint_id)
                endpoints = [endpoint] if endpoint is not None else []
            else:
                if event.type not in subscribers:
                    subscribers[event.type] = await self._webhooks.subscribed(event.type)
                endpoints = subscribers[event.type]
            batch.extend(
                Delivery(
                    id=delivery_id(event.id, endpoint.id),
                    endpoint_id=endpoint.id,
                    event_id=event.id,
                    event_type=event.type,
                    created_at=event.timestamp,
                    next_attempt_at=event.timestamp,
                )
                for endpoint in endpoints
                if endpoint.wants(event)
            )
        if batch:
            await self._deliveries.add_many(batch)
        return len(batch)


def delivery_id(event_id: str, endpoint_id: str) -> str:
    return f"dlv_{event_id.removeprefix('evt_')}_{endpoint_id}"
