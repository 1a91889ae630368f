"""The port of rate limits: counting hits in fixed windows, shared by every process."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class RateCounter(Protocol):
    async def hit(self, key: str, window_s: int, now: datetime) -> tuple[int, datetime]:
        """Count one hit of `key` in the fixed window of `window_s` seconds that holds `now`:
        the hits in that window so far (this one included) and when the window ends."""
        ...
