"""Schemas of webhook endpoints, deliveries, events and jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from ocp.application.ports.events import Job, JobStatus
from ocp.domain.webhooks import (
    DESCRIPTION_MAX_CHARS,
    EVENT_TYPES,
    MAX_EVENT_TYPES,
    URL_MAX_CHARS,
    Delivery,
    DeliveryStatus,
    Event,
    WebhookEndpoint,
)
from ocp.entrypoints.http.schemas.common import PLAIN_TEXT, Input

_EVENTS_DOC = "event types: " + ", ".join(EVENT_TYPES)
# The event types as the document states them (a query or body naming another is a 422).
EventType = StrEnum("EventType", {t.replace(".", "_"): t for t in EVENT_TYPES})  # type: ignore[misc]


class WebhookIn(Input):
    url: str = Field(
        max_length=URL_MAX_CHARS, pattern=PLAIN_TEXT, examples=["https://example.com/hooks/ocp"]
    )
    events: list[str] = Field(min_length=1, max_length=MAX_EVENT_TYPES, description=_EVENTS_DOC)
    description: str = Field("", max_length=DESCRIPTION_MAX_CHARS, pattern=PLAIN_TEXT)


class WebhookPatchIn(Input):
    url: str | None = Field(None, max_length=URL_MAX_CHARS, pattern=PLAIN_TEXT)
    events: list[str] | None = Field(
        None, min_length=1, max_length=MAX_EVENT_TYPES, description=_EVENTS_DOC
    )
    description: str | None = Field(None, max_length=DESCRIPTION_MAX_CHARS, pattern=PLAIN_TEXT)
    active: bool | None = Field(None, description="true also clears `disabled_reason`")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def from_domain(cls, e: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=e.id,
            url=e.url,
            events=e.events,
            description=e.description,
            active=e.active,
            disabled_reason=e.disabled_reason,
            created_at=e.created_at,
        )


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="`whsec_` + base64 key; shown only in this answer")

    @classmethod
    def with_secret(cls, e: WebhookEndpoint) -> WebhookCreatedOut:
        return cls(**WebhookOut.from_domain(e).model_dump(), secret=e.secret)


class SecretOut(BaseModel):
    secret: str = Field(description="the new secret; the old one also signs for 24 hours")


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="null once delivered or failed")
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_domain(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            event_id=d.event_id,
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at if d.status is DeliveryStatus.PENDING else None,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )


class EventOut(BaseModel):
    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]

    @classmethod
    def from_domain(cls, e: Event) -> EventOut:
        return cls(id=e.id, type=e.type, timestamp=e.timestamp, data=e.data)


class JobProgressOut(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: str
    kind: str
    status: JobStatus
    progress: JobProgressOut
    result: dict[str, Any] | None = Field(description="the job's report once it succeeded")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_domain(cls, job: Job) -> JobOut:
        result = job.result
        if result is not None and "outcomes" in result:  # the CSV report has the rows
            result = {k: v for k, v in result.items() if k != "outcomes"}
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            progress=JobProgressOut(done=job.done, total=job.total),
            result=result,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
