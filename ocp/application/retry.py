"""Optimistic concurrency, once: read, change, save at the version read; when someone saved
in between, read again and re-apply, a few times."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from ocp.domain.errors import StaleVersion

T = TypeVar("T")

ATTEMPTS = 5


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
            continue
    return await attempt(attempts - 1)
