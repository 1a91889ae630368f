"""Rate limits as the application counts them: a rate (N per window), and the verdict of one
hit against it (how many so far, when the window ends, whether it is still allowed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ocp.application.ports.common import Clock
from ocp.application.ports.limits import RateCounter

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    window_s: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, unit = text.split("/")
        return cls(int(count), _UNITS[unit])

    def times(self, factor: int) -> Rate:
        return Rate(self.count * factor, self.window_s)


@dataclass(frozen=True, slots=True)
class Verdict:
    rate: Rate
    count: int
    reset_s: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.rate.count

    def headers(self) -> list[tuple[bytes, bytes]]:
        remaining = max(0, self.rate.count - self.count)
        found = [
            (b"ratelimit-limit", str(self.rate.count).encode()),
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(self.reset_s).encode()),
        ]
        if not self.allowed:
            found.append((b"retry-after", str(max(1, self.reset_s)).encode()))
        return found


class Limiter:
    """Counts hits against rates; the routes' own per-email limits use it too."""

    def __init__(self, counter: RateCounter, clock: Clock) -> None:
        self._counter = counter
        self._clock = clock

    async def hit(self, bucket: str, key: str, rate: Rate) -> Verdict:
        now: datetime = self._clock.now()
        count, ends = await self._counter.hit(f"{bucket}:{key}", rate.window_s, now)
        return Verdict(rate, count, max(0, int((ends - now).total_seconds() + 0.999)))
