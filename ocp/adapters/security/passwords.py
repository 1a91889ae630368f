"""Password hashing with bcrypt, behind the `PasswordHasher` port."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
import bcrypt

T = TypeVar("T")
_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")


def _prehash(password: str) -> bytes:
    # bcrypt reads at most 72 bytes (bcrypt 5 refuses more) and stops at a NUL; a base64 SHA-256
    # is 44 bytes without NUL, so every character of a long password counts.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class BcryptPasswordHasher:
    """bcrypt over a SHA-256 pre-hash; the work runs in a worker thread, off the event loop.

    At most `max_concurrent` hashes run at once (default: one core fewer than the machine
    has). bcrypt releases the GIL, but a burst of logins on every core would still starve the
    event loop of CPU and stall every other request; queued logins wait a little instead.
    """

    def __init__(self, rounds: int = 12, max_concurrent: int | None = None) -> None:
        self._rounds = rounds
        self._max_concurrent = max_concurrent or max(1, (os.cpu_count() or 2) - 1)
        self._limiter: anyio.CapacityLimiter | None = None  # made inside the event loop
        # Made once with the same cost, so `burn` takes as long as a real verification.
        self._dummy_hash = bcrypt.hashpw(
            _prehash(secrets.token_urlsafe(16)), bcrypt.gensalt(rounds)
        )

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self._rounds)
        hashed = await self._off_loop(lambda: bcrypt.hashpw(_prehash(password), salt))
        return hashed.decode("ascii")

    async def verify(self, password: str, password_hash: str) -> bool:
        try:
            stored = password_hash.encode("ascii")
        except UnicodeEncodeError:
            return False
        return await self._off_loop(lambda: _checks_out(_prehash(password), stored))

    def needs_rehash(self, password_hash: str) -> bool:
        """A bcrypt hash records its scheme and cost (`$2b$12$...`): one of another scheme, or
        cheaper than today's `rounds`, is redone at the next login."""
        match = _BCRYPT.match(password_hash)
        return match is None or int(match.group(1)) < self._rounds

    async def burn(self, password: str) -> None:
        await self._off_loop(lambda: _checks_out(_prehash(password), self._dummy_hash))

    async def _off_loop(self, work: Callable[[], T]) -> T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._max_concurrent)
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)


def _checks_out(prehashed: bytes, stored: bytes) -> bool:
    try:
        return bcrypt.checkpw(prehashed, stored)
    except ValueError:  # a malformed or foreign hash matches no password
        return False
