"""Events and webhook endpoints: which facts OCP announces, who subscribes to them, how a
delivery is signed (Standard Webhooks), retried and given up on."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ocp.domain.audit import AUDITED_ACTIONS, AuditInfo
from ocp.domain.changes import UNSET, Changes, Unset
from ocp.domain.errors import RuleViolated
from ocp.domain.text import checked_text

EVENT_TYPES: tuple[str, ...] = (
    "user.created",
    "course.published",
    "course.archived",
    "enrollment.created",
    "enrollment.dropped",
    "lesson.completed",
    "course.completed",
    "submission.created",
    "submission.graded",
    "review.created",
    "file.created",
    "webhook.ping",
)
# Every audited change is an event too (a webhook may subscribe to it).
EVENT_TYPES += tuple(a for a in AUDITED_ACTIONS if a not in EVENT_TYPES)
URL_MAX_CHARS = 2048
DESCRIPTION_MAX_CHARS = 500
MAX_EVENT_TYPES = len(EVENT_TYPES)
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# A rotated-out secret keeps signing beside the new one this long, so receivers can switch.
PREVIOUS_SECRET_TTL = timedelta(hours=24)
# After the first attempt fails: wait this long before each next one, then give up.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# An endpoint that has failed every delivery for this long is disabled.
FAILING_LIMIT = timedelta(days=5)


@dataclass(frozen=True, slots=True)
class Event:
    """A fact OCP announces: `data` is the resource as its own route shows it."""

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]
    # Only this endpoint receives it (a ping); None: every endpoint subscribed to the type.
    endpoint_id: str | None = None
    audit: AuditInfo | None = None  # an audited change's who and what (never delivered)


def event_types(values: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values))
    if not cleaned:
        raise RuleViolated("name at least one event type", field="events")
    unknown = [v for v in cleaned if v not in EVENT_TYPES]
    if unknown:
        raise RuleViolated(
            f"{unknown[0]!r} is not an event type; use {', '.join(EVENT_TYPES)}", field="events"
        )
    return cleaned


def endpoint_url(value: str) -> str:
    """Shape only (scheme and host are the sender's policy, which also resolves the host)."""
    url = checked_text(value, "url", min_chars=1, max_chars=URL_MAX_CHARS, one_line=True)
    if any(c.isspace() for c in url):
        raise RuleViolated("a URL holds no spaces", field="url")
    return url


def description(value: str) -> str:
    return checked_text(value, "description", max_chars=DESCRIPTION_MAX_CHARS, one_line=False)


def new_secret(random_bytes: bytes) -> str:
    """A signing secret as Standard Webhooks writes it: `whsec_` + base64 of the key."""
    if len(random_bytes) < 24:
        raise ValueError("a webhook secret needs at least 24 random bytes")
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WebhookChanges(Changes):
    url: str | Unset = UNSET
    events: list[str] | Unset = UNSET
    description: str | Unset = UNSET
    active: bool | Unset = UNSET


@dataclass(slots=True)
class WebhookEndpoint:
    id: str
    url: str
    events: list[str]
    description: str
    secret: str
    created_at: datetime
    updated_at: datetime
    active: bool = True
    disabled_reason: str | None = None
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    # Since when every delivery has failed; None while the last one succeeded.
    failing_since: datetime | None = None
    version: int = 1

    @classmethod
    def register(
        cls, *, id: str, url: str, events: list[str], description_: str, secret: str, now: datetime
    ) -> WebhookEndpoint:
        return cls(
            id=id,
            url=endpoint_url(url),
            events=event_types(events),
            description=description(description_),
            secret=secret,
            created_at=now,
            updated_at=now,
        )

    def wants(self, event: Event) -> bool:
        """Whether this endpoint gets the event: a ping for it, or an event of a subscribed
        type that happened once it was registered (not one recorded before)."""
        if event.endpoint_id is not None:
            return event.endpoint_id == self.id
        return self.active and event.type in self.events and event.timestamp >= self.created_at

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one for a
        day after a rotation."""
        previous = self.previous_secret
        if previous and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, previous]
        return [self.secret]

    def edit(self, changes: WebhookChanges, now: datetime) -> None:
        if not isinstance(changes.url, Unset):
            self.url = endpoint_url(changes.url)
        if not isinstance(changes.events, Unset):
            self.events = event_types(changes.events)
        if not isinstance(changes.description, Unset):
            self.description = description(changes.description)
        if not isinstance(changes.active, Unset):
            self.active = changes.active
            if changes.active:  # switched back on by an admin: a fresh start
                self.disabled_reason = None
                self.failing_since = None
        self._touch(now)

    def rotate_secret(self, secret: str, now: datetime) -> None:
        self.previous_secret = self.secret
        self.previous_secret_until = now + PREVIOUS_SECRET_TTL
        self.secret = secret
        self._touch(now)

    def disable(self, reason: str, now: datetime) -> None:
        self.active = False
        self.disabled_reason = reason
        self._touch(now)

    def note_attempt(self, status_code: int | None, succeeded: bool, now: datetime) -> bool:
        """Keep the endpoint's health after a delivery attempt: a success ends a failing
        streak; a 410 disables it at once, and so does failing every delivery for 5 days.
        Whether anything changed (and needs saving)."""
        if succeeded:
            if self.failing_since is None:
                return False
            self.failing_since = None
        elif status_code == 410:
            if not self.active:
                return False
            self.disable("the endpoint answered 410 Gone", now)
            return True
        elif self.failing_since is None:
            self.failing_since = now
        elif self.active and now - self.failing_since >= FAILING_LIMIT:
            self.disable("every delivery failed for 5 days", now)
            return True
        else:
            return False
        self._touch(now)
        return True

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1


@dataclass(slots=True)
class Delivery:
    """One event on its way to one endpoint; `id` is stable per (event, endpoint)."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    created_at: datetime
    next_attempt_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def record_attempt(
        self, now: datetime, status_code: int | None, error: str | None, succeeded: bool
    ) -> None:
        """Log one attempt; schedule the next or settle the delivery."""
        self.attempts += 1
        self.last_status_code = status_code
        self.last_error = None if succeeded else (error or f"answered {status_code}")
        self.history = [
            *self.history[-(MAX_ATTEMPTS * 2 - 1) :],
            {"at": now, "status_code": status_code, "error": self.last_error},
        ]
        if succeeded:
            self.status = DeliveryStatus.SUCCEEDED
            self.delivered_at = now
        elif status_code == 410 or self.attempts >= MAX_ATTEMPTS:
            self.status = DeliveryStatus.FAILED
        else:
            self.next_attempt_at = now + RETRY_DELAYS[self.attempts - 1]

    def abandon(self, now: datetime, reason: str) -> None:
        """No attempt can be made (the endpoint is gone or disabled): failed, saying why."""
        self.record_attempt(now, None, reason, succeeded=False)
        self.status = DeliveryStatus.FAILED

    def redeliver(self, now: datetime) -> None:
        """An admin asks for another try now; the attempt count starts again."""
        self.status = DeliveryStatus.PENDING
        self.attempts = 0
        self.next_attempt_at = now
