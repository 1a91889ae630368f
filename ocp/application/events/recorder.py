"""Recording events with the change that causes them, without multi-document transactions:
each event is written prepared before the change and committed after it. A process that dies
between the two leaves it prepared; the sweeper (`Dispatcher.sweep`) later reads the changed
object and commits the event if the change is there, or drops it if not. So an event is
never lost and never announces a change that did not happen."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ocp.application.events.dispatch import Subscribers
from ocp.application.ports.common import Clock, DependencyUnavailable, IdGenerator
from ocp.application.ports.events import EventLog, EventPresenter, Subject
from ocp.domain.audit import AuditInfo
from ocp.domain.errors import DomainError
from ocp.domain.webhooks import Event

log = logging.getLogger("ocp.events")


class Doorbell:
    """Wakes this process's worker loops when a request here leaves work for them."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def ring(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout_s: float) -> None:
        """Until the next ring, or `timeout_s`."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)


class EventRecorder:
    def __init__(
        self,
        *,
        log_: EventLog,
        presenter: EventPresenter,
        clock: Clock,
        ids: IdGenerator,
        subscribers: Subscribers,
        deliveries_bell: Doorbell,
    ) -> None:
        self._subscribers = subscribers
        self._deliveries_bell = deliveries_bell
        self._settling: set[asyncio.Task[None]] = set()
        self._log = log_
        self._presenter = presenter
        self._clock = clock
        self._ids = ids

    def event(
        self, type_: str, resource: object, *, audit: AuditInfo | None = None, **extra: Any
    ) -> Event:
        """An event of `type_` whose data is `resource` as its route shows it (plus `extra`);
        with `audit`, it also becomes an entry of the audit trail once committed."""
        return Event(
            id=f"evt_{self._ids.new_id()}",
            type=type_,
            timestamp=self._clock.now(),
            data={**self._presenter.present(resource), **extra},
            audit=audit,
        )

    @asynccontextmanager
    async def recording(self, subject: Subject, *events: Event) -> AsyncIterator[Recording]:
        """Around the write(s) that make `subject` true: the events are prepared first (if
        that fails, nothing is written) and committed when the block ends."""
        async with self.recording_each([(subject, e) for e in events]) as recording:
            yield recording

    @asynccontextmanager
    async def recording_each(
        self, entries: list[tuple[Subject, Event]]
    ) -> AsyncIterator[Recording]:
        """Like `recording`, one subject per event (a batch of new objects). The block may
        `drop` events whose change it did not make. When the block raises a business error
        (a lost race, a conflict: the write did not happen) every event is discarded; any
        other failure (the database gone mid-write: unknown whether it happened) and a
        failed commit are left to the sweeper, which settles each event by reading its
        subject, so the change's own answer goes to the client."""
        recording = Recording([e for _, e in entries])
        if not entries:
            yield recording
            return
        await self._log.prepare(entries, self._clock.now())
        try:
            yield recording
        except DomainError:
            self._settle_later([], [e.id for _, e in entries])
            raise
        self._settle_later(recording.kept(), recording.dropped)

    def _settle_later(self, kept: list[Event], dropped: list[str]) -> None:
        """Commit or discard after the answer: the client does not wait for it (one round
        trip less on every write), and a process that dies first leaves it to the sweeper."""
        task = asyncio.get_running_loop().create_task(self._settle(kept, dropped))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def settled(self) -> None:
        """Until every commit and discard begun so far is done (before shutdown, in tests)."""
        while self._settling:
            await asyncio.gather(*list(self._settling), return_exceptions=True)

    async def _settle(self, kept: list[Event], dropped: list[str]) -> None:
        """Discard what did not happen; for what did, make the deliveries, then commit the
        events as fanned out (a worker that meets a delivery of a still-prepared event waits
        for it), so the worker has nothing left to do for them but send."""
        made = 0
        try:
            if dropped:
                await self._log.discard(dropped)
            if kept:
                made = await self._subscribers.deliver(kept)
                await self._log.commit(kept, fanned=True)
        except DependencyUnavailable:
            log.warning("events left prepared; the sweeper settles them")
            return
        except Exception:
            log.exception("events left prepared; the sweeper settles them")
            return
        if made:
            self._deliveries_bell.ring()


class Recording:
    """The events of one `recording` block."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.dropped: list[str] = []

    def drop(self, event_ids: list[str]) -> None:
        """These changes were not made after all (a batch skipped them)."""
        self.dropped.extend(event_ids)

    def kept(self) -> list[Event]:
        gone = set(self.dropped)
        return [e for e in self.events if e.id not in gone]
