"""The system clock and the id generator: the standard library's time and randomness."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        # MongoDB keeps milliseconds; truncating here makes a saved and re-read time equal.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


class TimeOrderedIds:
    """24 hex characters: 48 bits of milliseconds, then a per-process random prefix and a
    counter, so ids made later sort after earlier ones and never collide across processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = int.from_bytes(os.urandom(3), "big")
        self._process = os.urandom(3).hex()

    def new_id(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms  # a clock step backwards must not break ordering
            self._last_ms = ms
            self._counter = (self._counter + 1) % (1 << 24)
            return f"{ms:012x}{self._process}{self._counter:06x}"
