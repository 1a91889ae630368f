"""What a partial update (PATCH) names: every field of a `Changes` is either a new value or
`UNSET` (the client did not name it: leave it as it is). None clears a field only where the
field may be empty (`clearable`); elsewhere a null is read as not named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Final, Self


class Unset(Enum):
    """The type of `UNSET`, so that `str | None | Unset` says what a field may hold."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


@dataclass(frozen=True, slots=True)
class Changes:
    """Base of the partial updates: subclasses list their fields, each defaulting to UNSET."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def named(cls, sent: Mapping[str, Any]) -> Self:
        """The changes from what a client sent (only the fields it named): a null clears a
        clearable field and leaves any other alone."""
        return cls(**{k: v for k, v in sent.items() if v is not None or k in cls.clearable})
