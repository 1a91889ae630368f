"""Webhook endpoints as an admin manages them: register, edit, rotate the secret, ping, read
the deliveries and redeliver one, read the event log."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from ocp.application.audit import audit_info
from ocp.application.events.recorder import EventRecorder
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.events import DeliveryRepository, EventLog, Subject, WebhookRepository
from ocp.application.ports.webhooks import WebhookSender
from ocp.application.retry import retry_on_stale
from ocp.domain.errors import NotFound, PermissionDenied, RuleViolated
from ocp.domain.users import User
from ocp.domain.webhooks import (
    EVENT_TYPES,
    SECRET_BYTES,
    Delivery,
    DeliveryStatus,
    Event,
    WebhookChanges,
    WebhookEndpoint,
    new_secret,
)


class WebhookService:
    def __init__(
        self,
        *,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        events: EventLog,
        recorder: EventRecorder,
        sender: WebhookSender,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._events = events
        self._recorder = recorder
        self._sender = sender
        self._clock = clock
        self._ids = ids

    async def register(
        self, actor: User, url: str, events: list[str], description: str
    ) -> WebhookEndpoint:
        _require_admin(actor)
        endpoint = WebhookEndpoint.register(
            id=f"wh_{self._ids.new_id()}",
            url=url,
            events=events,
            description_=description,
            secret=new_secret(secrets.token_bytes(SECRET_BYTES)),
            now=self._clock.now(),
        )
        await self._sender.check_url(endpoint.url)
        event = self._audited("webhook.created", actor, endpoint, [None, endpoint.url])
        async with self._recorder.recording(Subject("webhooks", endpoint.id, 1), event):
            await self._webhooks.add(endpoint)
        return endpoint

    async def list_endpoints(
        self, actor: User, limit: int, cursor: str | None
    ) -> Page[WebhookEndpoint]:
        _require_admin(actor)
        after = _after(cursor)
        rows = await self._webhooks.list_after(after, limit + 1)
        return page_of(rows, limit, lambda e: (e.id,))

    async def get(self, actor: User, endpoint_id: str) -> WebhookEndpoint:
        _require_admin(actor)
        endpoint = await self._webhooks.get(endpoint_id)
        if endpoint is None:
            raise NotFound("no such webhook endpoint")
        return endpoint

    async def edit(self, actor: User, endpoint_id: str, changes: WebhookChanges) -> WebhookEndpoint:
        endpoint = await self.get(actor, endpoint_id)
        if isinstance(changes.url, str):
            await self._sender.check_url(changes.url.strip())
        return await self._change(endpoint, lambda e: e.edit(changes, self._clock.now()))

    async def delete(self, actor: User, endpoint_id: str) -> None:
        endpoint = await self.get(actor, endpoint_id)
        event = self._audited("webhook.deleted", actor, endpoint, [endpoint.url, None])
        async with self._recorder.recording(Subject("webhooks", endpoint.id, None), event):
            if not await self._webhooks.delete(endpoint_id):
                raise NotFound("no such webhook endpoint")

    def _audited(
        self, action: str, actor: User, endpoint: WebhookEndpoint, url: list[str | None]
    ) -> Event:
        """The endpoint as an event shows it (never its secret), with who acted."""
        info = audit_info(actor, "webhook", endpoint.id, {"url": url})
        shown = {"id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events)}
        return self._recorder.event(action, shown, audit=info)

    async def rotate_secret(self, actor: User, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await self.get(actor, endpoint_id)
        secret = new_secret(secrets.token_bytes(SECRET_BYTES))
        return await self._change(endpoint, lambda e: e.rotate_secret(secret, self._clock.now()))

    async def ping(self, actor: User, endpoint_id: str) -> Event:
        """A `webhook.ping` event for this endpoint only (also when it is disabled: a ping is
        how an admin checks that it works again)."""
        endpoint = await self.get(actor, endpoint_id)
        event = self._recorder.event(
            "webhook.ping", {"endpoint_id": endpoint.id, "url": endpoint.url}
        )
        ping = Event(event.id, event.type, event.timestamp, event.data, endpoint_id=endpoint.id)
        async with self._recorder.recording(Subject("webhooks", endpoint.id, None), ping):
            pass  # nothing changes: the event is the whole fact
        return ping

    async def list_deliveries(
        self,
        actor: User,
        endpoint_id: str,
        status: DeliveryStatus | None,
        limit: int,
        cursor: str | None,
    ) -> Page[Delivery]:
        endpoint = await self.get(actor, endpoint_id)
        before = _after(cursor)
        rows = await self._deliveries.list_endpoint(endpoint.id, status, before, limit + 1)
        return page_of(rows, limit, lambda d: (d.id,))

    async def redeliver(self, actor: User, endpoint_id: str, delivery_id: str) -> Delivery:
        endpoint = await self.get(actor, endpoint_id)
        delivery = await self._deliveries.get(delivery_id)
        if delivery is None or delivery.endpoint_id != endpoint.id:
            raise NotFound("no such delivery")
        again = await self._deliveries.redeliver(delivery.id, self._clock.now())
        return again or delivery  # held by a worker right now: it is being sent already

    async def list_events(
        self, actor: User, type_: str | None, limit: int, cursor: str | None
    ) -> Page[Event]:
        _require_admin(actor)
        if type_ is not None and type_ not in EVENT_TYPES:
            raise RuleViolated(f"{type_!r} is not an event type", field="type")
        before = _after(cursor)
        rows = await self._events.list_ready(type_, before, limit + 1)
        return page_of(rows, limit, lambda e: (e.id,))

    async def _change(
        self, endpoint: WebhookEndpoint, change: Callable[[WebhookEndpoint], None]
    ) -> WebhookEndpoint:
        async def attempt(n: int) -> WebhookEndpoint:
            current = endpoint if n == 0 else await self._webhooks.get(endpoint.id)
            if current is None:
                raise NotFound("no such webhook endpoint")
            version = current.version
            change(current)
            await self._webhooks.update(current, version)
            return current

        return await retry_on_stale(attempt)


def _after(cursor: str | None) -> str | None:
    key = decode_cursor(cursor, (str,))
    return str(key[0]) if key else None


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an admin manages webhooks")
