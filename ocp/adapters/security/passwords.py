"""Password hashing with bcrypt, behind the `PasswordHasher` port."""

from __future__ import annotations

import base64
import hashlib
import secrets

import anyio.to_thread
import bcrypt


def _prehash(password: str) -> bytes:
    # bcrypt reads at most 72 bytes (bcrypt 5 refuses more) and stops at a NUL; a base64 SHA-256
    # is 44 bytes without NUL, so every character of a long password counts.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class BcryptPasswordHasher:
    """bcrypt over a SHA-256 pre-hash; the work runs in a worker thread, off the event loop."""

    def __init__(self, rounds: int = 12) -> None:
        self._rounds = rounds
        # Made once with the same cost, so `burn` takes as long as a real verification.
        self._dummy_hash = bcrypt.hashpw(
            _prehash(secrets.token_urlsafe(16)), bcrypt.gensalt(rounds)
        )

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self._rounds)
        hashed = await anyio.to_thread.run_sync(bcrypt.hashpw, _prehash(password), salt)
        return hashed.decode("ascii")

    async def verify(self, password: str, password_hash: str) -> bool:
        try:
            stored = password_hash.encode("ascii")
        except UnicodeEncodeError:
            return False
        return await anyio.to_thread.run_sync(_checks_out, _prehash(password), stored)

    async def burn(self, password: str) -> None:
        await anyio.to_thread.run_sync(_checks_out, _prehash(password), self._dummy_hash)


def _checks_out(prehashed: bytes, stored: bytes) -> bool:
    try:
        return bcrypt.checkpw(prehashed, stored)
    except ValueError:  # a malformed or foreign hash matches no password
        return False
