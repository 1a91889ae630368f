"""MongoDB `events`, `webhooks`, `deliveries` and `jobs`: the outbox and the work queues.

Leases are single-document atomic updates (`find_one_and_update` on a due time): whoever
sets the lease owns the delivery or job until it expires, so several workers never send
one delivery at once, and a dead worker's work is taken over after its lease. Every query
is an equality on a status and a range on a time or id, each on its own index."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from ocp.adapters.mongo.errors import translate_errors
from ocp.application.ports.events import Job, JobStatus, Subject
from ocp.domain.audit import AuditInfo
from ocp.domain.errors import NotFound, StaleVersion
from ocp.domain.webhooks import Delivery, DeliveryStatus, Event, WebhookEndpoint

Doc = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Events, deliveries and finished jobs are kept this long, then MongoDB's TTL monitor removes
# them (retries end after 27 hours; a job's report and its addresses go after 30 days).
RETENTION_S = 30 * 24 * 3600
_CAP = 10_000
_DUPLICATE_KEY = 11000


def _event_fields(event: Event) -> Doc:
    fields: Doc = {
        "type": event.type,
        "timestamp": event.timestamp,
        "data": event.data,
        "endpoint_id": event.endpoint_id,
    }
    if event.audit is not None:
        fields["audit"] = asdict(event.audit)
    return fields


def _event_from(doc: Doc) -> Event:
    return Event(
        id=doc["_id"],
        type=doc["type"],
        timestamp=doc["timestamp"],
        data=doc["data"],
        endpoint_id=doc.get("endpoint_id"),
        audit=AuditInfo(**doc["audit"]) if doc.get("audit") else None,
    )


@translate_errors
class MongoEventLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._events = db["events"]

    async def ensure_indexes(self) -> None:
        await self._events.create_index(
            [("status", ASCENDING), ("prepared_at", ASCENDING)], name="status_prepared_at"
        )
        await self._events.create_index(
            [("status", ASCENDING), ("fanned", ASCENDING), ("_id", ASCENDING)],
            name="status_fanned_id",
        )
        await self._events.create_index(
            [("status", ASCENDING), ("type", ASCENDING), ("_id", DESCENDING)],
            name="status_type_id",
        )
        await self._events.create_index(
            "timestamp", expireAfterSeconds=RETENTION_S, name="retention"
        )

    async def prepare(self, entries: list[tuple[Subject, Event]], now: datetime) -> None:
        docs = [
            {
                "_id": e.id,
                **_event_fields(e),
                "status": "prepared",
                "fanned": False,
                "prepared_at": now,
                "subject": {"collection": s.collection, "id": s.id, "version": s.version},
            }
            for s, e in entries
        ]
        if len(docs) == 1:
            await self._events.insert_one(docs[0])
        else:
            await self._events.insert_many(docs, ordered=False)

    async def commit(self, events: list[Event], *, fanned: bool = False) -> None:
        # Upsert: also when a sweep has dropped it meanwhile (a request slower than the
        # sweeper's patience), the process that made the change knows best.
        ready: Doc = {"status": "ready", "fanned": True} if fanned else {"status": "ready"}

        def update(e: Event) -> Doc:
            inserted = _event_fields(e) if fanned else {**_event_fields(e), "fanned": False}
            return {"$set": ready, "$setOnInsert": inserted}

        if len(events) == 1:  # one round trip either way; the plain command is cheaper
            await self._events.update_one({"_id": events[0].id}, update(events[0]), upsert=True)
            return
        await self._events.bulk_write(
            [UpdateOne({"_id": e.id}, update(e), upsert=True) for e in events], ordered=False
        )

    async def is_prepared(self, event_id: str) -> bool:
        found = await self._events.find_one({"_id": event_id, "status": "prepared"}, {"_id": 1})
        return found is not None

    async def discard(self, event_ids: list[str]) -> None:
        await self._events.delete_many({"_id": {"$in": event_ids}, "status": "prepared"})

    async def prepared_before(self, when: datetime, limit: int) -> list[tuple[Event, Subject]]:
        cursor = (
            self._events.find({"status": "prepared", "prepared_at": {"$gte": EPOCH, "$lt": when}})
            .sort("prepared_at", ASCENDING)
            .limit(limit)
        )
        found = []
        async for doc in cursor:
            s = doc["subject"]
            found.append((_event_from(doc), Subject(s["collection"], s["id"], s["version"])))
        return found

    async def next_unfanned(self, limit: int) -> list[Event]:
        cursor = (
            self._events.find({"status": "ready", "fanned": False})
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [_event_from(doc) async for doc in cursor]

    async def mark_fanned(self, event_ids: list[str]) -> None:
        await self._events.update_many({"_id": {"$in": event_ids}}, {"$set": {"fanned": True}})

    async def get(self, event_id: str) -> Event | None:
        doc = await self._events.find_one({"_id": event_id, "status": "ready"})
        return _event_from(doc) if doc else None

    async def list_ready(self, type_: str | None, before_id: str | None, limit: int) -> list[Event]:
        where: Doc = {"status": "ready"}
        if type_ is not None:
            where["type"] = type_
        if before_id is not None:
            where["_id"] = {"$lt": before_id}
        cursor = self._events.find(where).sort("_id", DESCENDING).limit(limit)
        return [_event_from(doc) async for doc in cursor]


@translate_errors
class MongoSubjectProbe:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db

    async def version_of(self, collection: str, object_id: str) -> int | None:
        doc = await self._db[collection].find_one({"_id": object_id}, {"version": 1})
        return None if doc is None else int(doc.get("version", 1))


def _endpoint_to_doc(e: WebhookEndpoint) -> Doc:
    return {
        "_id": e.id,
        "url": e.url,
        "events": e.events,
        "description": e.description,
        "secret": e.secret,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "active": e.active,
        "disabled_reason": e.disabled_reason,
        "previous_secret": e.previous_secret,
        "previous_secret_until": e.previous_secret_until,
        "failing_since": e.failing_since,
        "version": e.version,
    }


def _endpoint_from(doc: Doc) -> WebhookEndpoint:
    return WebhookEndpoint(id=doc.pop("_id"), **doc)


@translate_errors
class MongoWebhookRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._webhooks = db["webhooks"]

    async def ensure_indexes(self) -> None:
        await self._webhooks.create_index(
            [("active", ASCENDING), ("events", ASCENDING)], name="active_events"
        )

    async def add(self, endpoint: WebhookEndpoint) -> None:
        await self._webhooks.insert_one(_endpoint_to_doc(endpoint))

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        doc = await self._webhooks.find_one({"_id": endpoint_id})
        return _endpoint_from(doc) if doc else None

    async def update(self, endpoint: WebhookEndpoint, expected_version: int) -> None:
        result = await self._webhooks.replace_one(
            {"_id": endpoint.id, "version": expected_version}, _endpoint_to_doc(endpoint)
        )
        if result.matched_count == 0:
            if await self._webhooks.find_one({"_id": endpoint.id}, {"_id": 1}) is None:
                raise NotFound("no such webhook endpoint")
            raise StaleVersion("the endpoint changed meanwhile")

    async def delete(self, endpoint_id: str) -> bool:
        return (await self._webhooks.delete_one({"_id": endpoint_id})).deleted_count == 1

    async def list_after(self, after_id: str | None, limit: int) -> list[WebhookEndpoint]:
        where: Doc = {} if after_id is None else {"_id": {"$gt": after_id}}
        cursor = self._webhooks.find(where).sort("_id", ASCENDING).limit(limit)
        return [_endpoint_from(doc) async for doc in cursor]

    async def subscribed(self, event_type: str) -> list[WebhookEndpoint]:
        cursor = self._webhooks.find({"active": True, "events": event_type})
        return [_endpoint_from(doc) async for doc in cursor]


def _delivery_fields(d: Delivery) -> Doc:
    return {
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
        "status": d.status.value,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "delivered_at": d.delivered_at,
        "history": d.history,
    }


def _delivery_from(doc: Doc) -> Delivery:
    return Delivery(
        id=doc["_id"],
        endpoint_id=doc["endpoint_id"],
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        created_at=doc["created_at"],
        next_attempt_at=doc["next_attempt_at"],
        status=DeliveryStatus(doc["status"]),
        attempts=doc["attempts"],
        last_status_code=doc.get("last_status_code"),
        last_error=doc.get("last_error"),
        delivered_at=doc.get("delivered_at"),
        history=doc.get("history", []),
    )


@translate_errors
class MongoDeliveryRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._deliveries = db["deliveries"]

    async def ensure_indexes(self) -> None:
        # Due deliveries: pending, by due time (the lease is checked on the few that are due).
        await self._deliveries.create_index(
            [("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="status_due"
        )
        await self._deliveries.create_index(
            [("endpoint_id", ASCENDING), ("_id", DESCENDING)], name="endpoint_id_page"
        )
        await self._deliveries.create_index(
            [("endpoint_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)],
            name="endpoint_status_id_page",
        )
        await self._deliveries.create_index(
            "created_at", expireAfterSeconds=RETENTION_S, name="retention"
        )

    async def add_many(self, deliveries: list[Delivery]) -> None:
        docs = [
            {"_id": d.id, **_delivery_fields(d), "lease_owner": None, "lease_until": EPOCH}
            for d in deliveries
        ]
        try:
            await self._deliveries.insert_many(docs, ordered=False)
        except BulkWriteError as exc:  # made by an earlier run of the same fan-out: fine
            if any(e.get("code") != _DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise

    async def claim(self, now: datetime, owner: str, lease_until: datetime) -> Delivery | None:
        doc = await self._deliveries.find_one_and_update(
            {
                "status": DeliveryStatus.PENDING.value,
                "next_attempt_at": {"$gte": EPOCH, "$lte": now},
                "lease_until": {"$lte": now},
            },
            {"$set": {"lease_owner": owner, "lease_until": lease_until}},
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return _delivery_from(doc) if doc else None

    async def release(self, delivery: Delivery, owner: str) -> bool:
        result = await self._deliveries.update_one(
            {"_id": delivery.id, "lease_owner": owner},
            {"$set": {**_delivery_fields(delivery), "lease_owner": None, "lease_until": EPOCH}},
        )
        return result.matched_count == 1

    async def get(self, delivery_id: str) -> Delivery | None:
        doc = await self._deliveries.find_one({"_id": delivery_id})
        return _delivery_from(doc) if doc else None

    async def redeliver(self, delivery_id: str, now: datetime) -> Delivery | None:
        doc = await self._deliveries.find_one_and_update(
            {"_id": delivery_id, "lease_until": {"$lte": now}},
            {
                "$set": {
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return _delivery_from(doc) if doc else None

    async def list_endpoint(
        self, endpoint_id: str, status: DeliveryStatus | None, before_id: str | None, limit: int
    ) -> list[Delivery]:
        where: Doc = {"endpoint_id": endpoint_id}
        if status is not None:
            where["status"] = status.value
        if before_id is not None:
            where["_id"] = {"$lt": before_id}
        cursor = self._deliveries.find(where).sort("_id", DESCENDING).limit(limit)
        return [_delivery_from(doc) async for doc in cursor]

    async def pending_stats(self, now: datetime) -> tuple[int, datetime | None]:
        pending = {"status": DeliveryStatus.PENDING.value}
        count = await self._deliveries.count_documents(pending, limit=_CAP)
        oldest = await self._deliveries.find_one(
            pending, {"next_attempt_at": 1}, sort=[("next_attempt_at", ASCENDING)]
        )
        return count, oldest["next_attempt_at"] if oldest else None


def _job_fields(job: Job) -> Doc:
    return {
        "kind": job.kind,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "payload": job.payload,
        "status": job.status.value,
        "run_after": job.run_after,
        "attempts": job.attempts,
        "done": job.done,
        "total": job.total,
        "state": job.state,
        "result": job.result,
        "error": job.error,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        # One equality for the claim's index (an $in over statuses is no index prefix on
        # every engine): the job still waits for a worker, queued or running.
        "waiting": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
    }


def _job_from(doc: Doc) -> Job:
    return Job(
        id=doc["_id"],
        kind=doc["kind"],
        created_by=doc.get("created_by"),
        created_at=doc["created_at"],
        payload=doc["payload"],
        status=JobStatus(doc["status"]),
        run_after=doc.get("run_after"),
        attempts=doc.get("attempts", 0),
        done=doc.get("done", 0),
        total=doc.get("total", 0),
        state=doc.get("state") or {},
        result=doc.get("result"),
        error=doc.get("error"),
        started_at=doc.get("started_at"),
        finished_at=doc.get("finished_at"),
    )


@translate_errors
class MongoJobRepository:
    """`due_at` is when a job may next be claimed: a queued job's start, a running job's
    lease end (so a job whose worker died is claimed again when its lease runs out)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._jobs = db["jobs"]

    async def ensure_indexes(self) -> None:
        await self._jobs.create_index([("waiting", ASCENDING), ("due_at", ASCENDING)], name="due")
        # Only finished jobs have a `finished_at` date: nothing waiting or running expires.
        await self._jobs.create_index(
            "finished_at", expireAfterSeconds=RETENTION_S, name="retention"
        )

    async def add(self, job: Job) -> None:
        due = job.run_after or job.created_at
        await self._jobs.insert_one(
            {"_id": job.id, **_job_fields(job), "due_at": due, "lease_owner": None}
        )

    async def get(self, job_id: str) -> Job | None:
        doc = await self._jobs.find_one({"_id": job_id})
        return _job_from(doc) if doc else None

    async def claim(self, now: datetime, owner: str, lease_until: datetime) -> Job | None:
        doc = await self._jobs.find_one_and_update(
            {"waiting": True, "due_at": {"$gte": EPOCH, "$lte": now}},
            {"$set": {"lease_owner": owner, "due_at": lease_until}},
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return _job_from(doc) if doc else None

    async def save(self, job: Job, owner: str, lease_until: datetime | None) -> bool:
        if lease_until is None:
            lease: Doc = {"lease_owner": None, "due_at": job.run_after or EPOCH}
        else:
            lease = {"due_at": lease_until}
        result = await self._jobs.update_one(
            {"_id": job.id, "lease_owner": owner}, {"$set": {**_job_fields(job), **lease}}
        )
        return result.matched_count == 1

    async def queued_stats(self, now: datetime) -> tuple[int, datetime | None]:
        queued = {"waiting": True, "status": JobStatus.QUEUED.value}
        count = await self._jobs.count_documents(queued, limit=_CAP)
        oldest = await self._jobs.find_one(
            {**queued, "due_at": {"$gte": EPOCH}}, {"created_at": 1}, sort=[("due_at", ASCENDING)]
        )
        return count, oldest["created_at"] if oldest else None
