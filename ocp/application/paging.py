"""Keyset paging: a page of items and an opaque cursor holding the sort key of the last one."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ocp.domain.errors import InvalidCursor

T = TypeVar("T")
CursorKey = tuple[str | int | float | None, ...]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: CursorKey) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: Sequence[type]) -> CursorKey | None:
    """The key a cursor holds, checked against the expected `shape` (one type per part)."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is malformed") from None
    if not isinstance(key, list) or len(key) != len(shape):
        raise InvalidCursor("the cursor is malformed")
    for part, kind in zip(key, shape, strict=True):
        if part is None:
            continue
        if kind is float and isinstance(part, int) and not isinstance(part, bool):
            continue
        if not isinstance(part, kind) or isinstance(part, bool):
            raise InvalidCursor("the cursor is malformed")
    return tuple(key)


def page_of(rows: list[T], limit: int, key_of: Callable[[T], CursorKey]) -> Page[T]:
    """Turn `limit + 1` fetched rows into a page: the extra row only says there is more."""
    if len(rows) > limit:
        items = rows[:limit]
        return Page(items, encode_cursor(key_of(items[-1])))
    return Page(rows, None)
