"""In-memory rate counters (one process: tests and experiments)."""

from __future__ import annotations

from datetime import UTC, datetime


class InMemoryRateCounter:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    async def hit(self, key: str, window_s: int, now: datetime) -> tuple[int, datetime]:
        window = int(now.timestamp()) // window_s
        slot = f"{key}:{window_s}:{window}"
        self._counts[slot] = self._counts.get(slot, 0) + 1
        if len(self._counts) > 100_000:  # forget windows long gone
            self._counts = {k: v for k, v in self._counts.items() if k.endswith(f":{window}")}
        return self._counts[slot], datetime.fromtimestamp((window + 1) * window_s, tz=UTC)
