"""Ports every capability shares: time, identifiers, and the signal that a dependency is down."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC, truncated to milliseconds (what MongoDB keeps)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new opaque, unique id; ids made later sort after ids made earlier."""
        ...


class DependencyUnavailable(Exception):
    """An adapter could not reach its backing service (database, file store, mail server).

    Raised by adapters in place of driver errors, so the API can answer 503 and nothing
    driver-specific crosses into the application.
    """

    def __init__(self, dependency: str) -> None:
        super().__init__(f"{dependency} is unavailable")
        self.dependency = dependency
