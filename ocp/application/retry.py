"""Optimistic concurrency, once: read, change, save at the version read; when someone saved
in between, read again and re-apply, a few times."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ocp.domain.errors import StaleVersion

T = TypeVar("T")

ATTEMPTS = 8
# After a lost race, wait a random part of this (doubling each time) before reading again:
# writers of one document that all retry at once would otherwise collide again and again
# (six concurrent PATCHes of one profile lost five races in a row 1 time in 120, 9 times in
# 120 once reads came from memory and retries got faster).
BACKOFF_S = 0.001


async def retry_on_stale(
    attempt: Callable[[int], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
    on: tuple[type[Exception], ...] = (StaleVersion,),
) -> T:
    """`attempt(n)` for n = 0, 1, ... until it returns; each time it raises one of `on` (a
    concurrent save won) it runs again, and the last time the error goes to the caller.
    `attempts=1` is a conditional write (If-Match): the first lost race is the client's."""
    for n in range(attempts - 1):
        try:
            return await attempt(n)
        except on:
            await asyncio.sleep(random.uniform(0, BACKOFF_S * 2**n))
    return await attempt(attempts - 1)
