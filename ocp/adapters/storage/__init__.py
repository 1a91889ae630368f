"""File stores: bytes under opaque keys in memory, on local disk, or in S3-compatible storage."""

from __future__ import annotations

import re

from ocp.domain.errors import RuleViolated

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def checked_key(key: str) -> str:
    """Keys are ours (file and upload ids), never a client's filename; anything else that
    reaches a store is a bug, refused before it can name a path."""
    if not _KEY.match(key):
        raise RuleViolated("is not a valid storage key", field="key")
    return key


def byte_range(size: int, start: int, end: int | None) -> tuple[int, int]:
    """The inclusive range `start..end` clipped to the content, as (start, length)."""
    last = size - 1 if end is None else min(end, size - 1)
    return start, max(0, last - start + 1)
