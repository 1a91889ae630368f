"""The worker: webhook deliveries, the event sweeper and jobs (mail, bulk enrollments), as
`ocp worker` runs them and as `make run` runs one inside the server process.

Three loops share one event loop: events (settle prepared ones; make the deliveries of
ready ones whose process did not, since the process committing an event makes them
itself), deliveries (a few attempts at once, each leased in the database so several
workers never send one delivery at the same time) and jobs (one at a time, leased,
checkpointed). Work made in this process rings a doorbell and the loop it concerns wakes
at once; other processes' work is found by polling (deliveries every 100 ms, jobs every
500 ms, events left behind every second).
On stop, an attempt under way finishes (at most 10 s) and a job is handed back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from prometheus_client import Counter, Gauge, Histogram

from ocp.application.events.dispatch import BATCH as FAN_OUT_BATCH
from ocp.application.events.dispatch import Dispatcher
from ocp.application.events.jobs import JobRunner
from ocp.application.events.recorder import Doorbell
from ocp.application.ports.common import Clock, DependencyUnavailable
from ocp.application.ports.events import DeliveryRepository, JobRepository
from ocp.container import Container
from ocp.domain.webhooks import Delivery

log = logging.getLogger("ocp.worker")

DELIVERIES = Counter(
    "ocp_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: succeeded, retrying (failed, tried again later), "
    "failed (given up)",
    ["outcome"],
)
DELIVERY_LAG = Histogram(
    "ocp_webhook_delivery_lag_seconds",
    "Time from an event to the end of a successful delivery attempt",
    buckets=(0.05, 0.1, 0.25, 1, 5, 60, 3600),
)
PENDING = Gauge(
    "ocp_webhook_pending_deliveries",
    "Deliveries waiting to be sent (capped at 10,000)",
    multiprocess_mode="max",
)
OLDEST_PENDING = Gauge(
    "ocp_webhook_oldest_pending_seconds",
    "Age of the earliest due pending delivery (0 when none)",
    multiprocess_mode="max",
)
JOBS_QUEUED = Gauge(
    "ocp_jobs_queued", "Jobs waiting for a worker (capped at 10,000)", multiprocess_mode="max"
)
JOB_SECONDS = Histogram(
    "ocp_job_duration_seconds",
    "Time a worker spent on one run of a job, by kind and status at its end",
    ["kind", "status"],
    buckets=(0.01, 0.1, 1, 10, 60, 600),
)

# Idle polling finds other processes' work: deliveries quickly (the latency of webhooks when
# `ocp worker` runs apart from the servers that make them), jobs and events left behind
# by a dead process less often. Work made in this
# process rings a doorbell and is taken at once.
EVENTS_POLL_S = 1.0
DELIVERIES_POLL_S = 0.1
JOBS_POLL_S = 0.5
STATS_EVERY_S = 15.0
SWEEP_EVERY_S = 10.0
CONCURRENT_DELIVERIES = 4


class Worker:
    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        runner: JobRunner,
        deliveries: DeliveryRepository,
        jobs: JobRepository,
        deliveries_bell: Doorbell,
        jobs_bell: Doorbell,
        clock: Clock,
    ) -> None:
        self._dispatcher = dispatcher
        self._runner = runner
        self._deliveries = deliveries
        self._jobs = jobs
        self._events_bell = Doorbell()  # only polling: a commit here fans out itself
        self._jobs_bell = jobs_bell
        self._deliveries_bell = deliveries_bell
        self._clock = clock
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._stopping.clear()
        loops = [self._events_loop(), self._deliveries_loop(), self._jobs_loop()]
        self._tasks = [asyncio.create_task(loop) for loop in [*loops, self._stats_loop()]]

    async def stop(self, grace_s: float = 10.0) -> None:
        """Let attempts under way finish (a delivery attempt ends within its timeout), then
        cancel; a job under way is handed back for another worker to go on with at once."""
        self._stopping.set()
        for bell in (self._events_bell, self._jobs_bell, self._deliveries_bell):
            bell.ring()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        unfinished = self._runner.current
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task
        self._tasks = []
        if unfinished is not None:  # another worker goes on from its last checkpoint now
            with contextlib.suppress(Exception):
                await self._runner.hand_back(unfinished)

    async def _pause(self, bell: Doorbell, seconds: float) -> None:
        if not self._stopping.is_set():
            await bell.wait(seconds)

    async def _unavailable(self, step: str) -> None:
        log.warning("worker %s: the database is unavailable; trying again", step)
        await asyncio.sleep(1.0)

    async def _events_loop(self) -> None:
        last_sweep = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_sweep > SWEEP_EVERY_S:
                    await self._dispatcher.sweep()
                    last_sweep = time.monotonic()
                fanned = await self._dispatcher.fan_out()
            except DependencyUnavailable:
                await self._unavailable("events")
                continue
            if fanned.deliveries:
                self._deliveries_bell.ring()
            if fanned.events < FAN_OUT_BATCH:
                await self._pause(self._events_bell, EVENTS_POLL_S)

    async def _deliveries_loop(self) -> None:
        """One claimer, up to CONCURRENT_DELIVERIES attempts at once."""
        running: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping.is_set():
                if len(running) >= CONCURRENT_DELIVERIES:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                try:
                    delivery = await self._dispatcher.claim()
                except DependencyUnavailable:
                    await self._unavailable("deliveries")
                    continue
                if delivery is None:
                    await self._pause(self._deliveries_bell, DELIVERIES_POLL_S)
                    continue
                task = asyncio.create_task(self._attempt(delivery))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            if running:  # stopping: attempts under way finish (stop() bounds the wait)
                await asyncio.wait(running)

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            attempt = await self._dispatcher.attempt(delivery)
        except DependencyUnavailable:
            return  # the lease runs out and the delivery is tried again
        if attempt.outcome == "waiting":  # its event is still being written: no attempt
            return
        DELIVERIES.labels(attempt.outcome).inc()
        if attempt.outcome == "succeeded":
            DELIVERY_LAG.observe(attempt.seconds)

    async def _jobs_loop(self) -> None:
        while not self._stopping.is_set():
            began = time.perf_counter()
            try:
                job = await self._runner.run_next()
            except DependencyUnavailable:
                await self._unavailable("jobs")
                continue
            if job is None:
                await self._pause(self._jobs_bell, JOBS_POLL_S)
                continue
            JOB_SECONDS.labels(job.kind, job.status.value).observe(time.perf_counter() - began)

    async def _stats_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                now = self._clock.now()
                pending, oldest = await self._deliveries.pending_stats(now)
                PENDING.set(pending)
                OLDEST_PENDING.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0)
                queued, _ = await self._jobs.queued_stats(now)
                JOBS_QUEUED.set(queued)
            except DependencyUnavailable:
                pass
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), STATS_EVERY_S)


def worker_of(container: Container) -> Worker:
    """The worker on the container's stores, one per process."""
    return Worker(
        dispatcher=container.dispatcher(),
        runner=container.job_runner(),
        deliveries=container.deliveries(),
        jobs=container.jobs(),
        deliveries_bell=container.deliveries_bell(),
        jobs_bell=container.jobs_bell(),
        clock=container.clock(),
    )
