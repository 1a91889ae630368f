"""Jobs: work a request hands to the worker (a mail, a password-reset request, a bulk
enrollment). A job is leased by one worker at a time; it saves its progress as it goes
(`checkpoint`), so a worker that dies mid-job leaves it to another, which goes on from the
last checkpoint when the lease runs out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from ocp.application.events.recorder import Doorbell
from ocp.application.ports.common import Clock, DependencyUnavailable, IdGenerator
from ocp.application.ports.events import Job, JobRepository, JobStatus
from ocp.domain.errors import DomainError, NotFound
from ocp.domain.users import User

log = logging.getLogger("ocp.jobs")

JOB_LEASE = timedelta(seconds=60)
# A job whose dependency was down (the mail server) is tried again after these waits.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
)


class LeaseLost(Exception):
    """Another worker holds the job now (this one was too slow to renew): stop at once."""


Checkpoint = Callable[[Job], Awaitable[None]]


class JobHandler(Protocol):
    async def run(self, job: Job, checkpoint: Checkpoint) -> dict[str, Any] | None:
        """Do the job (from `job.state` on, if it ran before), calling `checkpoint(job)`
        after each step whose effect must not be repeated; the result to keep."""
        ...


class JobQueue:
    """Queues jobs for the worker: what a request does instead of slow or failing work."""

    def __init__(
        self, *, jobs: JobRepository, clock: Clock, ids: IdGenerator, doorbell: Doorbell
    ) -> None:
        self._doorbell = doorbell
        self._jobs = jobs
        self._clock = clock
        self._ids = ids

    async def queue(
        self, kind: str, payload: dict[str, Any], *, created_by: str | None = None, total: int = 0
    ) -> Job:
        job = Job(
            id=f"job_{self._ids.new_id()}",
            kind=kind,
            created_by=created_by,
            created_at=self._clock.now(),
            payload=payload,
            total=total,
        )
        await self._jobs.add(job)
        self._doorbell.ring()
        return job


class JobRunner:
    def __init__(
        self,
        *,
        jobs: JobRepository,
        handlers: dict[str, JobHandler],
        clock: Clock,
        owner: str,
        lease_s: float = JOB_LEASE.total_seconds(),
    ) -> None:
        self._lease = timedelta(seconds=lease_s)
        self.current: Job | None = None  # the job under way, to hand back on shutdown
        self._jobs = jobs
        self._handlers = handlers
        self._clock = clock
        self._owner = owner

    async def run_next(self) -> Job | None:
        """Claim the oldest due job and run it to its end (or its next retry); None when no
        job is due."""
        now = self._clock.now()
        job = await self._jobs.claim(now, self._owner, now + self._lease)
        if job is None:
            return None
        job.status = JobStatus.RUNNING
        job.started_at = job.started_at or now
        job.attempts += 1
        if not await self._jobs.save(job, self._owner, now + self._lease):
            return None
        handler = self._handlers.get(job.kind)
        self.current = job
        try:
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            job.result = await handler.run(job, self._checkpoint)
            job.status = JobStatus.SUCCEEDED
            job.finished_at = self._clock.now()
        except LeaseLost:
            log.warning("job %s: lease lost, another worker goes on", job.id)
            return job
        except DependencyUnavailable as exc:
            self._retry_or_fail(job, f"{exc.dependency} unavailable")
        except DomainError as exc:  # a business refusal: trying again changes nothing
            job.status = JobStatus.FAILED
            job.error = exc.detail
            job.finished_at = self._clock.now()
        except Exception:
            log.exception("job %s (%s) failed", job.id, job.kind)
            self._retry_or_fail(job, "internal error")
        finally:
            self.current = None
        await self._jobs.save(job, self._owner, None)
        return job

    def _retry_or_fail(self, job: Job, reason: str) -> None:
        job.error = reason
        if job.attempts <= len(RETRY_DELAYS):
            job.status = JobStatus.QUEUED
            job.run_after = self._clock.now() + RETRY_DELAYS[job.attempts - 1]
        else:
            job.status = JobStatus.FAILED
            job.finished_at = self._clock.now()

    async def _checkpoint(self, job: Job) -> None:
        if not await self._jobs.save(job, self._owner, self._clock.now() + self._lease):
            raise LeaseLost(job.id)

    async def hand_back(self, job: Job) -> None:
        """Shutting down mid-job: end the lease so another worker takes it at once."""
        await self._jobs.save(job, self._owner, None)


class JobService:
    """Reading a job: its creator and admins see it; to anyone else it does not exist."""

    def __init__(self, *, jobs: JobRepository) -> None:
        self._jobs = jobs

    async def get(self, actor: User, job_id: str) -> Job:
        job = await self._jobs.get(job_id)
        if job is None or not (actor.is_admin or job.created_by == actor.id):
            raise NotFound("no such job")
        return job
