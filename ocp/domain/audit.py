"""The audit trail: who changed what, when, from what to what. An entry is written with its
change (through the event outbox) and never edited or removed by any route."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

AUDITED_ACTIONS: tuple[str, ...] = (
    "user.role_changed",
    "user.deactivated",
    "user.reactivated",
    "user.deleted",
    "course.published",
    "course.unpublished",
    "course.archived",
    "course.deleted",
    "course.capacity_changed",
    "course.instructor_added",
    "course.instructor_removed",
    "submission.graded",
    "webhook.created",
    "webhook.deleted",
)


@dataclass(frozen=True, slots=True)
class AuditInfo:
    """What an audited event adds to itself: who acted, on what, and the changed fields as
    `{field: [before, after]}`."""

    actor_id: str | None
    target_type: str
    target_id: str
    changes: dict[str, list[Any]] = field(default_factory=dict)
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    at: datetime
    action: str
    actor_id: str | None
    target_type: str
    target_id: str
    changes: dict[str, list[Any]]
    request_id: str | None


def changed(**pairs: tuple[Any, Any]) -> dict[str, list[Any]]:
    """The fields whose value differs, as `{field: [before, after]}`."""
    return {name: [before, after] for name, (before, after) in pairs.items() if before != after}
