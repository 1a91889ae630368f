"""The contract of rate counters, run on every adapter; each module running it gives a
`rate_counter` fixture."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 1, 31, 12, 0, 30, tzinfo=UTC)


class RateCounterContract:
    async def test_hits_count_up_within_a_window_and_start_again_in_the_next(self, rate_counter):
        counts = [await rate_counter.hit("register:1.2.3.4", 60, NOW) for _ in range(3)]
        assert [c for c, _ in counts] == [1, 2, 3]
        assert counts[0][1] == datetime(2026, 1, 31, 12, 1, tzinfo=UTC)  # the window's end
        assert (await rate_counter.hit("register:5.6.7.8", 60, NOW))[0] == 1  # its own key
        later = NOW + timedelta(seconds=60)
        assert (await rate_counter.hit("register:1.2.3.4", 60, later))[0] == 1

    async def test_concurrent_first_hits_are_each_counted(self, rate_counter):
        hits = await asyncio.gather(*(rate_counter.hit("writes:u1", 60, NOW) for _ in range(60)))
        assert sorted(c for c, _ in hits) == list(range(1, 61))  # each hit counted once
        assert (await rate_counter.hit("writes:u1", 60, NOW))[0] == 61
