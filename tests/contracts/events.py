"""Contracts of the event log, webhook endpoints, deliveries and jobs, written once and run
against every adapter. Each takes `event_stores` (events, probe, webhooks, deliveries, jobs)
from the module running it."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocp.application.ports.events import Job, JobStatus, Subject
from ocp.domain.errors import NotFound, StaleVersion
from ocp.domain.webhooks import Delivery, DeliveryStatus, Event, WebhookEndpoint

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


@dataclass
class EventStores:
    events: Any
    webhooks: Any
    deliveries: Any
    jobs: Any


def an_event(type_: str = "user.created", at: datetime = NOW) -> Event:
    n = next(_ids)
    return Event(id=f"evt_{n:010d}", type=type_, timestamp=at, data={"id": f"u{n}", "n": n})


def a_delivery(due: datetime = NOW, endpoint_id: str = "wh_1") -> Delivery:
    n = next(_ids)
    return Delivery(
        id=f"dlv_{n:010d}_{endpoint_id}",
        endpoint_id=endpoint_id,
        event_id=f"evt_{n:010d}",
        event_type="user.created",
        created_at=due,
        next_attempt_at=due,
    )


def a_job(at: datetime = NOW, kind: str = "mail") -> Job:
    return Job(
        id=f"job_{next(_ids):010d}", kind=kind, created_by="u1", created_at=at, payload={"n": 1}
    )


def an_endpoint(events: list[str] | None = None) -> WebhookEndpoint:
    return WebhookEndpoint.register(
        id=f"wh_{next(_ids):010d}",
        url="https://hooks.example.com/",
        events=events or ["user.created"],
        description_="",
        secret="whsec_" + "A" * 44,
        now=NOW,
    )


SUBJECT = Subject("users", "u1", 1)


class EventLogContract:
    async def test_a_prepared_event_is_invisible_until_committed(self, event_stores):
        log = event_stores.events
        event = an_event()
        await log.prepare([(SUBJECT, event)], NOW)
        assert await log.get(event.id) is None
        assert await log.list_ready(None, None, 10) == []
        assert await log.next_unfanned(10) == []
        await log.commit([event])
        assert (await log.get(event.id)) == event
        assert [e.id for e in await log.next_unfanned(10)] == [event.id]
        await log.mark_fanned([event.id])
        assert await log.next_unfanned(10) == []
        await log.commit([event])  # again (a late commit after a sweep): still fanned
        assert await log.next_unfanned(10) == []

    async def test_a_discard_forgets_only_prepared_events(self, event_stores):
        log = event_stores.events
        kept, dropped = an_event(), an_event()
        await log.prepare([(SUBJECT, kept), (SUBJECT, dropped)], NOW)
        await log.commit([kept])
        await log.discard([kept.id, dropped.id])
        assert await log.get(kept.id) == kept
        assert await log.prepared_before(NOW + timedelta(hours=1), 10) == []
        # A commit after a sweep dropped it (a request slower than the sweeper) restores it.
        await log.commit([dropped])
        assert await log.get(dropped.id) == dropped

    async def test_the_sweeper_sees_old_prepared_events_with_their_subjects(self, event_stores):
        log = event_stores.events
        old, young = an_event(), an_event()
        await log.prepare([(Subject("enrollments", "e1", None), old)], NOW)
        await log.prepare([(SUBJECT, young)], NOW + timedelta(seconds=40))
        found = await log.prepared_before(NOW + timedelta(seconds=30), 10)
        assert found == [(old, Subject("enrollments", "e1", None))]

    async def test_the_log_pages_newest_first_by_type(self, event_stores):
        log = event_stores.events
        made = [an_event("user.created" if n % 2 else "file.created") for n in range(6)]
        for event in made:
            await log.prepare([(SUBJECT, event)], NOW)
            await log.commit([event])
        newest = await log.list_ready(None, None, 4)
        assert [e.id for e in newest] == [e.id for e in reversed(made)][:4]
        rest = await log.list_ready(None, newest[-1].id, 10)
        assert [e.id for e in rest] == [e.id for e in reversed(made)][4:]
        files = await log.list_ready("file.created", None, 10)
        assert [e.id for e in files] == [e.id for e in reversed(made) if e.type == "file.created"]


class WebhookRepositoryContract:
    async def test_endpoints_are_stored_changed_listed_and_deleted(self, event_stores):
        hooks = event_stores.webhooks
        one, two = an_endpoint(["user.created"]), an_endpoint(["file.created", "user.created"])
        await hooks.add(one)
        await hooks.add(two)
        assert await hooks.get(one.id) == one
        assert [e.id for e in await hooks.list_after(None, 10)] == [one.id, two.id]
        assert [e.id for e in await hooks.list_after(one.id, 10)] == [two.id]
        assert {e.id for e in await hooks.subscribed("user.created")} == {one.id, two.id}
        version = two.version
        two.disable("gone", NOW)
        await hooks.update(two, version)
        assert [e.id for e in await hooks.subscribed("user.created")] == [one.id]
        with pytest.raises(StaleVersion):
            await hooks.update(two, version)
        assert await hooks.delete(one.id) and not await hooks.delete(one.id)
        with pytest.raises(NotFound):
            await hooks.update(one, one.version)


class DeliveryRepositoryContract:
    async def test_the_earliest_due_delivery_is_claimed_once_until_its_lease_ends(
        self, event_stores
    ):
        store = event_stores.deliveries
        later, sooner = a_delivery(NOW + timedelta(seconds=5)), a_delivery(NOW)
        future = a_delivery(NOW + timedelta(hours=1))
        await store.add_many([later, sooner, future])
        await store.add_many([sooner])  # a fan-out run again: no second delivery
        now = NOW + timedelta(seconds=10)
        lease = now + timedelta(seconds=60)
        first = await store.claim(now, "w1", lease)
        second = await store.claim(now, "w2", lease)
        assert (first.id, second.id) == (sooner.id, later.id)
        assert await store.claim(now, "w3", lease) is None  # the rest is leased or not due
        # The lease of a dead worker ends: another takes the delivery.
        again = await store.claim(lease, "w3", lease + timedelta(seconds=60))
        assert again.id == sooner.id
        first.record_attempt(now, 200, None, succeeded=True)
        assert not await store.release(first, "w1")  # w1 lost it to w3
        again.record_attempt(lease, 200, None, succeeded=True)
        assert await store.release(again, "w3")
        stored = await store.get(sooner.id)
        assert stored.status is DeliveryStatus.SUCCEEDED and stored.attempts == 1

    async def test_concurrent_workers_never_claim_one_delivery_twice(self, event_stores):
        store = event_stores.deliveries
        made = [a_delivery() for _ in range(20)]
        await store.add_many(made)
        lease = NOW + timedelta(seconds=60)
        claimed = await asyncio.gather(*(store.claim(NOW, f"w{n}", lease) for n in range(30)))
        ids = [d.id for d in claimed if d is not None]
        assert sorted(ids) == sorted(d.id for d in made)

    async def test_redelivery_and_listing_by_status(self, event_stores):
        store = event_stores.deliveries
        done, failed = a_delivery(endpoint_id="wh_a"), a_delivery(endpoint_id="wh_a")
        await store.add_many([done, failed, a_delivery(endpoint_id="wh_b")])
        lease = NOW + timedelta(seconds=60)
        for delivery, ok in ((done, True), (failed, False)):
            claimed = await store.claim(NOW, "w", lease)
            assert claimed.id == delivery.id
            if ok:
                claimed.record_attempt(NOW, 204, None, succeeded=True)
            else:
                claimed.abandon(NOW, "gone")
            await store.release(claimed, "w")
        listed = await store.list_endpoint("wh_a", None, None, 10)
        assert [d.id for d in listed] == [failed.id, done.id]
        only = await store.list_endpoint("wh_a", DeliveryStatus.FAILED, None, 10)
        assert [d.id for d in only] == [failed.id]
        assert [d.id for d in await store.list_endpoint("wh_a", None, failed.id, 10)] == [done.id]
        again = await store.redeliver(failed.id, NOW + timedelta(minutes=1))
        assert again.status is DeliveryStatus.PENDING and again.attempts == 0
        count, oldest = await store.pending_stats(NOW + timedelta(minutes=1))
        assert count == 2 and oldest == NOW


class JobRepositoryContract:
    async def test_jobs_are_claimed_oldest_first_and_resumed_after_a_dead_worker(
        self, event_stores
    ):
        jobs = event_stores.jobs
        first, second = a_job(), a_job()
        await jobs.add(first)
        await jobs.add(second)
        lease = NOW + timedelta(seconds=60)
        claimed = await jobs.claim(NOW, "w1", lease)
        assert claimed.id == first.id
        claimed.status = JobStatus.RUNNING
        claimed.done = 3
        assert await jobs.save(claimed, "w1", lease)
        longer = lease + timedelta(seconds=30)
        assert (await jobs.claim(NOW, "w2", longer)).id == second.id
        assert await jobs.claim(NOW, "w2", longer) is None
        # w1 dies: once its lease ends, the job resumes from its last save.
        resumed = await jobs.claim(lease, "w3", lease + timedelta(seconds=60))
        assert resumed.id == first.id and resumed.done == 3
        assert not await jobs.save(claimed, "w1", None)  # w1 lost it
        resumed.status = JobStatus.SUCCEEDED
        assert await jobs.save(resumed, "w3", None)
        assert (await jobs.get(first.id)).status is JobStatus.SUCCEEDED

    async def test_a_job_waiting_to_retry_is_not_claimed_before_its_time(self, event_stores):
        jobs = event_stores.jobs
        job = a_job()
        await jobs.add(job)
        claimed = await jobs.claim(NOW, "w", NOW + timedelta(seconds=60))
        claimed.status = JobStatus.QUEUED
        claimed.run_after = NOW + timedelta(minutes=5)
        assert await jobs.save(claimed, "w", None)
        assert await jobs.claim(NOW + timedelta(minutes=4), "w", NOW) is None
        assert (await jobs.claim(NOW + timedelta(minutes=5), "w", NOW)).id == job.id
        count, oldest = await jobs.queued_stats(NOW)
        assert count == 1 and oldest == NOW
