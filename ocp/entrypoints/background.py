"""The worker: webhook deliveries, the event sweeper and jobs (mail, bulk enrollments), as
`ocp worker` runs them and as `make run` runs one inside the server process.

Three loops share one event loop: events (settle prepared ones, fan ready ones out into
deliveries), deliveries (a few attempts at once, each leased in the database so several
workers never send one delivery at the same time) and jobs (one at a time, leased,
checkpointed). A write in this process rings the doorbell and the loops wake at once;
writes of other processes are found by polling (every 100 ms for events and deliveries).
On stop, an attempt under way finishes (at most 10 s) and a job is handed back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from prometheus_client import Counter, Gauge, Histogram

from ocp.application.events.dispatch import Dispatcher
from ocp.application.events.jobs import JobRunner
from ocp.application.events.recorder import Doorbell
from ocp.application.ports.common import Clock, DependencyUnavailable
from ocp.application.ports.events import DeliveryRepository, JobRepository
from ocp.container import Container

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

POLL_S = 0.1
JOB_POLL_S = 0.25
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
        doorbell: Doorbell,
        clock: Clock,
    ) -> None:
        self._dispatcher = dispatcher
        self._runner = runner
        self._deliveries = deliveries
        self._jobs = jobs
        self._doorbell = doorbell
        self._clock = clock
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._stopping.clear()
        loops = [self._events_loop(), self._jobs_loop(), self._stats_loop()]
        loops += [self._deliveries_loop() for _ in range(CONCURRENT_DELIVERIES)]
        self._tasks = [asyncio.create_task(loop) for loop in loops]

    async def stop(self, grace_s: float = 10.0) -> None:
        """Let attempts under way finish (a delivery attempt ends within 10 s), then cancel."""
        self._stopping.set()
        self._doorbell.ring()
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

    async def _pause(self, seconds: float) -> None:
        if not self._stopping.is_set():
            await self._doorbell.wait(seconds)

    async def _guarded(self, step: str, seconds: float) -> None:
        log.warning("worker %s: the database is unavailable; trying again", step)
        await asyncio.sleep(seconds)

    async def _events_loop(self) -> None:
        last_sweep = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_sweep > SWEEP_EVERY_S:
                    await self._dispatcher.sweep()
                    last_sweep = time.monotonic()
                if await self._dispatcher.fan_out():
                    self._doorbell.ring()
                    continue
            except DependencyUnavailable:
                await self._guarded("events", 1.0)
                continue
            await self._pause(POLL_S)

    async def _deliveries_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                attempt = await self._dispatcher.deliver_next()
            except DependencyUnavailable:
                await self._guarded("deliveries", 1.0)
                continue
            if attempt is None:
                await self._pause(POLL_S)
                continue
            DELIVERIES.labels(attempt.outcome).inc()
            if attempt.outcome == "succeeded":
                DELIVERY_LAG.observe(attempt.seconds)

    async def _jobs_loop(self) -> None:
        while not self._stopping.is_set():
            began = time.perf_counter()
            try:
                job = await self._runner.run_next()
            except DependencyUnavailable:
                await self._guarded("jobs", 1.0)
                continue
            if job is None:
                await self._pause(JOB_POLL_S)
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
        doorbell=container.doorbell(),
        clock=container.clock(),
    )
