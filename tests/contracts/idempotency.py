"""The contract of idempotency records, run on every adapter; each module running it gives
an `idempotency` fixture (a store whose running lease is 60 s)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from ocp.application.ports.idempotency import KeyedResponse

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def a_record(scope: str = "u1:key", at: datetime = NOW) -> KeyedResponse:
    return KeyedResponse(scope, "", at, at + timedelta(hours=24))


class IdempotencyStoreContract:
    async def test_the_first_begins_and_the_rest_see_its_answer(self, idempotency):
        first = a_record()
        assert await idempotency.begin(first, NOW) is None
        running = await idempotency.begin(a_record(), NOW)
        assert running is not None and not running.done
        first.body_hash, first.status = "abc", 201
        first.headers, first.body = [("location", "/api/v1/courses/c1")], b'{"id":"c1"}'
        await idempotency.finish(first)
        done = await idempotency.begin(a_record(), NOW + timedelta(minutes=1))
        assert done.done and done.status == 201 and done.body_hash == "abc"
        assert done.headers == [("location", "/api/v1/courses/c1")]
        assert done.body == b'{"id":"c1"}'
        assert await idempotency.begin(a_record("u2:key"), NOW) is None  # another user's

    async def test_one_of_many_concurrent_first_requests_begins(self, idempotency):
        outcomes = await asyncio.gather(*(idempotency.begin(a_record(), NOW) for _ in range(20)))
        assert sum(1 for o in outcomes if o is None) == 1

    async def test_a_forgotten_or_expired_or_abandoned_record_may_begin_again(self, idempotency):
        await idempotency.begin(a_record("u1:a"), NOW)
        await idempotency.forget("u1:a")
        assert await idempotency.begin(a_record("u1:a"), NOW) is None
        done = a_record("u1:b")
        await idempotency.begin(done, NOW)
        done.body_hash, done.status = "h", 200
        await idempotency.finish(done)
        later = NOW + timedelta(hours=24, seconds=1)
        assert await idempotency.begin(a_record("u1:b", later), later) is None  # expired
        await idempotency.begin(a_record("u1:c"), NOW)  # its process died mid-request
        after_lease = NOW + timedelta(seconds=61)
        assert await idempotency.begin(a_record("u1:c", after_lease), after_lease) is None
