"""What the use cases know of the request they serve, without knowing HTTP: its id (set by
the HTTP edge), named in the log lines and the audit entries it causes."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("ocp_request_id", default=None)
