"""File stores: bytes under opaque keys in memory, on local disk, or in S3-compatible storage."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator

from ocp.domain.errors import PayloadTooLarge, RuleViolated

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


async def batches(
    content: AsyncIterable[bytes], *, max_bytes: int, batch_bytes: int
) -> AsyncIterator[list[bytes]]:
    """The content in batches of at least `batch_bytes` (the last one may be smaller; none for
    empty content), so a store writes large pieces; `PayloadTooLarge` as soon as more than
    `max_bytes` have arrived, before they are handed on."""
    size = batched = 0
    batch: list[bytes] = []
    async for chunk in content:
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"the content is larger than {max_bytes} bytes")
        batch.append(chunk)
        batched += len(chunk)
        if batched >= batch_bytes:
            yield batch
            batch, batched = [], 0
    if batch:
        yield batch
