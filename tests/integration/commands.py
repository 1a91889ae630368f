"""Counting the database commands a request sends (pymongo command monitoring)."""

from __future__ import annotations

from pymongo import monitoring


def sent_by_a_request(event: monitoring.CommandStartedEvent) -> bool:
    """False for the change stream the caches follow (its getMore runs every 100 ms whatever
    the requests do, docs/caching.md); True for everything else."""
    return not (
        event.command_name == "getMore" and event.command.get("collection") == "$cmd.aggregate"
    )
