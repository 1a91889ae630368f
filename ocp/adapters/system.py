"""The system clock and the id generator: the standard library's time and randomness."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

_COUNTER = 1 << 24


class SystemClock:
    def now(self) -> datetime:
        # MongoDB keeps milliseconds; truncating here makes a saved and re-read time equal.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


class TimeOrderedIds:
    """24 hex characters: 48 bits of milliseconds, then a per-process random prefix and a
    counter, so ids made later sort after earlier ones and never collide across processes.

    When the counter wraps within one millisecond (or while the clock stands still or steps
    back), the milliseconds move on by one instead, so the next id still sorts last."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = int.from_bytes(os.urandom(3), "big")
        self._process = os.urandom(3).hex()

    def new_id(self) -> str:
        with self._lock:
            # a clock step backwards must not break ordering
            ms = max(self._clock_ns() // 1_000_000, self._last_ms)
            self._counter = (self._counter + 1) % _COUNTER
            if self._counter == 0 and ms == self._last_ms:
                ms += 1  # the counter wrapped: only a later millisecond sorts after it
            self._last_ms = ms
            return f"{ms:012x}{self._process}{self._counter:06x}"
