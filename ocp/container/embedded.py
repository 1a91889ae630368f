"""Where the composition root keeps the embedded database it may have launched."""

from __future__ import annotations

from dataclasses import dataclass

from ocp.adapters.mongo.embedded import EmbeddedDatabase


@dataclass(slots=True)
class EmbeddedDatabaseSlot:
    """The embedded database `start` launched and `stop` has not stopped yet (None: none is
    running), and the last one launched, stopped or not."""

    database: EmbeddedDatabase | None = None
    launched: EmbeddedDatabase | None = None
